"""One-off diagnosis, not part of `make bench`: the plan with candidate fixes patched in.

Estimates what the fixes named in benchmarks/README.md would gain, by monkeypatching
crmconf's planner in this process only (the tree is not touched). It depends on
planner internals (`_depth`, `_existing_depth`, `_changed_fields` of the snapshot
the README names) and will need updating when those change.

    PYTHONPATH=benchmarks/.work/snapshot .venv/bin/python benchmarks/whatif_plan.py 10000

needs `make bench` (or run.py) to have written benchmarks/.work/n<N>/. Prints CPU
seconds for load, read and diff with the collector on and off, for: the code as it
is, an O(n) depth order, no DeepDiff, and both.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

WORK = Path(__file__).resolve().parent / ".work"
VARIANTS = ("as-is", "depth", "no-deepdiff", "both")


def _depth_map(pairs: Iterable[tuple[str, str | None]]) -> dict[str, int]:
    parents = dict(pairs)
    depths: dict[str, int] = {}
    for start in parents:
        chain: list[str] = []
        name: str | None = start
        while (
            name is not None
            and name not in depths
            and name in parents
            and len(chain) <= len(parents)
        ):
            chain.append(name)
            name = parents[name]
        base = depths.get(name, -1) if name is not None else -1
        for offset, member in enumerate(reversed(chain), start=1):
            depths[member] = base + offset
    return depths


def patch(variant: str) -> list[str]:
    """Patch what this version of the planner still has; returns what was patched."""
    from crmconf.model.names import identity
    from crmconf.planning import planner

    patched: list[str] = []

    def replace(name: str, function: Any) -> None:
        if hasattr(planner, name):  # already rewritten in the tree: nothing to patch
            setattr(planner, name, function)
            patched.append(name)

    if variant in ("depth", "both"):
        cache: dict[tuple[str, int], dict[str, int]] = {}

        def _depth(change: Any, records: Any) -> int:
            key = ("records", id(records))
            if key not in cache:
                cache[key] = _depth_map((r.name, r.fields.get("parent")) for r in records)
            return cache[key].get(change.name, 0)

        def _existing_depth(change: Any, items: Any) -> int:
            key = ("items", id(items))
            if key not in cache:
                cache[key] = _depth_map(
                    (i.key, identity(p) if (p := i.fields.get("parent")) else None) for i in items
                )
            return cache[key].get(identity(change.name), 0)

        replace("_depth", _depth)
        replace("_existing_depth", _existing_depth)
    if variant in ("no-deepdiff", "both"):

        def _changed_fields(before: Any, after: Any, references: set[str]) -> tuple[str, ...]:
            left = {k: planner._comparable(v) if k in references else v for k, v in before.items()}
            right = {k: planner._comparable(v) if k in references else v for k, v in after.items()}
            return tuple(field for field in after if left.get(field) != right.get(field))

        replace("_changed_fields", _changed_fields)
    return patched


def one(n: int, collector: str, variant: str) -> None:
    import crmconf.api as api
    from crmconf.planning import planner

    base = WORK / f"n{n}"
    patched = patch(variant)
    if collector == "off":
        gc.disable()
    c0 = time.process_time()
    config = api.load(base / "desired")
    c1 = time.process_time()
    target = api.open_target(f"sqlite:///{base / 'sandbox.db'}")
    c2 = time.process_time()
    state = target.read(planner.kinds_to_read(config))
    c3 = time.process_time()
    result = planner.plan(config, state, target.capabilities())
    c4 = time.process_time()
    target.close()
    print(
        f"N={n:>7,} gc {collector:3} {variant:12} load {c1 - c0:6.2f}  read {c3 - c2:5.2f}  "
        f"diff {c4 - c3:6.2f}  total {c4 - c0 - (c2 - c1):6.2f} s CPU   {result.summary()}"
        f"   patched: {', '.join(patched) or 'nothing'}",
        flush=True,
    )


def main() -> None:
    if len(sys.argv) == 4:
        one(int(sys.argv[1]), sys.argv[2], sys.argv[3])
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    for collector in ("on", "off"):
        for variant in VARIANTS:  # each in a fresh interpreter
            subprocess.run([sys.executable, __file__, str(n), collector, variant], check=True)


if __name__ == "__main__":
    main()
