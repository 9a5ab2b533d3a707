"""Exact integer arithmetic of the scores: counts × 10⁶, rates × 10 000, points in hundredths, half-up rounding.

Rates and thresholds are integers (a fraction × 10 000 = hundredths of a percent); points are hundredths of a point
(Int128); rounding is ROUND_HALF_UP on integers, never binary floating point (except where a method asks for it,
`binary_float`, which `points.py` computes with `_to_fixed_cents`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import polars as pl

_COUNT_SCALE = 10**6  # counts are taken to 6 decimals
_ONE = 10_000  # rates and thresholds as integers: a fraction × 10 000 (= hundredths of a percent)
_I = pl.Int128
Ratio = tuple[pl.Expr, pl.Expr]


def _scaled(column: str, dtype: pl.DataType) -> pl.Expr:
    """A count as an exact integer: the value × 10⁶ (fractional counts are kept to 6 decimals)."""
    if dtype.is_integer():
        return pl.col(column).cast(_I) * _COUNT_SCALE
    return (pl.col(column) * _COUNT_SCALE).round(0).cast(_I)


def _half_up(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """round(num ÷ den) half up, for num ≥ 0 and den > 0, exactly on integers."""
    return (2 * num + den) // (2 * den)


def _to_fixed_cents(max_cents: int, threshold: int | None, percent: float) -> int:
    """min(max, percent × max ÷ threshold ÷ 100) in doubles, left to right, then the binary value half up."""
    mx = max_cents / 100
    points = min(mx, max(percent, 0.0) * mx / (threshold / _ONE if threshold else 1.0) / 100)
    return int((Decimal(points) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _from_cents(cents: pl.Expr) -> pl.Expr:
    """Hundredths as the Float64 nearest to the 2-decimal value (17.68, not 17.680000000000001).

    Polars divides by a constant through its reciprocal (57 / 100 → 0.5700000000000001), so the value is
    written as text ('57e-2') and parsed, which rounds correctly.
    """
    return pl.format("{}e-2", cents).cast(pl.Float64)


def _to_cents(value: pl.Expr) -> pl.Expr:
    return (value.cast(pl.Float64) * 100).round(0).cast(pl.Int64)


def _cents(col: str) -> pl.Expr:
    return _from_cents(pl.col(col)).alias(col.removeprefix("_").removesuffix("_c"))
