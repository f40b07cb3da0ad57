"""The operations the fake 24SevenOffice server implements, over FakeData.

Each handler takes the request's body element and returns the children of
the <Operation>Response element, or raises SoapFault. Where the real
service's behaviour is not documented, the fake is deliberately strict (for
example GetCompanies without any search criterion is a fault) so that client
bugs show up here rather than against a customer's account.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal, TypeVar

from lxml import etree

from ._fake24so_state import FakeCategory, FakeCompany, FakeData, FakeGroup, FakeIdentity
from ._fake24so_xml import (
    SoapFault,
    bool_value,
    child,
    children,
    datetime_value,
    el,
    int_value,
    nil,
    text,
)

Kind = Literal["auth", "read", "write"]
Outcome = Literal[
    "ok",
    "fault",
    "unauthenticated",
    "login_failed",
    "api_exception",
    "http_error",
    "dropped",
    "answer_lost",
]
Element = etree._Element
Scalar = str | int | bool | dt.datetime
_T = TypeVar("_T")

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_EMPTY_GUID: Final = "00000000-0000-0000-0000-000000000000"
# ASP.NET session ids: 24 characters from this alphabet.
_SESSION_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz012345"


@dataclass(frozen=True)
class Account:
    application_id: str
    username: str
    password: str = field(repr=False)


@dataclass
class Session:
    identity_id: str | None


@dataclass
class Context:
    """What a handler may see and change for one request."""

    data: FakeData
    account: Account
    sessions: dict[str, Session]
    session_id: str | None  # the request's cookie, if it names a live session
    take_api_exception: Callable[[str, int | None], tuple[str, str] | None]
    response_headers: dict[str, str] = field(default_factory=dict)
    outcome: Outcome = "ok"


Handler = Callable[[Context, Element], list[Element]]


@dataclass(frozen=True)
class Operation:
    name: str
    service: str
    kind: Kind
    needs_session: bool
    handler: Handler


# ---- authentication -------------------------------------------------------------------------


def _login(ctx: Context, request: Element) -> list[Element]:
    credential = child(request, "credential")
    if credential is None:
        ctx.outcome = "login_failed"
        return [el("LoginResult", "")]
    application_id = _guid(credential, "ApplicationId") or ""
    identity_id = _guid(credential, "IdentityId")
    username = text(credential, "Username") or ""
    password = text(credential, "Password") or ""
    valid = (
        _same(application_id.lower(), ctx.account.application_id.lower())
        & _same(username.lower(), ctx.account.username.lower())
        & _same(password, ctx.account.password)
    )
    identity = _pick_identity(ctx.data, identity_id)
    if not valid or (identity_id not in (None, _EMPTY_GUID) and identity is None):
        # The documented answer to bad credentials: an empty session id, not a fault.
        ctx.outcome = "login_failed"
        return [el("LoginResult", "")]
    session_id = "".join(secrets.choice(_SESSION_ALPHABET) for _ in range(24))
    ctx.sessions[session_id] = Session(identity.id if identity else None)
    ctx.response_headers["Set-Cookie"] = f"ASP.NET_SessionId={session_id}; path=/; HttpOnly"
    return [el("LoginResult", session_id)]


def _has_session(ctx: Context, request: Element) -> list[Element]:
    return [el("HasSessionResult", ctx.session_id is not None)]


def _get_identities(ctx: Context, request: Element) -> list[Element]:
    current = _current_session(ctx).identity_id
    user = ctx.data.users[0].name if ctx.data.users else ctx.account.username
    return [
        el(
            "GetIdentitiesResult",
            None,
            *[_identity(i, current=i.id == current, user_name=user) for i in ctx.data.identities],
        )
    ]


def _set_identity_by_id(ctx: Context, request: Element) -> list[Element]:
    identity = _pick_identity(ctx.data, _guid(request, "identityId"))
    if identity is not None:
        _current_session(ctx).identity_id = identity.id
    return [el("SetIdentityByIdResult", identity is not None)]


def _get_client_information(ctx: Context, request: Element) -> list[Element]:
    """The session's client, with the Client type's required fields in the vendor's order."""
    current = _current_session(ctx).identity_id
    identity = next((i for i in ctx.data.identities if i.id == current), None)
    return [
        el(
            "GetClientInformationResult",
            None,
            el("IsUsingFactoring", False),
            el("Name", identity.client_name if identity else ctx.account.username),
            el("ReminderDays", 14),
            el("ReminderDays2", 14),
            el("ReminderDays3", 14),
            el("UserId", 1),
            el("OrganizationNumber", identity.organization_number if identity else ""),
        )
    ]


