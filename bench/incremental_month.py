"""Benchmark one incremental month at scale: ingest a month's export into the database as it stood at the end
of the month before, run the schedule, and compare with a full rebuild. Not part of `make test`.

    nice -n 5 .venv/bin/python bench/incremental_month.py [--dossiers 10000000] [--month 2026-10] [--workers 2]

Steps (every command is the real CLI in a new process; wall time, CPU seconds of the process and its children,
and the load average are recorded with each):

1. **full rebuild, the database**: `egov-metrics demo --dossiers N --until MONTH` into a scratch folder.
   This database is also the source of everything below (the cached demo databases are never touched).
2. **the state at the end of the month before** (untimed, `month_before_state`): a copy of that database with
   the month's dossiers removed and every later event undone (finishes, returns and syncs from the month's
   first day on: the dossier back to open, not synced), and **the month's export** (`month_export`): every
   dossier received, finished, returned or synced from the month's first day on, with the canonical columns,
   as Parquet.
3. **(a) the month before's reports**: `egov-metrics schedule run --jobs schedule_data/demo.yaml --since
   MONTH-1 --as-of <MONTH's 5th>` into a new folder (30 reports for the demo's jobs).
4. **(b) ingest the export**: `egov-metrics ingest dossier EXPORT --mapping dossier_canonical` (inserted,
   updated, unchanged, rejected parsed from its summary). Then, untimed, the dossier table is checked to be
   the source's again (row count and the sum of a hash of every row, both sides).
5. **(c) the next scheduled run**: the same command with `--as-of <next month's 5th>`; which reports it
   rendered (from the manifest), and for every report of the month before that it rendered again, whether the
   page changed (text compared with the copy kept after (a), ignoring times, fingerprints and cell ids as
   `bench/compare_reports.py` does).
6. **full rebuild, the reports**: both months rendered from the rebuilt database into a new folder; then every
   page of the incremental folder is compared with the rebuild's page of the same name.

Exit code 1 when: a report of the month before is rendered again although its page did not change (rendered
without cause); a page of the incremental folder differs from the rebuild's (stale: a change was missed); the
ingest rejected rows or did not give back the source's dossiers; any command failed; or a report other than
the two months' was rendered. Results: `bench/results/incremental-month-<time>.json` (or `--out`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name("egov-metrics")
JOBS = ROOT / "egov_metrics" / "schedule_data" / "demo.yaml"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_reports import _strip  # noqa: E402  (the same volatile parts as bench/compare_reports.py)

#: The dossier events dated after the receipt, each undone in the state at the end of the month before.
EVENTS = ("finished_at", "returned_at", "synced_at")
#: Columns where ingest reads a time of 00:00 as the end of the day (docs/ingest.md, "A date without a time").
DAY_END = ("due_at", "finished_at", "returned_at", "synced_at")


def month_start(month: str) -> dt.date:
    """'2026-10' → 1 October 2026."""
    return dt.date.fromisoformat(f"{month}-01")


def shift_month(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` away from `day`'s."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_before_state(con: duckdb.DuckDBPyConnection, cut: dt.date) -> dict[str, int]:
    """Turn the dossiers in `con` into what the database held at the end of the day before `cut`: dossiers
    received from `cut` on removed; a finish from `cut` on undone (open again: `processing`, no finish or
    return date, no electronic result, no rating); a return from `cut` on undone (a dossier finished before
    stays `finished`); a sync from `cut` on undone (not synced). Receipt-time columns are kept. Returns the
    number of rows of each change."""
    at = dt.datetime.combine(cut, dt.time())
    counts: dict[str, int] = {}

    def change(name: str, sql: str) -> None:
        counts[name] = int(con.execute(sql, [at]).fetchall()[0][0])

    con.execute("BEGIN")
    change("removed", "DELETE FROM dossier WHERE received_at >= ?")
    change("unsynced", "UPDATE dossier SET synced_at = NULL, synced_to_national = false WHERE synced_at >= ?")
    change(
        "reopened",
        "UPDATE dossier SET finished_at = NULL, returned_at = NULL, status = 'processing', e_result = false, "
        "rating = NULL WHERE finished_at >= ?",
    )
    change(
        "not_returned", "UPDATE dossier SET returned_at = NULL, status = 'finished' WHERE returned_at >= ?"
    )
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    return counts


def month_export(con: duckdb.DuckDBPyConnection, cut: dt.date, path: Path) -> int:
    """Write every dossier received, finished, returned or synced from `cut` on (all its columns, canonical
    names: the `dossier_canonical` mapping) to the Parquet file `path`; returns the number of rows."""
    where = " OR ".join(f"{c} >= TIMESTAMP '{cut.isoformat()}'" for c in ("received_at", *EVENTS))
    con.execute(f"COPY (SELECT * FROM dossier WHERE {where} ORDER BY id) TO '{path}' (FORMAT parquet)")
    return int(con.sql(f"SELECT count(*) FROM '{path}'").fetchall()[0][0])


def view_of(db: Path, horizon: dt.date) -> tuple[str, float, float]:
    """The data fingerprint of `db` up to `horizon` (`egov_metrics.fingerprint`, one fresh pass: what the
    scheduler compares), the seconds the pass took and the load average before it."""
    from egov_metrics import fingerprint

    load = round(os.getloadavg()[0], 2)
    with duckdb.connect(str(db), read_only=True) as con:
        started = time.perf_counter()
        found = fingerprint.compute_print(con)
        return found.view(horizon), time.perf_counter() - started, load


def dossier_differences(source: Path, loaded: Path) -> dict[str, object]:
    """Compare the dossier tables of two databases row by row (by id, then column by column): rows on one side
    only, rows that differ, and how many of those differ only by ingest's documented rule that a time of
    00:00 on a finish, return, sync or appointment date means the end of that day (23:59:59)."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{source}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{loaded}' AS b (READ_ONLY)")
        cols = [r[0] for r in con.sql("SELECT * FROM a.dossier LIMIT 0").description]
        con.execute(
            "CREATE TEMP TABLE differing AS SELECT id, x.h IS NULL AS only_b, y.h IS NULL AS only_a FROM "
            "(SELECT id, hash(d) AS h FROM a.dossier d) x FULL JOIN (SELECT id, hash(d) AS h FROM b.dossier d) y "
            "USING (id) WHERE x.h IS DISTINCT FROM y.h"
        )
        midnight = {
            c: f"(x.{c} = date_trunc('day', x.{c}) AND y.{c} = x.{c} + INTERVAL 86399 SECOND)"
            for c in DAY_END
        }
        differs = {c: f"x.{c} IS DISTINCT FROM y.{c}" for c in cols}
        unexplained = " OR ".join(f"({d} AND NOT coalesce({midnight[c]}, false))" if c in midnight else f"({d})"
                                  for c, d in differs.items())  # fmt: skip
        by_column = ", ".join(f"count(*) FILTER ({d}) AS {c}" for c, d in differs.items())
        both = ("FROM differing JOIN a.dossier x USING (id) JOIN b.dossier y USING (id) "
                "WHERE NOT only_a AND NOT only_b")  # fmt: skip
        only = con.sql("SELECT count(*) FILTER (only_a), count(*) FILTER (only_b), count(*) FROM differing")
        only_a, only_b, total = only.fetchall()[0]
        row = con.sql(f"SELECT count(*) FILTER ({unexplained}), {by_column} {both}").fetchall()[0]
    return {
        "rows_differing": int(total), "only_in_source": int(only_a), "only_loaded": int(only_b),
        "unexplained": int(row[0]) + int(only_a) + int(only_b),
        "by_column": {c: int(n) for c, n in zip(cols, row[1:], strict=True) if n},
    }  # fmt: skip


