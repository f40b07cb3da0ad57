"""In-process measurements, each run in a fresh interpreter by benchmarks/run.py.

Imports happen before the clock starts; the result is one JSON object on stdout.

    inproc.py plan DIR URL [nogc]       crmconf: load → open → read → plan → render, timed apart
                                        (nogc: with the cyclic garbage collector off)
    inproc.py reference DIR DB          PyYAML CSafeLoader load of DIR's files + plain SELECTs
    inproc.py apply DIR DB              crmconf.apply of the plan that creates DIR's items
                                        (DIR written without the two switches)
    inproc.py executemany DIR DB N      the same rows through sqlite3 executemany
    inproc.py build-state DIR URL       load → plan → apply DIR through crmconf (the sandbox state)
    inproc.py profile-plan DIR URL OUT  cProfile of the `plan` mode, stats written to OUT
    inproc.py profile-apply DIR DB OUT  cProfile of the `apply` mode
"""

from __future__ import annotations

import cProfile
import gc
import io
import json
import pstats
import resource
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

SETTINGS_TABLES = (
    "categories",
    "crm_groups",
    "group_members",
    "industries",
    "status_types",
    "rejection_reasons",
    "sale_types",
    "stages",
    "customer_info_options",
    "switches",
)
"""The sandbox tables that hold the settings crmconf reads for a plan."""


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _render_text() -> Any:
    """The text renderer, wherever this version of crmconf keeps it (None if not found)."""
    import importlib

    for module in ("crmconf.planning.render.text", "crmconf.plan.render.text"):
        try:
            return importlib.import_module(module).render_text
        except (ImportError, AttributeError):
            continue
    return None


def _import_crmconf() -> Any:
    """Import what a plan needs before the clock starts (the public API only)."""
    import crmconf.api as api

    api.open_target  # noqa: B018
    render = _render_text()
    from crmconf.targets.sandbox import target as _sandbox  # noqa: F401

    return api, render


def plan_breakdown(directory: str, url: str, gc_mode: str = "gc") -> dict[str, Any]:
    """crmconf.load → open_target → crmconf.plan (read, diff) → render, timed apart.

    Uses only the public API; the read is timed by wrapping the target's `read`,
    so the diff is what `crmconf.plan` spends besides reading.
    """
    api, render = _import_crmconf()
    if gc_mode == "nogc":  # a diagnosis, not how crmconf runs: what the cyclic GC costs
        gc.disable()
    clock, cpu = time.perf_counter, time.process_time
    t0, c0 = clock(), cpu()
    config = api.load(directory)
    t1, c1 = clock(), cpu()
    target = api.open_target(url)
    t2, c2 = clock(), cpu()
    spent = {"read": 0.0, "read_cpu": 0.0}
    read = target.read

    def timed_read(*args: Any, **kwargs: Any) -> Any:
        start, start_cpu = clock(), cpu()
        try:
            return read(*args, **kwargs)
        finally:
            spent["read"] += clock() - start
            spent["read_cpu"] += cpu() - start_cpu

    target.read = timed_read
    try:
        result = api.plan(config, target)
        t3, c3 = clock(), cpu()
        text = render(result) if render else ""
        t4 = clock()
    finally:
        target.close()
    summary = result.summary() if hasattr(result, "summary") else {}
    return {
        "load": t1 - t0,
        "open": t2 - t1,
        "read": spent["read"],
        "diff": t3 - t2 - spent["read"],
        "render": t4 - t3,
        "plan": t3 - t0,
        "plan_and_render": t4 - t0,
        "plan_cpu": c3 - c0,
        "load_cpu": c1 - c0,
        "read_cpu": spent["read_cpu"],
        "diff_cpu": c3 - c2 - spent["read_cpu"],
        "summary": {str(k): v for k, v in summary.items()},
        "render_chars": len(text),
        "peak_kb": _peak_kb(),
        "crmconf_file": sys.modules["crmconf"].__file__,
    }


def reference(directory: str, db: str) -> dict[str, Any]:
    """What reading the input costs at least: parse the same files, SELECT the same rows."""
    import yaml

    files = sorted(p for p in Path(directory).iterdir() if p.suffix in (".yaml", ".yml"))
    c0 = time.process_time()
    t0 = time.perf_counter()
    documents = [yaml.load(f.read_bytes(), Loader=yaml.CSafeLoader) for f in files]
    t1 = time.perf_counter()
    connection = sqlite3.connect(db)
    rows = 0
    for table in SETTINGS_TABLES:
        rows += len(connection.execute(f"SELECT * FROM {table}").fetchall())
    connection.close()
    t2 = time.perf_counter()
    c2 = time.process_time()
    return {
        "total_cpu": c2 - c0,
        "yaml_load": t1 - t0,
        "select": t2 - t1,
        "total": t2 - t0,
        "files": len(documents),
        "rows": rows,
        "peak_kb": _peak_kb(),
    }


def build_state(directory: str, url: str) -> dict[str, Any]:
    """Make the sandbox hold DIR's configuration, through crmconf itself."""
    import crmconf.api as api

    t0 = time.perf_counter()
    config = api.load(directory)
    with api.open_target(url) as target:
        result = api.plan(config, target)
        t1 = time.perf_counter()
        api.apply(result, target)
        t2 = time.perf_counter()
        left = api.plan(config, target)
    return {
        "plan": t1 - t0,
        "apply": t2 - t1,
        "summary": result.summary(),
        "left_after_apply": left.summary(),
        "peak_kb": _peak_kb(),
    }


