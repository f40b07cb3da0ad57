"""When a failed request may be sent again, and how long to wait first.

Only failures that say nothing about the request itself are retried:
timeouts, broken connections and HTTP 5xx answers that carry no SOAP fault,
and HTTP 429. A SOAP fault or another 4xx is the service's considered answer;
repeating the request would get the same answer, so those are never retried.

A request that creates something (SaveCategories with a new category) is not
idempotent: if the connection broke after the server received it, a second
send could create a duplicate. Such requests are retried only when the
failure proves the request was not processed: the connection could not be
opened, or the server answered 503 (unavailable) or 429 (too many requests),
which say it did not process the request. Those two may name a wait in
Retry-After (seconds or an HTTP date); it is honoured up to MAX_RETRY_AFTER.
"""

from __future__ import annotations

import email.utils
import enum
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError
from zeep.exceptions import TransportError

log = logging.getLogger(__name__)

MAX_RETRY_AFTER: Final = 60.0
"""The longest Retry-After wait honoured; a longer one ends the run with "try later"."""
_NOT_PROCESSED_STATUSES: Final = frozenset({429, 503})


class Transience(enum.Enum):
    PERMANENT = "permanent"
    NOT_SENT = "not sent"  # the request provably never reached the server
    NOT_PROCESSED = "not processed"  # the server said it did not process it (503, 429)
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
    if isinstance(exc, TransportError) and exc.status_code in _NOT_PROCESSED_STATUSES:
        return Transience.NOT_PROCESSED
    if isinstance(exc, TransportError) and 500 <= (exc.status_code or 0) <= 599:
        return Transience.MAYBE_PROCESSED
    return Transience.PERMANENT


def should_retry(exc: BaseException, *, idempotent: bool) -> bool:
    transience = classify(exc)
    if transience in (Transience.NOT_SENT, Transience.NOT_PROCESSED):
        return True
    return idempotent and transience is Transience.MAYBE_PROCESSED


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delay-seconds or an HTTP date); None if absent."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None  # unreadable: the backoff decides
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when urllib3 failed to open the socket (refused, DNS, connect timeout)."""
    reason: object = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


class RetryLog:
    """What the clients of one target retried, said once per kind of failure and then summed up.

    Six reads failing the same way in parallel would otherwise print a warning
    per attempt per thread; a person needs one line per failing request (the
    same operation failing the same way counts once) and the totals. Shared by
    the target's worker clients, hence the lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._announced: set[str] = set()
        self._requests = self._retries = self._recovered = 0

    def retrying(self, description: str, retry_number: int, retries: int, delay: float) -> None:
        """`description` (one line, secret-free) is retried; `retry_number` counts from 1."""
        with self._lock:
            self._retries += 1
            if retry_number == 1:
                self._requests += 1
            first = description not in self._announced
            self._announced.add(description)
        if first:
            log.warning("%s; retrying (at most %d times)", description, retries)
        else:
            log.debug("%s; retry %d of %d in %.2fs", description, retry_number, retries, delay)

    def recovered(self) -> None:
        with self._lock:
            self._recovered += 1

    def report(self) -> None:
        """Log the totals since the last report, if anything was retried."""
        with self._lock:
            requests, retries, recovered = self._requests, self._retries, self._recovered
            self._requests = self._retries = self._recovered = 0
            self._announced.clear()
        if requests:
            log.warning(
                "24SevenOffice: %d request(s) retried, %d retries in all; "
                "%d succeeded on a retry, %d gave up",
                requests,
                retries,
                recovered,
                requests - recovered,
            )
