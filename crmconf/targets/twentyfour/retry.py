"""When a failed request may be sent again, and how long to wait first.

Only failures that say nothing about the request itself are retried:
timeouts, broken connections and HTTP 5xx answers that carry no SOAP fault.
A SOAP fault or a 4xx is the service's considered answer; repeating the
request would get the same answer, so those are never retried.

A request that creates something (SaveCategories with a new category) is not
idempotent: if the connection broke after the server received it, a second
send could create a duplicate. Such requests are retried only when the
failure proves the request never reached the server (the connection could
not be opened).
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError
from zeep.exceptions import TransportError


class Transience(enum.Enum):
    PERMANENT = "permanent"
    NOT_SENT = "not sent"  # the request provably never reached the server
    MAYBE_PROCESSED = "maybe processed"  # it may have reached the server


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with "equal jitter": half the delay fixed, half random.

    The fixed half guarantees the delay grows; the random half spreads clients
    that failed together so they do not retry in lockstep.
    """

    base: float = 0.5
    cap: float = 8.0

    def delay(self, retry_number: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry `retry_number` (0 for the first retry)."""
        ceiling = min(self.cap, self.base * 2.0 ** max(0, retry_number))
        return ceiling / 2 + rng() * ceiling / 2


def classify(exc: BaseException) -> Transience:
    # SSLError subclasses ConnectionError but a bad certificate will not fix itself.
    if isinstance(exc, requests.exceptions.SSLError):
        return Transience.PERMANENT
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return Transience.NOT_SENT
    if isinstance(exc, requests.exceptions.ConnectionError):
        return Transience.NOT_SENT if _never_connected(exc) else Transience.MAYBE_PROCESSED
    if isinstance(exc, requests.exceptions.Timeout):
        return Transience.MAYBE_PROCESSED
    if isinstance(exc, TransportError) and 500 <= (exc.status_code or 0) <= 599:
        return Transience.MAYBE_PROCESSED
    return Transience.PERMANENT


def should_retry(exc: BaseException, *, idempotent: bool) -> bool:
    transience = classify(exc)
    if transience is Transience.NOT_SENT:
        return True
    return idempotent and transience is Transience.MAYBE_PROCESSED


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when urllib3 failed to open the socket (refused, DNS, connect timeout)."""
    reason: object = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)
