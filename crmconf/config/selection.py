"""`--only KIND[,KIND]`: which kinds one run plans and applies (adopting one area at a time).

Kinds are named as their sections in the configuration (``industries``,
``sales.stages``); a section holding several kinds (``sales``) stands for all of them.
"""

from __future__ import annotations

import difflib

from crmconf.errors import ConfigError, Problem
from crmconf.kinds import ALL_KINDS


def selectable_names() -> dict[str, frozenset[str]]:
    """Every name `--only` accepts, in configuration order, with the kinds it stands for."""
    names: dict[str, set[str]] = {}
    for kind in ALL_KINDS:
        for depth in range(1, len(kind.section) + 1):
            names.setdefault(".".join(kind.section[:depth]), set()).add(kind.name)
    return {name: frozenset(kinds) for name, kinds in names.items()}


def select_kinds(text: str) -> frozenset[str]:
    """The kind names a comma-separated `--only` value stands for."""
    known = selectable_names()
    tokens = [token.strip() for token in text.split(",") if token.strip()]
    valid = ", ".join(known)
    if not tokens:
        raise ConfigError([Problem("--only names no kind", None, f"name one or more of: {valid}")])
    problems: list[Problem] = []
    selected: set[str] = set()
    for token in tokens:
        if token in known:
            selected |= known[token]
            continue
        close = difflib.get_close_matches(token, known, n=1)
        guess = f"did you mean {close[0]!r}? " if close else ""
        problems.append(
            Problem(f"--only: no kind is called {token!r}", None, guess + f"valid: {valid}")
        )
    if problems:
        raise ConfigError(problems)
    return frozenset(selected)
