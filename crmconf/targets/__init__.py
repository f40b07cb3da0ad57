"""Targets by URL scheme; each is imported only when a URL asks for it."""

from __future__ import annotations

import os

from crmconf.errors import TargetError
from crmconf.targets.base import Target
from crmconf.targets.sandbox import DEFAULT_TARGET
from crmconf.targets.variables import STATE_VARIABLE, TARGET_VARIABLE

__all__ = ["DEFAULT_TARGET", "STATE_VARIABLE", "TARGET_VARIABLE", "open_target", "target_url"]


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
    from crmconf.targets.urls import printable_url

    known = (
        "crmconf speaks sqlite:///PATH (the embedded sandbox CRM), postgresql://… "
        "and 24so:// (24SevenOffice, credentials from CRMCONF_24SO_* variables)"
    )
    if ":" not in url:  # a file's path, most likely: say how to name it
        raise TargetError(
            f"{printable_url(url)!r} is not a target URL; for a sandbox file, write "
            f"sqlite:///{url} ({known})"
        )
    raise TargetError(f"unknown target scheme {printable_url(scheme) + ':'!r}: {known}")
