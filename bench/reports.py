"""Benchmark report rendering on the default demo (`make bench` runs it after bench/run.py).

    .venv/bin/python bench/reports.py [--db bench/.cache/demo_2000000.duckdb] [--workers 2] [--repeat 1]
                                      [--one-repeat 3] [--period YYYY-MM] [--skip-set]
                                      [--out bench/results/reports.json]

Measures, into fresh temporary output folders:

1. one province progress report end to end, `egov-metrics report` in a new process (imports, parameter
   checks, the notebook run in that process, export, index), `--one-repeat` times (the median is judged
   against the target; the old kernel path `--repeat` times, for comparison);
2. where its time goes: the same path in a new process with timers around each phase (imports, parameter
   checks, data fingerprint, the notebook: queries = the report object's constructor, sections = the rest,
   of which vl-convert's chart rendering; HTML export; the landing page's figures, of which its 766 scores),
   paired with the same run without the chart helper process (`svgworker`, which `egov-metrics report`
   starts; alternating); and, for comparison, the old kernel path step by step, each in a new process: kernel start (an empty notebook through papermill),
   the report's imports, its queries, its charts and tables, the HTML export (`--skip-kernel` leaves it out);
3. the demo's report set (`egov_metrics/schedule_data/demo.yaml`: 30 reports) through the scheduler with
   `--workers` workers, three ways, paired in one run: a new kernel per report and no compute cache (how it
   was), warm kernels without the cache, and warm kernels with the cache (how it is now). The cache starts
   empty for each run.

The period (`--period`) defaults to the report's own default, the database's last complete month, as
`egov-metrics report progress_report` without parameters: the landing page shows that month, so its figures
share the report's computations; an earlier period shares none of them (~2 s more on the 2 M demo).

Every figure is a wall time; other processes on the machine change them, so the load average is recorded
with each, and CPU seconds (user + system, this process and its children) with the breakdown. Targets (issue 14): one progress report ≤ 4 s, the 30 reports ≤ 40 s on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEMO_JOBS = ROOT / "egov_metrics" / "schedule_data" / "demo.yaml"
MODES = ("cold", "warm", "warm+cache")

#: Step-by-step timing of one progress report, run in a new process (argv: db, period, what).
STEPS_SCRIPT = r"""
import json, sys, time, tempfile
from pathlib import Path
db, period, what = sys.argv[1], sys.argv[2] or None, sys.argv[3]
out = {}
if what == "kernel":
    import nbformat, papermill
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("pass")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        papermill.execute_notebook(nb, str(Path(tmp) / "x.ipynb"), kernel_name="python3", progress_bar=False)
        out["kernel_start_s"] = time.perf_counter() - t
else:
    t = time.perf_counter()
    from egov_metrics.reports.kinds.progress_report.page import ProgressReport
    out["imports_s"] = time.perf_counter() - t
    t = time.perf_counter()
    report = ProgressReport(db, period, None, "vi")
    out["queries_s"] = time.perf_counter() - t
    sections = ["style", "title", "summary", "kpis", "trends", "league", "backlog", "channel_mix",
                "digitization", "integration", "satisfaction", "data_quality", "appendix"]
    t = time.perf_counter()
    for name in sections:
        getattr(report, name)()
    out["charts_and_tables_s"] = time.perf_counter() - t
    # export: the executed notebook of a real render, exported again (nbconvert HTMLExporter)
    import nbformat
    from egov_metrics.reports.kinds import get_kind, validate_params
    from egov_metrics.reports.render import export_html
    t = time.perf_counter()
    import nbconvert  # noqa: F401
    out["export_imports_s"] = time.perf_counter() - t
    executed = nbformat.read(sys.argv[4], as_version=4)
    kind = get_kind("progress_report")
    params = validate_params(kind, {"db_path": db, **({"period": period} if period else {})})
    t = time.perf_counter()
    export_html(executed, kind, params, "fingerprint", "now")
    out["export_s"] = time.perf_counter() - t
