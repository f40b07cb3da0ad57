"""Translate between zeep's generic values and the client's dataclasses.

zeep hands back loosely typed objects: an ArrayOfX is sometimes already a
list and sometimes a wrapper with one repeated field, absent elements are
None, and the API writes "not set" as the type's minimum (int.MinValue).
All of that is absorbed here so the client methods stay short and typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Final

from crmconf.errors import TargetError

from .models import (
    ApiFailure,
    Category,
    ClientInformation,
    Company,
    CompanyUpdate,
    CrmGroup,
    GroupMember,
    Identity,
    SyncCompany,
    User,
)

# .NET int.MinValue: the API's marker for "no value" in int fields.
INT_NOT_SET: Final = -2147483648


def items(value: Any, element: str) -> list[Any]:
    """The entries of an ArrayOf<element> value, whether or not zeep unwrapped it."""
    if value is None:
        return []
    if isinstance(value, list):
        return [v for v in value if v is not None]
    inner = getattr(value, element, None)
    if inner is None:
        return []
    return [v for v in inner if v is not None]


def opt_int(value: Any) -> int | None:
    if value is None:
        return None
    number = int(value)
    return None if number == INT_NOT_SET else number


def opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def category_from(value: Any) -> Category:
    return Category(
        id=opt_int(value.Id),
        name=str(value.Name or ""),
        show_company=bool(value.ShowCompany),
        show_contact=bool(value.ShowContact),
    )


def category_to(category: Category) -> dict[str, Any]:
    # Every field is sent: an omitted boolean would be read as false.
    payload: dict[str, Any] = {
        "Name": category.name,
        "ShowContact": category.show_contact,
        "ShowCompany": category.show_company,
    }
    if category.id is not None:
        payload = {"Id": category.id, **payload}
    return payload


def key_values(value: Any, what: str) -> list[tuple[int, str]]:
    """KeyValuePair entries as (id, name); the API types the key as a string."""
    pairs: list[tuple[int, str]] = []
    for entry in items(value, "KeyValuePair"):
        key = opt_str(entry.Key)
        try:
            number = int(key) if key is not None else None
        except ValueError:
            number = None
        if number is None:
            raise TargetError(f"24SevenOffice returned a {what} without a numeric id")
        pairs.append((number, str(entry.Value or "")))
    return pairs


def group_from(value: Any) -> CrmGroup:
    return CrmGroup(
        id=int(value.Id),
        name=opt_str(value.Name),
        type=None if value.Type is None else int(value.Type),
        members=tuple(
            GroupMember(
                id=int(m.Id),
                role_name=opt_str(m.RoleName),
                first_name=opt_str(m.FirstName),
                last_name=opt_str(m.LastName),
            )
            for m in items(value.Members, "GroupMember")
        ),
        children=tuple(group_from(child) for child in items(value.Children, "Group")),
    )


def user_from(value: Any) -> User:
    return User(
        contact_id=opt_int(value.ContactId),
        id=opt_str(value.Id),
        name=str(value.Name or ""),
        employee_id=opt_int(value.EmployeeId),
    )


def client_information_from(value: Any) -> ClientInformation:
    if value is None:
        return ClientInformation(None, None)
    return ClientInformation(opt_str(value.Name), opt_str(value.OrganizationNumber))


def identity_from(value: Any) -> Identity:
    client = value.Client
    user = value.User
    return Identity(
        id=str(value.Id),
        client_id=None if client is None else opt_int(client.Id),
        client_name=None if client is None else opt_str(client.Name),
        user_name=None if user is None else opt_str(user.Name),
        is_current=bool(value.IsCurrent),
        is_default=bool(value.IsDefault),
    )


# Properties GetCompanies is asked for; the API returns only what is listed.
COMPANY_PROPERTIES: Final = ("Id", "Name", "IndustryId", "Status")
# What usage counts and customer moves need: no names.
ASSIGNMENT_PROPERTIES: Final = ("Id", "IndustryId", "Status")


def company_from(value: Any) -> Company:
    company_id = opt_int(value.Id)
    if company_id is None:
        raise TargetError("24SevenOffice returned a company without an Id")
    return Company(
        id=company_id,
        name=opt_str(value.Name),
        industry_id=opt_int(value.IndustryId),
        status=opt_int(value.Status),
    )


def company_update_to(update: CompanyUpdate) -> dict[str, Any]:
    # Only the fields to change: omitted fields mean "leave as is" to the API.
    payload: dict[str, Any] = {"Id": update.id}
    if update.status is not None:
        payload["Status"] = update.status
    if update.industry_id is not None:
        payload["IndustryId"] = update.industry_id
    return payload


def api_failures(companies: Iterable[Any]) -> list[ApiFailure]:
    failures = []
    for company in companies:
        exc = getattr(company, "APIException", None)
        if exc is None:
            continue
        failures.append(
            ApiFailure(
                company_id=opt_int(getattr(company, "Id", None)),
                type=str(exc.Type or ""),
                message=str(exc.Message or ""),
            )
        )
    return failures


def sync_company_from(value: Any) -> SyncCompany | None:
    """None for an entry without a company id (nothing a person could look up)."""
    company_id = opt_int(value.CompanyId)
    if company_id is None:
        return None
    changed = value.DateChanged
    return SyncCompany(
        id=company_id,
        external_id=opt_str(value.ExternalId) or None,
        date_changed=changed if isinstance(changed, dt.datetime) and changed.year > 1 else None,
        active=bool(value.Active),
    )


def search_since(changed_after: dt.datetime | None) -> dict[str, Any]:
    # The API needs a criterion; a date before any data existed means "all companies".
    return {"ChangedAfter": changed_after or dt.datetime(1900, 1, 1)}
