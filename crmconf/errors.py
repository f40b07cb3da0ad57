"""Errors a user can cause, each with a message that says where, what and how to fix it.

The CLI prints these without a traceback and exits with status 1; anything else
escaping is a bug in crmconf.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in a configuration file; line and column are 1-based. Without them (0), the
    file or directory as a whole: a missing file has no line 1 to point at."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file


class CrmconfError(Exception):
    """Base of every error crmconf reports to a user."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration."""

    message: str
    location: Location | None = None
    hint: str | None = None
    rule: str | None = None
    """The id of the rule a warning or violation comes from (crmconf.config.firm_rules)."""

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        hint = f"\n  hint: {self.hint}" if self.hint else ""
        return f"{where}{self.message}{hint}"


class ConfigError(CrmconfError):
    """The configuration cannot be loaded or is invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class TargetError(CrmconfError):
    """The target cannot be reached, opened or written."""


class PlanError(CrmconfError):
    """The plan cannot be carried out as asked; one of the kinds below says why."""


class UnsafePlanError(PlanError):
    """The plan changes more at once than the mass-change limits allow: the one refusal that
    `allow_mass_change` (--allow-mass-change) overrides, after a person has reviewed it."""


class ForecastChangeError(PlanError):
    """The plan moves the weighted sales forecast further than its limits allow: the one
    refusal `allow_forecast_change` (--allow-forecast-change) overrides."""


class RefusedPlanError(PlanError):
    """The plan may never be applied as it is: it would orphan customer data or delete a
    protected item, it leaves steps by hand under `require_complete`, it was computed only
    to be shown, or the target cannot carry out one of its changes. No flag overrides it."""


class StalePlanError(PlanError):
    """The target or the configuration changed since the plan was made: plan again."""


class AlteredPlanError(PlanError):
    """A saved plan file is not what `crmconf plan -o` wrote: damaged or edited by hand."""


class HistoryError(CrmconfError):
    """A history entry cannot be shown or rolled back as asked."""
