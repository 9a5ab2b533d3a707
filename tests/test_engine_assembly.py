"""The engine's two final steps (egov_metrics/engine/assembly.py): DuckDB runs the statement's CTEs with a wide
final SELECT (one row per period × dimensions) and `reshape` makes the long answer in polars; `explain()` shows,
and ClickHouse runs, the statement that makes the long answer in SQL. The two must give the same frame, and
`reshape` is also checked on a small grid whose answer is worked out by hand below."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlglot
from sqlglot import exp

from egov_metrics.catalog import load_catalog
from egov_metrics.engine import api, compute, explain
from egov_metrics.engine.assembly import Layout, NotDense, reshape
from egov_metrics.schema import connect

_UNIT = [i.id for i in load_catalog().supporting(["unit"])]

#: Requests of every kind of shape: grains, dimensions, names, comparisons, scopes, unit versions.
REQUESTS: dict[str, tuple[list[str] | None, dict[str, Any]]] = {
    "whole catalog, province, months": (None, {}),
    "by unit, departments": (_UNIT, {"by": ["unit"], "level": "department"}),
    "by unit, two levels, named, English": (
        _UNIT,
        {"by": ["unit"], "level": ["department", "commune"], "names": True, "lang": "en"},
    ),
    "historical districts": (
        _UNIT,
        {"by": ["unit"], "level": "district", "unit_version": "historical", "start": "2024-01"},
    ),
    "by field, named": (
        ["online_share", "dossiers_on_time", "processing_days_median", "open_backlog"],
        {"by": ["field"], "names": True},
    ),
    "by channel, quarters": (
        ["online_share", "dossiers_received", "overdue_backlog"],
        {"by": ["channel"], "grain": "quarter"},
    ),
    "by procedure, years": (
        ["online_share", "dossiers_received", "dossier_satisfaction"],
        {"by": ["procedure"], "grain": "year"},
    ),
    "year to date": (
        ["dossiers_on_time", "open_backlog", "dossiers_finished"],
        {"grain": "ytd", "start": "2025-01"},
    ),
    "by unit and channel, no comparison": (
        [i.id for i in load_catalog().supporting(["unit", "channel"])],
        {"by": ["unit", "channel"], "level": "department", "start": "2026-01", "compare": False},
    ),
    "one month, named": (None, {"start": "2026-06", "names": True, "lang": "en"}),
    "procedures by unit": (
        ["procedures_online", "feedback_on_time", "e_office_share"],
        {"by": ["unit"], "level": "department"},
    ),
}


@pytest.mark.parametrize("case", list(REQUESTS))
def test_the_statement_and_the_reshaped_wide_rows_give_the_same_answer(
    small_demo_db: Path, case: str
) -> None:
    ids, request = REQUESTS[case]
    con = connect(small_demo_db, read_only=True)
    try:
        answer = compute(ids, db=con, **request)
        query = explain(ids, db=con, **request)
        long = con.sql(query.sql, params=query.params).pl()
    finally:
        con.close()
    assert answer.height > 0
    assert answer.schema == long.schema
    assert answer.equals(long, null_equal=True)


@pytest.mark.parametrize("case", list(REQUESTS))
def test_the_statement_reads_the_grid_and_its_cells_once(small_demo_db: Path, case: str) -> None:
    """The grid, its cells and their comparisons are each read by one reference: an engine that inlines CTEs
    (ClickHouse does) computes a CTE again for every reference, and a self-join of `cells` for the previous
    period and a year earlier computed the groups three times there. The comparisons come from windows."""
    ids, request = REQUESTS[case]
    sql = explain(ids, db=small_demo_db, **request).sql
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    reads = Counter(t.name for t in tree.find_all(exp.Table) if t.name in ctes)
    steps = {"grid", "cells", *(["compared"] if request.get("compare", True) else [])}
    assert steps <= ctes and ("compared" in ctes) == ("compared" in steps)
    assert {name: reads[name] for name in steps} == dict.fromkeys(steps, 1)


def test_compute_runs_the_wide_statement_and_not_the_long_one(
    small_demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    real = api._fetch

    def spy(con: Any, query: api.Query) -> pl.DataFrame:
        ran.append(query.sql)
        return real(con, query)

    monkeypatch.setattr(api, "_fetch", spy)
    frame = compute(["online_share", "open_backlog"], by=["unit"], level="department", db=small_demo_db)
    long = explain(["online_share", "open_backlog"], by=["unit"], level="department", db=small_demo_db).sql
    assert frame.height > 0
    assert len(ran) == 1 and ran[0] != long and "AS shown" in ran[0]


# -- reshape on a grid worked out by hand ------------------------------------------------------------------------
#
# Two units (U1, U2) × four months (Jan–Apr 2026); from February on they are shown (January is there for the
# comparisons). Indicator A (a count) has records in U1 in February and April; B (a ratio) in U1 in January and
# in U2 in March. A's range is February–April, on U1 only; B's is January–March, on both units. A cell without
# records carries its zero-filled figures (the SQL writes them). "A year earlier" is 2 periods back here.

MONTHS = [dt.date(2026, m, 1) for m in (1, 2, 3, 4)]
ENDS = [dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31), dt.date(2026, 4, 30)]


def _grid() -> pl.DataFrame:
    rows = []
    for unit in ("U1", "U2"):
        for k, start in enumerate(MONTHS):
            a_here = unit == "U1" and k in (1, 3)
            b_here = (unit, k) in (("U1", 0), ("U2", 2))
            rows.append(
                {
                    "shown": k >= 1,
                    "compare_previous": True,  # every period whole (`_comparable`)
                    "compare_year": True,
                    "period": start.strftime("%Y-%m"),
                    "period_start": start,
                    "period_end": ENDS[k],
                    "unit_id": unit,
                    "present_0": a_here,
                    "f0": float(10 + k) if a_here else 0.0,  # A's numerator (= its value)
                    "f1": None,  # A's denominator
                    "f2": float(10 + k) if a_here else 0.0,  # A's value
                    "present_1": b_here,
                    "f3": float(k + 1) if b_here else 0.0,  # B's numerator
                    "f4": 4.0 if b_here else 0.0,  # B's denominator
                    "f5": 25.0 * (k + 1) if b_here else None,  # B's value
                }
            )
    return pl.DataFrame(rows, schema_overrides={"f1": pl.Float64, "f5": pl.Float64})


LAYOUT = Layout(
    shared=("period", "period_start", "period_end", "unit_id"),
    indicators=(("A", "count", 0, "higher"), ("B", "percent", 2, "higher")),
    columns=(("present_0", "f0", "f1", "f2"), ("present_1", "f3", "f4", "f5")),
    names=False,
    compare=True,
    year_steps=2,
)

# (indicator, period, unit, numerator, denominator, value, previous, year ago), by hand from the grid above
EXPECTED = [
    ("A", "2026-02", "U1", 11.0, None, 11.0, None, None),  # January is before A's range
    ("A", "2026-03", "U1", 0.0, None, 0.0, 11.0, None),  # zero-filled; a year back is January
    ("A", "2026-04", "U1", 13.0, None, 13.0, 0.0, 11.0),
    ("B", "2026-02", "U1", 0.0, 0.0, None, 25.0, None),
    ("B", "2026-03", "U1", 0.0, 0.0, None, None, 25.0),
    ("B", "2026-02", "U2", 0.0, 0.0, None, None, None),  # January is in B's range: 0/0, no value
    ("B", "2026-03", "U2", 3.0, 4.0, 75.0, None, None),
]


def test_reshape_keeps_each_indicator_range_and_finds_the_earlier_periods() -> None:
    out = reshape(_grid(), LAYOUT, {"unit_version": "current"})
    got = out.select(
        "indicator",
        "period",
        "unit_id",
        "numerator",
        "denominator",
        "value",
        "previous_value",
        "year_ago_value",
    ).rows()
    assert got == EXPECTED
    assert out.columns == [
        "indicator", "period", "period_start", "period_end", "unit_id", "numerator", "denominator", "value",
        "unit", "decimals", "direction", "unit_version", "previous_value", "year_ago_value", "change_previous",
        "change_year_ago",
    ]  # fmt: skip
    assert out["unit"].to_list() == ["count"] * 3 + ["percent"] * 4
    assert out["decimals"].dtype == pl.Int32 and out["decimals"].to_list() == [0] * 3 + [2] * 4
    assert set(out["unit_version"]) == {"current"}
    assert out["change_previous"].to_list() == [None, -11.0, 13.0, None, None, None, None]
    assert out["change_year_ago"].to_list() == [None, None, 2.0, None, None, None, None]


def test_reshape_compares_a_figure_that_grows_with_its_period_only_over_equal_spans() -> None:
    """A period cut short by the data's end (or January year to date, for the previous period) is marked by
    the statement (`compare_previous`, `compare_year` false): there an indicator whose figure grows with its
    period's length (a count of events: A) gets no comparison, one that does not (a share: B) keeps its own;
    the other periods keep theirs."""
    last = _grid()["period"].max()
    cut = _grid().with_columns(
        (pl.col("period") != last).alias("compare_previous"), (pl.col("period") != last).alias("compare_year")
    )
    layout = dataclasses.replace(LAYOUT, by_length=(True, False))
    out = reshape(cut, layout, {"unit_version": "current"})
    whole = reshape(_grid(), layout, {"unit_version": "current"})
    for column in ("previous_value", "year_ago_value", "change_previous", "change_year_ago"):
        got = out.select("indicator", "period", column).rows()
        want = [
            (i, p, None if (p == last and i == "A") else v)
            for i, p, v in whole.select("indicator", "period", column).rows()
        ]
        assert got == want, column
    assert (
        whole.filter(pl.col("period") == last, pl.col("indicator") == "A")["change_previous"]
        .drop_nulls()
        .len()
    )
    assert reshape(cut, LAYOUT, {"unit_version": "current"}).equals(whole)  # no indicator grows: all compared


def test_reshape_of_no_rows_has_the_columns_and_no_rows() -> None:
    out = reshape(_grid().head(0), LAYOUT, {"unit_version": "current"})
    assert out.height == 0
    assert out.columns[:5] == ["indicator", "period", "period_start", "period_end", "unit_id"]
    assert out.schema["value"] == pl.Float64


def test_reshape_refuses_rows_that_are_not_a_dense_grid() -> None:
    with pytest.raises(NotDense):
        reshape(_grid().filter(~((pl.col("unit_id") == "U2") & (pl.col("period") == "2026-03"))), LAYOUT, {})


def test_the_sources_own_sql_compares_coded_columns_with_known_codes_only() -> None:
    """A derived column of a source (e.g. the dossier's `complained`: a complaint or a 'dissatisfied' rating)
    is held to the catalog's literal check: a renamed code would otherwise match nothing and say 0 %."""
    import re

    from egov_metrics.catalog.model import literal_comparisons
    from egov_metrics.codes import column_codes
    from egov_metrics.sources import SOURCES

    checked = 0
    for name, source in SOURCES.items():
        codes = column_codes(name)
        unqualified = re.sub(r"\b[A-Za-z_]\w*\.(?=[A-Za-z_])", "", source.select())  # d.rating -> rating
        for column, value in literal_comparisons(unqualified):
            if column in codes:
                checked += 1
                assert value in codes[column], f"{name}: {column} = {value!r}"
    assert checked >= 1  # the dossier's rating = 'dissatisfied' at least
