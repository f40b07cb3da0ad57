"""The firm's own rules (issue 16, item 3): `rules:` in a configuration and in crmconf.yaml.

Each test writes real YAML files and runs the real CLI (validate, plan --all, apply --all
against a real SQLite sandbox); each rule of the vocabulary is shown firing and quiet.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from crmconf import api
from crmconf.config.firm_rules import RuleSet
from crmconf.kinds import INDUSTRIES
from crmconf.targets.sandbox.admin import init_sandbox
from crmconf.tenants import load_project

WriteConfig = Callable[..., Path]
Cli = Callable[..., Result]

BASE = """\
    crmconf: 1
    industries: [Bygg, Handel]
    categories:
      - {name: Partner, show_on: customer}
      - {name: leverantör, show_on: customer}
    groups:
      - {name: Försäljning, type: sales, members: [anna@example.com]}
      - {name: Support, type: standard}
    sales:
      rejection_reasons: [Pris]
      stages:
        - {title: Lead, probability: 2, status: open}
        - {title: Offert, probability: 50, status: open}
        - {title: Vunnen, probability: 100, status: closed_won}
        - {title: Tappad, probability: 0, status: closed_lost, rejection_reason: Pris}
"""


def _with_rules(write_config: WriteConfig, rules: str, base: str = BASE) -> Path:
    return write_config(textwrap.dedent(base) + textwrap.dedent(rules))


def _one_rule(write_config: WriteConfig, check: str) -> Path:
    """BASE with one rule, `firm`, of the check given (written in flow style)."""
    rule = f"    - id: firm\n      message: the rule says so\n      {check}\n"
    return write_config(textwrap.dedent(BASE) + "rules:\n  check:\n" + rule)


@pytest.mark.parametrize(
    ("check", "line", "message"),
    [
        (
            "require: {kind: industries, items: [Bygg, IT]}",
            18,
            "the rule says so (industries has no 'IT')",
        ),
        (
            "require_stage: {status: open_won}",
            18,
            "the rule says so (no open_won stage)",
        ),
        (
            "range: {kind: sales.stages, field: probability, min: 5, max: 95,"
            " unless: {status: [closed_won, closed_lost]}}",
            12,
            "the rule says so (stage 'Lead' has probability 2)",
        ),
        (
            'pattern: {kind: categories, regex: "[A-ZÅÄÖ].*"}',
            5,
            "the rule says so (category 'leverantör': 'leverantör' does not match '[A-ZÅÄÖ].*')",
        ),
        (
            "members: {group: Support, at_least: 1}",
            8,
            "the rule says so (group 'Support' has 0 member(s))",
        ),
    ],
)
def test_each_check_fires_as_a_located_error(
    cli: Cli, write_config: WriteConfig, check: str, line: int, message: str
) -> None:
    path = _one_rule(write_config, check)
    # `rules:` is line 16: a violation with no item to point at points at its rule (18).

    result = cli("validate", path)

    assert result.exit_code == 1, result.output
    assert f"error: {path}:{line}:" in result.output
    assert message in result.output
    assert "hint: rule firm" in result.output


@pytest.mark.parametrize(
    "check",
    [
        "require: {kind: industries, items: [bygg, HANDEL]}",
        "require_stage: {status: closed_lost, with_rejection_reason: true}",
        "range: {kind: sales.stages, field: probability, min: 0, max: 100}",
        'pattern: {kind: categories, regex: "[A-Za-zö]+"}',
        "members: {group: Försäljning, at_least: 1}",
    ],
)
def test_each_check_stays_quiet_when_it_holds(
    cli: Cli, write_config: WriteConfig, check: str
) -> None:
    path = _one_rule(write_config, check)

    result = cli("validate", "--strict", path)

    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_a_lost_stage_without_reason_fails_the_stage_rule(
    cli: Cli, write_config: WriteConfig
) -> None:
    base = BASE.replace(", rejection_reason: Pris}", "}")
    path = _with_rules(
        write_config,
        """\
        rules:
          check:
            - id: lost-reason
              message: lost deals say why
              require_stage: {status: closed_lost, with_rejection_reason: true}
        """,
        base,
    )

    result = cli("validate", path)

    assert result.exit_code == 1
    assert "lost deals say why (no closed_lost stage naming a rejection reason)" in result.output


def test_a_warning_rule_warns_and_strict_refuses(cli: Cli, write_config: WriteConfig) -> None:
    path = _with_rules(
        write_config,
        """\
        rules:
          check:
            - id: support-staffed
              message: support has someone
              severity: warning
              members: {group: Support, at_least: 1}
        """,
    )

    warned = cli("validate", path)
    strict = cli("validate", "--strict", path)

    assert warned.exit_code == 0, warned.output
    assert f"warning: {path}:8:5: support has someone (group 'Support' has 0 member(s))" in (
        warned.output
    )
    assert strict.exit_code == 1
    assert f"error: {path}:8:5: support has someone" in strict.output


def test_built_in_lint_is_switched_off_by_id(cli: Cli, write_config: WriteConfig) -> None:
    base = BASE.replace(", rejection_reason: Pris}", "}")
    linted = write_config(textwrap.dedent(base), "linted.yaml")
    quiet = _with_rules(write_config, "rules:\n  disable: [builtin.lost-reason]\n", base)

    warned = cli("validate", "--strict", linted)
    switched_off = cli("validate", "--strict", quiet)

    assert warned.exit_code == 1
    assert "stage 'Tappad' is lost but names no rejection reason" in warned.output
    assert switched_off.exit_code == 0, switched_off.output


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            "rules:\n  disable: [builtin.no-such]\n",
            "17:13: rules.disable names rule 'builtin.no-such', which is not defined",
        ),
        (
            "rules:\n  check:\n    - {id: x, message: m, require: {kind: industry, items: [A]}}\n",
            "18:7: rule 'x' cannot be evaluated: unknown kind 'industry'",
        ),
        (
            "rules:\n  check:\n    - {id: x, message: m, range: {kind: sales.stages, "
            "field: chance, min: 0}}\n",
            "18:7: rule 'x' cannot be evaluated: sales.stages has no field 'chance'",
        ),
        (
            "rules:\n  check:\n    - {id: x, message: m, range: {kind: groups, "
            "field: description, min: 0}}\n",
            "18:7: rule 'x' cannot be evaluated: groups field 'description' is not a number",
        ),
        (
            "rules:\n  check:\n    - {id: x, message: m, require: {kind: status_types, "
            "items: [A]}}\n",
            "18:7: rule 'x' cannot be evaluated: status_types is not managed",
        ),
        (
            "rules:\n  check:\n    - {id: x, message: m, members: {group: Nobody, at_least: 1}}\n",
            "18:7: rule 'x' cannot be evaluated: groups has no 'Nobody'",
        ),
        (
            'rules:\n  check:\n    - {id: x, message: m, pattern: {kind: categories, regex: "[A-"}}\n',
            "rules.check[0].pattern.regex: Value error, invalid regular expression",
        ),
        (
            "rules:\n  check:\n    - {id: x, message: m}\n",
            "a rule has exactly one check",
        ),
        (  # printed in every error it raises: a line break would forge a line of its own
            'rules:\n  check:\n    - {id: x, message: "m\\u001b[2J\\nerror: all fine", '
            "members: {group: Support, at_least: 0}}\n",
            "rules.check[0].message: the message holds U+001B, which would break or reorder "
            "the line it is printed on",
        ),
        (  # NaN compares false with every value: a rule that could never fire
            "rules:\n  check:\n    - {id: x, message: m, range: {kind: sales.stages, "
            "field: probability, min: .nan}}\n",
            "rules.check[0].range.min: Input should be a finite number",
        ),
        (
            "rules:\n  check:\n    - {id: x, message: m, members: {group: Support, at_least: 0}}\n"
            "    - {id: x, message: m, members: {group: Support, at_least: 0}}\n",
            "19:7: rule id 'x' is given twice; also at",
        ),
    ],
)
def test_a_rule_that_cannot_be_used_is_a_located_error(
    cli: Cli, write_config: WriteConfig, rules: str, expected: str
) -> None:
    path = write_config(textwrap.dedent(BASE) + rules)

    result = cli("validate", path)

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert f"error: {path}:" in result.output
    assert expected in result.output, result.output


def _project(tmp_path: Path, rules: str, acme_rules: str = "") -> Path:
    (tmp_path / "shared.yaml").write_text(textwrap.dedent(BASE), encoding="utf-8")
    for name in ("acme", "beta"):
        init_sandbox(f"sqlite:///{tmp_path / f'{name}.db'}", demo=True)
    path = tmp_path / "crmconf.yaml"
    path.write_text(
        "crmconf: 1\n"
        "tenants:\n"
        f"  - {{name: acme, target: 'sqlite:///{tmp_path / 'acme.db'}', config: shared.yaml"
        f"{acme_rules}}}\n"
        f"  - {{name: beta, target: 'sqlite:///{tmp_path / 'beta.db'}', config: shared.yaml}}\n"
        + textwrap.dedent(rules),
        encoding="utf-8",
    )
    return path


FIRM_RULE = """\
    rules:
      check:
        - id: industries
          message: every client has the firm's industries
          require: {kind: industries, items: [Bygg, Handel, IT]}
