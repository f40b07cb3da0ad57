"""plan and apply: show what would change, then change it, all or nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from crmconf.cli.app import main
from crmconf.cli.common import (
    EXIT_CHANGES,
    as_writer,
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
    writer_options,
)
from crmconf.cli.only import limit_to, only_option, selected_kinds


@main.command(name="plan")
@config_argument
@target_option
@only_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
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
    only: str | None,
    output_format: str,
    detailed_exitcode: bool,
    out: Path | None,
    allow_mass_change: bool,
    max_deletes: int | None,
    max_change_fraction: float | None,
    strict: bool,
) -> None:
    """Show what applying PATH would change. Never writes to the target."""
    from crmconf.api import impact, plan
    from crmconf.targets import open_target, target_url

    config = limit_to(load_config(path, strict), only)
    with open_target(target_url(target)) as crm:
        result = plan(config, crm)
        pipeline_change = impact(result, crm)  # None where the target hides its opportunities
        url = crm.url
    if output_format == "json":
        from crmconf.planning.render.impact import impact_document
        from crmconf.planning.render.json import render_json

        extra = impact_document(pipeline_change) if pipeline_change is not None else None
        click.echo(render_json(result, extra), nl=False)
    elif output_format == "markdown":
        from crmconf.planning.render.markdown import render_markdown

        click.echo(render_markdown(result, only=selected_kinds(only)), nl=False)
    else:
        from crmconf.planning.render.impact import render_impact_text
        from crmconf.planning.render.text import render_text

        sections = []
        if pipeline_change is not None and pipeline_change.touches_pipeline:
            sections.append(render_impact_text(pipeline_change))
        click.echo(render_text(result, sections), nl=False)
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
@only_option
@click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
@click.option(
    "--require-complete",
    is_flag=True,
    help="Refuse to start when any change would remain a manual step.",
)
@safety_options
@writer_options
@strict_option
@reports_errors
def apply(
    path: Path,
    target: str | None,
    only: str | None,
    yes: bool,
    require_complete: bool,
    allow_mass_change: bool,
    max_deletes: int | None,
    max_change_fraction: float | None,
    actor: str | None,
    lock_timeout: float,
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
        if only is not None:
            fail(f"{path} is a saved plan: pass --only to 'crmconf plan', which made it")
        saved = load_saved(path)
        refuse_if_config_changed(saved)
        if target is not None and target_url(target) != saved.target:
            fail(f"{path} was planned for {saved.target}, not {target}; plan again")
        url, result, limits = saved.target, saved.plan, saved.limits
        allow_mass_change = allow_mass_change or saved.allow_mass_change
    else:
        config = limit_to(load_config(path, strict), only)
        url, result, limits = target_url(target), None, config.limits
    with as_writer(open_target(url), actor, lock_timeout) as crm:
        if config is not None:
            result = plan(config, crm)
        assert result is not None
        click.echo(render_text(result), nl=False)
        by_hand = len(result.manual_steps) + len(result.checks)
        if require_complete and by_hand:
            fail(
                f"{by_hand} change(s) or check(s) can only be made by hand in the CRM "
                "(listed above); nothing was applied because of --require-complete"
            )
        if result.empty:
            return
        check_safety(result, limits, allow_mass_change, max_deletes, max_change_fraction)
        confirm_or_refuse(f"Apply these changes to {crm.url}?", yes)
        apply_plan(result, crm)
    if result.automatic:
        click.echo(f"Applied. {summary_line(Plan(result.automatic)).removeprefix('Plan: ')}")
    else:
        click.echo("Applied. Only data moves were automatic; the manual steps follow.")
    if result.manual_steps:
        click.echo("")
        click.echo(manual_checklist(result), nl=False)
