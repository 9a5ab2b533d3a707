"""Benchmark the indicator engine against a hand-written DuckDB query and pandas (`make bench`).

    .venv/bin/python bench/run.py [--sizes 1000000,10000000] [--repeat 3] [--out bench/results/x.json]

For each size a demo database is built into the cache (bench/.cache/demo_<N>.duckdb) when it is missing or
older than the demo generator. Every measured run happens in a fresh child process (this script with
`--child`), so that wall time and peak memory belong to that workload alone: the child imports the same
modules and loads the catalog first (all workloads alike, reported as setup), then times the workload and
reads its own peak resident set size (VmHWM in /proc/self/status). Workloads run round-robin, `--repeat`
times; the table shows medians. Before the table, the answers of the hand-written query and of pandas are
compared with the engine's cell by cell (a benchmark of different answers would be worthless).
See bench/README.md for the method and the results.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
CACHE_DIR = BENCH_DIR / ".cache"
RESULTS_DIR = BENCH_DIR / "results"
DEMO_UNTIL = "2026-10"  # a fixed last month, so that every run measures the same data
DEMO_SEED = 58
INTERACTIVE_SIZE = 2_000_000  # the default demo
INTERACTIVE_WARM_CALLS = 7
TARGET_TIME, TARGET_MEMORY, TARGET_INTERACTIVE = 1.1, 1.0, 0.05  # issue 14: ≤ 1.1× time, ≤ its memory, 50 ms
#: each workload's hand-written reference (the ÷ hand columns); engine_full's covers its 19 dossier indicators
REFERENCE = {
    "engine_core": "handwritten",
    "handwritten": "handwritten",
    "pandas": "handwritten",
    "engine_wide": "handwritten_wide",
    "handwritten_wide": "handwritten_wide",
    "engine_full": "handwritten_wide",
}


def _status_kb(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in kB (VmHWM = peak RSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


class TempWatch:
    """The largest number of bytes in EGOV_TEMP_DIR (where DuckDB spills) seen while a workload runs.

    A thread lists the folder every 20 ms (DuckDB deletes its spill files when the query ends, so they must be
    seen while it runs); 0 when EGOV_TEMP_DIR is not set or nothing was spilled.
    """

    def __init__(self) -> None:
        import threading

        folder = os.environ.get("EGOV_TEMP_DIR")
        self.folder = Path(folder) if folder else None
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _size(self) -> int:
        total = 0
        for f in self.folder.rglob("*") if self.folder and self.folder.exists() else ():
            with contextlib.suppress(OSError):  # removed between the listing and the stat
                total += f.stat().st_size if f.is_file() else 0
        return total

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._size())

    def __enter__(self) -> TempWatch:
        if self.folder:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.folder:
            self._stop.set()
            self._thread.join()


def _cpu_s() -> float:
    """CPU seconds (user + system, all threads) this process has used: steadier than wall time when
    other processes compete for the cores."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- child side: one measured run per process ---------------------------------------------------------------


def child(name: str, db: str, save: str | None) -> dict[str, object]:
    t0 = time.perf_counter()
    import duckdb  # noqa: F401 - every child imports the same modules, so that baselines are equal
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import polars as pl
    import pyarrow  # noqa: F401

    sys.path.insert(0, str(BENCH_DIR))
    import workloads

    import egov_metrics.engine  # noqa: F401 - imported once per process like the catalog (~20 ms CPU), not timed
    from egov_metrics.catalog import load_catalog

    t1 = time.perf_counter()
    load_catalog()  # parsed and validated once per process, like an import
    t2 = time.perf_counter()
    baseline_kb = _status_kb("VmRSS")
    cpu0 = _cpu_s()
    with TempWatch() as spilled:
        result = workloads.WORKLOADS[name].run(db)
    t3 = time.perf_counter()
    cpu = _cpu_s() - cpu0
    peak_kb = _status_kb("VmHWM")
    if save:
        frame = result if isinstance(result, pl.DataFrame) else pl.from_pandas(result)
        frame.write_parquet(save)
    return {
        "workload": name,
        "load": os.getloadavg()[0],  # other processes on the machine: read with every figure
        "wall_s": t3 - t2,
        "cpu_s": cpu,
        "import_s": t1 - t0,
        "catalog_s": t2 - t1,
        "baseline_mb": baseline_kb / 1024,
        "peak_mb": peak_kb / 1024,
        "temp_mb": spilled.peak / 1024 / 1024,  # the most spilled to EGOV_TEMP_DIR at one time
    }