def _identity(identity: FakeIdentity, *, current: bool, user_name: str) -> Element:
    return el(
        "Identity",
        None,
        el("Id", identity.id),
        el("User", None, el("Name", user_name)),
        el("Client", None, el("Id", identity.client_id), el("Name", identity.client_name)),
        el("IsCurrent", current),
        el("IsDefault", identity.is_default),
        el("IsProtected", False),
    )


# ---- CRM settings ---------------------------------------------------------------------------


def _get_categories(ctx: Context, request: Element) -> list[Element]:
    ordered = sorted(ctx.data.categories.values(), key=lambda c: c.id)
    return [el("GetCategoriesResult", None, *[_category(c) for c in ordered])]


def _save_categories(ctx: Context, request: Element) -> list[Element]:
    nodes = [n for n in children(child(request, "categories"), "Category") if _present(n)]
    # Check everything first so a bad entry changes nothing (the fake is all-or-nothing).
    for node in nodes:
        category_id = int_value(node, "Id")
        if category_id is not None and category_id not in ctx.data.categories:
            raise SoapFault(f"Category {category_id} does not exist")
        if category_id is None and not (text(node, "Name") or "").strip():
            raise SoapFault("A new category needs a Name", "soap:Client")
    saved = []
    for node in nodes:
        category_id = int_value(node, "Id")
        if category_id is None:
            category = ctx.data.add_category(text(node, "Name") or "")
            category.show_contact = bool(bool_value(node, "ShowContact"))
            category.show_company = bool(bool_value(node, "ShowCompany"))
        else:
            category = ctx.data.categories[category_id]
            category.name = text(node, "Name") or category.name
            category.show_contact = _or(bool_value(node, "ShowContact"), category.show_contact)
            category.show_company = _or(bool_value(node, "ShowCompany"), category.show_company)
        saved.append(_category(category))
    return [el("SaveCategoriesResult", None, *saved)]


def _category(category: FakeCategory) -> Element:
    return el(
        "Category",
        None,
        el("Id", category.id),
        el("Name", category.name),
        el("ShowContact", category.show_contact),
        el("ShowCompany", category.show_company),
    )


def _key_values(result: str, values: dict[int, str]) -> list[Element]:
    pairs = [
        el("KeyValuePair", None, el("Key", key), el("Value", name))
        for key, name in sorted(values.items())
    ]
    return [el(result, None, *pairs)]


def _get_industries(ctx: Context, request: Element) -> list[Element]:
    return _key_values("GetIndustriesResult", ctx.data.industries)


def _get_statuses(ctx: Context, request: Element) -> list[Element]:
    return _key_values("GetStatusesResult", ctx.data.statuses)


def _get_crm_groups(ctx: Context, request: Element) -> list[Element]:
    return [el("GetCRMGroupsResult", None, *[_group(g) for g in ctx.data.groups])]


def _group(group: FakeGroup) -> Element:
    members = [
        el(
            "GroupMember",
            None,
            el("Id", m.id),
            el("RoleName", m.role_name),
            el("FirstName", m.first_name),
            el("LastName", m.last_name),
        )
        for m in group.members
    ]
    return el(
        "Group",
        None,
        el("Id", group.id),
        el("Name", group.name),
        nil("Type") if group.type is None else el("Type", group.type),
        el("Members", None, *members),
        el("Children", None, *[_group(c) for c in group.children]),
    )


def _get_users(ctx: Context, request: Element) -> list[Element]:
    users = []
    for user in ctx.data.users:
        fields = [el("ContactId", user.contact_id), el("Id", user.id), el("Name", user.name)]
        if user.employee_id is not None:
            fields.append(el("EmployeeId", user.employee_id))
        users.append(el("User", None, *fields))
    return [el("GetUsersResult", None, *users)]


# ---- companies ------------------------------------------------------------------------------

# The properties GetCompanies can return, in the order of the Company type's sequence.
_COMPANY_FIELDS: Final[dict[str, Callable[[FakeCompany], Scalar | None]]] = {
    "Id": lambda c: c.id,
    "ExternalId": lambda c: c.external_id,
    "OrganizationNumber": lambda c: c.organization_number,
    "Name": lambda c: c.name,
    "Type": lambda c: c.type,
    "DateCreated": lambda c: c.date_created,
    "Status": lambda c: c.status,
    "IndustryId": lambda c: c.industry_id,
    "DateChanged": lambda c: c.date_changed,
}


