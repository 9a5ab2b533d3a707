"""The parameters report kinds share, each with its database check and default, and the schedule mappings.

A kind's parameter model is made of these mixins (field order follows the classes listed last to first:
`class X(UnitParams, MonthParams)` has lang, db_path, period, unit), and its `resolve` calls the matching
`*_in_data` helpers in the order shown to the reader: unit, then the data's days, then month / day, then
phase. Every check raises before any kernel starts, with the fix in its hint.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from pydantic import field_validator

from egov_metrics.errors import UnknownNameError
from egov_metrics.reports.kinds.base import (
    PERIOD_RE,
    Params,
    ReportError,
    ReportKind,
    ReportParameterError,
    SchedulePeriod,
)

if TYPE_CHECKING:
    import duckdb


class UnitParams(Params):
    unit: str | None = None  # default: the province


class MonthParams(Params):
    period: str | None = None  # default: the last complete month of data

    @field_validator("period")
    @classmethod
    def _month(cls, v: str | None) -> str | None:
        if v is not None and not PERIOD_RE.match(v):
            raise ValueError("period must be a month written YYYY-MM, e.g. 2026-10")
        return v


class DayParams(Params):
    as_of: dt.date | None = None  # default: the last day of data


class PhaseParams(Params):
    phase: str | None = None  # default: the roadmap phase containing as_of


# -- checks and defaults against the database -----------------------------------------------------------


def unit_in_data(kind: ReportKind[Any], unit: str, con: duckdb.DuckDBPyConnection) -> str:
    """The unit's id (from an id, code or name), of one of the kind's levels."""
    from egov_metrics.orgunits import resolve_unit

    try:
        unit_id = resolve_unit(con, unit)
    except UnknownNameError as exc:
        raise ReportParameterError(f"{kind.name}: parameter 'unit': {exc.message}", exc.hint) from None
    level = con.sql("SELECT level FROM org_unit WHERE id = ?", params=[unit_id]).fetchall()[0][0]
    if kind.unit_levels and level not in kind.unit_levels:
        raise ReportParameterError(
            f"{kind.name}: parameter 'unit': {unit_id} is a {level}",
            f"{kind.name} takes a unit of level {' or '.join(kind.unit_levels)}",
        )
    return str(unit_id)


def data_days(con: duckdb.DuckDBPyConnection, db_path: str) -> tuple[dt.date, dt.date]:
    """The first and last day with dossiers; a database without dossiers is an error."""
    from egov_metrics.sources import CLOCK_SOURCE, data_extent

    extent = data_extent(con, CLOCK_SOURCE)
    first_day, last_day = extent.first, extent.last
    if first_day is None or last_day is None:
        raise ReportError(f"{db_path} holds no dossiers", "build the demo or ingest an export first")
    return first_day, last_day


def month_in_data(
    period: str | None, con: duckdb.DuckDBPyConnection, first_day: dt.date, last_day: dt.date
) -> str:
    """The month given (it must overlap the data), else the last complete month of data."""
    from egov_metrics.reports.common import latest_period, month_bounds

    period = period or latest_period(con)
    if not (first_day <= month_bounds(period)[1] and month_bounds(period)[0] <= last_day):
        raise ReportError(
            f"period {period} is outside the data ({first_day:%m/%Y}–{last_day:%m/%Y})",
            f"pick a month between {first_day:%Y-%m} and {last_day:%Y-%m}",
        )
    return period


def day_in_data(as_of: dt.date | None, first_day: dt.date, last_day: dt.date) -> dt.date:
    """The day given (it must lie within the data), else the last day of data."""
    as_of = as_of or last_day
    if not first_day <= as_of <= last_day:
        raise ReportError(
            f"as_of {as_of} is outside the data ({first_day}–{last_day})",
            f"pick a date between {first_day} and {last_day}",
        )
    return as_of


def phase_in_roadmap(kind: ReportKind[Any], phase: str | None, day: dt.date) -> str:
    """The roadmap phase given (it must exist), else the phase containing `day` (else the first phase)."""
    from egov_metrics.roadmap import load_roadmap, phase_for

    roadmap = load_roadmap()
    if phase is None:
        return phase_for(day, roadmap).id
    phases = [p.id for p in roadmap.phases]
    if phase not in phases:
        close = UnknownNameError.from_choices("roadmap phase", phase, phases)
        raise ReportParameterError(f"{kind.name}: parameter 'phase': {close.message}", close.hint)
    return phase


# -- placing a report in a schedule period --------------------------------------------------------------


def month_of(period: SchedulePeriod, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """A month parameter gets the period's last month: a quarterly progress report is the report of the
    quarter's last month."""
    return {"period": f"{period.end:%Y-%m}"}


def day_of(period: SchedulePeriod, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """A date parameter gets the period's last day."""
    return {"as_of": period.end}


def phase_of(day: dt.date, con: duckdb.DuckDBPyConnection) -> str:
    """The roadmap phase containing `day`: the planner's roadmap, as the reports read it
    (`egov_metrics/roadmap/phases.py`)."""
    from egov_metrics.roadmap import phase_for

    return phase_for(day).id
