"""HTTP and zeep plumbing: one requests session, the session cookie, the three services.

Why a Transport subclass: zeep's stock transport logs every request and
response body at DEBUG (the Login request holds the password, its answer the
session id) and follows redirects. This one logs nothing, does not follow
redirects, counts requests per operation and attaches the session cookie
itself, so the session id lives in exactly one place.

It also bounds what one answer may cost: the whole request, not each socket
read, must finish within the timeout, from connecting to the answer's last
byte (a server trickling a byte at a time of its status line, headers or body
would otherwise hold a run for ever; see deadline.py), and the answer may
inflate (gzip) to at most `max_answer_bytes` before it is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from importlib import resources
from typing import Any, Final

import requests
import urllib3
from zeep import Client, Settings
from zeep.exceptions import TransportError
from zeep.proxy import ServiceProxy
from zeep.transports import Transport

from .deadline import BoundedAdapter, RequestDeadline
from .retry import Transience, classify

NAMESPACE: Final = "http://24sevenOffice.com/webservices"
SESSION_COOKIE: Final = "ASP.NET_SessionId"
# Well above the light GetCompanies answer of 100,000 customers (about 25 MB).
DEFAULT_MAX_ANSWER_BYTES: Final = 256 * 1024 * 1024
_READ_SIZE: Final = 256 * 1024


class HttpStatusError(TransportError):
    """An HTTP error answer without a SOAP body, with its Retry-After header if it had one."""

    def __init__(self, status: int, retry_after: str | None) -> None:
        super().__init__(  # type: ignore[no-untyped-call]
            f"HTTP {status}", status_code=status
        )
        self.retry_after = retry_after


class AnswerTooSlow(requests.exceptions.ReadTimeout):
    """The answer did not arrive completely within the request's total time."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the answer did not arrive within {seconds:g} s")
        self.seconds = seconds