def _get_companies(ctx: Context, request: Element) -> list[Element]:
    wanted = [n.text or "" for n in children(child(request, "returnProperties"), "string")]
    if not wanted:
        raise SoapFault("returnProperties must name at least one property", "soap:Client")
    unknown = sorted(set(wanted) - set(_COMPANY_FIELDS))
    if unknown:
        raise SoapFault(f"Unsupported returnProperties: {', '.join(unknown)}", "soap:Client")
    matches = _search(ctx.data, child(request, "searchParams"))
    entries = [_company(c, wanted) for c in matches]
    injected = ctx.take_api_exception("GetCompanies", None)
    if injected is not None:
        entries.append(el("Company", None, _api_exception(*injected)))
    return [el("GetCompaniesResult", None, *entries)]


def _search(data: FakeData, params: Element | None) -> list[FakeCompany]:
    tests: list[Callable[[FakeCompany], bool]] = []
    if params is not None:
        if text(params, "CompanyEmail") or text(params, "CompanyPhone"):
            raise SoapFault(
                "The fake does not search by CompanyEmail or CompanyPhone", "soap:Client"
            )
        company_id = int_value(params, "CompanyId")
        if company_id is not None:
            tests.append(lambda c: c.id == company_id)
        id_list = child(params, "CompanyIds")
        if id_list is not None:
            ids = {_int(n.text) for n in children(id_list, "int")}
            tests.append(lambda c: c.id in ids)
        changed_after = datetime_value(params, "ChangedAfter")
        if changed_after is not None:
            tests.append(lambda c: c.date_changed > changed_after)
        for name, attribute in (
            ("ExternalId", "external_id"),
            ("CompanyName", "name"),
            ("OrganizationNumber", "organization_number"),
        ):
            wanted = text(params, name)
            if wanted:
                tests.append(_field_equals(attribute, wanted))
    if not tests:
        raise SoapFault("At least one search parameter is required", "soap:Client")
    return [c for _, c in sorted(data.companies.items()) if c.active and all(t(c) for t in tests)]


