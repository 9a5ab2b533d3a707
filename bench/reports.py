"""Benchmark report rendering on the default demo (`make bench` runs it after bench/run.py).

    .venv/bin/python bench/reports.py [--db bench/.cache/demo_2000000.duckdb] [--workers 2]

Measures, into a fresh temporary output folder: (1) one province progress report end to end
(`egov-metrics report` in a new process: imports, parameter checks, papermill, export, index); (2) the full
monthly set — the province's progress report and one for every department — through the scheduler with
`--workers` kernels at once; and prints each report's HTML size. Targets (issue): one report < 10 s, the
monthly set < 60 s on 2 cores, each file < 2 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
JOBS = """jobs:
  - id: progress-province
    kind: progress_report
    cadence: {every: month, day: 1}
    units: province
  - id: progress-departments
    kind: progress_report
    cadence: {every: month, day: 1}
    units: departments
"""


def _run(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default=str(ROOT / "bench" / ".cache" / "demo_2000000.duckdb"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--period", default="2026-10")
    opts = parser.parse_args()
    if not Path(opts.db).exists():
        sys.exit(f"{opts.db} is missing: run bench/run.py first (it builds the demo cache) or pass --db")
    with tempfile.TemporaryDirectory(prefix="egov-bench-reports-") as tmp:
        out = Path(tmp) / "one"
        one = _run([str(BIN / "egov-metrics"), "report", "progress_report", "-p", f"period={opts.period}",
                    "--db", opts.db, "--out", str(out)])  # fmt: skip
        jobs = Path(tmp) / "jobs.yaml"
        jobs.write_text(JOBS, encoding="utf-8")
        out_set = Path(tmp) / "set"
        full = _run([str(BIN / "egov-metrics"), "schedule", "run", "--quiet", "--jobs", str(jobs), "--db", opts.db,
                     "--out", str(out_set), "--since", opts.period, "--workers", str(opts.workers)])  # fmt: skip
        manifest = json.loads((out_set / "manifest.json").read_text(encoding="utf-8"))["reports"]
        sizes = sorted((int(r["size"]) for r in manifest), reverse=True)
        print(f"one province progress report, end to end: {one:.1f} s (target < 10 s)")
        print(f"monthly set, {len(manifest)} progress reports with {opts.workers} workers: {full:.1f} s (target < 60 s)")
        print(f"HTML size: largest {sizes[0] / 1e6:.2f} MB, median {sizes[len(sizes) // 2] / 1e6:.2f} MB (target < 2 MB)")


if __name__ == "__main__":
    main()
