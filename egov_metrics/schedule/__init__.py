"""Scheduled report generation: report jobs as data, what is due, catch-up, idempotence, one run at a time.

    jobs = load_jobs()                          # schedule_data/default.yaml, or load_jobs("my_jobs.yaml")
    p = plan(as_of="2026-03-05", db=…)          # every expected report: done, todo or waiting for data
    result = run(as_of=…, db=…, workers=2)      # render every todo report, oldest first; result.exit_code

A job (see docs/schedule.md) names a report kind, a cadence (every month / quarter / year, due on day N of the
month after the period), the units it covers (selectors such as `departments`, or explicit units), languages
and an optional `since`. Without `since` a job covers its last `DEFAULT_LOOKBACK` due periods, so a fresh
install does not backfill years of reports.

- An *instance* is one report: kind + parameters (without `db_path`). It is **done** when `manifest.json` has an
  entry with the same kind and parameters, the entry's file exists, and the data the report reads (up to
  its period's end or `as_of`) still has the fingerprint recorded with it (`egov_metrics.fingerprint`): a
  load that adds a month leaves the earlier months' reports done, a late correction to an earlier month
  makes that month's and the later months' reports todo again. The manifest is the state, so a report
  rendered by hand with the same parameters counts too.
- A period is rendered only once the data covers it: its last day is on or before the last day of the
  data's last full month (`sources.data_extent` of the dossiers). Until then its instances are **waiting**.
- `run()` holds an exclusive `flock` on `<out>/.schedule.lock` for the whole run. A second run started
  meanwhile waits up to `wait` seconds and then re-plans (finding nothing left to do), or returns at once
  saying which run is active. The kernel releases the lock when the process dies, so a killed run never
  blocks the next one.
- Reports render in parallel: `workers` threads, each driving its own kernel process through papermill's
  Python API (the work happens in the kernels; see docs/schedule.md for the measurements against worker
  processes). Killing the run kills the threads with it and the kernels exit with their parent, so no
  orphan keeps rendering once the lock is free. Each report is written atomically by `render_report`, so
  a killed run leaves no half-written HTML, manifest or state file. Each result is appended to
  `<out>/schedule.log` as one line; the last run's summary is kept in `<out>/schedule_state.json` (written
  atomically).

One module per step: `errors` (ScheduleError, JobsFileError), `periods` (periods, cadences, due dates),
`jobs` (the jobs file and its models), `checks` (units and planner files checked before a run), `planning`
(`plan`), `state` (lock, log, state file), `running` (`run`). A report kind places itself in a period
(`ReportKind.schedule_time`, egov_metrics/reports/kinds/).
"""

from __future__ import annotations

from egov_metrics.config import PACKAGE_DIR
from egov_metrics.schedule.checks import check_units
from egov_metrics.schedule.errors import JobsFileError, ScheduleError
from egov_metrics.schedule.jobs import DEFAULT_JOBS, SELECTORS, Job, JobsFile, Selector, check_jobs, load_jobs
from egov_metrics.schedule.periods import (
    DEFAULT_LOOKBACK,
    FREQUENCIES,
    MONTH_RE,
    PERIOD_LABELS,
    Cadence,
    Period,
    due_periods,
    next_due,
)
from egov_metrics.schedule.planning import Instance, JobFailure, Plan, Status, plan
from egov_metrics.schedule.running import (
    HUNG_AFTER,
    Outcome,
    RunResult,
    default_workers,
    run,
)
from egov_metrics.schedule.state import LOCK_FILE, LOG_FILE, STALE_TMP_SECONDS, STATE_FILE, RunLock

__all__ = [
    "DEFAULT_JOBS",
    "DEFAULT_LOOKBACK",
    "FREQUENCIES",
    "HUNG_AFTER",
    "LOCK_FILE",
    "LOG_FILE",
    "MONTH_RE",
    "PACKAGE_DIR",
    "PERIOD_LABELS",
    "SELECTORS",
    "STALE_TMP_SECONDS",
    "STATE_FILE",
    "Cadence",
    "Instance",
    "Job",
    "JobFailure",
    "JobsFile",
    "JobsFileError",
    "Outcome",
    "Period",
    "Plan",
    "RunLock",
    "RunResult",
    "ScheduleError",
    "Selector",
    "Status",
    "check_jobs",
    "check_units",
    "default_workers",
    "due_periods",
    "load_jobs",
    "next_due",
    "plan",
    "run",
]
