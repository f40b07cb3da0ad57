"""Credentials for the 24SevenOffice SOAP API, read from environment variables.

Secrets never live in configuration files: the password comes from
CRMCONF_24SO_PASSWORD or from a file named by CRMCONF_24SO_PASSWORD_FILE (the
usual way to hand a CI secret or a Docker/Kubernetes secret to a process).
Every error names the variables involved, never their values.
"""

from __future__ import annotations

import hmac
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from crmconf.errors import TargetError

DEFAULT_BASE_URL: Final = "https://api.24sevenoffice.com"

ENV_APPLICATION_ID: Final = "CRMCONF_24SO_APPLICATION_ID"
ENV_USERNAME: Final = "CRMCONF_24SO_USERNAME"
ENV_PASSWORD: Final = "CRMCONF_24SO_PASSWORD"
ENV_PASSWORD_FILE: Final = "CRMCONF_24SO_PASSWORD_FILE"
ENV_IDENTITY_ID: Final = "CRMCONF_24SO_IDENTITY_ID"
ENV_URL: Final = "CRMCONF_24SO_URL"

# The API types ApplicationId and IdentityId as .NET GUIDs; checking the shape
# here turns a typo into a clear local error instead of a server-side fault.
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_REDACTED: Final = "**********"
# A password file holds one line; reading at most this much bounds a mistake such as
# pointing the variable at a log file.
MAX_PASSWORD_FILE_BYTES: Final = 4096
# What XML 1.0 cannot carry, and what it would silently change (CR), is never part of
# a password typed into a login form: refusing it here beats a serializer error later.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class Secret:
    """A string that will not print itself, so it cannot leak through repr, str or f-strings.

    Call reveal() at the single place that must send the value.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({_REDACTED!r})"

    def __str__(self) -> str:
        return _REDACTED

    def __format__(self, format_spec: str) -> str:
        return _REDACTED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(Secret)  # all secrets collide on purpose: hashing must not leak content

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class Credentials:
    """What Login needs, plus where the API lives.

    `password` is a Secret, so printing a Credentials object is safe.
    """

    application_id: str
    username: str
    password: Secret
    identity_id: str | None = None
    base_url: str = DEFAULT_BASE_URL


def credentials_from_env(environ: Mapping[str, str]) -> Credentials:
    """Build Credentials from CRMCONF_24SO_* variables; raise TargetError naming what is wrong."""

    def get(name: str) -> str:
        return environ.get(name, "").strip()

    application_id = get(ENV_APPLICATION_ID)
    username = get(ENV_USERNAME)
    identity_id = get(ENV_IDENTITY_ID) or None
    base_url = get(ENV_URL) or DEFAULT_BASE_URL

    inline_password = environ.get(ENV_PASSWORD, "")
    password_file = get(ENV_PASSWORD_FILE)
    if inline_password and password_file:
        raise TargetError(
            f"24SevenOffice credentials: set only one of {ENV_PASSWORD} and {ENV_PASSWORD_FILE}"
        )

    missing = [
        name
        for name, value in ((ENV_APPLICATION_ID, application_id), (ENV_USERNAME, username))
        if not value
    ]
    if not inline_password and not password_file:
        missing.append(f"{ENV_PASSWORD} (or {ENV_PASSWORD_FILE})")
    if missing:
        raise TargetError("24SevenOffice credentials missing: set " + ", ".join(missing))

    if inline_password:
        password = _checked_password(inline_password, ENV_PASSWORD)
    else:
        password = _read_password_file(password_file)
    if _CONTROL.search(username):
        raise TargetError(
            f"24SevenOffice credentials: {ENV_USERNAME} contains a control character; "
            "set it to the login's user name"
        )

    malformed = [
        name
        for name, value in ((ENV_APPLICATION_ID, application_id), (ENV_IDENTITY_ID, identity_id))
        if value is not None and not _GUID.fullmatch(value)
    ]
    if malformed:
        raise TargetError(
            "24SevenOffice credentials: "
            + " and ".join(malformed)
            + " must be a GUID like 00000000-0000-0000-0000-000000000000"
        )
    if not base_url.startswith(("https://", "http://")):
        raise TargetError(f"24SevenOffice credentials: {ENV_URL} must start with https://")

    return Credentials(
        application_id=application_id,
        username=username,
        password=Secret(password),
        identity_id=identity_id,
        base_url=base_url.rstrip("/"),
    )


def _read_password_file(path_text: str) -> str:
    """At most MAX_PASSWORD_FILE_BYTES of a regular file, without waiting on a pipe or device."""
    path = Path(path_text).expanduser()
    where = f"{ENV_PASSWORD_FILE} ({path})"
    try:
        # O_NONBLOCK: opening a FIFO nobody writes to must not block; fstat then refuses it.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        # The path is not secret; the reason (e.g. "No such file") helps the user.
        raise TargetError(
            f"24SevenOffice credentials: cannot read {where}: {exc.strerror or type(exc).__name__}"
        ) from None
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise TargetError(
                f"24SevenOffice credentials: {where} is not a regular file "
                "(a pipe, device or folder); point it at a file holding the password"
            )
        content = file.read(MAX_PASSWORD_FILE_BYTES + 1)
    if len(content) > MAX_PASSWORD_FILE_BYTES:
        raise TargetError(
            f"24SevenOffice credentials: {where} is larger than {MAX_PASSWORD_FILE_BYTES} "
            "bytes; it should hold only the password"
        )
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise TargetError(
            f"24SevenOffice credentials: {where} is not UTF-8 text; save it as UTF-8"
        ) from None
    # Secret files usually end with a newline that is not part of the password.
    password = text.rstrip("\r\n")
    if not password:
        raise TargetError(f"24SevenOffice credentials: {where} is empty")
    return _checked_password(password, where)


def _checked_password(password: str, where: str) -> str:
    if _CONTROL.search(password):
        raise TargetError(
            f"24SevenOffice credentials: the password in {where} contains a control "
            "character (such as a line break inside it); passwords hold printable characters only"
        )
    return password