def child_interactive(db: str) -> dict[str, object]:
    """Cold: import, connect, first call in a new process. Warm: the same call again (median)."""
    t0 = time.perf_counter()
    from egov_metrics.engine import compute  # noqa: F401 - the import a planner's notebook makes
    from egov_metrics.schema import connect

    imported = time.perf_counter() - t0
    sys.path.insert(0, str(BENCH_DIR))
    import workloads  # it imports pandas too: not part of the import a planner makes

    t1 = time.perf_counter()
    con = connect(db, read_only=True)
    t2 = time.perf_counter()
    start = workloads.interactive_start(con)
    t3 = time.perf_counter()
    frame = workloads.interactive(con, start)
    t4 = time.perf_counter()
    warm_con, warm_path = [], []
    for _ in range(INTERACTIVE_WARM_CALLS):
        s = time.perf_counter()
        workloads.interactive(con, start)
        warm_con.append(time.perf_counter() - s)
    con.close()
    for _ in range(INTERACTIVE_WARM_CALLS):  # compute(db=path): opens and closes the file on every call
        s = time.perf_counter()
        workloads.interactive(db, start)
        warm_path.append(time.perf_counter() - s)
    return {
        "import_s": imported,
        "connect_s": t2 - t1,
        "first_call_s": t4 - t3,
        "warm_call_s": statistics.median(warm_con),
        "warm_call_with_connect_s": statistics.median(warm_path),
        "start": start.isoformat(),
        "rows": frame.height,
        "peak_mb": _status_kb("VmHWM") / 1024,
    }


# -- parent side -----------------------------------------------------------------------------------------------


def _newest_demo_code() -> float:
    """The newest modification time of anything the demo database is generated from."""
    pkg = ROOT / "egov_metrics"
    paths = [pkg / "demo.py", pkg / "calendar.py", pkg / "orgunits.py", pkg / "roadmap"]
    for folder in ("demo_sql", "demo_data", "reference", "roadmap_data", "schema"):
        paths.append(pkg / folder)
    newest = 0.0
    for p in paths:
        files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()] if p.exists() else []
        files = [f for f in files if "__pycache__" not in f.parts]
        newest = max([newest, *(f.stat().st_mtime for f in files)])
    return newest


