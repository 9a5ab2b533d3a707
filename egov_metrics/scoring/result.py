"""What scoring returns: the indicators, groups and totals frames of one method."""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

from egov_metrics.scoring.method import ScoringMethod


@dataclass(frozen=True)
class ScoreResult:
    """Scores of one method for every unit and period in the counts.

    `indicators`: unit_id, period, group, indicator, numerator, denominator, rate (%, 2 dp), points,
    max_points (after any split/exclude), points_lost, provisional, basis (`rate` or the zero-denominator
    rule applied), missing (the indicator was absent from the counts), method_version.
    `groups`: unit_id, period, group, score, max, method_version.
    `totals`: unit_id, period, total, max, band, band_vi, peer_group, rank, rank_among (units in the peer
    group), rank_all, rank_all_among (all units of the period), method_version.
    Columns of the counts that are constant for a unit and period are carried to every frame.
    """

    indicators: pl.DataFrame
    groups: pl.DataFrame
    totals: pl.DataFrame
    method: ScoringMethod
    #: groups of the method with no row at all in a published file: not scored (the total covers the others)
    missing_groups: tuple[str, ...] = ()

    @property
    def method_version(self) -> str:
        return self.method.label

    def where(self, predicate: pl.Expr) -> ScoreResult:
        """The scores of the units and periods `predicate` keeps (an expression over the columns every frame
        carries: unit_id, period, and the counts' unit and period columns such as period_end)."""
        return replace(
            self,
            indicators=self.indicators.filter(predicate),
            groups=self.groups.filter(predicate),
            totals=self.totals.filter(predicate),
        )


def zero_outcome(basis: str, points: float, max_points: float) -> str:
    """What an indicator scored by a zero-denominator rule (`basis` not "rate") gave a unit, read from the
    points its group score sums, never from the rule alone: "full" or "zero"; "split" or "exclude" when the
    indicator was dropped (its maximum 0); "lost" when split / exclude left no other indicator of the group
    to take the points."""
    if basis in ("split", "exclude"):
        return basis if max_points == 0 else "lost"
    return "full" if max_points > 0 and points >= max_points else "zero"
