"""Issue 14, item 4: reading the light GetCompanies listing of large 24SevenOffice accounts.

    .venv/bin/python benchmarks/twentyfour_scale.py [--sizes 2000,20000,50000,100000] [--runs 3]
        [--reference-runs N] [--json]

`make bench` runs it too (benchmarks/run.py: `measure()`, `markdown()`), with one run
of the zeep reference, which is not judged and costs most of the time.

For each account size the bundled fake (crmconf.testing.fake24so, a process of its own
on 127.0.0.1, so its XML work is not counted) serves the sample account plus that many
generated customers. Three readers of the same answer, each in a fresh interpreter,
imports and login done before measuring:

  floor     the same HTTP request (requests, the same envelope) and a plain
            lxml.etree.fromstring of the answer's bytes;
  crmconf   TwentyFourClient.company_assignments(): the streamed listing;
  zeep      the same listing through zeep (how crmconf read it before), for reference.

Measured: client CPU seconds (process time) and peak memory (the rise of the process's
peak RSS over its RSS before the request), medians of `--runs` (`--reference-runs` for
zeep). Targets at 50k and 100k:
crmconf CPU <= 2x the floor's and peak memory <= 1.5x, and growth linear (CPU per
customer at the largest size at most 1.5x that at the smallest above 2k).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZES = (2_000, 20_000, 50_000, 100_000)
CPU_FACTOR = 2.0
MEMORY_FACTOR = 1.5
LINEAR_FACTOR = 1.5
READERS = ("floor", "crmconf", "zeep")


def _rss_kib() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def read_once(reader: str, environ: dict[str, str]) -> dict[str, float]:
    """In a fresh interpreter: one read by `reader`, its CPU seconds and peak memory in MiB."""
    import requests
    from lxml import etree

    from crmconf.targets.twentyfour import TwentyFourClient
    from crmconf.targets.twentyfour.mapping import (
        ASSIGNMENT_PROPERTIES,
        company_from,
        search_since,
    )
    from crmconf.targets.twentyfour.streaming import listing_request
    from crmconf.targets.twentyfour.transport import COMPANY, NAMESPACE

    client = TwentyFourClient.from_env(environ, timeout=600.0)
    client.login()
    client.identities()  # binds the auth service; the company service is bound below
    if reader == "zeep":
        client.categories()
    message = listing_request("1900-01-01T00:00:00", ASSIGNMENT_PROPERTIES)
    cookie = f"ASP.NET_SessionId={client._session_id}"
    before = _rss_kib()
    started = time.process_time()
    if reader == "floor":
        answer = requests.post(
            client.base_url + COMPANY.path,
            data=message,
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": f'"{NAMESPACE}/GetCompanies"',
                "Cookie": cookie,
            },
            timeout=600,
        )
        tree = etree.fromstring(answer.content)
        count = len(tree.findall(f".//{{{NAMESPACE}}}Company"))
    elif reader == "crmconf":
        count = len(client.company_assignments())
    else:
        entries = client._companies(search_since(None), ASSIGNMENT_PROPERTIES)
        count = len([company_from(e) for e in entries])
    cpu = time.process_time() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"cpu_s": cpu, "peak_mib": max(0, peak - before) / 1024, "companies": count}


def _measure(reader: str, environ: dict[str, str]) -> dict[str, float]:
    child = subprocess.run(
        [sys.executable, __file__, "--read", reader],
        env=environ,
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    result: dict[str, float] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def _serve(companies: int, base: dict[str, str]) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "crmconf.testing.fake24so", "--companies", str(companies)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env=base,
    )
    assert process.stdout is not None
    environ = dict(base)
    for _ in range(5):
        name, _, value = process.stdout.readline().strip().removeprefix("export ").partition("=")
        environ[name] = value.strip("'")
    environ["NO_PROXY"] = "127.0.0.1"
    return process, environ


def run(
    sizes: tuple[int, ...],
    runs: int,
    reference_runs: int | None = None,
    base: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One row a size; `base`: the children's environment (run.py's, for its code snapshot)."""
    base = dict(os.environ if base is None else base)
    rows = []
    for size in sizes:
        process, environ = _serve(size - 12, base)  # the sample account holds 12
        try:
            medians: dict[str, dict[str, float]] = {}
            for reader in READERS:
                count = runs if reader != "zeep" or reference_runs is None else reference_runs
                samples = [_measure(reader, environ) for _ in range(count)]
                assert {s["companies"] for s in samples} == {size}, samples
                medians[reader] = {
                    "cpu_s": statistics.median(s["cpu_s"] for s in samples),
                    "peak_mib": statistics.median(s["peak_mib"] for s in samples),
                }
        finally:
            process.terminate()
            process.wait(timeout=30)
        floor, ours = medians["floor"], medians["crmconf"]
        rows.append(
            {
                "customers": size,
                **{f"{reader}_{k}": v for reader, m in medians.items() for k, v in m.items()},
                "cpu_ratio": ours["cpu_s"] / floor["cpu_s"],
                "memory_ratio": ours["peak_mib"] / max(floor["peak_mib"], 0.1),
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def measure(
    base: dict[str, str], runs: int, reference_runs: int, sizes: tuple[int, ...] = SIZES
) -> dict[str, Any]:
    """Everything for results.json: the method, the rows and the verdicts."""
    rows = run(sizes, runs, reference_runs, base)
    judged = verdicts(rows)
    return {
        "method": {
            "runs": runs,
            "reference_runs": reference_runs,
            "floor": "the same HTTP request (requests) + lxml.etree.fromstring of its bytes",
            "targets": {"cpu": CPU_FACTOR, "memory": MEMORY_FACTOR, "linear": LINEAR_FACTOR},
        },
        "rows": rows,
        "verdicts": judged,
        "met": bool(judged) and all(verdict["met"] for verdict in judged),
    }


def markdown(result: dict[str, Any]) -> list[str]:
    """The table and the verdicts, for the generated part of benchmarks/README.md."""
    method = result["method"]
    return [
        f"Medians of {method['runs']} runs (zeep: {method['reference_runs']}), each in a fresh "
        "interpreter; the floor is the same HTTP request plus a plain `lxml.etree.fromstring`.",
        "",
        table(result["rows"]),
        "",
        *(f"- {verdict['text']}" for verdict in result["verdicts"]),
    ]


def verdicts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target's verdict: `met` and the line that says it with its figures."""
    found = []
    for row in rows:
        if row["customers"] < 50_000:
            continue
        cpu_ok = row["cpu_ratio"] <= CPU_FACTOR
        memory_ok = row["memory_ratio"] <= MEMORY_FACTOR
        found.append(
            {
                "met": cpu_ok and memory_ok,
                "text": f"{row['customers']:,}: CPU {row['cpu_ratio']:.2f}x floor "
                f"({'met' if cpu_ok else 'NOT met'}, <= {CPU_FACTOR}x); memory "
                f"{row['memory_ratio']:.2f}x floor ({'met' if memory_ok else 'NOT met'}, "
                f"<= {MEMORY_FACTOR}x)",
            }
        )
    sized = [row for row in rows if row["customers"] > 2_000]
    if len(sized) >= 2:
        per = [row["crmconf_cpu_s"] / row["customers"] for row in (sized[0], sized[-1])]
        linear = per[1] <= per[0] * LINEAR_FACTOR
        found.append(
            {
                "met": linear,
                "text": f"growth: CPU per customer {per[0] * 1e6:.1f} µs at "
                f"{sized[0]['customers']:,}, {per[1] * 1e6:.1f} µs at "
                f"{sized[-1]['customers']:,} ({'linear: met' if linear else 'NOT linear'})",
            }
        )
    return found


def table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| Customers | floor CPU s | crmconf CPU s | zeep CPU s | floor MiB | crmconf MiB "
        "| zeep MiB | CPU vs floor | memory vs floor |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        out.append(
            f"| {row['customers']:,} | {row['floor_cpu_s']:.2f} | {row['crmconf_cpu_s']:.2f} "
            f"| {row['zeep_cpu_s']:.2f} | {row['floor_peak_mib']:.0f} "
            f"| {row['crmconf_peak_mib']:.0f} | {row['zeep_peak_mib']:.0f} "
            f"| {row['cpu_ratio']:.2f}× | {row['memory_ratio']:.2f}× |"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--reference-runs", type=int, help="runs of the zeep reader (default: --runs)"
    )
    parser.add_argument("--json", action="store_true", help="print results.json's entry")
    parser.add_argument("--read", choices=READERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read:
        print(json.dumps(read_once(args.read, dict(os.environ))))
        return
    sizes = tuple(int(s) for s in args.sizes.split(","))
    result = measure(dict(os.environ), args.runs, args.reference_runs or args.runs, sizes)
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(table(result["rows"]))
    print()
    for verdict in result["verdicts"]:
        print(f"- {verdict['text']}")


if __name__ == "__main__":
    main()
