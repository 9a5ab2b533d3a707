"""Step 0 of the engine: the request, validated into a `Shape` (everything the SQL text depends on).

`Request` is the caller's keywords (as `compute()` takes them); `resolve()` checks them against the catalog,
the registries and the sources and returns the `Shape` (indicators, dimensions, levels, grain, …) and the
bound parameters (dates, the unit scope). Two calls with the same shape get the same SQL text, so the
statement is built once per shape (see `assembly.statement`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

from egov_metrics.catalog import Catalog, Indicator, load_catalog
from egov_metrics.errors import EgovError, UnknownNameError
from egov_metrics.sources import ALL_DIMENSIONS, SOURCES
from egov_metrics.vocab import LEVELS, SPLIT_LEVELS

GRAINS: tuple[str, ...] = ("month", "quarter", "year", "ytd")
UNIT_VERSIONS: tuple[str, ...] = ("current", "historical")


class ComputeError(EgovError):
    """A request the engine cannot answer as asked."""


class Request(TypedDict, total=False):
    """The options of one `compute()` / `explain()` call, passed on to `build_query` as they are."""

    by: Sequence[str]
    level: str | Sequence[str] | None
    grain: str
    start: str | dt.date | None
    end: str | dt.date | None
    unit: str | None
    unit_version: str
    compare: bool
    lang: str
    names: bool
    catalog: Catalog | None


@dataclass(frozen=True)
class Shape:
    """A validated request without its dates and scope: what the SQL text depends on (hashable)."""

    indicators: tuple[Indicator, ...]
    by: tuple[str, ...]
    levels: tuple[str, ...]
    grain: str
    unit_version: str
    scoped: bool
    lang: str
    names: bool
    compare: bool
    #: the scope's units are a bound list ($scope_units, looked up once per database version by `compute`),
    #: rather than a semi-join to the closure view that the optimiser applies only after the source's joins
    scope_list: bool = False
    #: the periods cover a small part of the data's days (`NARROW`): rows no period can use are filtered
    #: before the source's joins even without a unit scope (see `placement.rows_sql`)
    narrow: bool = False

    @property
    def dims(self) -> tuple[str, ...]:
        """The output's dimension columns (the unit split is `unit_id`)."""
        return tuple("unit_id" if d == "unit" else d for d in self.by)


#: A request is narrow when its periods span at most this share of the data's days (first to last day of the
#: clock source): measured at 1 M dossiers by unit × month, filtering the rows first pays below ~1/5 of the
#: span (a month: 0.08 s against 0.21 s of CPU) and costs above it (the whole span: 1.05 s against 0.35 s),
#: because the filter's estimate turns the calendar joins' build side to the dossier rows.
NARROW = 1 / 8

_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