def apply_creates(
    directory: str, db: str, profiler: cProfile.Profile | None = None
) -> dict[str, Any]:
    """Apply, to an empty sandbox, the plan that creates every item of DIR (no switches)."""
    import crmconf.api as api

    config = api.load(directory)
    with api.open_target(f"sqlite:///{db}") as target:
        result = api.plan(config, target)
        summary = {str(k): v for k, v in result.summary().items()}
        if profiler:
            profiler.enable()
        c0 = time.process_time()
        t0 = time.perf_counter()
        api.apply(result, target)
        t1 = time.perf_counter()
        c1 = time.process_time()
        if profiler:
            profiler.disable()
    return {"apply": t1 - t0, "apply_cpu": c1 - c0, "summary": summary, "peak_kb": _peak_kb()}


def executemany(directory: str, db: str, n: int) -> dict[str, Any]:
    """The rows `apply_creates` writes, inserted with sqlite3's executemany in one transaction."""
    sys.path.insert(0, str(Path(__file__).parent))
    import workload

    items = workload.build(n).desired
    rows: dict[str, tuple[str, list[tuple[Any, ...]]]] = {}

    def names(kind: str) -> list[tuple[Any, ...]]:
        return [(item.name,) for item in items[kind]]

    rows["categories"] = (
        "INSERT INTO categories (name, show_on) VALUES (?, ?)",
        [(i.name, i.fields["show_on"]) for i in items["categories"]],
    )
    rows["groups"] = (
        "INSERT INTO crm_groups (id, name, type, description, parent_id) VALUES (?, ?, ?, ?, ?)",
        [
            (k + 1, i.name, i.fields["type"], i.fields["description"], _plus_one(i.parent))
            for k, i in enumerate(items["groups"])
        ],
    )
    for kind, table in (
        ("industries", "industries"),
        ("status_types", "status_types"),
        ("sales.types", "sale_types"),
    ):
        rows[kind] = (f"INSERT INTO {table} (name) VALUES (?)", names(kind))
    reasons = {i.name: k + 1 for k, i in enumerate(items["sales.rejection_reasons"])}
    rows["sales.rejection_reasons"] = (
        "INSERT INTO rejection_reasons (id, name) VALUES (?, ?)",
        [(reasons[i.name], i.name) for i in items["sales.rejection_reasons"]],
    )
    rows["sales.stages"] = (
        "INSERT INTO stages (title, probability, status, rejection_reason_id, position)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            (
                i.name,
                i.fields["probability"],
                i.fields["status"],
                reasons.get(str(i.fields.get("rejection_reason"))),
                k + 1,
            )
            for k, i in enumerate(items["sales.stages"])
        ],
    )
    options: list[tuple[Any, ...]] = []
    for name in ("contact_origins", "products", "sources"):
        options += [(name, i.name, k + 1) for k, i in enumerate(items[f"customer_info.{name}"])]
    rows["options"] = (
        "INSERT INTO customer_info_options (list, name, position) VALUES (?, ?, ?)",
        options,
    )
    count = sum(len(batch) for _sql, batch in rows.values())

    c0 = time.process_time()
    t0 = time.perf_counter()
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA foreign_keys = ON")
    with connection:
        for sql, batch in rows.values():
            connection.executemany(sql, batch)
    connection.close()
    t1 = time.perf_counter()
    c1 = time.process_time()
    return {
        "executemany": t1 - t0,
        "executemany_cpu": c1 - c0,
        "rows": count,
        "peak_kb": _peak_kb(),
    }


def _plus_one(index: int | None) -> int | None:
    return None if index is None else index + 1


def _profiled(function: Any, out: str, *args: Any, inside: bool = False) -> dict[str, Any]:
    """Profile a call (or, with `inside`, let the function profile its measured part)."""
    profiler = cProfile.Profile()
    if inside:
        result = function(*args, profiler=profiler)
    else:
        profiler.enable()
        result = function(*args)
        profiler.disable()
    profiler.dump_stats(out)
    tables = {}
    for order in ("cumulative", "tottime"):
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        stats.strip_dirs().sort_stats(order).print_stats(25)
        tables[order] = stream.getvalue()
    return {"result": result, "stats_file": out, "top": tables}


def main(argv: list[str]) -> None:
    mode, *args = argv
    if mode == "plan":
        out = plan_breakdown(*args)
    elif mode == "reference":
        out = reference(*args)
    elif mode == "build-state":
        out = build_state(*args)
    elif mode == "apply":
        out = apply_creates(args[0], args[1])
    elif mode == "executemany":
        out = executemany(args[0], args[1], int(args[2]))
    elif mode == "profile-plan":
        _import_crmconf()  # so that the profile shows the work, not the imports
        out = _profiled(plan_breakdown, args[2], args[0], args[1])
    elif mode == "profile-apply":
        _import_crmconf()
        out = _profiled(apply_creates, args[2], args[0], args[1], inside=True)
    else:
        raise SystemExit(f"unknown mode {mode!r}\n{__doc__}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
