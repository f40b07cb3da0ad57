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
