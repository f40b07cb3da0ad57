"""plan and apply: show what would change, then change it, all or nothing."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crmconf.cli.colour import plan_text as coloured
from crmconf.cli.common import (
    EXIT_CHANGES,
    AliasedOption,
    as_writer,
    confirm_or_refuse,
    fail,
    is_standard_output,
    load_config,
    reports_errors,
    safety_options,
    strict_option,
    target_option,
    write_atomically,
    writer_options,
)
from crmconf.cli.environments import environment_options
from crmconf.cli.only import excluded, only_kinds, only_option, selected_kinds
from crmconf.cli.tenant_runs import (
    SafetyFlags,
    apply_all,
    optional_config_argument,
    plan_all,
    refuse_single_run_options,
    require_path,
    tenant_options,
)

if TYPE_CHECKING:
    from crmconf.pipeline.impact import Impact
    from crmconf.planning.changes import Plan
    from crmconf.targets.base import Target


@click.command(name="plan")
@optional_config_argument
@target_option
@environment_options
@tenant_options
@only_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown", "html"]),
    default="text",
    show_default=True,
    help="json: the plan document (schemas/plan.schema.json); markdown: one pull-request "
    "comment; html: with --all, one self-contained page for the fleet (-o FILE writes it).",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes (0: none, 1: error).",
)
@click.option(
    "-o",
    "--output",
    "--out",  # its first name; export and schema say --output
    "out",
    cls=AliasedOption,
    hidden_aliases=("--out",),
    metavar="FILE",
    type=click.Path(path_type=Path),
    help="Also save the plan to FILE.json, for 'crmconf apply FILE.json' "
    "(-: to standard output, the plan shown on standard error; with --all: a folder, one "
    "TENANT.json each, for 'apply --all --plans').",
)
@safety_options
@strict_option
@reports_errors
def plan_command(
    path: Path | None,
    target: str | None,
    env: str | None,
    vars_file: Path | None,
    all_tenants: bool,
    project: Path | None,
    parallel: int,
    only: str | None,
    exclude: str | None,
    output_format: str,
    detailed_exitcode: bool,
    out: Path | None,
    allow_mass_change: bool,
    max_deletes: int | None,
    max_change_fraction: float | None,
    allow_forecast_change: bool,
    max_forecast_change_percent: float | None,
    max_forecast_change_amount: float | None,
    strict: bool,
) -> None:
    """Show what applying PATH would change. Never writes to the target.

    With --all: every tenant of the project file, each plan, then a summary.
    """
    from crmconf.api import impact, plan
    from crmconf.targets import open_target, target_url

    safety = SafetyFlags(
        allow_mass_change,
        max_deletes,
        max_change_fraction,
        allow_forecast_change,
        max_forecast_change_percent,
        max_forecast_change_amount,
    )
    if all_tenants:
        refuse_single_run_options(path=path, target=target, env=env, vars=vars_file)
        code = plan_all(
            project,
            parallel,
            only=only,
            exclude=exclude,
            strict=strict,
            safety=safety,
            detailed_exitcode=detailed_exitcode,
            output_format=output_format,
            out=out,
        )
        sys.exit(code)
    path = require_path(path)
    if output_format == "html":
        fail("--format html is the fleet's page: use it with --all")
    # The text plan shows the lint warnings itself; on a terminal a copy on stderr doubled them.
    shows_warnings = output_format == "text"
    config = load_config(path, strict, env, vars_file, report_warnings=not shows_warnings)
    with open_target(target_url(target)) as crm:
        result = plan(
            config,
            crm,
            only=only_kinds(config, only),
            exclude=excluded(exclude),
            **safety.options(),
        )
        pipeline_change = impact(result, crm)  # None where the target hides its opportunities
        account = crm.account_heading()
        requests_line, requests_made = crm.requests_summary(), crm.api_requests()
    shown_on_stderr = is_standard_output(out)  # standard output carries the saved plan
    if output_format == "json":
        from crmconf.pipeline.render import impact_document
        from crmconf.planning.render.json import render_json

        extra = impact_document(pipeline_change) if pipeline_change is not None else None
        about_target = {
            key: value
            for key, value in (("account", account), ("api_requests", requests_made))
            if value is not None
        }
        click.echo(render_json(result, extra, about_target), nl=False, err=shown_on_stderr)
    elif output_format == "markdown":
        from crmconf.planning.render.markdown import render_markdown

        click.echo(
            render_markdown(result, only=selected_kinds(only)), nl=False, err=shown_on_stderr
        )
    else:
        if account is not None:
            click.echo(account, err=shown_on_stderr)
        text = coloured(plan_text(result, pipeline_change))
        click.echo(text, nl=False, err=shown_on_stderr)
        if requests_line is not None:
            click.echo(requests_line, err=True)
    result.raise_if_unapplyable()
    if out is not None:
        from crmconf.api import dump_plan

        write_atomically(out, dump_plan(result))
        if not shown_on_stderr:
            click.echo(f"Saved the plan to {out}; apply it with 'crmconf apply {out}'.", err=True)
    if detailed_exitcode and not result.empty:
        sys.exit(EXIT_CHANGES)


def plan_text(result: Plan, pipeline_change: Impact | None) -> str:
    """A plan as text, with its pipeline impact where it changes the forecast."""
    from crmconf.pipeline.render import render_impact_text
    from crmconf.planning.render.text import render_text

    sections = []
    if pipeline_change is not None and pipeline_change.touches_pipeline:
        sections.append(render_impact_text(pipeline_change))
    return render_text(result, sections)


@click.command()
@optional_config_argument
@target_option
@environment_options
@tenant_options
@only_option
@click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
@click.option(
    "--require-complete",
    is_flag=True,
    help="Refuse to start when any change would remain a manual step.",
)
@click.option(
    "--plans",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="FOLDER",
    help="With --all: apply the plans 'plan --all -o FOLDER' saved, one per tenant.",
)
@click.option(
    "--waves",
    is_flag=True,
    help="With --all: roll out wave by wave (waves: in crmconf.yaml), each planned again "
    "and clean before the next starts.",
)
@safety_options
@writer_options
@strict_option
@reports_errors
def apply(
    path: Path | None,
    target: str | None,
    env: str | None,
    vars_file: Path | None,
    all_tenants: bool,
    project: Path | None,
    parallel: int,
    only: str | None,
    exclude: str | None,
    yes: bool,
    require_complete: bool,
    plans: Path | None,
    waves: bool,
    allow_mass_change: bool,
    max_deletes: int | None,
    max_change_fraction: float | None,
    allow_forecast_change: bool,
    max_forecast_change_percent: float | None,
    max_forecast_change_amount: float | None,
    actor: str | None,
    lock_timeout: float,
    strict: bool,
) -> None:
    """Apply PATH (a configuration, or a plan saved with 'plan -o'): show, ask, apply.

    The apply is all or nothing, and refused when the target changed since the plan.
    With --all: every tenant of the project file; all plans are shown, then asked once.
    """
    from crmconf.api import impact, load_plan, plan
    from crmconf.planning.changes import Plan
    from crmconf.planning.document import summary_line
    from crmconf.planning.render.text import manual_checklist
    from crmconf.planning.saved import is_saved_plan
    from crmconf.targets import TARGET_VARIABLE, open_target, target_url

    safety = SafetyFlags(
        allow_mass_change,
        max_deletes,
        max_change_fraction,
        allow_forecast_change,
        max_forecast_change_percent,
        max_forecast_change_amount,
    )
    if all_tenants:
        refuse_single_run_options(path=path, target=target, env=env, vars=vars_file)
        code = apply_all(
            project,
            parallel,
            only=only,
            exclude=exclude,
            strict=strict,
            safety=safety,
            yes=yes,
            require_complete=require_complete,
            actor=actor,
            lock_timeout=lock_timeout,
            saved_plans=plans,
            waves=waves,
        )
        sys.exit(code)
    if plans is not None or waves:
        fail("--plans and --waves are about every tenant: give them with --all")
    path = require_path(path)
    if is_saved_plan(path):
        if env is not None or vars_file is not None:
            fail(f"{path} is a saved plan: pass --env and --vars to 'crmconf plan', which made it")
        if only is not None or exclude is not None:
            fail(
                f"{path} is a saved plan: pass --only and --exclude to 'crmconf plan', "
                "which made it"
            )
        limits = (max_deletes, max_change_fraction, max_forecast_change_percent)
        if any(limit is not None for limit in (*limits, max_forecast_change_amount)):
            fail(f"{path} is a saved plan: pass the limits to 'crmconf plan', which made it")
        from crmconf.api import saved_plan_target

        url = target_url(target) if target or os.environ.get(TARGET_VARIABLE) else None
        with as_writer(open_target(url or saved_plan_target(path)), actor, lock_timeout) as crm:
            result = load_plan(
                path,
                crm,
                allow_mass_change=allow_mass_change,
                require_complete=require_complete,
                allow_forecast_change=allow_forecast_change,
            )
            _confirm_and_apply(result, crm, impact(result, crm), yes)
    else:
        # The plan shown below carries the lint warnings.
        config = load_config(path, strict, env, vars_file, report_warnings=False)
        with as_writer(open_target(target_url(target)), actor, lock_timeout) as crm:
            result = plan(
                config,
                crm,
                only=only_kinds(config, only),
                exclude=excluded(exclude),
                require_complete=require_complete,
                **safety.options(),
            )
            _confirm_and_apply(result, crm, impact(result, crm), yes)
    if result.empty:
        return
    if result.automatic:
        click.echo(f"Applied. {summary_line(Plan(result.automatic)).removeprefix('Plan: ')}")
    else:
        click.echo("Applied. Only data moves were automatic; the manual steps follow.")
    if result.manual_steps:
        click.echo("")
        click.echo(manual_checklist(result), nl=False)


def _confirm_and_apply(result: Plan, crm: Target, change: Impact | None, yes: bool) -> None:
    """Show the plan and its impact, refuse what the library refuses, ask, apply."""
    from crmconf.api import apply as apply_plan

    account = crm.account_heading()
    if account is not None:
        click.echo(account)
    click.echo(coloured(plan_text(result, change)), nl=False)
    result.raise_if_unapplyable()
    if result.empty:
        return
    confirm_or_refuse(f"Apply these changes to {crm.url}?", yes)
    try:
        apply_plan(result, crm)
    finally:
        requests_line = crm.requests_summary()
        if requests_line is not None:
            click.echo(requests_line, err=True)
