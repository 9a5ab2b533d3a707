"""The parameters report kinds share, each with its database check and default, and the schedule mappings.

A kind's parameter model is made of these mixins (field order follows the classes listed last to first:
`class X(UnitParams, MonthParams)` has lang, db_path, period, unit), and its `resolve` calls the matching
`*_in_data` helpers in the order shown to the reader: unit, then the data's days, then month / day, then
phase. Every check raises before any kernel starts, with the fix in its hint.

Each mixin also answers the hooks of `Params` for its own field (file name part, period text, horizon, how
the footer shows and labels it), so the renderer, the index page and the scheduler never name a parameter.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import field_validator

from egov_metrics.errors import UnknownNameError
from egov_metrics.i18n import fmt_period
from egov_metrics.reports.kinds.base import (
    PERIOD_RE,
    Params,
    ReportError,
    ReportKind,
    ReportParameterError,
    SchedulePeriod,
)
from egov_metrics.said import Said
from egov_metrics.vocab import UNIT_LEVELS

if TYPE_CHECKING:
    import duckdb


class UnitParams(Params):
    unit: str | None = None  # default: the province

    LABELS: ClassVar[Mapping[str, Mapping[str, str]]] = {"vi": {"unit": "Đơn vị"}, "en": {"unit": "Unit"}}

    @classmethod
    def place_parts(cls, values: Mapping[str, Any]) -> list[str]:
        unit = values.get("unit")
        own = [re.sub(r"[^A-Za-z0-9_-]", "_", str(unit))] if unit else []
        return [*own, *super().place_parts(values)]

    @classmethod
    def shown(cls, values: Mapping[str, Any], lang: str) -> dict[str, Any]:
        out = super().shown(values, lang)
        if out.get("unit") is None:
            out["unit"] = "toàn tỉnh" if lang == "vi" else "the province"
        return out


class MonthParams(Params):
    period: str | None = None  # default: the last complete month of data

    LABELS: ClassVar[Mapping[str, Mapping[str, str]]] = {
        "vi": {"period": "Kỳ báo cáo"},
        "en": {"period": "Period"},
    }

    @field_validator("period")
    @classmethod
    def _month(cls, v: str | None) -> str | None:
        if v is not None and not PERIOD_RE.match(v):
            raise ValueError("period must be a month written YYYY-MM, e.g. 2026-10")
        return v

    @classmethod
    def time_parts(cls, values: Mapping[str, Any]) -> list[str]:
        period = values.get("period")
        return [*([str(period)] if period else []), *super().time_parts(values)]

    @classmethod
    def period_text(cls, values: Mapping[str, Any], lang: str) -> str:
        period = values.get("period")
        return fmt_period(str(period), lang) if period else super().period_text(values, lang)

    @classmethod
    def shown(cls, values: Mapping[str, Any], lang: str) -> dict[str, Any]:
        """The month as a reader writes it ('tháng 11/2026', 'November 2026'), not '2026-11'."""
        out = super().shown(values, lang)
        if out.get("period"):
            out["period"] = fmt_period(str(out["period"]), lang)
        return out

    @classmethod
    def horizon(cls, values: Mapping[str, Any]) -> dt.date | None:
        period = values.get("period")
        if not period:
            return super().horizon(values)
        year, month = (int(x) for x in str(period).split("-"))
        return dt.date(year, month, calendar.monthrange(year, month)[1])


class DayParams(Params):
    as_of: dt.date | None = None  # default: the last day of data

    LABELS: ClassVar[Mapping[str, Mapping[str, str]]] = {
        "vi": {"as_of": "Tính đến ngày"},
        "en": {"as_of": "As of"},
    }

    @classmethod
    def time_parts(cls, values: Mapping[str, Any]) -> list[str]:
        as_of = values.get("as_of")
        return [*([str(as_of)] if as_of else []), *super().time_parts(values)]

    @classmethod
    def period_text(cls, values: Mapping[str, Any], lang: str) -> str:
        as_of = values.get("as_of")
        if not as_of:
            return super().period_text(values, lang)
        day = dt.date.fromisoformat(str(as_of))
        return f"đến {day:%d/%m/%Y}" if lang == "vi" else f"to {day:%d/%m/%Y}"

    @classmethod
    def shown(cls, values: Mapping[str, Any], lang: str) -> dict[str, Any]:
        """The day written dd/mm/yyyy in both languages, not '2026-11-30'."""
        out = super().shown(values, lang)
        if out.get("as_of"):
            out["as_of"] = f"{dt.date.fromisoformat(str(out['as_of'])):%d/%m/%Y}"
        return out

    @classmethod
    def horizon(cls, values: Mapping[str, Any]) -> dt.date | None:
        as_of = values.get("as_of")
        return dt.date.fromisoformat(str(as_of)) if as_of else super().horizon(values)


class PhaseParams(Params):
    phase: str | None = None  # default: the roadmap phase containing as_of

    LABELS: ClassVar[Mapping[str, Mapping[str, str]]] = {
        "vi": {"phase": "Giai đoạn"},
        "en": {"phase": "Phase"},
    }

    @classmethod
    def shown(cls, values: Mapping[str, Any], lang: str) -> dict[str, Any]:
        """A phase by its name, not its id."""
        out = super().shown(values, lang)
        if out.get("phase"):
            out["phase"] = cls._phase_name(str(out["phase"]), lang)
        return out

    @staticmethod
    def _phase_name(phase: str, lang: str) -> str:
        from egov_metrics.roadmap import load_roadmap

        names = {p.id: (p.name.vi if lang == "vi" else p.name.en) for p in load_roadmap().phases}
        return names.get(phase, phase)

    @classmethod
    def _other_phase(cls, values: Mapping[str, Any]) -> str | None:
        """The phase asked for when it is not the one holding the report's last day (the default), else None:
        two reports of one day for two phases are two files and two lines of the index."""
        from egov_metrics.roadmap import phase_for

        phase = values.get("phase")
        if not phase:
            return None
        day = cls.horizon(values)
        return None if day is not None and phase_for(day).id == phase else str(phase)

    @classmethod
    def time_parts(cls, values: Mapping[str, Any]) -> list[str]:
        other = cls._other_phase(values)
        return [*super().time_parts(values), *([re.sub(r"[^A-Za-z0-9_-]", "_", other)] if other else [])]

    @classmethod
    def period_text(cls, values: Mapping[str, Any], lang: str) -> str:
        text = super().period_text(values, lang)
        other = cls._other_phase(values)
        return f"{text} · {cls._phase_name(other, lang)}" if other else text


# -- checks and defaults against the database -----------------------------------------------------------


def unit_in_data(kind: ReportKind[Any], unit: str, con: duckdb.DuckDBPyConnection) -> str:
    """The unit's id (from an id, code or name), of one of the kind's levels."""
    from egov_metrics.orgunits import resolve_unit, successor_today

    try:
        unit_id = resolve_unit(con, unit)
    except UnknownNameError as exc:
        message, hint = exc.said()
        raise ReportParameterError(
            Said(f"{kind.name}: tham số 'unit': ", f"{kind.name}: parameter 'unit': ") + message, hint
        ) from None
    level, name, ended = con.sql(
        "SELECT level, name_vi, valid_to FROM org_unit WHERE id = ?", params=[unit_id]
    ).fetchall()[0]
    if ended is not None:
        # the pages show today's units, each with the work of the units merged into it (the current unit
        # version): an ended unit has no figures of its own there, whatever the period
        successor = successor_today(con, unit_id)
        follow = (
            Said(
                f"hãy chọn đơn vị kế thừa {successor[0]} ({successor[1]}), báo cáo của đơn vị này gồm cả công việc "
                "của nó",
                f"ask for its successor {successor[0]} ({successor[1]}), whose reports include its work",
            )
            if successor
            else Said("công việc của nó nằm trong báo cáo của tỉnh", "its work is in the province's reports")
        )
        raise ReportParameterError(
            Said(
                f"{kind.name}: tham số 'unit': {unit_id} ({name}) đã kết thúc hoạt động ngày {ended:%d/%m/%Y}",
                f"{kind.name}: parameter 'unit': {unit_id} ({name}) ended on {ended:%d/%m/%Y}",
            ),
            Said(
                "báo cáo thể hiện các đơn vị như hiện nay, mỗi đơn vị gồm cả công việc của các đơn vị sáp nhập "
                "vào nó: ",
                "reports show the units as they are today, each with the work of the units merged into it: ",
            )
            + follow,
        )
    if kind.unit_levels and level not in kind.unit_levels:
        term = UNIT_LEVELS[level]
        allowed = [UNIT_LEVELS[x] for x in kind.unit_levels]
        raise ReportParameterError(
            Said(
                f"{kind.name}: tham số 'unit': {unit_id} thuộc cấp {term.vi.lower()}",
                f"{kind.name}: parameter 'unit': {unit_id} is a {level}",
            ),
            Said(
                f"{kind.name} nhận một đơn vị cấp {' hoặc '.join(t.vi.lower() for t in allowed)}",
                f"{kind.name} takes a unit of level {' or '.join(kind.unit_levels)}",
            ),
        )
    return str(unit_id)


def data_days(con: duckdb.DuckDBPyConnection, db_path: str) -> tuple[dt.date, dt.date]:
    """The first and last day with dossiers; a database without dossiers is an error."""
    from egov_metrics.sources import CLOCK_SOURCE, data_extent

    extent = data_extent(con, CLOCK_SOURCE)
    first_day, last_day = extent.first, extent.last
    if first_day is None or last_day is None:
        raise ReportError(
            Said(f"{db_path} không có hồ sơ nào", f"{db_path} holds no dossiers"),
            Said(
                "tạo cơ sở dữ liệu mẫu hoặc nạp một tệp xuất trước",
                "build the demo or ingest an export first",
            ),
        )
    return first_day, last_day


def month_in_data(
    period: str | None, con: duckdb.DuckDBPyConnection, first_day: dt.date, last_day: dt.date
) -> str:
    """The month given (it must overlap the data), else the last complete month of data."""
    from egov_metrics.reports.common import latest_period, month_bounds

    period = period or latest_period(con)
    if not (first_day <= month_bounds(period)[1] and month_bounds(period)[0] <= last_day):
        raise ReportError(
            Said(
                f"tham số 'period': {period} nằm ngoài dữ liệu ({first_day:%m/%Y}–{last_day:%m/%Y})",
                f"parameter 'period': {period} is outside the data ({first_day:%m/%Y}–{last_day:%m/%Y})",
            ),
            Said(
                f"chọn một tháng từ {first_day:%Y-%m} đến {last_day:%Y-%m}",
                f"pick a month between {first_day:%Y-%m} and {last_day:%Y-%m}",
            ),
        )
    return period


def day_in_data(as_of: dt.date | None, first_day: dt.date, last_day: dt.date) -> dt.date:
    """The day given (it must lie within the data), else the last day of data."""
    as_of = as_of or last_day
    if not first_day <= as_of <= last_day:
        raise ReportError(
            Said(
                f"tham số 'as_of': {as_of} nằm ngoài dữ liệu ({first_day:%d/%m/%Y}–{last_day:%d/%m/%Y})",
                f"parameter 'as_of': {as_of} is outside the data ({first_day:%d/%m/%Y}–{last_day:%d/%m/%Y})",
            ),
            Said(
                f"chọn một ngày từ {first_day} đến {last_day}",
                f"pick a date between {first_day} and {last_day}",
            ),
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
        close = UnknownNameError.from_choices(Said("giai đoạn lộ trình", "roadmap phase"), phase, phases)
        message, hint = close.said()
        raise ReportParameterError(
            Said(f"{kind.name}: tham số 'phase': ", f"{kind.name}: parameter 'phase': ") + message, hint
        )
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
