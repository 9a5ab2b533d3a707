"""Benchmark: what atomic publishing costs an ingest, and how long a reader waits during one.

    .venv/bin/python bench/publish.py [--sizes 2000000,10000000] [--repeat 3] [--out bench/results/publish.json]

Every ingest (and `calendar load`) writes into a copy of the database and `os.replace()`s it over the old file
(`egov_metrics/schema/publish.py`), so that reports and notebooks never wait. For each demo size (the same
cached demo databases as bench/run.py, built when missing) this measures, on a fresh copy of the database
each time (the copy for the run is not timed):

- `in_place`: the 50-row one-stop sample loaded the old way, in one transaction on the file itself
  (readers locked out meanwhile);
- `published`: the same load through `ingest_file` (copy, load, checkpoint, fsync, rename);
- `publish_only`: `publishing()` with nothing written: the pure overhead (copy + checkpoint + rename);
- `reader_open`: while a `published` load of a 300,000-row file runs in another process, the time for a
  reader to open the database read-only and count the dossiers (it reads the previous state).

Wall seconds, medians of `--repeat` runs; the file size is printed beside them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from run import CACHE_DIR, ensure_demo, machine  # noqa: E402

from egov_metrics.ingest import load as load_mod  # noqa: E402
from egov_metrics.ingest import resolve_mapping, sql  # noqa: E402
from egov_metrics.ingest.kinds import get_kind  # noqa: E402
from egov_metrics.ingest.readers import read_source  # noqa: E402
from egov_metrics.schema import connect  # noqa: E402
from egov_metrics.schema.publish import publishing  # noqa: E402

SAMPLE = ROOT / "data" / "samples" / "dossiers_one_stop.csv"

_LOADER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from egov_metrics.ingest import ingest_file
    print("START", flush=True)
    ingest_file(Path(sys.argv[1]), "dossier", Path(sys.argv[2]), progress=False)
    print("DONE", flush=True)
    """
)


def _in_place(db: Path) -> float:
    """The load as it was before publishing: one transaction on the file itself."""
    started = time.perf_counter()
    kind = get_kind("dossier")
    mapping = resolve_mapping(kind)
    source = read_source(SAMPLE, load_mod._known_headers(mapping), mapping.header_row, None)
    plan = sql.plan_columns(kind, mapping, source.headers, SAMPLE)
    con = connect(db, read_only=False)
    try:
        load_mod._load(con, plan, source, load_mod._sha256(SAMPLE), load_mod._Feedback())
    finally:
        con.close()
    return time.perf_counter() - started


def _published(db: Path) -> float:
    started = time.perf_counter()
    load_mod.ingest_file(db, "dossier", SAMPLE, progress=False)
    return time.perf_counter() - started


def _publish_only(db: Path) -> float:
    started = time.perf_counter()
    with publishing(db, "bench"):
        pass
    return time.perf_counter() - started


def _big_file(path: Path, rows: int) -> Path:
    with duckdb.connect() as con:
        con.execute(
            f"""COPY (SELECT 'BENCH-' || i AS "Mã hồ sơ", '1.002175' AS "Mã TTHC", 'STP' AS "Đơn vị",
                        'Trực tuyến' AS "Hình thức nộp", '10/03/2025 08:00' AS "Ngày tiếp nhận",
                        'Đang xử lý' AS "Trạng thái" FROM range({rows}) t(i)) TO '{path}' (HEADER)"""
        )
    return path


def _reader_open(db: Path, big: Path) -> tuple[list[float], float]:
    """Open-and-count times of a reader while a large published load runs in another process, and how long
    that load took."""
    child = subprocess.Popen(
        [sys.executable, "-c", _LOADER, str(db), str(big)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "START"
    started = time.perf_counter()
    times = []
    try:
        while child.poll() is None and len(times) < 200:
            t0 = time.perf_counter()
            with connect(db, read_only=True, wait_seconds=0) as con:
                con.sql("SELECT count(*) FROM dossier").fetchall()
            times.append(time.perf_counter() - t0)
            time.sleep(0.05)
        if child.wait(600) != 0:
            raise RuntimeError("the load under measurement failed")
        load_seconds = time.perf_counter() - started
    finally:
        if child.poll() is None:
            child.kill()
    return times, load_seconds


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="2000000,10000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "publish.json")
    args = parser.parse_args()
    results: dict[str, object] = {"machine": machine(), "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="egov-bench-publish-", dir=ROOT / "bench") as tmp:
        scratch = Path(tmp)
        big = _big_file(scratch / "big.csv", 300_000)
        for size in (int(s) for s in args.sizes.split(",")):
            cached = ensure_demo(size, CACHE_DIR)
            runs: dict[str, list[float]] = {"in_place": [], "published": [], "publish_only": []}
            for _ in range(args.repeat):
                for name, fn in (
                    ("in_place", _in_place),
                    ("published", _published),
                    ("publish_only", _publish_only),
                ):
                    db = scratch / "egov.duckdb"
                    shutil.copyfile(cached, db)
                    runs[name].append(fn(db))
            db = scratch / "egov.duckdb"
            shutil.copyfile(cached, db)
            opens, load_seconds = _reader_open(db, big)
            row = {name: round(statistics.median(v), 2) for name, v in runs.items()}
            row |= {
                "file_mb": round(cached.stat().st_size / 2**20),
                "reader_open_median_ms": round(statistics.median(opens) * 1000, 1),
                "reader_open_max_ms": round(max(opens) * 1000, 1),
                "reader_opens": len(opens),
                "load_300k_seconds": round(load_seconds, 1),
                "runs": runs,
            }
            results["sizes"][str(size)] = row  # type: ignore[index]
            print(
                f"{size:>11,} dossiers  file {row['file_mb']:>5,} MB  in place {row['in_place']:6.2f} s  "
                f"published {row['published']:6.2f} s  publish only {row['publish_only']:6.2f} s  "
                f"reader open during a load: median {row['reader_open_median_ms']} ms, "
                f"max {row['reader_open_max_ms']} ms ({len(opens)} opens during a {load_seconds:.1f} s load)",
                flush=True,
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
