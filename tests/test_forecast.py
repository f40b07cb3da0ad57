"""The weighted pipeline (`crmconf forecast`) and a plan's impact on it (`crmconf plan`).

Expected numbers come from SQL written here by hand against the demo sandbox, never
from crmconf's own queries.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from crmconf.pipeline.forecast import (
    Breakdown,
    GroupNode,
    Pipeline,
    PipelineRow,
    PipelineStage,
    forecast,
    sales_groups_by_member,
    sales_groups_in_order,
)
from crmconf.pipeline.impact import pipeline_impact
from crmconf.pipeline.report import render_forecast_text
from crmconf.planning.changes import Action, Change, Plan
from tests import postgres

Cli = Callable[..., Result]
Write = Callable[..., Path]

OPEN = "s.status IN ('open', 'open_won')"
STAGES = """\
crmconf: 1
sales:
  stages:
    - {title: Steg 1 Telefonsamtal, probability: 15, status: open}
    - {title: Steg 2 Första besök, probability: 35, status: open}
    - {title: Steg 3 Andra besök, probability: %(steg3)s, status: open}
    - {title: Steg 4 Uppföljningssamtal, probability: 100, status: %(steg4)s}
"""


def _sql(url: str, query: str, *parameters: Any) -> list[tuple[Any, ...]]:
    if url.startswith("postgresql"):
        return postgres.rows(url, query, *parameters)
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
        rows = connection.execute(query, parameters).fetchall()
        connection.commit()
        return rows


def _money(value: Any) -> str:
    """A sum from SQLite as crmconf prints it (the demo's amounts are whole kronor)."""
    return f"{Decimal(str(value or 0)):.2f}"


def _weighted(percent_sum: Any) -> str:
    """Σ amount × probability from SQLite, divided by 100 exactly."""
    return f"{Decimal(str(percent_sum or 0)) / 100:.2f}"


def _forecast(cli: Cli, url: str, by: str) -> dict[str, Any]:
    result = cli("forecast", "--target", url, "--by", by, "--format", "json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.output)
    return document


def _close_a_stage_with_a_big_deal(url: str) -> None:
    """A won, closed stage holding an opportunity: the forecast must leave it out."""
    _sql(
        url,
        "INSERT INTO stages (title, probability, status, position) "
        "VALUES ('Steg 5 Vunnen', 100, 'closed_won', 5)",
    )
    _sql(
        url,
        "INSERT INTO opportunities (title, customer_id, owner_id, stage_id, amount) "
        "SELECT 'Stor affär', 1, 1, id, 9000000 FROM stages WHERE title = 'Steg 5 Vunnen'",
    )


def _expected_total(url: str) -> dict[str, Any]:
    [(count, amount, percent)] = _sql(
        url,
        "SELECT count(*), sum(o.amount), sum(o.amount * s.probability) "
        f"FROM opportunities o JOIN stages s ON s.id = o.stage_id WHERE {OPEN}",
    )
    return {"count": count, "amount": _money(amount), "weighted": _weighted(percent)}


# crmconf forecast


def test_forecast_by_stage_is_the_open_pipeline_weighted_by_probability(
    cli: Cli, demo_url: str
) -> None:
    _close_a_stage_with_a_big_deal(demo_url)
    expected = [
        {
            "stage": title,
            "probability": probability,
            "count": count,
            "amount": _money(amount),
            "weighted": _weighted(percent),
        }
        for title, probability, count, amount, percent in _sql(
            demo_url,
            "SELECT s.title, s.probability, count(o.id), sum(o.amount), "
            "sum(o.amount * s.probability) FROM stages s "
            f"LEFT JOIN opportunities o ON o.stage_id = s.id WHERE {OPEN} "
            "GROUP BY s.id ORDER BY s.position",
        )
    ]

    document = _forecast(cli, demo_url, "stage")

    assert document["format_version"] == 1
    assert document["by"] == "stage"
    assert document["rows"] == expected
    assert document["total"] == _expected_total(demo_url)
    assert "Steg 5 Vunnen" not in json.dumps(document)


@pytest.mark.sqlite_only(reason="its check sums booleans in SQL, which only SQLite allows")
def test_forecast_counts_opportunities_on_customers_and_on_projects(
    cli: Cli, demo_url: str
) -> None:
    [(on_projects, on_customers)] = _sql(
        demo_url,
        "SELECT sum(o.project_id IS NOT NULL), sum(o.customer_id IS NOT NULL) "
        f"FROM opportunities o JOIN stages s ON s.id = o.stage_id WHERE {OPEN}",
    )
    assert on_projects > 0 and on_customers > 0

    document = _forecast(cli, demo_url, "stage")

    assert document["total"]["count"] == on_projects + on_customers


def test_forecast_by_salesperson_is_per_owner_login(cli: Cli, demo_url: str) -> None:
    _close_a_stage_with_a_big_deal(demo_url)
    expected = [
        {
            "salesperson": login,
            "count": count,
            "amount": _money(amount),
            "weighted": _weighted(percent),
        }
        for login, count, amount, percent in _sql(
            demo_url,
            "SELECT u.login, count(*), sum(o.amount), sum(o.amount * s.probability) "
            "FROM opportunities o JOIN stages s ON s.id = o.stage_id "
            f"JOIN users u ON u.id = o.owner_id WHERE {OPEN} GROUP BY u.id ORDER BY u.login",
        )
    ]

    document = _forecast(cli, demo_url, "salesperson")

    assert document["rows"] == expected
    assert document["total"] == _expected_total(demo_url)


def _group_id(url: str, name: str) -> int:
    [(group_id,)] = _sql(url, "SELECT id FROM crm_groups WHERE name = ?", name)
    return int(group_id)


def _add_member(url: str, group: str, login: str) -> None:
    _sql(
        url,
        "INSERT INTO group_members (group_id, user_id) SELECT ?, id FROM users WHERE login = ?",
        _group_id(url, group),
        login,
    )


def _add_group(url: str, name: str, kind: str, parent: str) -> None:
    _sql(
        url,
        "INSERT INTO crm_groups (name, type, description, parent_id) VALUES (?, ?, '', ?)",
        name,
        kind,
        _group_id(url, parent),
    )


def test_forecast_by_group_rolls_subgroups_up_and_counts_each_opportunity_once(
    cli: Cli, demo_url: str
) -> None:
    # Försäljning (anna) ⊃ Försäljning Stockholm (erik, who is also in Försäljning itself);
    # Administration is a standard group, so only its sales subgroup is reported.
    _add_group(demo_url, "Försäljning Stockholm", "sales", "Försäljning")
    _add_member(demo_url, "Försäljning Stockholm", "erik@example.com")
    _add_member(demo_url, "Försäljning", "erik@example.com")
    _add_group(demo_url, "Partnerförsäljning", "sales", "Administration")
    _add_member(demo_url, "Partnerförsäljning", "johan@example.com")
    _add_member(demo_url, "Administration", "maria@example.com")

    def expected(name: str | None, owners: str) -> dict[str, Any]:
        [(count, amount, percent)] = _sql(
            demo_url,
            "SELECT count(*), sum(o.amount), sum(o.amount * s.probability) "
            "FROM opportunities o JOIN stages s ON s.id = o.stage_id "
            f"WHERE {OPEN} AND o.owner_id {owners}",
        )
        return {
            "group": name,
            "count": count,
            "amount": _money(amount),
            "weighted": _weighted(percent),
        }

    sales, stockholm, partner = (
        _group_id(demo_url, name)
        for name in ("Försäljning", "Försäljning Stockholm", "Partnerförsäljning")
    )
    members_of = "IN (SELECT user_id FROM group_members WHERE group_id IN ({}))".format
    in_a_sales_group = members_of("SELECT id FROM crm_groups WHERE type = 'sales'")

    document = _forecast(cli, demo_url, "group")

    assert document["rows"] == [
        expected("Försäljning", members_of(f"{sales}, {stockholm}")),
        expected("Försäljning Stockholm", members_of(stockholm)),
        expected("Partnerförsäljning", members_of(partner)),
        expected(None, f"NOT {in_a_sales_group}"),
    ]
    assert document["rows"][0]["count"] == 15  # anna's 7 and erik's 8, erik's once
    assert document["total"] == _expected_total(demo_url)


def test_forecast_text_is_a_table_with_two_decimals_and_a_total(cli: Cli, demo_url: str) -> None:
    total = _expected_total(demo_url)

    result = cli("forecast", "--target", demo_url)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[2].split() == ["Stage", "Probability", "Count", "Amount", "Weighted"]
    assert "Steg 3 Andra besök" in result.output and "50 %" in result.output
    assert lines[-1].split() == ["Total", str(total["count"]), total["amount"], total["weighted"]]


def test_an_unreachable_target_is_an_error_without_traceback(cli: Cli, tmp_path: Path) -> None:
    result = cli("forecast", "--target", "nosuch://crm")

    assert result.exit_code == 1
    assert "error: unknown target" in result.output
    assert "Traceback" not in result.output


# The computation over plain values


def _stage(title: str, probability: int, status: str = "open") -> PipelineStage:
    return PipelineStage(title, probability, status)


def test_money_is_exact_until_shown_and_rounded_half_up() -> None:
    pipeline = Pipeline(
        (_stage("Lead", 25), _stage("Offert", 15)),
        (),
        (
            PipelineRow("Lead", "anna", (), 1, Decimal("0.50")),  # 0.125
            PipelineRow("Offert", "anna", (), 1, Decimal("0.10")),  # 0.015
            PipelineRow("Offert", "erik", (), 1, Decimal("0.10")),  # 0.015
        ),
    )

    result = forecast(pipeline, Breakdown.STAGE)

    assert result.total.weighted == Decimal("0.155")
    text = render_forecast_text(result)
    assert "0.50      0.13" in text  # half up, not to even
    assert text.splitlines()[-1].split() == ["Total", "3", "0.70", "0.16"]


def test_groups_roll_up_through_any_depth_and_standard_groups_are_not_reported() -> None:
    groups = [
        GroupNode("Sälj", "sales", None, frozenset({"anna"})),
        GroupNode("Admin", "standard", None, frozenset({"lisa"})),
        GroupNode("Sälj Nord", "sales", "Sälj", frozenset()),
        GroupNode("Sälj Umeå", "sales", "Sälj Nord", frozenset({"erik", "anna"})),
        GroupNode("Partner", "sales", "Admin", frozenset({"johan"})),
    ]

    assert sales_groups_in_order(groups) == ("Sälj", "Sälj Nord", "Sälj Umeå", "Partner")
    assert sales_groups_by_member(groups) == {
        "anna": ("Sälj", "Sälj Nord", "Sälj Umeå"),
        "erik": ("Sälj", "Sälj Nord", "Sälj Umeå"),
        "johan": ("Partner",),
    }


# Pipeline impact in `crmconf plan`


def _plan_json(cli: Cli, url: str, config: Path) -> dict[str, Any]:
    result = cli("plan", config, "--target", url, "--format", "json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.output)
    return document


def _expected_shifts(url: str, after_percent: str) -> dict[str, Any]:
    """Total, per sales group and per owner: before and after, from a hand-written SQL
    expression for each opportunity's weight (in percent of its amount) after the plan."""
    before = f"CASE WHEN {OPEN} THEN o.amount * s.probability ELSE 0 END"
    after = f"o.amount * ({after_percent})"
    shifts = f"sum({before}), sum({after}) FROM opportunities o JOIN stages s ON s.id = o.stage_id"

    def amounts(old: Any, new: Any) -> dict[str, str]:
        delta = (Decimal(str(new or 0)) - Decimal(str(old or 0))) / 100
        return {"before": _weighted(old), "after": _weighted(new), "delta": f"{delta:.2f}"}

    [(old, new)] = _sql(url, f"SELECT {shifts}")
    groups = [
        {"group": name} | amounts(old, new)
        for name, old, new in _sql(
            url,
            f"SELECT g.name, {shifts} JOIN crm_groups g ON g.type = 'sales' "
            "AND o.owner_id IN (SELECT user_id FROM group_members WHERE group_id = g.id) "
            "GROUP BY g.id ORDER BY g.id",
        )
        if old != new
    ]
    [(outside_old, outside_new)] = _sql(
        url,
        f"SELECT {shifts} WHERE o.owner_id NOT IN (SELECT m.user_id FROM group_members m "
        "JOIN crm_groups g ON g.id = m.group_id WHERE g.type = 'sales')",
    )
    if outside_old != outside_new:
        groups.append({"group": None} | amounts(outside_old, outside_new))
    salespeople = [
        {"login": login} | amounts(old, new)
        for login, old, new in _sql(
            url,
            f"SELECT u.login, {shifts} JOIN users u ON u.id = o.owner_id "
            "GROUP BY u.id ORDER BY u.login",
        )
        if old != new
    ]
    return {"total": amounts(old, new), "groups": groups, "salespeople": salespeople}


def test_plan_shows_how_a_probability_change_moves_the_pipeline(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(STAGES % {"steg3": 65, "steg4": "open_won"})
    # Anna (Försäljning) gets one Steg 3 deal, so a sales group changes too.
    _sql(
        demo_url,
        "UPDATE opportunities SET owner_id = (SELECT id FROM users WHERE login = ?) "
        "WHERE id = (SELECT min(o.id) FROM opportunities o JOIN stages s "
        "ON s.id = o.stage_id WHERE s.title = 'Steg 3 Andra besök')",
        "anna@example.com",
    )
    expected = _expected_shifts(
        demo_url, "CASE WHEN s.title = 'Steg 3 Andra besök' THEN 65 ELSE s.probability END"
    )
    [(on_steg3,)] = _sql(
        demo_url,
        "SELECT count(*) FROM opportunities o JOIN stages s ON s.id = o.stage_id "
        "WHERE s.title = 'Steg 3 Andra besök'",
    )

    impact = _plan_json(cli, demo_url, config)["impact"]
    text = cli("plan", config, "--target", demo_url)

    assert impact == {"stages": ["Steg 3 Andra besök"], "opportunities": on_steg3, **expected}
    assert [row["group"] for row in impact["groups"]] == ["Försäljning", None]
    assert Decimal(impact["total"]["delta"]) > 0
    total = expected["total"]
    lines = text.output.split("Pipeline impact")[1].splitlines()
    assert f"{on_steg3} opportunities reweighed or moved" in lines[1]
    assert ["total", total["before"], total["after"], f"+{total['delta']}"] in [
        line.split() for line in lines
    ]


@pytest.mark.parametrize("saved", [False, True], ids=["configuration", "saved plan"])
def test_apply_shows_the_pipeline_impact_before_it_asks(
    cli: Cli, demo_url: str, write_config: Write, tmp_path: Path, saved: bool
) -> None:
    config = write_config(STAGES % {"steg3": 65, "steg4": "open_won"})
    planned = cli("plan", config, "--target", demo_url, "-o", tmp_path / "plan.json")
    shown = planned.stdout.split("Pipeline impact")[1]
    source = [tmp_path / "plan.json"] if saved else [config, "--target", demo_url]

    asked = cli("apply", *source, input="n\n")

    assert "Pipeline impact" + shown in asked.stdout
    assert asked.stdout.index("Pipeline impact") < asked.stdout.index("Plan: 0 to add")
    applied = cli("apply", *source, "--yes")
    assert applied.exit_code == 0, applied.output
    assert "Pipeline impact" + shown in applied.stdout


@pytest.mark.sqlite_only(reason="its check sums booleans in SQL, which only SQLite allows")
def test_moving_opportunities_and_closing_a_stage_show_in_the_impact_and_the_counts(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(
        """\
        crmconf: 1
        sales:
          stages:
            - {title: Steg 2 Första besök, probability: 35, status: open}
            - {title: Steg 3 Andra besök, probability: 50, status: open}
            - {title: Steg 4 Uppföljningssamtal, probability: 100, status: closed_won}
        removed:
          sales:
            stages:
              - {title: Steg 1 Telefonsamtal, move_opportunities_to: Steg 2 Första besök}
        """
    )
    expected = _expected_shifts(
        demo_url,
        "CASE s.title WHEN 'Steg 1 Telefonsamtal' THEN 35 "
        "WHEN 'Steg 4 Uppföljningssamtal' THEN 0 ELSE s.probability END",
    )
    [(on_steg1, on_steg4)] = _sql(
        demo_url,
        "SELECT sum(s.title = 'Steg 1 Telefonsamtal'), sum(s.title = 'Steg 4 Uppföljningssamtal') "
        "FROM opportunities o JOIN stages s ON s.id = o.stage_id",
    )

    document = _plan_json(cli, demo_url, config)
    text = cli("plan", config, "--target", demo_url).output

    impact = document["impact"]
    assert impact["total"] == expected["total"]
    assert impact["groups"] == expected["groups"] != []
    assert impact["salespeople"] == expected["salespeople"]
    assert impact["opportunities"] == on_steg1 + on_steg4
    assert sorted(impact["stages"]) == ["Steg 1 Telefonsamtal", "Steg 4 Uppföljningssamtal"]
    # What each delete or migration touches is shown as well, in text and in JSON.
    [delete] = [change for change in document["changes"] if change["action"] == "delete"]
    assert delete["usage"] == {"customers": 0, "contacts": 0, "opportunities": on_steg1}
    assert delete["migration"] == {"move_to": "Steg 2 Första besök"}
    assert f"used by {on_steg1} opportunities" in text
    assert 'what uses it moves to "Steg 2 Första besök"' in text
    assert f"{on_steg1 + on_steg4} opportunities reweighed or moved" in text

    # Once applied, the forecast is what the impact said it would be.
    applied = cli("apply", config, "--target", demo_url, "--yes")
    assert applied.exit_code == 0, applied.output
    assert _forecast(cli, demo_url, "stage")["total"]["weighted"] == impact["total"]["after"]


def test_a_plan_that_leaves_stages_alone_prints_no_impact(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(
        "crmconf: 1\nindustries: [Bygg, {name: IT, renamed_from: [Data/IT]}, Turism]\n"
    )

    text = cli("plan", config, "--target", demo_url)
    impact = _plan_json(cli, demo_url, config)["impact"]

    assert text.exit_code == 0, text.output
    assert "Pipeline impact" not in text.output
    assert impact["stages"] == [] and impact["opportunities"] == 0
    assert impact["total"]["delta"] == "0.00"
    assert impact["groups"] == impact["salespeople"] == []


def test_renames_do_not_reweigh_and_destinations_created_in_the_plan_count() -> None:
    def stage(name: str, probability: int, status: str = "open") -> dict[str, Any]:
        return {"name": name, "probability": probability, "status": status}

    pipeline = Pipeline(
        (_stage("A", 10), _stage("C", 20)),
        ("Sälj",),
        (
            PipelineRow("A", "anna", ("Sälj",), 1, Decimal(1000)),
            PipelineRow("C", "erik", (), 2, Decimal(500)),
        ),
    )
    plan = Plan(
        (
            # A is renamed to B, and a new, likelier stage takes the name A.
            Change("sales.stages", Action.UPDATE, stage("A", 10), stage("B", 10), ("name",)),
            Change("sales.stages", Action.CREATE, None, stage("A", 90)),
            Change("sales.stages", Action.CREATE, None, stage("D", 80)),
            Change("sales.stages", Action.DELETE, stage("C", 20), None, migration={"move_to": "d"}),
        )
    )

    impact = pipeline_impact(plan, pipeline)

    assert impact.stages == ("C",)
    assert impact.opportunities == 2
    assert (impact.total.before, impact.total.after) == (Decimal(200), Decimal(500))
    assert [(shift.label, shift.delta) for shift in impact.groups] == [(None, Decimal(300))]
    assert [(shift.label, shift.delta) for shift in impact.salespeople] == [("erik", Decimal(300))]


def test_a_login_cannot_forge_a_row_of_the_forecast(cli: Cli, demo_url: str) -> None:
    forged = "mal\nTotal  99  1.00  1.00"
    _sql(demo_url, "UPDATE users SET login = ? WHERE login = 'johan@example.com'", forged)

    result = cli("forecast", "--by", "salesperson", "--target", demo_url)

    assert result.exit_code == 0, result.output
    assert len([line for line in result.output.splitlines() if line.startswith("Total")]) == 1
    assert "mal\\nTotal  99  1.00  1.00" in result.output
