"""The same catalog on ClickHouse (chDB) and DuckDB: answers cell by cell, then time and memory.

    .venv/bin/python bench/clickhouse.py [--sizes 1000000] [--repeat 3] [--out bench/results/clickhouse.json]
    .venv/bin/python bench/clickhouse.py --db path/to/your.duckdb [--db other.duckdb] [--repeat 1]

For each size the cached demo database (bench/.cache/demo_<N>.duckdb, built by bench/run.py's `ensure_demo`) is
exported to Parquet and loaded into an embedded ClickHouse (chDB) session as MergeTree tables. With `--db`, any
egov-metrics database (a province's own, or one built with `egov-metrics demo`) is compared instead of the demo
sizes; its ClickHouse copy goes into a temporary folder, deleted afterwards, and the database is opened read-only. Three requests run
on both engines: the core KPI set by unit × month (the `engine_core` workload of bench/run.py), every indicator
that can be split by unit (`engine_full`), and the core set with its comparisons (the previous month and a
year earlier). The ClickHouse statement is the DuckDB statement of `build_query`, transpiled by
`egov_metrics.clickhouse.to_clickhouse`.

The answers are compared first (numerator, denominator and value of every indicator × unit × month, and the
previous and year-ago values where asked): the script
exits non-zero when they differ, and the timings mean nothing until they agree. Each engine then runs each
request `--repeat` times in a child process of its own (wall time, peak RSS = VmHWM of the child).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from run import CACHE_DIR, ensure_demo  # noqa: E402
from workloads import CORE, LEVELS, START, unit_indicators  # noqa: E402

#: What each request asks (both engines, the same arguments); without comparisons unless it says so.
REQUESTS = {
    "core": lambda: (list(CORE), {"by": ["unit"], "level": list(LEVELS), "grain": "month", "start": START}),
    "full": lambda: (
        unit_indicators(),
        {"by": ["unit"], "level": list(LEVELS), "grain": "month", "start": START},
    ),
    # the previous month and a year earlier as well (windows over the grid, `engine/assembly.py`)
    "core, with comparisons": lambda: (
        list(CORE),
        {"by": ["unit"], "level": list(LEVELS), "grain": "month", "start": START, "compare": True},
    ),
}


def _request(name: str) -> tuple[list[str], dict[str, Any]]:
    indicators, kwargs = REQUESTS[name]()
    return indicators, {"compare": False, **kwargs}


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(engine: str, request: str, db: str, folder: str) -> dict[str, float]:
    """One timed run in this process: load (ClickHouse only, not timed), then the request."""
    import duckdb

    from egov_metrics.clickhouse import ClickHouseSession, compute_clickhouse
    from egov_metrics.engine import compute

    indicators, kwargs = _request(request)
    con = duckdb.connect(db, read_only=True, config={"threads": 2})
    if engine == "clickhouse":
        session = ClickHouseSession.attach(folder, con)
        started = time.perf_counter()
        frame = compute_clickhouse(indicators, session=session, **kwargs)
    else:
        started = time.perf_counter()
        frame = compute(indicators, db=con, **kwargs)
    wall = time.perf_counter() - started
    return {"wall_s": wall, "peak_mb": _peak_mb(), "rows": frame.height}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000000", help="demo sizes, comma-separated (ignored with --db)")
    parser.add_argument(
        "--db",
        type=Path,
        action="append",
        default=[],
        help="an egov-metrics database of your own to compare and time (repeatable)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=CACHE_DIR)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--child", nargs=4, metavar=("ENGINE", "REQUEST", "DB", "FOLDER"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0

    results: dict[str, object] = {}
    for own in args.db:
        if not own.is_file():
            sys.exit(
                f"--db {own}: no such database file (Hint: give the path of an egov-metrics .duckdb file)"
            )
    scratch = Path(tempfile.mkdtemp(prefix="egov-clickhouse-"))
    targets: list[tuple[str, Path, Path]] = []
    for own in args.db:
        targets.append((own.name, own, scratch / f"clickhouse_{len(targets)}"))
    if not args.db:
        for size in [int(s) for s in args.sizes.split(",") if s]:
            targets.append(
                (f"{size:,} dossiers", ensure_demo(size, args.cache), args.cache / f"clickhouse_{size}")
            )
    try:
        failed = _compare_and_time(targets, args.repeat, results)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 1 if failed else 0


def _compare_and_time(targets: list[tuple[str, Path, Path]], repeat: int, results: dict[str, object]) -> bool:
    """Compare the answers of both engines on each database, then time them; True when any answer differs."""
    import duckdb

    from egov_metrics.clickhouse import ClickHouseSession, compare_answers, compute_clickhouse
    from egov_metrics.engine import compute

    failed = False
    for label, db, folder in targets:
        con = duckdb.connect(str(db), read_only=True, config={"threads": 2})
        started = time.perf_counter()
        session = ClickHouseSession.from_duckdb(con, folder)
        load_s = time.perf_counter() - started
        print(f"{label}: exported to Parquet and loaded into chDB in {load_s:.1f} s")
        agreements = {}
        for request in REQUESTS:
            indicators, kwargs = _request(request)
            duck = compute(indicators, db=con, **kwargs)
            ch = compute_clickhouse(indicators, session=session, **kwargs)
            agreements[request] = compare_answers(duck, ch)
            print(f"  {request}: {agreements[request]}")
            failed |= not agreements[request].same
        session.close()  # a chDB folder is held by one session at a time: the children reopen it
        con.close()
        for request, agreement in agreements.items():
            runs: dict[str, list[dict[str, float]]] = {"duckdb": [], "clickhouse": []}
            for _ in range(repeat):
                for engine in runs:
                    out = subprocess.run(
                        [sys.executable, __file__, "--child", engine, request, str(db), str(folder)],
                        check=True,
                        capture_output=True,
                        text=True,
                    ).stdout
                    runs[engine].append(json.loads(out.strip().splitlines()[-1]))
            summary = {
                engine: {
                    "wall_s": sorted(r["wall_s"] for r in rs)[len(rs) // 2],
                    "peak_mb": max(r["peak_mb"] for r in rs),
                }
                for engine, rs in runs.items()
            }
            ratio = summary["clickhouse"]["wall_s"] / summary["duckdb"]["wall_s"]
            print(
                f"  {request}: DuckDB {summary['duckdb']['wall_s']:.2f} s / {summary['duckdb']['peak_mb']:.0f} MB, "
                f"chDB {summary['clickhouse']['wall_s']:.2f} s / {summary['clickhouse']['peak_mb']:.0f} MB "
                f"(chDB ÷ DuckDB {ratio:.2f}×; medians of {repeat})"
            )
            results[f"{label}/{request}"] = {
                "agreement": str(agreement),
                "cells": agreement.cells,
                "load_s": load_s,
                **{f"{e}_{k}": v for e, s in summary.items() for k, v in s.items()},
            }
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
