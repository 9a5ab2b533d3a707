"""The monthly progress report of one unit (the province by default); the page is `page.ProgressReport`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from egov_metrics.reports.kinds.base import ReportKind
from egov_metrics.reports.kinds.params import (
    MonthParams,
    UnitParams,
    data_days,
    month_in_data,
    month_of,
    unit_in_data,
)

if TYPE_CHECKING:
    import duckdb


class ProgressParams(UnitParams, MonthParams):
    """period (default: the last complete month of data), unit (default: the province)."""


def resolve(
    kind: ReportKind[ProgressParams], p: ProgressParams, con: duckdb.DuckDBPyConnection
) -> ProgressParams:
    unit = {"unit": unit_in_data(kind, p.unit, con)} if p.unit is not None else {}
    first_day, last_day = data_days(con, p.db_path)
    return p.model_copy(update={**unit, "period": month_in_data(p.period, con, first_day, last_day)})


KIND = ReportKind(
    name="progress_report",
    notebook="progress_report.ipynb",
    params=ProgressParams,
    title_vi="Báo cáo tiến độ",
    title_en="Progress report",
    resolve=resolve,
    schedule_time=month_of,
)