def ensure_demo(size: int, cache: Path) -> Path:
    path = cache / f"demo_{size}.duckdb"
    if path.exists() and path.stat().st_mtime >= _newest_demo_code():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    print(f"building {path} ({size:,} dossiers, until {DEMO_UNTIL}) ...", flush=True)
    cli = Path(sys.executable).with_name("egov-metrics")
    cmd = [str(cli)] if cli.exists() else [sys.executable, "-m", "egov_metrics.cli"]
    subprocess.run(
        [
            *cmd,
            "demo",
            "--db",
            str(path),
            "--dossiers",
            str(size),
            "--seed",
            str(DEMO_SEED),
            "--until",
            DEMO_UNTIL,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return path


def _spawn(args: list[str]) -> dict[str, object]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args], check=False, capture_output=True, text=True
    )
    if done.returncode != 0:  # say why: the child's own error, not only its exit status
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise SystemExit(f"bench child {' '.join(args)} failed (exit {done.returncode}):\n{tail}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - started
    return out


def measure(db: Path, names: list[str], repeat: int, scratch: Path) -> tuple[dict[str, list[dict]], dict]:
    runs: dict[str, list[dict]] = {n: [] for n in names}
    saved: dict[str, Path] = {}
    for r in range(repeat):
        for name in names:
            save = scratch / f"{db.stem}_{name}.parquet" if r == 0 else None
            args = ["--child", name, "--db", str(db)] + (["--save", str(save)] if save else [])
            out = _spawn(args)
            runs[name].append(out)
            if save:
                saved[name] = save
            print(
                f"  {db.stem} {name:<16} run {r + 1}: {out['wall_s']:7.2f} s  {out['cpu_s']:7.2f} CPU-s  "
                f"{out['peak_mb']:7.0f} MB  spilled {out['temp_mb']:6.0f} MB  load {out['load']:.1f}",
                flush=True,
            )
    return runs, verify(saved)


def verify(saved: dict[str, Path]) -> dict[str, dict]:
    import polars as pl

    sys.path.insert(0, str(BENCH_DIR))
    import workloads

    checks = {}
    if "engine_core" in saved:
        engine = pl.read_parquet(saved["engine_core"])
        for other in ("handwritten", "pandas"):
            if other in saved:
                agreement = workloads.compare(engine, pl.read_parquet(saved[other]))
                print(f"  check engine_core vs {other}: {agreement}", flush=True)
                checks[other] = {**agreement.__dict__, "ok": agreement.ok}
    if "handwritten_wide" in saved:
        hand = pl.read_parquet(saved["handwritten_wide"])
        for mine in ("engine_wide", "engine_full"):
            if mine in saved:
                agreement = workloads.compare_wide(pl.read_parquet(saved[mine]), hand)
                print(f"  check {mine} vs handwritten_wide (19 dossier indicators): {agreement}", flush=True)
                checks[f"{mine}_vs_handwritten_wide"] = {**agreement.__dict__, "ok": agreement.ok}
    return checks


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(float(r[key]) for r in runs)


def summarise(size: int, runs: dict[str, list[dict]]) -> dict[str, dict[str, float]]:
    return {
        name: {
            "wall_s": _median(rs, "wall_s"),
            "cpu_s": _median(rs, "cpu_s"),
            "wall_min_s": min(float(r["wall_s"]) for r in rs),
            "wall_max_s": max(float(r["wall_s"]) for r in rs),
            "peak_mb": _median(rs, "peak_mb"),
            "temp_mb": statistics.median(float(r.get("temp_mb", 0.0)) for r in rs),
            "baseline_mb": _median(rs, "baseline_mb"),
            "setup_s": _median(rs, "import_s") + _median(rs, "catalog_s"),
            "load": _median(rs, "load"),
        }
        for name, rs in runs.items()
        if rs
    }


def table(results: dict[int, dict[str, dict[str, float]]]) -> str:
    """Markdown: medians, the wall-time range, and the ratios to the hand-written query and to pandas."""
    cols = [
        ("dossiers", 10),
        ("workload", 16),
        ("wall s", 7),
        ("(min–max)", 11),
        ("CPU s", 6),
        ("peak MB", 7),
        ("÷ hand wall", 11),
        ("÷ hand CPU", 10),
        ("÷ hand mem", 10),
        ("÷ pandas wall", 13),
        ("÷ pandas mem", 12),
        ("load", 5),
    ]
    lines = [
        "| " + " | ".join(f"{c:>{w}}" for c, w in cols) + " |",
        "|" + "|".join("-" * (w + 1) + ":" for _, w in cols) + "|",
    ]
    for size, by_name in results.items():
        pandas = by_name.get("pandas")
        for name, s in by_name.items():
            hand = by_name.get(REFERENCE.get(name, "handwritten"))

            def ratio(ref: dict | None, key: str, s: dict = s) -> str:
                return f"{s[key] / ref[key]:.2f}×" if ref else "–"

            cells = [
                f"{size:,}",
                name,
                f"{s['wall_s']:.2f}",
                f"{s['wall_min_s']:.2f}–{s['wall_max_s']:.2f}",
                f"{s['cpu_s']:.2f}",
                f"{s['peak_mb']:.0f}",
                ratio(hand, "wall_s"),
                ratio(hand, "cpu_s"),
                ratio(hand, "peak_mb"),
                ratio(pandas, "wall_s"),
                ratio(pandas, "peak_mb"),
                f"{s['load']:.1f}",
            ]
            lines.append("| " + " | ".join(f"{c:>{w}}" for c, (_, w) in zip(cells, cols, strict=True)) + " |")
    return "\n".join(lines)


def verdict(results: dict[int, dict[str, dict[str, float]]], interactive: dict | None) -> list[str]:
    out = []
    for size, s in results.items():
        for mine in ("engine_core", "engine_wide", "engine_full"):
            ref = REFERENCE[mine]
            if mine not in s or ref not in s:
                continue
            e, h = s[mine], s[ref]
            t, c, m = e["wall_s"] / h["wall_s"], e["cpu_s"] / h["cpu_s"], e["peak_mb"] / h["peak_mb"]
            if (
                mine == "engine_full"
            ):  # the whole catalog against the 19 dossier indicators: a scale, no target
                out.append(
                    f"{size:,}: {mine}/{ref} time {t:.2f}×, CPU {c:.2f}×, memory {m:.2f}× "
                    f"(the whole catalog against the wide set's 19 indicators: for scale, no target)"
                )
                continue
            line = (
                f"{size:,}: {mine}/{ref} time {t:.2f}× ({'met' if t <= TARGET_TIME else 'MISSED'}, "
                f"≤ {TARGET_TIME}×), CPU {c:.2f}×, memory {m:.2f}× "
                f"({'met' if m <= TARGET_MEMORY else 'MISSED'}, ≤ {TARGET_MEMORY}×)"
            )
            if mine == "engine_core" and "pandas" in s:
                p = s["pandas"]
                line += (
                    f", ahead of pandas: {'yes' if e['wall_s'] < p['wall_s'] else 'NO'} "
                    f"({p['wall_s'] / e['wall_s']:.1f}× faster, {p['peak_mb'] / e['peak_mb']:.1f}× less memory)"
                )
            out.append(line)
    if interactive:
        w = interactive["warm_call_s"]
        out.append(
            f"interactive: warm call {w * 1000:.0f} ms "
            f"({'met' if w <= TARGET_INTERACTIVE else 'MISSED'}, ≤ {TARGET_INTERACTIVE * 1000:.0f} ms)"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="dossier counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per workload and size (median shown)")
    parser.add_argument("--out", type=Path, help="JSON results file (default: bench/results/<time>.json)")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help="where the demo databases are kept")
    parser.add_argument(
        "--workloads",
        default=",".join(
            ["engine_core", "handwritten", "pandas", "engine_wide", "handwritten_wide", "engine_full"]
        ),
        help="comma-separated; engine_core, handwritten and pandas are the like-for-like set",
    )
    parser.add_argument("--interactive-size", type=int, default=INTERACTIVE_SIZE, help="0 skips it")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--save", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        out = (
            child_interactive(args.db)
            if args.child == "interactive"
            else child(args.child, args.db, args.save)
        )
        print(json.dumps(out))
        return 0

    sys.path.insert(0, str(BENCH_DIR))
    import workloads

    names = [n.strip() for n in args.workloads.split(",") if n.strip()]
    unknown = [n for n in names if n not in workloads.WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; known: {', '.join(workloads.WORKLOADS)}")
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    started = dt.datetime.now().astimezone()
    report: dict[str, object] = {
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "memory_env": {v: os.environ.get(v) for v in ("EGOV_MEMORY_LIMIT", "EGOV_TEMP_DIR")},
    }
    results: dict[int, dict[str, dict[str, float]]] = {}
    raw: dict[str, object] = {}
    checks: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="egov-bench-") as scratch:
        for size in sizes:
            db = ensure_demo(size, args.cache)
            print(f"{size:,} dossiers: {db}", flush=True)
            runs, checks[str(size)] = measure(db, names, args.repeat, Path(scratch))
            results[size] = summarise(size, runs)
            raw[str(size)] = runs
    interactive = None
    if args.interactive_size:
        db = ensure_demo(args.interactive_size, args.cache)
        cold = [_spawn(["--child", "interactive", "--db", str(db)]) for _ in range(args.repeat)]
        interactive = {
            k: statistics.median(float(c[k]) for c in cold)
            for k in (
                "import_s",
                "connect_s",
                "first_call_s",
                "warm_call_s",
                "warm_call_with_connect_s",
            )
        }
        interactive["cold_total_s"] = (
            interactive["import_s"] + interactive["connect_s"] + interactive["first_call_s"]
        )
        interactive.update(
            size=args.interactive_size, start=cold[0]["start"], unit=workloads.INTERACTIVE_UNIT
        )
    print()
    print(table(results))
    if interactive:
        print(
            f"\ninteractive ({args.interactive_size:,} dossiers, dossiers_on_time, unit {interactive['unit']}, "
            f"from {interactive['start']}, monthly, with comparisons): "
            f"warm call {interactive['warm_call_s'] * 1000:.0f} ms, warm call opening the file each time "
            f"{interactive['warm_call_with_connect_s'] * 1000:.0f} ms; cold process: import "
            f"{interactive['import_s'] * 1000:.0f} ms + connect {interactive['connect_s'] * 1000:.0f} ms + "
            f"first call {interactive['first_call_s'] * 1000:.0f} ms "
            f"= {interactive['cold_total_s']:.2f} s"
        )
    lines = verdict(results, interactive)
    print("\n" + "\n".join(lines))
    out = args.out or RESULTS_DIR / f"bench_{started:%Y%m%d_%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    report.update(
        sizes=sizes,
        repeat=args.repeat,
        medians={str(k): v for k, v in results.items()},
        runs=raw,
        checks=checks,
        interactive=interactive,
        verdict=lines,
        table=table(results),
    )
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\nresults: {out}")
    failed = [k for size in checks.values() for k, v in size.items() if not v["ok"]]  # type: ignore[union-attr]
    return 1 if failed else 0


def machine() -> dict[str, object]:
    import duckdb
    import numpy
    import pandas
    import polars

    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in ln
        ),
        platform.processor(),
    )
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "polars": polars.__version__,
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "os": platform.platform(),
    }


if __name__ == "__main__":
    sys.exit(main())
