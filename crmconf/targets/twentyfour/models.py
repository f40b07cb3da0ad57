"""Plain values the 24SevenOffice client returns and accepts.

They carry no zeep objects, so the rest of crmconf never depends on the SOAP
library; ids are ints, "not set" is None (the API's int.MinValue marker is
translated at the edge, in mapping.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Category:
    """A CRM category. `id` is None for one that does not exist yet (save creates it)."""

    id: int | None
    name: str
    show_company: bool
    show_contact: bool


@dataclass(frozen=True)
class GroupMember:
    id: int
    role_name: str | None
    first_name: str | None
    last_name: str | None


@dataclass(frozen=True)
class CrmGroup:
    """A node of the CRM group tree. `type` is an undocumented number (or None)."""

    id: int
    name: str | None
    type: int | None
    members: tuple[GroupMember, ...] = ()
    children: tuple[CrmGroup, ...] = ()


@dataclass(frozen=True)
class User:
    contact_id: int | None
    id: str | None
    name: str
    employee_id: int | None


@dataclass(frozen=True)
class Identity:
    """One client (company account) the logged-in user may act for."""

    id: str
    client_id: int | None
    client_name: str | None
    user_name: str | None
    is_current: bool
    is_default: bool


@dataclass(frozen=True)
class SyncCompany:
    """A company as GetCompanySyncList lists it: no name, but deleted ones too (active False)."""

    id: int
    external_id: str | None
    date_changed: datetime | None
    active: bool


@dataclass(frozen=True)
class ClientInformation:
    """The client (company account) a session acts for, as GetClientInformation names it."""

    name: str | None
    organization_number: str | None


@dataclass(frozen=True, slots=True)  # slots: 100,000 of them are read at once
class Company:
    id: int
    name: str | None
    industry_id: int | None
    status: int | None


@dataclass(frozen=True)
class CompanyAssignments:
    """Every company's id, industry and status (no name): the light listing of an account.

    Three columns rather than a Company each: an account of 100,000 customers is
    read at once, and an object per company cost more than parsing it (issue 14).
    Iterating gives the companies as Company values (name None), in column order.
    """

    ids: tuple[int, ...]
    industry_ids: tuple[int | None, ...]
    statuses: tuple[int | None, ...]

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[Company]:
        for company_id, industry_id, status in zip(
            self.ids, self.industry_ids, self.statuses, strict=True
        ):
            yield Company(company_id, None, industry_id, status)

    def by_id(self) -> CompanyAssignments:
        """The same companies ordered by id (already in order, it costs one sort of the ids)."""
        ids = list(self.ids)
        if ids == sorted(ids):
            return self
        order = sorted(range(len(ids)), key=ids.__getitem__)
        return CompanyAssignments(
            tuple(ids[i] for i in order),
            tuple(self.industry_ids[i] for i in order),
            tuple(self.statuses[i] for i in order),
        )


@dataclass(frozen=True)
class CompanyUpdate:
    """A change to one existing company; None fields are not sent and stay as they are."""

    id: int
    industry_id: int | None = None
    status: int | None = None


@dataclass(frozen=True)
class ApiFailure:
    """One APIException entry the service returned inside a result list."""

    company_id: int | None
    type: str
    message: str


@dataclass
class CallStats:
    """What the client has sent so far; tests and `crmconf plan` use it to prove read-only runs.

    `requests` counts HTTP requests per SOAP operation, including retries and
    logins; `retries` counts only the repeated ones.
    """

    requests: dict[str, int] = field(default_factory=dict)
    logins: int = 0
    retries: int = 0
    session_renewals: int = 0

    def total(self) -> int:
        return sum(self.requests.values())

    def copy(self) -> CallStats:
        return CallStats(dict(self.requests), self.logins, self.retries, self.session_renewals)
