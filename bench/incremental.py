"""Benchmark incremental months: after a load, the next scheduled run renders only the reports whose data
changed (egov_metrics/fingerprint.py, egov_metrics/schedule/planning.py). Not part of `make test`.

    .venv/bin/python bench/incremental.py [--db bench/.cache/demo_2000000.duckdb] [--workers 2]

On a copy of the demo database, with the province's monthly reports (progress and roadmap, vi and en: four
a month) from August to October 2026 (12 reports), it times:

1. the first run (all 12 rendered: what a full rebuild of the reports costs);
2. a run after nothing changed (0 rendered: the planning and fingerprint cost);
3. a run after a change to October only (one October dossier's outcome): 4 rendered (October);
4. a run after a late correction to September (one September dossier's finish date moved by a day):
   8 rendered (September and October), August untouched;
5. the data fingerprint alone (one pass over the dated tables, once per file version and process).

It exits non-zero if a run renders other reports than those expected. Wall times; the load average is
recorded with each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
JOBS = """
jobs:
  - id: progress-province
    kind: progress_report
    cadence: {every: month, day: 1}
    units: province
    languages: [vi, en]
  - id: roadmap-monthly
    kind: roadmap_report
    cadence: {every: month, day: 1}
    languages: [vi, en]
"""
AS_OF = "2026-11-05"
SINCE = "2026-08"


def _change(db: Path, sql: str) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute(sql)


def _periods(result: object) -> list[str]:
    outcomes = getattr(result, "rendered", [])
    return sorted(
        str(o.instance.param_dict.get("period") or o.instance.param_dict.get("as_of"))[:7] for o in outcomes
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=str(ROOT / "bench" / ".cache" / "demo_2000000.duckdb"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--out", type=Path, help="JSON results (default: bench/results/incremental-<time>.json)"
    )
    opts = parser.parse_args()
    if not Path(opts.db).exists():
        sys.exit(f"{opts.db} is missing: run bench/run.py first (it builds the demo cache) or pass --db")
    from egov_metrics import fingerprint, schedule
    from egov_metrics.schema import connect

    results: dict[str, object] = {"started": dt.datetime.now().astimezone().isoformat(timespec="seconds")}
    ok = True
    with tempfile.TemporaryDirectory(prefix="egov-bench-incremental-") as scratch:
        tmp = Path(scratch)
        db = tmp / "data.duckdb"
        shutil.copyfile(opts.db, db)
        jobs = tmp / "jobs.yaml"
        jobs.write_text(JOBS, encoding="utf-8")
        out = tmp / "reports"

        def run(label: str, expected: list[str]) -> None:
            nonlocal ok
            load = os.getloadavg()[0]
            started = time.perf_counter()
            result = schedule.run(AS_OF, jobs=jobs, db=db, out_dir=out, since=SINCE, workers=opts.workers)
            seconds = time.perf_counter() - started
            got = _periods(result)
            ok = ok and got == expected and not result.failed
            results[label] = {"seconds": seconds, "rendered": got, "expected": expected, "load": load}
            print(f"{label}: {len(got)} rendered {got} in {seconds:.1f} s (expected {len(expected)}); "
                  f"load {load:.1f}", flush=True)  # fmt: skip

        run("first run (all)", ["2026-08"] * 4 + ["2026-09"] * 4 + ["2026-10"] * 4)
        run("nothing changed", [])
        _change(
            db,
            "UPDATE dossier SET finished_at = finished_at + INTERVAL 1 HOUR WHERE id = (SELECT min(id) FROM "
            "dossier WHERE finished_at >= '2026-10-01' AND finished_at < '2026-10-20' AND received_at >= '2026-10-01')",
        )
        run("October changed", ["2026-10"] * 4)
        _change(
            db,
            "UPDATE dossier SET finished_at = finished_at + INTERVAL 1 DAY WHERE id = (SELECT min(id) FROM "
            "dossier WHERE finished_at >= '2026-09-01' AND finished_at < '2026-09-20' AND received_at >= '2026-09-01')",
        )
        run("September corrected", ["2026-09"] * 4 + ["2026-10"] * 4)
        with connect(db, read_only=True) as con:
            load = os.getloadavg()[0]
            started = time.perf_counter()
            fingerprint.compute_print(con)
            seconds = time.perf_counter() - started
            rows = con.sql("SELECT count(*) FROM dossier").fetchall()[0][0]
        results["fingerprint"] = {"seconds": seconds, "dossiers": rows, "load": load}
        print(f"data fingerprint ({rows:,} dossiers): {seconds:.2f} s; load {load:.1f}")
    target = opts.out or ROOT / "bench" / "results" / f"incremental-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"results: {target}")
    if not ok:
        sys.exit("a run rendered other reports than expected (see above)")


if __name__ == "__main__":
    main()
