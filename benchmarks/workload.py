"""Generate the benchmark workload at N items as real files on disk.

crmconf side
    ``desired/``  the configuration that is planned (N items over every list kind)
    ``state/``    a configuration that, applied through crmconf, builds the sandbox
                  state: 10 % of the desired items differ in a field, 10 % are
                  missing and 5 % are extra (no customer references them)

octoDNS side
    ``octodns/config/example.com.yaml``  a zone of N A-records (the config)
    ``octodns/target/example.com.yaml``  the target zone with the same change mix
    ``octodns/sync.yaml``                YamlProvider → YamlProvider, enforce_order false

Everything is deterministic (seeded), so two runs at the same N plan the same
changes.  Only plain YAML is written, in each tool's own idiom: crmconf's flow
items as in examples/seed.yaml, octoDNS's block records as ``octodns-dump`` writes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

MISSING = 0.10
"""Share of the desired items the state lacks (the plan creates them)."""
DIFFER = 0.10
"""Share of the items (of N) that the state holds with another field value."""
EXTRA = 0.05
"""Share (of N) of items the state holds that the configuration does not (deletes)."""

MIN_STAGES = 50
MIN_GROUP_DEPTH = 4

# Shares of the N items after the stages: mostly categories, industries, status types.
WEIGHTS = {
    "categories": 0.40,
    "industries": 0.20,
    "status_types": 0.20,
    "groups": 0.08,
    "sales.rejection_reasons": 0.04,
    "sales.types": 0.04,
    "customer_info.contact_origins": 0.01,
    "customer_info.products": 0.01,
    "customer_info.sources": 0.01,
}
FIELD_KINDS = ("categories", "groups", "sales.stages")
"""Kinds with a field (besides the name) that can differ: show_on, description, probability."""

PREFIX = {
    "categories": "Kategori",
    "industries": "Bransch",
    "status_types": "Status",
    "groups": "Grupp",
    "sales.rejection_reasons": "Avvisning",
    "sales.types": "Säljtyp",
    "sales.stages": "Steg",
    "customer_info.contact_origins": "Ursprung",
    "customer_info.products": "Produkt",
    "customer_info.sources": "Källa",
}
SHOW_ON = ("customer", "contact", "both")


def kind_sizes(n: int) -> dict[str, int]:
    """How many desired items each kind gets at N items in total."""
    stages = max(MIN_STAGES, n // 100)
    rest = n - stages
    total_weight = sum(WEIGHTS.values())
    sizes = {kind: int(rest * weight / total_weight) for kind, weight in WEIGHTS.items()}
    sizes["categories"] += rest - sum(sizes.values())
    sizes["sales.stages"] = stages
    return sizes


@dataclass
class Item:
    name: str
    fields: dict[str, object] = field(default_factory=dict)
    parent: int | None = None
    """Groups: index of the parent in the same list (desired or state)."""


@dataclass
class Workload:
    n: int
    desired: dict[str, list[Item]]
    state: dict[str, list[Item]]
    counts: dict[str, dict[str, int]]
    """Per kind: desired, missing, differ, extra."""

    def expected_plan(self) -> dict[str, int]:
        creates = sum(c["missing"] for c in self.counts.values())
        deletes = sum(c["extra"] for c in self.counts.values())
        differ = sum(c["differ"] for c in self.counts.values())
        return {"create": creates, "update_at_least": differ, "delete": deletes}


def _group_parents(count: int) -> list[int | None]:
    """A forest in heap order, 3 children a node, one root per ~1000 groups."""
    roots = max(1, count // 1000)
    return [None if i < roots else (i - roots) // 3 for i in range(count)]


def _depth(parents: list[int | None]) -> int:
    deepest = 0
    depth: list[int] = []
    for parent in parents:
        d = 0 if parent is None else depth[parent] + 1
        depth.append(d)
        deepest = max(deepest, d)
    return deepest


def build(n: int, seed: int = 24) -> Workload:
    rng = random.Random(seed * 1_000_003 + n)
    sizes = kind_sizes(n)
    desired: dict[str, list[Item]] = {}
    for kind, size in sizes.items():
        prefix = PREFIX[kind]
        items = [Item(f"{prefix} {i:06d}") for i in range(size)]
        if kind == "categories":
            for i, item in enumerate(items):
                item.fields["show_on"] = SHOW_ON[i % 3]
        elif kind == "groups":
            for i, (item, parent) in enumerate(zip(items, _group_parents(size), strict=True)):
                item.fields["type"] = "sales" if i % 2 else "standard"
                item.fields["description"] = f"Team {i}"
                item.parent = parent
        elif kind == "sales.stages":
            opened = size - 3
            for i, item in enumerate(items):
                if i < opened:
                    item.fields.update(probability=5 + (90 * i) // opened, status="open")
                elif i == opened:
                    item.fields.update(probability=100, status="open_won")
                else:
                    reason = desired["sales.rejection_reasons"][i - opened - 1].name
                    item.fields.update(probability=0, status="closed_lost", rejection_reason=reason)
        desired[kind] = items
    depth = _depth([item.parent for item in desired["groups"]])
    if depth < MIN_GROUP_DEPTH:
        raise ValueError(f"group tree is {depth} deep at N={n}; need {MIN_GROUP_DEPTH}")

    # Items that must stay in the state: rejection reasons a stage names.
    pinned = {
        "sales.rejection_reasons": {
            i
            for i, item in enumerate(desired["sales.rejection_reasons"])
            if any(s.fields.get("rejection_reason") == item.name for s in desired["sales.stages"])
        }
    }
    field_total = sum(sizes[kind] for kind in FIELD_KINDS)
    differ_left = round(DIFFER * n)

    state: dict[str, list[Item]] = {}
    counts: dict[str, dict[str, int]] = {}
    for kind in desired:
        items = desired[kind]
        size = len(items)
        candidates = [i for i in range(size) if i not in pinned.get(kind, set())]
        if kind == "groups":  # only leaves can be missing, or their children would be orphans
            has_child = {item.parent for item in items if item.parent is not None}
            candidates = [i for i in candidates if i not in has_child]
        missing = set(rng.sample(candidates, round(MISSING * size)))
        differ: set[int] = set()
        if kind in FIELD_KINDS:
            last = kind == FIELD_KINDS[-1]
            want = differ_left if last else round(DIFFER * n * size / field_total)
            present = [i for i in range(size) if i not in missing]
            differ = set(rng.sample(present, min(want, len(present))))
            differ_left -= len(differ)
        extra = round(EXTRA * size)

        kept: list[Item] = []
        new_index: dict[int, int] = {}
        for i, item in enumerate(items):
            if i in missing:
                continue
            fields = dict(item.fields)
            if i in differ:
                if kind == "categories":
                    fields["show_on"] = SHOW_ON[(SHOW_ON.index(str(fields["show_on"])) + 1) % 3]
                elif kind == "groups":
                    fields["description"] = f"{fields['description']} (gammal)"
                else:
                    p = int(fields["probability"])  # type: ignore[call-overload]
                    fields["probability"] = p - 1 if p > 0 else 1
            new_index[i] = len(kept)
            parent = None if item.parent is None else new_index[item.parent]
            kept.append(Item(item.name, fields, parent))
        extras: list[Item] = []
        for j in range(extra):
            extra_item = Item(f"Extra {PREFIX[kind].lower()} {j:06d}")
            if kind == "categories":
                extra_item.fields["show_on"] = "both"
            elif kind == "groups":
                extra_item.fields.update(type="standard", description="Utgått team")
                extra_item.parent = rng.randrange(len(kept))  # a leaf under a kept group
            elif kind == "sales.stages":
                extra_item.fields.update(probability=50, status="open")
            extras.append(extra_item)
        if kind == "groups" or not extras:
            state_items = kept + extras
        else:  # ordered kinds: extras sit between kept items, as a drifted list would
            state_items = list(kept)
            if kind == "sales.stages":  # keep the closing stages last
                tail, state_items = state_items[-3:], state_items[:-3]
            else:
                tail = []
            for extra_item in extras:
                state_items.insert(rng.randrange(len(state_items) + 1), extra_item)
            state_items += tail
        state[kind] = state_items
        counts[kind] = {
            "desired": size,
            "missing": len(missing),
            "differ": len(differ),
            "extra": extra,
        }
    return Workload(n, desired, state, counts)


# Writing crmconf configuration files


def _flow(item: Item, key: str = "name") -> str:
    parts = [f"{key}: {item.name}"]
    for name, value in item.fields.items():
        parts.append(f"{name}: {value}")
    return "{" + ", ".join(parts) + "}"


def _groups_yaml(items: list[Item]) -> list[str]:
    children: dict[int | None, list[int]] = {}
    for i, item in enumerate(items):
        children.setdefault(item.parent, []).append(i)
    lines = ["groups:"]
    stack: list[tuple[int, int]] = [(i, 1) for i in reversed(children.get(None, []))]
    while stack:
        i, level = stack.pop()
        item = items[i]
        pad = "    " * level
        lines.append(f"{pad[:-2]}- name: {item.name}")
        lines.append(f"{pad}type: {item.fields['type']}")
        lines.append(f"{pad}description: {item.fields['description']}")
        kids = children.get(i, [])
        if kids:
            lines.append(f"{pad}children:")
            stack.extend((child, level + 1) for child in reversed(kids))
    return lines


def write_crmconf(
    directory: Path, kinds: dict[str, list[Item]], switches: bool = True
) -> list[Path]:
    """One configuration directory, one file per area, as a team would split it.

    Without `switches`, the two yes/no settings are left out (unmanaged), so that
    planning against an empty sandbox gives exactly one create per item.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.yaml"):
        old.unlink()
    header = ["# Generated by benchmarks/workload.py", "crmconf: 1"]

    def bare(kind: str) -> list[str]:
        return [f"  - {item.name}" for item in kinds[kind]]

    files = {
        "00-customer_info.yaml": [
            "customer_info:",
            *(["  show_as_tab: true"] if switches else []),
            *(
                line
                for name in ("contact_origins", "products", "sources")
                for line in (f"  {name}:", *("  " + x for x in bare(f"customer_info.{name}")))
            ),
        ],
        "10-categories.yaml": ["categories:", *(f"  - {_flow(i)}" for i in kinds["categories"])],
        "20-groups.yaml": _groups_yaml(kinds["groups"]),
        "30-industries.yaml": ["industries:", *bare("industries")],
        "40-status_types.yaml": ["status_types:", *bare("status_types")],
        "50-sales.yaml": [
            "sales:",
            "  rejection_reasons:",
            *("  " + x for x in bare("sales.rejection_reasons")),
            "  types:",
            *("  " + x for x in bare("sales.types")),
            "  stages:",
            *(f"    - {_flow(i, 'title')}" for i in kinds["sales.stages"]),
        ],
    }
    if switches:
        files["60-features.yaml"] = ["features:", "  restore_customers: true"]
    paths = []
    for name, lines in files.items():
        path = directory / name
        path.write_text("\n".join([*header, *lines]) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


# Writing the octoDNS zone and its configuration


def _ip(i: int, salt: int = 0) -> str:
    value = (10 << 24) + i * 7 + salt
    return ".".join(str((value >> shift) & 255) for shift in (24, 16, 8, 0))


def write_octodns(directory: Path, n: int, seed: int = 24) -> Path:
    """A zone of N A-records as config; the target holds the same change mix."""
    rng = random.Random(seed * 7_919 + n)
    config_dir, target_dir = directory / "config", directory / "target"
    config_dir.mkdir(parents=True, exist_ok=True)
    target_dir.mkdir(parents=True, exist_ok=True)
    names = [f"host{i:06d}" for i in range(n)]
    missing = set(rng.sample(range(n), round(MISSING * n)))
    present = [i for i in range(n) if i not in missing]
    differ = set(rng.sample(present, round(DIFFER * n)))

    def record(name: str, ip: str) -> str:
        return f"{name}:\n  type: A\n  value: {ip}\n"

    config = "---\n" + "".join(record(names[i], _ip(i)) for i in range(n))
    target_records = [
        record(names[i], _ip(i, 3 if i in differ else 0)) for i in range(n) if i not in missing
    ]
    target_records += [record(f"extra{j:06d}", _ip(n + j)) for j in range(round(EXTRA * n))]
    (config_dir / "example.com.yaml").write_text(config, encoding="utf-8")
    (target_dir / "example.com.yaml").write_text("---\n" + "".join(target_records), "utf-8")
    sync = directory / "sync.yaml"
    sync.write_text(
        f"""---
providers:
  config:
    class: octodns.provider.yaml.YamlProvider
    directory: {config_dir}
    enforce_order: false
  target:
    class: octodns.provider.yaml.YamlProvider
    directory: {target_dir}
    enforce_order: false
zones:
  example.com.:
    sources:
      - config
    targets:
      - target
""",
        encoding="utf-8",
    )
    return sync


def write_octodns_small(directory: Path, records: int = 10) -> Path:
    """The 10-record configuration `octodns-validate` starts up on (target 3)."""
    zones = directory / "zones"
    zones.mkdir(parents=True, exist_ok=True)
    body = "".join(f"host{i:02d}:\n  type: A\n  value: {_ip(i)}\n" for i in range(records))
    (zones / "example.com.yaml").write_text("---\n" + body, encoding="utf-8")
    config = directory / "validate.yaml"
    config.write_text(
        f"""---
providers:
  config:
    class: octodns.provider.yaml.YamlProvider
    directory: {zones}
zones:
  example.com.:
    sources:
      - config
    targets: []
""",
        encoding="utf-8",
    )
    return config
