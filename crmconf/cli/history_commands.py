"""history, rollback and move-customers: every change recorded, and every change reversible."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from crmconf.cli.common import (
    as_writer,
    confirm_or_refuse,
    fail,
    reports_errors,
    target_option,
    writer_options,
)
from crmconf.planning.render.tables import one_line

if TYPE_CHECKING:
    from collections.abc import Sequence

    from crmconf.targets.base import Target
    from crmconf.targets.sandbox.history import HistoryEntry
    from crmconf.targets.state_backend import StateEntry


@click.command()
@target_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one document with every entry and its changes, for scripts.",
)
@reports_errors
def history(target: str | None, output_format: str) -> None:
    """List applies, moves and rollbacks recorded in the target, newest first.

    A target keeping no history of its own (24SevenOffice) is answered from the
    state backend its applies are recorded in ($CRMCONF_STATE).
    """
    from crmconf.targets import open_target, target_url
    from crmconf.targets.capabilities import Feature

    with open_target(target_url(target)) as crm:
        if Feature.HISTORY not in crm.capabilities().features:
            _backend_history(crm, output_format)
            return
        entries = crm.history()
    if output_format == "json":
        _echo_json(entries)
        return
    if not entries:
        click.echo("No history yet.")
        return
    for entry in entries:
        state = f"  (rolled back by {entry.rolled_back_by})" if entry.rolled_back_by else ""
        click.echo(_entry_line(entry, f"[{entry.rows} rows]{state}"))


def _backend_history(crm: Target, output_format: str) -> None:
    """The applies to an API target, as the state backend recorded them."""
    import os

    from crmconf.targets import STATE_VARIABLE
    from crmconf.targets.state_backend import StateBackend

    url = os.environ.get(STATE_VARIABLE)
    if not url:
        from crmconf.targets.confirmations import open_store

        store = open_store()
        confirmed = store.all(crm.resolved_url)
        if confirmed:  # the only history there is without a state backend
            click.echo(f"Confirmations of {crm.url} kept in {store.where} (this machine only):")
            for done in reversed(confirmed):
                what = f"{done.kind}.{done.field}" if done.field else done.kind
                click.echo(f"  {done.at}  {done.by:<12} confirm  {what} (until {done.expires})")
            return
        fail(
            f"{crm.url} keeps no history of its own; its applies are recorded in the "
            f"state backend: set {STATE_VARIABLE}=postgresql://… as the runners that applied do"
        )
    with StateBackend.open(url) as state:
        entries = state.history(crm.url)
    if output_format == "json":
        _echo_json(entries, state_backend=state.url)
        return
    if not entries:
        click.echo(f"No history of {crm.url} in the state backend yet.")
        return
    for entry in entries:
        click.echo(_entry_line(entry, f"[{entry.outcome}]"))
        if entry.error:
            click.echo(f"      error: {one_line(entry.error)}")


def _echo_json(entries: Sequence[HistoryEntry | StateEntry], **about: str) -> None:
    from dataclasses import asdict

    document = {"format_version": 1, **about, "entries": [asdict(entry) for entry in entries]}
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


def _entry_line(entry: HistoryEntry | StateEntry, tail: str) -> str:
    actor, command, summary = (
        one_line(text) for text in (entry.actor, entry.command, entry.summary)
    )
    return f"{entry.id:>4}  {one_line(entry.at)}  {actor:<12} {command:<15} {summary} {tail}"


@click.command()
@click.argument("entry", type=int)
@target_option
@click.option("--yes", "-y", is_flag=True, help="Roll back without asking.")
@click.option("--cascade", is_flag=True, help="Also roll back the later entries that depend on it.")
@click.option(
    "--skip-changed",
    is_flag=True,
    help="Leave rows changed since the entry as they are (listed) instead of refusing.",
)
@writer_options
@reports_errors
def rollback(
    entry: int,
    target: str | None,
    yes: bool,
    cascade: bool,
    skip_changed: bool,
    actor: str | None,
    lock_timeout: float,
) -> None:
    """Undo a recorded apply or move exactly: settings and every record it touched.

    A row changed since the entry (outside crmconf, say) is never overwritten: the
    rollback is refused, listing those rows, or with --skip-changed they are left as
    they are and listed.
    """
    from crmconf.targets import open_target, target_url
    from crmconf.targets.capabilities import Feature

    with as_writer(open_target(target_url(target)), actor, lock_timeout) as crm:
        crm.capabilities().require(Feature.HISTORY, crm.url)
        found = [item for item in crm.history() if item.id == entry]
        if not found:
            fail(f"no history entry {entry}; see 'crmconf history'")
        shown = found[0]
        click.echo(
            f"Entry {entry}: {one_line(shown.command)} at {one_line(shown.at)} by "
            f"{one_line(shown.actor)}: {one_line(shown.summary)} [{shown.rows} rows]"
        )
        click.echo(f"Rolling it back will change:\n\n{_undoing(found[0])}", nl=False)
        confirm_or_refuse(f"Roll it back on {crm.url}?", yes)
        done = crm.rollback(entry, cascade=cascade, skip_changed=skip_changed)
    for undone in done:
        click.echo(f"Rolled back entry {undone.entry} (recorded as entry {undone.recorded_as}).")
        if undone.left:
            changed = f"{len(undone.left)} rows changed since entry {undone.entry}"
            click.echo(f"  {changed}, each left as it is now:")
            for conflict in undone.left:
                click.echo(f"    - {one_line(str(conflict))}")


def _undoing(entry: HistoryEntry) -> str:
    """What rolling an entry back changes, shown before the question: its settings changes
    inverted, as a plan shows changes, and the records it moved or restored going back."""
    from crmconf.planning.changes import Action, Change, Plan
    from crmconf.planning.render.text import render_text

    inverse = {"create": Action.DELETE, "delete": Action.CREATE, "update": Action.UPDATE}
    settings: list[Change] = []
    lines: list[str] = []
    for change in entry.changes:
        if "action" in change:
            settings.append(
                Change(
                    change["kind"],
                    inverse[change["action"]],
                    before=change["after"],
                    after=change["before"],
                    changed=tuple(change["changed"]),
                )
            )
        elif "from" in change:
            lines.append(
                f"{change['kind']}: {change['customers']} customers move back from "
                f"{change['to']!r} to {change['from']!r}"
            )
        elif "restored" in change:
            restored = ", ".join(str(number) for number in change["restored"])
            lines.append(f"customers {restored} are deleted again")
    text = render_text(Plan(tuple(settings))) if settings else ""
    if lines:
        text += "\n".join(lines) + "\n"
    if entry.changes and any("action" in change for change in entry.changes):
        text += "Every customer, contact and opportunity it moved goes back where it was.\n"
    return text + "\n"


@click.command(name="move-customers")
@click.option("--industry", "industry", metavar="NAME", help="Move the customers of NAME …")
@click.option("--status-type", "status_type", metavar="NAME", help="… or of this status type …")
@click.option("--to", "destination", required=True, metavar="NAME", help="… to NAME.")
@target_option
@click.option("--yes", "-y", is_flag=True, help="Move without asking.")
@writer_options
@reports_errors
def move_customers(
    industry: str | None,
    status_type: str | None,
    destination: str,
    target: str | None,
    yes: bool,
    actor: str | None,
    lock_timeout: float,
) -> None:
    """Move ALL customers of an industry (or status type) to another — "Flytta kunder".

    One transaction, recorded in the history, reversible with 'crmconf rollback'.
    """
    from crmconf.kinds import INDUSTRIES, STATUS_TYPES
    from crmconf.model.names import identity
    from crmconf.targets import open_target, target_url

    if industry is not None and status_type is not None:
        fail(
            "give only one of --industry and --status-type: a move takes the customers of one item"
        )
    if industry is None and status_type is None:
        fail("name what to move from: --industry NAME or --status-type NAME")
    kind, source = (INDUSTRIES, industry) if industry is not None else (STATUS_TYPES, status_type)
    assert source is not None
    from crmconf.targets.capabilities import Feature

    with as_writer(open_target(target_url(target)), actor, lock_timeout) as crm:
        crm.capabilities().require(Feature.MOVE_CUSTOMERS, crm.url)
        count = crm.count_customers(kind, source)
        crm.count_customers(kind, destination)  # refuses an unknown destination early
        if identity(source) == identity(destination):
            click.echo(
                f"Nothing to move: {source!r} and {destination!r} are the same "
                f"{kind.singular}. Nothing was recorded."
            )
            return
        click.echo(f"{count} customers of {kind.singular} {source!r} will move to {destination!r}.")
        if count == 0:
            return
        confirm_or_refuse(f"Move them on {crm.url}?", yes)
        moved, entry = crm.move_customers(kind, source, destination)
    if entry is None:
        click.echo("Nothing to move: no customers there any more. Nothing was recorded.")
        return
    click.echo(f"Moved {moved} customers (history entry {entry}; undo: crmconf rollback {entry}).")
