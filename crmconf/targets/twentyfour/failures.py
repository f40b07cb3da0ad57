"""Turn whatever went wrong talking to 24SevenOffice into a one-line TargetError.

Every message is built here from known-safe parts. Text that comes from the
server (fault strings, APIException messages) is squeezed onto one line,
shortened and scrubbed of the secrets we hold, because a server may echo
what it was sent. The original exception is not chained (`from None`): zeep
and requests put response bodies and URLs into their messages, and a chained
traceback would print them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import requests
from zeep.exceptions import Fault, TransportError, XMLParseError, XMLSyntaxError

from crmconf.errors import TargetError

from .models import ApiFailure
from .transport import AnswerTooLarge, AnswerTooSlow

_MAX_SERVER_TEXT = 240
_WHITESPACE = re.compile(r"\s+")


class TwentyFourApiError(TargetError):
    """The service answered but reported per-item APIException entries.

    `failures` lists them; `saved_ids` lists the companies that were saved
    before or alongside the failures, so a caller can report partial progress.
    """

    def __init__(
        self, message: str, failures: Sequence[ApiFailure], saved_ids: Sequence[int] = ()
    ) -> None:
        super().__init__(message)
        self.failures = tuple(failures)
        self.saved_ids = tuple(saved_ids)


class WriteMayHaveLanded(TargetError):
    """A write that is not safe to repeat failed in a way that leaves open whether it landed.

    A timeout, a connection reset after sending, or a 5xx without a SOAP fault:
    the caller must read back what the write would have changed before sending
    any of it again.
    """


def scrub(text: str, secrets: Iterable[str]) -> str:
    """One line, at most _MAX_SERVER_TEXT characters, with every secret replaced."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _WHITESPACE.sub(" ", text).strip()
    if len(text) > _MAX_SERVER_TEXT:
        text = text[: _MAX_SERVER_TEXT - 1] + "…"
    return text


def describe(exc: BaseException, *, where: str, secrets: Iterable[str]) -> str:
    """A one-line, secret-free description of `exc` for an error about `where`."""
    if isinstance(exc, Fault):
        code = f" [{scrub(str(exc.code), secrets)}]" if exc.code else ""
        return f"{where}: the service returned a SOAP fault{code}: " + scrub(
            str(exc.message or "no message"), secrets
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return (
            f"{where}: TLS handshake or certificate verification failed; "
            "check the URL and the CA bundle (REQUESTS_CA_BUNDLE)"
        )
    if isinstance(exc, AnswerTooSlow):
        return (
            f"{where}: the answer did not arrive completely within {exc.seconds:g} s "
            "(CRMCONF_24SO_TIMEOUT bounds each request from connecting to the last byte)"
        )
    if isinstance(exc, AnswerTooLarge):
        return (
            f"{where}: the answer is larger than {exc.limit // (1024 * 1024)} MB once "
            "decompressed; refused to protect memory"
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"{where}: timed out while connecting"
    if isinstance(exc, requests.exceptions.Timeout):
        return f"{where}: timed out waiting for the answer"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"{where}: cannot connect or the connection was dropped ({_root_cause(exc)})"
    if isinstance(exc, TransportError):
        status = exc.status_code or 0
        if 300 <= status < 400:
            return f"{where}: unexpected HTTP redirect ({status}); check the base URL"
        return f"{where}: HTTP {status} without a SOAP answer"
    if isinstance(exc, XMLSyntaxError | XMLParseError):
        return f"{where}: the answer is not a valid SOAP message for this API"
    if isinstance(exc, requests.exceptions.RequestException):
        return f"{where}: HTTP request failed ({type(exc).__name__})"
    return f"{where}: unexpected {type(exc).__name__}"


def api_error(
    operation: str, failures: Sequence[ApiFailure], total: int, saved_ids: Sequence[int] = ()
) -> TwentyFourApiError:
    """`failures` must already be scrubbed: their text goes into the message as is."""
    first = failures[0]
    subject = f"company {first.company_id}" if first.company_id is not None else "an item"
    more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
    message = (
        f"24SevenOffice {operation}: {len(failures)} of {total} item(s) failed; "
        f"{subject}: {first.type or 'APIException'}: {first.message}{more}"
    )
    return TwentyFourApiError(message, failures, saved_ids)


def _root_cause(exc: BaseException) -> str:
    """The innermost exception's class name: enough to tell 'refused' from 'reset'."""
    seen: set[int] = set()
    current: BaseException = exc
    while id(current) not in seen:
        seen.add(id(current))
        nested = current.__cause__ or current.__context__
        if nested is None and current.args and isinstance(current.args[0], BaseException):
            nested = current.args[0]
        if nested is None:
            break
        current = nested
    reason = getattr(current, "reason", None)
    if isinstance(reason, BaseException):
        current = reason
    return type(current).__name__
