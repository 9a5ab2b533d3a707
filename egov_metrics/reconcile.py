"""Reconciliation: the province's own counts against the portal's published figures, per unit and indicator.

    table = reconcile(con)                     # every imported period, every matched unit
    table = reconcile(con, unit="STP", period="2026-08")

For every period the portal's figures were imported for (`egov-metrics portal import`), the province's own data
is scored for the same period (year, quarter or month) with the same method, and each indicator of each matched
unit gets one row: local and published numerator, denominator, rate and points, their differences, and the
likely cause of a difference. Published points the portal does not show per indicator (payment, online
services) are recomputed from the published counts with the method (`published_points_from` says which).

The causes are a registry (`CAUSES`), tried in order; the first that applies names the row:

* ``not_synced`` — the portal counts fewer dossiers than the province, over the same days: dossiers not
  synchronised to the portal;
* ``capture_timing`` — the two counts cover different days: the portal counts more, and the capture was taken
  before the period ended (or the province's data ends before the capture); or the portal counts fewer, and the
  capture was taken before the last day the province's data is counted to (a month at least: 26 September is
  compared with the data to 30 September);
* ``provisional_rule`` — the counts agree but the points differ on an indicator whose rule is provisional;
* ``counts_differ`` — the counts differ otherwise (different definitions or data);
* ``points_differ`` — same counts, different points: a method difference;
* ``match`` — no difference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from egov_metrics.errors import EgovError
from egov_metrics.portal.importer import published
from egov_metrics.scoring import ScoringMethod, load_method, method_for, score, score_units
from egov_metrics.sources import CLOCK_SOURCE, data_extent

__all__ = ["CAUSES", "Cause", "ReconcileError", "classify", "reconcile"]


class ReconcileError(EgovError):
    """Nothing to reconcile (no imported portal figures, no matched unit, no local data)."""


@dataclass(frozen=True)
class Cause:
    code: str
    vi: str
    en: str
    applies: Callable[[], pl.Expr]


def _counts_equal() -> pl.Expr:
    return (pl.col("denominator_diff").abs() < 0.5) & (pl.col("numerator_diff").abs() < 0.5)


CAUSES: tuple[Cause, ...] = (
    Cause(
        "match",
        "khớp",
        "match",
        # same points, and the same counts or none published (the certified copy: null counts, points awarded)
        lambda: (
            (pl.col("points_diff").abs() < 0.005)
            & (_counts_equal().fill_null(False) | pl.col("published_denominator").is_null())
        ),
    ),
    Cause(
        "not_synced",
        "hồ sơ chưa đồng bộ lên Cổng Dịch vụ công quốc gia",
        "dossiers not synchronised to the national portal",
        # only when the capture covers the days the province's data is counted to (else see capture_timing)
        lambda: (pl.col("published_denominator") < pl.col("local_denominator") - 0.5) & ~pl.col("_short"),
    ),
    Cause(
        "capture_timing",
        "thời điểm lấy số liệu của Cổng khác kỳ của tỉnh",
        "the portal's capture and the province's data cover different days",
        lambda: (
            ((pl.col("published_denominator") > pl.col("local_denominator") + 0.5) & pl.col("_timing"))
            # captured on 26 September, compared with the data to 30 September: the portal counts fewer days
            | ((pl.col("published_denominator") < pl.col("local_denominator") - 0.5) & pl.col("_short"))
        ),
    ),
    Cause(
        "provisional_rule",
        "quy tắc tính điểm tạm tính (chưa được xác nhận)",
        "a provisional scoring rule",
        lambda: _counts_equal() & pl.col("provisional"),
    ),
    Cause(
        "counts_differ",
        "số liệu của tỉnh và của Cổng khác nhau",
        "the province's and the portal's counts differ",
        lambda: ~_counts_equal(),
    ),
    Cause(
        "points_differ", "cách tính điểm khác", "the points are computed differently", lambda: pl.lit(True)
    ),
)


def classify(table: pl.DataFrame) -> pl.DataFrame:
    """Add `cause`, `cause_vi`, `cause_en`: the first cause of `CAUSES` that applies to each row (`not_published`
    when the portal gives neither points nor counts). Needs the reconciliation columns and `_timing`; `_short`
    (the capture was taken before the last day the province's data is counted to) is false when absent."""
    if "_short" not in table.columns:
        table = table.with_columns(_short=pl.lit(False))
    cause_code = pl.lit("points_differ")
    for cause in reversed(CAUSES):  # built from the last cause outwards, so the first that applies wins
        cause_code = pl.when(cause.applies().fill_null(False)).then(pl.lit(cause.code)).otherwise(cause_code)
    names = {c.code: (c.vi, c.en) for c in CAUSES} | {
        "not_published": ("Cổng không công bố số liệu", "not published by the portal")
    }
    return table.with_columns(
        cause=pl.when(pl.col("published_points").is_null() & pl.col("published_denominator").is_null())
        .then(pl.lit("not_published"))
        .otherwise(cause_code)
    ).with_columns(
        cause_vi=pl.col("cause").replace_strict({k: v[0] for k, v in names.items()}, return_dtype=pl.String),
        cause_en=pl.col("cause").replace_strict({k: v[1] for k, v in names.items()}, return_dtype=pl.String),
    )


_GRAIN = {"year": "year", "quarter": "quarter", "month": "month"}


def _period_end(period: str, period_type: str) -> dt.date:
    if period_type == "year":
        return dt.date(int(period), 12, 31)
    if period_type == "quarter":
        year, q = period.split("-Q")
        month = int(q) * 3
    else:
        year, m = period.split("-")
        month = int(m)
    first_next = dt.date(int(year) + (month == 12), month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def _published_points(indicators: pl.DataFrame, method: ScoringMethod) -> pl.DataFrame:
    """The portal's points per indicator; where it publishes none, the points of its counts under the method."""
    counts = indicators.filter(
        pl.col("indicator").is_not_null()
        & pl.col("numerator").is_not_null()
        & pl.col("denominator").is_not_null()
    )
    if counts.is_empty():
        return indicators.with_columns(published_points_from=pl.lit(None, pl.String))
    scored = score(
        counts.select(
            pl.col("portal_id").alias("unit_id"), "period", "indicator", "numerator", "denominator"
        ).unique(["unit_id", "period", "indicator"]),
        method,
    ).indicators.filter(~pl.col("missing"))
    recomputed = scored.select(
        pl.col("unit_id").alias("portal_id"), "period", "indicator", pl.col("points").alias("_from_counts")
    )
    return (
        indicators.join(recomputed, on=["portal_id", "period", "indicator"], how="left")
        .with_columns(
            published_points_from=pl.when(pl.col("points").is_not_null())
            .then(pl.lit("portal"))
            .when(pl.col("_from_counts").is_not_null())
            .then(pl.lit("counts"))
            .when(pl.col("_from_counts").is_null() & pl.col("points").is_null())
            .then(pl.lit(None, pl.String)),
            points=pl.coalesce("points", "_from_counts"),
        )
        .drop("_from_counts")
    )


def _method_of(pub_ind: pl.DataFrame, method: ScoringMethod | str | None) -> ScoringMethod:
    """The method asked for, else the method valid for the latest imported period."""
    if method is None:
        ends = pub_ind.select("period", "period_type").unique().iter_rows()
        method = method_for(max(_period_end(str(p), str(t)) for p, t in ends))
    return method if isinstance(method, ScoringMethod) else load_method(method)


def _matched_published(
    con: duckdb.DuckDBPyConnection, pub_ind: pl.DataFrame, method: ScoringMethod, unit: str | None
) -> pl.DataFrame:
    """The published indicator figures with their points, of units matched to the province's (of `unit` only
    when given); none is an error saying how to map the portal's unit codes."""
    pub_ind = _published_points(pub_ind.filter(pl.col("indicator").is_not_null()), method)
    pub_ind = pub_ind.filter(pl.col("unit_id").is_not_null())
    if unit is not None:
        from egov_metrics.orgunits import resolve_unit

        pub_ind = pub_ind.filter(pl.col("unit_id") == resolve_unit(con, unit))
    if pub_ind.is_empty():
        raise ReconcileError(
            "no imported portal unit is matched to " + (unit or "a unit of the database"),
            "map the portal's unit codes to the province's units: egov-metrics portal import … --units map.csv",
        )
    return pub_ind


def _side_by_side(
    con: duckdb.DuckDBPyConnection, pub_ind: pl.DataFrame, method: ScoringMethod
) -> pl.DataFrame:
    """Each imported period's published figures joined with the local scores of the same units and period
    (the local period stops where the portal's capture, or the local data, stops)."""
    data_end = data_extent(con, CLOCK_SOURCE).last
    if data_end is None:
        raise ReconcileError("the database holds no dossiers", "build the demo or ingest an export first")
    frames = []
    groups = pub_ind.group_by("period", "period_type", "captured_on", maintain_order=True)
    for (period_label, period_type, captured), rows in groups:
        end = _period_end(str(period_label), str(period_type))
        # like with like, to the month: a capture on 26 September is compared with the data to 30 September
        local_end = min(end, _period_end(captured.strftime("%Y-%m"), "month"), data_end)
        local = score_units(
            con, end=local_end.strftime("%Y-%m"), grain=_GRAIN[str(period_type)], method=method
        )
        frames.append(
            rows.join(
                _local_indicators(local.indicators), on=["unit_id", "indicator"], how="inner"
            ).with_columns(
                _timing=(pl.col("captured_on") < pl.lit(end)) | pl.lit(data_end < end),
                _short=pl.col("captured_on") < pl.lit(local_end),
            )
        )
    return (
        pl.concat(frames, how="vertical_relaxed")
        .select(
            "unit_id",
            pl.coalesce("local_unit_name", "unit_name").alias("unit_name"),
            pl.col("unit_code").alias("portal_code"),
            "group",
            "indicator",
            "period_type",
            "period",
            "local_period",
            "local_numerator",
            pl.col("numerator").alias("published_numerator"),
            "local_denominator",
            pl.col("denominator").alias("published_denominator"),
            "local_rate",
            pl.col("rate").alias("published_rate"),
            "local_points",
            pl.col("points").alias("published_points"),
            "published_points_from",
            "provisional",
            "captured_on",
            "_timing",
            "_short",
        )
        .with_columns(
            numerator_diff=pl.col("local_numerator") - pl.col("published_numerator"),
            denominator_diff=pl.col("local_denominator") - pl.col("published_denominator"),
            rate_diff=(pl.col("local_rate") - pl.col("published_rate")).round(2),
            points_diff=(pl.col("local_points") - pl.col("published_points")).round(2),
            method_version=pl.lit(method.label),
        )
    )


def _local_indicators(indicators: pl.DataFrame) -> pl.DataFrame:
    return indicators.select(
        "unit_id",
        pl.col("unit_name").alias("local_unit_name"),
        "indicator",
        "provisional",
        pl.col("numerator").cast(pl.Float64).alias("local_numerator"),
        pl.col("denominator").cast(pl.Float64).alias("local_denominator"),
        pl.col("rate").alias("local_rate"),
        pl.col("points").alias("local_points"),
        pl.col("period").alias("local_period"),
    )


def reconcile(
    con: duckdb.DuckDBPyConnection | str | Path,
    *,
    unit: str | None = None,
    period: str | None = None,
    method: ScoringMethod | str | None = None,
) -> pl.DataFrame:
    """Local versus published counts, rate and points per unit, indicator and imported period."""
    if isinstance(con, str | Path):
        from egov_metrics.schema.connection import connect

        with connect(con, read_only=True) as reader:
            return reconcile(reader, unit=unit, period=period, method=method)
    pub_ind, _ = published(con, period=period)
    if pub_ind.is_empty():
        raise ReconcileError(
            "no portal figures imported" + (f" for {period}" if period else ""),
            "import the portal's saved responses first: egov-metrics portal import FILE... --period year=2026",
        )
    method = _method_of(pub_ind, method)
    table = _side_by_side(con, _matched_published(con, pub_ind, method, unit), method)
    table = classify(table)
    order = {i.id: n for n, i in enumerate(method.indicators)}
    return (
        table.with_columns(pl.col("indicator").replace_strict(order, return_dtype=pl.Int64).alias("_o"))
        .sort("unit_id", "period", "_o")
        .drop("_o", "_timing", "_short")
    )