print(json.dumps(out))
"""

#: One progress report end to end as `egov-metrics report` runs it (in-process notebook), in a new process,
#: with timers around each phase (argv: db, period, out, chart helper on/off). Phases nest: the notebook holds
#: queries and charts; the landing page's figures hold its 766 scores.
INPROCESS_SCRIPT = r"""
import json, os, sys, time
t0 = time.perf_counter()
c0 = os.times()
out = {}
from egov_metrics import svgworker
if sys.argv[4] == "on":
    svgworker.start()  # as `egov-metrics report` does, before its imports
import egov_metrics.cli  # what the CLI imports before it renders
from egov_metrics.reports import render
out["imports_s"] = time.perf_counter() - t0
db, period, folder, helper = sys.argv[1:5]
import vl_convert
from egov_metrics import charts, fingerprint
from egov_metrics.reports import frontpage
from egov_metrics.reports.kinds.progress_report import page as progress
spent = {}
def timed(owner, name, key):
    real = getattr(owner, name)
    def wrapper(*a, **k):
        t = time.perf_counter()
        try:
            return real(*a, **k)
        finally:
            spent[key] = spent.get(key, 0.0) + time.perf_counter() - t
    setattr(owner, name, wrapper)
from egov_metrics.reports.kinds import base as kinds_base
timed(kinds_base.ReportKind, "resolve_in", "parameter_checks_s")
timed(fingerprint, "compute_print", "fingerprint_s")
timed(render.papermill, "execute_notebook", "notebook_s")
timed(progress.ProgressReport, "__post_init__", "queries_s")  # the report object's constructor
timed(charts.vlc, "vegalite_to_svg", "charts_vl_convert_s")
timed(svgworker, "convert", "charts_vl_convert_s")  # the chart helper's answers (a refusal: both count)
timed(render, "export_html", "export_s")
timed(render, "cached_facts", "index_facts_s")
import egov_metrics.scoring
timed(egov_metrics.scoring, "score_units", "index_scores_s")  # the page module holds its own reference
t = time.perf_counter()
params = {"db_path": db, **({"period": period} if period else {})}
result = render.render_report("progress_report", params, out_dir=folder)
out["render_s"] = time.perf_counter() - t
out.update(spent)
out["sections_s"] = spent["notebook_s"] - spent["queries_s"]  # the section calls: tables and charts
out["total_s"] = time.perf_counter() - t0
c1 = os.times()
out["cpu_s"] = (c1.user - c0.user) + (c1.system - c0.system)
print(json.dumps(out))
"""

#: Runs the scheduler in-process in one of MODES (argv: mode, db, out, period, workers).
SET_SCRIPT = r"""
import json, os, sys, time
mode, db, out, period, workers = sys.argv[1:6]
from egov_metrics import schedule
from egov_metrics.reports import engine
if mode in ("cold", "warm"):  # no compute cache: not the fresh one this process was given either
    os.environ.pop("EGOV_COMPUTE_CACHE", None)
if mode == "cold":  # how it was: a new kernel per report, and the kernels see no compute cache
    from egov_metrics.reports import render
    engine.KernelPool.current = lambda self: None
    render.IN_PROCESS = False
elif mode == "warm":  # warm kernels, but no cache
    import egov_metrics.cache as cache
    cache.ENV_VAR = "EGOV_COMPUTE_CACHE_OFF"
t = time.perf_counter()
result = schedule.run(None, jobs=os.environ["EGOV_BENCH_JOBS"], db=db, out_dir=out, since=period,
                      workers=int(workers))
