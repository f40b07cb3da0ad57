"""Plans as a pull-request comment, in Markdown that GitHub and GitLab both render.

A CI job keeps one comment per pull request up to date by finding the hidden
marker it starts with. Deletions come first, where a reviewer cannot miss them
(tfcmt); then one table row per kind, counting renames and moves apart from other
changes (octoDNS); then each kind's changes folded in <details>. GitHub refuses
comments over 65,536 characters, so a longer plan is cut at a whole row, with a
note pointing to the JSON plan.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from crmconf.kinds import ALL_KINDS
from crmconf.planning.changes import Action, Change, Plan
from crmconf.planning.render.text import shown, without_bidi_controls

MARKER = "<!-- crmconf-plan -->"
COMMENT_LIMIT = 65_536
"""GitHub's limit on a comment's length (GitLab allows far more)."""
COLUMNS = ("add", "change", "rename", "move", "delete")
_DELETIONS_LISTED = 20
"""Deletions named in the callout at the top; every one is still in the details."""
# Characters Markdown would read as formatting: emphasis, code, links, tables, math.
_FORMATTING = re.compile(r"([\\`*_\[\]|~$])")


def escape(text: str) -> str:
    """Text shown as itself inside Markdown, also inside a table cell; `@name` notifies
    nobody (GitHub and GitLab render `&#64;` as `@` but make no mention of it)."""
    text = _FORMATTING.sub(r"\\\1", html.escape(text, quote=False)).replace("@", "&#64;")
    return text.replace("\r\n", "\n").replace("\n", "<br>")


def column(change: Change) -> str:
    """Which summary column a change counts in: a renamed item that also moved is a rename."""
    if change.action is Action.CREATE:
        return "add"
    if change.action is Action.DELETE:
        return "delete"
    if change.is_rename:
        return "rename"
    return "move" if change.is_move else "change"


@dataclass(frozen=True)
class _Line:
    text: str
    change: int | None = None
    """Index in the plan of the change this line shows in the details, if any."""


def render_markdown(
    plan: Plan,
    *,
    title: str = "crmconf plan",
    marker: str = MARKER,
    only: Collection[str] = (),
    json_command: str = "crmconf plan CONFIG --format json",
    limit: int = COMMENT_LIMIT,
) -> str:
    """The plan as one comment of at most `limit` characters, starting with `marker`."""
    lines = [_Line(marker), *_heading(plan, title, only)]
    if not plan.empty:
        lines += _deletions(plan)
        lines += _summary_table(plan)
        lines += _warnings(plan)
        lines += _manual_steps(plan)
        lines += _details(plan)
    else:
        lines += _warnings(plan)
    while not lines[-1].text:
        lines.pop()
    lines = [_Line(without_bidi_controls(line.text), line.change) for line in lines]
    return _fit(lines, len(plan.changes), json_command, limit)


def _heading(plan: Plan, title: str, only: Collection[str]) -> Iterator[_Line]:
    if plan.empty:
        yield _Line(f"### {title}: no changes")
        yield _Line("")
        yield _Line("The target matches the configuration.")
    else:
        counts = plan.summary()
        yield _Line(
            f"### {title}: {counts['create']} to add, {counts['update']} to change, "
            f"{counts['delete']} to delete"
        )
    if only:
        yield _Line("")
        yield _Line(
            "Limited to "
            + ", ".join(f"`{kind.name}`" for kind in ALL_KINDS if kind.name in only)
            + " (`--only`)."
        )
    yield _Line("")


def _deletions(plan: Plan) -> Iterator[_Line]:
    deletes = [change for change in plan.changes if change.action is Action.DELETE]
    if not deletes:
        return
    yield _Line(f"> **⚠️ {_count(len(deletes), 'deletion')}**: check that each one is meant.")
    yield _Line(">")
    for change in deletes[:_DELETIONS_LISTED]:
        details = [escape(_destination(change))] if change.migration is not None else []
        if change.usage is not None and change.usage.total:
            details.insert(0, f"used by {change.usage}")
        suffix = " — " + ", ".join(details) if details else ""
        yield _Line(f"> - `{change.kind}` **{escape(change.name)}**{suffix}")
    if len(deletes) > _DELETIONS_LISTED:
        yield _Line(f"> - … and {len(deletes) - _DELETIONS_LISTED} more, listed below")
    yield _Line("")


def _summary_table(plan: Plan) -> Iterator[_Line]:
    per_kind: dict[str, Counter[str]] = {}
    for change in plan.changes:
        per_kind.setdefault(change.kind, Counter())[column(change)] += 1
    total: Counter[str] = sum(per_kind.values(), Counter())
    yield _Line("| Kind | " + " | ".join(name.capitalize() for name in COLUMNS) + " |")
    yield _Line("|---|" + "--:|" * len(COLUMNS))
    for kind in ALL_KINDS:
        if kind.name in per_kind:
            counts = per_kind[kind.name]
            yield _Line(f"| `{kind.name}` | " + " | ".join(str(counts[c]) for c in COLUMNS) + " |")
    yield _Line("| **Total** | " + " | ".join(f"**{total[c]}**" for c in COLUMNS) + " |")
    yield _Line("")


def _warnings(plan: Plan) -> Iterator[_Line]:
    if not plan.warnings:
        return
    yield _Line(f"**{_count(len(plan.warnings), 'warning')}**")
    yield _Line("")
    for warning in plan.warnings:
        yield _Line(f"- {escape(str(warning))}")
    yield _Line("")


def _manual_steps(plan: Plan) -> Iterator[_Line]:
    steps = plan.manual_steps
    if not steps:
        return
    yield _Line(
        f"**{_count(len(steps), 'manual step')}**, in this order: the target cannot make them"
    )
    yield _Line("")
    for number, change in enumerate(steps, 1):
        yield _Line(f"{number}. {escape(change.manual_step or '')}")
    yield _Line("")


def _details(plan: Plan) -> Iterator[_Line]:
    for kind in ALL_KINDS:
        indexed = [(i, c) for i, c in enumerate(plan.changes) if c.kind == kind.name]
        if not indexed:
            continue
        counts = Counter(column(change) for _i, change in indexed)
        tally = ", ".join(_count(counts[c], c) for c in COLUMNS if counts[c])
        # An HTML block: its first line is not Markdown, so the summary is plain HTML.
        yield _Line(f"<details><summary><code>{kind.name}</code>: {tally}</summary>")
        yield _Line("")
        yield _Line("| | Item | Before → after | Used by |")
        yield _Line("|---|---|---|---|")
        for index, change in indexed:
            action = column(change)
            if action == "delete":
                action = "**delete**"
            if change.manual:
                action += " (manual)"
            cells = (action, escape(change.name), _before_after(change), _impact(change))
            yield _Line("| " + " | ".join(cells) + " |", index)
        yield _Line("")
        yield _Line("</details>")
        yield _Line("")


def _before_after(change: Change) -> str:
    parts: list[str] = []
    if change.action is Action.CREATE:
        assert change.after is not None
        parts = [f"{field}: {shown(v)}" for field, v in change.after.items() if field != "name"]
    elif change.action is Action.UPDATE:
        assert change.before is not None and change.after is not None
        parts = [
            f"{field}: {shown(change.before.get(field))} → {shown(change.after.get(field))}"
            for field in change.changed
        ]
    else:
        parts = ["deleted"]
        destination = _destination(change)
        if destination:
            parts.append(destination)
    return "<br>".join(escape(part) for part in parts) or "–"


def _destination(change: Change) -> str:
    if change.migration is None:
        return ""
    destination = change.migration.get("move_to")
    if destination is not None:
        return f"what uses it moves to {shown(destination)}"
    return "what uses it is detached (cleared)"


def _impact(change: Change) -> str:
    if change.action is Action.CREATE or change.usage is None or not change.usage.total:
        return "–"
    return str(change.usage)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _size(text: str) -> int:
    """Length in UTF-16 code units: never less than characters, however a host counts."""
    return len(text.encode("utf-16-le")) // 2


def _fit(lines: list[_Line], changes: int, json_command: str, limit: int) -> str:
    """All lines when they fit; else as many as fit, a closed <details> and a note."""
    text = "\n".join(line.text for line in lines) + "\n"
    if _size(text) <= limit:
        return text

    def note(shown: int) -> str:
        return (
            f"> **Truncated:** this comment shows {shown} of {changes} changes, to stay within "
            f"GitHub's limit of {COMMENT_LIMIT:,} characters per comment. The whole plan is in "
            f"the JSON plan: the `plan.json` artefact of the CI job, or `{json_command}`.\n"
        )

    closing = "\n</details>\n"
    budget = limit - _size(note(changes)) - _size(closing) - 1
    kept: list[str] = []
    shown: set[int] = set()
    used = 0
    in_details = False
    for line in lines:
        cost = _size(line.text) + 1
        if used + cost > budget:
            break
        kept.append(line.text)
        used += cost
        if line.change is not None:
            shown.add(line.change)
        if line.text.startswith("<details>"):
            in_details = True
        elif line.text == "</details>":
            in_details = False
    body = "\n".join(kept) + "\n"
    return body + (closing if in_details else "") + "\n" + note(len(shown))
