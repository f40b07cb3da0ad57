"""`crmconf plan --all` and `crmconf apply --all`: every tenant of the project file at once.

Each tenant is planned (and applied) on its own, at most --parallel at a time; one
tenant's failure is reported in its place and never stops the others. The report is
each tenant's plan in the project file's order, then a summary table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crmconf.cli.common import EXIT_CHANGES, as_writer, confirm_or_refuse, fail

if TYPE_CHECKING:
    from crmconf.errors import Problem
    from crmconf.model.configuration import Configuration
    from crmconf.pipeline.impact import Impact
    from crmconf.planning.changes import Plan
    from crmconf.planning.render.fleet import TenantPlan as FleetLine
    from crmconf.tenants import Outcome, Project, Tenant

EXIT_FAILED = 1
_DASH = "–"
_ERROR_WIDTH = 70


project_option = click.option(
    "--project",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="The project file naming the tenants (default: ./crmconf.yaml).",
)


def parallel_option(text: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """--parallel, with what it bounds."""
    return click.option(
        "--parallel",
        type=click.IntRange(min=1),
        default=4,
        show_default=True,
        metavar="N",
        help=text,
    )


def tenant_options(command: Callable[..., None]) -> Callable[..., None]:
    """--all, --project and --parallel, for plan and apply."""
    options = (
        click.option(
            "--all",
            "all_tenants",
            is_flag=True,
            help="Every tenant of the project file (then PATH is not given).",
        ),
        project_option,
        parallel_option("With --all: tenants worked on at the same time."),
    )
    for option in reversed(options):
        command = option(command)
    return command


optional_config_argument = click.argument("path", required=False, type=click.Path(path_type=Path))


def require_path(path: Path | None) -> Path:
    """PATH is optional only because --all replaces it."""
    if path is None:
        fail("give the configuration PATH, or --all for every tenant of crmconf.yaml")
    return path


def refuse_single_run_options(option: str = "--all", **given: object) -> None:
    """Options that name one configuration or target make no sense with --all (or with
    pull's --tenant, which names one tenant of the project file)."""
    named = [
        name.upper() if name == "path" else f"--{name.replace('_', '-')}"
        for name, value in given.items()
        if value
    ]
    if named:
        fail(
            f"{', '.join(named)} cannot be used with {option}: crmconf.yaml names each "
            "tenant's configuration, environment, variables and target"
        )


@dataclass(frozen=True)
class SafetyFlags:
    """The mass-change flags of one command, handed to crmconf.api.plan as they are."""

    allow_mass_change: bool
    max_deletes: int | None
    max_change_fraction: float | None
    allow_forecast_change: bool = False
    max_forecast_change_percent: float | None = None
    max_forecast_change_amount: float | None = None

    def options(self) -> dict[str, Any]:
        return {
            "allow_mass_change": self.allow_mass_change,
            "max_deletes": self.max_deletes,
            "max_change_fraction": self.max_change_fraction,
            "allow_forecast_change": self.allow_forecast_change,
            "max_forecast_change_percent": self.max_forecast_change_percent,
            "max_forecast_change_amount": self.max_forecast_change_amount,
        }


@dataclass(frozen=True)
class TenantPlan:
    plan: Plan
    warnings: tuple[Problem, ...]
    impact: Impact | None = None
    """How the plan moves the weighted pipeline, where the target reports it."""
    requests: int | None = None
    """API requests planning it cost, behind a rate-limited API."""
    account: str | None = None
    """The account line of a target one login reaches several accounts of (24SevenOffice)."""


def plan_all(
    project_file: Path | None,
    parallel: int,
    *,
    only: str | None,
    exclude: str | None = None,
    strict: bool,
    safety: SafetyFlags,
    detailed_exitcode: bool,
    output_format: str = "text",
    out: Path | None = None,
    drift: bool = False,
) -> int:
    """Plan every tenant; the exit status: 1 if any failed, else 2 (with
    --detailed-exitcode) if any has changes, else 0. `drift`: as `crmconf drift --all`,
    every tenant's drift, never applied (the exit status as with --detailed-exitcode).

    `output_format` json or markdown prints one document for all tenants; `out`, a folder,
    gets one saved plan per tenant planned (TENANT.json), for `apply --all --plans`.
    """
    project = _project(project_file)
    outcomes = _plan_tenants(
        project, parallel, (only, exclude), strict, safety, require_complete=False, report=drift
    )
    if output_format == "text":
        for outcome in outcomes:
            _section(outcome.tenant)
            click.echo(_plan_report(outcome), nl=False)
        click.echo("")
        click.echo(_summary(outcomes, {}, drift=drift))
    elif output_format == "html":
        from crmconf.cli.common import write_atomically
        from crmconf.planning.render.fleet_html import FleetPage, render_fleet_html

        pages = [
            FleetPage(
                _fleet_line(outcome),
                _forecast_change(outcome),
                outcome.result.requests if outcome.result is not None else None,
            )
            for outcome in outcomes
        ]
        if drift:
            page = render_fleet_html(pages, title="crmconf drift --all", changed="drift")
        else:
            page = render_fleet_html(pages)
        if out is None:
            click.echo(page, nl=False)
        else:
            write_atomically(out, page)
            click.echo(f"Wrote the fleet's page to {out}.", err=True)
            out = None  # the page, not a folder of saved plans
    else:
        from crmconf.planning.render.fleet import render_fleet_json, render_fleet_markdown

        reports = [_fleet_line(outcome, drift) for outcome in outcomes]
        render = render_fleet_json if output_format == "json" else render_fleet_markdown
        click.echo(render(reports), nl=False)
    if out is not None:
        _save_plans(outcomes, out)
    if any(outcome.error is not None for outcome in outcomes):
        return EXIT_FAILED
    changed = any(
        outcome.result is not None and not outcome.result.plan.empty for outcome in outcomes
    )
    return EXIT_CHANGES if detailed_exitcode and changed else 0


def apply_all(
    project_file: Path | None,
    parallel: int,
    *,
    only: str | None,
    exclude: str | None = None,
    strict: bool,
    safety: SafetyFlags,
    yes: bool,
    require_complete: bool,
    actor: str | None,
    lock_timeout: float,
    saved_plans: Path | None = None,
    waves: bool = False,
) -> int:
    """Plan every tenant (or load its plan saved in the folder `saved_plans`), show every plan,
    ask once, apply those with changes; exit 1 if any tenant failed."""
    from crmconf.api import apply as apply_plan
    from crmconf.tenants import open_tenant_target, run_all

    project = _project(project_file)
    if waves and project.waves is None:
        fail(
            f"--waves: {project.file} names no waves; add e.g. "
            "'waves: [[pilot-a, pilot-b], rest]' (rest: every tenant not named)"
        )
    selectors = (only, exclude)
    planned = _plan_tenants(
        project, parallel, selectors, strict, safety, require_complete, saved_plans
    )
    for outcome in planned:
        _section(outcome.tenant)
        click.echo(_plan_report(outcome), nl=False)
    click.echo("")
    click.echo(_summary(planned, {}))
    plans = {
        outcome.tenant.name: outcome.result.plan
        for outcome in planned
        if outcome.result is not None and not outcome.result.plan.empty
    }
    failed = sum(outcome.error is not None for outcome in planned)
    if not plans:
        click.echo("\nNothing to apply.")
        return EXIT_FAILED if failed else 0
    skipped = f" ({failed} failed to plan and are left alone)" if failed else ""
    confirm_or_refuse(f"\nApply the changes to {_tenants(len(plans))}{skipped}?", yes)

    def apply_one(tenant: Tenant) -> None:
        target = open_tenant_target(tenant, os.environ)
        with as_writer(target, actor, lock_timeout) as crm:
            apply_plan(plans[tenant.name], crm)

    def apply_these(tenants: Sequence[Tenant]) -> list[Outcome[None]]:
        from crmconf.cli.progress import TenantProgress

        chosen = [tenant for tenant in tenants if tenant.name in plans]
        if not chosen:
            return []
        click.echo(
            f"Applying {_tenants(len(chosen))}, {min(parallel, len(chosen))} at a time.",
            err=True,
        )
        with TenantProgress(chosen, "applying") as progress:
            applied = run_all(
                chosen,
                apply_one,
                parallel=parallel,
                started=progress.started,
                finished=lambda done: progress.finished(done.tenant, _applied_status(done)),
            )
        for done in applied:
            _section(done.tenant)
            click.echo(_apply_report(done, plans[done.tenant.name]), nl=False)
        return applied

    if not waves:
        applied = apply_these(project.tenants)
        click.echo("")
        click.echo(_summary(planned, {done.tenant.name: done for done in applied}))
        failed += sum(done.error is not None for done in applied)
        return EXIT_FAILED if failed else 0
    assert project.waves is not None
    return _roll_out(project, project.waves, planned, apply_these, parallel, selectors, strict)


def _roll_out(
    project: Project,
    waves: Sequence[Sequence[Tenant]],
    planned: list[Outcome[TenantPlan]],
    apply_these: Callable[[Sequence[Tenant]], list[Outcome[None]]],
    parallel: int,
    selectors: tuple[str | None, str | None],
    strict: bool,
) -> int:
    """Apply wave by wave; after each, plan its tenants again: the next wave starts only
    when every one of them applied and has no change left that crmconf could make."""
    from crmconf.tenants import Project as Subset

    applied: dict[str, Outcome[None]] = {}
    report: list[str] = []
    for number, wave in enumerate(waves, start=1):
        names = ", ".join(tenant.name for tenant in wave)
        click.echo(f"\nWave {number} of {len(waves)}: {names}", err=True)
        for done in apply_these(wave):
            applied[done.tenant.name] = done
        subset = Subset(project.file, tuple(wave))
        no_flags = SafetyFlags(True, None, None, True)  # a re-plan is only looked at
        again = _plan_tenants(subset, parallel, selectors, strict, no_flags, False)
        problems = [
            f"{done.tenant.name}: {_short_error(done.error)}"
            for done in applied.values()
            if done.error is not None and done.tenant in wave
        ]
        problems += [
            f"{outcome.tenant.name}: planned again, {_left(outcome)}"
            for outcome in again
            if outcome.result is None or outcome.result.plan.automatic
        ]
        if problems:
            report.append(f"Wave {number} ({names}): stopped —")
            report.extend(f"  {problem}" for problem in problems)
            later = [tenant.name for rest in waves[number:] for tenant in rest]
            if later:
                report.append(f"Not started: {', '.join(later)}.")
            report.append(
                "Fix the cause, then run 'crmconf apply --all --waves' again: it "
                "plans every tenant anew, so the waves already done have nothing "
                "left to apply and the roll-out resumes where it stopped."
            )
            break
        report.append(f"Wave {number} ({names}): applied, and planned again with no changes.")
    click.echo("")
    click.echo(_summary(planned, applied))
    click.echo("")
    click.echo("\n".join(report))
    stopped = any(line.endswith("stopped —") for line in report)
    failed = any(outcome.error is not None for outcome in planned)
    return EXIT_FAILED if stopped or failed else 0


def _left(outcome: Outcome[TenantPlan]) -> str:
    if outcome.result is None:
        return _short_error(outcome.error)
    from crmconf.planning.changes import Plan
    from crmconf.planning.document import summary_line

    left = summary_line(Plan(outcome.result.plan.automatic)).removeprefix("Plan: ")
    return f"still {left.rstrip('.')}"


def _project(project_file: Path | None) -> Project:
    from crmconf.tenants import load_project
    from crmconf.tenants.project import PROJECT_FILE

    return load_project(project_file or Path(PROJECT_FILE))


def _plan_tenants(
    project: Project,
    parallel: int,
    selectors: tuple[str | None, str | None],
    strict: bool,
    safety: SafetyFlags,
    require_complete: bool,
    plans: Path | None = None,
    report: bool = False,
) -> list[Outcome[TenantPlan]]:
    """Plan every tenant (or load its saved plan); `report`: for drift, with what the CRM's
    data forbids shown rather than refused, and nothing held to the apply rules."""
    from crmconf.api import impact, plan
    from crmconf.cli.progress import TenantProgress
    from crmconf.config.selection import Selection
    from crmconf.errors import ConfigError
    from crmconf.tenants import load_tenant_config, open_tenant_target, run_all

    only, exclude = selectors
    only_given = [only] if only is not None else None
    exclude_given = [exclude] if exclude is not None else None
    Selection.of(only_given, exclude_given)  # a bad selector fails at once, not per tenant

    def load_one(tenant: Tenant) -> TenantPlan:
        from crmconf.api import load_plan

        assert plans is not None
        with open_tenant_target(tenant, os.environ) as crm:
            result = load_plan(
                plan_file(plans, tenant.name),
                crm,
                allow_mass_change=safety.allow_mass_change,
                require_complete=require_complete,
                allow_forecast_change=safety.allow_forecast_change,
            )
        result.raise_if_unapplyable()
        return TenantPlan(result, ())

    def plan_one(tenant: Tenant) -> TenantPlan:
        config: Configuration = load_tenant_config(tenant, os.environ)
        if strict and config.warnings:
            raise ConfigError(list(config.warnings))
        with open_tenant_target(tenant, os.environ) as crm:
            result = plan(
                config,
                crm,
                only=only_given,
                exclude=exclude_given,
                require_complete=require_complete,
                refuse_orphans=not report,
                **safety.options(),
            )
            change = impact(result, crm)
            account = crm.account_heading()  # may read the client: counted below
            requests = crm.api_requests()
        if not report:
            result.raise_if_unapplyable()
        return TenantPlan(result, config.warnings, change, requests, account)

    click.echo(
        f"Planning {_tenants(len(project.tenants))} of {project.file}, "
        f"{min(parallel, len(project.tenants))} at a time.",
        err=True,
    )
    with TenantProgress(project.tenants, "planning") as progress:
        return run_all(
            project.tenants,
            plan_one if plans is None else load_one,
            parallel=parallel,
            started=progress.started,
            finished=lambda outcome: progress.finished(outcome.tenant, _planned_status(outcome)),
        )


def plan_file(folder: Path, tenant: str) -> Path:
    """Where `plan --all -o FOLDER` saves a tenant's plan: its name, made a safe file name."""
    return folder / (re.sub(r"[^\w.-]", "_", tenant).lstrip(".") + ".json")


def _save_plans(outcomes: Sequence[Outcome[TenantPlan]], folder: Path) -> None:
    from crmconf.api import dump_plan
    from crmconf.cli.common import write_atomically

    files = {outcome.tenant.name: plan_file(folder, outcome.tenant.name) for outcome in outcomes}
    if len(set(files.values())) != len(files):
        fail("two tenants' names make the same file name: rename one in crmconf.yaml")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        fail(f"cannot create {folder}: {error.strerror}")
    saved = 0
    for outcome in outcomes:
        if outcome.result is not None:
            write_atomically(files[outcome.tenant.name], dump_plan(outcome.result.plan))
            saved += 1
    click.echo(
        f"Saved {saved} plan{'s' if saved != 1 else ''} to {folder}; apply them with "
        f"'crmconf apply --all --plans {folder}'.",
        err=True,
    )


def _forecast_change(outcome: Outcome[TenantPlan]) -> Decimal | None:
    if outcome.result is None or outcome.result.impact is None:
        return None
    return outcome.result.impact.total.delta


def _fleet_line(outcome: Outcome[TenantPlan], drift: bool = False) -> FleetLine:
    from crmconf.planning.render.fleet import TenantPlan as FleetLine

    tenant = outcome.tenant
    if outcome.result is not None:
        changed = "drift" if drift else "changes"
        plan = outcome.result.plan
        return FleetLine(tenant.name, tenant.environment, tenant.target, plan, changed=changed)
    error = _error_report(outcome.error).rstrip("\n").removeprefix("error: ")
    return FleetLine(tenant.name, tenant.environment, tenant.target, None, error)


def _section(tenant: Tenant) -> None:
    environment = f" ({tenant.environment})" if tenant.environment else ""
    click.echo(f"\n== {tenant.name}{environment} → {tenant.target} ==")


def _plan_report(outcome: Outcome[TenantPlan]) -> str:
    """A tenant's plan as `plan` shows one: warnings, changes in colour, pipeline impact."""
    from crmconf.cli.colour import plan_text as coloured
    from crmconf.pipeline.render import render_impact_text
    from crmconf.planning.render.text import render_text

    if outcome.result is None:
        return _error_report(outcome.error) + _credentials_note(outcome.tenant)
    lines = [f"{outcome.result.account}\n"] if outcome.result.account else []
    lines += [f"warning: {warning}\n" for warning in outcome.result.warnings]
    change = outcome.result.impact
    sections = (
        [render_impact_text(change)] if change is not None and change.touches_pipeline else []
    )
    return coloured("".join(lines) + render_text(outcome.result.plan, sections))


def _apply_report(outcome: Outcome[None], plan: Plan) -> str:
    from crmconf.planning.changes import Plan
    from crmconf.planning.document import summary_line
    from crmconf.planning.render.text import manual_checklist

    if outcome.error is not None:
        return _error_report(outcome.error) + _credentials_note(outcome.tenant)
    if plan.automatic:
        text = f"Applied. {summary_line(Plan(plan.automatic)).removeprefix('Plan: ')}\n"
    else:
        text = "Applied. Only data moves were automatic; the manual steps follow.\n"
    if plan.manual_steps:
        text += "\n" + manual_checklist(plan)
    return text


def _credentials_note(tenant: Tenant) -> str:
    """Target errors name crmconf's own variables; this tenant's come from others."""
    if not tenant.credentials:
        return ""
    named = ", ".join(f"{setting} from {name}" for setting, name in tenant.credentials.items())
    return f"note: {tenant.name}'s credentials: {named}\n"


def _error_report(error: Exception | None) -> str:
    from crmconf.errors import ConfigError

    if isinstance(error, ConfigError):
        count = len(error.problems)
        lines = [f"error: {problem}" for problem in error.problems]
        lines.append(f"{count} error{'s' if count != 1 else ''}; nothing was changed.")
        return "\n".join(lines) + "\n"
    return f"error: {_message(error)}\n"


def _message(error: Exception | None) -> str:
    from crmconf.errors import CrmconfError

    if isinstance(error, CrmconfError):
        return str(error)
    # Not an error a user can cause: name it plainly rather than hide it, without a traceback.
    return f"unexpected {type(error).__name__}: {error}"


def _short_error(error: Exception | None) -> str:
    from crmconf.errors import ConfigError

    if isinstance(error, ConfigError):
        count = len(error.problems)
        return f"error: invalid configuration ({count} error{'s' if count != 1 else ''})"
    text = _message(error).splitlines()[0] if _message(error) else "failed"
    if len(text) > _ERROR_WIDTH:
        text = text[: _ERROR_WIDTH - 1] + "…"
    return f"error: {text}"


def _planned_status(outcome: Outcome[TenantPlan]) -> str:
    if outcome.result is None:
        return _short_error(outcome.error)
    plan = outcome.result.plan
    if plan.empty:
        return "no changes"
    counts = plan.summary()
    return f"{counts['create']} to add, {counts['update']} to change, {counts['delete']} to delete"


def _applied_status(outcome: Outcome[None]) -> str:
    return "applied" if outcome.error is None else _short_error(outcome.error)


def _summary(
    planned: Sequence[Outcome[TenantPlan]], applied: dict[str, Outcome[None]], drift: bool = False
) -> str:
    """One row per tenant: what its plan (or drift) holds and how its run ended."""
    from crmconf.planning.render.tables import aligned

    rows = [["Tenant", "Env", "Add", "Change", "Delete", "Manual", "Result"]]
    for outcome in planned:
        tenant = outcome.tenant
        counts = [_DASH] * 4
        if outcome.result is not None:
            plan = outcome.result.plan
            summary = plan.summary()
            counts = [
                str(summary["create"]),
                str(summary["update"]),
                str(summary["delete"]),
                str(len(plan.manual_steps)),
            ]
            if drift:
                result = "no drift" if plan.empty else "drift"
            else:
                result = "no changes" if plan.empty else "changes"
        else:
            result = _short_error(outcome.error)
        if tenant.name in applied:
            result = _applied_status(applied[tenant.name])
        rows.append([tenant.name, tenant.environment or _DASH, *counts, result])
    return "\n".join(aligned(rows, [False, False, True, True, True, True, False]))


def _tenants(count: int) -> str:
    return f"{count} tenant{'s' if count != 1 else ''}"
