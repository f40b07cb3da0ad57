"""What a target cannot read is left out of the comparison and listed as checks for a person."""

from __future__ import annotations

import textwrap
from pathlib import Path

from crmconf.config.reading import load
from crmconf.kinds import GROUPS
from crmconf.model.configuration import Configuration
from crmconf.targets.visibility import Unreadable, without_unreadable

BLIND = Unreadable(
    kinds=frozenset({"sales.stages", "sales.rejection_reasons", "features.restore_customers"}),
    fields={GROUPS.name: frozenset({"description"})},
)


def load_text(tmp_path: Path, text: str) -> Configuration:
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load(path)


def test_a_target_that_reads_everything_gets_the_configuration_unchanged(tmp_path: Path) -> None:
    config = load_text(tmp_path, "crmconf: 1\nindustries: [Bygg]\n")

    assert without_unreadable(config, Unreadable(), "sqlite:///x") == (config, ())


def test_unreadable_kinds_and_fields_become_checks(tmp_path: Path) -> None:
    config = load_text(
        tmp_path,
        """\
        crmconf: 1
        groups:
          - {name: Sälj, type: sales, description: Alla säljare}
          - {name: Support, type: standard}
        sales:
          rejection_reasons: [Pris]
          stages:
            - {title: Steg 1, probability: 10, status: open}
        features: {restore_customers: true}
        removed:
          sales:
            stages: [{title: Steg 0, move_opportunities_to: Steg 1}]
            rejection_reasons: [{name: Övrigt, clear: true}]
        """,
    )

    visible, checks = without_unreadable(config, BLIND, "24so://")

    assert set(visible.sections) == {GROUPS.name}
    assert [record.fields for record in visible.sections[GROUPS.name]] == [
        {"type": "sales", "members": [], "parent": None},
        {"type": "standard", "members": [], "parent": None},
    ]
    assert visible.removals == {}
    texts = [check.message for check in checks]
    assert texts[0].startswith("groups: description not compared: 24so:// cannot read it")
    assert "- Sälj: Alla säljare" in texts[0] and "Support" not in texts[0]
    assert texts[1].startswith("sales.rejection_reasons not compared")
    assert "1. Pris\nand that these are deleted:" in texts[1].replace("    ", "")
    assert "- Övrigt, after clearing it wherever it is used" in texts[1]
    assert "1. Steg 1 (Sannolikhet: 10 %; Status: Öppen; Avvisning: –)" in texts[2]
    assert "- Steg 0, after moving what uses it to Steg 1" in texts[2]
    assert "that 'restore_customers' is on." in texts[3]
    assert checks[2].location is not None and checks[2].location.line == 8


def test_descriptions_nobody_wrote_need_no_check(tmp_path: Path) -> None:
    config = load_text(tmp_path, "crmconf: 1\ngroups: [{name: A, type: sales}]\n")

    _, checks = without_unreadable(config, BLIND, "24so://")

    assert checks == ()
