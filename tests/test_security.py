"""Configuration directories stay inside their root unless the user says otherwise."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result

Cli = Callable[..., Result]
CONFIG = "crmconf: 1\nindustries: [Bygg]\n"


def _directory_linking(tmp_path: Path, target: Path) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "main.yaml").write_text("crmconf: 1\nstatus_types: [Aktiv]\n", encoding="utf-8")
    (folder / "linked.yaml").symlink_to(target)
    return folder


def test_a_link_leading_outside_the_directory_is_refused(cli: Cli, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(CONFIG, encoding="utf-8")
    folder = _directory_linking(tmp_path, outside)

    refused = cli("validate", folder)

    assert refused.exit_code == 1
    assert f"{folder / 'linked.yaml'}: linked.yaml leads outside" in refused.output
    assert "--allow-outside-root" in refused.output
    allowed = cli("--allow-outside-root", "validate", folder)
    assert allowed.exit_code == 0, allowed.output


def test_a_link_inside_the_directory_is_fine(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    shared = folder / "shared"
    shared.mkdir()
    (shared / "industries.yml.txt").write_text(CONFIG, encoding="utf-8")
    (folder / "linked.yaml").symlink_to(shared / "industries.yml.txt")

    assert cli("validate", folder).exit_code == 0


def test_an_environment_overlay_cannot_link_outside_either(cli: Cli, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(CONFIG, encoding="utf-8")
    root = tmp_path / "crm"
    (root / "base").mkdir(parents=True)
    (root / "envs" / "prod").mkdir(parents=True)
    (root / "base" / "main.yaml").write_text(CONFIG, encoding="utf-8")
    (root / "envs" / "prod" / "linked.yaml").symlink_to(outside)

    refused = cli("validate", root, "--env", "prod")

    assert refused.exit_code == 1
    assert "leads outside the configuration directory" in refused.output
