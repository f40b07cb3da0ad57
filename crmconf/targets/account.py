"""Targets that can say which account (client company) they are, for the top of a plan.

A CRM reachable under several accounts with one login (24SevenOffice) names
the one a run acts for, so a person sees it before anything is applied.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class NamesItsAccount(Protocol):
    def account_heading(self) -> str:
        """One line: the target URL, the account's name and number, and whether it is pinned."""


def account_heading(target: object) -> str | None:
    """The target's account line, or None for targets that are a single account."""
    return target.account_heading() if isinstance(target, NamesItsAccount) else None


@runtime_checkable
class CountsRequests(Protocol):
    """A target behind a rate-limited API, which says what a run cost."""

    def api_requests(self) -> int:
        """HTTP requests sent so far by this target (logins and retries included)."""

    def requests_summary(self) -> str:
        """One line: this run's requests and the budget they were taken from."""


def requests_summary(target: object) -> str | None:
    return target.requests_summary() if isinstance(target, CountsRequests) else None


def api_requests(target: object) -> int | None:
    return target.api_requests() if isinstance(target, CountsRequests) else None
