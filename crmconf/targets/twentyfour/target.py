"""24SevenOffice as a crmconf target: `24so://` or `24so://<identity-id>`.

What the SOAP API allows decides everything here (README, "24SevenOffice"):
categories can be created and updated; industries and statuses can only be
read, but their customers can be moved (GetCompanies/SaveCompanies); groups
can only be read; stages, rejection reasons, sale types, the additional
customer information and the feature switches are not in the API at all.
Whatever the API cannot change becomes a manual step of the plan; whatever it
cannot even read is declared `unreadable`, so plans list it as checks for a
person instead of comparing against nothing.

Credentials come only from CRMCONF_24SO_* variables, never from the URL.
Independent API reads run concurrently, one client (and session) per worker
thread, because the client is not thread-safe; a whole read then takes about
one round trip.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from functools import partial
from typing import Any, Final, TypeVar

from crmconf.errors import PlanError, TargetError
from crmconf.kinds import (
    CATEGORIES,
    GROUPS,
    INDUSTRIES,
    KINDS_BY_NAME,
    STATUS_TYPES,
)
from crmconf.model.kind import Kind
from crmconf.model.names import identity
from crmconf.model.state import ExistingItem, State
from crmconf.planning.changes import Action, Capability, Change, Plan
from crmconf.planning.safety import refuse_if_stale
from crmconf.targets.base import Target
from crmconf.targets.capabilities import Capabilities, Feature, KindSupport
from crmconf.targets.customers import DeletedCustomer, RestoreError

from . import reading
from .budget import RequestBudget
from .client import TwentyFourClient
from .credentials import Credentials, credentials_from_env
from .failures import WriteMayHaveLanded
from .models import Category, ClientInformation, CompanyAssignments, CompanyUpdate, Identity, User
from .moves import Move, MoveFailed, MoveOutcome, company_updates, move_customers
from .pinning import Pin, check, heading, pin_from
from .retry import Backoff, RetryLog

SCHEME: Final = "24so"
ENV_TIMEOUT: Final = "CRMCONF_24SO_TIMEOUT"
ENV_RETRIES: Final = "CRMCONF_24SO_RETRIES"

_CAPABILITIES: Final = Capabilities.listing(
    {
        CATEGORIES.name: KindSupport(changes=frozenset({Capability.CREATE, Capability.UPDATE})),
        GROUPS.name: KindSupport(changes=frozenset(), unreadable_fields=frozenset({"description"})),
        INDUSTRIES.name: KindSupport(changes=frozenset({Capability.MOVE})),
        STATUS_TYPES.name: KindSupport(changes=frozenset({Capability.MOVE})),
    },
    features=frozenset({Feature.LIST_DELETED_CUSTOMERS}),
)
"""What the SOAP API can read and change (and that it lists deleted customers, though it
cannot restore them); every other kind (stages, rejection reasons,
sale types, the additional customer information, the feature switches, and any kind
registered later) it can neither read nor change: checked by hand, not compared."""

# The API reads each kind needs; "companies" gives usage counts (one request).
_READS: Final[dict[str, tuple[str, ...]]] = {
    CATEGORIES.name: ("categories",),
    GROUPS.name: ("groups", "users"),
    INDUSTRIES.name: ("industries", "companies"),
    STATUS_TYPES.name: ("statuses", "companies"),
}
_FETCH: Final[dict[str, Callable[[TwentyFourClient], Any]]] = {
    "categories": TwentyFourClient.categories,
    "groups": TwentyFourClient.crm_groups,
    "users": TwentyFourClient.users,
    "industries": TwentyFourClient.industries,
    "statuses": TwentyFourClient.statuses,
    "companies": TwentyFourClient.company_assignments,
}
_MOVABLE: Final = frozenset({INDUSTRIES.name, STATUS_TYPES.name})
_GUID: Final = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")

# Not confirmed against a live account (see README, "What stays unconfirmed").
_RESTORE_BY_HAND: Final = (
    "in 24SevenOffice open CRM → Kunder (Customers), search with the filter for deleted "
    "(inactive) customers, open the customer and restore (reactivate) it"
)
# After a SaveCategories whose answer was lost, read back and send the rest at most this
# often; every request is bounded by the timeout, so the whole is bounded in time too.
_RECONCILE_ROUNDS: Final = 3

T = TypeVar("T")
log = logging.getLogger(__name__)


class TwentyFourTarget(Target):
    """A 24SevenOffice client (company account), through its SOAP API."""

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: Backoff | None = None,
        batch_size: int = 100,
        pin: Pin | None = None,
        budget: RequestBudget | None = None,
    ) -> None:
        """`batch_size`: companies per SaveCompanies request when moving customers.

        `pin`: the client the configuration belongs to; apply refuses any other.
        `budget`: the machine's hourly request budget every request takes from.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.url = url
        self._pin = pin or Pin()
        self._client_information: ClientInformation | None = None
        self._credentials = credentials
        self._retry_log = RetryLog()
        self._budget = budget
        self._client_options: dict[str, Any] = {
            "timeout": timeout,
            "retries": retries,
            "retry_log": self._retry_log,
            "budget": budget,
        }
        if backoff is not None:
            self._client_options["backoff"] = backoff
        self._batch_size = batch_size
        self._local = threading.local()
        self._clients: list[TwentyFourClient] = []
        self._requests_of_closed = 0
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    @classmethod
    def open(cls, url: str, environ: Mapping[str, str] | None = None) -> TwentyFourTarget:
        """The target a `24so://[identity-id]` URL names, with credentials from `environ`."""
        environ = os.environ if environ is None else environ
        url, _, query = url.partition("?")
        identity_id = _identity_from(url)
        pin = pin_from(query, environ)
        credentials = credentials_from_env(environ)
        if identity_id:
            credentials = replace(credentials, identity_id=identity_id)
        return cls(
            f"{SCHEME}://{identity_id}",
            credentials,
            timeout=_setting(environ, ENV_TIMEOUT, 30.0, whole=False),
            retries=int(_setting(environ, ENV_RETRIES, 3, whole=True)),
            pin=pin,
            budget=RequestBudget.from_env(environ),
        )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        with self._lock:
            clients, self._clients = self._clients, []
            self._requests_of_closed += sum(client.stats.total() for client in clients)
        for client in clients:
            client.close()

    def capabilities(self) -> Capabilities:
        return _CAPABILITIES

    # Reading

    def read(self, kinds: Iterable[Kind]) -> State:
        names = [kind.name for kind in kinds]
        return _state(names, self._fetch(_reads_for(names)))

    def _fetch(self, reads: set[str]) -> dict[str, Any]:
        """Run API reads concurrently, one client per worker thread; the first error wins."""
        if not reads:
            return {}
        futures = {name: self._submit(_FETCH[name]) for name in sorted(reads)}
        done, pending = wait(futures.values(), return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        try:
            for future in futures.values():
                error = future.exception() if future in done else None
                if error is not None:
                    wait(pending)  # let the others end before their clients are reused
                    raise error
            return {name: future.result() for name, future in futures.items()}
        finally:
            self._retry_log.report()

    def _submit(self, call: Callable[[TwentyFourClient], T]) -> Future[T]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=len(_FETCH), thread_name_prefix="crmconf-24so"
            )
        return self._pool.submit(lambda: call(self._client()))

    def _run(self, call: Callable[[TwentyFourClient], T]) -> T:
        """One call on a worker's client (whose session is usually open already)."""
        try:
            return self._submit(call).result()
        finally:
            self._retry_log.report()

    def _client(self) -> TwentyFourClient:
        client: TwentyFourClient | None = getattr(self._local, "client", None)
        if client is None:
            client = TwentyFourClient(
                self._credentials.base_url, self._credentials, **self._client_options
            )
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def api_requests(self) -> int:
        """HTTP requests this target has sent so far (logins and retries included)."""
        with self._lock:
            clients = list(self._clients)
            closed = self._requests_of_closed
        return closed + sum(client.stats.total() for client in clients)

    def requests_summary(self) -> str:
        sent = self.api_requests()
        line = f"24SevenOffice: {sent} API request(s) this run"
        if self._budget is not None:
            shared = " (every machine of the state backend)" if self._budget.shared else ""
            where = shared or " on this machine"
            line += f"; {self._budget.used()} of {self._budget.per_hour} in the last hour{where}"
        return line

    def deleted_customers(self, ids: Iterable[int] | None = None) -> tuple[DeletedCustomer, ...]:
        """Deleted customers from GetCompanySyncList (Active false), paged. Never writes.

        The sync list carries ids, not names: the rest of a deleted customer is
        not readable through the API, so names, industries and statuses are
        left empty.
        """
        listed = self._run(lambda client: list(client.company_sync_list(active=False)))
        found = tuple(DeletedCustomer(c.id, "", None, None) for c in listed if not c.active)
        if ids is None:
            return found
        by_id = {customer.id: customer for customer in found}
        wanted = list(ids)
        missing = [str(number) for number in wanted if number not in by_id]
        if missing:
            raise RestoreError(
                f"no deleted customer has id {', '.join(missing)}; "
                "'crmconf customers deleted' lists them"
            )
        return tuple(by_id[number] for number in wanted)

    def restore_by_hand(self) -> str:
        return _RESTORE_BY_HAND

    def users(self) -> list[User]:
        """The users group members are written as (by contact id)."""
        return self._run(TwentyFourClient.users)

    def client_information(self) -> ClientInformation:
        """The client this target's sessions act for: read once per target (one run)."""
        if self._client_information is None:
            self._client_information = self._run(TwentyFourClient.client_information)
        return self._client_information

    def account_heading(self) -> str:
        """`24so:// → Acme AS (org 912345678)`, shown at the top of every plan.

        A run that has not needed the API (nothing it manages is readable) and
        has no pin to check says so instead of logging in just for this line.
        """
        with self._lock:
            contacted = bool(self._clients)
        if not contacted and not self._pin:
            return f"{self.url} → not contacted: nothing this plan compares is in the API"
        return heading(self.url, self.client_information(), self._pin)

    def identities(self) -> list[Identity]:
        """The clients (company accounts) the login may act for: the URL's identity ids."""
        return self._run(TwentyFourClient.identities)

    def identities_with_clients(self) -> list[tuple[Identity, ClientInformation]]:
        """Each identity with its client's name and organisation number (two requests each).

        GetIdentities does not carry organisation numbers, so the session
        switches to each identity in turn and back to the one it started on.
        """
        return self._run(_identities_with_clients)

    # Writing

    def apply(self, plan: Plan) -> None:
        """Categories in one SaveCategories request, then the customer moves of manual deletes.

        The API has no transactions. Everything is checked before the first write
        (a stale plan, a move whose destination does not exist yet); a failure
        after it raises a TargetError saying exactly what was done and what not.
        """
        categories = [_category(change) for change in plan.automatic]
        pending_moves = [change for change in plan.manual_steps if _is_move(change)]
        if not categories and not pending_moves:
            return
        check(self.url, self.client_information(), self._pin)
        kinds_read = [KINDS_BY_NAME[name] for name in plan.kinds_read]
        names = {kind.name for kind in kinds_read} | {change.kind for change in pending_moves}
        fetched = self._fetch(_reads_for(names))
        refuse_if_stale(plan, _state([kind.name for kind in kinds_read], fetched))
        moves = _resolve(pending_moves, _state(sorted(names), fetched))
        done: list[str] = []
        if categories:
            try:
                self._save_categories(categories)
            except TargetError as error:
                raise TargetError(
                    f"apply failed at its first write (run plan to see if it saved any): {error}"
                ) from None
            done.append(_categories_done(categories))
        if moves:
            companies: CompanyAssignments = fetched["companies"]
            updates, outcome = company_updates(moves, companies)
            try:
                move_customers(updates, outcome, self._save_companies, self._batch_size)
            except MoveFailed as error:
                raise TargetError(_partial(done + outcome.done(), outcome, error)) from None

    def _save_categories(self, categories: Sequence[Category]) -> None:
        """One SaveCategories; if its answer is lost, find out what landed and send only the rest.

        A lost answer to a request that creates categories leaves open whether
        they exist: sending it again could create each twice. So the categories
        are read back, what matches the request counts as done, and only the
        rest is sent (as updates where the category now exists). Bounded by
        _RECONCILE_ROUNDS; each round is logged, so the run's output says what
        was reconciled.
        """
        pending = list(categories)
        for round_number in range(_RECONCILE_ROUNDS + 1):
            try:
                self._run(partial(TwentyFourClient.save_categories, categories=pending))
                return
            except WriteMayHaveLanded as lost:
                if round_number == _RECONCILE_ROUNDS:
                    raise TargetError(
                        f"{lost} — gave up after reading back and sending the rest "
                        f"{_RECONCILE_ROUNDS} times; still not confirmed: {_names(pending)}"
                    ) from None
                current = self._run(TwentyFourClient.categories)
                landed, pending = _reconciled(pending, current)
                log.warning(
                    "24SevenOffice SaveCategories: the answer was lost; read the categories "
                    "back: %s; %s",
                    f"already saved: {_names(landed)}" if landed else "none had been saved",
                    f"sending the rest: {_names(pending)}" if pending else "nothing left to send",
                )
                if not pending:
                    return

    def _save_companies(self, batch: list[CompanyUpdate]) -> object:
        return self._run(lambda client: client.save_companies(batch, batch_size=len(batch)))


