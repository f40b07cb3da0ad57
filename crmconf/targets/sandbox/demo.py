"""Demo data: a small company whose CRM has drifted from examples/seed.yaml.

Users, customers across industries and statuses, contacts, projects and
opportunities across stages — enough for every feature to have data to act on.
The settings differ from the seed in ways a plan shows: a rename (Data/IT), a
changed probability, missing items, unused extras, switched-off features.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, insert

from crmconf.kinds import ALL_KINDS, RESTORE_CUSTOMERS, SHOW_AS_TAB
from crmconf.targets.sandbox import names
from crmconf.targets.sandbox import schema as s

USERS = (
    ("anna@example.com", "Anna Andersson"),
    ("erik@example.com", "Erik Eriksson"),
    ("maria@example.com", "Maria Lind"),
    ("johan@example.com", "Johan Berg"),
    ("lisa@example.com", "Lisa Holm"),
)
INDUSTRIES = ("Bygg", "Data/IT", "Turism")
STATUS_TYPES = ("Aktiv", "Ej bearbetad", "Vilande")
CATEGORIES = (("Partner", "customer"), ("Leverantör", "both"))
REJECTION_REASONS = ("Pris",)
SALE_TYPES = ("Nyförsäljning",)
STAGES = (
    ("Steg 1 Telefonsamtal", 15, "open"),
    ("Steg 2 Första besök", 35, "open"),
    ("Steg 3 Andra besök", 50, "open"),
    ("Steg 4 Uppföljningssamtal", 100, "open_won"),
)
OPTIONS = {
    "contact_origins": ("Mässa", "Webbformulär"),
    "products": ("Ekonomi", "Lön"),
    "sources": ("Google",),
}
CUSTOMERS = 40
SEED = 24


def _insert(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert rows and return their ids, in order."""
    ids = []
    for row in rows:
        key = connection.execute(insert(table).values(row)).inserted_primary_key
        assert key is not None
        ids.append(int(key[0]))
    return ids


def load_demo(connection: Connection) -> None:
    """Fill an empty sandbox with the demo company."""
    rng = random.Random(SEED)
    users = _insert(connection, s.users, [{"login": u, "name": n} for u, n in USERS])
    groups = _insert(
        connection,
        s.crm_groups,
        [
            {"name": "Försäljning", "type": "sales", "description": "Säljare"},
            {"name": "Administration", "type": "standard", "description": ""},
        ],
    )
    connection.execute(
        insert(s.group_members),
        [
            {"group_id": groups[0], "user_id": users[0]},
            {"group_id": groups[1], "user_id": users[4]},
        ],
    )
    industries = _insert(connection, s.industries, [{"name": n} for n in INDUSTRIES])
    statuses = _insert(connection, s.status_types, [{"name": n} for n in STATUS_TYPES])
    categories = _insert(
        connection, s.categories, [{"name": n, "show_on": on} for n, on in CATEGORIES]
    )
    reasons = _insert(connection, s.rejection_reasons, [{"name": n} for n in REJECTION_REASONS])
    sale_types = _insert(connection, s.sale_types, [{"name": n} for n in SALE_TYPES])
    stages = _insert(
        connection,
        s.stages,
        [
            {"title": t, "probability": p, "status": st, "position": i}
            for i, (t, p, st) in enumerate(STAGES, start=1)
        ],
    )
    options = {
        name: _insert(
            connection,
            s.customer_info_options,
            [{"list": name, "name": n, "position": i} for i, n in enumerate(values, start=1)],
        )
        for name, values in OPTIONS.items()
    }
    connection.execute(
        insert(s.switches),
        [
            {"name": SHOW_AS_TAB.name, "enabled": False},
            {"name": RESTORE_CUSTOMERS.name, "enabled": False},
        ],
    )
    # Customers use every industry but Turism and every status but Vilande, so the
    # seed can drop those two and must keep (or rename) the rest.
    customers = _insert(
        connection,
        s.customers,
        [
            {
                "name": f"Kund {number:02d} AB",
                "industry_id": industries[number % 2],
                "status_type_id": statuses[number % 2],
                "contact_origin_id": rng.choice(options["contact_origins"]),
                "source_id": options["sources"][0] if number % 4 == 0 else None,
                "deleted": number % 13 == 0,
            }
            for number in range(1, CUSTOMERS + 1)
        ],
    )
    connection.execute(
        insert(s.customer_categories),
        [{"customer_id": c, "category_id": categories[0]} for c in customers[::3]],
    )
    connection.execute(
        insert(s.customer_products),
        [{"customer_id": c, "option_id": rng.choice(options["products"])} for c in customers[::2]],
    )
    contacts = _insert(
        connection,
        s.contacts,
        [{"customer_id": c, "name": f"Kontakt {i}"} for i, c in enumerate(customers[::2], 1)],
    )
    connection.execute(
        insert(s.contact_categories),
        [{"contact_id": c, "category_id": categories[0]} for c in contacts[::4]],
    )
    projects = _insert(
        connection,
        s.projects,
        [{"name": f"Projekt {i}", "customer_id": customers[i]} for i in range(1, 6)],
    )
    opportunities = []
    for number in range(1, 31):
        on_project = number % 5 == 0
        opportunities.append(
            {
                "title": f"Affär {number}",
                "customer_id": None if on_project else rng.choice(customers),
                "project_id": rng.choice(projects) if on_project else None,
                "owner_id": users[number % 4],
                "stage_id": stages[number % len(stages)],
                "sale_type_id": sale_types[0] if number % 2 else None,
                "rejection_reason_id": reasons[0] if number % 7 == 0 else None,
                "amount": Decimal(rng.randrange(10, 500) * 1000),
            }
        )
    connection.execute(insert(s.opportunities), opportunities)
    names.record(connection, ALL_KINDS)  # crmconf made them: a rename later is the CRM's
