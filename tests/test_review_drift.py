"""`crmconf drift`: for scheduled jobs — 0 when the CRM matches, 2 on drift, 1 on error.

Drift only reads: every test compares the sandbox file's bytes before and after.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import Result

from crmconf.cli.review_commands import DRIFT_MARKER
from tests.conftest import SEED

WriteConfig = Callable[..., Path]
Cli = Callable[..., Result]

# The demo company's industries, less Data/IT that 20 customers use: plan refuses to
# delete it, drift reports it.
WITHOUT_A_USED_INDUSTRY = "crmconf: 1\nindustries: [Bygg, Turism]\n"

pytestmark = pytest.mark.sqlite_only(reason="compares the SQLite file's bytes before and after")


@contextmanager
def _unchanged(url: str) -> Iterator[None]:
    database = Path(url.removeprefix("sqlite:///"))
    folder = sorted(path.name for path in database.parent.iterdir())
    before = database.read_bytes()
    yield
    assert database.read_bytes() == before, "drift wrote to the target"
    assert sorted(path.name for path in database.parent.iterdir()) == folder


def test_drift_exits_2_and_writes_nothing(cli: Cli, demo_url: str) -> None:
    with _unchanged(demo_url):
        result = cli("drift", SEED, "--target", demo_url)

    assert result.exit_code == 2, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"Drift: the target differs from {SEED}. Applying it would change:"
    assert '  ~ "Data/IT" → "IT och telekom" (renamed in place)' in lines
    assert lines[-1] == "Plan: 9 to add, 7 to change, 3 to delete."


def test_no_drift_exits_0(cli: Cli, demo_url: str) -> None:
    cli("apply", SEED, "--target", demo_url, "--yes")

    with _unchanged(demo_url):
        result = cli("drift", SEED, "--target", demo_url)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"No drift: the target matches {SEED}.\n"


@pytest.mark.parametrize("output_format", ["json", "markdown"])
def test_drift_in_json_and_markdown(cli: Cli, demo_url: str, output_format: str) -> None:
    with _unchanged(demo_url):
        result = cli("drift", SEED, "--target", demo_url, "--format", output_format)
        plan = cli("plan", SEED, "--target", demo_url, "--format", output_format)

    assert result.exit_code == 2, result.output
    if output_format == "json":
        planned = json.loads(plan.stdout)
        planned.pop("impact")  # the pipeline impact belongs to a plan to apply, not to a report
        assert json.loads(result.stdout) == planned
    else:
        assert result.stdout.startswith(f"{DRIFT_MARKER}\n### crmconf drift: 9 to add, ")
        assert result.stdout.split("\n", 2)[2] == plan.stdout.split("\n", 2)[2]


def test_an_item_the_crm_uses_and_the_configuration_lacks_is_drift(
    cli: Cli, write_config: WriteConfig, demo_url: str
) -> None:
    path = write_config(WITHOUT_A_USED_INDUSTRY)

    with _unchanged(demo_url):
        refused = cli("plan", path, "--target", demo_url)
        result = cli("drift", path, "--target", demo_url, "--format", "json")

    assert refused.exit_code == 1
    assert result.exit_code == 2, result.output
    [change] = json.loads(result.stdout)["changes"]
    assert (change["action"], change["key"], change["usage"]["customers"]) == (
        "delete",
        "Data/IT",
        20,
    )


def test_a_used_item_the_configuration_lacks_is_drift_that_needs_a_decision(
    cli: Cli, write_config: WriteConfig, demo_url: str
) -> None:
    """Not "applying it would change: - Data/IT": apply refuses that delete."""
    path = write_config(WITHOUT_A_USED_INDUSTRY)

    with _unchanged(demo_url):
        result = cli("drift", path, "--target", demo_url)

    assert result.exit_code == 2, result.output
    assert result.stdout == (
        f"Drift: the target differs from {path}. Apply would refuse it until each delete "
        "marked below has a removed: decision:\n"
        "\n"
        "industries:\n"
        '  - "Data/IT"  (needs a removed: decision)\n'
        "      used by 20 customers\n"
        "\n"
        "Plan: 0 to add, 0 to change, 1 to delete.\n"
        "\n"
        "1 delete(s) need a decision: data uses the item, and crmconf never orphans data. "
        "Keep the item in the configuration, or say where its data goes:\n"
        "      removed:\n"
        "        industries:\n"
        "          - {name: Data/IT, move_customers_to: <another industry>}\n"
    )


def test_drift_only_looks_at_the_kinds_named(cli: Cli, demo_url: str) -> None:
    cli("apply", SEED, "--target", demo_url, "--only", "industries", "--yes")

    with _unchanged(demo_url):
        industries = cli("drift", SEED, "--target", demo_url, "--only", "industries")
        sales = cli("drift", SEED, "--target", demo_url, "--only", "sales")

    assert industries.exit_code == 0, industries.output
    assert sales.exit_code == 2, sales.output


def test_errors_exit_1_without_a_traceback(
    cli: Cli, write_config: WriteConfig, demo_url: str
) -> None:
    broken = write_config("crmconf: 1\nindustries: [Bygg, bygg]\n")

    with _unchanged(demo_url):
        invalid = cli("drift", broken, "--target", demo_url)
        unknown_kind = cli("drift", SEED, "--target", demo_url, "--only", "branscher")
        missing = cli("drift", broken.parent / "absent.yaml", "--target", demo_url)

    for result in (invalid, unknown_kind, missing):
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("error: ")
        assert "Traceback" not in result.output
        assert result.stdout == ""
