"""Targets by URL scheme; each is imported only when a URL asks for it."""

from __future__ import annotations

import os

from crmconf.errors import TargetError
from crmconf.targets.base import Target
from crmconf.targets.sandbox import DEFAULT_TARGET

__all__ = ["DEFAULT_TARGET", "STATE_VARIABLE", "TARGET_VARIABLE", "open_target", "target_url"]

TARGET_VARIABLE = "CRMCONF_TARGET"
STATE_VARIABLE = "CRMCONF_STATE"
"""A PostgreSQL URL holding locks and history for targets that keep none
(crmconf.targets.state_backend)."""


def target_url(given: str | None) -> str:
    """The target a command works on: --target, else $CRMCONF_TARGET, else the sandbox."""
    return given or os.environ.get(TARGET_VARIABLE) or DEFAULT_TARGET


def open_target(url: str) -> Target:
    """Open the target a URL names."""
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme in ("sqlite", "postgresql"):
        from crmconf.targets.sandbox.target import SandboxTarget

        return SandboxTarget.open(url)
    if scheme == "24so":
        from crmconf.targets.twentyfour.target import TwentyFourTarget

        return TwentyFourTarget.open(url)
    raise TargetError(
        # Only the scheme is echoed: the rest of an unknown URL may hold a password.
        f"unknown target scheme {scheme + ':'!r}: crmconf speaks sqlite:///PATH "
        "(the embedded sandbox CRM), postgresql://… "
        "and 24so:// (24SevenOffice, credentials from CRMCONF_24SO_* variables)"
    )
