"""A gate on business impact: a plan may move the weighted forecast only so far."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import Result

import crmconf
from crmconf.errors import ForecastChangeError
from crmconf.kinds import STAGES

Cli = Callable[..., Result]
WriteConfig = Callable[..., Path]

# Drops the first stage into the second, which also becomes likelier: +526600.00 in total
# (11.4 %), +425750.00 for Försäljning (anna's), on the demo company.
PIPELINE = """\
crmconf: 1
{safety}sales:
  stages:
    - {{title: Steg 2 Första besök, probability: 40, status: open}}
    - {{title: Steg 3 Andra besök, probability: 50, status: open}}
    - {{title: Steg 4 Uppföljningssamtal, probability: 100, status: open_won}}
removed:
  sales:
    stages: [{{title: Steg 1 Telefonsamtal, move_opportunities_to: Steg 2 Första besök}}]
"""


def _stages(url: str) -> list[str]:
    with crmconf.open_target(url) as target:
        return [item.name for item in target.read([STAGES]).of(STAGES)]


def test_a_plan_moving_the_forecast_beyond_the_limit_is_refused_with_who_it_moves(
    cli: Cli, demo_url: str, write_config: WriteConfig
) -> None:
    config = write_config(PIPELINE.format(safety="safety: {max_forecast_change_percent: 10}\n"))

    planned = cli("plan", config, "--target", demo_url)
    applied = cli("apply", config, "--target", demo_url, "--yes")

    for result in (planned, applied):
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(
            "error: refusing a plan that moves the weighted forecast this far:\n"
            "  - total: 4632900.00 → 5159500.00 (+526600.00, 11.4 %; limit 10 %)\n"
            "  - sales group Försäljning: 255450.00 → 681200.00 (+425750.00, 166.7 %; "
            "limit 10 %)\n"
            "  by salesperson:\n"
            "    anna@example.com: 255450.00 → 681200.00 (+425750.00)\n"
            "    erik@example.com: 705950.00 → 806800.00 (+100850.00)\n"
        ), result.stderr
    assert "Steg 1 Telefonsamtal" in _stages(demo_url)
    allowed = cli("apply", config, "--target", demo_url, "--yes", "--allow-forecast-change")
    assert allowed.exit_code == 0, allowed.output
    assert "Steg 1 Telefonsamtal" not in _stages(demo_url)


def test_the_limits_come_from_flags_too_and_an_amount_counts(
    cli: Cli, demo_url: str, write_config: WriteConfig
) -> None:
    config = write_config(PIPELINE.format(safety=""))

    unlimited = cli("plan", config, "--target", demo_url)
    by_amount = cli("plan", config, "--target", demo_url, "--max-forecast-change-amount", "500000")
    generous = cli("plan", config, "--target", demo_url, "--max-forecast-change-percent", "200",
                   "--max-forecast-change-amount", "1000000")  # fmt: skip

    assert unlimited.exit_code == 0, unlimited.output
    assert by_amount.exit_code == 1
    assert "total: 4632900.00 → 5159500.00 (+526600.00, 11.4 %; limit 500000)" in by_amount.stderr
    assert "sales group Försäljning" not in by_amount.stderr  # +425750.00 is within
    assert generous.exit_code == 0, generous.output


def test_the_library_enforces_the_gate_from_the_plans_own_data(
    demo_url: str, write_config: WriteConfig
) -> None:
    config = crmconf.load(write_config(PIPELINE.format(safety="")))
    with crmconf.open_target(demo_url) as target:
        plan = crmconf.plan(config, target, max_forecast_change_percent=10)
        assert not plan.applyable
        with pytest.raises(ForecastChangeError, match="moves the weighted forecast"):
            crmconf.apply(replace(plan, refusals=()), target)
    assert "Steg 1 Telefonsamtal" in _stages(demo_url)


def test_a_target_without_a_pipeline_says_the_gate_is_not_checked(
    write_config: WriteConfig,
) -> None:
    from crmconf.targets.twentyfour.target import TwentyFourTarget
    from crmconf.testing import FakeTwentyFour

    config = crmconf.load(
        write_config(
            "crmconf: 1\nsafety: {max_forecast_change_amount: 0}\n"
            "categories: [{name: Partner, show_on: both}]\n"
        )
    )
    with FakeTwentyFour() as fake, TwentyFourTarget.open("24so://", fake.env()) as target:
        plan = crmconf.plan(config, target)

    assert any("forecast limits under 'safety:' are not checked" in str(w) for w in plan.warnings)


@pytest.mark.parametrize("flag", ["--max-forecast-change-percent", "--max-forecast-change-amount"])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_forecast_limit_that_is_not_a_finite_number_is_a_usage_error(
    cli: Cli, demo_url: str, write_config: WriteConfig, flag: str, value: str
) -> None:
    # nan crashed the gate (Decimal comparison with NaN) with a traceback; inf reached
    # the saved plan as `Infinity`, which is not JSON.
    config = write_config(PIPELINE.format(safety=""))

    result = cli("plan", config, "--target", demo_url, flag, value)

    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert flag in result.output and "finite" in result.output


@pytest.mark.parametrize("value", [".nan", ".inf"])
def test_a_forecast_limit_in_the_configuration_must_be_a_finite_number(
    cli: Cli, write_config: WriteConfig, value: str
) -> None:
    config = write_config(
        PIPELINE.format(safety=f"safety: {{max_forecast_change_amount: {value}}}\n")
    )

    result = cli("validate", config)

    assert result.exit_code == 1, result.output
    assert "safety.max_forecast_change_amount" in result.output
    assert "finite" in result.output
