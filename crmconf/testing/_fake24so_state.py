"""The fake 24SevenOffice account's data, held in memory and editable by tests.

Plain mutable dataclasses: a test arranges the starting state by editing
them (or with the add_* helpers) and asserts on them after a run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


@dataclass
class FakeCategory:
    id: int
    name: str
    show_contact: bool = False
    show_company: bool = True


@dataclass
class FakeCompany:
    id: int
    name: str
    industry_id: int | None = None
    status: int | None = None
    organization_number: str = ""
    external_id: str = ""
    type: str = "Business"
    date_created: dt.datetime = field(default_factory=_now)
    date_changed: dt.datetime = field(default_factory=_now)
    active: bool = True
    """False once deleted: GetCompanies no longer finds it; GetCompanySyncList still lists it."""


@dataclass
class FakeGroupMember:
    id: int
    first_name: str
    last_name: str
    role_name: str = "Member"


@dataclass
class FakeGroup:
    id: int
    name: str
    type: int | None = None
    members: list[FakeGroupMember] = field(default_factory=list)
    children: list[FakeGroup] = field(default_factory=list)


@dataclass
class FakeUser:
    contact_id: int
    name: str
    id: str
    employee_id: int | None = None


@dataclass
class FakeIdentity:
    """A client (company account) the fake login may act for."""

    id: str
    client_id: int
    client_name: str
    is_default: bool = False
    organization_number: str = ""


@dataclass
class FakeData:
    categories: dict[int, FakeCategory] = field(default_factory=dict)
    industries: dict[int, str] = field(default_factory=dict)
    statuses: dict[int, str] = field(default_factory=dict)
    groups: list[FakeGroup] = field(default_factory=list)
    users: list[FakeUser] = field(default_factory=list)
    companies: dict[int, FakeCompany] = field(default_factory=dict)
    identities: list[FakeIdentity] = field(default_factory=list)
    sync_page_size: int = 1000
    """GetCompanySyncList items per page (the vendor documents 1,000)."""

    def add_category(
        self, name: str, *, show_contact: bool = False, show_company: bool = True
    ) -> FakeCategory:
        category = FakeCategory(_next_id(self.categories), name, show_contact, show_company)
        self.categories[category.id] = category
        return category

    def add_company(
        self, name: str, *, industry_id: int | None = None, status: int | None = None
    ) -> FakeCompany:
        company = FakeCompany(
            _next_id(self.companies, start=10001), name, industry_id=industry_id, status=status
        )
        self.companies[company.id] = company
        return company

    def add_companies(self, count: int) -> None:
        """`count` generated companies spread over the industries and statuses, quickly.

        For accounts of 100,000 customers: add_company finds the next id anew each time.
        """
        start = _next_id(self.companies, start=10001)
        industries: list[int | None] = [*sorted(self.industries)] or [None]
        statuses: list[int | None] = [*sorted(self.statuses)] or [None]
        now = _now()
        for offset in range(count):
            company_id = start + offset
            self.companies[company_id] = FakeCompany(
                company_id,
                f"Customer {company_id} AS",
                industry_id=industries[offset % len(industries)],
                status=statuses[offset % len(statuses)],
                date_created=now,
                date_changed=now,
            )

    def delete_company(self, company_id: int) -> FakeCompany:
        """Delete as the product does: the company stays, marked inactive."""
        company = self.companies[company_id]
        company.active = False
        company.date_changed = _now()
        return company

    def default_identity(self) -> FakeIdentity | None:
        return next((i for i in self.identities if i.is_default), None) or next(
            iter(self.identities), None
        )

    @classmethod
    def sample(cls) -> FakeData:
        """A small, realistic account: enough of everything to exercise every operation."""
        data = cls(
            industries={1: "Consulting", 2: "Retail", 3: "Manufacturing", 4: "Public sector"},
            statuses={1: "Lead", 2: "Prospect", 3: "Customer", 4: "Former customer"},
            users=[
                FakeUser(101, "Kari Nordmann", "3f2b1c4d-0000-4000-8000-000000000101", 1),
                FakeUser(102, "Ola Hansen", "3f2b1c4d-0000-4000-8000-000000000102", 2),
                FakeUser(103, "Ingrid Berg", "3f2b1c4d-0000-4000-8000-000000000103", None),
            ],
            identities=[
                FakeIdentity(
                    "11111111-2222-4333-8444-555555555555", 1001, "Demo AS", True, "912345678"
                ),
                FakeIdentity(
                    "11111111-2222-4333-8444-666666666666",
                    1002,
                    "Demo Sandbox AS",
                    organization_number="987654321",
                ),
            ],
        )
        data.groups = [
            FakeGroup(
                1,
                "Sales",
                type=1,
                members=[FakeGroupMember(101, "Kari", "Nordmann", "Manager")],
                children=[
                    FakeGroup(2, "Sales Oslo", members=[FakeGroupMember(102, "Ola", "Hansen")]),
                    FakeGroup(3, "Sales Bergen", type=None),
                ],
            ),
            FakeGroup(4, "Support", type=2, members=[FakeGroupMember(103, "Ingrid", "Berg")]),
        ]
        for name, contact, company in (
            ("VIP", True, True),
            ("Partner", False, True),
            ("Newsletter", True, False),
        ):
            data.add_category(name, show_contact=contact, show_company=company)
        for index in range(1, 13):
            data.add_company(
                f"Company {index:02d} AS", industry_id=1 + index % 4, status=1 + index % 3
            )
        return data


def _next_id(existing: Mapping[int, object], *, start: int = 1) -> int:
    return max(existing, default=start - 1) + 1
