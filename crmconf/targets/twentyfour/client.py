"""A typed client for the part of the 24SevenOffice SOAP API that crmconf needs.

Behaviour in one place:

* Login happens lazily on the first call; the session id is sent as the
  `ASP.NET_SessionId` cookie on every service.
* Session expiry. The API has no documented "session expired" code, so the
  client does not guess from fault texts. When a call fails with a SOAP fault
  (or HTTP 401/403) it asks the Authenticate service `HasSession`; if the
  answer is false the session is gone, so it logs in again ONCE and repeats
  the call. Any other fault is reported as it is. (The fake server signals an
  expired session with a SOAP fault and HasSession=false, matching this.)
* Transient failures (timeouts, broken connections, HTTP 5xx without a SOAP
  fault, 429) are retried with bounded exponential backoff and jitter, or after
  the server's Retry-After; SOAP faults and other 4xx never are. Requests that
  create things are only repeated when the first attempt provably was not
  processed (never sent, or answered 503/429; see retry.py); otherwise the
  failure is a WriteMayHaveLanded for the caller to reconcile.
* The vendor's quarantine fault (hourly request limit exceeded) ends the call
  at once, unretried; with a RequestBudget every request is counted first.
* The light company listing (company_assignments) is parsed as it arrives
  with lxml (streaming.py); everything else goes through zeep.
* Every failure surfaces as crmconf.errors.TargetError with a one-line
  message that never holds the password or the session id (see failures.py).

Not thread-safe: use one client per thread.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlsplit

import requests
from lxml import etree
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, TransportError, XMLSyntaxError
from zeep.proxy import ServiceProxy

from crmconf.errors import TargetError

from .budget import Quarantined, RequestBudget
from .credentials import Credentials, credentials_from_env
from .failures import WriteMayHaveLanded, api_error, describe, scrub
from .mapping import (
    ASSIGNMENT_PROPERTIES,
    COMPANY_PROPERTIES,
    api_failures,
    category_from,
    category_to,
    client_information_from,
    company_from,
    company_update_to,
    group_from,
    identity_from,
    items,
    key_values,
    opt_int,
    search_since,
    sync_company_from,
    user_from,
)
from .models import (
    ApiFailure,
    CallStats,
    Category,
    ClientInformation,
    Company,
    CompanyAssignments,
    CompanyUpdate,
    CrmGroup,
    Identity,
    SyncCompany,
    User,
)
from .retry import (
    MAX_RETRY_AFTER,
    Backoff,
    RetryLog,
    Transience,
    classify,
    retry_after,
    should_retry,
)
from .streaming import CompanyListing, listing_request
from .transport import (
    AUTH,
    CLIENT,
    COMPANY,
    DEFAULT_MAX_ANSWER_BYTES,
    HttpStatusError,
    ServiceSpec,
    SessionTransport,
    bind_service,
    new_http_session,
)

log = logging.getLogger(__name__)

_LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})
# The vendor's answer once its hourly limit is exceeded: "Limit exceeded by 1. Request is
# blocked. Quarantine ends at <time>". Every further request extends nothing but is wasted.
_QUARANTINE: Final = re.compile(r"request is blocked|quarantine ends", re.IGNORECASE)
# "Every company": the API needs a criterion, and nothing changed before this date.
_SINCE_EVER: Final = "1900-01-01T00:00:00"
# A bound on GetCompanySyncList paging, whatever TotalPages says: 5 million companies.
_MAX_SYNC_PAGES: Final = 5000
# HTTP answers that, like a fault, may mean "your session is not valid".
_AUTH_STATUSES: Final = frozenset({401, 403})


class TwentyFourClient:
    """Talks to 24SevenOffice; returns plain dataclasses; raises only TargetError."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: Backoff | None = None,
        verify: bool | str = True,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
        retry_log: RetryLog | None = None,
        budget: RequestBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        """`retries` is how many times a transient failure is retried (0 = never).

        `verify` is requests' TLS setting: True (default), or a CA bundle path.
        `timeout` bounds each request as a whole, from connecting to the answer's
        last byte (status line and headers included); `max_answer_bytes` bounds
        an answer's decompressed size.
        `retry_log` collects the retries of several clients (a target's workers)
        so each kind of failure is said once; by default the client has its own.
        `budget`, if given, is taken from before every request (see budget.py).
        `sleep` and `rng` exist so tests can make backoff instant and deterministic.
        """
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if retries < 0:
            raise ValueError("retries must be zero or more")
        self._base_url = _checked_base_url(base_url)
        self._credentials = credentials
        self._retries = retries
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self._rng = rng
        self._retry_log = retry_log or RetryLog()
        self._budget = budget
        self._session_id: str | None = None
        # Every session id this client has held, so an echo of an old one is scrubbed too.
        self._past_session_ids: list[str] = []
        self._stats = CallStats()
        self._http = new_http_session(verify)
        self._transport = SessionTransport(
            self._http,
            timeout,
            session_id=lambda: self._session_id,
            on_request=self._count,
            max_answer_bytes=max_answer_bytes,
        )
        self._services: dict[str, ServiceProxy] = {}

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **options: Any) -> TwentyFourClient:
        """A client configured from CRMCONF_24SO_* variables (see credentials_from_env)."""
        credentials = credentials_from_env(environ)
        return cls(credentials.base_url, credentials, **options)

    # ---- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TwentyFourClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TwentyFourClient(base_url={self._base_url!r}, user={self._credentials.username!r})"

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def stats(self) -> CallStats:
        """A snapshot of the request counters."""
        return self._stats.copy()

    # ---- authentication --------------------------------------------------------------------

    def login(self) -> None:
        """Log in now (otherwise the first call does it)."""
        credential: dict[str, Any] = {
            "ApplicationId": self._credentials.application_id,
            "Password": self._credentials.password.reveal(),
            "Username": self._credentials.username,
        }
        if self._credentials.identity_id:
            credential["IdentityId"] = self._credentials.identity_id
        self._session_id = None
        self._stats.logins += 1
        try:
            result = self._send(AUTH, "Login", {"credential": credential}, idempotent=True)
        except (Fault, TransportError) as exc:
            raise TargetError(
                describe(exc, where="24SevenOffice login", secrets=self._secrets())
            ) from None
        if not result:
            # The API answers a refused login with an empty session id, not a fault.
            raise TargetError(
                f"24SevenOffice refused the login for user {self._credentials.username!r}: "
                "check CRMCONF_24SO_USERNAME, CRMCONF_24SO_PASSWORD and "
                "CRMCONF_24SO_APPLICATION_ID (and CRMCONF_24SO_IDENTITY_ID if set)"
            )
        self._session_id = str(result)
        self._past_session_ids.append(self._session_id)
        log.info("logged in to 24SevenOffice at %s", self._base_url)

    def has_session(self) -> bool:
        """Whether the current session id is still valid (False before the first login)."""
        if self._session_id is None:
            return False
        return bool(self._plain_call(AUTH, "HasSession"))

    def identities(self) -> list[Identity]:
        result = self._call(AUTH, "GetIdentities")
        return [identity_from(v) for v in items(result, "Identity")]

    def client_information(self) -> ClientInformation:
        """The name and organisation number of the client the session acts for."""
        return client_information_from(self._call(CLIENT, "GetClientInformation"))

    def set_identity(self, identity_id: str) -> None:
        """Switch the session to another client (company account) the user has access to."""
        if not self._call(AUTH, "SetIdentityById", identityId=identity_id):
            raise TargetError(
                "24SevenOffice did not switch to the requested identity: "
                "it is unknown or not available to this user"
            )

    # ---- CRM settings ----------------------------------------------------------------------

    def categories(self) -> list[Category]:
        result = self._call(COMPANY, "GetCategories")
        return [category_from(v) for v in items(result, "Category")]

    def save_categories(self, categories: Sequence[Category]) -> list[Category]:
        """Create (id None) or update categories in ONE request; return them as saved."""
        if not categories:
            return []
        # A new category sent twice would exist twice: only updates are safe to repeat.
        idempotent = all(c.id is not None for c in categories)
        result = self._call(
            COMPANY,
            "SaveCategories",
            idempotent=idempotent,
            categories={"Category": [category_to(c) for c in categories]},
        )
        saved = [category_from(v) for v in items(result, "Category")]
        if len(saved) != len(categories):
            log.warning(
                "24SevenOffice SaveCategories returned %d categories for %d sent",
                len(saved),
                len(categories),
            )
        return saved

    def industries(self) -> list[tuple[int, str]]:
        return key_values(self._call(COMPANY, "GetIndustries"), "industry")

    def statuses(self) -> list[tuple[int, str]]:
        return key_values(self._call(COMPANY, "GetStatuses"), "status")

    def crm_groups(self) -> list[CrmGroup]:
        """The CRM group tree: top-level groups, each with members and children."""
        return [group_from(v) for v in items(self._call(COMPANY, "GetCRMGroups"), "Group")]

    def users(self) -> list[User]:
        return [user_from(v) for v in items(self._call(CLIENT, "GetUsers"), "User")]

    # ---- companies -------------------------------------------------------------------------

    def company_pages(
        self, page_size: int = 100, *, changed_after: datetime | None = None
    ) -> Iterator[list[Company]]:
        """Companies (changed after `changed_after`, default all), `page_size` per request.

        GetCompanies has no paging of its own, so the ids are listed first (one
        light request) and then fetched by id in pages. Lazy: errors surface
        while iterating.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        listing = self._companies(search_since(changed_after), ("Id",))
        ids = sorted({i for i in (opt_int(e.Id) for e in listing) if i is not None})
        for start in range(0, len(ids), page_size):
            chunk = ids[start : start + page_size]
            page = self._companies({"CompanyIds": {"int": chunk}}, COMPANY_PROPERTIES)
            yield sorted((company_from(e) for e in page), key=lambda c: c.id)

    def companies(self, *, changed_after: datetime | None = None) -> list[Company]:
        return [c for page in self.company_pages(changed_after=changed_after) for c in page]

    def company_assignments(self) -> CompanyAssignments:
        """Every company's id, industry and status (no name), in ONE request.

        GetCompanies cannot page: company_pages starts with an unpaged listing of
        every id. Asking that listing for two more integers gives everything usage
        counts and customer moves need, with no page requests after it.
        """
        listing: CompanyListing = self._with_session(
            "GetCompanies",
            lambda: self._retrying("GetCompanies", self._stream_assignments, idempotent=True),
        )
        assignments = listing.assignments
        if listing.failures:
            raise api_error(
                "GetCompanies",
                self._scrubbed(listing.failures),
                len(assignments) + len(listing.failures),
            )
        return assignments.by_id()

    def _stream_assignments(self) -> CompanyListing:
        """One light GetCompanies, parsed as it arrives (streaming.py), not through zeep."""
        listing = CompanyListing()
        message = listing_request(_SINCE_EVER, ASSIGNMENT_PROPERTIES)
        try:
            status = self._transport.stream(
                self._base_url + COMPANY.path, "GetCompanies", message, listing.feed
            )
            listing.close()  # raises Fault for a SOAP fault
        except etree.XMLSyntaxError:
            raise XMLSyntaxError("not well-formed XML") from None  # type: ignore[no-untyped-call]
        if status != 200:
            raise HttpStatusError(status, None)
        return listing

    def company_sync_list(self, *, active: bool | None) -> Iterator[SyncCompany]:
        """Companies from GetCompanySyncList: active (True), deleted (False) or all (None).

        Paged by the service (1,000 a page, per the vendor's documentation),
        pages numbered from 1; lazy, one request per page.
        """
        page = 1
        while True:
            result = self._call(
                COMPANY,
                "GetCompanySyncList",
                syncSearchParameters={"Page": page, "Active": active},
            )
            if result is None:
                return
            entries = [] if result.Items is None else (result.Items.SyncCompany or [])
            for entry in entries:
                company = sync_company_from(entry)
                if company is not None:
                    yield company
            total_pages = int(result.TotalPages or 0)
            if page >= min(total_pages, _MAX_SYNC_PAGES) or not entries:
                return
            page += 1

    def save_companies(
        self, updates: Sequence[CompanyUpdate], *, batch_size: int = 100
    ) -> list[int]:
        """Apply updates in batches of `batch_size` per request; return the ids saved.

        On APIException entries a TwentyFourApiError lists the failures; earlier
        batches stay applied (the API has no transactions).
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        saved: list[int] = []
        for start in range(0, len(updates), batch_size):
            batch = updates[start : start + batch_size]
            result = self._call(
                COMPANY,
                "SaveCompanies",
                companies={"Company": [company_update_to(u) for u in batch]},
            )
            entries = items(result, "Company")
            failures = api_failures(entries)
            if failures:
                failed = {f.company_id for f in failures}
                saved.extend(u.id for u in batch if u.id not in failed)
                raise api_error(
                    "SaveCompanies", self._scrubbed(failures), len(batch), saved_ids=saved
                )
            saved.extend(u.id for u in batch)
        return saved

    def _companies(self, search: dict[str, Any], properties: Sequence[str]) -> list[Any]:
        result = self._call(
            COMPANY,
            "GetCompanies",
            searchParams=search,
            returnProperties={"string": list(properties)},
        )
        entries = items(result, "Company")
        failures = api_failures(entries)
        if failures:
            raise api_error("GetCompanies", self._scrubbed(failures), len(entries))
        return entries

    # ---- calling ---------------------------------------------------------------------------

    def _call(
        self, spec: ServiceSpec, operation: str, *, idempotent: bool = True, **params: Any
    ) -> Any:
        """Call through zeep with a session (see _with_session)."""
        return self._with_session(
            operation, lambda: self._send(spec, operation, params, idempotent=idempotent)
        )

    def _with_session(self, operation: str, send: Callable[[], Any]) -> Any:
        """Log in if needed; on a lost session, log in once and repeat."""
        if self._session_id is None:
            self.login()
        try:
            return send()
        except (Fault, TransportError) as exc:
            if not self._session_was_lost():
                raise self._service_error(exc, operation) from None
        log.info("24SevenOffice session expired; logging in again")
        self._stats.session_renewals += 1
        self.login()
        try:
            return send()
        except (Fault, TransportError) as exc:
            raise self._service_error(exc, operation) from None

    def _plain_call(self, spec: ServiceSpec, operation: str, **params: Any) -> Any:
        """Call without session handling (for the session probe itself)."""
        try:
            return self._send(spec, operation, params, idempotent=True)
        except (Fault, TransportError) as exc:
            raise self._service_error(exc, operation) from None

    def _session_was_lost(self) -> bool:
        try:
            return not self._plain_call(AUTH, "HasSession")
        except TargetError:
            return False  # cannot tell; report the original failure instead

    def _send(
        self, spec: ServiceSpec, operation: str, params: dict[str, Any], *, idempotent: bool
    ) -> Any:
        """One operation with bounded retries of transient failures.

        Raises Fault and HTTP 401/403 TransportError unchanged (the caller
        decides about the session); everything else becomes TargetError.
        """
        service = self._service(spec)
        return self._retrying(operation, lambda: service[operation](**params), idempotent)

    def _retrying(self, operation: str, attempt_once: Callable[[], Any], idempotent: bool) -> Any:
        """`attempt_once` with bounded retries of transient failures (see _send)."""
        where = f"24SevenOffice {operation}"
        attempt = 0
        while True:
            try:
                result = attempt_once()
            except Fault as exc:
                if _QUARANTINE.search(str(exc.message or "")):
                    raise self._quarantined(exc) from None
                raise
            except TransportError as exc:
                if exc.status_code in _AUTH_STATUSES:
                    raise
                failure: Exception = exc
            except (requests.RequestException, ZeepError) as exc:
                failure = exc
            else:
                if attempt:
                    self._retry_log.recovered()
                return result
            if attempt < self._retries and should_retry(failure, idempotent=idempotent):
                delay = self._delay(failure, attempt, where)
                attempt += 1
                self._stats.retries += 1
                self._retry_log.retrying(
                    describe(failure, where=where, secrets=self._secrets()),
                    attempt,
                    self._retries,
                    delay,
                )
                self._sleep(delay)
                continue
            raise self._transport_error(failure, where, attempt, idempotent) from None

    def _delay(self, failure: Exception, retries_done: int, where: str) -> float:
        """The server's Retry-After if it sent one (and it is not too long), else the backoff."""
        asked = retry_after(failure.retry_after) if isinstance(failure, HttpStatusError) else None
        if asked is None:
            return self._backoff.delay(retries_done, self._rng)
        if asked > MAX_RETRY_AFTER:
            raise TargetError(
                f"{describe(failure, where=where, secrets=self._secrets())}; the service asks "
                f"to wait {asked:.0f} s before trying again, longer than crmconf waits "
                f"({MAX_RETRY_AFTER:.0f} s): run again later"
            )
        return asked

    def _service(self, spec: ServiceSpec) -> ServiceProxy:
        proxy = self._services.get(spec.binding)
        if proxy is None:
            proxy = bind_service(spec, self._base_url, self._transport)
            self._services[spec.binding] = proxy
        return proxy

    def _quarantined(self, fault: Fault) -> Quarantined:
        announced = scrub(str(fault.message or ""), self._secrets())
        if self._budget is not None:
            return self._budget.quarantine(announced)
        return Quarantined(
            f"24SevenOffice blocks this machine's requests: {announced}. "
            "Nothing more was sent; run again after the quarantine ends"
        )

    def _count(self, operation: str) -> None:
        if self._budget is not None:
            self._budget.take()  # may wait for room, or raise OverBudget / Quarantined
        self._stats.requests[operation] = self._stats.requests.get(operation, 0) + 1
        log.debug("24SevenOffice request: %s", operation)

    # ---- errors ----------------------------------------------------------------------------

    def _secrets(self) -> list[str]:
        return [self._credentials.password.reveal(), *self._past_session_ids]

    def _scrubbed(self, failures: Sequence[ApiFailure]) -> list[ApiFailure]:
        secrets = self._secrets()
        return [
            replace(f, type=scrub(f.type, secrets), message=scrub(f.message, secrets))
            for f in failures
        ]

    def _service_error(self, exc: Exception, operation: str) -> TargetError:
        return TargetError(
            describe(exc, where=f"24SevenOffice {operation}", secrets=self._secrets())
        )

    def _transport_error(
        self, exc: Exception, where: str, retries_done: int, idempotent: bool
    ) -> TargetError:
        message = describe(exc, where=where, secrets=self._secrets())
        if retries_done:
            message += f" (gave up after {retries_done + 1} attempts)"
        if not idempotent and classify(exc) is Transience.MAYBE_PROCESSED:
            return WriteMayHaveLanded(
                message + " (not retried: the change may have been applied; "
                "run plan again to see the current state)"
            )
        return TargetError(message)


def _checked_base_url(base_url: str) -> str:
    """https only; plain http only to this machine (the fake server), never with secrets in it."""
    parts = urlsplit(base_url)
    if parts.username or parts.password or parts.query or parts.fragment:
        raise TargetError("24SevenOffice base URL must not contain credentials, query or fragment")
    secure = parts.scheme == "https"
    local_http = parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK
    if not parts.hostname or not (secure or local_http):
        raise TargetError(
            "24SevenOffice base URL must be https://host (plain http is allowed only "
            "for 127.0.0.1/localhost, e.g. the fake server)"
        )
    return base_url.rstrip("/")
