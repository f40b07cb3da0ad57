"""crmconf confirm: a person's sign-off of what the target cannot read, and what plans do
with it — leave the check out while it holds, bring it back (saying why) when it does not."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from crmconf.testing import FakeTwentyFour

Cli = Callable[..., Result]
WriteConfig = Callable[..., Path]

STAGES = """\
crmconf: 1
sales:
  types: [Nyförsäljning]
  stages:
    - {title: Steg 1, probability: 20, status: open}
"""


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeTwentyFour]:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    monkeypatch.delenv("CRMCONF_STATE", raising=False)
    monkeypatch.setenv("CRMCONF_CONFIRMATIONS", str(tmp_path / "confirmations.json"))
    with FakeTwentyFour() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        yield server


def _plan(cli: Cli, config: Path) -> dict[str, object]:
    result = cli("plan", config, "--target", "24so://", "--format", "json")
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_a_confirmed_check_leaves_the_plan_until_what_was_checked_changes(
    cli: Cli, fake: FakeTwentyFour, write_config: WriteConfig
) -> None:
    config = write_config(STAGES)
    assert len(_plan(cli, config)["warnings"]) == 2  # type: ignore[arg-type]

    confirmed = cli(
        "confirm", config, "--target", "24so://", "--by", "anna", "--kinds", "sales.stages"
    )

    assert confirmed.exit_code == 0, confirmed.output
    assert "on this machine only" in confirmed.stderr
    assert "confirmed by hand: sales.stages (until" in confirmed.stdout
    after = _plan(cli, config)
    assert len(after["warnings"]) == 1  # type: ignore[arg-type]
    (attested,) = after["attested"]  # type: ignore[misc]
    assert (attested["kind"], attested["field"], attested["by"]) == ("sales.stages", None, "anna")
    text = cli("plan", config, "--target", "24so://").stdout
    assert "Confirmed by hand (1)" in text and "sales.stages: confirmed by anna on" in text
    assert fake.write_calls() == []

    config.write_text(STAGES.replace("probability: 20", "probability: 25"))
    changed = cli("plan", config, "--target", "24so://").stdout
    assert "sales.stages not compared" in changed
    assert "(changed since confirmed by anna on" in changed


def test_an_expired_confirmation_brings_the_check_back(
    cli: Cli, fake: FakeTwentyFour, write_config: WriteConfig, tmp_path: Path
) -> None:
    config = write_config(STAGES)
    assert (
        cli("confirm", config, "--target", "24so://", "--by", "anna", "--days", "1").exit_code == 0
    )
    store = tmp_path / "confirmations.json"
    document = json.loads(store.read_text())
    for entry in document["confirmations"]:
        entry["expires"] = "2020-01-01"
    store.write_text(json.dumps(document))

    text = cli("plan", config, "--target", "24so://").stdout

    assert "expired on 2020-01-01" in text
    history = cli("history", "--target", "24so://")
    assert history.exit_code == 0, history.output
    assert "anna" in history.stdout and "confirm  sales.stages" in history.stdout


def test_confirming_what_is_not_a_check_is_an_error_and_writes_nothing(
    cli: Cli, fake: FakeTwentyFour, write_config: WriteConfig, tmp_path: Path
) -> None:
    config = write_config(STAGES + "categories: [{name: Partner, show_on: both}]\n")

    readable = cli("confirm", config, "--target", "24so://", "--kinds", "categories")
    unmanaged = cli("confirm", config, "--target", "24so://", "--kinds", "industries")
    unknown = cli("confirm", config, "--target", "24so://", "--kinds", "sales.stagez")
    forged = cli("confirm", config, "--target", "24so://", "--by", "anna\nroot")

    for result in (readable, unmanaged, unknown, forged):
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("error: ")
    assert "nothing to confirm for categories" in readable.stderr
    assert "--kinds: no kind is called 'sales.stagez'" in unknown.stderr
    assert "did you mean 'sales.stages'?" in unknown.stderr
    assert not (tmp_path / "confirmations.json").exists()


def _confirmed_file(cli: Cli, config: Path, tmp_path: Path) -> dict[str, object]:
    confirmed = cli(
        "confirm", config, "--target", "24so://", "--by", "anna", "--kinds", "sales.stages"
    )
    assert confirmed.exit_code == 0, confirmed.output
    document: dict[str, object] = json.loads((tmp_path / "confirmations.json").read_text())
    return document


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ({"expires": 5}, "holds an entry crmconf did not write"),
        ({"expires": "next spring"}, "holds an entry crmconf did not write"),
        ({"at": ["2026-11-20"]}, "holds an entry crmconf did not write"),
        ({"field": 3}, "holds an entry crmconf did not write"),
    ],
)
def test_a_confirmations_entry_of_the_wrong_shape_is_named_not_a_traceback(
    cli: Cli,
    fake: FakeTwentyFour,
    write_config: WriteConfig,
    tmp_path: Path,
    damage: dict[str, object],
    expected: str,
) -> None:
    config = write_config(STAGES)
    document = _confirmed_file(cli, config, tmp_path)
    document["confirmations"][0].update(damage)  # type: ignore[index]
    (tmp_path / "confirmations.json").write_text(json.dumps(document), encoding="utf-8")

    result = cli("plan", config, "--target", "24so://")

    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert expected in result.stderr


def test_a_confirmations_file_nested_too_deep_or_not_a_file_is_named(
    cli: Cli, fake: FakeTwentyFour, write_config: WriteConfig, tmp_path: Path
) -> None:
    config = write_config(STAGES)
    path = tmp_path / "confirmations.json"
    path.write_text("[" * 100_000, encoding="utf-8")

    nested = cli("plan", config, "--target", "24so://")

    assert nested.exit_code == 1
    assert nested.exception is None or isinstance(nested.exception, SystemExit)
    assert f"cannot read the confirmations in {path}" in nested.stderr
    path.unlink()
    path.symlink_to("/dev/zero")  # read whole, it would never end
    device = cli("plan", config, "--target", "24so://")
    assert device.exit_code == 1
    assert f"cannot read the confirmations in {path}: not a regular file" in device.stderr
