"""The password and the session id never appear in errors or logs, even at DEBUG."""

from __future__ import annotations

import logging
import traceback

import pytest

from crmconf.errors import TargetError
from crmconf.targets.twentyfour import Category, CompanyUpdate, TwentyFourClient
from crmconf.targets.twentyfour.credentials import credentials_from_env
from crmconf.testing import FakeTwentyFour

from .support import FAST_BACKOFF

CANARY = "canary-Pa55word-7f3a9c"


def _everything_printed(error: BaseException) -> str:
    return "\n".join(
        [str(error), repr(error), *traceback.format_exception(error), *map(str, error.args)]
    )


def test_canary_password_never_leaks(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    with FakeTwentyFour(password=CANARY) as fake:
        environ = fake.env()
        credentials = credentials_from_env(environ)
        texts += [repr(credentials), str(credentials), f"{credentials.password}"]

        def new_client(**options: object) -> TwentyFourClient:
            return TwentyFourClient(
                fake.url,
                credentials,
                timeout=0.3,
                retries=1,
                backoff=FAST_BACKOFF,
                **options,  # type: ignore[arg-type]
            )

        client = new_client()
        texts.append(repr(client))
        client.categories()
        session_id = fake.session_ids[0]

        # A server that echoes secrets back in its faults and APIExceptions.
        fake.inject_fault(f"bad {CANARY} for session {session_id}", operation="GetStatuses")
        fake.inject_api_exception(f"echo {CANARY} {session_id}", company_id=10001)
        fake.inject_http_error(503, count=None, operation="GetIndustries")
        fake.inject_latency(1.0, count=None, operation="GetCRMGroups")
        failing_calls = [
            client.statuses,
            lambda: client.save_companies([CompanyUpdate(10001, status=1)]),
            client.industries,
            client.crm_groups,
        ]
        for call in failing_calls:
            with pytest.raises(TargetError) as caught:
                call()
            texts.append(_everything_printed(caught.value))

        # After a renewal the old session id is still a secret.
        fake.expire_sessions()
        fake.inject_fault(f"old session {session_id}", operation="GetUsers")
        with pytest.raises(TargetError) as caught:
            client.users()
        texts.append(_everything_printed(caught.value))
        assert client.stats.session_renewals == 1

        fake.expire_sessions()
        fake.inject_fault(f"login echo {CANARY}", operation="Login")
        with pytest.raises(TargetError) as caught:
            client.categories()
        texts.append(_everything_printed(caught.value))

        wrong = TwentyFourClient(
            fake.url,
            credentials_from_env({**environ, "CRMCONF_24SO_PASSWORD": CANARY + "x"}),
            backoff=FAST_BACKOFF,
        )
        with pytest.raises(TargetError) as caught:
            wrong.save_categories([Category(None, "x", True, True)])
        texts.append(_everything_printed(caught.value))
        client.close()
        wrong.close()

    everything = "\n".join([*texts, caplog.text])
    assert CANARY not in everything
    assert session_id not in everything
    assert "24SevenOffice" in caplog.text  # the logs were captured at all


def test_fake_masks_the_password_in_its_call_log() -> None:
    with FakeTwentyFour(password=CANARY) as fake:
        client = TwentyFourClient.from_env(fake.env(), backoff=FAST_BACKOFF)
        client.login()
        client.close()
        login = fake.calls[0]
    assert CANARY.encode() not in login.request_body
    assert b"***" in login.request_body
    assert CANARY not in repr(fake.calls)
