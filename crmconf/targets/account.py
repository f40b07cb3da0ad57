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