seconds = time.perf_counter() - t
per = sorted(o.seconds for o in result.outcomes)
print(json.dumps({"seconds": seconds, "reports": len(result.rendered), "failed": len(result.failed),
                  "per_report_median_s": per[len(per) // 2] if per else None}))
"""


def _load() -> float:
    return os.getloadavg()[0]


def _fresh_cache(folder: Path) -> dict[str, str]:
    """The environment of a measured process whose compute cache starts empty (`folder`, new): otherwise the
    cache beside the database (`cache.store_for`) would hold the answers of the measurements before it."""
    return {**os.environ, "EGOV_COMPUTE_CACHE": str(folder)}


def _python(script: str, *args: str, cache: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_fresh_cache(cache),
    )
    if done.returncode:
        sys.exit(f"bench step failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _timed(args: list[str], cache: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        args,
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_fresh_cache(cache),
    )
    return time.perf_counter() - started


#: `egov-metrics report` with the notebook in a new kernel (how it was), for a paired comparison.
KERNEL_CLI = r"""
import os, sys
os.environ["EGOV_CHART_WORKER"] = "0"  # the kernel draws the charts: no helper process for them
from egov_metrics.reports import render
render.IN_PROCESS = False
from egov_metrics.cli import app
sys.argv = ["egov-metrics", *sys.argv[1:]]
app()
"""


def one_report(db: str, period: str, tmp: Path, kernel: bool = False, cache: Path | None = None) -> dict:
    """`egov-metrics report progress_report` in a new process, into a new folder; nothing cached, unless
    `cache` names the compute cache of an earlier run on the same data (what the night's run leaves beside
    the database for a report asked the next day). On the kernel path the kernel sees the same fresh cache,
    so the landing page reuses the report's answers, which the old path (no cache in the kernel) did not."""
    out = tmp / ("one-kernel" if kernel else "one")
    load = _load()
    chosen = ["-p", f"period={period}"] if period else []  # default: the report's own (the last month)
    args = ["report", "progress_report", *chosen, "--db", db, "--out", str(out)]
    command = [sys.executable, "-c", KERNEL_CLI, *args] if kernel else [str(BIN / "egov-metrics"), *args]
    seconds = _timed(command, cache or tmp / ("cache-kernel" if kernel else "cache"))
    path = "kernel" if kernel else "in-process" if cache is None else "in-process, answers already computed"
    return {"seconds": seconds, "load": load, "path": path}


def breakdown(db: str, period: str, tmp: Path) -> dict:
    """Each step in a new process; the export re-exports a notebook executed by a real render."""
    import papermill

    executed = tmp / "executed.ipynb"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "progress_report.ipynb"),
        str(executed),
        parameters={"db_path": db, "period": period or "", "unit": None, "lang": "vi"},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(ROOT / "notebooks"),
    )
    load = _load()
    steps = _python(STEPS_SCRIPT, db, period, "kernel", cache=tmp / "cache-steps")
    steps.update(_python(STEPS_SCRIPT, db, period, "report", str(executed), cache=tmp / "cache-export"))
    steps["load"] = load
    return steps


def inprocess_breakdown(db: str, period: str, tmp: Path, helper: bool = True) -> dict:
    """The real single-report path (notebook in this process), phase by phase, in a new process; without
    the chart helper process (`svgworker`) if `helper` is False."""
    load = _load()
    steps = _python(
        INPROCESS_SCRIPT, db, period, str(tmp / "inprocess"), "on" if helper else "off", cache=tmp / "cache"
    )
    steps["load"] = load
    steps["chart_helper"] = helper
    return steps


def report_set(db: str, period: str, workers: int, tmp: Path, mode: str) -> dict:
    out = tmp / f"set-{mode.replace('+', '-')}"
    load = _load()
    env = {**_fresh_cache(out.parent / f"cache-{out.name}"), "EGOV_BENCH_JOBS": str(DEMO_JOBS)}
    done = subprocess.run(
        [sys.executable, "-c", SET_SCRIPT, mode, db, str(out), period, str(workers)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]
    sizes = sorted(int(r["size"]) for r in manifest)
    return {
        **result,
        "mode": mode,
        "load": load,
        "largest_mb": sizes[-1] / 1e6,
        "median_mb": sizes[len(sizes) // 2] / 1e6,
    }


def _latest_period(db: str) -> str:
    """The database's last complete month (the progress report's default period)."""
    from egov_metrics.reports.common import latest_period, open_db

    with open_db(db) as con:
        return latest_period(con)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=str(ROOT / "bench" / ".cache" / "demo_2000000.duckdb"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--period", default="", help="the progress report's month (default: its own, the last complete month)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement (median shown)")
    parser.add_argument(
        "--one-repeat",
        type=int,
        default=3,
        help="runs of the single report end to end (median shown; the target is judged on it): default 3",
    )
    parser.add_argument("--skip-set", action="store_true", help="only the one report and its breakdown")
    parser.add_argument(
        "--skip-kernel", action="store_true", help="no step-by-step breakdown of the kernel path"
    )
    parser.add_argument("--modes", default=",".join(MODES), help=f"report-set modes: {', '.join(MODES)}")
    parser.add_argument("--out", type=Path, help="JSON results (default: bench/results/reports-<time>.json)")
    opts = parser.parse_args()
    if not Path(opts.db).exists():
        sys.exit(f"{opts.db} is missing: run bench/run.py first (it builds the demo cache) or pass --db")
    db = str(Path(opts.db).resolve())
    results: dict[str, object] = {
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "db": db,
    }
    with tempfile.TemporaryDirectory(prefix="egov-bench-reports-") as scratch:
        tmp = Path(scratch)
        ones = []
        one_repeat = max(opts.one_repeat, opts.repeat)
        for i in range(one_repeat):  # paired: the in-process path, then the kernel path (once), alternately
            ones.append(one_report(db, opts.period, tmp / f"r{i}"))
            if not opts.skip_kernel and i < opts.repeat:
                ones.append(one_report(db, opts.period, tmp / f"r{i}", kernel=True))
        # a new folder, the answers of run r0 already computed (a report asked the morning after the night's run)
        for i in range(one_repeat):
            ones.append(one_report(db, opts.period, tmp / f"w{i}", cache=tmp / "r0" / "cache"))
        results["one_report"] = ones
        for path in ("in-process", "kernel", "in-process, answers already computed"):
            runs = [o for o in ones if o["path"] == path]
            if runs:
                one = statistics.median(o["seconds"] for o in runs)
                each = ", ".join(f"{o['seconds']:.1f}" for o in runs)
                target = (  # `egov-metrics report` runs in process; the kernel path is how it was
                    "the old path, for comparison"
                    if path == "kernel"
                    else f"target ≤ 4 s: {'met' if round(one, 2) <= 4.0 else 'MISSED'}"
                )
                print(f"one province progress report, end to end (new process, {path}): {one:.1f} s "
                      f"({target}); runs {each}; "
                      f"load {runs[0]['load']:.1f}", flush=True)  # fmt: skip
        here = []
        for i in range(opts.repeat):  # paired: with and without the chart helper process, alternately
            for helper in (True, False) if i % 2 == 0 else (False, True):
                steps = inprocess_breakdown(db, opts.period, tmp / f"i{i}-{helper}", helper)
                here.append(steps)
                shown = ", ".join(f"{k} {v:.2f}" for k, v in steps.items() if isinstance(v, float))
                label = "" if helper else " (chart helper off)"
                print(f"  in-process breakdown{label}: {shown}", flush=True)
        results["inprocess_breakdown"] = here
        if not opts.skip_kernel:
            steps = breakdown(db, opts.period, tmp)
            results["breakdown"] = steps
            print(
                "  kernel breakdown (as before): " + ", ".join(f"{k} {v:.2f}" for k, v in steps.items()),
                flush=True,
            )
        if not opts.skip_set:
            since = opts.period or _latest_period(db)  # the set's month: the same as the one report's
            results["since"] = since
            sets = []
            for r in range(opts.repeat):
                for mode in [m.strip() for m in opts.modes.split(",") if m.strip()]:
                    s = report_set(db, since, opts.workers, tmp / f"s{r}", mode)
                    sets.append(s)
                    print(f"  demo set ({mode}): {s['reports']} reports, {s['failed']} failed, {s['seconds']:.1f} s "
                          f"with {opts.workers} workers (median report {s['per_report_median_s']:.1f} s); "
                          f"load {s['load']:.1f}; HTML largest {s['largest_mb']:.2f} MB", flush=True)  # fmt: skip
            results["report_set"] = sets
    out = opts.out or ROOT / "bench" / "results" / f"reports-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
