"""A fake 24SevenOffice SOAP server for tests and CI, on a real HTTP port on 127.0.0.1.

    with FakeTwentyFour() as server:
        client = TwentyFourClient.from_env(server.env())
        ...
        assert server.write_calls() == []

It speaks SOAP 1.1 at the vendor's paths (authenticate, CRM company, client),
implements Login/HasSession/GetIdentities/SetIdentityById, GetCategories,
SaveCategories, GetIndustries, GetStatuses, GetCRMGroups, GetCompanies,
SaveCompanies and GetUsers over in-memory data (`server.data`), and lets a
test break things on purpose: expire sessions, add latency, answer HTTP 5xx,
drop connections, return SOAP faults or APIException entries.

Session expiry is signalled the way the client expects: calls with an
unknown or expired ASP.NET_SessionId get a SOAP fault, and HasSession
answers false.

Every HTTP request is recorded in `server.calls` (operation, read/write kind,
outcome, status, bodies with the Login password masked), so tests can assert
things like "plan made zero write calls" or "500 changes = 1 SaveCategories".
`most_in_flight` and `round_trips()` tell concurrent requests from requests
made one after another.

To try crmconf by hand, `python -m crmconf.testing.fake24so` serves the sample
account and prints the `export CRMCONF_24SO_...` lines that point crmconf at it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import heapq
import logging
import re
import shlex
import signal
import ssl
import sys
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Final, Literal

from lxml import etree

from ._fake24so_ops import (
    OPERATIONS,
    SERVICE_PATHS,
    Account,
    Context,
    Kind,
    Operation,
    Outcome,
    Session,
)
from ._fake24so_state import FakeData
from ._fake24so_xml import ACTION_PREFIX, NS, SoapFault, fault, parse_body, response

log = logging.getLogger(__name__)

DEFAULT_APPLICATION_ID: Final = "24242424-0000-4000-8000-000000000001"
DEFAULT_USERNAME: Final = "ci@example.com"
DEFAULT_PASSWORD: Final = "fake-24so-password"

_MAX_BODY: Final = 8 * 1024 * 1024
_PASSWORD_TEXT = re.compile(rb"(<(?:[\w.-]+:)?Password>)(.*?)(</(?:[\w.-]+:)?Password>)", re.S)
_COOKIE = re.compile(r"(?:^|;)\s*ASP\.NET_SessionId=([^;\s]*)")


@dataclass(frozen=True)
class CallRecord:
    """One HTTP request the fake received and what it did with it."""

    operation: str  # "" when the SOAPAction named nothing the fake knows
    service: str  # "auth", "company", "client" or "" for an unknown path
    kind: Kind | None
    outcome: Outcome
    status: int  # HTTP status answered; 0 when the connection was dropped
    path: str
    soap_action: str
    content_type: str
    session_valid: bool  # the request carried the cookie of a live session
    session_cookie: str | None = field(default=None, repr=False)
    request_body: bytes = field(default=b"", repr=False)  # Login passwords masked
    response_body: bytes = field(default=b"", repr=False)

    @property
    def is_write(self) -> bool:
        return self.kind == "write"


@dataclass
class _Rule:
    kind: Literal[
        "latency", "drop", "lose", "http_error", "fault", "api_exception", "trickle", "inflate"
    ]
    operation: str | None
    remaining: int | None  # None: until cleared
    seconds: float = 0.0
    status: int = 500
    message: str = ""
    code: str = "soap:Server"
    error_type: str = ""
    company_id: int | None = None
    size: int = 0
    retry_after: str | None = None
    from_status_line: bool = False

    def matches(self, operation: str) -> bool:
        return self.remaining != 0 and self.operation in (None, operation)


@dataclass(frozen=True)
class _Incoming:
    path: str
    service: str  # "" when the path is not one of the vendor's service paths
    soap_action: str
    operation: Operation | None  # None when the SOAPAction names no known operation
    content_type: str
    cookie: str | None
    session_valid: bool
    body: bytes
    accept_encoding: str = ""


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "text/xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    trickle: float = 0.0  # seconds between the body's bytes; 0: all at once
    trickle_head: bool = False  # the status line and headers trickle too


class FakeTwentyFour:
    """The fake server. Start with `with FakeTwentyFour() as server:` or start()/stop()."""

    def __init__(
        self,
        *,
        data: FakeData | None = None,
        application_id: str = DEFAULT_APPLICATION_ID,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """`port` 0 picks a free port; the server only ever listens on 127.0.0.1.

        `tls`: serve https with this server context (its certificate must name 127.0.0.1).
        """
        self.data = data if data is not None else FakeData.sample()
        self._tls = tls
        self._account = Account(application_id, username, password)
        self._address = ("127.0.0.1", port)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._sessions: dict[str, Session] = {}
        self._rules: list[_Rule] = []
        self._calls: list[CallRecord] = []
        self._spans: list[tuple[float, float]] = []  # (received, answered), monotonic seconds
        self._in_flight = 0
        self._gate: _ReadGate | None = None
        self.request_limit: int | None = None
        """Requests allowed (all operations, logins too) before the quarantine fault answers."""
        self._requests_counted = 0
        self.gzip_answers = False
        """Compress answers (Content-Encoding: gzip) when the request accepts it, as IIS can."""
        self.most_in_flight = 0
        """The most requests the fake was answering at one time: shows reads overlap."""
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeTwentyFour:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _HttpServer(self._address, _Handler, self)
        if self._tls is not None:
            self._httpd.socket = self._tls.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-24sevenoffice",
            daemon=True,
        )
        self._thread.start()
        log.debug("fake 24SevenOffice listening on %s", self.url)
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()  # wakes requests sleeping on injected latency
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> FakeTwentyFour:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL to give the client, e.g. http://127.0.0.1:54321 (https with `tls`)."""
        if self._httpd is None:
            raise RuntimeError("the fake 24SevenOffice server is not running")
        host, port = self._httpd.server_address[:2]
        return f"{'http' if self._tls is None else 'https'}://{host!s}:{port}"

    def env(self) -> dict[str, str]:
        """CRMCONF_24SO_* variables that point a client at this server with valid credentials."""
        return {
            "CRMCONF_24SO_URL": self.url,
            "CRMCONF_24SO_APPLICATION_ID": self._account.application_id,
            "CRMCONF_24SO_USERNAME": self._account.username,
            "CRMCONF_24SO_PASSWORD": self._account.password,
        }

    # ---- sessions ------------------------------------------------------------------------

    def expire_sessions(self) -> None:
        """Forget every session: the next call with an old cookie gets a fault."""
        with self._lock:
            self._sessions.clear()

    @property
    def session_ids(self) -> list[str]:
        with self._lock:
            return list(self._sessions)

    # ---- breaking things on purpose -------------------------------------------------------

    def inject_latency(
        self, seconds: float, *, count: int | None = 1, operation: str | None = None
    ) -> None:
        """Delay the answers to the next `count` matching requests (None: until cleared).

        The request is processed and recorded first and only its answer is late,
        as on a slow network: a write whose answer times out has been applied.
        """
        self._add(_Rule("latency", operation, count, seconds=seconds))

    def inject_http_error(
        self,
        status: int = 503,
        *,
        count: int | None = 1,
        operation: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        """Answer the next `count` matching requests with a bare HTTP error (no SOAP body).

        `retry_after` is sent as the Retry-After header (seconds or an HTTP date).
        The request is not processed, as a 503 or 429 promises.
        """
        if not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status (4xx or 5xx)")
        self._add(_Rule("http_error", operation, count, status=status, retry_after=retry_after))

    def lose_answers(
        self, *, count: int | None = 1, operation: str | None = None, saving: int | None = None
    ) -> None:
        """Process the next `count` matching requests, then drop the connection unanswered.

        The ambiguous failure a write can meet: the change happened, the client
        cannot know. `saving` processes only the first `saving` items of the
        request's list (a server that timed out part-way through a batch).
        """
        self._add(_Rule("lose", operation, count, size=-1 if saving is None else saving))

    def drop_connections(self, *, count: int | None = 1, operation: str | None = None) -> None:
        """Close the connection without answering the next `count` matching requests."""
        self._add(_Rule("drop", operation, count))

    def inject_fault(
        self,
        message: str = "Server was unable to process request.",
        *,
        code: str = "soap:Server",
        count: int | None = 1,
        operation: str | None = None,
    ) -> None:
        """Answer the next `count` matching requests with a SOAP fault (HTTP 500)."""
        self._add(_Rule("fault", operation, count, message=message, code=code))

    def inject_api_exception(
        self,
        message: str,
        *,
        error_type: str = "Validation",
        company_id: int | None = None,
        count: int | None = 1,
        operation: Literal["SaveCompanies", "GetCompanies"] = "SaveCompanies",
    ) -> None:
        """Put an APIException entry into the next matching company result.

        SaveCompanies: the company `company_id` (default: the first one saved)
        is reported as failed and left unchanged. GetCompanies: an extra entry
        carrying only the APIException is appended.
        """
        self._add(
            _Rule(
                "api_exception",
                operation,
                count,
                message=message,
                error_type=error_type,
                company_id=company_id,
            )
        )

    def trickle_answers(
        self,
        seconds_per_byte: float,
        *,
        count: int | None = 1,
        operation: str | None = None,
        from_status_line: bool = False,
    ) -> None:
        """Send the next `count` matching answers' bodies one byte every `seconds_per_byte`.

        `from_status_line`: the status line and headers too, so not even the
        answer's status arrives in time. Each byte arrives well within any
        per-read timeout: only a bound on the whole request stops a client from
        waiting for ever.
        """
        self._add(
            _Rule(
                "trickle",
                operation,
                count,
                seconds=seconds_per_byte,
                from_status_line=from_status_line,
            )
        )

    def inflate_answers(
        self, inflated_bytes: int, *, count: int | None = 1, operation: str | None = None
    ) -> None:
        """Pad the next `count` matching answers with whitespace to `inflated_bytes`, gzipped.

        A few hundred kilobytes on the wire that decompress to `inflated_bytes`:
        a client that holds the decoded answer in memory holds all of it.
        """
        self._add(_Rule("inflate", operation, count, size=inflated_bytes))

    def hold_reads_until(self, in_flight: int, *, timeout: float = 5.0) -> None:
        """Hold each read's answer until `in_flight` reads are waiting at once, or `timeout`.

        For tests of concurrency: a client that sends its reads together passes
        at once, whatever the machine's load; one that sends them one after
        another waits `timeout` per read and `most_in_flight` shows it.
        Applies to every read until clear_injections().
        """
        if in_flight < 1 or timeout <= 0:
            raise ValueError("in_flight must be at least 1 and timeout positive")
        with self._lock:
            self._gate = _ReadGate(in_flight, timeout)

    def clear_injections(self) -> None:
        with self._lock:
            self._rules.clear()
            gate, self._gate = self._gate, None
        if gate is not None:
            gate.open()

    # ---- call log ------------------------------------------------------------------------

    @property
    def calls(self) -> list[CallRecord]:
        with self._lock:
            return list(self._calls)

    def operations(self) -> list[str]:
        return [c.operation for c in self.calls]

    def count(self, operation: str | None = None, *, kind: Kind | None = None) -> int:
        return sum(
            1
            for c in self.calls
            if (operation is None or c.operation == operation) and (kind is None or c.kind == kind)
        )

    def write_calls(self) -> list[CallRecord]:
        return [c for c in self.calls if c.is_write]

    def read_calls(self) -> list[CallRecord]:
        return [c for c in self.calls if c.kind == "read"]

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()
            self._spans.clear()
            self.most_in_flight = 0

    def round_trips(self) -> int:
        """The longest chain of requests each received after the one before it was answered.

        That is how many round trips the clients waited for one after another:
        requests answered at the same time (concurrent reads) count once, a
        request sent after another's answer counts again. Clear-cut only with
        latency injected (without it, requests sent together may not overlap),
        and an upper bound: a request its busy client sent late counts again too.
        """
        with self._lock:
            spans = sorted(self._spans)
        answered: list[tuple[float, int]] = []  # heap of (answered at, chain length to it)
        before = longest = 0  # `before`: the longest chain answered before the current request
        for received, answered_at in spans:
            while answered and answered[0][0] <= received:
                before = max(before, heapq.heappop(answered)[1])
            heapq.heappush(answered, (answered_at, before + 1))
            longest = max(longest, before + 1)
        return longest

    def _entering(self) -> float:
        with self._lock:
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)
        return time.monotonic()

    def _leaving(self, received: float) -> None:
        answered = time.monotonic()
        with self._lock:
            self._in_flight -= 1
            self._spans.append((received, answered))

    # ---- request handling ----------------------------------------------------------------

    def _add(self, rule: _Rule) -> None:
        if rule.remaining is not None and rule.remaining < 1:
            raise ValueError("count must be at least 1 (or None for 'until cleared')")
        if rule.operation is not None and rule.operation not in OPERATIONS:
            raise ValueError(f"unknown operation {rule.operation!r}")
        with self._lock:
            self._rules.append(rule)

    def _take(self, kind: str, operation: str, company_id: int | None = None) -> _Rule | None:
        """Consume one use of the first live rule of `kind` for `operation`."""
        with self._lock:
            for rule in self._rules:
                if rule.kind != kind or not rule.matches(operation):
                    continue
                if kind == "api_exception" and rule.company_id not in (None, company_id):
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                return rule
        return None

    def _take_api_exception(self, operation: str, company_id: int | None) -> tuple[str, str] | None:
        rule = self._take("api_exception", operation, company_id)
        return None if rule is None else (rule.error_type, rule.message)

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> _Reply:
        """Answer one POST and record it, whatever happens."""
        incoming = self._incoming(path, headers, body)
        reply, outcome = self._answer(incoming)
        self._record(incoming, reply, outcome)
        with self._lock:
            gate = self._gate
        if (
            gate is not None
            and incoming.operation is not None
            and incoming.operation.kind == "read"
        ):
            gate.wait(self._stopping)
        if incoming.operation is not None:
            reply = self._encoded(incoming, reply)
            # Latency is applied after the work is done and recorded, like a slow
            # network: a write whose answer times out has still happened.
            rule = self._take("latency", incoming.operation.name)
            if rule is not None:
                self._stopping.wait(rule.seconds)
        return reply

    def _encoded(self, incoming: _Incoming, reply: _Reply) -> _Reply:
        """Apply gzip, inflation and trickling to an answer that has been recorded."""
        assert incoming.operation is not None
        name = incoming.operation.name
        inflate = self._take("inflate", name)
        trickle = self._take("trickle", name)
        if inflate is not None:
            body = _gzip_padded(reply.body, inflate.size)
        elif self.gzip_answers and "gzip" in incoming.accept_encoding:
            body = _gzip_padded(reply.body, 0)
        else:
            body = b""
        if body:
            reply = replace(reply, body=body, headers={**reply.headers, "Content-Encoding": "gzip"})
        if trickle is not None:
            reply = replace(reply, trickle=trickle.seconds, trickle_head=trickle.from_status_line)
        return reply

    def _incoming(self, path: str, headers: dict[str, str], body: bytes) -> _Incoming:
        soap_action = headers.get("soapaction", "").strip().strip('"')
        name = soap_action[len(ACTION_PREFIX) :] if soap_action.startswith(ACTION_PREFIX) else ""
        cookie = _cookie(headers.get("cookie", ""))
        with self._lock:
            session_valid = cookie is not None and cookie in self._sessions
        return _Incoming(
            path=path,
            service=SERVICE_PATHS.get(path.split("?", 1)[0].lower(), ""),
            soap_action=soap_action,
            operation=OPERATIONS.get(name),
            content_type=headers.get("content-type", ""),
            cookie=cookie,
            session_valid=session_valid,
            body=body,
            accept_encoding=headers.get("accept-encoding", "").lower(),
        )

    def _answer(self, incoming: _Incoming) -> tuple[_Reply, Outcome]:
        if not incoming.service:
            return _text_reply(404, "Not Found"), "http_error"
        if not incoming.content_type.lower().startswith("text/xml"):
            # SOAP 1.1 travels as text/xml; anything else is refused at the HTTP level.
            return _text_reply(415, "Unsupported Media Type"), "http_error"
        operation = incoming.operation
        quarantine = self._over_limit()
        if quarantine is not None:
            return _Reply(500, fault(quarantine)), "fault"
        if operation is not None:
            if self._take("drop", operation.name):
                return _Reply(0, b"", drop=True), "dropped"
            error = self._take("http_error", operation.name)
            if error is not None:
                page = f"<html><body>HTTP {error.status}</body></html>"
                headers = {} if error.retry_after is None else {"Retry-After": error.retry_after}
                reply = _Reply(error.status, page.encode(), "text/html; charset=utf-8", headers)
                return reply, "http_error"
        context = self._context(incoming.cookie if incoming.session_valid else None)
        try:
            return self._soap(incoming, context), context.outcome
        except _Unauthenticated as exc:
            return _Reply(500, fault(exc.fault)), "unauthenticated"
        except SoapFault as exc:
            return _Reply(500, fault(exc)), "fault"

    def _over_limit(self) -> SoapFault | None:
        """The vendor's quarantine fault once `request_limit` requests have been answered."""
        with self._lock:
            self._requests_counted += 1
            excess = (
                0 if self.request_limit is None else self._requests_counted - self.request_limit
            )
        if excess <= 0:
            return None
        ends = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
        ends += dt.timedelta(hours=1)
        return SoapFault(
            f"Limit exceeded by {excess}. Request is blocked. "
            f"Quarantine ends at {ends:%d.%m.%Y %H:%M:%S}"
        )

    def _soap(self, incoming: _Incoming, context: Context) -> _Reply:
        operation = incoming.operation
        if operation is None or operation.service != incoming.service:
            # What ASP.NET answers for an action the endpoint does not have.
            raise SoapFault(
                "Server did not recognize the value of HTTP Header SOAPAction: "
                f"{incoming.soap_action}.",
                "soap:Client",
            )
        request = parse_body(incoming.body)
        if request.tag != f"{{{NS}}}{operation.name}":
            raise SoapFault(
                f"The body element does not match SOAPAction {operation.name}", "soap:Client"
            )
        if operation.needs_session and context.session_id is None:
            raise _Unauthenticated(
                SoapFault(
                    "Server was unable to process request. ---> Not authenticated: the "
                    "ASP.NET_SessionId cookie is missing or the session has expired; "
                    "log in through /authenticate/v001/authenticate.asmx"
                )
            )
        injected = self._take("fault", operation.name)
        if injected is not None:
            raise SoapFault(injected.message, injected.code)
        lose = self._take("lose", operation.name)
        if lose is not None and lose.size >= 0:
            _keep_first_items(request, lose.size)
        with self._lock:  # one operation at a time: the data model is not thread-safe
            children = operation.handler(context, request)
        if lose is not None:
            context.outcome = "answer_lost"
            return _Reply(0, b"", drop=True)
        return _Reply(200, response(operation.name, children), headers=context.response_headers)

    def _context(self, session_id: str | None) -> Context:
        return Context(
            data=self.data,
            account=self._account,
            sessions=self._sessions,
            session_id=session_id,
            take_api_exception=self._take_api_exception,
        )

    def _record(self, incoming: _Incoming, reply: _Reply, outcome: Outcome) -> None:
        operation = incoming.operation
        record = CallRecord(
            operation=operation.name if operation else "",
            service=incoming.service,
            kind=operation.kind if operation else None,
            outcome=outcome,
            status=reply.status,
            path=incoming.path,
            soap_action=incoming.soap_action,
            content_type=incoming.content_type,
            session_valid=incoming.session_valid,
            session_cookie=incoming.cookie,
            request_body=_PASSWORD_TEXT.sub(rb"\1***\3", incoming.body),
            response_body=reply.body,
        )
        with self._lock:
            self._calls.append(record)


