"""Fixtures for the 24SevenOffice target: a running fake server and clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crmconf.targets.twentyfour import TwentyFourClient, credentials_from_env
from crmconf.testing import FakeTwentyFour

from . import support
from .support import FAST_BACKOFF, ClientFactory


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI runner's HTTP(S)_PROXY must not capture requests to the local fake."""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")


@pytest.fixture
def fake() -> Iterator[FakeTwentyFour]:
    with FakeTwentyFour() as server:
        yield server


@pytest.fixture
def make_client(fake: FakeTwentyFour) -> Iterator[ClientFactory]:
    """Build clients against `fake`; keyword overrides go to TwentyFourClient/env."""
    clients: list[TwentyFourClient] = []

    def build(*, env: dict[str, str] | None = None, **options: Any) -> TwentyFourClient:
        environ = {**fake.env(), **(env or {})}
        credentials = credentials_from_env(environ)
        settings: dict[str, Any] = {"timeout": 2.0, "retries": 3, "backoff": FAST_BACKOFF}
        settings.update(options)
        base_url = settings.pop("base_url", credentials.base_url)
        client = TwentyFourClient(base_url, credentials, **settings)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: ClientFactory) -> TwentyFourClient:
    return make_client()


@pytest.fixture
def vendor_dir() -> Path:
    folder = support.VENDOR_DIR.resolve()
    if not (folder / "companyService.wsdl").is_file():
        pytest.skip(
            f"vendor 24SevenOffice WSDLs not found at {folder}; contract tests need the "
            "reference folder shared/vendor/24sevenoffice next to the repository (present in CI)"
        )
    return folder
