"""The roadmap report as of a day, for a roadmap phase; the page is `page.RoadmapReport`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from egov_metrics.reports.kinds.base import ReportKind, SchedulePeriod
from egov_metrics.reports.kinds.params import (
    DayParams,
    PhaseParams,
    data_days,
    day_in_data,
    day_of,
    phase_in_roadmap,
    phase_of,
)

if TYPE_CHECKING:
    import duckdb


class RoadmapParams(PhaseParams, DayParams):
    """as_of (default: the last day of data), phase (default: the roadmap phase containing as_of)."""


def resolve(
    kind: ReportKind[RoadmapParams], p: RoadmapParams, con: duckdb.DuckDBPyConnection
) -> RoadmapParams:
    first_day, last_day = data_days(con, p.db_path)
    as_of = day_in_data(p.as_of, first_day, last_day)
    return p.model_copy(update={"as_of": as_of, "phase": phase_in_roadmap(kind, p.phase, as_of)})


def schedule_time(period: SchedulePeriod, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The period's last day, and the roadmap phase holding it."""
    return {**day_of(period, con), "phase": phase_of(period.end, con)}


KIND = ReportKind(
    name="roadmap_report",
    notebook="roadmap_report.ipynb",
    params=RoadmapParams,
    title_vi="Báo cáo lộ trình",
    title_en="Roadmap report",
    resolve=resolve,
    schedule_time=schedule_time,
)
