"""Data safety: declared migrations, the mass-change guard, saved plans refused when stale."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import func, select

from crmconf.targets.sandbox import schema
from crmconf.targets.sandbox.target import SandboxTarget
from tests.conftest import SEED

Cli = Callable[..., Result]
Write = Callable[..., Path]


def _count(url: str, query: object) -> int:
    target = SandboxTarget.open(url)
    try:
        with target.connect() as connection:
            return int(connection.scalar(query) or 0)  # type: ignore[call-overload]
    finally:
        target.close()


def _industry_id(url: str, name: str) -> int | None:
    query = select(schema.industries.c.id).where(schema.industries.c.name == name)
    target = SandboxTarget.open(url)
    try:
        with target.connect() as connection:
            return connection.scalar(query)
    finally:
        target.close()


def test_deleting_a_used_item_is_refused_with_the_entry_to_add(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config("crmconf: 1\nindustries: [Bygg]\n")
    result = cli("plan", config, "--target", demo_url)
    assert result.exit_code == 1
    assert "industry 'Data/IT' (industries) is used by 20 customers" in result.output
    assert "- {name: Data/IT, move_customers_to: <another industry>}" in result.output
    assert "Traceback" not in result.output


def test_merging_two_industries_moves_every_customer(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    bygg = _industry_id(demo_url, "Bygg")
    config = write_config(
        """\
        crmconf: 1
        industries: [Bygg]
        removed:
          industries:
            - {name: Data/IT, move_customers_to: Bygg}
            - {name: Turism, move_customers_to: Bygg}
        """
    )
    planned = cli("plan", config, "--target", demo_url)
    assert planned.exit_code == 0, planned.output
    assert 'what uses it moves to "Bygg"' in planned.output
    applied = cli("apply", config, "--target", demo_url, "--yes")
    assert applied.exit_code == 0, applied.output
    customers = select(func.count()).select_from(schema.customers)
    in_bygg = customers.where(schema.customers.c.industry_id == bygg)
    assert _count(demo_url, in_bygg) == _count(demo_url, customers) == 40
    assert _industry_id(demo_url, "Data/IT") is None
    again = cli("plan", config, "--target", demo_url, "--detailed-exitcode")
    assert again.exit_code == 0, again.output  # the entry is a no-op once it has run


def test_category_reassign_merges_links_without_duplicates(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(
        """\
        crmconf: 1
        categories: [{name: VIP, show_on: both}]
        removed:
          categories:
            - {name: Partner, reassign_to: VIP}
            - {name: Leverantör, unassign: true}
        """
    )
    before = _count(demo_url, select(func.count()).select_from(schema.customer_categories))
    contacts_before = _count(demo_url, select(func.count()).select_from(schema.contact_categories))
    result = cli("apply", config, "--target", demo_url, "--yes")
    assert result.exit_code == 0, result.output
    assert _count(demo_url, select(func.count()).select_from(schema.customer_categories)) == before
    assert (
        _count(demo_url, select(func.count()).select_from(schema.contact_categories))
        == contacts_before
    )


def test_rejection_reason_clear_detaches_opportunities(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(
        """\
        crmconf: 1
        sales:
          rejection_reasons: [Övrigt]
        removed:
          sales:
            rejection_reasons: [{name: Pris, clear: true}]
        """
    )
    result = cli("apply", config, "--target", demo_url, "--yes")
    assert result.exit_code == 0, result.output
    with_reason = select(func.count()).where(
        schema.opportunities.c.rejection_reason_id.is_not(None)
    )
    assert _count(demo_url, with_reason) == 0
    assert _count(demo_url, select(func.count()).select_from(schema.opportunities)) == 30


def test_removed_entries_are_checked(cli: Cli, write_config: Write) -> None:
    config = write_config(
        """\
        crmconf: 1
        industries: [Bygg]
        removed:
          industries:
            - {name: Bygg, move_customers_to: Bygg}
            - {name: Turism, move_customers_to: Handel}
          status_types: [Gammal]
        """
    )
    result = cli("validate", config)
    assert result.exit_code == 1
    assert "industry 'Bygg' is both kept" in result.output
    assert "moves its data to 'Handel', which is not in industries" in result.output
    assert "removed.status_types is written but status_types is not managed" in result.output
    assert f"{config}:5:" in result.output


def test_more_than_three_deletes_need_allow_mass_change(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(
        "crmconf: 1\ncustomer_info: {contact_origins: [], products: [], sources: []}\n"
        "categories: [{name: Partner, show_on: customer}]\n"
    )
    removed = write_config(
        """\
        removed:
          customer_info:
            contact_origins: [{name: Mässa, unassign: true}, {name: Webbformulär, unassign: true}]
            products: [{name: Ekonomi, unassign: true}, {name: Lön, unassign: true}]
            sources: [{name: Google, unassign: true}]
        """,
        name="removed.yaml",
    )
    config.write_text(config.read_text() + removed.read_text())
    refused = cli("apply", config, "--target", demo_url, "--yes", "--max-deletes", "1")
    assert refused.exit_code == 1
    assert "customer_info.contact_origins: 2 contact origins deleted (limit 1)" in refused.output
    assert "--allow-mass-change" in refused.output
    allowed = cli(
        "apply", config, "--target", demo_url, "--yes", "--max-deletes", "1", "--allow-mass-change"
    )
    assert allowed.exit_code == 0, allowed.output


def test_share_of_a_kind_guard_reads_limits_from_the_configuration(
    cli: Cli, sandbox_url: str, write_config: Write
) -> None:
    names = [f"Bransch {n}" for n in range(10)]
    start = write_config("crmconf: 1\nindustries: [" + ", ".join(names) + "]\n")
    assert cli("apply", start, "--target", sandbox_url, "--yes").exit_code == 0
    renamed = ", ".join(f"{{name: Ny {n}, renamed_from: [{n}]}}" for n in names[:4])
    kept = ", ".join(names[4:])
    config = write_config(f"crmconf: 1\nindustries: [{renamed}, {kept}]\n", name="next.yaml")
    refused = cli("plan", config, "--target", sandbox_url)
    assert refused.exit_code == 1
    assert "industries: 4 of 10 industries updated or deleted (40%, limit 30%)" in refused.output
    relaxed = write_config(
        config.read_text() + "safety: {max_change_fraction: 0.5}\n", name="relaxed.yaml"
    )
    assert cli("plan", relaxed, "--target", sandbox_url).exit_code == 0


def test_saved_plan_applies_once_and_is_refused_when_stale(
    cli: Cli, demo_url: str, tmp_path: Path, write_config: Write
) -> None:
    saved = tmp_path / "plan.json"
    planned = cli("plan", SEED, "--target", demo_url, "-o", saved)
    assert planned.exit_code == 0, planned.output
    assert saved.exists()
    other = write_config("crmconf: 1\nsales: {types: [Nyförsäljning, Engångsköp]}\n")
    assert cli("apply", other, "--target", demo_url, "--yes").exit_code == 0
    stale = cli("apply", saved, "--yes")
    assert stale.exit_code == 1
    assert "stale plan: the target changed since the plan was made" in stale.output
    fresh = tmp_path / "fresh.json"
    assert cli("plan", SEED, "--target", demo_url, "-o", fresh).exit_code == 0
    applied = cli("apply", fresh, "--yes")
    assert applied.exit_code == 0, applied.output
    assert cli("plan", SEED, "--target", demo_url, "--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize("yes", [True, False], ids=["--yes", "asked"])
def test_a_used_saved_plan_is_refused_before_it_is_shown(
    cli: Cli, demo_url: str, tmp_path: Path, yes: bool
) -> None:
    saved = tmp_path / "plan.json"
    assert cli("plan", SEED, "--target", demo_url, "-o", saved).exit_code == 0
    assert cli("apply", saved, "--yes").exit_code == 0

    again = cli("apply", saved, *(["--yes"] if yes else []))

    assert again.exit_code == 1
    assert again.stdout == ""  # not the whole plan, then "stale"
    assert again.stderr == (
        "error: stale plan: the target changed since the plan was made; plan again\n"
    )


def test_saved_plan_is_refused_when_the_configuration_changed(
    cli: Cli, demo_url: str, tmp_path: Path, write_config: Write
) -> None:
    config = write_config("crmconf: 1\nsales: {types: [Nyförsäljning, Engångsköp]}\n")
    saved = tmp_path / "plan.json"
    assert cli("plan", config, "--target", demo_url, "-o", saved).exit_code == 0
    config.write_text("crmconf: 1\nsales: {types: [Nyförsäljning]}\n")
    result = cli("apply", saved, "--yes")
    assert result.exit_code == 1
    assert "the configuration changed since the plan was made" in result.output


def test_protection_outlives_the_configuration_entry(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    protected = write_config(
        "crmconf: 1\nindustries: [Bygg, Data/IT, {name: Turism, protect: true}]\n"
    )
    planned = cli("apply", protected, "--target", demo_url, "--yes")
    assert planned.exit_code == 0, planned.output
    assert "protect: false → true" in planned.output

    without = write_config("crmconf: 1\nindustries: [Bygg, Data/IT]\n", name="without.yaml")
    refused = cli("apply", without, "--target", demo_url, "--yes", "--allow-mass-change")
    assert refused.exit_code == 1
    assert "industry 'Turism' (industries) is protected" in refused.output
    assert _industry_id(demo_url, "Turism") is not None

    lifted = write_config("crmconf: 1\nindustries: [Bygg, Data/IT, Turism]\n", name="lifted.yaml")
    assert cli("apply", lifted, "--target", demo_url, "--yes").exit_code == 0
    assert cli("apply", without, "--target", demo_url, "--yes").exit_code == 0
    assert _industry_id(demo_url, "Turism") is None


def test_an_unused_protected_item_is_refused_as_protected_not_as_used(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    """Turism is used by no customer: the refusal is about protection alone."""
    protected = write_config(
        "crmconf: 1\nindustries: [Bygg, Data/IT, {name: Turism, protect: true}]\n"
    )
    assert cli("apply", protected, "--target", demo_url, "--yes").exit_code == 0
    without = write_config("crmconf: 1\nindustries: [Bygg, Data/IT]\n", name="without.yaml")

    refused = cli("plan", without, "--target", demo_url)

    assert refused.exit_code == 1
    assert refused.stderr == (
        "error: refusing to delete protected items:\n"
        "  - industry 'Turism' (industries) is protected; to delete it, first apply it with "
        "'protect: false', then remove it\n"
        "protection is stored in the CRM: removing the entry from the file does not lift it\n"
    )


def test_protected_and_used_items_are_refused_each_with_its_own_reason(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    protected = write_config(
        "crmconf: 1\nindustries: [Bygg, Data/IT, {name: Turism, protect: true}]\n"
    )
    assert cli("apply", protected, "--target", demo_url, "--yes").exit_code == 0
    only_bygg = write_config("crmconf: 1\nindustries: [Bygg]\n", name="bygg.yaml")

    refused = cli("plan", only_bygg, "--target", demo_url, "--allow-mass-change")

    assert refused.exit_code == 1
    lines = refused.stderr.splitlines()
    assert lines[0] == "error: refusing to delete protected items:"
    assert "industry 'Turism' (industries) is protected" in lines[1]
    assert lines[3] == "refusing to delete what the CRM still uses:"
    assert "industry 'Data/IT' (industries) is used by 20 customers" in lines[4]
    assert lines[-1].startswith("no data is ever orphaned")
    assert "Turism" not in "\n".join(lines[3:])


def test_prune_false_leaves_extra_items_and_lists_them_to_paste(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(
        """\
        crmconf: 1
        prune: {categories: false, industries: false}
        categories: [{name: VIP, show_on: customer}]
        industries: [Bygg]
        removed:
          industries: [Turism]
        """
    )
    result = cli("apply", config, "--target", demo_url, "--yes")
    assert result.exit_code == 0, result.output
    assert "Left alone (3, prune: false)" in result.output
    assert "- {name: Partner, show_on: customer}" in result.output
    assert "industries: [Data/IT]" in result.output
    assert _industry_id(demo_url, "Data/IT") is not None  # used, kept without a migration
    assert _industry_id(demo_url, "Turism") is None  # removed explicitly
    again = cli("plan", config, "--target", demo_url, "--detailed-exitcode", "--format", "json")
    assert again.exit_code == 0, again.output
    assert '"industries": [\n      "Data/IT"\n    ]' in again.output


def test_prune_names_only_known_kinds(cli: Cli, write_config: Write) -> None:
    config = write_config("crmconf: 1\nprune: {industry: false}\n")
    result = cli("validate", config)
    assert result.exit_code == 1
    assert f"{config}:2:" in result.output


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-nan"])
def test_a_limit_that_is_not_a_finite_number_is_a_usage_error_not_an_open_gate(
    cli: Cli, sandbox_url: str, write_config: Write, tmp_path: Path, value: str
) -> None:
    # NaN compares false with everything, so `count > nan * existing` never held and
    # `--max-change-fraction nan` let a mass change through without --allow-mass-change.
    names = [f"Bransch {n}" for n in range(10)]
    start = write_config("crmconf: 1\nindustries: [" + ", ".join(names) + "]\n")
    assert cli("apply", start, "--target", sandbox_url, "--yes").exit_code == 0
    renamed = ", ".join(f"{{name: Ny {n}, renamed_from: [{n}]}}" for n in names[:4])
    config = write_config(
        f"crmconf: 1\nindustries: [{renamed}, {', '.join(names[4:])}]\n", name="next.yaml"
    )

    saved = tmp_path / "plan.json"
    planned = cli(
        "plan", config, "--target", sandbox_url, "-o", saved, "--max-change-fraction", value
    )
    applied = cli("apply", config, "--target", sandbox_url, "--yes", "--max-change-fraction", value)

    for result in (planned, applied):
        assert result.exit_code == 1, result.output
        assert "--max-change-fraction" in result.output and "finite" in result.output
    assert not saved.exists()
    with SandboxTarget.open(sandbox_url) as target:
        from crmconf.kinds import INDUSTRIES

        assert sorted(i.name for i in target.read([INDUSTRIES]).of(INDUSTRIES)) == sorted(names)


def test_the_library_refuses_a_limit_that_is_not_a_finite_number(
    sandbox_url: str, write_config: Write
) -> None:
    import crmconf
    from crmconf.errors import PlanError

    config = crmconf.load(write_config("crmconf: 1\nindustries: [A1]\n"))
    with SandboxTarget.open(sandbox_url) as target:
        for limits in (
            {"max_change_fraction": float("nan")},
            {"max_forecast_change_percent": float("nan")},
            {"max_forecast_change_amount": float("inf")},
        ):
            with pytest.raises(PlanError, match="finite"):
                crmconf.plan(config, target, **limits)  # type: ignore[arg-type]


def test_a_saved_plan_is_not_applied_again_after_its_apply_was_rolled_back(
    cli: Cli, demo_url: str, tmp_path: Path
) -> None:
    # A rollback leaves the CRM exactly as before the apply, ids and all, so the state's
    # fingerprint matched again and a re-run of the CI job's `apply plan.json` silently
    # undid the rollback. Every write crmconf records makes a plan made before it stale.
    saved = tmp_path / "plan.json"
    assert cli("plan", SEED, "--target", demo_url, "-o", saved).exit_code == 0
    assert cli("apply", saved, "--yes").exit_code == 0
    assert cli("rollback", "1", "--target", demo_url, "--yes").exit_code == 0
    rolled_back = _industry_id(demo_url, "Data/IT")

    again = cli("apply", saved, "--yes")

    assert again.exit_code == 1, again.output
    assert "stale plan: the target changed since the plan was made" in again.stderr
    assert _industry_id(demo_url, "Data/IT") == rolled_back is not None
    assert "rolled back by 2" in cli("history", "--target", demo_url).output
    assert "   3  " not in cli("history", "--target", demo_url).output
