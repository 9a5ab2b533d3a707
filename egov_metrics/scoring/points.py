"""Indicator points: rates from counts, shares by each conversion rule, zero-denominator rules, rounding.

`indicator_points()` turns the grid of units × indicators into points in named steps: `_rates` (counts → the
rate shown), `_shares` (the rate → a share of the maximum, or the zero-denominator rule), `_redistribute`
(split / exclude: the group's other indicators share a dropped indicator's points) and, for `binary_float`
groups, `_binary_float_points`.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from egov_metrics.scoring.arithmetic import _I, _ONE, Ratio, _half_up, _scaled, _to_fixed_cents
from egov_metrics.scoring.conversions import Conversion, _get_conversion
from egov_metrics.scoring.method import ScoringMethod


def _dispatch(kinds: list[str], build: Callable[[Conversion], Ratio]) -> Ratio:
    """One when/then expression per ratio part, over the conversion rules the method uses (null otherwise)."""
    num: pl.Expr = pl.lit(None)
    den: pl.Expr = pl.lit(None)
    for kind in reversed(kinds):  # the rules are disjoint; nested from the last one outwards
        a, b = build(_get_conversion(kind))
        is_kind = pl.col("_rule") == kind
        num = pl.when(is_kind).then(a).otherwise(num)
        den = pl.when(is_kind).then(b).otherwise(den)
    return num, den


def _method_table(method: ScoringMethod) -> pl.DataFrame:
    """The per-indicator parameters as exact integers (points in hundredths, thresholds × 10 000)."""
    ind = method.indicators
    groups = {g.id: g for g in method.groups}
    return pl.DataFrame(
        {
            "indicator": [i.id for i in ind],
            "_pf": [groups[i.group].points_from or method.points_from for i in ind],
            "_arith": [groups[i.group].arithmetic or method.arithmetic for i in ind],
            "group": [i.group for i in ind],
            "provisional": [i.provisional for i in ind],
            "_rule": [i.rule.kind for i in ind],
            "_zero": [i.zero_denominator for i in ind],
            "_max": [int(i.max_points * 100) for i in ind],
            "_threshold": [
                int(i.rule.threshold * _ONE) if i.rule.threshold is not None else None for i in ind
            ],
            "_order": list(range(len(ind))),
        },
        schema_overrides={"_max": _I, "_threshold": _I, "_order": pl.Int64},
    )


def _binary_float_points(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Points of the `binary_float` indicators: min(max, rate% × max ÷ threshold ÷ 100) in IEEE doubles, left
    to right, the binary value rounded half up to 2 decimals (as JavaScript's toFixed(2) does: 93.25 × 6 ÷ 1
    ÷ 100 is 5.59499… in binary → 5.59; 45 × 2 ÷ 0.8 ÷ 100 is 1.125 exactly → 1.13).

    Exact rounding of a binary value needs its exact decimal expansion (`Decimal(float)`), so the points are
    computed once per distinct (max, rate, threshold) and joined back: a few hundred values, not one per row.
    """
    # the rate in percent as a double (93.25), correctly rounded from the exact ratio
    rate_f = ((pl.col("_pn") * 100).cast(pl.Float64) / pl.col("_pd").cast(pl.Float64)).alias("_rate_f")
    target = (
        (pl.col("_arith") == "binary_float")
        & (pl.col("basis") == "rate")
        & (pl.col("_md") == 1)
        & (pl.col("_rule") != "awarded")
    )
    frame = frame.with_columns(rate_f, _target=target)
    keys = ["_max", "_threshold", "_rate_f"]
    distinct = frame.filter("_target").select(keys).unique().collect()
    cents = [
        _to_fixed_cents(int(m), t, r) for m, t, r in distinct.iter_rows()
    ]  # one value per distinct key, not per row
    lookup = distinct.with_columns(pl.Series("_float_c", cents, dtype=_I)).lazy()
    return (
        frame.join(lookup, on=keys, how="left", nulls_equal=True)
        .with_columns(_points_c=pl.when("_target").then(pl.col("_float_c")).otherwise(pl.col("_points_c")))
        .drop("_float_c", "_target", "_rate_f")
    )


_GROUP_KEYS = ["unit_id", "period", "group"]