def _get_company_sync_list(ctx: Context, request: Element) -> list[Element]:
    """Companies active, deleted (Active false) or both (nil), a 1-based page at a time."""
    params = child(request, "syncSearchParameters")
    page, active, changed_after, registered_after = 1, None, None, None
    if params is not None:
        page = int_value(params, "Page") or 1
        active = bool_value(params, "Active")
        changed_after = datetime_value(params, "ChangedAfter")
        registered_after = datetime_value(params, "RegisteredAfter")
    if page < 1:
        raise SoapFault(f"Page must be 1 or more, not {page}", "soap:Client")
    matches = [
        c
        for _, c in sorted(ctx.data.companies.items())
        if (active is None or c.active == active)
        and (changed_after is None or c.date_changed > changed_after)
        and (registered_after is None or c.date_created > registered_after)
    ]
    size = ctx.data.sync_page_size
    pages = max(1, -(-len(matches) // size))
    items = [
        el(
            "SyncCompany",
            None,
            el("CompanyId", c.id),
            el("ExternalId", c.external_id),
            el("DateChanged", c.date_changed),
            el("DateRegistered", c.date_created),
            el("Active", c.active),
        )
        for c in matches[(page - 1) * size : page * size]
    ]
    return [
        el(
            "GetCompanySyncListResult",
            None,
            el("CurrentPage", page),
            el("TotalPages", pages),
            el("TotalItems", len(matches)),
            el("ItemsPerPage", size),
            el("Items", None, *items),
        )
    ]


def _field_equals(attribute: str, wanted: str) -> Callable[[FakeCompany], bool]:
    return lambda company: bool(getattr(company, attribute) == wanted)


def _save_companies(ctx: Context, request: Element) -> list[Element]:
    results = []
    for node in children(child(request, "companies"), "Company"):
        if not _present(node):
            continue
        company_id = int_value(node, "Id")
        problem = ctx.take_api_exception("SaveCompanies", company_id) or _check_company(
            ctx.data, node, company_id
        )
        if problem is not None:
            ctx.outcome = "api_exception"
            head = [_api_exception(*problem)]
            results.append(el("Company", None, *head, *_maybe_id(company_id)))
            continue
        company = _apply_company(ctx.data, node, company_id)
        results.append(_company(company, ["Id", "Name", "Status", "IndustryId"]))
    return [el("SaveCompaniesResult", None, *results)]


def _check_company(data: FakeData, node: Element, company_id: int | None) -> tuple[str, str] | None:
    if company_id is not None and company_id not in data.companies:
        return ("NotFound", f"Company {company_id} does not exist")
    if company_id is None and not (text(node, "Name") or "").strip():
        return ("Validation", "A new company needs a Name")
    industry_id = int_value(node, "IndustryId")
    if industry_id is not None and industry_id not in data.industries:
        return ("Validation", f"Unknown IndustryId {industry_id}")
    status = int_value(node, "Status")
    if status is not None and status not in data.statuses:
        return ("Validation", f"Unknown Status {status}")
    return None


def _apply_company(data: FakeData, node: Element, company_id: int | None) -> FakeCompany:
    company = (
        data.add_company(text(node, "Name") or "")
        if company_id is None
        else data.companies[company_id]
    )
    # Absent fields (or int.MinValue) mean "leave unchanged", as in the real API.
    company.name = text(node, "Name") or company.name
    company.industry_id = _or(int_value(node, "IndustryId"), company.industry_id)
    company.status = _or(int_value(node, "Status"), company.status)
    company.organization_number = text(node, "OrganizationNumber") or company.organization_number
    company.external_id = text(node, "ExternalId") or company.external_id
    company.date_changed = _now()
    return company


def _company(company: FakeCompany, wanted: list[str]) -> Element:
    fields = []
    for name, read in _COMPANY_FIELDS.items():
        value = read(company)
        if name in wanted and value is not None and value != "":
            fields.append(el(name, value))
    return el("Company", None, *fields)


def _api_exception(kind: str, message: str) -> Element:
    return el("APIException", None, el("Type", kind), el("Message", message))


def _maybe_id(company_id: int | None) -> list[Element]:
    return [] if company_id is None else [el("Id", company_id)]


# ---- helpers --------------------------------------------------------------------------------


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _guid(node: Element, name: str) -> str | None:
    value = text(node, name)
    if value is None:
        return None
    if not _GUID.fullmatch(value.strip()):
        raise SoapFault(
            f"Server was unable to read request: {name} is not a valid Guid", "soap:Client"
        )
    return value.strip().lower()


def _pick_identity(data: FakeData, identity_id: str | None) -> FakeIdentity | None:
    if identity_id in (None, _EMPTY_GUID):
        return data.default_identity()
    return next((i for i in data.identities if i.id.lower() == identity_id), None)


def _current_session(ctx: Context) -> Session:
    assert ctx.session_id is not None, "operation registered without needs_session"
    return ctx.sessions[ctx.session_id]


def _present(node: Element) -> bool:
    return node.get("{http://www.w3.org/2001/XMLSchema-instance}nil") != "true"


def _int(raw: str | None) -> int:
    try:
        return int((raw or "").strip())
    except ValueError:
        raise SoapFault(f"Not a valid int: {raw!r}", "soap:Client") from None


def _or(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


OPERATIONS: Final[dict[str, Operation]] = {
    op.name: op
    for op in (
        Operation("Login", "auth", "auth", False, _login),
        Operation("HasSession", "auth", "auth", False, _has_session),
        Operation("GetIdentities", "auth", "auth", True, _get_identities),
        Operation("SetIdentityById", "auth", "auth", True, _set_identity_by_id),
        Operation("GetCategories", "company", "read", True, _get_categories),
        Operation("SaveCategories", "company", "write", True, _save_categories),
        Operation("GetIndustries", "company", "read", True, _get_industries),
        Operation("GetStatuses", "company", "read", True, _get_statuses),
        Operation("GetCRMGroups", "company", "read", True, _get_crm_groups),
        Operation("GetCompanies", "company", "read", True, _get_companies),
        Operation("SaveCompanies", "company", "write", True, _save_companies),
        Operation("GetCompanySyncList", "company", "read", True, _get_company_sync_list),
        Operation("GetUsers", "client", "read", True, _get_users),
        Operation("GetClientInformation", "client", "read", True, _get_client_information),
    )
}

# Vendor paths, lower-cased: IIS matches paths case-insensitively.
SERVICE_PATHS: Final[dict[str, str]] = {
    "/authenticate/v001/authenticate.asmx": "auth",
    "/crm/company/v001/companyservice.asmx": "company",
    "/client/v001/clientservice.asmx": "client",
}
