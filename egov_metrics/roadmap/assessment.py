"""Assessment of a roadmap against the database, as of any date: targets, trajectories and resources.

All indicator values come from ONE engine call (`monthly_series`: every indicator the roadmap needs, monthly,
complete months up to the as-of date); pass its result as `series=` to reuse it across `assess`,
`trajectories`, `layer_readiness` and `resources`. The status rules themselves are pure functions in
`egov_metrics.roadmap.status`.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import polars as pl

from egov_metrics.catalog import Catalog, Indicator, load_catalog
from egov_metrics.engine import compute
from egov_metrics.errors import EgovError, UnknownNameError
from egov_metrics.roadmap.model import PathPoint, Roadmap, TargetSet, load_roadmap
from egov_metrics.roadmap.phases import phase_for
from egov_metrics.roadmap.status import (
    check_target,
    current_level,
    is_flat,
    meets,
    month_end,
    month_number,
    robust_trend,
    status_name,
)
from egov_metrics.schema import connect
from egov_metrics.sources import SOURCES

Db = str | Path | duckdb.DuckDBPyConnection | None
TargetChoice = Literal["phase", "next", "year", "all"]
TARGET_CHOICES: tuple[str, ...] = ("phase", "next", "year", "all")


#: Indicators `resources()` reads besides the targets.
RESOURCE_INDICATORS: tuple[str, ...] = ("staff_trained", "training_plan_done", "vneid_users", "online_users")


class RoadmapAssessmentError(EgovError):
    """An assessment cannot be made as asked."""


def as_date(value: str | dt.date | dt.datetime, name: str = "as_of") -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        if len(text) == 7:  # a month, as compute takes it: its last day
            first = dt.date.fromisoformat(f"{text}-01")
            return dt.date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])
        return dt.date.fromisoformat(text)
    except ValueError:
        raise RoadmapAssessmentError(
            f"{name}={value!r} is not a date", "write YYYY-MM-DD, or YYYY-MM for a month's last day"
        ) from None


@contextlib.contextmanager
def _connection(db: Db) -> Iterator[duckdb.DuckDBPyConnection]:
    if isinstance(db, duckdb.DuckDBPyConnection):
        yield db
        return
    con = connect(db, read_only=True)
    try:
        yield con
    finally:
        con.close()


def _scope(con: duckdb.DuckDBPyConnection, unit: str | None) -> tuple[str | None, str]:
    """(unit id, its level); the province when no unit is given."""
    if unit is None:
        return None, "province"
    from egov_metrics.orgunits import resolve_unit, successor_today

    unit_id = resolve_unit(con, unit)
    rows = con.sql("SELECT level, valid_to FROM org_unit WHERE id = ?", params=[unit_id]).fetchall()
    level, ended = rows[0]
    if ended is not None:  # the engine's own hint (unit_version) is not a parameter here
        successor = successor_today(con, unit_id)
        follow = (
            f"assess its successor {successor[0]} ({successor[1]}), whose figures include its work"
            if successor
            else "its work is in the province's assessment (unit=None)"
        )
        raise RoadmapAssessmentError(
            f"unit {unit_id} ended on {ended:%d/%m/%Y}",
            f"targets are judged on the units as they are today, each with the work of the units merged into "
            f"it: {follow}",
        )
    return unit_id, level


def _scoped(indicators: Sequence[str], catalog: Catalog, unit: str | None) -> list[str]:
    """The indicators that can be computed for the scope (province-wide ones drop out for a unit)."""
    ids = list(dict.fromkeys(indicators))
    if unit is None:
        return ids
    return [i for i in ids if SOURCES[catalog.get(i).source].unit_column is not None]


def needed_indicators(roadmap: Roadmap) -> list[str]:
    """Every indicator the roadmap functions read: targets, layer usage, resources."""
    usage = [i for layer in roadmap.layers for i in layer.usage]
    return list(dict.fromkeys([*roadmap.indicator_ids, *usage, *RESOURCE_INDICATORS, "online_submission"]))


_SERIES_SCHEMA: dict[str, type[pl.DataType] | pl.DataType] = {
    "indicator": pl.String,
    "period": pl.String,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "numerator": pl.Float64,
    "denominator": pl.Float64,
    "value": pl.Float64,
}


def series_start(roadmap: Roadmap) -> dt.date:
    """The first day of the first month a roadmap's series covers: its first phase's start or its earliest
    baseline, whichever is earlier."""
    start = min(
        [p.start for p in roadmap.phases] + [ts.baseline.date for ts in roadmap.targets if ts.baseline]
    )
    return dt.date(start.year, start.month, 1)


def series_indicators(
    roadmap: Roadmap, catalog: Catalog, unit_id: str | None, indicators: Sequence[str] | None = None
) -> list[str]:
    """The indicators of `monthly_series` for a scope (`unit_id` None: the province)."""
    return _scoped(indicators or needed_indicators(roadmap), catalog, unit_id)


def as_series(frame: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """An engine answer by month (no dimension) as a roadmap series: complete calendar months up to `as_of`,
    with `month` (`year * 12 + month - 1`); the columns of `monthly_series`."""
    return (
        frame.select("indicator", "period", "period_start", "period_end", "numerator", "denominator", "value")
        .with_columns(
            (pl.col("period_start").dt.year() * 12 + pl.col("period_start").dt.month() - 1).alias("month"),
            pl.col("numerator", "denominator", "value").cast(pl.Float64),
        )
        .filter(
            pl.col("period_end") == pl.col("period_start").dt.month_end(),
            pl.col("period_end") <= as_of,
        )
        .select(
            "indicator", "month", "period", "period_start", "period_end", "numerator", "denominator", "value"
        )
        .sort("indicator", "month")
    )


def monthly_series(
    roadmap: Roadmap | None = None,
    *,
    as_of: str | dt.date,
    unit: str | None = None,
    db: Db = None,
    indicators: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Monthly values of every indicator the roadmap needs, in one engine call.

    Complete calendar months only, from the first phase's start (`series_start`) up to `as_of`; columns:
    indicator, month (`year * 12 + month - 1`), period, period_start, period_end, numerator, denominator,
    value.
    """
    roadmap = roadmap or load_roadmap()
    as_of = as_date(as_of)
    catalog = load_catalog()
    first = series_start(roadmap)
    with _connection(db) as con:
        unit_id, _ = _scope(con, unit)
        ids = series_indicators(roadmap, catalog, unit_id, indicators)
        if as_of < first or not ids:  # nothing to compute: every target will say no_data
            frame = pl.DataFrame(schema=_SERIES_SCHEMA)
        else:
            frame = compute(
                ids,
                grain="month",
                start=first,
                end=as_of,
                unit=unit_id,
                compare=False,
                db=con,
                catalog=catalog,
            )
    return as_series(frame, as_of)


