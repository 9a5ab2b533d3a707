"""One department's or commune's 766 scorecard for a month; the page is `page.UnitScorecard`."""

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


class ScorecardParams(UnitParams, MonthParams):
    """unit (required: a department or commune), period (default: the last complete month of data)."""

    unit: str  # required


def resolve(
    kind: ReportKind[ScorecardParams], p: ScorecardParams, con: duckdb.DuckDBPyConnection
) -> ScorecardParams:
    unit = unit_in_data(kind, p.unit, con)
    first_day, last_day = data_days(con, p.db_path)
    return p.model_copy(update={"unit": unit, "period": month_in_data(p.period, con, first_day, last_day)})


KIND = ReportKind(
    name="unit_scorecard",
    notebook="unit_scorecard.ipynb",
    params=ScorecardParams,
    title_vi="Phiếu điểm đơn vị",
    title_en="Unit scorecard",
    resolve=resolve,
    schedule_time=month_of,
    unit_levels=("department", "commune"),
)
