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
  data's last full month (`max(received_at)` of `dossier`). Until then its instances are **waiting**.
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
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import duckdb
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from egov_metrics.config import PACKAGE_DIR, REPORTS_DIR, default_db_path
from egov_metrics.errors import EgovError, UnknownNameError
from egov_metrics.reports.kinds import REPORT_KINDS, ReportKind
from egov_metrics.yamlutil import Problem, format_validation_error, line_of, load_yaml_with_lines

if TYPE_CHECKING:
    from egov_metrics.reports.engine import KernelPool

DEFAULT_JOBS = PACKAGE_DIR / "schedule_data" / "default.yaml"
#: Without `since`, a job covers this many of its most recent due periods.
DEFAULT_LOOKBACK = 3
LOCK_FILE = ".schedule.lock"
LOG_FILE = "schedule.log"
STATE_FILE = "schedule_state.json"
#: Where a run's kernels keep their computations, per data fingerprint (see egov_metrics/cache.py).
COMPUTE_CACHE_DIR = ".cache/compute"
#: A run holding the lock for longer than this is reported as probably hung (exit code 1).
HUNG_AFTER = dt.timedelta(hours=12)
#: Temporary files of `render_report` older than this are leftovers of a killed render and are removed.
STALE_TMP_SECONDS = 3600

Status = Literal["done", "todo", "waiting"]
MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"


class ScheduleError(EgovError):
    """The jobs file has problems, or a schedule cannot be planned at all."""


class JobsFileError(ScheduleError):
    """The jobs file has problems; `problems` holds every one with file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        listed = "\n".join(str(p) for p in problems)
        super().__init__(
            f"{len(problems)} problem(s) in the jobs file:\n{listed}",
            "fix the lines named above; `egov-metrics schedule check FILE` lists them again",
        )


# -- periods and cadences -------------------------------------------------------------------------------

#: Cadence name -> months per period. Periods are aligned on the calendar year (quarters start in Jan, Apr…).
FREQUENCIES: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}
#: Months per period -> how a period starting on a date is written (2026-02, 2026-Q1, 2026).
PERIOD_LABELS: dict[int, Callable[[dt.date], str]] = {
    1: lambda d: f"{d:%Y-%m}",
    3: lambda d: f"{d.year}-Q{(d.month - 1) // 3 + 1}",
    12: lambda d: f"{d.year}",
}


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    """One reporting period: `months` long, number `index` counted from year 0 in periods of that length."""

    months: int
    index: int

    @classmethod
    def containing(cls, months: int, day: dt.date) -> Period:
        return cls(months, _month_index(day) // months)

    @property
    def start(self) -> dt.date:
        return _month_start(self.index * self.months)

    @property
    def end(self) -> dt.date:
        return self.shift(1).start - dt.timedelta(days=1)

    def shift(self, n: int) -> Period:
        return Period(self.months, self.index + n)

    @property
    def label(self) -> str:
        return PERIOD_LABELS[self.months](self.start)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Cadence(Frozen):
    """`every` month/quarter/year; the report for a period is due on `day` of the month after it ends."""

    every: Literal["month", "quarter", "year"]
    day: Annotated[int, Field(ge=1, le=28, description="day of the month (1–28, so every month has it)")]

    @property
    def months(self) -> int:
        return FREQUENCIES[self.every]

    def due_on(self, period: Period) -> dt.date:
        return period.shift(1).start.replace(day=self.day)

    def last_due(self, as_of: dt.date) -> Period:
        """The most recent period whose report is due on or before `as_of`."""
        period = Period.containing(self.months, as_of).shift(-1)
        while self.due_on(period) > as_of:
            period = period.shift(-1)
        return period

    def describe(self) -> str:
        return f"every {self.every}, day {self.day}"


# -- jobs -------------------------------------------------------------------------------------------------


def _level_selector(level: str) -> Callable[[duckdb.DuckDBPyConnection, dt.date], list[str | None]]:
    def select(con: duckdb.DuckDBPyConnection, day: dt.date) -> list[str | None]:
        rows = con.sql(
            "SELECT id FROM org_unit WHERE level = ? AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?) "
            "ORDER BY id",
            params=[level, day, day],
        ).fetchall()
        return [r[0] for r in rows]

    return select


@dataclass(frozen=True)
class Selector:
    """A named set of units, evaluated at the period's last day. `level` is the org-unit level it yields."""

    level: str
    select: Callable[[duckdb.DuckDBPyConnection, dt.date], list[str | None]]


