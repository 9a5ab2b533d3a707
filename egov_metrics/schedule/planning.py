"""Planning: every report the jobs expect up to a day, and whether it is done, todo or waiting for data."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
from pydantic import ValidationError

from egov_metrics.config import REPORTS_DIR, default_db_path
from egov_metrics.errors import EgovError
from egov_metrics.reports.kinds import ReportKind
from egov_metrics.schedule.errors import ScheduleError, one_line
from egov_metrics.schedule.jobs import SELECTORS, Job, load_jobs
from egov_metrics.schedule.periods import Period, as_date, check_since, due_periods

Status = Literal["done", "todo", "waiting"]


@dataclass(frozen=True)
class Instance:
    """One expected report: kind and parameters (JSON values, without db_path), and where it stands."""

    job: str
    kind: str
    params: tuple[tuple[str, Any], ...]
    period: Period
    due_on: dt.date
    status: Status

    @property
    def param_dict(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def key(self) -> str:
        return _key(self.kind, self.param_dict)

    def describe(self) -> str:
        shown = " ".join(f"{k}={v}" for k, v in self.params if v is not None)
        return f"{self.kind} {shown}"


@dataclass(frozen=True)
class JobFailure:
    """A job, or one unit entry of a job, that could not be planned (e.g. a unit the database does not know).

    `unit` is the entry that failed (its other units are still planned); None when the whole job failed."""

    job: str
    error: str
    unit: str | None = None
    kind: str | None = None

    def describe(self) -> str:
        return f"job {self.job}" + (f", unit {self.unit}" if self.unit else "")


@dataclass(frozen=True)
class Plan:
    as_of: dt.date
    data_through: dt.date
    instances: tuple[Instance, ...]
    failures: tuple[JobFailure, ...] = ()

    def by_status(self, status: Status) -> list[Instance]:
        return [i for i in self.instances if i.status == status]

    @property
    def todo(self) -> list[Instance]:
        """Due reports not yet made, oldest period first."""
        return self.by_status("todo")


def _key(kind: str, params: dict[str, Any]) -> str:
    return kind + json.dumps(params, sort_keys=True, ensure_ascii=False)


def _canonical(kind: ReportKind[Any], params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Parameters as the renderer records them in the manifest: validated, JSON values, no db_path."""
    dumped = kind.params.model_validate({**params, "db_path": "-"}).model_dump(mode="json")
    return tuple(sorted((k, v) for k, v in dumped.items() if k != "db_path"))


