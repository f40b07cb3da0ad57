"""Issue 14, item 4: `plan --all` over 20 tenants of 2,000 customers each, 100 ms a call.

    .venv/bin/python benchmarks/fleet_plan.py [--tenants 20] [--customers 2000]
        [--latency 0.1] [--parallel 4] [--runs 3]

`make bench` runs it too, with these defaults (benchmarks/run.py: `measure()`, `markdown()`).

The bundled fake (crmconf.testing.fake24so, a process of its own on 127.0.0.1) serves an
account of `--customers` generated customers and answers every call after `--latency`
seconds. A project of `--tenants` tenants, each planning its industries, status types
and a category, is planned with `crmconf plan --all --parallel N`. Measured: wall time
(median of `--runs`) and the API requests the run made, read from the run's own request
budget file (every request crmconf sends is counted there, logins and retries too).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CRMCONF = Path(sys.executable).parent / "crmconf"  # run with the venv's python, as make does
CONFIG = """\
crmconf: 1
categories: [{name: Partner, show_on: both}]
industries: [Consulting, Retail, Manufacturing, Public sector]
status_types: [Active, Inactive]
prune: {industries: false, status_types: false}
"""


def measure(
    base: dict[str, str],
    *,
    tenants: int = 20,
    customers: int = 2000,
    latency: float = 0.1,
    parallel: int = 4,
    runs: int = 3,
) -> dict[str, Any]:
    """Wall times and request counts of `runs` plans; `base`: the children's environment."""
    fake = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crmconf.testing.fake24so",
            "--companies",
            str(customers),
            "--latency",
            str(latency),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=base,
    )
    try:
        assert fake.stdout is not None
        environment = {**base, "NO_PROXY": "127.0.0.1,localhost"}
        environment.pop("CRMCONF_STATE", None)
        while True:  # the export lines the fake prints first, CRMCONF_TARGET last
            line = fake.stdout.readline().strip().removeprefix("export ")
            name, _, value = line.partition("=")
            environment[name] = value.strip("'")
            if name == "CRMCONF_TARGET" or not line:
                break
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            (work / "tenant.yaml").write_text(CONFIG)
            entries = "".join(
                f"  - {{name: t{n:02d}, target: '24so://', config: tenant.yaml}}\n"
                for n in range(tenants)
            )
            (work / "crmconf.yaml").write_text(f"crmconf: 1\ntenants:\n{entries}")
            times, requests = [], []
            for run in range(runs):
                budget = work / f"budget-{run}.json"
                started = time.monotonic()
                result = subprocess.run(
                    [str(CRMCONF), "plan", "--all", "--parallel", str(parallel)],
                    cwd=work,
                    env={**environment, "CRMCONF_24SO_BUDGET_FILE": str(budget)},
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
                times.append(time.monotonic() - started)
                if result.returncode not in (0, 2):
                    raise SystemExit(
                        f"plan --all failed:\n{(result.stdout + result.stderr)[-3000:]}"
                    )
                counted = json.loads(budget.read_text())["minutes"]
                requests.append(sum(counted.values()))
    finally:
        fake.terminate()
        fake.wait(timeout=30)
    return {
        "tenants": tenants,
        "customers_each": customers,
        "latency_s": latency,
        "parallel": parallel,
        "wall_s_median": round(statistics.median(times), 2),
        "wall_s_runs": [round(t, 2) for t in times],
        "requests": requests,
        "requests_per_tenant": round(statistics.median(requests) / tenants, 1),
    }


def markdown(result: dict[str, Any]) -> list[str]:
    """The table for the generated part of benchmarks/README.md (measured: no target)."""
    runs = ", ".join(f"{t:.2f}" for t in result["wall_s_runs"])
    return [
        f"`plan --all --parallel {result['parallel']}` over {result['tenants']} tenants of "
        f"{result['customers_each']:,} customers, {result['latency_s'] * 1000:.0f} ms a call:",
        "",
        "| Measure | Value |",
        "|---|---|",
        f"| Wall time, median of {len(result['wall_s_runs'])} | "
        f"{result['wall_s_median']:.2f} s ({runs}) |",
        f"| API requests per run (the run's own budget file) | "
        f"{', '.join(str(n) for n in result['requests'])} "
        f"({result['requests_per_tenant']:g} per tenant) |",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    result = measure(
        dict(os.environ),
        tenants=options.tenants,
        customers=options.customers,
        latency=options.latency,
        parallel=options.parallel,
        runs=options.runs,
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