"""


def _industries(url: str) -> list[str]:
    with api.open_target(url) as target:
        return sorted(item.name for item in target.read([INDUSTRIES]).of(INDUSTRIES))


def test_project_rules_apply_to_every_tenant_and_refuse_nothing_written(
    cli: Cli, tmp_path: Path
) -> None:
    project = _project(tmp_path, FIRM_RULE)
    before = _industries(f"sqlite:///{tmp_path / 'acme.db'}")

    result = cli("apply", "--all", "--project", project, "--yes")

    assert result.exit_code == 1
    assert (
        f"{project}:7:7: every client has the firm's industries (industries has no 'IT')"
        in result.output
    )
    assert result.output.count("industries has no 'IT'") == 2
    assert _industries(f"sqlite:///{tmp_path / 'acme.db'}") == before


def test_a_tenant_switches_a_project_rule_off(cli: Cli, tmp_path: Path) -> None:
    project = _project(tmp_path, FIRM_RULE, ", rules: {disable: [industries]}")

    result = cli("plan", "--all", "--project", project)

    assert result.exit_code == 1
    assert result.output.count("industries has no 'IT'") == 1
    assert "== acme" in result.output


def test_an_unknown_rule_a_tenant_switches_off_is_a_located_error_naming_it(
    cli: Cli, tmp_path: Path
) -> None:
    project = _project(tmp_path, "", ", rules: {disable: [builtin.lost-reasons]}")

    result = cli("plan", "--all", "--project", project)

    assert result.exit_code == 1
    assert (
        f"{project}:3:"
        in result.output.split("tenant 'acme': rules.disable names rule 'builtin.lost-reasons'")[0]
    )
    assert "which is not defined" in result.output


def test_a_tenant_switches_off_built_in_lint(cli: Cli, tmp_path: Path) -> None:
    project = _project(tmp_path, "", ", rules: {disable: [builtin.open-order]}")
    (tmp_path / "shared.yaml").write_text(
        textwrap.dedent(BASE).replace("probability: 50", "probability: 1"), encoding="utf-8"
    )

    result = cli("plan", "--all", "--project", project, "--strict")

    assert "open stage 'Offert' (1 %) comes after 'Lead' (2 %)" in result.output
    assert result.output.count("comes after 'Lead'") == 1


def test_an_environments_rules_add_to_the_bases(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "crm/base").mkdir(parents=True)
    (tmp_path / "crm/envs/prod").mkdir(parents=True)
    (tmp_path / "crm/base/settings.yaml").write_text(
        "crmconf: 1\nindustries: [Bygg]\nrules:\n  check:\n"
        "    - {id: bygg, message: Bygg exists, require: {kind: industries, items: [Bygg]}}\n"
    )
    overlay = tmp_path / "crm/envs/prod/overlay.yaml"
    overlay.write_text(
        "crmconf: 1\nindustries: [Handel]\nrules:\n  check:\n"
        "    - {id: it, message: prod has IT, require: {kind: industries, items: [IT]}}\n"
    )

    result = cli("validate", tmp_path / "crm")

    assert result.exit_code == 1
    assert "[base]: valid" in result.output
    assert f"error: {overlay}:5:7: [prod] prod has IT (industries has no 'IT')" in result.output


def test_rules_add_problems_but_never_change_what_is_loaded(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path, FIRM_RULE.replace("Handel, IT", "Handel")))
    (acme, _beta) = project.tenants
    quiet = BASE.replace("probability: 50", "probability: 1")
    (tmp_path / "shared.yaml").write_text(textwrap.dedent(quiet), encoding="utf-8")

    plain = api.load(tmp_path / "shared.yaml")
    ruled = api.load(
        tmp_path / "shared.yaml",
        rules=acme.rules + RuleSet(off=(("builtin.open-order", None),)),
        rules_of="tenant 'acme'",
    )

    assert plain.content_digest == ruled.content_digest
    assert [warning.rule for warning in plain.warnings] == ["builtin.open-order"]
    assert ruled.warnings == ()


def test_a_pattern_that_backtracks_forever_is_an_error_at_the_rule_not_a_hang(
    tmp_path: Path,
) -> None:
    # Python's re backtracks through (a|aa)+ for ever on a name of 60 a's and a '!':
    # validate, the pre-commit hook and plan --all hung. A pattern gets a time budget.
    path = tmp_path / "config.yaml"
    path.write_text(
        "crmconf: 1\nindustries: [" + "a" * 60 + "!]\nrules:\n  check:\n"
        '    - {id: slow, message: m, pattern: {kind: industries, regex: "(a|aa)+"}}\n',
        encoding="utf-8",
    )
    started = time.monotonic()

    run = subprocess.run(
        [sys.executable, "-m", "crmconf", "validate", "--no-cache", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert time.monotonic() - started < 15
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"error: {path}:5:7: rule 'slow' cannot be evaluated" in run.stderr
    assert "too long" in run.stderr
    assert "Traceback" not in run.stderr
