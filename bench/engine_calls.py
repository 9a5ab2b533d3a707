"""Benchmark the progress report's engine calls with the narrow-request filter off and on, alternately in one
process (egov_metrics/engine: `request.NARROW`, `Shape.narrow`, `placement.rows_sql`). Not part of `make test`.

    .venv/bin/python bench/engine_calls.py --db /tmp/en/cache/demo_2000000.duckdb [--repeat 3] [--unit STP]

Builds `ProgressReport(db)` (its constructor asks the report's ten questions) `--repeat` times with the
filter off (`NARROW = 0`: only scoped requests are filtered, as before) and on (`NARROW = 1/8`), alternating;
each engine call is timed (wall and process CPU) by wrapping `egov_metrics.engine.api._run`. Prints the
medians per call, the totals, the load average, and whether every frame is the same both ways (exit 1 if
not).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a demo database (read only)")
    parser.add_argument("--repeat", type=int, default=3, help="reports built per mode (medians shown)")
    parser.add_argument("--unit", help="the report's unit (default: the province)")
    args = parser.parse_args(argv)

    import egov_metrics.engine.api as api
    import egov_metrics.engine.request as request
    from egov_metrics.reports.kinds.progress_report.page import ProgressReport

    calls: list[tuple[str, float, float, Any]] = []
    real = api._run

    def timed(db: Any, indicators: Any, kwargs: Any, execute: bool) -> Any:
        cpu, wall = time.process_time(), time.perf_counter()
        out = real(db, indicators, kwargs, execute)
        ids = list(indicators or ())
        label = (
            f"{ids[0] if ids else 'catalog'}{f' +{len(ids) - 1}' if len(ids) > 1 else ''} "
            f"by={','.join(kwargs.get('by', ())) or '-'} {kwargs.get('grain', 'month')} from {kwargs.get('start')}"
        )
        calls.append((label, time.perf_counter() - wall, time.process_time() - cpu, out[1]))
        return out

    api._run = timed  # type: ignore[assignment]
    modes = {"off": 0.0, "on": request.NARROW}
    runs: dict[str, list[tuple[float, float, list[tuple[str, float, float, Any]]]]] = {m: [] for m in modes}
    for _ in range(args.repeat):
        for mode, share in modes.items():
            request.NARROW = share
            calls.clear()
            cpu, wall = time.process_time(), time.perf_counter()
            ProgressReport(args.db, unit=args.unit)
            runs[mode].append((time.perf_counter() - wall, time.process_time() - cpu, list(calls)))
    api._run = real  # type: ignore[assignment]

    print(f"load average {os.getloadavg()[0]:.1f}; medians of {args.repeat}; filter off -> on")
    first = runs["off"][0][2]
    for i, (label, *_rest) in enumerate(first):
        off = [statistics.median(r[2][i][k] for r in runs["off"]) for k in (1, 2)]
        on = [statistics.median(r[2][i][k] for r in runs["on"]) for k in (1, 2)]
        print(f"{i:2d} CPU {off[1]:6.3f} -> {on[1]:6.3f} s  wall {off[0]:6.3f} -> {on[0]:6.3f} s  {label}")
    for mode in modes:
        total_cpu = statistics.median(sum(c[2] for c in r[2]) for r in runs[mode])
        total_wall = statistics.median(sum(c[1] for c in r[2]) for r in runs[mode])
        report_wall = statistics.median(r[0] for r in runs[mode])
        print(
            f"filter {mode}: engine calls {total_cpu:.2f} CPU-s, {total_wall:.2f} s; "
            f"ProgressReport() {report_wall:.2f} s"
        )
    same = all(
        a[3].equals(b[3], null_equal=True)
        for off_run, on_run in zip(runs["off"], runs["on"], strict=True)
        for a, b in zip(off_run[2], on_run[2], strict=True)
    )
    print("same frames both ways" if same else "DIFFERENT FRAMES")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
