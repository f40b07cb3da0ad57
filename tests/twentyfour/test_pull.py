"""`crmconf pull --target 24so://` against the fake 24SevenOffice server over HTTP."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from crmconf.testing import FakeTwentyFour

Cli = Callable[..., Result]

CONFIG = """\
crmconf: 1
categories:
  - {name: VIP, show_on: both}        # our best
  - {name: Partner, show_on: customer}
  - {name: Newsletter, show_on: contact}
industries: [Consulting, Retail, Manufacturing, Public sector]
sales:
  stages:
    - {title: Steg 1 Telefonsamtal, probability: 15, status: open}
    - {title: Vunnen, probability: 100, status: closed_won}
"""


@pytest.fixture
def crm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwentyFour]:
    with FakeTwentyFour() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("CRMCONF_24SO_RETRIES", "1")
        yield server


def test_pull_from_24sevenoffice_writes_what_the_api_reads_and_names_the_rest(
    cli: Cli, crm: FakeTwentyFour, tmp_path: Path
) -> None:
    config = tmp_path / "acme.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    crm.data.categories[2].show_contact = True  # Partner: customers and contacts
    crm.data.categories[1].name = "VIP-kund"
    crm.data.industries[5] = "Energy"

    pulled = cli("pull", config, "--target", "24so://")

    assert pulled.exit_code == 0, pulled.output
    assert "24so:// → Demo AS" in pulled.output
    assert '- category "VIP": not in the CRM' in pulled.output
    assert '+ category "VIP-kund": only in the CRM' in pulled.output
    assert "no record of the ids crmconf applied" in pulled.output
    assert "left alone: not read from the target, so not pulled" in pulled.output
    assert config.read_text(encoding="utf-8") == textwrap.dedent(
        """\
        crmconf: 1
        categories:
          - {name: Partner, show_on: both}
          - {name: Newsletter, show_on: contact}
          - {name: VIP-kund, show_on: both}
        industries: [Consulting, Retail, Manufacturing, Public sector, Energy]
        sales:
          stages:
            - {title: Steg 1 Telefonsamtal, probability: 15, status: open}
            - {title: Vunnen, probability: 100, status: closed_won}
        """
    )
    again = cli("pull", config, "--target", "24so://")
    assert again.exit_code == 0 and "Nothing to pull" in again.output


def test_pull_from_an_unreachable_24sevenoffice_changes_no_file(
    cli: Cli, crm: FakeTwentyFour, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "acme.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("CRMCONF_24SO_PASSWORD", "wrong-Pa55word-7f3a")

    refused = cli("pull", config, "--target", "24so://")

    assert refused.exit_code == 1
    assert "Traceback" not in refused.output and "wrong-Pa55word-7f3a" not in refused.output
    assert config.read_text(encoding="utf-8") == CONFIG


def test_pull_of_only_what_24sevenoffice_cannot_read_is_an_error(
    cli: Cli, crm: FakeTwentyFour, tmp_path: Path
) -> None:
    config = tmp_path / "stages.yaml"
    stages = "crmconf: 1\nsales:\n  stages:\n    - {title: Vunnen, probability: 100, status: closed_won}\n"
    config.write_text(stages, encoding="utf-8")

    refused = cli("pull", config, "--target", "24so://")

    assert refused.exit_code == 1, refused.output
    assert f"{config}:" in refused.output  # located
    assert "cannot read any of what the configuration manages (sales.stages)" in refused.output
    assert config.read_text(encoding="utf-8") == stages
    fine = cli("pull", config, "--target", "24so://", "--exclude", "sales.stages")
    assert fine.exit_code == 0 and "Nothing to pull" in fine.output
