"""Report jobs as data: the jobs file (schedule_data/default.yaml or the user's), its models and checks."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import duckdb
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from egov_metrics.config import PACKAGE_DIR
from egov_metrics.errors import UnknownNameError
from egov_metrics.reports.kinds import REPORT_KINDS, ReportKind
from egov_metrics.schedule.errors import JobsFileError
from egov_metrics.schedule.periods import MONTH_RE, Cadence, Frozen
from egov_metrics.yamlutil import Problem, format_validation_error, line_of, load_yaml_with_lines

DEFAULT_JOBS = PACKAGE_DIR / "schedule_data" / "default.yaml"


def _level_selector(level: str) -> Callable[[duckdb.DuckDBPyConnection, dt.date], list[str | None]]:
    def select(con: duckdb.DuckDBPyConnection, day: dt.date) -> list[str | None]:
        """Today's units of the level that held work on `day`, themselves or through a unit merged into them
        since: the reports show units as they are today (the current unit version), so a unit that ended
        has no report of its own, and its months before the merger are in its successor's reports."""
        rows = con.sql(
            "SELECT u.id FROM org_unit u WHERE u.level = ? AND u.valid_to IS NULL AND EXISTS ("
            "SELECT 1 FROM org_unit_current c JOIN org_unit o ON o.id = c.unit_id WHERE c.current_id = u.id "
            "AND o.valid_from <= ? AND (o.valid_to IS NULL OR o.valid_to > ?)) ORDER BY u.id",
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
    def report_kind(self) -> ReportKind[Any]:
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
