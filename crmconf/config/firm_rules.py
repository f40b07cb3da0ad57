"""The firm's own rules: declarative checks a configuration must pass, from a small vocabulary.

A `rules:` section (in a configuration file, or in `crmconf.yaml` for every tenant) lists
checks, each with an id, a message and a severity; `disable:` switches rules off by id, the
built-in lint warnings (`builtin.*`) included. A violated rule of severity error refuses the
configuration; one of severity warning is a lint warning (`--strict` makes it an error).
Rules only add problems: they never change what is loaded, so a configuration's content
digest (and a saved plan's) is the same with or without them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

import regex
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from crmconf.config.yaml_source import SourceDocument
from crmconf.errors import ConfigError, Location, Problem
from crmconf.kinds import KINDS_BY_NAME
from crmconf.model.configuration import Configuration
from crmconf.model.kind import Kind, Record
from crmconf.model.names import BIDI_CONTROLS, Name, identity, whole_number

BUILTIN_RULES = (
    "builtin.won-probability",  # a won stage has probability 100
    "builtin.lost-probability",  # a lost stage has probability 0
    "builtin.lost-reason",  # a lost stage names a rejection reason
    "builtin.open-order",  # open stages' probabilities grow along the pipeline
    "builtin.open-stage",  # the pipeline has an open stage
)
"""The ids of the lint warnings crmconf checks itself (crmconf.kinds.stages.lint_stages)."""

RuleId = Annotated[str, Field(strict=True, pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=100)]
_Strict = ConfigDict(frozen=True, extra="forbid")

PATTERN_SECONDS = 2.0
"""How long one `pattern` rule may take over all its items. Patterns are matched by the
`regex` module (the syntax of Python's `re`), whose matching can be stopped: `re`
backtracks for ever through a pattern like (a|aa)+ on a near miss, hanging validate."""


class Require(BaseModel):
    """These items exist in the kind."""

    model_config = _Strict
    kind: str
    items: tuple[Name, ...] = Field(min_length=1)


class RequireStage(BaseModel):
    """A sales stage of this status exists (optionally one naming a rejection reason)."""

    model_config = _Strict
    status: Literal["open", "open_won", "closed_won", "closed_lost"]
    with_rejection_reason: StrictBool = False


class Range(BaseModel):
    """Every item's numeric field is within min..max, except items whose fields hold one of
    the values `unless` lists."""

    model_config = _Strict
    kind: str
    field: str
    min: Annotated[float, Field(allow_inf_nan=False)] | None = None
    max: Annotated[float, Field(allow_inf_nan=False)] | None = None
    unless: dict[str, tuple[Any, ...]] = Field(default_factory=dict)


class Pattern(BaseModel):
    """Every item's name (or `field`) matches the regular expression as a whole (Python `re`)."""

    model_config = _Strict
    kind: str
    regex: str
    field: str | None = None

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            regex.compile(value)
        except regex.error as error:
            raise ValueError(f"invalid regular expression: {error}") from None
        return value


class Members(BaseModel):
    """The group has at least this many members."""

    model_config = _Strict
    group: Name
    at_least: whole_number(0)  # type: ignore[valid-type]


_CHECKS = ("require", "require_stage", "range", "pattern", "members")


_BREAKS_THE_LINE = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029{BIDI_CONTROLS}]")


def _one_line(message: str) -> str:
    """A rule's message is printed in every error it raises: a line break there would
    print a line of its own (`error: …`), an escape sequence would reach the terminal."""
    found = _BREAKS_THE_LINE.search(message)
    if found:
        raise PydanticCustomError(
            "message_breaks_the_line",
            f"the message holds U+{ord(found.group()):04X}, which would break or reorder the "
            "line it is printed on",
            {"hint": "write the message as one line of text, without control characters"},
        )
    return message


class Rule(BaseModel):
    """One of the firm's rules: an id, a message, a severity and exactly one check."""

    model_config = _Strict
    id: RuleId
    message: Annotated[str, Field(strict=True, min_length=1), AfterValidator(_one_line)]
    severity: Literal["error", "warning"] = "error"
    require: Require | None = None
    require_stage: RequireStage | None = None
    range: Range | None = None
    pattern: Pattern | None = None
    members: Members | None = None

    @model_validator(mode="after")
    def _one_check(self) -> Rule:
        given = [name for name in _CHECKS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a rule has exactly one check ({', '.join(_CHECKS)}); this one has "
                + (", ".join(given) if given else "none")
            )
        return self


