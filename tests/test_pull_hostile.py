"""`crmconf pull` against awkward CRM contents and awkward files: each test is a defect
found by trying to break pull, through the command, with real sandboxes and files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from sqlalchemy import create_engine, text

Cli = Callable[..., Result]
Write = Callable[..., Path]


def by_hand(url: str, *statements: str) -> None:
    """Change the sandbox as its admin UI would: straight in its tables."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def test_a_name_a_configuration_cannot_hold_is_left_alone_and_the_rest_is_pulled(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config("crmconf: 1\nindustries: [Bygg, Data/IT, Turism]\n")
    by_hand(
        demo_url,
        "INSERT INTO industries (name) VALUES ('Handel')",
        "INSERT INTO industries (name) VALUES ('Tab\tbar')",
        "INSERT INTO industries (name) VALUES (' ')",
    )

    pulled = _ok(cli("pull", config, "--target", demo_url))

    assert config.read_text(encoding="utf-8") == (
        "crmconf: 1\nindustries: [Bygg, Data/IT, Turism, Handel]\n"
    )
    assert "left alone: industry \"Tab\\tbar\": its name in the CRM" in pulled.output
    assert "left alone: industry \" \": its name in the CRM" in pulled.output
    assert "bug in crmconf" not in pulled.output


def test_an_item_an_overlay_drops_is_left_alone_not_added_to_the_base(
    cli: Cli, demo_url: str, tmp_path: Path
) -> None:
    base = tmp_path / "crm" / "base" / "settings.yaml"
    prod = tmp_path / "crm" / "envs" / "prod" / "settings.yaml"
    base.parent.mkdir(parents=True)
    prod.parent.mkdir(parents=True)
    base.write_text("crmconf: 1\nindustries: [Bygg, Data/IT, Turism, Handel]\n", encoding="utf-8")
    prod.write_text("crmconf: 1\ndrop:\n  industries: [Handel]\n", encoding="utf-8")
    by_hand(demo_url, "INSERT INTO industries (name) VALUES ('Handel')")
    before = base.read_bytes(), prod.read_bytes()

    pulled = _ok(cli("pull", tmp_path / "crm", "--env", "prod", "--target", demo_url))

    assert f'left alone: industry "Handel": {prod}:3:16 drops it (drop:)' in pulled.output
    assert "Nothing to pull" in pulled.output
    assert (base.read_bytes(), prod.read_bytes()) == before
