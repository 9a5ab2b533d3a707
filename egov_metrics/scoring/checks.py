"""Checks of the counts before scoring: columns, types, empty keys, duplicates, extras that would clash.

Every kind of problem is listed at once, with the offending rows (or a file's lines).
"""

from __future__ import annotations

import polars as pl

from egov_metrics.scoring.errors import ScoringError

KEY_COLUMNS = ("unit_id", "period", "indicator")
COUNT_COLUMNS = ("numerator", "denominator")

_UNIT_PREFIXES = ("unit_", "period_")  # extra columns that describe the unit or the period


def _row_listing(frame: pl.DataFrame, first_line: int | None, limit: int = 5) -> str:
    """Up to `limit` offending rows as 'row N (unit_id, period, indicator)'."""
    rows = frame.head(limit).iter_rows(named=True)
    where = "line" if first_line is not None else "row"
    offset = first_line if first_line is not None else 1
    shown = [
        f"{where} {r['_row'] + offset} ({r.get('unit_id')}, {r.get('period')}, {r.get('indicator')})"
        for r in rows
    ]
    more = f" and {frame.height - limit} more" if frame.height > limit else ""
    return "; ".join(shown) + more


def _check_counts(counts: pl.DataFrame, first_line: int | None = None) -> None:
    """Reject what cannot be scored, listing every kind of problem at once."""
    missing = [c for c in (*KEY_COLUMNS, *COUNT_COLUMNS) if c not in counts.columns]
    if missing:
        raise ScoringError(
            f"the counts lack the column(s) {', '.join(missing)} (they have: {', '.join(counts.columns)})",
            "counts are long: one row per unit_id, period and indicator with numerator and denominator",
        )
    for col in COUNT_COLUMNS:
        dtype = counts.schema[col]
        if not (dtype.is_numeric() or dtype == pl.Null):
            raise ScoringError(
                f"column {col!r} is {dtype}, not a number",
                "give plain numbers (528684, not '528.684'); score_from_published parses text columns",
            )
    framed = counts.with_row_index("_row")
    checks = {
        "empty unit_id, period, indicator, numerator or denominator": pl.any_horizontal(
            pl.col(*KEY_COLUMNS, *COUNT_COLUMNS).is_null()
        ),
        "negative denominator": pl.col("denominator") < 0,
        "the same unit_id, period and indicator more than once": pl.struct(*KEY_COLUMNS).is_duplicated(),
    }
    problems = []
    for what, condition in checks.items():
        bad = framed.filter(condition)
        if bad.height:
            problems.append(f"{what}: {_row_listing(bad, first_line)}")
    if problems:
        raise ScoringError(
            "cannot score these counts:\n" + "\n".join(problems),
            "give one row per unit, period and indicator; "
            "leave a row out to apply the indicator's zero-denominator rule",
        )


_OUTPUT_COLUMNS = frozenset(
    {
        "group",
        "rate",
        "points",
        "max_points",
        "points_lost",
        "provisional",
        "basis",
        "missing",
        "method_version",
        "score",
        "max",
        "total",
        "band",
        "band_vi",
        "peer_group",
        "rank",
        "rank_among",
        "rank_all",
        "rank_all_among",
        "rate_diff",
        "points_diff",
    }
)


def _check_extras(counts: pl.DataFrame, extras: list[str]) -> None:
    """Extras must not shadow output columns; `unit_*`, `period_*` ones must be constant per unit, period."""
    clash = sorted(c for c in extras if c in _OUTPUT_COLUMNS or c.startswith("_"))
    if clash:
        raise ScoringError(
            f"the counts have column(s) named like score columns: {', '.join(clash)}",
            "rename or drop them before scoring",
        )
    unit_extras = [c for c in extras if c.startswith(_UNIT_PREFIXES)]
    if not unit_extras or not counts.height:
        return
    spread = counts.group_by("unit_id", "period").agg(pl.col(c).n_unique() for c in unit_extras)
    varying = [c for c in unit_extras if spread[c].max() > 1]  # type: ignore[operator]
    if varying:
        example = spread.filter(pl.col(varying[0]) > 1).row(0, named=True)
        raise ScoringError(
            f"column(s) {', '.join(varying)} vary within a unit and period "
            f"(e.g. unit {example['unit_id']!r}, period {example['period']!r})",
            "columns named unit_* or period_* describe the unit or the period and are carried to every frame",
        )
