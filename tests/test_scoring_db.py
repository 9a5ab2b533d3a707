"""The 766 index from the province's own data: score_units on the tiny fixture, checked against the
independent oracle's counts and the method's published rules (points = max × rate, half up, 2 decimals)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl
import pytest
from fixtures.tiny import build_tiny_db
from golden import oracle
from typer.testing import CliRunner

from egov_metrics.cli import app
from egov_metrics.schema import connect
from egov_metrics.scoring import score_units


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_db(tmp_path_factory.mktemp("score") / "tiny.duckdb")


def _half_up(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_progress_points_follow_the_oracle_rate(tiny: Path) -> None:
    result = score_units(tiny, end="2025-12", grain="year", levels=("department",))
    with connect(tiny) as con:
        data = oracle.load(con)
    golden = oracle.compute(
        data,
        "dossiers_on_time",
        grain="year",
        first=dt.date(2025, 1, 1),
        last=dt.date(2025, 12, 31),
        levels=("department",),
    )
    rows = result.indicators.filter(pl.col("indicator") == "dossiers_on_time")
    assert rows.height == len(golden) > 0
    for row in rows.iter_rows(named=True):
        cell = golden["2025", row["unit_id"]]
        assert (row["numerator"], row["denominator"]) == (cell.numerator, cell.denominator)
        rate = _half_up(Decimal(int(cell.numerator)) * 100 / Decimal(int(cell.denominator)))
        assert row["rate"] == float(rate)
        assert row["points"] == float(_half_up(Decimal(20) * rate / 100))


def test_totals_are_group_sums_and_ranks_are_competition_ranks(tiny: Path) -> None:
    result = score_units(tiny, end="2025-12", grain="year", levels=("department", "commune"))
    sums = result.groups.group_by("unit_id").agg(pl.col("score").sum().round(2).alias("sum"))
    joined = result.totals.join(sums, on="unit_id")
    assert joined.height == result.totals.height > 2
    assert (joined["total"] - joined["sum"]).abs().max() < 1e-9
    for _, peers in result.totals.group_by("unit_level"):
        ordered = peers.sort("total", descending=True)
        totals, ranks = ordered["total"].to_list(), ordered["rank"].to_list()
        for i, (t, r) in enumerate(zip(totals, ranks, strict=True)):
            assert r == 1 + sum(1 for other in totals if other > t), (i, totals, ranks)


def test_score_cli_writes_totals(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    res = CliRunner().invoke(
        app, ["score", "--db", str(tiny), "--end", "2025-12", "--grain", "year", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    frame = pl.read_csv(out)
    assert {"unit_id", "total", "band", "rank"} <= set(frame.columns)
    assert frame.height >= 3


def test_a_period_before_the_dossiers_is_not_scored(small_demo_db: Path) -> None:
    """Before the first dossier only the procedure catalogue's indicators have figures: every unit was ranked
    on them, 24–29 points and "weak", units created years later included. Such a period is refused; a period
    with dossiers is scored, and with a start before the data the periods without dossiers are left out."""
    from egov_metrics.scoring import ScoringError

    with pytest.raises(ScoringError, match="no dossiers to score for the period ending 2019-12"):
        score_units(small_demo_db, end="2019-12")
    scored = score_units(small_demo_db, start="2020-11", end="2021-02", grain="month")
    assert sorted(set(scored.totals["period"])) == ["2021-01", "2021-02"]  # the demo starts in January 2021
