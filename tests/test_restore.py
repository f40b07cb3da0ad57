"""Restoring deleted customers ("Återställa kunder"): only once activated, all or nothing."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests import postgres

Cli = Callable[..., Result]
Write = Callable[..., Path]

NOT_ACTIVATED = (
    "error: restoring deleted customers (Återställa kunder) is not activated in this CRM: "
    "set features.restore_customers: true and apply, or ask the vendor's support"
)


def _sql(url: str, query: str, *parameters: Any) -> list[tuple[Any, ...]]:
    if url.startswith("postgresql"):
        return postgres.rows(url, query, *parameters)
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
        return connection.execute(query, parameters).fetchall()


def _deleted_ids(url: str) -> list[int]:
    return [row[0] for row in _sql(url, "SELECT id FROM customers WHERE deleted ORDER BY id")]


@pytest.fixture
def activated_url(cli: Cli, demo_url: str, write_config: Write) -> str:
    """The demo sandbox with the service switched on, as a user does it."""
    config = write_config("crmconf: 1\nfeatures:\n  restore_customers: true\n", "activate.yaml")
    result = cli("apply", config, "--target", demo_url, "--yes")
    assert result.exit_code == 0, result.output
    return demo_url


def test_listing_and_restoring_are_refused_until_the_service_is_activated(
    cli: Cli, demo_url: str
) -> None:
    deleted = _deleted_ids(demo_url)
    assert deleted

    listing = cli("customers", "deleted", "--target", demo_url)
    restoring = cli("customers", "restore", deleted[0], "--target", demo_url, "--yes")

    for result in (listing, restoring):
        assert result.exit_code == 1
        assert NOT_ACTIVATED in result.output
        assert "Traceback" not in result.output
    assert _deleted_ids(demo_url) == deleted


def test_deleted_lists_every_deleted_customer_with_industry_and_status(
    cli: Cli, activated_url: str
) -> None:
    expected = _sql(
        activated_url,
        "SELECT c.id, c.name, i.name, s.name FROM customers c "
        "LEFT JOIN industries i ON i.id = c.industry_id "
        "LEFT JOIN status_types s ON s.id = c.status_type_id WHERE c.deleted ORDER BY c.id",
    )

    text = cli("customers", "deleted", "--target", activated_url)
    as_json = cli("customers", "deleted", "--target", activated_url, "--format", "json")

    assert text.exit_code == as_json.exit_code == 0, text.output + as_json.output
    assert json.loads(as_json.output) == {
        "format_version": 1,
        "customers": [
            {"id": id_, "name": name, "industry": industry, "status": status}
            for id_, name, industry, status in expected
        ],
    }
    assert text.output.startswith(f"{len(expected)} deleted customers:")
    rows = [line.split() for line in text.output.splitlines()]
    for row in expected:
        assert " ".join(map(str, row)).split() in rows


def test_restore_brings_back_exactly_the_customers_named(cli: Cli, activated_url: str) -> None:
    first, second, *rest = _deleted_ids(activated_url)

    result = cli("customers", "restore", first, second, "--target", activated_url, "--yes")

    assert result.exit_code == 0, result.output
    assert f"Will restore 2 deleted customers in {activated_url}:" in result.output
    assert "Restored 2 customers" in result.output
    assert _deleted_ids(activated_url) == rest
    listing = cli("customers", "deleted", "--target", activated_url, "--format", "json")
    assert [row["id"] for row in json.loads(listing.output)["customers"]] == rest


def test_restore_asks_first_and_refuses_without_a_terminal(cli: Cli, activated_url: str) -> None:
    deleted = _deleted_ids(activated_url)

    result = cli("customers", "restore", deleted[0], "--target", activated_url)

    assert result.exit_code == 1
    assert "Will restore 1 deleted customer in" in result.output
    assert "refusing to change the target without confirmation: pass --yes" in result.output
    assert _deleted_ids(activated_url) == deleted


def test_unknown_and_living_customers_are_named_and_nothing_is_restored(
    cli: Cli, activated_url: str
) -> None:
    deleted = _deleted_ids(activated_url)
    [(living, name)] = _sql(
        activated_url, "SELECT id, name FROM customers WHERE NOT deleted ORDER BY id LIMIT 1"
    )

    result = cli(
        "customers", "restore", deleted[0], living, 9999, "--target", activated_url, "--yes"
    )

    assert result.exit_code == 1
    assert "no customer has id 9999" in result.output
    assert f"not deleted: {living} ({name})" in result.output
    assert "Nothing was restored" in result.output
    assert "Traceback" not in result.output
    assert _deleted_ids(activated_url) == deleted


def test_a_restore_is_recorded_and_can_be_rolled_back(cli: Cli, activated_url: str) -> None:
    deleted = _deleted_ids(activated_url)
    restored = cli("customers", "restore", deleted[0], "--target", activated_url, "--yes")
    assert restored.exit_code == 0, restored.output
    entry = restored.output.split("undo: crmconf rollback ")[1].split(")")[0]

    undone = cli("rollback", entry, "--target", activated_url, "--yes")

    assert undone.exit_code == 0, undone.output
    assert _deleted_ids(activated_url) == deleted


def test_a_customer_name_cannot_forge_a_row_of_the_listing_or_the_confirmation(
    cli: Cli, activated_url: str
) -> None:
    # Customer names are anyone's data (a web form, an import): printed as they were, a
    # line break drew a customer that is not there into what a restore asks to confirm.
    first, *_ = _deleted_ids(activated_url)
    forged = "Evil\x1b[31m\n  99  Fake AB  Bygg  Aktiv"
    rename = "UPDATE customers SET name = ? WHERE id = ?"
    if activated_url.startswith("postgresql"):
        postgres.rows(activated_url, rename, forged, first)
    else:
        with closing(sqlite3.connect(activated_url.removeprefix("sqlite:///"))) as connection:
            connection.execute(rename, (forged, first))
            connection.commit()

    listing = cli("customers", "deleted", "--target", activated_url)
    restoring = cli("customers", "restore", first, "--target", activated_url, "--yes")

    for result in (listing, restoring):
        assert result.exit_code == 0, result.output
        assert not any(line.lstrip().startswith("99") for line in result.output.splitlines())
        assert "Evil\\x1b[31m\\n  99  Fake AB" in result.output