def _identities_with_clients(
    client: TwentyFourClient,
) -> list[tuple[Identity, ClientInformation]]:
    identities = client.identities()
    listed = []
    try:
        for identity in identities:
            client.set_identity(identity.id)
            listed.append((identity, client.client_information()))
    finally:
        current = next((i for i in identities if i.is_current), None)
        if current is not None and listed:
            client.set_identity(current.id)
    return listed


def _identity_from(url: str) -> str:
    scheme, _, rest = url.partition(":")
    if scheme.lower() != SCHEME or not rest.startswith("//"):
        raise TargetError(f"not a 24SevenOffice URL: write {SCHEME}:// or {SCHEME}://IDENTITY-ID")
    identity_id = rest[2:].strip("/")
    if "@" in identity_id or ":" in identity_id:
        # Never echo it: it may hold a password.
        raise TargetError(
            f"{SCHEME}:// URLs hold no credentials: set CRMCONF_24SO_USERNAME and "
            "CRMCONF_24SO_PASSWORD (or CRMCONF_24SO_PASSWORD_FILE) instead"
        )
    if identity_id and not _GUID.fullmatch(identity_id):
        raise TargetError(
            f"{SCHEME}://{identity_id}: the identity id must be a GUID like "
            "00000000-0000-0000-0000-000000000000 (see GetIdentities)"
        )
    return identity_id