@dataclass
class Step:
    """One timed command: wall seconds, CPU seconds of it and its children, load average before it."""

    label: str
    seconds: float
    cpu: float
    load: float
    output: str
    returncode: int

    def as_json(self) -> dict[str, object]:
        return {"seconds": round(self.seconds, 2), "cpu_seconds": round(self.cpu, 2), "load": self.load,
                "returncode": self.returncode, "output_tail": self.output[-2000:]}  # fmt: skip


def timed(label: str, args: list[str]) -> Step:
    load = round(os.getloadavg()[0], 2)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    step = Step(label, seconds, cpu, load, done.stdout + done.stderr, done.returncode)
    print(
        f"{label}: {seconds:.1f} s wall, {cpu:.1f} CPU-s, load {load:.2f}, exit {done.returncode}", flush=True
    )
    if done.returncode:
        print(step.output[-3000:], flush=True)
    return step


def schedule(db: Path, out: Path, since: dt.date, as_of: dt.date, workers: int) -> list[str]:
    return [str(CLI), "schedule", "run", "--db", str(db), "--jobs", str(JOBS), "--out", str(out),
            "--since", f"{since:%Y-%m}", "--as-of", as_of.isoformat(), "--workers", str(workers), "--quiet"]  # fmt: skip


def manifest(out: Path) -> dict[str, dict[str, object]]:
    """The manifest's entries by file name."""
    path = out / "manifest.json"
    if not path.exists():
        return {}
    return {e["path"]: e for e in json.loads(path.read_text(encoding="utf-8"))["reports"]}


def rendered_since(before: dict[str, dict[str, object]], out: Path) -> list[str]:
    """File names whose manifest entry is new or was rewritten since `before`."""
    after = manifest(out)
    return sorted(
        p for p, e in after.items() if p not in before or before[p]["generated_at"] != e["generated_at"]
    )


