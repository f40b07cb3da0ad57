"""credentials_from_env and Secret: clear errors, no secret ever printed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from crmconf.errors import TargetError
from crmconf.targets.twentyfour import Secret, credentials_from_env

APP = "6a1f9c2e-1b2c-4d3e-8f40-123456789abc"
GOOD = {
    "CRMCONF_24SO_APPLICATION_ID": APP,
    "CRMCONF_24SO_USERNAME": "me@example.com",
    "CRMCONF_24SO_PASSWORD": "s3cret-value",
}


def test_reads_everything_with_defaults() -> None:
    credentials = credentials_from_env(GOOD)

    assert credentials.application_id == APP
    assert credentials.username == "me@example.com"
    assert credentials.password.reveal() == "s3cret-value"
    assert credentials.identity_id is None
    assert credentials.base_url == "https://api.24sevenoffice.com"


def test_optional_identity_and_url() -> None:
    identity = "11111111-2222-4333-8444-555555555555"
    credentials = credentials_from_env(
        {**GOOD, "CRMCONF_24SO_IDENTITY_ID": identity, "CRMCONF_24SO_URL": "https://example.test/"}
    )
    assert credentials.identity_id == identity
    assert credentials.base_url == "https://example.test"


def test_missing_variables_are_all_named_and_no_values_shown() -> None:
    with pytest.raises(TargetError) as caught:
        credentials_from_env({"CRMCONF_24SO_USERNAME": "me@example.com"})

    message = str(caught.value)
    assert "CRMCONF_24SO_APPLICATION_ID" in message
    assert "CRMCONF_24SO_PASSWORD" in message and "CRMCONF_24SO_PASSWORD_FILE" in message
    assert "CRMCONF_24SO_USERNAME" not in message
    assert "me@example.com" not in message


def test_password_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "password"
    secret_file.write_text("from-file\n", encoding="utf-8")
    environ = {k: v for k, v in GOOD.items() if k != "CRMCONF_24SO_PASSWORD"}

    credentials = credentials_from_env({**environ, "CRMCONF_24SO_PASSWORD_FILE": str(secret_file)})

    assert credentials.password.reveal() == "from-file"


def test_unreadable_password_file_names_the_variable(tmp_path: Path) -> None:
    environ = {k: v for k, v in GOOD.items() if k != "CRMCONF_24SO_PASSWORD"}
    with pytest.raises(TargetError, match="CRMCONF_24SO_PASSWORD_FILE"):
        credentials_from_env({**environ, "CRMCONF_24SO_PASSWORD_FILE": str(tmp_path / "nope")})


def test_password_and_password_file_together_are_ambiguous(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="only one of"):
        credentials_from_env({**GOOD, "CRMCONF_24SO_PASSWORD_FILE": str(tmp_path / "x")})


@pytest.mark.parametrize("name", ["CRMCONF_24SO_APPLICATION_ID", "CRMCONF_24SO_IDENTITY_ID"])
def test_ids_must_be_guids(name: str) -> None:
    with pytest.raises(TargetError, match=name) as caught:
        credentials_from_env({**GOOD, name: "not-a-guid-value"})
    assert "not-a-guid-value" not in str(caught.value)


def test_url_must_be_http_or_https() -> None:
    with pytest.raises(TargetError, match="CRMCONF_24SO_URL"):
        credentials_from_env({**GOOD, "CRMCONF_24SO_URL": "api.24sevenoffice.com"})


def test_secret_redacts_itself_everywhere() -> None:
    secret = Secret("hunter2")
    credentials = credentials_from_env(GOOD)

    for text in (
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret:>20}",
        repr(credentials),
        str(credentials),
    ):
        assert "hunter2" not in text and "s3cret-value" not in text
    assert secret == Secret("hunter2") and secret != Secret("other")
    assert secret.reveal() == "hunter2"


def _with_password_file(path: str) -> dict[str, str]:
    environ = {k: v for k, v in GOOD.items() if k != "CRMCONF_24SO_PASSWORD"}
    return {**environ, "CRMCONF_24SO_PASSWORD_FILE": path}


def test_a_fifo_as_password_file_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "password.fifo"
    os.mkfifo(fifo)
    started = time.monotonic()

    with pytest.raises(TargetError, match="not a regular file") as caught:
        credentials_from_env(_with_password_file(str(fifo)))

    assert time.monotonic() - started < 2  # nobody writes to it: reading would hang
    assert "CRMCONF_24SO_PASSWORD_FILE" in str(caught.value)


def test_a_device_as_password_file_is_refused() -> None:
    with pytest.raises(TargetError, match="not a regular file"):
        credentials_from_env(_with_password_file("/dev/zero"))


def test_a_huge_password_file_is_refused_after_a_bounded_read(tmp_path: Path) -> None:
    big = tmp_path / "password"
    big.write_bytes(b"x" * (1024 * 1024))

    with pytest.raises(TargetError, match="larger than 4096 bytes") as caught:
        credentials_from_env(_with_password_file(str(big)))

    assert "xxxx" not in str(caught.value)


@pytest.mark.parametrize("password", ["pass\x01word", "pass\x00", "new\nline", "esc\x1b[0m"])
def test_a_password_with_a_control_character_is_a_clear_error(password: str) -> None:
    with pytest.raises(TargetError, match="control character") as caught:
        credentials_from_env({**GOOD, "CRMCONF_24SO_PASSWORD": password})

    assert password not in str(caught.value)
    assert "CRMCONF_24SO_PASSWORD" in str(caught.value)


def test_a_password_file_with_a_control_character_is_a_clear_error(tmp_path: Path) -> None:
    secret_file = tmp_path / "password"
    secret_file.write_bytes(b"bad\x07bell\n")

    with pytest.raises(TargetError, match=r"CRMCONF_24SO_PASSWORD_FILE.*control character"):
        credentials_from_env(_with_password_file(str(secret_file)))


def test_a_password_file_that_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    secret_file = tmp_path / "password"
    secret_file.write_bytes(b"\xff\xfe-latin")

    with pytest.raises(TargetError, match="not UTF-8"):
        credentials_from_env(_with_password_file(str(secret_file)))