class _ReadGate:
    """Reads wait here until `size` of them are waiting together (see hold_reads_until)."""

    def __init__(self, size: int, timeout: float) -> None:
        self._size = size
        self._timeout = timeout
        self._waiting = 0
        self._lock = threading.Lock()
        self._opened = threading.Event()

    def wait(self, stopping: threading.Event) -> None:
        self._arrive()
        deadline = time.monotonic() + self._timeout
        while not self._opened.is_set() and not stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._opened.wait(min(remaining, 0.05))

    def open(self) -> None:
        self._opened.set()

    def _arrive(self) -> None:
        with self._lock:
            self._waiting += 1
            if self._waiting >= self._size:
                self._opened.set()


class _Unauthenticated(Exception):
    def __init__(self, fault: SoapFault) -> None:
        super().__init__(fault.message)
        self.fault = fault


def _keep_first_items(request: etree._Element, count: int) -> None:
    """Cut the request's list (its first element's children, e.g. each Category) to `count`."""
    listing = next(iter(request), None)
    if listing is not None:
        for item in list(listing)[count:]:
            listing.remove(item)


def _gzip_padded(body: bytes, size: int) -> bytes:
    """`body` gzipped, followed by whitespace up to `size` bytes (XML allows it after the root)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [compressor.compress(body)]
    padding = max(0, size - len(body))
    block = b" " * (1024 * 1024)
    while padding > 0:
        parts.append(compressor.compress(block[: min(padding, len(block))]))
        padding -= len(block)
    parts.append(compressor.flush())
    return b"".join(parts)


def _text_reply(status: int, message: str) -> _Reply:
    return _Reply(status, message.encode(), "text/plain; charset=utf-8")


def _cookie(header: str) -> str | None:
    match = _COOKIE.search(header)
    return match.group(1) if match else None


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # socketserver prints tracebacks to stderr; keep test output clean.
        log.debug("fake 24SevenOffice: error while handling a request", exc_info=True)

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        fake: FakeTwentyFour,
    ) -> None:
        super().__init__(address, handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    server_version = "fake-24sevenoffice"
    sys_version = ""

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._send(_text_reply(411, "Length Required"))
            return
        if not 0 <= length <= _MAX_BODY:
            self._send(_text_reply(413, "Payload Too Large"))
            return
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake = self.server.fake
        received = fake._entering()
        try:
            reply = fake._handle(self.path, headers, body)
        finally:
            fake._leaving(received)
        if reply.drop:
            self.close_connection = True  # no status line at all: the client sees a reset
            return
        self._send(reply)

    def do_GET(self) -> None:
        self._send(_text_reply(405, "POST SOAP 1.1 requests here"))

    def _send(self, reply: _Reply) -> None:
        headers = {
            "Content-Type": reply.content_type,
            "Content-Length": str(len(reply.body)),
            **reply.headers,
        }
        try:
            if reply.trickle_head:
                self.log_request(reply.status)
                phrase = HTTPStatus(reply.status).phrase
                lines = [f"{self.protocol_version} {reply.status} {phrase}"]
                lines += [f"{name}: {value}" for name, value in headers.items()]
                head = "".join(f"{line}\r\n" for line in [*lines, ""])
                self._trickle(head.encode("latin-1") + reply.body, reply.trickle)
                return
            self.send_response(reply.status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if reply.trickle <= 0:
                self.wfile.write(reply.body)
            else:
                self._trickle(reply.body, reply.trickle)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. its timeout fired during injected latency)

    def _trickle(self, data: bytes, seconds_per_byte: float) -> None:
        stopping = self.server.fake._stopping
        for index in range(len(data)):
            self.wfile.write(data[index : index + 1])
            self.wfile.flush()
            if stopping.wait(seconds_per_byte):
                return

    def log_message(self, format: str, *args: object) -> None:
        log.debug("fake 24SevenOffice: " + format, *args)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the sample account on 127.0.0.1 until Ctrl-C (or SIGTERM, or --seconds)."""
    parser = argparse.ArgumentParser(
        prog="python -m crmconf.testing.fake24so",
        description="A fake 24SevenOffice SOAP server for trying crmconf out; "
        "prints the environment variables that point crmconf at it.",
    )
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument("--seconds", type=float, help="stop after this long (default: Ctrl-C)")
    parser.add_argument(
        "--companies", type=int, default=0, help="add this many generated customers"
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds to wait before every answer"
    )
    options = parser.parse_args(argv)
    data = FakeData.sample()
    data.add_companies(max(0, options.companies))
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signal, _frame: stopped.set())
    with FakeTwentyFour(data=data, port=options.port) as server:
        if options.latency > 0:
            server.inject_latency(options.latency, count=None)
        for name, value in {**server.env(), "CRMCONF_TARGET": "24so://"}.items():
            print(f"export {name}={shlex.quote(value)}")
        sys.stdout.flush()
        print(f"fake 24SevenOffice serving at {server.url}; Ctrl-C stops it", file=sys.stderr)
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait(options.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