def _setting(environ: Mapping[str, str], name: str, default: float, *, whole: bool) -> float:
    """A tuning variable: a positive number of seconds, or a whole number of retries."""
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        value = -1
    if value < 0 or (value == 0 and not whole):
        wanted = "a whole number, 0 or more" if whole else "a number of seconds above 0"
        raise TargetError(f"{name} must be {wanted}, not {text!r}")
    return value


def _reads_for(kind_names: Iterable[str]) -> set[str]:
    return {read for name in kind_names for read in _READS.get(name, ())}


def _state(kind_names: Iterable[str], fetched: Mapping[str, Any]) -> State:
    """The state of the kinds asked for; kinds the API cannot read get no entry."""
    items: dict[str, tuple[ExistingItem, ...]] = {}
    users = None
    user_names: dict[str, str] = {}
    for name in kind_names:
        if name == CATEGORIES.name:
            items[name] = reading.category_items(fetched["categories"])
        elif name == INDUSTRIES.name:
            usage = reading.industry_usage(fetched["companies"])
            items[name] = reading.list_items(fetched["industries"], usage)
        elif name == STATUS_TYPES.name:
            usage = reading.status_usage(fetched["companies"])
            items[name] = reading.list_items(fetched["statuses"], usage)
        elif name == GROUPS.name:
            items[name] = reading.group_items(fetched["groups"])
            users = reading.member_ids(fetched["users"], fetched["groups"])
            user_names = reading.user_names(fetched["users"])
    return State(items, users, user_names)


