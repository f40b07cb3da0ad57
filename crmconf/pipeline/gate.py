"""A gate on business impact: a plan may move the weighted forecast only so far.

Thresholds of the mass-change guard count items; this one weighs what the items do to
the sales pipeline. Under `safety:` (or by flag) a plan may move the weighted forecast
at most `max_forecast_change_percent` % of its value before and at most
`max_forecast_change_amount`, in total and for every sales group; beyond either, it is
refused unless `allow_forecast_change`, and the refusal shows the change per sales
group and per salesperson. crmconf.api checks it when planning, and again, against the
pipeline as it is then, before applying.
"""

from __future__ import annotations

from decimal import Decimal

from crmconf.model.configuration import Limits
from crmconf.pipeline.impact import Impact, Shift
from crmconf.pipeline.render import signed
from crmconf.planning.changes import Refusal, RefusalReason

_HINT = (
    "review it, then pass --allow-forecast-change (allow_forecast_change=True from Python), "
    "or raise max_forecast_change_percent / max_forecast_change_amount under 'safety:' "
    "(or the --max-forecast-change-* flags)"
)


def gated(limits: Limits) -> bool:
    """Whether the limits put a gate on the forecast at all."""
    return limits.max_forecast_change_percent is not None or (
        limits.max_forecast_change_amount is not None
    )


def forecast_refusal(impact: Impact, limits: Limits) -> Refusal | None:
    """Why the forecast moves too far, if it does."""
    reasons = [
        reason
        for shift, label in (
            (impact.total, "total"),
            *((group, _group(group)) for group in impact.groups),
        )
        if (reason := _beyond(shift, label, limits)) is not None
    ]
    if not reasons:
        return None
    lines = ["refusing a plan that moves the weighted forecast this far:"]
    lines += [f"  - {reason}" for reason in reasons]
    if impact.salespeople:
        lines.append("  by salesperson:")
        lines += [
            f"    {shift.label}: {shift.before:.2f} → {shift.after:.2f} ({signed(shift.delta)})"
            for shift in impact.salespeople
        ]
    lines.append(_HINT)
    return Refusal(RefusalReason.FORECAST, "\n".join(lines))


def _group(shift: Shift) -> str:
    return f"sales group {shift.label}" if shift.label else "owners in no sales group"


def _beyond(shift: Shift, label: str, limits: Limits) -> str | None:
    delta = abs(shift.delta)
    if delta == 0:
        return None
    share = delta / shift.before * 100 if shift.before else None
    over = []
    percent = limits.max_forecast_change_percent
    amount = limits.max_forecast_change_amount
    if percent is not None and (share is None or share > Decimal(str(percent))):
        over.append(f"limit {percent:g} %")
    if amount is not None and delta > Decimal(str(amount)):
        over.append(f"limit {amount:g}")
    if not over:
        return None
    moved = f"{share:.1f} %" if share is not None else "from nothing"
    return (
        f"{label}: {shift.before:.2f} → {shift.after:.2f} ({signed(shift.delta)}, {moved}; "
        + ", ".join(over)
        + ")"
    )