def _units(
    job: Job, con: duckdb.DuckDBPyConnection, day: dt.date
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """The `unit` parameters of one period ([{}] for kinds without units) and the entries that could not be
    resolved, as (entry, one-line reason): one unknown unit fails only its own reports."""
    from egov_metrics.orgunits import resolve_unit

    entries = job.unit_entries()
    if not entries:
        return [{}], []
    units: list[str | None] = []
    bad: list[tuple[str, str]] = []
    for entry in entries:
        selector = SELECTORS.get(entry)
        if selector:
            units += selector.select(con, day)
            continue
        try:
            units.append(resolve_unit(con, entry, as_of=day))
        except EgovError as exc:
            bad.append((entry, one_line(exc) + (f" ({exc.hint})" if exc.hint else "")))
    return [{"unit": u} for u in dict.fromkeys(units)], bad


def _data_bounds(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, dt.date]:
    """First data day and the last day of the data's last full month."""
    from egov_metrics.sources import CLOCK_SOURCE, data_extent

    extent = data_extent(con, CLOCK_SOURCE)
    if extent.first is None or extent.last_full_month_end is None:
        raise ScheduleError("the database holds no dossiers", "build the demo or ingest an export first")
    return extent.first, extent.last_full_month_end


def _done_keys(out_dir: Path, definitions: str) -> dict[str, str]:
    """Reports in the manifest whose file exists and that were made with these `definitions`
    (`render.definitions_fingerprint`: a planner's edit of an indicator or a target re-renders every report):
    key -> the fingerprint of the data they were made from. An entry without definitions was written by an
    earlier version, whose page may differ from today's: it is made again."""
    from egov_metrics.reports.render import read_manifest

    return {
        _key(e["kind"], e["params"]): e.get("data_view", "")
        for e in read_manifest(out_dir)
        if (out_dir / str(e["path"])).is_file() and e.get("definitions") == definitions
    }


def _is_current(made_from: str, horizon: dt.date | None, con: duckdb.DuckDBPyConnection, store: Path) -> bool:
    """Whether a made report still shows the data: the fingerprint of the data up to its horizon (the last
    day it reads, as its kind says: `ReportKind.horizon`) is the one it was made from
    (egov_metrics/fingerprint.py). A late change to an earlier month changes that month's and every later
    month's fingerprint; a new month changes none of the earlier ones."""
    from egov_metrics import fingerprint

    return made_from == fingerprint.view_fingerprint(con, horizon, store)


def _job_instances(
    job: Job,
    con: duckdb.DuckDBPyConnection,
    periods: list[Period],
    bounds: tuple[dt.date, dt.date],
    done: dict[str, str],
    unit_failures: dict[tuple[str, str], JobFailure],
    store: Path,
) -> list[Instance]:
    """The instances of one job over its due `periods`; units it cannot resolve go to `unit_failures`. The
    kind places each report in its period (`ReportKind.schedule_time`)."""
    kind = job.report_kind
    first_day, data_through = bounds
    found = []
    for period in periods:
        if period.end < first_day:
            continue  # before the data: nothing to report
        timing = kind.schedule_time(period, con)
        units, bad = _units(job, con, period.end)
        for entry, reason in bad:
            unit_failures.setdefault((job.id, entry), JobFailure(job.id, reason, entry, kind.name))
        for unit in units:
            for lang in job.languages:
                params = _canonical(kind, {**timing, **unit, "lang": lang})
                key = _key(kind.name, dict(params))
                status: Status = (
                    "done"
                    if key in done and _is_current(done[key], kind.horizon(dict(params)), con, store)
                    else "todo"
                    if period.end <= data_through
                    else "waiting"
                )
                found.append(Instance(job.id, kind.name, params, period, job.cadence.due_on(period), status))
    return found


def plan(
    as_of: str | dt.date | None = None,
    *,
    jobs: Sequence[Job] | str | Path | None = None,
    db: str | Path | None = None,
    out_dir: str | Path = REPORTS_DIR,
    since: str | None = None,
) -> Plan:
    """Every report the jobs expect up to `as_of` (default today) and whether it is done, todo or waiting.

    `since` (YYYY-MM) overrides every job's first period (a backfill). Reading is read-only: the database and
    the manifest. A job that cannot be planned becomes a JobFailure; the other jobs are planned. A report is
    done when it was made from today's data up to its horizon with today's definitions (the package's files).
    """
    from egov_metrics.cache import store_for
    from egov_metrics.reports.render import definitions_fingerprint
    from egov_metrics.schema import connect

    day = as_date(as_of)
    check_since(since)
    job_list = tuple(jobs) if isinstance(jobs, (list, tuple)) else load_jobs(jobs)  # type: ignore[arg-type]
    done = _done_keys(Path(out_dir), definitions_fingerprint())
    instances: dict[str, Instance] = {}
    failures: list[JobFailure] = []
    unit_failures: dict[tuple[str, str], JobFailure] = {}
    db_path = db if db is not None else default_db_path()
    store = store_for(db_path, out_dir)  # where the fingerprint's material is kept (egov_metrics/cache.py)
    with connect(db_path, read_only=True) as con:
        bounds = _data_bounds(con)
        for job in job_list:
            try:
                found = _job_instances(
                    job, con, due_periods(job, day, since), bounds, done, unit_failures, store
                )
            except (EgovError, ValidationError) as exc:
                failures.append(JobFailure(job.id, one_line(exc), kind=job.kind))
                continue
            for inst in found:
                instances.setdefault(inst.key, inst)  # two jobs asking for one report make it once
    order = {job.id: n for n, job in enumerate(job_list)}
    ordered = sorted(instances.values(), key=lambda i: (i.period.end, i.due_on, order[i.job]))
    return Plan(day, bounds[1], tuple(ordered), (*failures, *unit_failures.values()))