def _category(change: Change) -> Category:
    """A category create or update as SaveCategories takes it; anything else is refused."""
    if change.kind != CATEGORIES.name or change.action is Action.DELETE:
        raise PlanError(
            f"24SevenOffice cannot {change.action.value} {change.kind} '{change.name}' "
            "through its API; plan again against this target"
        )
    assert change.after is not None
    company, contact = reading.show_flags(change.after["show_on"])
    category_id = change.id if change.action is Action.UPDATE else None
    if category_id is not None and not isinstance(category_id, int):
        raise PlanError(f"category '{change.name}' has no 24SevenOffice id; plan again")
    return Category(category_id, change.name, company, contact)


def _reconciled(
    sent: Sequence[Category], current: Sequence[Category]
) -> tuple[list[Category], list[Category]]:
    """Split `sent` into what `current` (read back) shows as saved, and what is still to send.

    A create landed when a category of that name exists; an update when the
    category with that id has the name and flags sent. A create that landed
    with other flags stays to send, as an update of the category it created.
    """
    by_key = {identity(c.name): c for c in current if c.id is not None}
    by_id = {c.id: c for c in current if c.id is not None}
    landed: list[Category] = []
    rest: list[Category] = []
    for category in sent:
        found = by_id.get(category.id) if category.id is not None else None
        if category.id is None:
            found = by_key.get(identity(category.name))
        if found is None:
            rest.append(category)
        elif _same(found, category):
            landed.append(category)
        else:
            rest.append(replace(category, id=found.id))
    return landed, rest


