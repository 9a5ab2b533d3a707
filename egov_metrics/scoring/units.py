"""Scores of the province's own units, from the engine's counts of its dossiers."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from egov_metrics.scoring.errors import ScoringError
from egov_metrics.scoring.loading import resolve_method
from egov_metrics.scoring.method import ScoringMethod
from egov_metrics.scoring.result import ScoreResult
from egov_metrics.scoring.scorer import method_for_counts, score
from egov_metrics.scoring.selection import current_methods

if TYPE_CHECKING:
    import duckdb


def score_units(
    db: str | Path | duckdb.DuckDBPyConnection | None = None,
    *,
    end: str | date | None = None,
    grain: str = "ytd",
    levels: tuple[str, ...] = ("department", "commune"),
    unit: str | None = None,
    method: ScoringMethod | str | Path | None = None,
    start: str | date | None = None,
) -> ScoreResult:
    """Score the units at `levels` for the period of `grain` that ends at `end` (default: the data's end),
    from the province's own dossiers: one engine call for all the method's indicators, then `score()`.
    With `start`, every period from `start` to `end` is scored (for trends).

    `method` defaults to the method valid for the last period scored (`method_for`): the engine counts the
    indicators of every method selectable by date, and the chosen method scores its own."""
    from egov_metrics.engine import compute

    chosen = None if method is None else resolve_method(method)
    indicators = chosen.indicator_ids if chosen is not None else _selectable_indicators()
    frame = compute(
        indicators,
        by=["unit"],
        level=levels,
        grain=grain,
        start=start if start is not None else end,
        end=end,
        unit=unit,
        compare=False,
        db=db,
    )
    # a period without dossiers (before the data starts) is not scored: the catalogue's indicators alone
    # would rank every unit, as "weak", on a few points
    from egov_metrics.catalog import load_catalog
    from egov_metrics.sources import CLOCK_SOURCE

    catalog = load_catalog()
    clocked = [i for i in indicators if i in catalog and catalog.get(i).source == CLOCK_SOURCE]
    with_dossiers = frame.filter(pl.col("indicator").is_in(clocked))["period"].unique()
    frame = frame.filter(pl.col("period").is_in(with_dossiers.implode()))
    if frame.is_empty():
        raise ScoringError(
            f"no dossiers to score for the period ending {end}", "check --end: the data may start later"
        )
    if start is None:
        frame = frame.filter(pl.col("period_end") == frame["period_end"].max())
    counts = frame.select(
        "unit_id",
        "unit_name",
        "unit_level",
        "period",
        "period_start",
        "period_end",
        "indicator",
        "numerator",
        "denominator",
    )
    if chosen is None:
        chosen = method_for_counts(counts)
        counts = counts.filter(pl.col("indicator").is_in(chosen.indicator_ids))
    return score(counts, chosen)


def _selectable_indicators() -> tuple[str, ...]:
    """The indicators of every method selectable by date, newest method first (today: one method)."""
    ids = (i for m in reversed(current_methods()) for i in m.indicator_ids)
    return tuple(dict.fromkeys(ids))
