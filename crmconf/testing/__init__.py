"""Test helpers shipped with crmconf, so users can run CI without a real CRM account."""

from ._fake24so_state import (
    FakeCategory,
    FakeCompany,
    FakeData,
    FakeGroup,
    FakeGroupMember,
    FakeIdentity,
    FakeUser,
)
from .fake24so import CallRecord, FakeTwentyFour

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
