"""plan and apply: show what would change, then change it, all or nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from crmconf.cli.app import main
from crmconf.cli.common import (
    EXIT_CHANGES,
    check_safety,
    config_argument,
    confirm_or_refuse,
    fail,
    load_config,
    reports_errors,
    safety_options,
    strict_option,
    target_option,
    write_atomically,
)


@main.command(name="plan")
@config_argument
@target_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes (0: none, 1: error).",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    help="Also save the plan to FILE.json, for 'crmconf apply FILE.json'.",
)
@safety_options
@strict_option
@reports_errors
def plan_command(
    path: Path,
    target: str | None,
    output_format: str,
    detailed_exitcode: bool,
    out: Path | None,
    allow_mass_change: bool,
    max_deletes: int | None,
    max_change_fraction: float | None,
    strict: bool,
) -> None:
    """Show what applying PATH would change. Never writes to the target."""
    from crmconf.api import plan
    from crmconf.targets import open_target, target_url

    config = load_config(path, strict)
    with open_target(target_url(target)) as crm:
        result = plan(config, crm)
        url = crm.url
    if output_format == "json":
        from crmconf.planning.render.json import render_json

        click.echo(render_json(result), nl=False)
    else:
        from crmconf.planning.render.text import render_text

        click.echo(render_text(result), nl=False)
    check_safety(result, config.limits, allow_mass_change, max_deletes, max_change_fraction)
    if out is not None:
        from crmconf.planning.saved import dump_saved

        write_atomically(out, dump_saved(result, url, config, allow_mass_change))
        click.echo(f"Saved the plan to {out}; apply it with 'crmconf apply {out}'.", err=True)
    if detailed_exitcode and not result.empty:
        sys.exit(EXIT_CHANGES)


@main.command()
@config_argument
@target_option
@click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
@click.option(
    "--require-complete",
    is_flag=True,
    help="Refuse to start when any change would remain a manual step.",
)
@safety_options
@strict_option
@reports_errors
def apply(
    path: Path,
    target: str | None,
    yes: bool,
    require_complete: bool,
    allow_mass_change: bool,
    max_deletes: int | None,
    max_change_fraction: float | None,
    strict: bool,
) -> None:
    """Apply PATH (a configuration, or a plan saved with 'plan -o'): show, ask, apply.

    The apply is all or nothing, and refused when the target changed since the plan.
    """
    from crmconf.api import apply as apply_plan
    from crmconf.api import plan
    from crmconf.planning.changes import Plan
    from crmconf.planning.render.text import manual_checklist, render_text, summary_line
    from crmconf.planning.saved import is_saved_plan, load_saved, refuse_if_config_changed
    from crmconf.targets import open_target, target_url

    config = None
    if is_saved_plan(path):
        saved = load_saved(path)
        refuse_if_config_changed(saved)
        if target is not None and target_url(target) != saved.target:
            fail(f"{path} was planned for {saved.target}, not {target}; plan again")
        url, result, limits = saved.target, saved.plan, saved.limits
        allow_mass_change = allow_mass_change or saved.allow_mass_change
    else:
        config = load_config(path, strict)
        url, result, limits = target_url(target), None, config.limits
    with open_target(url) as crm:
        if config is not None:
            result = plan(config, crm)
        assert result is not None
        click.echo(render_text(result), nl=False)
        if result.empty:
            return
        check_safety(result, limits, allow_mass_change, max_deletes, max_change_fraction)
        if require_complete and result.manual_steps:
            fail(
                f"{len(result.manual_steps)} change(s) can only be made by hand in the CRM "
                "(listed above); nothing was applied because of --require-complete"
            )
        confirm_or_refuse(f"Apply these changes to {crm.url}?", yes)
        apply_plan(result, crm)
    done = summary_line(Plan(result.automatic)).removeprefix("Plan: ")
    click.echo(f"Applied. {done}")
    if result.manual_steps:
        click.echo("")
        click.echo(manual_checklist(result), nl=False)