def month_of(entry: dict[str, object]) -> str:
    params = entry["params"]
    assert isinstance(params, dict)
    return str(params.get("period") or params.get("as_of") or "")[:7]


def page_text(path: Path) -> str:
    return _strip(path.read_text(encoding="utf-8"))


def changed_lines(before: str, after: str, limit: int = 6) -> list[str]:
    """The first lines of visible text (charts and tags removed) that differ between two pages: what changed."""

    def visible(page: str) -> list[str]:
        page = re.sub(r"<svg.*?</svg>", " ", page, flags=re.S)
        page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
        return [t.strip() for t in re.split(r"<[^>]+>", page) if t.strip()]

    diff = difflib.unified_diff(visible(before), visible(after), lineterm="", n=0)
    return [d[:160] for d in diff if d[:1] in "+-" and d[:3] not in ("---", "+++")][:limit]


def ingest_counts(output: str) -> dict[str, int]:
    """'read 9 · inserted 5 · updated 4 · unchanged 0 · rejected 0' → the numbers."""
    return {k: int(v.replace(",", "")) for k, v in re.findall(r"\b(read|inserted|updated|unchanged|rejected) ([\d,]+)", output)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=10_000_000)
    parser.add_argument("--month", default="2026-10", help="the month whose export is loaded (YYYY-MM)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--scratch", type=Path, help="folder for the databases and reports (default: a temporary one)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument(
        "--out", type=Path, help="JSON results (default: bench/results/incremental-month-<time>.json)"
    )
    opts = parser.parse_args()

    cut = month_start(opts.month)
    before_month = shift_month(cut, -1)
    as_of_before = cut + dt.timedelta(days=4)
    as_of_next = shift_month(cut, 1) + dt.timedelta(days=4)
    months = {f"{before_month:%Y-%m}", opts.month}
    results: dict[str, object] = {
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "dossiers": opts.dossiers, "month": opts.month, "workers": opts.workers, "cpus": os.cpu_count(),
        "nice": os.nice(0),
    }  # fmt: skip
    problems: list[str] = []
    scratch = opts.scratch or Path(tempfile.mkdtemp(prefix="egov-bench-incmonth-"))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        # Both databases have the same file name: a page shows the name of its database file.
        full = scratch / "rebuild" / "egov.duckdb"
        state = scratch / "incremental" / "egov.duckdb"
        for stale in (full, state):
            stale.parent.mkdir(exist_ok=True)
            stale.unlink(missing_ok=True)
        # 1. the full rebuild's database (and the source of the rest)
        build = timed("rebuild: demo database", [str(CLI), "demo", "--db", str(full), "--dossiers",
                                                 str(opts.dossiers), "--until", opts.month])  # fmt: skip
        results["rebuild_database"] = build.as_json()
        if build.returncode:
            sys.exit("building the demo database failed (see above)")

        # 2. the state at the end of the month before, and the month's export
        export = scratch / f"dossiers-{opts.month}.parquet"
        shutil.copyfile(full, state)
        started = time.perf_counter()
        with duckdb.connect(str(full), read_only=True) as con:
            exported = month_export(con, cut, export)
        with duckdb.connect(str(state)) as con:
            undone = month_before_state(con, cut)
        results["state"] = {
            "export_rows": exported,
            **undone,
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(
            f"state at the end of {before_month:%Y-%m}: {undone}; export: {exported:,} dossiers", flush=True
        )

        # (a) the month before's reports
        inc = scratch / "reports-incremental"
        shutil.rmtree(inc, ignore_errors=True)
        a = timed(f"(a) scheduled run for {before_month:%Y-%m}",
                  schedule(state, inc, before_month, as_of_before, opts.workers))  # fmt: skip
        first = manifest(inc)
        a_rendered = sorted(first)
        results["a_run"] = {**a.as_json(), "rendered": len(a_rendered), "rendered_months": sorted({month_of(e) for e in first.values()})}  # fmt: skip
        if a.returncode or {month_of(e) for e in first.values()} != {f"{before_month:%Y-%m}"}:
            problems.append(
                f"(a) exit {a.returncode}; months rendered {sorted({month_of(e) for e in first.values()})}"
            )
        kept = {p: page_text(inc / p) for p in first}
        month_end = cut - dt.timedelta(days=1)
        view_before, print_seconds, print_load = view_of(state, month_end)

        # (b) ingest the export
        b = timed(f"(b) ingest {opts.month}'s export", [str(CLI), "ingest", "dossier", str(export), "--db", str(state),
                                                         "--mapping", "dossier_canonical", "--wait", "0",
                                                         "--lang", "en"])  # fmt: skip
        counts = ingest_counts(b.output)
        diff = dossier_differences(full, state)
        view_after = view_of(state, month_end)[0]
        results["fingerprint"] = {
            "seconds": round(print_seconds, 2), "load": print_load, "database": "the state before the ingest",
            f"view_{month_end}_before_ingest": view_before, f"view_{month_end}_after_ingest": view_after,
        }  # fmt: skip
        print(f"    data fingerprint pass: {print_seconds:.2f} s (load {print_load}); view to {month_end}: "
              f"{view_before} before the ingest, {view_after} after", flush=True)  # fmt: skip
        results["b_ingest"] = {**b.as_json(), **counts, "dossiers_compared_with_source": diff}
        print(f"    {counts}; dossier table against the source's: {diff}", flush=True)
        if b.returncode or counts.get("rejected", -1) != 0 or diff["unexplained"]:
            problems.append(f"(b) exit {b.returncode}, {counts}, dossiers against the source: {diff}")

        # (c) the next scheduled run
        c = timed("(c) the next scheduled run", schedule(state, inc, before_month, as_of_next, opts.workers))
        again = rendered_since(first, inc)
        now = manifest(inc)
        by_month: dict[str, list[str]] = {}
        for p in again:
            by_month.setdefault(month_of(now[p]), []).append(p)
        redone = by_month.get(f"{before_month:%Y-%m}", [])
        changed = [p for p in redone if page_text(inc / p) != kept[p]]
        what_changed = {p: changed_lines(kept[p], page_text(inc / p)) for p in changed}
        without_cause = sorted(set(redone) - set(changed))
        results["c_run"] = {**c.as_json(), "rendered": len(again), "rendered_by_month": by_month,
                            "before_month_rerendered": len(redone), "before_month_rerendered_page_changed": what_changed,
                            "before_month_rerendered_without_cause": without_cause}  # fmt: skip
        print(
            f"    rendered {len(again)}: " + ", ".join(f"{m}: {len(v)}" for m, v in sorted(by_month.items())),
            flush=True,
        )
        print(f"    {before_month:%Y-%m} rendered again: {len(redone)}, of which the page changed: {len(changed)}; "
              f"without cause: {without_cause}", flush=True)  # fmt: skip
        if c.returncode or set(by_month) - months:
            problems.append(f"(c) exit {c.returncode}; months rendered {sorted(by_month)}")
        if without_cause:
            problems.append(f"(c) rendered again without a change to the page: {without_cause}")

        # the full rebuild's reports
        reb = scratch / "reports-rebuild"
        shutil.rmtree(reb, ignore_errors=True)
        d = timed(
            "rebuild: both months' reports", schedule(full, reb, before_month, as_of_next, opts.workers)
        )
        rebuilt = manifest(reb)
        stale = sorted(p for p in rebuilt if p in now and page_text(reb / p) != page_text(inc / p))
        missing = sorted(set(rebuilt) ^ set(now))
        results["rebuild_reports"] = {**d.as_json(), "rendered": len(rebuilt), "pages_differing_from_incremental": stale,
                                      "pages_on_one_side_only": missing}  # fmt: skip
        print(f"    rendered {len(rebuilt)}; incremental pages differing from the rebuild's: {stale}; "
              f"on one side only: {missing}", flush=True)  # fmt: skip
        if d.returncode or stale or missing:
            problems.append(f"rebuild: exit {d.returncode}; stale pages {stale}; on one side only {missing}")

        incremental = b.seconds + c.seconds
        rebuild = build.seconds + d.seconds
        inc_cpu, reb_cpu = b.cpu + c.cpu, build.cpu + d.cpu
        results["summary"] = {
            "incremental_seconds": round(incremental, 1), "incremental_cpu_seconds": round(inc_cpu, 1),
            "rebuild_seconds": round(rebuild, 1), "rebuild_cpu_seconds": round(reb_cpu, 1),
            "wall_ratio": round(incremental / rebuild, 3), "cpu_ratio": round(inc_cpu / reb_cpu, 3),
        }  # fmt: skip
        print(f"incremental month (ingest + next run): {incremental:.1f} s, {inc_cpu:.1f} CPU-s; full rebuild "
              f"(database + both months): {rebuild:.1f} s, {reb_cpu:.1f} CPU-s; ratio {incremental / rebuild:.2f} "
              f"wall, {inc_cpu / reb_cpu:.2f} CPU", flush=True)  # fmt: skip
    finally:
        results["problems"] = problems
        results["scratch"] = str(scratch) if opts.keep else None
        target = (
            opts.out
            or ROOT / "bench" / "results" / f"incremental-month-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"results: {target}")
        if not opts.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    if problems:
        sys.exit("problems:\n" + "\n".join(problems))


if __name__ == "__main__":
    main()