def _arrays(series: pl.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for (indicator,), part in series.partition_by("indicator", as_dict=True, maintain_order=True).items():
        out[str(indicator)] = (part["month"].to_numpy(), part["value"].fill_null(float("nan")).to_numpy())
    return out


def _target_sets(roadmap: Roadmap, level: str, ids: Sequence[str]) -> list[TargetSet]:
    """For each indicator: the targets of the scope's level, else the province's."""
    chosen = []
    for indicator in dict.fromkeys(ts.indicator for ts in roadmap.targets):
        if indicator not in ids:
            continue
        ts = roadmap.target_set(indicator, level) or roadmap.target_set(indicator, "province")
        if ts is not None:
            chosen.append(ts)
    return chosen


def _level_points(
    roadmap: Roadmap, level: str, indicator: str, as_of: dt.date, which: str
) -> tuple[TargetSet, list[PathPoint]] | None:
    """The targets of `which` (`_points`) for the scope's level, else the province's: a level's targets that do
    not reach the phase or year asked for (a commune target set for the next phase only) leave the unit held
    to the province's there, as a level without targets is."""
    for candidate in dict.fromkeys((level, "province")):
        ts = roadmap.target_set(indicator, candidate)
        points = _points(roadmap, ts, as_of, which) if ts is not None else []
        if ts is not None and points:
            return ts, points
    return None


def _points(roadmap: Roadmap, ts: TargetSet, as_of: dt.date, which: str) -> list[PathPoint]:
    path = [p for p in roadmap.path(ts) if p.kind != "baseline"]
    if which == "all":
        return path
    if which == "next":
        upcoming = [p for p in path if p.date >= as_of]
        return upcoming[:1]
    if which == "year":  # the value due on 31 December of as_of's year (milestone or phase target)
        # the year's last point: a phase that ends in the middle of the year (30 June) has its target
        # before the value due at the year's end
        return [p for p in path if p.date.year == as_of.year][-1:]
    phase = phase_for(as_of, roadmap)
    return [p for p in path if p.kind == "target" and p.phase == phase.id]


def _month_label(number: int | None) -> str | None:
    return None if number is None else f"{number // 12}-{number % 12 + 1:02d}"


ASSESSMENT_SCHEMA: dict[str, type[pl.DataType] | pl.DataType] = {
    "indicator": pl.String,
    "name_vi": pl.String,
    "name_en": pl.String,
    "unit": pl.String,
    "direction": pl.String,
    "unit_level": pl.String,
    "unit_id": pl.String,
    "phase": pl.String,
    "kind": pl.String,
    "deadline": pl.Date,
    "target": pl.Float64,
    "source": pl.String,
    "verified": pl.Boolean,
    "derived": pl.Boolean,
    "baseline": pl.Float64,
    "baseline_date": pl.Date,
    "current": pl.Float64,
    "latest_period": pl.String,
    "at_deadline": pl.Float64,
    "gap": pl.Float64,
    "required_pace": pl.Float64,
    "achieved_pace": pl.Float64,
    "pace_low": pl.Float64,
    "pace_high": pl.Float64,
    "trend_method": pl.String,
    "years_left": pl.Float64,
    "projection": pl.Float64,
    "projection_low": pl.Float64,
    "projection_high": pl.Float64,
    "status": pl.String,
    "status_vi": pl.String,
    "status_en": pl.String,
    "rule": pl.String,
    "reason_vi": pl.String,
    "reason_en": pl.String,
    "light": pl.String,
    "as_of": pl.Date,
}


def assess(
    roadmap: Roadmap | None = None,
    *,
    as_of: str | dt.date,
    unit: str | None = None,
    db: Db = None,
    targets: TargetChoice = "phase",
    series: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per target: current value, gap, required vs achieved pace, projection, status and reason.

    `targets`: "phase" (default) the target of the phase containing `as_of`; "next" the next milestone or
    target due; "year" the value due at the end of `as_of`'s year (given or derived milestone, or the phase
    target when the phase ends that year) — the target of the progress report's KPI cards; "all" every
    milestone and target (passed ones judged at their deadline). With `unit`, the
    unit's own series is used and it is held to the targets of its level (else the province's); indicators
    without a unit dimension are left out. `gap` = target − current and the paces are signed changes per
    year in the indicator's unit (negative for a falling series); `at_deadline` is the value at a passed
    deadline (the value it was judged on). `status_vi`/`status_en` name the status as a reader should see it
    (`status.status_name`: a value with too few months for a trend is `no_data`, named "too few months to
    judge", not "no data"). Status rules: docs/roadmap.md.
    """
    if targets not in TARGET_CHOICES:
        raise UnknownNameError.from_choices("target choice", targets, TARGET_CHOICES)
    roadmap = roadmap or load_roadmap()
    as_of = as_date(as_of)
    catalog = load_catalog()
    with _connection(db) as con:
        unit_id, level = _scope(con, unit)
        ids = _scoped(roadmap.indicator_ids, catalog, unit_id)
        if series is None:
            series = monthly_series(roadmap, as_of=as_of, unit=unit, db=con, indicators=ids)
    arrays = _arrays(series)
    empty = (np.array([], dtype=np.int64), np.array([], dtype=np.float64))
    rows = []
    for indicator in dict.fromkeys(t.indicator for t in roadmap.targets):
        found = _level_points(roadmap, level, indicator, as_of, targets) if indicator in ids else None
        if found is None:
            continue
        ts, points = found
        ind = catalog.get(ts.indicator)
        months, values = arrays.get(ts.indicator, empty)
        for point in points:
            check = check_target(
                months, values, target=point.value, deadline=point.date, direction=ind.direction,
                unit=ind.unit, as_of=as_of, rules=roadmap.rules,
            )  # fmt: skip
            band = roadmap.band_of(ind.id, check.current)
            rows.append(
                {
                    "indicator": ind.id,
                    "name_vi": ind.name.vi,
                    "name_en": ind.name.en,
                    "unit": ind.unit,
                    "direction": ind.direction,
                    "unit_level": ts.level,
                    "unit_id": unit_id,
                    "phase": point.phase,
                    "kind": point.kind,
                    "deadline": point.date,
                    "target": point.value,
                    "source": point.source,
                    "verified": point.verified,
                    "derived": point.derived,
                    "baseline": ts.baseline.value if ts.baseline else None,
                    "baseline_date": ts.baseline.date if ts.baseline else None,
                    "current": check.current,
                    "latest_period": _month_label(check.latest_month),
                    "at_deadline": check.at_deadline,
                    "gap": check.gap,
                    "required_pace": check.required_pace,
                    "achieved_pace": check.achieved_pace,
                    "pace_low": check.pace_low,
                    "pace_high": check.pace_high,
                    "trend_method": check.trend_method,
                    "years_left": check.years_left,
                    "projection": check.projection,
                    "projection_low": check.projection_low,
                    "projection_high": check.projection_high,
                    "status": check.status,
                    "status_vi": status_name(check.status, check.rule, "vi"),
                    "status_en": status_name(check.status, check.rule, "en"),
                    "rule": check.rule,
                    "reason_vi": check.reason_vi,
                    "reason_en": check.reason_en,
                    "light": band.light if band else None,
                    "as_of": as_of,
                }
            )
    return pl.DataFrame(rows, schema=ASSESSMENT_SCHEMA)


UNIT_STATUS_SCHEMA: dict[str, type[pl.DataType] | pl.DataType] = {
    "unit_id": pl.String,
    "unit_name": pl.String,
    "unit_level": pl.String,
    "indicator": pl.String,
    "target_level": pl.String,
    "target": pl.Float64,
    "deadline": pl.Date,
    "current": pl.Float64,
    "status": pl.String,
}


def unit_indicators(roadmap: Roadmap, catalog: Catalog) -> list[str]:
    """The roadmap's indicators with targets that can be split by unit (`assess_units`)."""
    return [i for i in roadmap.indicator_ids if SOURCES[catalog.get(i).source].unit_column is not None]


def unit_window(roadmap: Roadmap, as_of: dt.date) -> dt.date:
    """The first day of the months `assess_units` reads: the trend window before `as_of`."""
    return month_end(month_number(as_of) - roadmap.rules.window_months).replace(day=1)


def assess_units(
    roadmap: Roadmap | None = None,
    *,
    as_of: str | dt.date,
    levels: Sequence[str] = ("department", "commune"),
    db: Db = None,
    lang: str = "vi",
    frame: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every unit of `levels` against the target due at the end of `as_of`'s year, one row per unit and
    indicator: the same rules (`check_target`) and target choice as `assess(targets="year", unit=…)`, from ONE
    engine call (monthly values by unit over the trend window, `unit_window`). `target_level` says whose
    target applies: the unit's level where the roadmap sets one, else the province's. `frame`: that engine
    answer (by unit and month, from the window's start to `as_of`, maybe with other indicators), when the
    caller has it (no engine call)."""
    roadmap = roadmap or load_roadmap()
    as_of = as_date(as_of)
    catalog = load_catalog()
    ids = unit_indicators(roadmap, catalog)
    first = unit_window(roadmap, as_of)
    if frame is None:
        with _connection(db) as con:
            frame = compute(
                ids, by=["unit"], level=tuple(levels), grain="month", start=first, end=as_of,
                compare=False, lang=lang, db=con, catalog=catalog,
            )  # fmt: skip
    frame = frame.filter(
        pl.col("indicator").is_in(ids),
        pl.col("period_start") >= first,
        pl.col("period_end") == pl.col("period_start").dt.month_end(),
        pl.col("period_end") <= as_of,
    ).with_columns(
        (pl.col("period_start").dt.year() * 12 + pl.col("period_start").dt.month() - 1).alias("month")
    )
    # the engine's order for `ids` (a caller's frame may list its indicators in another order)
    order = {i: n for n, i in enumerate(ids)}
    frame = frame.sort(pl.col("indicator").replace_strict(order, return_dtype=pl.Int32), "unit_id", "month")
    if "unit_level" not in frame.columns:
        frame = frame.with_columns(pl.lit("province").alias("unit_level"))
    # one series per unit and indicator: consecutive rows of the sorted frame, read as slices of whole
    # columns (a frame per series cost more than the rules themselves: ~400 series in a province)
    groups = frame.group_by("indicator", "unit_id", maintain_order=True).agg(
        pl.len().alias("n"), pl.first("unit_name", "unit_level")
    )
    months = frame["month"].to_numpy()
    values = frame["value"].cast(pl.Float64).fill_null(float("nan")).to_numpy()
    # the year's target per indicator and level: the level's own where the roadmap sets one, else the province's
    targets: dict[tuple[str, str], tuple[TargetSet, PathPoint] | None] = {}
    rows = []
    end = 0
    for indicator, unit_id, n, unit_name, level in groups.iter_rows():
        start, end = end, end + n
        key = (indicator, level)
        if key not in targets:
            chosen = _level_points(roadmap, level, indicator, as_of, "year")
            targets[key] = (chosen[0], chosen[1][0]) if chosen is not None else None
        found = targets[key]
        if found is None:
            continue
        ts, point = found
        ind = catalog.get(indicator)
        check = check_target(
            months[start:end], values[start:end], target=point.value, deadline=point.date,
            direction=ind.direction, unit=ind.unit, as_of=as_of, rules=roadmap.rules,
        )  # fmt: skip
        rows.append(
            {"unit_id": unit_id, "unit_name": unit_name, "unit_level": level, "indicator": indicator,
             "target_level": ts.level, "target": point.value, "deadline": point.date, "current": check.current,
             "status": check.status}
        )  # fmt: skip
    return pl.DataFrame(rows, schema=UNIT_STATUS_SCHEMA)


def trajectories(
    roadmap: Roadmap | None = None,
    *,
    as_of: str | dt.date,
    unit: str | None = None,
    db: Db = None,
    series: pl.DataFrame | None = None,
    assessment: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Long frame for trajectory charts: actual monthly values, the target path, and the projection.

    Columns: indicator, name_vi, name_en, unit, unit_level, series ('actual', 'path', 'projection'), kind
    (actual, baseline, milestone, target, projection), date, value, low, high, derived. The projection runs
    from the current value (at the last month with data) to the deadline of the assessed target (the
    current phase's, unless `assessment` says otherwise).
    """
    roadmap = roadmap or load_roadmap()
    as_of = as_date(as_of)
    catalog = load_catalog()
    with _connection(db) as con:
        unit_id, level = _scope(con, unit)
        ids = _scoped(roadmap.indicator_ids, catalog, unit_id)
        if series is None:
            series = monthly_series(roadmap, as_of=as_of, unit=unit, db=con, indicators=ids)
        if assessment is None:
            assessment = assess(roadmap, as_of=as_of, unit=unit, db=con, series=series)
    chosen = _target_sets(roadmap, level, ids)
    frames = []
    meta = pl.DataFrame(
        {
            "indicator": [ts.indicator for ts in chosen],
            "name_vi": [catalog.get(ts.indicator).name.vi for ts in chosen],
            "name_en": [catalog.get(ts.indicator).name.en for ts in chosen],
            "unit": [catalog.get(ts.indicator).unit for ts in chosen],
            "unit_level": [ts.level for ts in chosen],
        },
        schema={"indicator": pl.String, "name_vi": pl.String, "name_en": pl.String, "unit": pl.String,
                "unit_level": pl.String},
    )  # fmt: skip
    actual = series.filter(pl.col("indicator").is_in([ts.indicator for ts in chosen])).select(
        "indicator",
        pl.lit("actual").alias("series"),
        pl.lit("actual").alias("kind"),
        pl.col("period_end").alias("date"),
        pl.col("value"),
        pl.lit(None, pl.Float64).alias("low"),
        pl.lit(None, pl.Float64).alias("high"),
        pl.lit(False).alias("derived"),
    )
    frames.append(actual)
    path_rows = [
        {"indicator": ts.indicator, "series": "path", "kind": p.kind, "date": p.date, "value": p.value,
         "low": None, "high": None, "derived": p.derived}
        for ts in chosen
        for p in roadmap.path(ts)
    ]  # fmt: skip
    proj_rows = []
    for row in assessment.filter(pl.col("projection").is_not_null()).iter_rows(named=True):
        start = month_end(_label_month(row["latest_period"]))
        proj_rows += [
            {"indicator": row["indicator"], "series": "projection", "kind": "projection", "date": start,
             "value": row["current"], "low": row["current"], "high": row["current"], "derived": False},
            {"indicator": row["indicator"], "series": "projection", "kind": "projection", "date": row["deadline"],
             "value": row["projection"], "low": row["projection_low"], "high": row["projection_high"],
             "derived": False},
        ]  # fmt: skip
    schema = actual.schema
    for rows in (path_rows, proj_rows):
        frames.append(pl.DataFrame(rows, schema=schema))
    return meta.join(pl.concat(frames), on="indicator", how="inner", maintain_order="left").sort(
        "indicator", "series", "date", maintain_order=True
    )


def _label_month(label: str) -> int:
    year, month = label.split("-")
    return int(year) * 12 + int(month) - 1


def legend_frame(roadmap: Roadmap | None = None, indicators: Sequence[str] | None = None) -> pl.DataFrame:
    """The legend bands as a frame (indicator, start, end, light, label_vi, label_en); open ends are null."""
    roadmap = roadmap or load_roadmap()
    rows = [
        {"indicator": ind, "start": b.start, "end": b.to, "light": b.light, "label_vi": b.label_in("vi"),
         "label_en": b.label_in("en")}
        for ind in (indicators or list(roadmap.legends))
        for b in roadmap.legend(ind)
    ]  # fmt: skip
    schema = {"indicator": pl.String, "start": pl.Float64, "end": pl.Float64, "light": pl.String,
              "label_vi": pl.String, "label_en": pl.String}  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


# --- resources ------------------------------------------------------------------------------------------

RESOURCE_SCHEMA: dict[str, type[pl.DataType] | pl.DataType] = {
    "topic": pl.String,
    "indicator": pl.String,
    "name_vi": pl.String,
    "name_en": pl.String,
    "unit": pl.String,
    "phase": pl.String,
    "year": pl.Int64,
    "period": pl.String,
    "actual": pl.Float64,
    "count": pl.Float64,
    "base": pl.Float64,
    "target": pl.Float64,
    "target_count": pl.Float64,
    "gap": pl.Float64,
    "gap_count": pl.Float64,
    "basis_vi": pl.String,
    "basis_en": pl.String,
}


def _year_ends(series: pl.DataFrame, indicator: str, as_of: dt.date) -> list[dict]:
    """The last complete month of each year (up to as_of) of one indicator's series."""
    part = series.filter(pl.col("indicator") == indicator, pl.col("period_end") <= as_of)
    if part.is_empty():
        return []
    return (
        part.with_columns(pl.col("period_start").dt.year().alias("year"))
        .sort("month")
        .group_by("year", maintain_order=True)
        .last()
        .to_dicts()
    )


def _path_value(roadmap: Roadmap, indicator: str, year: int) -> tuple[float | None, tuple[str, str]]:
    """The province path's value for 31 December of `year` (given or derived) and its basis (vi, en)."""
    ts = roadmap.target_set(indicator, "province")
    for p in roadmap.path(ts) if ts else []:
        if p.kind != "baseline" and p.date.year == year:
            if p.derived:
                return p.value, (
                    f"Lộ trình (mốc nội suy): {p.source}",
                    f"Roadmap (interpolated milestone): {p.source}",
                )
            return p.value, (f"Lộ trình: {p.source}", f"Roadmap: {p.source}")
    return None, ("Chưa có chỉ tiêu", "No target")


def _ceil(x: float | None) -> float | None:
    return None if x is None else float(math.ceil(x - 1e-9))


def resources(
    roadmap: Roadmap | None = None,
    *,
    as_of: str | dt.date,
    db: Db = None,
    series: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Training and adoption against the plan, per year of each phase up to `as_of` (province-wide).

    Training: staff trained in digital skills (share, count, staff) against the year's path value of
    `staff_trained`, and against the year's training plan (`training_plan_done`). Adoption: VNeID share of
    online-service users against the `vneid_users` path, and online-service users against an explicit
    `online_users` target if the roadmap has one, else an estimate: today's users scaled by the online
    submission target ÷ the online submission achieved (the users needed at today's volume). `gap` =
    target − actual in the indicator's unit; `gap_count` in people.
    """
    roadmap = roadmap or load_roadmap()
    as_of = as_date(as_of)
    catalog = load_catalog()
    if series is None:
        series = monthly_series(
            roadmap, as_of=as_of, db=db, indicators=[*RESOURCE_INDICATORS, "online_submission"]
        )
    rows: list[dict] = []

    def add(topic: str, ind: Indicator, r: dict, target: float | None, target_count: float | None,
            count: float | None, basis: tuple[str, str]) -> None:  # fmt: skip
        actual = r["value"]
        phase = roadmap.phase_at(dt.date(r["year"], 12, 31))
        rows.append(
            {
                "topic": topic, "indicator": ind.id, "name_vi": ind.name.vi, "name_en": ind.name.en,
                "unit": ind.unit, "phase": phase.id if phase else None, "year": r["year"], "period": r["period"],
                "actual": actual, "count": count, "base": r["denominator"], "target": target,
                "target_count": target_count,
                "gap": None if target is None or actual is None else target - actual,
                "gap_count": None if target_count is None or count is None else target_count - count,
                "basis_vi": basis[0], "basis_en": basis[1],
            }
        )  # fmt: skip

    for r in _year_ends(series, "staff_trained", as_of):
        target, basis = _path_value(roadmap, "staff_trained", r["year"])
        target_count = (
            _ceil(target / 100 * r["denominator"]) if target is not None and r["denominator"] else None
        )
        add("training", catalog.get("staff_trained"), r, target, target_count, r["numerator"], basis)
    for r in _year_ends(series, "training_plan_done", as_of):
        add("training", catalog.get("training_plan_done"), r, 100.0, r["denominator"], r["numerator"],
            ("Kế hoạch bồi dưỡng của năm (bảng workforce)", "The year's training plan (workforce table)"))  # fmt: skip
    for r in _year_ends(series, "vneid_users", as_of):
        target, basis = _path_value(roadmap, "vneid_users", r["year"])
        target_count = (
            _ceil(target / 100 * r["denominator"]) if target is not None and r["denominator"] else None
        )
        add("adoption", catalog.get("vneid_users"), r, target, target_count, r["numerator"], basis)
    submission = {r["year"]: r for r in _year_ends(series, "online_submission", as_of)}
    for r in _year_ends(series, "online_users", as_of):
        target, basis = _path_value(roadmap, "online_users", r["year"])
        if target is None:
            share_target, _ = _path_value(roadmap, "online_submission", r["year"])
            achieved = submission.get(r["year"], {}).get("value")
            if share_target is not None and achieved:
                target = _ceil(r["value"] * share_target / achieved)
                basis = (
                    f"Ước tính: số người dùng hiện tại × chỉ tiêu nộp trực tuyến {share_target:g} % ÷ mức đạt",
                    f"Estimate: current users × online submission target {share_target:g} % ÷ achieved",
                )
        add("adoption", catalog.get("online_users"), r, target, target, r["value"], basis)
    return pl.DataFrame(rows, schema=RESOURCE_SCHEMA)


# --- shared with architecture ------------------------------------------------------------------------------


def usage_state(
    roadmap: Roadmap, indicator: str, series_arrays: dict[str, tuple[np.ndarray, np.ndarray]], as_of: dt.date
) -> dict[str, object]:
    """Current value, pace, and whether a layer's usage indicator has stalled (flat and not yet good).

    "Good" means meeting the province target of the phase containing `as_of`, or, without such a target,
    lying in the green legend band; with neither, the indicator is never called stalled.
    """
    catalog = load_catalog()
    ind = catalog.get(indicator)
    months, values = series_arrays.get(indicator, (np.array([], dtype=np.int64), np.array([])))
    keep = months <= month_number(as_of)
    months, values = months[keep], values[keep]
    level = current_level(values, roadmap.rules)
    trend = robust_trend(months, values, roadmap.rules)
    flat = is_flat(trend, level, ind.unit, roadmap.rules)
    good: bool | None = None
    phase = roadmap.phase_at(as_of)
    ts = roadmap.target_set(indicator, "province")
    target = next((t.value for t in ts.targets if phase and t.phase == phase.id), None) if ts else None
    if level is not None and target is not None:
        good = meets(level, target, ind.direction)
    elif level is not None and roadmap.legend(indicator):
        band = roadmap.band_of(indicator, level)
        good = band is not None and band.light == "green"
    return {
        "indicator": indicator,
        "current": level,
        "pace": trend.pace if trend else None,
        "flat": flat,
        "target": target,
        "stalled": bool(flat and good is False),
    }