def _same(saved: Category, sent: Category) -> bool:
    return (
        identity(saved.name) == identity(sent.name)
        and saved.show_company == sent.show_company
        and saved.show_contact == sent.show_contact
    )


def _names(categories: Iterable[Category]) -> str:
    return ", ".join(f"'{category.name}'" for category in categories)


def _is_move(change: Change) -> bool:
    return (
        change.kind in _MOVABLE
        and change.action is Action.DELETE
        and (change.migration or {}).get("move_to") is not None
        and (change.usage is None or change.usage.total > 0)
    )


def _resolve(changes: Sequence[Change], state: State) -> list[Move]:
    """Ids of each move's source and destination; refused before any write if one is missing."""
    moves = []
    missing = []
    for change in changes:
        kind = KINDS_BY_NAME[change.kind]
        by_key = {item.key: item for item in state.of(kind)}
        destination_name = str((change.migration or {})["move_to"])
        source = by_key.get(identity(change.name))
        destination = by_key.get(identity(destination_name))
        if source is None:
            continue  # already gone: nothing uses it any more
        if destination is None:
            missing.append(
                f"{kind.singular} '{destination_name}' (where the customers of "
                f"'{change.name}' go) does not exist in 24SevenOffice yet"
            )
            continue
        moves.append(
            Move(change.kind, source.name, int(source.id), destination.name, int(destination.id))
        )
    if missing:
        raise TargetError(
            "nothing was applied: "
            + "; ".join(missing)
            + ". Create it by hand first (it is a manual step of the plan), then apply again"
        )
    return moves


def _categories_done(categories: Sequence[Category]) -> str:
    created = [c.name for c in categories if c.id is None]
    updated = [c.name for c in categories if c.id is not None]
    parts = []
    if created:
        parts.append("created " + ", ".join(f"'{name}'" for name in created))
    if updated:
        parts.append("updated " + ", ".join(f"'{name}'" for name in updated))
    return "categories: " + " and ".join(parts)


def _partial(done: list[str], outcome: MoveOutcome, cause: TargetError) -> str:
    """What an apply that failed while moving customers did and did not do."""
    if not done and not outcome.uncertain:
        return f"nothing was applied: {cause}"
    lines = ["apply stopped part-way (24SevenOffice has no transactions):"]
    lines += [f"  done: {line}" for line in done]
    lines += [f"  not done: {line}" for line in outcome.not_done()]
    lines += [
        f"  cause: {cause}",
        "Deletes stay manual steps. Run plan again to see what is left; apply is safe to re-run.",
    ]
    return "\n".join(lines)
