"""Rules across items: references, renames and the pipeline's lint warnings.

Rules that need the target are checked by planning against a real demo sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from crmconf.api import load, plan
from crmconf.errors import ConfigError
from crmconf.targets.sandbox.target import SandboxTarget

WriteConfig = Callable[..., Path]
Cli = Callable[..., Result]

DEMO_STAGES = """\
    - {title: Steg 1 Telefonsamtal, probability: 15, status: open}
    - {title: Steg 2 Första besök, probability: 35, status: open}
    - {title: Steg 3 Andra besök, probability: 50, status: open}
    - {title: Steg 4 Uppföljningssamtal, probability: 100, status: open_won}
"""
"""The demo sandbox's pipeline, which its opportunities use."""


def _problems_loading(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load(path)
    return [str(problem) for problem in raised.value.problems]


def _problems_planning(path: Path, target: SandboxTarget) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        plan(load(path), target)
    return [str(problem) for problem in raised.value.problems]


def _warnings(path: Path) -> list[str]:
    return [str(warning) for warning in load(path).warnings]


# A stage's rejection reason must exist


def test_rejection_reason_must_be_in_the_configuration(write_config: WriteConfig) -> None:
    path = write_config(
        """\
        crmconf: 1
        sales:
          rejection_reasons: [Pris]
          stages:
            - {title: Ny, probability: 10, status: open}
            - {title: Förlorad, probability: 0, status: closed_lost, rejection_reason: Tid}
        """
    )

    (problem,) = _problems_loading(path)

    assert problem.startswith(f"{path}:6:7: stage 'Förlorad' names rejection reason 'Tid'")
    assert "add 'Tid' to sales.rejection_reasons" in problem


def test_rejection_reason_matches_by_identity(write_config: WriteConfig) -> None:
    path = write_config(
        """\
        crmconf: 1
        sales:
          rejection_reasons: [Gått till konkurrent]
          stages:
            - {title: Ny, probability: 10, status: open}
            - {title: L, probability: 0, status: closed_lost, rejection_reason: GÅTT TILL  konkurrent}
        """
    )

    assert load(path).warnings == ()


def test_rejection_reason_in_an_unmanaged_section_must_be_in_the_target(
    write_config: WriteConfig, demo_target: SandboxTarget
) -> None:
    known = write_config(
        "crmconf: 1\nsales:\n  stages:\n"
        + DEMO_STAGES
        + "    - {title: L, probability: 0, status: closed_lost, rejection_reason: pris}\n",
        "known.yaml",
    )
    unknown = write_config(
        "crmconf: 1\nsales:\n  stages:\n"
        + DEMO_STAGES
        + "    - {title: L, probability: 0, status: closed_lost, rejection_reason: Tid}\n",
        "unknown.yaml",
    )

    assert not plan(load(known), demo_target).empty
    (problem,) = _problems_planning(unknown, demo_target)
    assert problem.startswith(f"{unknown}:8:7: stage 'L' names rejection reason 'Tid'")
    assert "the target does not have" in problem


# Group members must be users of the target


def test_group_members_must_be_users_of_the_target(
    write_config: WriteConfig, demo_target: SandboxTarget
) -> None:
    path = write_config(
        """\
        crmconf: 1
        groups:
          - name: Försäljning
            type: sales
            members: [anna@example.com]
            children:
              - name: Stockholm
                type: sales
                members: [erik@example.com, nobody@example.com]
        """
    )

    (problem,) = _problems_planning(path, demo_target)

    assert problem.startswith(f"{path}:7:9: group 'Stockholm': no such user in the target")
    assert "nobody@example.com" in problem
    assert "erik@example.com" not in problem


def test_group_members_that_are_users_are_accepted(
    write_config: WriteConfig, demo_target: SandboxTarget
) -> None:
    path = write_config(
        """\
        crmconf: 1
        groups:
          - {name: Försäljning, type: sales, description: Säljare, members: [anna@example.com]}
          - {name: Administration, type: standard, members: [lisa@example.com]}
        """
    )

    assert plan(load(path), demo_target).empty


# Renames


@pytest.mark.parametrize("old", ["Bygg", "BYGG", " bygg "])
def test_renamed_from_naming_an_item_still_in_the_configuration_is_an_error(
    write_config: WriteConfig, old: str
) -> None:
    path = write_config(
        f"crmconf: 1\nindustries:\n  - Bygg\n  - {{name: Byggnation, renamed_from: ['{old}']}}\n"
    )

    (problem,) = _problems_loading(path)

    assert problem.startswith(f"{path}:4:5: industry 'Byggnation' is renamed from")
    assert "still in the configuration" in problem


def test_two_items_renamed_from_the_same_old_name_is_an_error(write_config: WriteConfig) -> None:
    path = write_config(
        """\
        crmconf: 1
        industries:
          - {name: IT, renamed_from: [Data/IT]}
          - {name: Telekom, renamed_from: [data/it]}
        """
    )

    (problem,) = _problems_loading(path)

    assert problem.startswith(f"{path}:4:5: industry 'data/it' is renamed to both 'IT' and")
    assert "'Telekom'" in problem


def test_renames_from_distinct_old_names_are_accepted(write_config: WriteConfig) -> None:
    path = write_config(
        """\
        crmconf: 1
        industries:
          - {name: IT, renamed_from: [Data/IT, Data]}
          - {name: Telekom, renamed_from: [Tele, telekom]}
        """
    )

    assert [record.renamed_from for record in load(path).sections["industries"]] == [
        ("Data/IT", "Data"),
        ("Tele", "telekom"),
    ]


# Lint warnings: valid pipelines that forecast nonsense


def _stages(write_config: WriteConfig, *stages: str) -> Path:
    lines = "".join(f"    - {stage}\n" for stage in stages)
    return write_config(f"crmconf: 1\nsales:\n  rejection_reasons: [Pris]\n  stages:\n{lines}")


OPEN = "{title: Ny, probability: 10, status: open}"


def test_sensible_pipeline_has_no_warning(write_config: WriteConfig) -> None:
    path = _stages(
        write_config,
        "{title: A, probability: 10, status: open}",
        "{title: B, probability: 10, status: open}",
        "{title: C, probability: 60, status: open}",
        "{title: D, probability: 100, status: open_won}",
        "{title: E, probability: 100, status: closed_won}",
        "{title: F, probability: 0, status: closed_lost, rejection_reason: Pris}",
    )

    assert _warnings(path) == []


@pytest.mark.parametrize("status", ["open_won", "closed_won", "Öppen – vunnen", "Stängd - vunnen"])
@pytest.mark.parametrize("probability", [0, 90, 99])
def test_won_stage_whose_probability_is_not_100_is_a_warning(
    write_config: WriteConfig, status: str, probability: int
) -> None:
    path = _stages(
        write_config, OPEN, f"{{title: W, probability: {probability}, status: {status}}}"
    )

    (warning,) = _warnings(path)

    assert warning.startswith(f"{path}:6:7: stage 'W' is won")


@pytest.mark.parametrize("probability", [1, 50, 100])
def test_lost_stage_whose_probability_is_not_0_is_a_warning(
    write_config: WriteConfig, probability: int
) -> None:
    path = _stages(
        write_config,
        OPEN,
        f"{{title: L, probability: {probability}, status: closed_lost, rejection_reason: Pris}}",
    )

    (warning,) = _warnings(path)

    assert warning.startswith(f"{path}:6:7: stage 'L' is lost but its probability is")


def test_lost_stage_without_rejection_reason_is_a_warning(write_config: WriteConfig) -> None:
    path = _stages(write_config, OPEN, "{title: L, probability: 0, status: closed_lost}")

    (warning,) = _warnings(path)

    assert warning.startswith(f"{path}:6:7: stage 'L' is lost but names no rejection reason")


def test_open_stages_whose_probability_decreases_is_a_warning(write_config: WriteConfig) -> None:
    path = _stages(
        write_config,
        "{title: A, probability: 30, status: open}",
        "{title: W, probability: 100, status: open_won}",
        "{title: B, probability: 20, status: open}",
    )

    (warning,) = _warnings(path)

    assert warning.startswith(f"{path}:7:7: open stage 'B' (20 %) comes after 'A' (30 %)")


@pytest.mark.parametrize(
    "stages",
    [
        (),
        ("{title: W, probability: 100, status: open_won}",),
        (
            "{title: W, probability: 100, status: closed_won}",
            "{title: L, probability: 0, status: closed_lost, rejection_reason: Pris}",
        ),
    ],
    ids=["no stage", "only won", "only closed"],
)
def test_pipeline_without_open_stage_is_a_warning(
    write_config: WriteConfig, stages: tuple[str, ...]
) -> None:
    if stages:
        path = _stages(write_config, *stages)
    else:
        path = write_config("crmconf: 1\nsales:\n  stages: []\n")

    (warning,) = _warnings(path)

    assert "the pipeline has no open stage" in warning


def test_unmanaged_stages_are_not_linted(write_config: WriteConfig) -> None:
    assert _warnings(write_config("crmconf: 1\nindustries: []\n")) == []


def test_lint_warnings_exit_0_on_stderr_and_1_with_strict(
    write_config: WriteConfig, cli: Cli
) -> None:
    path = _stages(write_config, "{title: W, probability: 90, status: open_won}")

    lenient = cli("validate", path)
    strict = cli("validate", path, "--strict")

    assert lenient.exit_code == 0, lenient.output
    assert lenient.stderr.count("warning: ") == 2
    assert f"warning: {path}:5:7: stage 'W' is won" in lenient.stderr
    assert "valid" in lenient.stdout
    assert "warning:" not in lenient.stdout
    assert strict.exit_code == 1, strict.output
    assert f"error: {path}:5:7: stage 'W' is won" in strict.stderr
    assert "2 errors" in strict.stderr


def test_strict_plan_refuses_warnings_and_writes_nothing(
    write_config: WriteConfig, cli: Cli, sandbox_url: str
) -> None:
    path = _stages(write_config, "{title: L, probability: 5, status: closed_lost}")

    strict = cli("apply", path, "--target", sandbox_url, "--yes", "--strict")
    lenient = cli("plan", path, "--target", sandbox_url, "--detailed-exitcode")

    assert strict.exit_code == 1, strict.output
    assert "error:" in strict.stderr
    assert lenient.exit_code == 2, lenient.output
    assert "Plan: 2 to add, 0 to change, 0 to delete." in lenient.stdout
