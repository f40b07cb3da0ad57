"""One request's total time: connecting, sending, the status line, the headers and the body.

requests' timeout bounds each socket operation, not their sum: a server sending
a byte every few seconds (of its status line, its headers or its body) keeps a
request going for ever. So every request runs under a RequestDeadline, a timer
that shuts the connection carrying it when its time is up; the blocked read then
ends at once, and the transport reports AnswerTooSlow.

Which connection carries the request is known only inside urllib3, so the
session's adapter builds its connections from the classes below: they tell the
deadline of the request running in their thread (at most one: a client is
used by one thread) that they carry it.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import suppress
from types import TracebackType
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection

_running = threading.local()


class RequestDeadline:
    """`with RequestDeadline(seconds):` around one request shuts its connection when time is up."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._connection: HTTPConnection | None = None
        self._expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    @property
    def expired(self) -> bool:
        return self._expired or time.monotonic() >= self._ends

    def __enter__(self) -> RequestDeadline:
        _running.deadline = self
        self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        _running.deadline = None

    def carried_by(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connection = connection
            if self._expired:
                _shut(connection)

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            if self._connection is not None:
                _shut(self._connection)


def _shut(connection: HTTPConnection) -> None:
    sock = connection.sock
    if sock is not None:
        # socket.socket's own shutdown, also for a TLS socket (whose shutdown would also
        # drop its TLS state under the thread still reading): the blocked read returns.
        with suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _carrying(connection: HTTPConnection) -> None:
    deadline: RequestDeadline | None = getattr(_running, "deadline", None)
    if deadline is not None:
        deadline.carried_by(connection)


class _BoundedHTTPConnection(HTTPConnection):
    # Both: a TLS connection connects (and shakes hands) before the request is sent,
    # a plain one while sending it; a kept-alive one only sends.
    def connect(self) -> None:
        _carrying(self)
        super().connect()

    def request(self, *args: Any, **kwargs: Any) -> None:
        _carrying(self)
        super().request(*args, **kwargs)


class _BoundedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        _carrying(self)
        super().connect()

    def request(self, *args: Any, **kwargs: Any) -> None:
        _carrying(self)
        super().request(*args, **kwargs)


class _BoundedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _BoundedHTTPConnection


class _BoundedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _BoundedHTTPSConnection


class BoundedAdapter(HTTPAdapter):
    """requests' adapter, with connections a RequestDeadline can shut (direct or via a proxy)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _bounded(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS has connection classes of its own
            _bounded(manager)
        return manager


def _bounded(manager: PoolManager) -> None:
    manager.pool_classes_by_scheme = {
        "http": _BoundedHTTPConnectionPool,
        "https": _BoundedHTTPSConnectionPool,
    }