class RulesSection(BaseModel):
    """The firm's own rules (`check:`) and the ids of rules switched off (`disable:`)."""

    model_config = _Strict
    check: tuple[Rule, ...] = ()
    disable: tuple[RuleId, ...] = ()


@dataclass(frozen=True)
class LocatedRule:
    rule: Rule
    location: Location


@dataclass(frozen=True)
class RuleSet:
    """Rules with where each was written, and the ids switched off with where that was said."""

    rules: tuple[LocatedRule, ...] = ()
    off: tuple[tuple[str, Location | None], ...] = ()

    def __add__(self, other: RuleSet) -> RuleSet:
        return RuleSet(self.rules + other.rules, self.off + other.off)


def rule_set(
    section: RulesSection | None, source: SourceDocument, prefix: tuple[str | int, ...]
) -> RuleSet:
    """A `rules:` section (at `prefix` in `source`) with where each entry is written."""
    if section is None:
        return RuleSet()
    return RuleSet(
        tuple(
            LocatedRule(rule, source.location((*prefix, "check", i)))
            for i, rule in enumerate(section.check)
        ),
        tuple(
            (rule_id, source.location((*prefix, "disable", i)))
            for i, rule_id in enumerate(section.disable)
        ),
    )


def evaluate(
    rules: RuleSet,
    sections: Mapping[str, tuple[Record, ...]],
    lint: Sequence[Problem],
    switched_off_by: str = "",
    defined: Collection[str] = (),
) -> list[Problem]:
    """The warnings of `rules` and the built-in `lint`, less those switched off; raise
    ConfigError for an error rule violated, a rule that cannot be evaluated, a rule id given
    twice or an unknown id switched off (`switched_off_by` names who switched it off).
    `lint` holds warnings already found, each with its rule's id; `defined` the ids of rules
    evaluated before (a configuration's own, when the project's are added)."""
    problems: list[Problem] = []
    seen: dict[str, Location] = {}
    known = (*BUILTIN_RULES, *defined)
    for located in rules.rules:
        rule_id = located.rule.id
        if rule_id in seen or rule_id in known:
            also = (
                f"; also at {seen[rule_id]}"
                if rule_id in seen
                else " (a built-in rule, or the configuration's)"
            )
            problems.append(
                Problem(
                    f"rule id {rule_id!r} is given twice{also}",
                    located.location,
                    "give each rule its own id",
                )
            )
        seen.setdefault(rule_id, located.location)
    off = {rule_id for rule_id, _ in rules.off}
    for rule_id, where in rules.off:
        if rule_id not in seen and rule_id not in known:
            who = f"{switched_off_by}: " if switched_off_by else ""
            problems.append(
                Problem(
                    f"{who}rules.disable names rule {rule_id!r}, which is not defined",
                    where,
                    "known rules: " + ", ".join([*known, *seen]),
                )
            )
    warnings = [problem for problem in lint if problem.rule not in off]
    for located in rules.rules:
        if located.rule.id in off:
            continue
        try:
            violations = _violations(located, sections)
        except _Unevaluable as error:
            problems.append(
                Problem(
                    f"rule {located.rule.id!r} cannot be evaluated: {error.what}",
                    located.location,
                    error.hint,
                )
            )
            continue
        if located.rule.severity == "error":
            problems.extend(violations)
        else:
            warnings.extend(violations)
    if problems:
        raise ConfigError(problems)
    return warnings


class _Unevaluable(Exception):
    def __init__(self, what: str, hint: str) -> None:
        self.what, self.hint = what, hint