def _last_day(year: int, month: int) -> dt.date:
    return (dt.date(year, month, 28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _as_date(value: str | dt.date | None, name: str, *, month_end: bool = False) -> dt.date | None:
    """Parse a date or a period label: YYYY-MM-DD, YYYY-MM, YYYY-Qn (as the engine labels quarters) or YYYY.

    A month, quarter or year means its first day, or its last day with `month_end` (for `end`).
    """
    if value is None or isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        quarter = _QUARTER.match(text)
        if quarter:
            year, q = int(quarter[1]), int(quarter[2])
            return _last_day(year, 3 * q) if month_end else dt.date(year, 3 * q - 2, 1)
        if len(text) == 4 and text.isdigit():
            return dt.date(int(text), 12, 31) if month_end else dt.date(int(text), 1, 1)
        if len(text) == 7:
            first = dt.date.fromisoformat(text + "-01")
            return _last_day(first.year, first.month) if month_end else first
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ComputeError(
            f"{name}={value!r} is not a date or a period",
            "write YYYY-MM-DD, YYYY-MM, a quarter YYYY-Qn (e.g. 2026-Q3) or a year YYYY",
        ) from None


def resolve(
    indicators: Sequence[str] | None,
    request: Request,
    *,
    data_end: dt.date,
    scope_units: Sequence[str] | None = None,
    data_start: dt.date | None = None,
) -> tuple[Shape, dict[str, object]]:
    """Validate a request: its shape and every parameter the SQL may bind (the statement keeps the ones it
    names). The request's defaults are written here, once. `data_start`: the first day of the data, when
    the caller has it (a request over a small part of the data is `narrow`)."""
    given_by = request.get("by", ())
    # one name given as a string is that name, not its letters ("online_share" → 'o', 'n', …)
    by = tuple(dict.fromkeys((given_by,) if isinstance(given_by, str) else given_by))
    if isinstance(indicators, str):
        indicators = [indicators]
    level = request.get("level")
    grain = request.get("grain", "month")
    start, end = request.get("start"), request.get("end")
    unit = request.get("unit")
    unit_version = request.get("unit_version", "current")
    compare = request.get("compare", True)
    lang = request.get("lang", "vi")
    names = request.get("names", False)
    catalog = request.get("catalog") or load_catalog()
    chosen = catalog.select(list(dict.fromkeys(indicators)) if indicators else None)  # each once
    for dim in by:
        if dim not in ALL_DIMENSIONS:
            raise UnknownNameError.from_choices("dimension", dim, ALL_DIMENSIONS)
    if grain not in GRAINS:
        raise UnknownNameError.from_choices("grain", grain, GRAINS)
    if unit_version not in UNIT_VERSIONS:
        raise UnknownNameError.from_choices("unit version", unit_version, UNIT_VERSIONS)
    if lang not in ("vi", "en"):
        raise UnknownNameError.from_choices("language", lang, ("vi", "en"))
    levels = (level,) if isinstance(level, str) else tuple(level or ())
    for lv in levels:
        if lv not in LEVELS:
            raise UnknownNameError.from_choices("unit level", lv, LEVELS)
    if "unit" in by and not levels:
        levels = SPLIT_LEVELS
    unsupported = [i.id for i in chosen if not set(by) <= set(SOURCES[i.source].dimensions)]
    if unsupported:
        raise ComputeError(
            f"these indicators cannot be split by {', '.join(by)}: {', '.join(unsupported)}",
            "drop them from the request, or use catalog.supporting(by) to pick the ones that can",
        )
    if unit is not None and any(SOURCES[i.source].unit_column is None for i in chosen):
        province_only = [i.id for i in chosen if SOURCES[i.source].unit_column is None]
        raise ComputeError(
            f"these indicators are province-wide and have no unit scope: {', '.join(province_only)}",
            "compute them without --unit",
        )
    end_date = _as_date(end, "end", month_end=True) or data_end
    end_date = min(end_date, data_end)
    start_date = _as_date(start, "start") or dt.date(end_date.year, 1, 1)
    if start_date > data_end:
        raise ComputeError(
            f"start {start_date} is after the data's last day ({data_end})",
            f"the data runs to {data_end}: ask for a start on or before it, or load the later months first",
        )
    if start_date > end_date:
        raise ComputeError(
            f"start {start_date} is after end {end_date}",
            "give a start on or before the end (swap them: start=/end= in Python, --from/--to on the command line)",
        )
    spine_start = dt.date(start_date.year - 1, start_date.month, 1) if compare else start_date
    spine_end_excl = end_date + dt.timedelta(days=1)
    narrow = data_start is not None and (spine_end_excl - spine_start).days <= NARROW * (
        (data_end - data_start).days + 1
    )
    shape = Shape(
        indicators=tuple(chosen),
        by=by,
        levels=levels,
        grain=grain,
        unit_version=unit_version,
        scoped=unit is not None,
        lang=lang,
        names=names,
        compare=compare,
        scope_list=unit is not None and scope_units is not None,
        narrow=narrow,
    )
    params: dict[str, object] = {
        "start": start_date,
        "spine_start": spine_start,
        "spine_end_excl": spine_end_excl,
        # periods end at the requested end (an as-of date) or where the data ends, whichever is first
        "data_end_excl": end_date + dt.timedelta(days=1),
        "unit_version": unit_version,
        "indicator_names": [i.name_in(lang) for i in chosen],
    }
    if "unit" in by:
        params["levels"] = list(levels)
    if unit is not None:
        params["scope"] = unit
        if scope_units is not None:
            params["scope_units"] = list(scope_units)
    return shape, params
