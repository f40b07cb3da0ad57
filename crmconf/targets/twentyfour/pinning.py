"""Pinning: the 24SevenOffice client (company account) a configuration belongs to.

One login reaches several clients, so a wrong identity id is one typo away
from applying a client's configuration to another client. A pin names the
organisation number (and optionally the client name) the run must find in
GetClientInformation; apply refuses before any write when it does not.

Where a pin comes from, most specific first: the target URL
(`24so://IDENTITY-ID?organization_number=912345678&client_name=Acme%20AS`), a
tenant entry's `organization_number` (crmconf.yaml), or
CRMCONF_24SO_ORGANIZATION_NUMBER / CRMCONF_24SO_CLIENT_NAME.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl

from crmconf.errors import TargetError
from crmconf.model.names import identity

from .models import ClientInformation

ENV_ORGANIZATION_NUMBER: Final = "CRMCONF_24SO_ORGANIZATION_NUMBER"
ENV_CLIENT_NAME: Final = "CRMCONF_24SO_CLIENT_NAME"
URL_ORGANIZATION_NUMBER: Final = "organization_number"
URL_CLIENT_NAME: Final = "client_name"

# Organisation numbers are written with spaces, dots or a country prefix and an MVA
# suffix ("NO 912 345 678 MVA"): the digits are what identifies the company.
_NOT_DIGIT = re.compile(r"\D")


class ClientMismatch(TargetError):
    """The client the session acts for is not the one the configuration is pinned to."""


@dataclass(frozen=True)
class Pin:
    """What GetClientInformation must answer; `source` says where the pin was set."""

    organization_number: str | None = None
    client_name: str | None = None
    source: str = ""

    def __bool__(self) -> bool:
        return self.organization_number is not None or self.client_name is not None

    def matches(self, client: ClientInformation) -> bool:
        if self.organization_number is not None and self.organization_number != digits(
            client.organization_number or ""
        ):
            return False
        return self.client_name is None or identity(self.client_name) == identity(client.name or "")

    def describe(self) -> str:
        parts = []
        if self.client_name is not None:
            parts.append(f"'{self.client_name}'")
        if self.organization_number is not None:
            parts.append(f"org {self.organization_number}")
        return " ".join(parts)


def digits(organization_number: str) -> str:
    return _NOT_DIGIT.sub("", organization_number)


def pin_from(query: str, environ: Mapping[str, str]) -> Pin:
    """The pin of a target URL's query, else of the environment; an empty Pin if neither."""
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        values = dict(pairs)
        unknown = sorted(set(values) - {URL_ORGANIZATION_NUMBER, URL_CLIENT_NAME})
        if unknown:
            raise TargetError(
                f"24so:// URL: unknown setting {unknown[0]!r}; the URL takes "
                f"?{URL_ORGANIZATION_NUMBER}=NUMBER and &{URL_CLIENT_NAME}=NAME"
            )
        # A pin written in the URL is meant: blank (`=${ORG}` with ORG unset) or given
        # twice, it must not quietly pin nothing or the last of two clients.
        for setting in values:
            if len([name for name, _ in pairs if name == setting]) > 1:
                raise TargetError(f"24so:// URL: {setting} is given twice; give it once")
            if not values[setting].strip():
                raise TargetError(
                    f"24so:// URL: {setting} is empty; give the client's "
                    + ("organisation number" if setting == URL_ORGANIZATION_NUMBER else "name")
                    + " or leave the setting out"
                )
        return _pin(
            values.get(URL_ORGANIZATION_NUMBER),
            values.get(URL_CLIENT_NAME),
            "the target URL",
            URL_ORGANIZATION_NUMBER,
        )
    return _pin(
        environ.get(ENV_ORGANIZATION_NUMBER),
        environ.get(ENV_CLIENT_NAME),
        ENV_ORGANIZATION_NUMBER,
        ENV_ORGANIZATION_NUMBER,
    )


def _pin(number: str | None, name: str | None, source: str, setting: str) -> Pin:
    number = number.strip() if number is not None else None
    name = name.strip() if name is not None else None
    pinned_number = digits(number) if number else None
    if number and not pinned_number:
        raise TargetError(
            f"24SevenOffice: {setting} must be an organisation number such as 912345678"
        )
    return Pin(pinned_number, name or None, source if (pinned_number or name) else "")


def heading(url: str, client: ClientInformation, pin: Pin) -> str:
    """`24so:// → Acme AS (org 912345678)`, and whether it is the pinned client."""
    name = " ".join((client.name or "").split()) or "(no name)"
    number = digits(client.organization_number or "") or "none"
    line = f"{url} → {name} (org {number})"
    if not pin:
        return line + "; not pinned: apply will write to whichever client this is"
    if pin.matches(client):
        return line + f", pinned by {pin.source}"
    return line + f" — NOT the pinned {pin.describe()} ({pin.source}): apply will refuse"


def check(url: str, client: ClientInformation, pin: Pin) -> None:
    """Raise ClientMismatch (before any write) unless `client` is the pinned one."""
    if not pin or pin.matches(client):
        return
    number = digits(client.organization_number or "") or "none"
    raise ClientMismatch(
        f"refusing to apply: {url} is {client.name or '(no name)'!r} (org {number}), but "
        f"the configuration is pinned to {pin.describe()} by {pin.source}; nothing was "
        "applied. Check the identity id (crmconf 24so identities) or the pin"
    )