class AnswerTooLarge(requests.exceptions.RequestException):
    """The answer (decompressed) exceeded the size the client accepts."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is larger than {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class ServiceSpec:
    """Where a service lives below the base URL and which of our WSDL files describes it."""

    wsdl_file: str
    binding: str
    path: str


AUTH: Final = ServiceSpec("auth.wsdl", "AuthenticateSoap", "/authenticate/v001/authenticate.asmx")
COMPANY: Final = ServiceSpec(
    "company.wsdl", "CompanyServiceSoap", "/CRM/Company/V001/CompanyService.asmx"
)
CLIENT: Final = ServiceSpec("client.wsdl", "ClientServiceSoap", "/Client/V001/ClientService.asmx")


def zeep_settings() -> Settings:
    """Strict, hardened XML parsing: no DTDs, no entities, no fetching of anything external."""
    return Settings(
        strict=True,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
        xml_huge_tree=False,
    )


class SessionTransport(Transport):
    """A zeep transport that sends `ASP.NET_SessionId` from `session_id()` and counts requests."""

    def __init__(
        self,
        http: requests.Session,
        timeout: float,
        session_id: Callable[[], str | None],
        on_request: Callable[[str], None],
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
    ) -> None:
        # zeep is only partly annotated; its untyped calls are confined to this module.
        super().__init__(  # type: ignore[no-untyped-call]
            session=http, timeout=timeout, operation_timeout=timeout
        )
        http.headers["User-Agent"] = "crmconf (24SevenOffice target)"
        self._session_id = session_id
        self._on_request = on_request
        self._max_answer_bytes = max_answer_bytes

    def post(self, address: str, message: bytes | str, headers: dict[str, str]) -> Any:
        headers = dict(headers)
        operation = headers.get("SOAPAction", "").strip('"').rsplit("/", 1)[-1]
        session_id = self._session_id()
        if session_id:
            headers["Cookie"] = f"{SESSION_COOKIE}={session_id}"
        self._on_request(operation)
        parts: list[bytes] = []
        with self._bounded() as deadline:
            response = self.session.post(
                address,
                data=message,
                headers=headers,
                timeout=self.operation_timeout,
                allow_redirects=False,
                stream=True,
                verify=self.session.verify,
            )
            with response:
                self._read_bounded(response, deadline, parts.append)
        # zeep reads `content`; the body was already read here, within the bounds.
        response._content = b"".join(parts)
        if response.status_code >= 300 and not _is_xml(response):
            # A redirect or a proxy's/load balancer's error page, not the service's
            # SOAP answer: report the bare status (5xx may then be retried). zeep would
            # try to parse the page and, were it XHTML, call it a SOAP fault.
            raise HttpStatusError(response.status_code, response.headers.get("Retry-After"))
        return response

    def stream(
        self, address: str, operation: str, message: bytes, feed: Callable[[bytes], None]
    ) -> int:
        """POST `message` for `operation` and hand the answer to `feed` as it arrives.

        For the one answer parsed without zeep (see streaming.py). Returns the
        HTTP status; an error page that is not XML raises HttpStatusError.
        """
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{NAMESPACE}/{operation}"',
        }
        session_id = self._session_id()
        if session_id:
            headers["Cookie"] = f"{SESSION_COOKIE}={session_id}"
        self._on_request(operation)
        with (
            self._bounded() as deadline,
            self.session.post(
                address,
                data=message,
                headers=headers,
                timeout=self.operation_timeout,
                allow_redirects=False,
                stream=True,
                verify=self.session.verify,
            ) as response,
        ):
            if response.status_code >= 300 and not _is_xml(response):
                raise HttpStatusError(response.status_code, response.headers.get("Retry-After"))
            self._read_bounded(response, deadline, feed)
            return response.status_code

    @contextmanager
    def _bounded(self) -> Iterator[RequestDeadline]:
        """The request inside, from connecting to its last byte, within the timeout."""
        with RequestDeadline(self.operation_timeout) as deadline:
            try:
                yield deadline
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                # Whatever a read on the shut connection raised; but a request that
                # never got sent stays what it is (it is safe to repeat, retry.py).
                if deadline.expired and classify(exc) is not Transience.NOT_SENT:
                    raise AnswerTooSlow(self.operation_timeout) from None
                raise

    def _read_bounded(
        self,
        response: requests.Response,
        deadline: RequestDeadline,
        feed: Callable[[bytes], None],
    ) -> None:
        """The decoded body, a socket read at a time, so the size bound is checked often."""
        size = 0
        while True:
            # read1 returns what one socket read brought (decompressed at most _READ_SIZE).
            chunk = response.raw.read1(_READ_SIZE, decode_content=True)
            if deadline.expired:
                raise AnswerTooSlow(self.operation_timeout)  # the chunk may be cut short
            if not chunk:
                return
            size += len(chunk)
            if size > self._max_answer_bytes:
                raise AnswerTooLarge(self._max_answer_bytes)
            feed(chunk)


def _is_xml(response: requests.Response) -> bool:
    media_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    return media_type in {"text/xml", "application/soap+xml", "application/xml"}


def new_http_session(verify: bool | str) -> requests.Session:
    """A requests session that keeps no cookies of its own, and verifies TLS with `verify`.

    The transport passes `verify` with every request: requests lets
    REQUESTS_CA_BUNDLE (and CURL_CA_BUNDLE) override a session's own setting,
    so a CA bundle given to the client would silently not be the one used.

    The server's Set-Cookie answers are ignored: the session id returned by
    Login is the one that counts, and the transport sends it explicitly.
    """
    session = requests.Session()
    for prefix in ("https://", "http://"):
        session.mount(prefix, BoundedAdapter())
    session.verify = verify
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return session


def bind_service(spec: ServiceSpec, base_url: str, transport: SessionTransport) -> ServiceProxy:
    """Load our WSDL for `spec` and bind its port to `base_url` + the service path."""
    wsdl = resources.files(__package__) / "wsdl" / spec.wsdl_file
    with resources.as_file(wsdl) as path:
        client = Client(  # type: ignore[no-untyped-call]
            str(path), transport=transport, settings=zeep_settings()
        )
    proxy: ServiceProxy = client.create_service(  # type: ignore[no-untyped-call]
        f"{{{NAMESPACE}}}{spec.binding}", base_url + spec.path
    )
    return proxy
