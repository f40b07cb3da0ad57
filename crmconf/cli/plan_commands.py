"""plan and apply: show what would change, then change it, all or nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from crmconf.cli.common import (
    EXIT_CHANGES,
    as_writer,
    check_safety,
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
from crmconf.cli.environments import environment_options
from crmconf.cli.only import limit_to, only_option, selected_kinds
from crmconf.cli.tenant_runs import (
    SafetyFlags,
    apply_all,
    optional_config_argument,
    plan_all,
    refuse_single_run_options,
    require_path,
    tenant_options,
)


@click.command(name="plan")
@optional_config_argument
@target_option
@environment_options
@tenant_options
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
    path: Path | None,
    target: str | None,
    env: str | None,
    vars_file: Path | None,
    all_tenants: bool,
    project: Path | None,
    parallel: int,
    only: str | None,
    output_format: str,
    detailed_exitcode: bool,
    out: Path | None,
    allow_mass_change: bool,
    max_deletes: int | None,
    max_change_fraction: float | None,
    strict: bool,
) -> None:
    """Show what applying PATH would change. Never writes to the target.

    With --all: every tenant of the project file, each plan, then a summary.
    """
    from crmconf.api import impact, plan
    from crmconf.targets import open_target, target_url

    if all_tenants:
        refuse_single_run_options(
            path=path,
            target=target,
            env=env,
            vars=vars_file,
            out=out,
            format=output_format != "text",
        )
        safety = SafetyFlags(allow_mass_change, max_deletes, max_change_fraction)
        code = plan_all(
            project,
            parallel,
            only=only,
            strict=strict,
            safety=safety,
            detailed_exitcode=detailed_exitcode,
        )
        sys.exit(code)
    path = require_path(path)
    config = limit_to(load_config(path, strict, env, vars_file), only)
    from crmconf.targets.account import account_heading, api_requests, requests_summary

    with open_target(target_url(target)) as crm:
        result = plan(config, crm)
        pipeline_change = impact(result, crm)  # None where the target hides its opportunities
        url = crm.url
        account = account_heading(crm)
        requests_line, requests_made = requests_summary(crm), api_requests(crm)
    if output_format == "json":
        from crmconf.pipeline.render import impact_document
        from crmconf.planning.render.json import render_json

        extra = impact_document(pipeline_change) if pipeline_change is not None else None
        about_target = {
            key: value
            for key, value in (("account", account), ("api_requests", requests_made))
            if value is not None
        }
        click.echo(render_json(result, extra, about_target), nl=False)
    elif output_format == "markdown":
        from crmconf.planning.render.markdown import render_markdown

        click.echo(render_markdown(result, only=selected_kinds(only)), nl=False)
    else:
        from crmconf.pipeline.render import render_impact_text
        from crmconf.planning.render.text import render_text

        sections = []
        if pipeline_change is not None and pipeline_change.touches_pipeline:
            sections.append(render_impact_text(pipeline_change))
        if account is not None:
            click.echo(account)
        click.echo(render_text(result, sections), nl=False)
        if requests_line is not None:
            click.echo(requests_line, err=True)
    check_safety(result, config.limits, allow_mass_change, max_deletes, max_change_fraction)
    if out is not None:
        from crmconf.planning.saved import dump_saved

        write_atomically(out, dump_saved(result, url, config, allow_mass_change))
        click.echo(f"Saved the plan to {out}; apply it with 'crmconf apply {out}'.", err=True)
    if detailed_exitcode and not result.empty:
        sys.exit(EXIT_CHANGES)


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
    With --all: every tenant of the project file; all plans are shown, then asked once.
    """
    from crmconf.api import apply as apply_plan
    from crmconf.api import plan
    from crmconf.planning.changes import Plan
    from crmconf.planning.document import summary_line
    from crmconf.planning.render.text import manual_checklist, render_text
    from crmconf.planning.saved import is_saved_plan, load_saved, refuse_if_config_changed
    from crmconf.targets import open_target, target_url
    from crmconf.targets.account import account_heading, requests_summary

    if all_tenants:
        refuse_single_run_options(path=path, target=target, env=env, vars=vars_file)
        safety = SafetyFlags(allow_mass_change, max_deletes, max_change_fraction)
        code = apply_all(
            project,
            parallel,
            only=only,
            strict=strict,
            safety=safety,
            yes=yes,
            require_complete=require_complete,
            actor=actor,
            lock_timeout=lock_timeout,
        )
        sys.exit(code)
    path = require_path(path)
    config = None
    if is_saved_plan(path):
        if env is not None or vars_file is not None:
            fail(f"{path} is a saved plan: pass --env and --vars to 'crmconf plan', which made it")
        if only is not None:
            fail(f"{path} is a saved plan: pass --only to 'crmconf plan', which made it")
        saved = load_saved(path)
        refuse_if_config_changed(saved)
        if target is not None and target_url(target) != saved.target:
            fail(f"{path} was planned for {saved.target}, not {target}; plan again")
        url, result, limits = saved.target, saved.plan, saved.limits
        allow_mass_change = allow_mass_change or saved.allow_mass_change
    else:
        config = limit_to(load_config(path, strict, env, vars_file), only)
        url, result, limits = target_url(target), None, config.limits
    with as_writer(open_target(url), actor, lock_timeout) as crm:
        if config is not None:
            result = plan(config, crm)
        assert result is not None
        account = account_heading(crm)
        if account is not None:
            click.echo(account)
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
        try:
            apply_plan(result, crm)
        finally:
            requests_line = requests_summary(crm)
            if requests_line is not None:
                click.echo(requests_line, err=True)
    if result.automatic:
        click.echo(f"Applied. {summary_line(Plan(result.automatic)).removeprefix('Plan: ')}")
    else:
        click.echo("Applied. Only data moves were automatic; the manual steps follow.")
    if result.manual_steps:
        click.echo("")
        click.echo(manual_checklist(result), nl=False)
