"""Benchmark the planner's workbench: how long a planner waits for the explorer, Excel and what-if.

    .venv/bin/python bench/workbench.py --db /tmp/demo.duckdb [--repeat 3]

Measures, on an existing demo database (best of `--repeat` runs, after one warm-up): the explorer's `view()`
for typical picker choices (what one picker change costs, without the browser), `write_excel` of a
department × month table (long and wide), and `what_if` for one unit and for every department. Prints one line
per measurement.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def best(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from egov_metrics.engine import compute
    from egov_metrics.excel import write_excel
    from egov_metrics.explorer import Selection, view
    from egov_metrics.whatif import what_if

    db, n = args.db, args.repeat
    choices = {
        "explorer: one indicator, province, by month (this year)": Selection(),
        "explorer: two indicators by quarter since 2025": Selection(
            indicators=("online_share", "fully_online_dossiers"), grain="quarter", start="2025-Q1"
        ),
        "explorer: by department, by month since 2025": Selection(
            dimension="unit:department", start="2025-01"
        ),
        "explorer: by commune, by quarter": Selection(dimension="unit:commune", grain="quarter"),
        "explorer: p90 by field, one department, by year": Selection(
            indicators=("processing_days_p90",), dimension="field", grain="year", scope="Sở Tư pháp"
        ),
        "explorer: by procedure (chart of the 20 largest)": Selection(dimension="procedure", grain="year"),
    }
    for label, selection in choices.items():
        print(f"{label}: {best(lambda s=selection: view(s, db), n):.2f} s")
    frame = compute(["online_share", "dossiers_on_time", "processing_days_p90", "dossiers_received"],
                    by=["unit"], level="department", grain="month", start="2025-01", names=True, db=db)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for layout in ("long", "wide"):
            seconds = best(lambda layout=layout: write_excel(frame, Path(tmp) / "x.xlsx", layout=layout), n)
            size = (Path(tmp) / "x.xlsx").stat().st_size
            print(f"write_excel {layout}, {frame.height:,} rows: {seconds:.2f} s, {size / 1024:,.0f} KB")
    one = {"unit": "Sở Tư pháp", "indicator": "dossiers_on_time", "rate": 99}
    print(
        f"what_if, one unit (departments and communes scored): {best(lambda: what_if(one, db=db), n):.2f} s"
    )
    every = {"indicator": "dossiers_digitized", "rate_change": 20}
    seconds = best(lambda: what_if(every, db=db, levels=("department",)), n)
    print(f"what_if, every department: {seconds:.2f} s")


if __name__ == "__main__":
    main()
