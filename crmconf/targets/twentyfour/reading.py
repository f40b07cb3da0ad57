"""24SevenOffice's answers as crmconf state: items, usage counts, group members and types.

How the API's values map to the configuration format (README, "24SevenOffice"):

* Category.ShowCompany / ShowContact → `show_on`: both → both, company only →
  customer, contact only → contact. Neither ticked cannot be written in the
  format; it is read as `customer`, the narrowest choice of the company service
  the category belongs to (so a configuration saying `customer` does not tick it).
* Group members are users by **contact id** (GroupMember.Id, User.ContactId),
  written as numbers: the API has no logins, and names are neither unique nor
  free of spaces (which member names may not hold).
* Group.Type is an undocumented, nillable integer. No number's meaning is
  confirmed, so numbers are carried through as they are (`type: 1`) and only
  "no type" is read as `standard`, the product's default group type.
* Group descriptions are not in the API at all (see TwentyFourTarget.unreadable).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Final

from crmconf.model.state import ExistingItem, Usage

from .models import Category, CompanyAssignments, CrmGroup, User

# (ShowCompany, ShowContact) → show_on.
SHOW_ON: Final = {
    (True, True): "both",
    (True, False): "customer",
    (False, True): "contact",
    (False, False): "customer",
}

GROUP_TYPES: Final[dict[int, str]] = {}
"""Group.Type numbers whose meaning is confirmed against a live account; none yet."""


def show_flags(show_on: str) -> tuple[bool, bool]:
    """`show_on` as (ShowCompany, ShowContact)."""
    return show_on in ("customer", "both"), show_on in ("contact", "both")


def category_items(categories: Iterable[Category]) -> tuple[ExistingItem, ...]:
    return tuple(
        ExistingItem(category.id, category.name, {"show_on": _show_on(category)})
        for category in categories
        if category.id is not None
    )


def _show_on(category: Category) -> str:
    return SHOW_ON[(category.show_company, category.show_contact)]


def list_items(pairs: Iterable[tuple[int, str]], usage: Counter[int]) -> tuple[ExistingItem, ...]:
    """Industries or statuses (KeyValuePair lists), each with the customers using it."""
    return tuple(ExistingItem(key, name, {}, Usage(customers=usage[key])) for key, name in pairs)


def industry_usage(companies: CompanyAssignments) -> Counter[int]:
    return Counter(i for i in companies.industry_ids if i is not None)


def status_usage(companies: CompanyAssignments) -> Counter[int]:
    return Counter(s for s in companies.statuses if s is not None)


def group_type(number: int | None) -> str | int:
    if number is None:
        return "standard"
    return GROUP_TYPES.get(number, number)


def group_items(tree: Iterable[CrmGroup]) -> tuple[ExistingItem, ...]:
    """The group tree flattened parents first, each item naming its parent."""
    return tuple(_flatten(tree, None))


def _flatten(groups: Iterable[CrmGroup], parent: str | None) -> Iterator[ExistingItem]:
    for group in groups:
        name = group.name or ""
        fields = {
            "type": group_type(group.type),
            "members": sorted({str(member.id) for member in group.members}),
            "parent": parent,
        }
        yield ExistingItem(group.id, name, fields)
        yield from _flatten(group.children, name)


def user_names(users: Iterable[User]) -> dict[str, str]:
    """Each user's name by contact id, the number group members are written as."""
    return {str(user.contact_id): user.name for user in users if user.contact_id is not None}


def member_ids(users: Iterable[User], tree: Iterable[CrmGroup]) -> frozenset[str]:
    """Who may be a group member: every user's contact id, and whoever already is one.

    Current members count even when GetUsers does not list them (a deactivated
    user, say), so an exported configuration always plans clean.
    """
    ids = {str(user.contact_id) for user in users if user.contact_id is not None}
    ids.update(str(item) for item in _all_member_ids(tree))
    return frozenset(ids)


def _all_member_ids(groups: Iterable[CrmGroup]) -> Iterator[int]:
    for group in groups:
        yield from (member.id for member in group.members)
        yield from _all_member_ids(group.children)
