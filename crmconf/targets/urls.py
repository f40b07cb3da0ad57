"""Target URLs as they may be printed: never with a password, however malformed.

SQLAlchemy hides the password of a URL it can parse; an error about a URL it cannot
parse is exactly where the rest of the text still holds one (`postgresql:/crm:S3cr3t@h`).
"""

from __future__ import annotations

import re

HIDDEN = "***"

# A scheme counts only when a `/` follows it: in `u:p@host` the `u:` is a user's.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/{1,2}")
_SECRET_PARAMETER = re.compile(r"(?i)([?&;](?:password|passwd|pwd|secret|token)=)[^&;#]*")


def printable_url(url: str) -> str:
    """The URL with whatever could be a password replaced by ***.

    After the scheme, everything up to the last `@` is user information (a password may
    hold `@` or `/` unescaped); what follows its first `:` is the password.
    """
    shown = _SECRET_PARAMETER.sub(lambda match: match.group(1) + HIDDEN, url)
    head, at, tail = shown.rpartition("@")
    if not at:
        return shown
    scheme = _SCHEME.match(head)
    lead = scheme.group(0) if scheme else ""
    user, colon, _password = head[len(lead) :].partition(":")
    return f"{lead}{user}:{HIDDEN}@{tail}" if colon else shown


def malformed_url(url: str) -> str:
    """What to say about a database URL that does not parse, its password hidden."""
    return (
        f"not a database URL: {printable_url(url)!r}; write sqlite:///PATH or "
        "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE (PORT a number)"
    )