def _violations(located: LocatedRule, sections: Mapping[str, tuple[Record, ...]]) -> list[Problem]:
    rule = located.rule
    hint = f"rule {rule.id}"

    def at(record: Record | None, detail: str) -> Problem:
        where = record.location if record is not None and record.location else located.location
        return Problem(f"{rule.message} ({detail})", where, hint, rule.id)

    if rule.require is not None:
        records = _records(rule.require.kind, sections)
        keys = {record.key for record in records}
        missing = [name for name in rule.require.items if identity(name) not in keys]
        return [at(None, f"{rule.require.kind} has no {name!r}") for name in missing]
    if rule.require_stage is not None:
        check = rule.require_stage
        stages = _records("sales.stages", sections)
        if any(
            stage.fields["status"] == check.status
            and (not check.with_rejection_reason or stage.fields["rejection_reason"] is not None)
            for stage in stages
        ):
            return []
        reason = " naming a rejection reason" if check.with_rejection_reason else ""
        return [at(None, f"no {check.status} stage{reason}")]
    if rule.range is not None:
        bounds = rule.range
        kind = _kind(bounds.kind)
        for name in (bounds.field, *bounds.unless):
            _field_of(kind, name)
        found = []
        for record in _records(bounds.kind, sections):
            if any(_value(record, name) in values for name, values in bounds.unless.items()):
                continue
            value = _value(record, bounds.field)
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise _Unevaluable(
                    f"{bounds.kind} field {bounds.field!r} is not a number",
                    "a range checks a numeric field",
                )
            if (bounds.min is not None and value < bounds.min) or (
                bounds.max is not None and value > bounds.max
            ):
                found.append(
                    at(record, f"{kind.singular} {record.name!r} has {bounds.field} {value}")
                )
        return found
    if rule.pattern is not None:
        pattern = rule.pattern
        kind = _kind(pattern.kind)
        field_name = pattern.field or "name"
        _field_of(kind, field_name)
        compiled = regex.compile(pattern.regex)
        deadline = time.monotonic() + PATTERN_SECONDS
        found = []
        for record in _records(pattern.kind, sections):
            value = _value(record, field_name)
            if value is None:
                continue
            try:
                matched = compiled.fullmatch(
                    str(value), timeout=max(deadline - time.monotonic(), 0.001)
                )
            except TimeoutError:
                raise _Unevaluable(
                    f"its regular expression takes too long to match {kind.plural} "
                    f"(more than {PATTERN_SECONDS:g} s, at {record.name!r})",
                    "a repetition inside a repetition, such as (a|aa)+ or (a+)+, can take "
                    "for ever on a near miss: write the pattern without one",
                ) from None
            if not matched:
                found.append(
                    at(
                        record,
                        f"{kind.singular} {record.name!r}: {value!r} does not match "
                        f"{pattern.regex!r}",
                    )
                )
        return found
    assert rule.members is not None  # a rule has exactly one check
    groups = {record.key: record for record in _records("groups", sections)}
    group = groups.get(identity(rule.members.group))
    if group is None:
        raise _Unevaluable(
            f"groups has no {rule.members.group!r}", "name a group of the configuration"
        )
    count = len(group.fields["members"])
    if count < rule.members.at_least:
        return [at(group, f"group {group.name!r} has {count} member(s)")]
    return []


def _kind(name: str) -> Kind:
    kind = KINDS_BY_NAME.get(name)
    if kind is None or kind.item_model is None:
        lists = [kind.name for kind in KINDS_BY_NAME.values() if kind.item_model is not None]
        raise _Unevaluable(f"unknown kind {name!r}", "kinds: " + ", ".join(lists))
    return kind


def _records(name: str, sections: Mapping[str, tuple[Record, ...]]) -> tuple[Record, ...]:
    _kind(name)
    if name not in sections:
        raise _Unevaluable(
            f"{name} is not managed by this configuration",
            f"add the {name} section, or switch the rule off",
        )
    return sections[name]


def _field_of(kind: Kind, name: str) -> None:
    assert kind.item_model is not None
    fields = [
        field
        for field in kind.item_model.model_fields
        if field not in ("children", "renamed_from", "protect")
    ]
    if name != "name" and name not in fields:
        raise _Unevaluable(f"{kind.name} has no field {name!r}", "fields: " + ", ".join(fields))


def _value(record: Record, name: str) -> Any:
    return record.name if name in ("name", "title") else record.fields.get(name)


def with_rules(config: Configuration, rules: RuleSet, switched_off_by: str) -> Configuration:
    """`config` checked against more rules (the project's) and with more ids switched off (the
    project's and the tenant's): only its warnings change; ConfigError for what `evaluate`
    refuses."""
    warnings = evaluate(rules, config.sections, config.warnings, switched_off_by, config.rules)
    return replace(config, warnings=tuple(warnings))
