"""Colour on a terminal, as Terraform shows plans: green add, yellow change, red delete,
bold summary; errors red and warnings yellow.

Styled with click.style, so click.echo drops the codes by itself when the output is not
a terminal; `--no-color` and NO_COLOR (https://no-color.org) turn them off everywhere
(the `crmconf` group sets click's context colour from them).
"""

from __future__ import annotations

import re

import click

_CHANGE = re.compile(r"^  ([+~-]) ")
_COLOURS = {"+": "green", "~": "yellow", "-": "red"}


def error(message: str) -> str:
    return f"{click.style('error:', fg='red', bold=True)} {message}"


def warning(message: str) -> str:
    return f"{click.style('warning:', fg='yellow', bold=True)} {message}"


def plan_text(text: str) -> str:
    """A text plan (or drift report) with each change's line in its action's colour, the
    warnings' prefix in yellow and the summary in bold."""
    lines = []
    for line in text.split("\n"):
        change = _CHANGE.match(line)
        if change is not None:
            line = click.style(line, fg=_COLOURS[change[1]])
        elif line.startswith("warning: "):
            line = warning(line.removeprefix("warning: "))
        elif line.startswith(("Plan: ", "No changes.", "Drift: ", "No drift: ")):
            line = click.style(line, bold=True)
        lines.append(line)
    return "\n".join(lines)