#: Unit selectors a job may name in `units`; anything else in `units` is a unit (id, code or name).
#: `province` gives no `unit` parameter at all: the report's own default, the whole province.
SELECTORS: dict[str, Selector] = {
    "province": Selector("province", lambda con, day: [None]),
    "departments": Selector("department", _level_selector("department")),
    "districts": Selector("district", _level_selector("district")),
    "communes": Selector("commune", _level_selector("commune")),
}


class Job(Frozen):
    """One kind of report made on a cadence for a set of units and languages."""

    id: str
    kind: str
    cadence: Cadence
    units: tuple[str, ...] | None = None
    languages: Annotated[tuple[Literal["vi", "en"], ...], Field(min_length=1)] = ("vi",)
    since: str | None = None

    @field_validator("id")
    @classmethod
    def _id_form(cls, v: str) -> str:
        if not re.match(r"^[a-z0-9][a-z0-9_-]*$", v):
            raise ValueError(
                f"a job id is lower-case letters, digits, '-' and '_', e.g. progress-province (got {v!r})"
            )
        return v

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        if v not in REPORT_KINDS:
            err = UnknownNameError.from_choices("report kind", v, REPORT_KINDS)
            raise ValueError(f"{err.message} ({err.hint})")
        return v

    @field_validator("units", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v

    @field_validator("units")
    @classmethod
    def _units_fit_kind(cls, v: tuple[str, ...] | None, info: ValidationInfo) -> tuple[str, ...] | None:
        kind = REPORT_KINDS.get(info.data.get("kind", ""))
        if v is None or kind is None:
            return v
        if "unit" not in kind.params.model_fields:
            raise ValueError(f"{kind.name} has no unit parameter (it covers the province): remove 'units'")
        if not v:
            raise ValueError("list at least one selector or unit")
        for name in v:
            selector = SELECTORS.get(name)
            if selector and kind.unit_levels and selector.level not in kind.unit_levels:
                raise ValueError(
                    f"{kind.name} takes units of level {' or '.join(kind.unit_levels)}; {name!r} selects "
                    f"{selector.level} units"
                )
        if len(set(v)) != len(v):
            raise ValueError("an entry is listed twice")
        return v

    @field_validator("languages")
    @classmethod
    def _unique_languages(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError("a language is listed twice")
        return v

    @field_validator("since", mode="before")
    @classmethod
    def _month(cls, v: object) -> object:
        if isinstance(v, dt.date):
            raise ValueError(f"since is a month: write {v:%Y-%m}, not a date")
        if v is not None and not (isinstance(v, str) and re.match(MONTH_RE, v)):
            raise ValueError(f"since is a month written YYYY-MM, e.g. 2025-10 (got {v!r})")
        return v

    @model_validator(mode="after")
    def _units_given(self) -> Job:
        kind = REPORT_KINDS[self.kind]
        if (
            self.units is None
            and "unit" in kind.params.model_fields
            and kind.params.model_fields["unit"].is_required()
        ):
            raise ValueError(
                f"{kind.name} needs 'units' (one of {', '.join(SELECTORS)} or a list of units), e.g. "
                "units: [departments, communes]"
            )
        return self

    @property
    def report_kind(self) -> ReportKind:
        return REPORT_KINDS[self.kind]

    def unit_entries(self) -> tuple[str, ...]:
        """The selectors and units of the job; the province when the job names none and the kind allows it."""
        if "unit" not in self.report_kind.params.model_fields:
            return ()
        return self.units or ("province",)


class JobsFile(Frozen):
    jobs: tuple[Job, ...]

    @field_validator("jobs")
    @classmethod
    def _some(cls, v: tuple[Job, ...]) -> tuple[Job, ...]:
        if not v:
            raise ValueError("list at least one job")
        return v


def _duplicate_ids(data: dict[str, Any], path: Path, lines: dict[tuple, int]) -> list[Problem]:
    seen: dict[str, int] = {}
    problems = []
    for i, job in enumerate(data.get("jobs") or []):
        job_id = job.get("id") if isinstance(job, dict) else None
        if not isinstance(job_id, str):
            continue
        line = line_of(lines, ("jobs", i, "id"))
        if job_id in seen:
            problems.append(
                Problem(
                    path,
                    line,
                    f"jobs.{i}.id",
                    f"job id {job_id!r} is used again (first on line {seen[job_id]})",
                )
            )
        seen.setdefault(job_id, line)
    return problems


def check_jobs(path: str | Path | None = None) -> tuple[tuple[Job, ...], list[Problem]]:
    """The jobs of a jobs file (the shipped one by default) and every problem, each with file and line."""
    path = Path(path) if path else DEFAULT_JOBS
    data, lines, problems = load_yaml_with_lines(path)
    if problems:
        return (), problems
    if not isinstance(data, dict):
        return (), [Problem(path, 1, "", "a jobs file is a mapping with one key, jobs: (a list of jobs)")]
    problems = _duplicate_ids(data, path, lines)
    try:
        jobs = JobsFile.model_validate(data).jobs
    except ValidationError as exc:
        problems = sorted([*format_validation_error(exc, path, lines), *problems], key=lambda p: p.line)
        return (), problems
    return (jobs, problems) if not problems else ((), problems)


def load_jobs(path: str | Path | None = None) -> tuple[Job, ...]:
    """The validated jobs; raises JobsFileError listing every problem with file and line."""
    jobs, problems = check_jobs(path)
    if problems:
        raise JobsFileError(problems)
    return jobs


# -- planning ---------------------------------------------------------------------------------------------


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


def _canonical(kind: ReportKind, params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Parameters as the renderer records them in the manifest: validated, JSON values, no db_path."""
    dumped = kind.params.model_validate({**params, "db_path": "-"}).model_dump(mode="json")
    return tuple(sorted((k, v) for k, v in dumped.items() if k != "db_path"))


def _phase_at(con: duckdb.DuckDBPyConnection, day: dt.date) -> str:
    """The roadmap phase containing `day`: the latest one started on or before it (else the first)."""
    rows = con.sql(
        "SELECT id FROM roadmap_phase ORDER BY (start_date <= ?) DESC, "
        "CASE WHEN start_date <= ? THEN start_date END DESC, start_date LIMIT 1",
        params=[day, day],
    ).fetchall()
    if not rows:
        raise ScheduleError(
            "the database has no roadmap phases (table roadmap_phase is empty)",
            "write the roadmap into the database (egov_metrics.roadmap.write_roadmap_tables) first",
        )
    return rows[0][0]


def _time_period(kind: ReportKind, period: Period, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    return {"period": f"{period.end:%Y-%m}"}


def _time_as_of(kind: ReportKind, period: Period, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    params: dict[str, Any] = {"as_of": period.end}
    if "phase" in kind.params.model_fields:
        params["phase"] = _phase_at(con, period.end)
    return params


#: The parameter that places a report kind in time -> the parameters for one period. A month parameter
#: (`period`) gets the period's last month (a quarterly progress report is the report of the quarter's last
#: month); a date parameter (`as_of`) gets the period's last day, and `phase` the roadmap phase holding it.
TIME_PARAMETERS: dict[str, Callable[[ReportKind, Period, duckdb.DuckDBPyConnection], dict[str, Any]]] = {
    "period": _time_period,
    "as_of": _time_as_of,
}


def _time_parameter(
    kind: ReportKind,
) -> Callable[[ReportKind, Period, duckdb.DuckDBPyConnection], dict[str, Any]]:
    for name, make in TIME_PARAMETERS.items():
        if name in kind.params.model_fields:
            return make
    raise ScheduleError(
        f"report kind {kind.name} has no time parameter", f"known: {', '.join(TIME_PARAMETERS)}"
    )


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
            bad.append((entry, _one_line(exc) + (f" ({exc.hint})" if exc.hint else "")))
    return [{"unit": u} for u in dict.fromkeys(units)], bad


def check_units(
    jobs: Sequence[Job], db: str | Path | None = None, path: str | Path | None = None
) -> list[Problem]:
    """Every explicit unit of the jobs that the database does not know, with file, line and "did you mean"."""
    from egov_metrics.orgunits import resolve_unit
    from egov_metrics.schema import connect

    path = Path(path) if path else DEFAULT_JOBS
    lines: dict[tuple, int] = {}
    with contextlib.suppress(Exception):
        _, lines, _ = load_yaml_with_lines(path)
    problems = []
    with connect(db if db is not None else default_db_path(), read_only=True) as con:
        for i, job in enumerate(jobs):
            for j, entry in enumerate(job.units or ()):
                if entry in SELECTORS:
                    continue
                try:
                    resolve_unit(con, entry)
                except EgovError as exc:
                    line = line_of(lines, ("jobs", i, "units", j))
                    problems.append(
                        Problem(path, line, f"jobs.{i}.units", f"{exc.message} in job {job.id!r}; {exc.hint}")
                    )
    return problems


def due_periods(job: Job, as_of: str | dt.date | None = None, since: str | None = None) -> list[Period]:
    """The job's periods due on or before `as_of`, oldest first: from `since` (this argument, else the job's,
    else the last DEFAULT_LOOKBACK periods) to the latest period whose due date has come."""
    as_of = _as_date(as_of)
    last = job.cadence.last_due(as_of)
    first_month = since or job.since
    if first_month:
        first = Period.containing(job.cadence.months, dt.date.fromisoformat(first_month + "-01"))
    else:
        first = last.shift(1 - DEFAULT_LOOKBACK)
    return [first.shift(n) for n in range(last.index - first.index + 1)]


def _data_bounds(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, dt.date]:
    """First data day and the last day of the data's last full month."""
    first, last = con.sql(
        "SELECT min(CAST(received_at AS DATE)), max(CAST(received_at AS DATE)) FROM dossier"
    ).fetchall()[0]
    if last is None:
        raise ScheduleError("the database holds no dossiers", "build the demo or ingest an export first")
    if (last + dt.timedelta(days=1)).month == last.month:  # not a month's last day: that month is not full
        last = last.replace(day=1) - dt.timedelta(days=1)
    return first, last


def _done_keys(out_dir: Path) -> dict[str, str]:
    """Reports in the manifest whose file exists: key -> the fingerprint of the data they were made from
    ("" for an entry written before fingerprints were recorded: taken as up to date)."""
    from egov_metrics.reports.render import read_manifest

    return {
        _key(e["kind"], e["params"]): e.get("data_view", "")
        for e in read_manifest(out_dir)
        if (out_dir / str(e["path"])).is_file()
    }


def _is_current(
    made_from: str, params: dict[str, Any], con: duckdb.DuckDBPyConnection, out_dir: Path
) -> bool:
    """Whether a made report still shows the data: the fingerprint of the data up to its horizon is the one
    it was made from (egov_metrics/fingerprint.py). A late change to an earlier month changes that month's
    and every later month's fingerprint; a new month changes none of the earlier ones."""
    from egov_metrics import fingerprint

    if not made_from:
        return True
    return made_from == fingerprint.view_fingerprint(
        con, fingerprint.horizon(params), out_dir / COMPUTE_CACHE_DIR
    )


def _as_date(value: str | dt.date | None) -> dt.date:
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ScheduleError(
            f"as_of {value!r} is not a date", "write it as YYYY-MM-DD, e.g. 2026-03-05"
        ) from None


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
    the manifest. A job that cannot be planned becomes a JobFailure; the other jobs are planned.
    """
    from egov_metrics.schema import connect

    day = _as_date(as_of)
    if since is not None and not re.match(MONTH_RE, since):
        raise ScheduleError(f"since {since!r} is not a month", "write it as YYYY-MM, e.g. 2025-10")
    job_list = tuple(jobs) if isinstance(jobs, (list, tuple)) else load_jobs(jobs)  # type: ignore[arg-type]
    out_dir = Path(out_dir)
    done = _done_keys(out_dir)
    instances: dict[str, Instance] = {}
    failures: list[JobFailure] = []
    unit_failures: dict[tuple[str, str], JobFailure] = {}
    with connect(db if db is not None else default_db_path(), read_only=True) as con:
        first_day, data_through = _data_bounds(con)
        for job in job_list:
            kind = job.report_kind
            try:
                found = []
                for period in due_periods(job, day, since):
                    if period.end < first_day:
                        continue  # before the data: nothing to report
                    timing = _time_parameter(kind)(kind, period, con)
                    units, bad = _units(job, con, period.end)
                    for entry, reason in bad:
                        unit_failures.setdefault(
                            (job.id, entry), JobFailure(job.id, reason, entry, kind.name)
                        )
                    for unit in units:
                        for lang in job.languages:
                            params = _canonical(kind, {**timing, **unit, "lang": lang})
                            key = _key(kind.name, dict(params))
                            status: Status = (
                                "done"
                                if key in done and _is_current(done[key], dict(params), con, out_dir)
                                else "todo"
                                if period.end <= data_through
                                else "waiting"
                            )
                            found.append(
                                Instance(
                                    job.id, kind.name, params, period, job.cadence.due_on(period), status
                                )
                            )
            except (EgovError, ValidationError) as exc:
                failures.append(JobFailure(job.id, _one_line(exc), kind=kind.name))
                continue
            for inst in found:
                instances.setdefault(inst.key, inst)  # two jobs asking for one report make it once
    order = {job.id: n for n, job in enumerate(job_list)}
    ordered = sorted(instances.values(), key=lambda i: (i.period.end, i.due_on, order[i.job]))
    return Plan(day, data_through, tuple(ordered), (*failures, *unit_failures.values()))


def next_due(job: Job, as_of: str | dt.date | None = None) -> dt.date:
    """The next date after `as_of` on which a report of the job becomes due."""
    day = _as_date(as_of)
    return job.cadence.due_on(job.cadence.last_due(day).shift(1))


# -- running ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """The result of rendering one instance."""

    instance: Instance
    ok: bool
    seconds: float
    path: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class RunResult:
    plan: Plan | None
    outcomes: tuple[Outcome, ...] = ()
    dry_run: bool = False
    #: Set when the run did nothing because another run holds the lock.
    busy: str | None = None
    hung: bool = False
    seconds: float = 0.0
    workers: int = 0
    #: The alerts digest of the run (plain text), and why it could not be made or sent (one line).
    alerts: str | None = None
    alert_error: str | None = None

    @property
    def rendered(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.ok]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def failure_lines(self) -> list[str]:
        """One line per failure: a report that failed, or a job (or one unit of a job) that could not be
        planned. Each line names the job, the unit, the report and a one-line reason."""
        lines = [
            f"job {o.instance.job} · unit {o.instance.param_dict.get('unit') or 'province'} · "
            f"report {o.instance.describe()} · {o.error}"
            for o in self.failed
        ]
        if self.plan is not None:
            lines += [
                f"job {f.job} · unit {f.unit or '–'} · report {f.kind or '–'} (not planned) · {f.error}"
                for f in self.plan.failures
            ]
        if self.alert_error:
            lines.append(f"alerts · {self.alert_error}")
        return lines

    def summary(self) -> list[str]:
        """The end-of-run summary: one count line, then one line per failure (see `failure_lines`)."""
        if self.plan is None:
            return [f"SUMMARY nothing done: {self.busy}"]
        head = (
            f"SUMMARY {len(self.rendered)} rendered, {len(self.failure_lines)} failure(s), "
            f"{len(self.plan.by_status('done'))} already done, {len(self.plan.by_status('waiting'))} waiting "
            f"for data (through {self.plan.data_through})"
        )
        return [head, *(f"FAILED {line}" for line in self.failure_lines)]

    @property
    def exit_code(self) -> int:
        return 1 if self.failure_lines or self.hung else 0


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, EgovError):
        text = exc.message
    elif isinstance(exc, ValidationError):
        text = "; ".join(e["msg"] for e in exc.errors())
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


def _render_instance(
    kind: str, params: dict[str, Any], out_dir: str, notebooks_dir: str, kernels: KernelPool | None = None
) -> tuple[bool, float, str]:
    """Render one report (in the worker's warm kernel of `kernels`); (ok, seconds, file name or one-line
    error). Never raises."""
    from egov_metrics.reports.render import render_report

    started = time.perf_counter()
    try:
        kernel = kernels.current() if kernels is not None else None
        result = render_report(kind, params, out_dir=out_dir, notebooks_dir=notebooks_dir, kernel=kernel)
    except Exception as exc:  # one failing report must not stop the others
        return False, round(time.perf_counter() - started, 2), _one_line(exc)
    return True, round(time.perf_counter() - started, 2), result.path.name


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    """Run in `path`: papermill's `cwd=` is a process-wide os.chdir() that it undoes afterwards, so threads
    rendering at once would each undo the others' change. With the process already there, every change and
    undo is to the same folder."""
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _log(
    out_dir: Path, status: str, what: str, detail: str, seconds: float | None = None, error: str = ""
) -> None:
    """Append one tab-separated line to schedule.log: time, status, what, detail, seconds, error."""
    secs = f"{seconds:.1f}s" if seconds is not None else ""
    line = "\t".join((_now(), status, what, detail, secs, error)).rstrip("\t") + "\n"
    fd = os.open(out_dir / LOG_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))  # one write of one line: lines never interleave
    finally:
        os.close(fd)


class RunLock:
    """An exclusive flock on `<out>/.schedule.lock`, released by the kernel when the process dies."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self, wait: float = 0.0) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "started_at": _now()}).encode())
        self._fd = fd
        return True

    def holder(self) -> dict[str, Any]:
        """Who holds the lock, as written by that run: pid and started_at (empty if unknown)."""
        try:
            return json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None


def _remove_stale_tmp(out_dir: Path) -> None:
    """Remove `render_report`'s temporary files left behind by a killed render (old ones only)."""
    cutoff = time.time() - STALE_TMP_SECONDS
    for tmp in out_dir.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()


def _write_state(out_dir: Path, result: RunResult, started_at: str) -> None:
    from egov_metrics.reports.render import _atomic_write

    path = out_dir / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    assert result.plan is not None
    last = {
        "pid": os.getpid(),
        "as_of": result.plan.as_of.isoformat(),
        "started_at": started_at,
        "finished_at": _now(),
        "seconds": result.seconds,
        "workers": result.workers,
        "rendered": len(result.rendered),
        "failed": [
            {"kind": o.instance.kind, "params": o.instance.param_dict, "error": o.error}
            for o in result.failed
        ],
        "job_failures": [
            {"job": f.job, "unit": f.unit, "kind": f.kind, "error": f.error} for f in result.plan.failures
        ],
        "summary": result.failure_lines,
        "alerts": result.alerts,
        "waiting": len(result.plan.by_status("waiting")),
        "data_through": result.plan.data_through.isoformat(),
    }
    state["last_run"] = last
    if result.exit_code == 0:
        state["last_success"] = last["finished_at"]
    _atomic_write(path, json.dumps(state, ensure_ascii=False, indent=2).encode("utf-8"))


def _alerts(out_dir: Path, db: Path, command: str | None) -> tuple[str | None, str | None]:
    """Write the digest of what changed since the last run (egov_metrics.alerts), pass it to `command`
    (default: $EGOV_ALERT_COMMAND), and link it from the landing page. Returns (text, one-line error)."""
    from egov_metrics import alerts
    from egov_metrics.reports.frontpage import cached_facts
    from egov_metrics.reports.render import data_fingerprint, refresh_index

    command = command if command is not None else os.environ.get("EGOV_ALERT_COMMAND") or None
    try:
        facts = cached_facts(out_dir, db, data_fingerprint(db))
        text, changes, error = alerts.publish(out_dir, facts, command=command)
        refresh_index(out_dir, facts)
    except Exception as exc:  # the reports are made; a digest that cannot be made is reported, not raised
        error = f"no digest: {_one_line(exc)}"
        _log(out_dir, "alerts", "-", "failed", error=error)
        return None, error
    _log(out_dir, "alerts", "-", f"changes={len(changes)}" + (" sent" if command and not error else ""),
         error=error or "")  # fmt: skip
    return text, error


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


@dataclass
class _Runner:
    out_dir: Path
    notebooks_dir: Path
    db: Path
    on_result: Callable[[Outcome], None] | None
    outcomes: list[Outcome] = field(default_factory=list)

    def _args(self, inst: Instance) -> tuple[str, dict[str, Any], str, str]:
        return (
            inst.kind,
            {**inst.param_dict, "db_path": str(self.db)},
            str(self.out_dir),
            str(self.notebooks_dir),
        )

    def _done(self, inst: Instance, ok: bool, seconds: float, text: str) -> None:
        outcome = Outcome(inst, ok, seconds, text if ok else None, None if ok else text)
        detail = " ".join(f"{k}={v}" for k, v in inst.params if v is not None)
        _log(self.out_dir, "ok" if ok else "failed", inst.kind, detail, seconds, "" if ok else text)
        self.outcomes.append(outcome)
        if self.on_result is not None:
            self.on_result(outcome)

    def render(self, todo: list[Instance], workers: int) -> None:
        """Render in `workers` threads, each driving its own kernel process, started once and reused for
        the thread's reports (egov_metrics/reports/engine.py); results in completion order."""
        from egov_metrics.cache import ENV_VAR
        from egov_metrics.reports.engine import KernelPool

        # the run's reports share their computations through the compute cache (egov_metrics/cache.py)
        kernels = KernelPool(self.notebooks_dir, env={ENV_VAR: str(self.out_dir / COMPUTE_CACHE_DIR)})
        try:
            with (
                _working_directory(self.notebooks_dir),
                ThreadPoolExecutor(max_workers=workers, thread_name_prefix="egov-schedule") as pool,
            ):
                futures = {pool.submit(_render_instance, *self._args(inst), kernels): inst for inst in todo}
                for future in as_completed(futures):
                    self._done(futures[future], *future.result())
        finally:
            kernels.close()


def _refuse_broken_planner_catalog() -> None:
    """A planner's broken indicator file ($EGOV_USER_DIR) stops the run before anything is rendered, naming
    every problem (file:line): reports are never made from a catalog nobody checked, and never fail one by one
    for a reason unrelated to them (docs/schedule.md, "The planner's own indicators")."""
    from egov_metrics.catalog import USER_DIR_ENV, planner_problems
    from egov_metrics.roadmap.model import check_roadmap, user_roadmap

    problems = planner_problems()
    roadmap = user_roadmap()
    if roadmap is not None and not problems:
        problems = check_roadmap(roadmap)
    if problems:
        lines = "\n".join(str(p) for p in problems)
        raise ScheduleError(
            f"the planner's indicators or roadmap (${USER_DIR_ENV}) have {len(problems)} problem(s); "
            f"no report was rendered:\n{lines}",
            f"fix the file(s) named above (`egov-metrics catalog check` lists them), or unset ${USER_DIR_ENV}; "
            "the next run renders everything that is due",
        )


def run(
    as_of: str | dt.date | None = None,
    *,
    jobs: Sequence[Job] | str | Path | None = None,
    db: str | Path | None = None,
    out_dir: str | Path = REPORTS_DIR,
    notebooks_dir: str | Path | None = None,
    workers: int | None = None,
    dry_run: bool = False,
    since: str | None = None,
    wait: float = 0.0,
    on_plan: Callable[[Plan], None] | None = None,
    on_result: Callable[[Outcome], None] | None = None,
    alert_command: str | None = None,
) -> RunResult:
    """Render every due report not yet made, oldest first; see the module docstring.

    `workers` defaults to the available cores (capped by the number of reports).
    `dry_run` plans and renders nothing (and takes no lock). `wait` is how long to wait for another run's
    lock before returning with `busy` set. Never raises for a failing report: see `RunResult.failed` and
    `RunResult.exit_code`. Raises ScheduleError for a broken jobs file or an unusable database.
    """
    from egov_metrics.reports.render import NOTEBOOKS_DIR

    _refuse_broken_planner_catalog()
    started, started_at = time.perf_counter(), _now()
    job_list = tuple(jobs) if isinstance(jobs, (list, tuple)) else load_jobs(jobs)  # type: ignore[arg-type]
    out_dir = Path(out_dir).resolve()
    db_path = Path(db if db is not None else default_db_path()).resolve()
    if dry_run:
        return RunResult(plan(as_of, jobs=job_list, db=db_path, out_dir=out_dir, since=since), dry_run=True)
    notebooks = Path(notebooks_dir or NOTEBOOKS_DIR).resolve()
    if not notebooks.is_dir():
        raise ScheduleError(f"no notebooks folder {notebooks}", "pass --notebooks DIR (notebooks_dir=)")
    out_dir.mkdir(parents=True, exist_ok=True)
    lock = RunLock(out_dir)
    if not lock.acquire(wait):
        holder = lock.holder()
        since_text = holder.get("started_at", "")
        busy = f"another schedule run (pid {holder.get('pid', '?')}, started {since_text or '?'}) is active"
        hung = False
        with contextlib.suppress(ValueError, TypeError):
            hung = dt.datetime.now().astimezone() - dt.datetime.fromisoformat(since_text) > HUNG_AFTER
        _log(out_dir, "busy", "-", busy + (" (probably hung)" if hung else ""))
        return RunResult(None, busy=busy, hung=hung)
    try:
        _remove_stale_tmp(out_dir)
        the_plan = plan(as_of, jobs=job_list, db=db_path, out_dir=out_dir, since=since)
        todo = the_plan.todo
        n_workers = max(1, min(workers or default_workers(), len(todo) or 1))
        if on_plan is not None:
            on_plan(the_plan)
        _log(
            out_dir, "run", "-",
            f"as_of={the_plan.as_of} data_through={the_plan.data_through} todo={len(todo)} "
            f"done={len(the_plan.by_status('done'))} waiting={len(the_plan.by_status('waiting'))} workers={n_workers}",
        )  # fmt: skip
        runner = _Runner(out_dir, notebooks, db_path, on_result=on_result)
        runner.render(todo, n_workers)
        # the digest of changes, after a run that made reports (a run with nothing to do changes nothing)
        alerts, alert_error = _alerts(out_dir, db_path, alert_command) if runner.outcomes else (None, None)
        result = RunResult(
            the_plan,
            tuple(runner.outcomes),
            seconds=round(time.perf_counter() - started, 2),
            workers=n_workers,
            alerts=alerts,
            alert_error=alert_error,
        )
        _log(
            out_dir, "end", "-",
            f"rendered={len(result.rendered)} failed={len(result.failed)} job_failures={len(the_plan.failures)}",
            result.seconds,
        )  # fmt: skip
        for line in result.failure_lines:  # the summary: every failure with job, unit, report and reason
            _log(out_dir, "summary", "-", line)
        _write_state(out_dir, result, started_at)
        return result
    finally:
        lock.release()
