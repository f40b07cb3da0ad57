"""Which failures are retried, and how long the client waits (pure unit tests)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError
from zeep.exceptions import DTDForbidden, Fault, TransportError
from zeep.loader import parse_xml
from zeep.transports import Transport

from crmconf.targets.twentyfour.retry import (
    Backoff,
    Transience,
    classify,
    retry_after,
    should_retry,
)
from crmconf.targets.twentyfour.transport import zeep_settings


def _status(code: int) -> TransportError:
    return TransportError("x", status_code=code)  # type: ignore[no-untyped-call]


def _fault() -> Fault:
    return Fault("Server was unable to process request.")  # type: ignore[no-untyped-call]


def _refused() -> requests.ConnectionError:
    reason = NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    return requests.ConnectionError(MaxRetryError(None, "/", reason))  # type: ignore[arg-type]


def _reset() -> requests.ConnectionError:
    cause = ProtocolError("Connection aborted.", ConnectionResetError())
    return requests.ConnectionError(MaxRetryError(None, "/", cause))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_refused(), Transience.NOT_SENT),
        (requests.ConnectTimeout(), Transience.NOT_SENT),
        (_reset(), Transience.MAYBE_PROCESSED),
        (requests.ReadTimeout(), Transience.MAYBE_PROCESSED),
        (_status(503), Transience.NOT_PROCESSED),
        (_status(429), Transience.NOT_PROCESSED),
        (_status(502), Transience.MAYBE_PROCESSED),
        (_status(504), Transience.MAYBE_PROCESSED),
        (_status(404), Transience.PERMANENT),
        (requests.exceptions.SSLError(), Transience.PERMANENT),
        (_fault(), Transience.PERMANENT),
        (ValueError("bug"), Transience.PERMANENT),
    ],
)
def test_classify(error: BaseException, expected: Transience) -> None:
    assert classify(error) is expected


def test_non_idempotent_requests_are_retried_only_when_never_sent() -> None:
    assert should_retry(_refused(), idempotent=False)
    assert not should_retry(_reset(), idempotent=False)
    assert not should_retry(requests.ReadTimeout(), idempotent=False)
    assert should_retry(requests.ReadTimeout(), idempotent=True)
    assert not should_retry(_fault(), idempotent=True)


def test_503_and_429_are_retried_even_for_writes_that_create() -> None:
    assert should_retry(_status(503), idempotent=False)
    assert should_retry(_status(429), idempotent=False)
    assert not should_retry(_status(500), idempotent=False)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 12, 2, 5, 0, 0, tzinfo=UTC)
    assert retry_after("7", now) == 7.0
    assert retry_after(" 0 ", now) == 0.0
    assert retry_after("Wed, 02 Dec 2026 05:00:30 GMT", now) == 30.0
    assert retry_after("Wed, 02 Dec 2026 04:59:00 GMT", now) == 0.0  # already past
    assert retry_after("soon", now) is None
    assert retry_after(None, now) is None and retry_after("", now) is None


def test_backoff_grows_is_capped_and_jittered() -> None:
    backoff = Backoff(base=0.5, cap=4.0)
    lowest = [backoff.delay(n, rng=lambda: 0.0) for n in range(6)]
    highest = [backoff.delay(n, rng=lambda: 1.0) for n in range(6)]
    assert lowest == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    assert highest == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_client_xml_parsing_refuses_dtds_and_entities() -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'
    with pytest.raises(DTDForbidden):
        parse_xml(evil, Transport(), settings=zeep_settings())  # type: ignore[no-untyped-call,arg-type]
