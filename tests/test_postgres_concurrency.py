"""Several processes apply, move customers and roll back on one PostgreSQL sandbox at once.

Afterwards the data must be exactly what one serial order gives: the history's order.
Each operation runs under a unique actor name, so every history entry names the
operation that made it (a rollback cascades into other processes' entries); replaying those operations one by one, in history order, on a
fresh copy of the demo company must give the same rows in every table — the same ids,
the same undo logs — or some apply was torn, lost or interleaved with another.
"""

from __future__ import annotations

import multiprocessing
import random
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from crmconf import api
from crmconf.errors import HistoryError, PlanError
from crmconf.kinds import INDUSTRIES
from crmconf.targets.sandbox.admin import init_sandbox
from crmconf.targets.sandbox.target import SandboxTarget
from tests import postgres

WORKERS = 4
STEPS = 6
DEADLINE_SECONDS = 240
KINDS = ("apply", "move", "apply", "rollback")


def _config(operation: str) -> str:
    """Each apply replaces the extra category and industry the previous one added."""
    return (
        "crmconf: 1\n"
        "categories:\n"
        "  - {name: Partner, show_on: customer}\n"
        "  - {name: Leverantör, show_on: both}\n"
        f"  - {{name: K {operation}, show_on: customer}}\n"
        f"industries: [Bygg, Data/IT, I {operation}]\n"
    )


def _run(target: SandboxTarget, operation: dict[str, Any], folder: Path) -> bool:
    """Carry out one logged operation as the actor its name makes; whether it recorded an
    entry (a move finding no customers left to move records none)."""
    target.actor = operation["name"]
    if operation["kind"] == "apply":
        config = folder / f"{operation['name']}.yaml"
        api.apply(api.plan(config, target, allow_mass_change=True), target)
    elif operation["kind"] == "move":
        _moved, entry = target.move_customers(INDUSTRIES, operation["from"], operation["to"])
        return entry is not None
    else:  # with the later entries that depend on it, whoever made them
        target.rollback(operation["entry"], cascade=True)
    return True


def _work(url: str, worker: int, folder: str, start_at: float) -> list[dict[str, Any]]:
    """One process's operations; returns them with what became of each."""
    time.sleep(max(0.0, start_at - time.time()))
    pauses = random.Random(worker)
    log: list[dict[str, Any]] = []
    with SandboxTarget.open(url) as target:
        target.lock_timeout = 60
        for step in range(STEPS):
            time.sleep(pauses.uniform(0, 0.3))  # so the processes' operations interleave
            kind = KINDS[(worker + step) % len(KINDS)]
            operation: dict[str, Any] = {"name": f"w{worker}s{step}", "kind": kind}
            if kind == "move":
                source, destination = ("Bygg", "Data/IT") if step % 2 else ("Data/IT", "Bygg")
                operation.update({"from": source, "to": destination})
            if kind == "rollback":
                mine = [
                    entry
                    for entry in target.history()
                    if entry.actor.startswith(f"w{worker}s")
                    and entry.command == "apply"
                    and entry.rolled_back_by is None
                ]
                if not mine:
                    continue
                operation["entry"] = mine[0].id
            try:
                recorded = _run(target, operation, Path(folder))
                operation["outcome"] = "done" if recorded else "nothing to do"
            except (PlanError, HistoryError) as error:  # a stale plan, a rollback refused
                operation["outcome"] = f"refused: {error}"
            log.append(operation)
    return log


def _contents(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table, but the history without its times and plan documents (a plan made
    before another process's move counts customers differently; the undo log is what
    the apply did) and without the lock row."""
    tables = postgres.tables(url)
    tables.pop("crmconf_lock")
    tables["crmconf_history"] = postgres.rows(
        url,
        "SELECT id, actor, command, summary, undo, rollback_of, rolled_back_by "
        "FROM crmconf_history ORDER BY id",
    )
    return tables


def test_concurrent_writers_leave_what_one_serial_order_gives(
    postgres_url: str, postgres_databases: postgres.Databases, tmp_path: Path
) -> None:
    init_sandbox(postgres_url, demo=True)
    for worker in range(WORKERS):
        for step in range(STEPS):
            name = f"w{worker}s{step}"
            (tmp_path / f"{name}.yaml").write_text(_config(name), encoding="utf-8")

    start_at = time.time() + 3  # every process imported and connected: then all at once
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=WORKERS, mp_context=context) as pool:
        futures = [
            pool.submit(_work, postgres_url, worker, str(tmp_path), start_at)
            for worker in range(WORKERS)
        ]
        logs = [future.result(timeout=DEADLINE_SECONDS) for future in futures]

    operations = {operation["name"]: operation for log in logs for operation in log}
    done = {name for name, operation in operations.items() if operation["outcome"] == "done"}
    history = postgres.rows(
        postgres_url, "SELECT id, actor, command, rollback_of FROM crmconf_history ORDER BY id"
    )
    # In history order, each operation once (a cascading rollback records several entries).
    order = list(dict.fromkeys(actor for _, actor, _, _ in history))
    assert sorted(order) == sorted(done), "lost or extra entries"
    assert len(done) >= WORKERS, f"too little ran to test anything: {operations}"
    kinds_done = {operations[name]["kind"] for name in done}
    assert {"apply", "move", "rollback"} <= kinds_done, operations
    rolled = dict(
        postgres.rows(postgres_url, "SELECT id, rolled_back_by FROM crmconf_history ORDER BY id")
    )
    for entry, _, command, rollback_of in history:
        if command == "rollback":
            assert rolled[rollback_of] == entry  # each rollback marks what it undid
    assert postgres.rows(postgres_url, "SELECT count(*) FROM crmconf_lock") == [(0,)]

    with postgres_databases.fresh() as serial_url:
        init_sandbox(serial_url, demo=True)
        with SandboxTarget.open(serial_url) as target:
            for actor in order:
                _run(target, operations[actor], tmp_path)
        assert _contents(serial_url) == _contents(postgres_url)