def _rates(frame: pl.LazyFrame, kinds: list[str], dtypes: pl.Schema) -> pl.LazyFrame:
    """Counts as exact integers (`_n`, `_d`), the rule's rate as a ratio (`_rn` / `_rd`) and the rate shown
    (`_rate`, hundredths of a percent, half up); `_has` is false for a zero denominator."""
    frame = frame.with_columns(
        _n=_scaled("numerator", dtypes["numerator"]),
        _d=_scaled("denominator", dtypes["denominator"]),
        missing=pl.col("numerator").is_null(),
    ).with_columns(_has=pl.col("_d").fill_null(0) > 0)
    rn, rd = _dispatch(kinds, lambda c: c.rate(pl.col("_n"), pl.col("_d")))
    return frame.with_columns(_rn=pl.max_horizontal(rn, pl.lit(0, _I)), _rd=rd).with_columns(
        _rate=pl.when("_has").then(_half_up(_ONE * pl.col("_rn"), pl.col("_rd")))
    )


def _shares(frame: pl.LazyFrame, kinds: list[str]) -> pl.LazyFrame:
    """The share of the maximum (`_sn` / `_sd`) from the rounded or the raw rate as the method says
    (`points_from`), or from the zero-denominator rule; `basis` says which."""
    from_rounded = pl.col("_pf") == "rounded_rate"
    pn = pl.when(from_rounded).then(pl.col("_rate")).otherwise(pl.col("_rn"))
    pd = pl.when(from_rounded).then(pl.lit(_ONE, _I)).otherwise(pl.col("_rd"))
    frame = frame.with_columns(_pn=pn, _pd=pd)
    pn, pd = pl.col("_pn"), pl.col("_pd")
    sn, sd = _dispatch(kinds, lambda c: c.share(pn, pd, pl.col("_threshold")))
    return frame.with_columns(
        basis=pl.when("_has").then(pl.lit("rate")).otherwise(pl.col("_zero")),
        _sn=pl.when("_has")
        .then(sn)
        .when(pl.col("_zero") == "full")
        .then(pl.lit(1, _I))
        .otherwise(pl.lit(0, _I)),
        _sd=pl.when("_has").then(sd).otherwise(pl.lit(1, _I)),
    )


def _redistribute(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Points and maxima in hundredths (`_points_c`, `_max_points_c`) after split / exclude: the indicator drops
    out and the other indicators of its group share its points (split: equally; exclude: in proportion to their
    maxima). With nobody left to share them, they are lost."""
    candidate = pl.col("basis").is_in(["split", "exclude"])
    frame = frame.with_columns(
        _k=(~candidate).cast(_I).sum().over(_GROUP_KEYS),
        _kept_max=pl.when(~candidate).then(pl.col("_max")).otherwise(0).sum().over(_GROUP_KEYS),
        _split=pl.when(pl.col("basis") == "split").then(pl.col("_max")).otherwise(0).sum().over(_GROUP_KEYS),
        _excl=pl.when(pl.col("basis") == "exclude").then(pl.col("_max")).otherwise(0).sum().over(_GROUP_KEYS),
    )
    dropped = candidate & (pl.col("_k") > 0)
    shared = (pl.col("_split") + pl.col("_excl") > 0) & ~candidate
    k, kept, mx = pl.col("_k"), pl.col("_kept_max"), pl.col("_max")
    return frame.with_columns(
        # effective maximum (hundredths of a point) as an exact ratio _mn / _md
        _mn=pl.when(dropped)
        .then(pl.lit(0, _I))
        .when(shared)
        .then(mx * k * kept + pl.col("_split") * kept + mx * pl.col("_excl") * k)
        .otherwise(mx),
        _md=pl.when(shared).then(k * kept).otherwise(pl.lit(1, _I)),
    ).with_columns(
        _points_c=_half_up(pl.col("_mn") * pl.col("_sn"), pl.col("_md") * pl.col("_sd")),
        _max_points_c=_half_up(pl.col("_mn"), pl.col("_md")),
    )


def indicator_points(grid: pl.DataFrame, table: pl.DataFrame, dtypes: pl.Schema) -> pl.LazyFrame:
    """The grid of units × indicators (counts joined to the method table) with rate, basis and points (in
    hundredths: `_rate`, `_points_c`, `_max_points_c`, `_points_lost_c`)."""
    kinds = sorted(set(table["_rule"]))
    frame = _redistribute(_shares(_rates(grid.lazy(), kinds, dtypes), kinds))
    if "binary_float" in set(table["_arith"]):
        frame = _binary_float_points(frame)
    return frame.with_columns(_points_lost_c=pl.col("_max_points_c") - pl.col("_points_c"))
