"""`score()`: counts → indicator points → group scores → totals, bands and ranks, with one method.

The steps: check the counts (`checks`), build the grid of units × the method's indicators (`_grid`), compute
the indicator points (`points.indicator_points`), then the groups and totals (`totals`).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from egov_metrics.scoring.arithmetic import _cents
from egov_metrics.scoring.checks import (
    _UNIT_PREFIXES,
    COUNT_COLUMNS,
    KEY_COLUMNS,
    _check_counts,
    _check_extras,
)
from egov_metrics.scoring.errors import ScoringError
from egov_metrics.scoring.loading import resolve_method
from egov_metrics.scoring.method import ScoringMethod
from egov_metrics.scoring.points import _method_table, indicator_points
from egov_metrics.scoring.result import ScoreResult
from egov_metrics.scoring.selection import method_for, period_end
from egov_metrics.scoring.totals import _group_scores, _totals

_UNIT_KEYS = ["unit_id", "period"]


def method_for_counts(counts: pl.DataFrame) -> ScoringMethod:
    """The method valid for the latest period of `counts` (by `period_end` if the counts have it, else by the
    period labels); earlier periods are scored with it too (retroactively, as the trends mark them)."""
    if "period_end" in counts.columns and counts["period_end"].drop_nulls().len():
        return method_for(counts["period_end"].cast(pl.Date).max())  # type: ignore[arg-type]
    labels = (
        counts["period"].drop_nulls().cast(pl.String).unique().to_list() if "period" in counts.columns else []
    )
    if not labels:
        raise ScoringError("the counts have no period to choose a scoring method by", "name the method")
    return method_for(max(labels, key=period_end))


def _grid(
    counts: pl.DataFrame,
    method: ScoringMethod,
    table: pl.DataFrame,
    unit_extras: list[str],
    row_extras: list[str],
) -> pl.DataFrame:
    """One row per unit, period and indicator of the method, with the counts where the counts have them."""
    known = counts.filter(pl.col("indicator").is_in(method.indicator_ids))
    units = (
        known.group_by(_UNIT_KEYS, maintain_order=True)
        .agg(pl.col(c).first() for c in unit_extras)
        .with_row_index("_unit_order")
    )
    return units.join(table, how="cross").join(
        known.select(*KEY_COLUMNS, *COUNT_COLUMNS, *row_extras), on=list(KEY_COLUMNS), how="left"
    )


def score(
    counts: pl.DataFrame,
    method: ScoringMethod | str | Path | None = None,
    *,
    peers: pl.DataFrame | None = None,
) -> ScoreResult:
    """Score every unit and period in `counts` with `method` (default: the method valid for the latest period of
    the counts, see `method_for_counts`).

    `counts` is long: unit_id, period, indicator, numerator, denominator (the engine's output, or counts
    published by the portal); other columns pass through. Rows of indicators the method does not know are
    ignored. An indicator of the method that has no row for a unit and period is scored as a zero
    denominator (its zero-denominator rule applies) and marked `missing`.

    Peers for the ranking: `peers` (columns unit_id, peer_group), else the counts' `unit_level` column,
    else all units together. `rank` is the competition rank (1, 2, 2, 4) among peers in the same period.
    """
    chosen = None if method is None else resolve_method(method)
    _check_counts(counts)
    method = chosen if chosen is not None else method_for_counts(counts)
    table = _method_table(method)
    extras = [c for c in counts.columns if c not in (*KEY_COLUMNS, *COUNT_COLUMNS)]
    _check_extras(counts, extras)
    unit_extras = [c for c in extras if c.startswith(_UNIT_PREFIXES)]
    row_extras = [c for c in extras if c not in unit_extras]
    frame = indicator_points(_grid(counts, method, table, unit_extras, row_extras), table, counts.schema)
    indicators = (
        frame.sort(["_unit_order", "_order"])
        .select(
            *_UNIT_KEYS,
            *unit_extras,
            "group",
            "indicator",
            "numerator",
            "denominator",
            _cents("_rate"),
            _cents("_points_c"),
            _cents("_max_points_c"),
            _cents("_points_lost_c"),
            "provisional",
            "basis",
            "missing",
            *row_extras,
            "_points_c",
            "_unit_order",
            method_version=pl.lit(method.label),
        )
        .collect()
    )
    groups = _group_scores(indicators, method, _UNIT_KEYS, unit_extras)
    totals = _totals(groups, method, _UNIT_KEYS, unit_extras, peers)
    return ScoreResult(
        indicators.drop("_points_c", "_unit_order"), groups.drop("_score_c", "_unit_order"), totals, method
    )
