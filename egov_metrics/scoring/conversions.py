"""Conversion rules as a registry: how counts become a rate, and a rate a share of the maximum points.

Method files name a rule (`linear`, `full_at`, `awarded`, `complement_full_at`); `register_conversion()` adds one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import polars as pl

from egov_metrics.errors import UnknownNameError
from egov_metrics.scoring.arithmetic import _I, _ONE, Ratio

# --- conversion rules: a registry --------------------------------------------------------------------


@dataclass(frozen=True)
class Conversion:
    """A conversion rule: how counts become a rate, and how a rate becomes a share of the maximum points.

    Both functions take and return exact ratios (numerator, denominator) of integer (Int128) expressions:
    `rate(n, d)` gives the rate shown for the indicator; `share(rate_num, rate_den, threshold)` gives the
    share of the maximum in [0, 1], where `threshold` is the rule's threshold × 10 000 (0.8 → 8000), or
    null for rules without one.
    """

    name: str
    summary: str
    takes_threshold: bool
    rate: Callable[[pl.Expr, pl.Expr], Ratio]
    share: Callable[[pl.Expr, pl.Expr, pl.Expr], Ratio]


_CONVERSIONS: dict[str, Conversion] = {}


def register_conversion(conversion: Conversion) -> Conversion:
    """Add (or replace) a conversion rule; method files refer to it by `conversion.name`."""
    _CONVERSIONS[conversion.name] = conversion
    return conversion


def conversions() -> Mapping[str, Conversion]:
    """The registered conversion rules by name (read-only)."""
    return MappingProxyType(_CONVERSIONS)


def _get_conversion(name: str) -> Conversion:
    try:
        return _CONVERSIONS[name]
    except KeyError:
        raise UnknownNameError.from_choices("conversion rule", name, _CONVERSIONS) from None


def _rate_as_is(n: pl.Expr, d: pl.Expr) -> Ratio:
    return n, d


def _rate_complement(n: pl.Expr, d: pl.Expr) -> Ratio:
    return pl.max_horizontal(d - n, pl.lit(0, _I)), d


def _share_linear(rn: pl.Expr, rd: pl.Expr, threshold: pl.Expr) -> Ratio:
    return pl.min_horizontal(rn, rd), rd


def _share_full_at(rn: pl.Expr, rd: pl.Expr, threshold: pl.Expr) -> Ratio:
    return pl.min_horizontal(rn * _ONE, rd * threshold), rd * threshold


register_conversion(
    Conversion("linear", "points = max × rate (at most max)", False, _rate_as_is, _share_linear)
)
register_conversion(
    Conversion(
        "full_at",
        "points = min(max, max × rate ÷ threshold): full points from the threshold rate up",
        True,
        _rate_as_is,
        _share_full_at,
    )
)


def _rate_awarded(n: pl.Expr, d: pl.Expr) -> Ratio:
    return pl.lit(1, _I), pl.lit(1, _I)


register_conversion(
    Conversion(
        "awarded",
        "the portal awards full points whatever the counts (rate shown 100 %)",
        False,
        _rate_awarded,
        _share_linear,
    )
)
register_conversion(
    Conversion(
        "complement_full_at",
        "rate = 100 % − numerator ÷ denominator; points = min(max, max × rate ÷ threshold)",
        True,
        _rate_complement,
        _share_full_at,
    )
)
