"""The Python API, and the one place every rule is enforced: the CLI is a thin layer over it.

`plan` computes a plan under a policy (mass-change limits, orphan refusal, protected
items, require-complete) and records it; `apply` refuses any plan its policy forbids or
that went stale, whoever made it. A saved plan (`dump_plan` / `load_plan`) is a
commitment, not an instruction: loading it plans again from the configuration it
records, against the target as it is now, and gives that plan only if it is the one
that was saved.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from crmconf.config.export import export_text
from crmconf.config.files import replace_file
from crmconf.config.firm_rules import RuleSet, with_rules
from crmconf.config.reading import load as load_files
from crmconf.config.selection import Selection, select_items
from crmconf.errors import CrmconfError, Problem, TargetError
from crmconf.kinds import ALL_KINDS, KINDS_BY_NAME
from crmconf.model.collector import paused
from crmconf.model.configuration import Configuration
from crmconf.model.state import fingerprint
from crmconf.pipeline.forecast import Breakdown, Forecast
from crmconf.pipeline.forecast import forecast as forecast_pipeline
from crmconf.pipeline.gate import forecast_refusal, gated
from crmconf.pipeline.impact import Impact, pipeline_impact
from crmconf.planning import safety, saved
from crmconf.planning.changes import Action, Attested, Plan
from crmconf.planning.planner import kinds_to_read
from crmconf.planning.planner import plan as plan_changes
from crmconf.targets import STATE_VARIABLE, open_target
from crmconf.targets.base import Feature, Target
from crmconf.targets.visibility import Check, with_checks

if TYPE_CHECKING:
    from crmconf.config.edits import SourceFile
    from crmconf.planning.pull import Proposal, Pull
    from crmconf.targets.snapshot import Snapshot

__all__ = [
    "apply",
    "checked_pull",
    "dump_plan",
    "export",
    "forecast",
    "impact",
    "load",
    "load_plan",
    "open_target",
    "plan",
    "pull",
    "saved_plan_target",
    "write_pull",
]


def load(
    path: str | os.PathLike[str],
    *,
    env: str | None = None,
    variables: Mapping[str, str] | None = None,
    vars_file: str | os.PathLike[str] | None = None,
    users: Mapping[str, str] | None = None,
    users_of: str = "the user map",
    rules: RuleSet | None = None,
    rules_of: str = "",
) -> Configuration:
    """Load, validate and merge a configuration file or directory.

    `env` names an environment overlay of a `base/` + `envs/` layout; `${NAME}` values come
    from `variables` (default: the process environment) with `vars_file` (YAML of
    NAME: value) over them. With `users` (alias → user, e.g. a tenant's `users:`), group
    members are aliases replaced by their users (crmconf.config.aliases); `users_of` names
    the map in messages. `rules` (e.g. a tenant's, from crmconf.yaml) are checked too, and
    switch rules off by id (`rules_of` names whose they are in messages); they only add
    problems or drop warnings, never change what is loaded, so the content digest a saved
    plan records is the same with or without them.
    Raises ConfigError with every problem found.
    """
    values: Mapping[str, str] = os.environ if variables is None else variables
    if vars_file is not None:
        from crmconf.config.variables import load_variables

        values = {**values, **load_variables(Path(vars_file))}
    config = load_files(path, env=env, variables=values)
    if vars_file is not None and config.source is not None:
        source = replace(config.source, vars_file=os.path.abspath(vars_file))
        config = replace(config, source=source)
    if users is not None:
        from crmconf.config.aliases import resolve_users

        config = resolve_users(config, users, users_of)
        if config.source is not None:
            mapped = tuple(sorted(users.items()))
            config = replace(config, source=replace(config.source, users=mapped, users_of=users_of))
    if rules is not None:
        config = with_rules(config, rules, rules_of)
    return config


def plan(
    config: Configuration | str | os.PathLike[str],
    target: Target,
    *,
    only: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    allow_mass_change: bool = False,
    max_deletes: int | None = None,
    max_change_fraction: float | None = None,
    require_complete: bool = False,
    refuse_orphans: bool = True,
    allow_forecast_change: bool = False,
    max_forecast_change_percent: float | None = None,
    max_forecast_change_amount: float | None = None,
) -> Plan:
    """The changes that would make the target match the configuration. Never writes.

    Deletes that would orphan customer data or remove a protected item raise
    RefusedPlanError. The other rules are recorded in the plan (`plan.refusals`,
    `plan.applyable`) so that it can still be shown: a plan beyond the mass-change limits
    (the configuration's `safety:`, or `max_deletes` / `max_change_fraction`) is refused by
    `apply` unless `allow_mass_change`; with `require_complete` so is one that leaves
    changes or checks by hand. `only` and `exclude` limit the plan to some kinds and
    items: `KIND` or `KIND:PATTERN` (names as in the configuration, sections such as
    ``sales`` for all their kinds; see crmconf.config.selection). `refuse_orphans=False` is
    for reports
    (drift): such a plan shows what the CRM's data forbids, and is never applied. A plan
    moving the weighted forecast beyond `max_forecast_change_percent` / `_amount` (or the
    configuration's `safety:`), in total or for a sales group, is refused unless
    `allow_forecast_change` (crmconf.pipeline.gate).
    """
    if not isinstance(config, Configuration):
        config = load(config)
    declared = config.content_digest  # of the whole configuration: what a saved plan reloads
    selection = Selection.of(only, exclude)
    if not selection.everything:
        config = config.only(set(selection.kinds()))
    rules = safety.policy(
        config.limits,
        allow_mass_change=allow_mass_change,
        max_deletes=max_deletes,
        max_change_fraction=max_change_fraction,
        require_complete=require_complete,
        refuse_orphans=refuse_orphans,
        allow_forecast_change=allow_forecast_change,
        max_forecast_change_percent=max_forecast_change_percent,
        max_forecast_change_amount=max_forecast_change_amount,
    )
    capabilities = target.capabilities()
    # What the target cannot read is not compared but listed as checks for a person,
    # but for those a person confirmed and whose confirmation still holds.
    visible, found = with_checks(config, capabilities.unreadable(), target.url)
    checks, attested = _confirmed(found, target.resolved_url)
    left_out: dict[str, tuple[str, ...]] = {}
    with paused():
        state = target.read(kinds_to_read(visible))
        read = fingerprint(state)  # of all it read: what an apply finds again
        if not selection.everything:
            selected = select_items(visible, state, selection)
            visible, state, left_out = selected.config, selected.state, selected.left_out
        result = plan_changes(visible, state, capabilities.changes(), policy=rules)
    result = replace(
        result,
        warnings=(*result.warnings, *checks),
        checks=checks,
        attested=attested,
        target_fingerprint=read,
        only=selection.texts[0] if only is not None else None,
        exclude=selection.texts[1] if exclude is not None else None,
        left_out=left_out,
        source=config.source,
        content_digest=declared,
        target=target.resolved_url,
    )
    refusals = safety.refusals(result)
    if gated(rules.limits) and not rules.allow_forecast_change:
        if Feature.PIPELINE in capabilities.features:
            refusal = forecast_refusal(pipeline_impact(result, target.pipeline()), rules.limits)
            refusals = (*refusals, refusal) if refusal is not None else refusals
        else:
            unchecked = Problem(
                f"the forecast limits under 'safety:' are not checked: {target.url} "
                "cannot report its opportunities to crmconf"
            )
            result = replace(result, warnings=(*result.warnings, unchecked))
    return replace(result, refusals=refusals)


def _confirmed(
    checks: tuple[Check, ...], target: str
) -> tuple[tuple[Problem, ...], tuple[Attested, ...]]:
    """The checks still to do, and those a holding confirmation takes away; a check whose
    confirmation no longer holds says why (crmconf.targets.confirmations)."""
    if not checks:
        return (), ()
    from datetime import UTC, datetime

    from crmconf.targets.confirmations import open_store

    latest = open_store().latest(target)
    today = datetime.now(UTC).date()
    left: list[Problem] = []
    attested: list[Attested] = []
    for check in checks:
        found = latest.get((check.kind, check.field))
        if found is None:
            left.append(check.problem)
        elif found.digest != check.digest:
            note = f"changed since confirmed by {found.by} on {found.day}"
            left.append(replace(check.problem, message=f"{check.problem.message}\n    ({note})"))
        elif found.expired(today):
            note = f"confirmed by {found.by} on {found.day}; expired on {found.expires}"
            left.append(replace(check.problem, message=f"{check.problem.message}\n    ({note})"))
        else:
            attested.append(Attested(check.kind, check.field, found.by, found.at, found.expires))
    return tuple(left), tuple(attested)


def apply(plan: Plan, target: Target) -> None:
    """Carry out a plan on the target: all or nothing on SQL targets.

    Refused (nothing is written) when the plan's policy forbids it — UnsafePlanError
    beyond the mass-change limits, RefusedPlanError for the rest — and StalePlanError when
    the target changed since the plan was made, checked inside the apply's own write.
    With $CRMCONF_STATE set, a target keeping no history of its own (24SevenOffice) is
    applied under that state backend's lock and the apply recorded in its history.
    """
    safety.raise_if_unapplyable(plan)
    if plan.empty:
        return
    limits = plan.policy.limits
    checkable = Feature.PIPELINE in target.capabilities().features
    if gated(limits) and not plan.policy.allow_forecast_change and checkable:
        # As the pipeline is now, not as it was when the plan was made.
        refusal = forecast_refusal(pipeline_impact(plan, target.pipeline()), limits)
        if refusal is not None:
            raise refusal.error()
    if Feature.HISTORY in target.capabilities().features or not os.environ.get(STATE_VARIABLE):
        target.apply(plan)
        return
    from crmconf.targets.state_backend import coordinated  # loads SQLAlchemy only when asked

    with coordinated(target, plan):
        target.apply(plan)


def dump_plan(plan: Plan) -> str:
    """The plan as a saved-plan file (JSON) for a later `load_plan`; it holds no secret."""
    return saved.dump(plan)


def saved_plan_target(path: str | os.PathLike[str]) -> str:
    """The target a saved plan was made for (printable: a password is not in it)."""
    return saved.read(Path(path)).target


def load_plan(
    path: str | os.PathLike[str],
    target: Target,
    *,
    allow_mass_change: bool = False,
    require_complete: bool = False,
    allow_forecast_change: bool = False,
) -> Plan:
    """The plan a saved-plan file commits to, made again against the target as it is now.

    The configuration it records is loaded again (its digest must match: else
    StalePlanError), planned against `target` under the recorded policy (the target's
    fingerprint must match: else StalePlanError), and that plan is returned only if its
    changes are exactly those saved (else AlteredPlanError). `target` must be the one the
    plan was made for. `allow_mass_change` and `require_complete` add to the policy
    recorded in the file; nothing can lift what it recorded.
    """
    commitment = saved.read(Path(path))
    if target.resolved_url != commitment.target:
        raise TargetError(
            f"{path} was planned for {commitment.target}, not {target.resolved_url}; plan again"
        )
    config = commitment.configuration(load)
    again = plan(
        config,
        target,
        only=commitment.only,
        exclude=commitment.exclude,
        allow_mass_change=commitment.policy.allow_mass_change or allow_mass_change,
        max_deletes=commitment.policy.limits.max_deletes,
        max_change_fraction=commitment.policy.limits.max_change_fraction,
        require_complete=commitment.policy.require_complete or require_complete,
        allow_forecast_change=commitment.policy.allow_forecast_change or allow_forecast_change,
        max_forecast_change_percent=commitment.policy.limits.max_forecast_change_percent,
        max_forecast_change_amount=commitment.policy.limits.max_forecast_change_amount,
    )
    commitment.refuse_unless_same(again)
    return again


def export(target: Target) -> str:
    """The target's settings as a configuration file that plans to no changes."""
    return export_text(target.read(ALL_KINDS), target.url)


@dataclass(frozen=True)
class PullPlan:
    """What `pull` found: the proposals, and what it needs to write the accepted ones."""

    found: Pull
    plan: Plan
    """The plan read the other way round."""
    config: Configuration
    snapshot: Snapshot
    """The target as it was read: the files are checked against this very state."""
    only: tuple[str, ...] | None
    exclude: tuple[str, ...] | None

    @property
    def proposals(self) -> tuple[Proposal, ...]:
        return self.found.proposals


def pull(
    config: Configuration,
    target: Target,
    *,
    only: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
) -> PullPlan:
    """What would make the configuration's files say what the target holds, as proposals
    (crmconf.planning.pull). Reads the target once; never writes anything."""
    from crmconf.planning.pull import proposals
    from crmconf.targets.snapshot import Snapshot

    snapshot = Snapshot(target)
    only = None if only is None else tuple(only)
    exclude = None if exclude is None else tuple(exclude)
    selection = Selection.of(only, exclude)
    _refuse_unreadable(config, target, selection)
    if not selection.everything:
        # Planned with the patterns once, for their errors (a typo selects nothing); the
        # proposals come from whole kinds, so that a rename's two names meet.
        _pull_plan(config, snapshot, only, exclude)
    kinds = None if selection.everything else sorted(selection.kinds())
    found = _pull_plan(config, snapshot, kinds, None)
    assert snapshot.state is not None
    files = _source_files(config)
    applied = snapshot.applied_names(KINDS_BY_NAME[name] for name in found.kinds_read)
    pulled = proposals(found, snapshot.state, config, applied, files)
    if not selection.everything:
        pulled = pulled.selected(selection, config, snapshot.state)
    return PullPlan(pulled, found, config, snapshot, only, exclude)


def _refuse_unreadable(config: Configuration, target: Target, selection: Selection) -> None:
    """A pull from a target that can read none of what the configuration manages has
    nothing to bring back: an error, before anything is read."""
    from crmconf.errors import ConfigError, Location

    chosen = selection.kinds()
    managed = [kind for kind in ALL_KINDS if config.manages(kind) and kind.name in chosen]
    unreadable = target.capabilities().unreadable().kinds
    if not managed or any(kind.name not in unreadable for kind in managed):
        return
    where = Location(config.files[0]) if config.files else None
    names = ", ".join(kind.name for kind in managed)
    raise ConfigError(
        [
            Problem(
                f"{target.url} cannot read any of what the configuration manages ({names}): "
                "there is nothing to pull from it",
                where,
                "change these in the file by hand; 'crmconf confirm' records that you "
                "checked them in the CRM",
            )
        ]
    )


def _pull_plan(
    config: Configuration,
    target: Target,
    only: Iterable[str] | None,
    exclude: Iterable[str] | None,
) -> Plan:
    """A drift report's plan: the differences, not what apply would allow."""
    return plan(
        config,
        target,
        only=only,
        exclude=exclude,
        refuse_orphans=False,
        allow_mass_change=True,
        allow_forecast_change=True,
    )


def write_pull(pulled: PullPlan, accepted: Iterable[Proposal]) -> list[Path]:
    """Write the accepted proposals into the configuration's files; the files changed.

    The edited files are loaded first, from a copy, and planned against the state pull
    read: every accepted difference must be gone and nothing else may have changed, or
    nothing is written (ConfigError or CrmconfError). Each file is replaced whole.
    """
    texts = checked_pull(pulled, accepted)
    for path, (_before, after) in texts.items():
        replace_file(path, after)
    return list(texts)


def checked_pull(pulled: PullPlan, accepted: Iterable[Proposal]) -> dict[Path, tuple[str, str]]:
    """Each file the accepted proposals change, its text now and after, once the files
    after were loaded and planned as `write_pull` does; writes nothing (`--dry-run`)."""
    accepted = list(accepted)
    if not accepted:
        return {}
    chosen = {proposal.key for proposal in accepted}
    missing = [
        f"{proposal.label} goes with {', '.join(proposal.goes_with)}"
        for proposal in accepted
        if not set(proposal.requires) <= chosen
    ]
    if missing:
        raise CrmconfError(
            f"{'; '.join(missing)}: one names the other, so the files would not load with only "
            "one of them. Accept both, or neither; no file was changed"
        )
    texts = pulled_texts(pulled, accepted)
    _check_pulled(pulled, accepted, {path: after for path, (_before, after) in texts.items()})
    return texts


def pulled_texts(pulled: PullPlan, accepted: Iterable[Proposal]) -> dict[Path, tuple[str, str]]:
    """Each file the accepted proposals change: its text now, and after. Writes nothing."""
    from crmconf.planning.pull import write

    assert pulled.snapshot.state is not None
    files = _source_files(pulled.config)
    before = {file.path: file.text for file in files}
    texts = write(list(accepted), files, pulled.snapshot.state)
    return {path: (before[path], text) for path, text in texts.items()}


def _source_files(config: Configuration) -> list[SourceFile]:
    from crmconf.config.edits import SourceFile

    variables = _variables(config)
    return [SourceFile.read(Path(file), variables) for file in config.files]


def _variables(config: Configuration) -> Mapping[str, str]:
    values: Mapping[str, str] = os.environ
    if config.source is not None and config.source.vars_file is not None:
        from crmconf.config.variables import load_variables

        values = {**values, **load_variables(Path(config.source.vars_file))}
    return values


def _selected_kinds(pulled: PullPlan) -> list[str] | None:
    """The kinds --only / --exclude leave to a pull, without their patterns."""
    selection = Selection.of(pulled.only, pulled.exclude)
    return None if selection.everything else sorted(selection.kinds())


def _check_pulled(pulled: PullPlan, accepted: list[Proposal], texts: Mapping[Path, str]) -> None:
    """Load the edited files from a copy and plan them against the state that was read."""
    import shutil
    import tempfile

    from crmconf.errors import ConfigError, CrmconfError

    source = pulled.config.source
    assert source is not None
    root = Path(source.path)
    covered = {key for proposal in accepted for key in proposal.covers}
    with tempfile.TemporaryDirectory(prefix="crmconf-pull-") as folder:
        copy = Path(folder) / root.name
        if root.is_dir():
            shutil.copytree(root, copy, symlinks=True)
        for listed in pulled.config.files:
            path = Path(listed)
            inside = (
                copy / os.path.relpath(os.path.abspath(path), os.path.abspath(root))
                if root.is_dir()
                else copy
            )
            # A file read through a link becomes the file in the copy: the link, copied,
            # would lead out of it (to the unedited file).
            if path in texts or inside.is_symlink():
                data = texts[path].encode("utf-8") if path in texts else path.read_bytes()
                inside.unlink(missing_ok=True)
                inside.write_bytes(data)
        users = dict(source.users) if source.users is not None else None
        try:
            edited = load(
                copy,
                env=source.env,
                variables=_variables(pulled.config),
                users=users,
                users_of=source.users_of,
            )
        except ConfigError as error:
            raise CrmconfError(
                "crmconf pull would write files that do not load, so it wrote nothing. This "
                f"is a bug in crmconf: please report it. What the loader said:\n{error}"
            ) from None
        # Whole kinds: a pattern may match nothing once its item is pulled (taken out).
        kinds = _selected_kinds(pulled)
        after = _pull_plan(edited, pulled.snapshot, kinds, None)
        reference = _pull_plan(pulled.config, pulled.snapshot, kinds, None)
    from crmconf.model.names import identity

    leftover = pulled.found.leftover

    def ordering(kind: str) -> frozenset[str]:
        # Which items a plan calls moved in a reordered list depends on the others.
        return leftover.get((kind, ""), frozenset())

    before = {
        (change.kind, identity(change.name)): (
            change.action,
            frozenset(change.changed) - ordering(change.kind),
        )
        for change in reference.changes
    }
    rewritten: dict[tuple[str, str], frozenset[str]] = {}  # by the accepted renames
    handed: dict[tuple[str, str], frozenset[str]] = {}  # by those left
    for proposal in pulled.proposals:
        into = rewritten if proposal in accepted else handed
        for key, fields in proposal.rewrites.items():
            into[key] = into.get(key, frozenset()) | fields
    wrong = []
    for change in after.changes:
        key = (change.kind, identity(change.name))
        changed = frozenset(change.changed) - ordering(change.kind)
        # Left alone, and said: a parent, the order of a list; `protect` is never pulled.
        tolerated = leftover.get(key, frozenset()) | {"protect"}
        if key in covered:
            tolerated |= handed.get(key, frozenset())  # a reference goes with its rename
        if change.action is Action.UPDATE and changed <= tolerated:
            continue
        if key not in covered and key in before:
            action, was = before[key]
            # An item whose reference to a renamed one was rewritten differs by less.
            if (
                action is change.action
                and changed <= was
                and was - changed <= rewritten.get(key, frozenset())
            ):
                continue
        shown = f": {', '.join(change.changed)}" if change.changed else ""
        wrong.append(f"{change.kind} {change.name!r} ({change.action}{shown})")
    if wrong:
        raise CrmconfError(
            "crmconf pull would write files that still differ from the target, so it wrote "
            f"nothing: {', '.join(wrong)}. This is a bug in crmconf: please report it"
        )


def forecast(target: Target, by: Breakdown | str = Breakdown.STAGE) -> Forecast:
    """The weighted pipeline of the target's open opportunities, by stage, salesperson or
    sales group. Never writes."""
    target.capabilities().require(Feature.PIPELINE, target.url)
    return forecast_pipeline(target.pipeline(), Breakdown(by))


def impact(plan: Plan, target: Target) -> Impact | None:
    """How applying the plan would change the weighted pipeline; None where the target
    cannot report its opportunities. Never writes."""
    if Feature.PIPELINE not in target.capabilities().features:
        return None
    return pipeline_impact(plan, target.pipeline())
