"""Test helpers shipped with crmconf, so users can run CI without a real CRM account."""

from typing import TYPE_CHECKING, Any

from ._fake24so_state import (
    FakeCategory,
    FakeCompany,
    FakeData,
    FakeGroup,
    FakeGroupMember,
    FakeIdentity,
    FakeUser,
)

if TYPE_CHECKING:
    from .fake24so import CallRecord, FakeTwentyFour


def __getattr__(name: str) -> Any:
    # The server module is imported on first use, so that `python -m
    # crmconf.testing.fake24so` runs it without runpy's "found in sys.modules" warning.
    if name in ("CallRecord", "FakeTwentyFour"):
        from . import fake24so

        return getattr(fake24so, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CallRecord",
    "FakeCategory",
    "FakeCompany",
    "FakeData",
    "FakeGroup",
    "FakeGroupMember",
    "FakeIdentity",
    "FakeTwentyFour",
    "FakeUser",
]
