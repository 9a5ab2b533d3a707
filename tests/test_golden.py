"""Golden answers for every catalog indicator on the tiny fixture database (tests/fixtures/tiny.py).

* `test_indicator_matches_golden_answer`: one case per catalog id and grain (plus unit splits in the current
  and historical unit versions for indicators that have a unit): the engine's numerator, denominator and value
  equal those of the independent oracle (tests/golden/oracle.py). An indicator without an oracle fails by name.
* `test_hand_computed`: literal numbers worked out by hand, checking the oracle itself as well as the engine.
* Edge cases: empty periods, zero denominators, merged units, holidays, open dossiers at period end, grains
  that add up, comparisons, and pooled roll-ups.

Working days used in the comments (2025): January has 17 (1/1 and Tết 27–31/1 off), February 20; 7/4, 30/4,
1/5, 2/5, 1/9 and 2/9 are off and Saturday 26/4 is worked. "wd(a, b)" = working days in (a, b].
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl
import pytest
from fixtures.tiny import ORG_UNITS, build_tiny_db
from golden import oracle

from egov_metrics.catalog import load_catalog
from egov_metrics.engine import compute
from egov_metrics.schema import connect

CATALOG = load_catalog()
UNIT_IDS = [i for i in CATALOG.ids if "unit" in CATALOG.get(i).dimensions]
YEAR_2025 = {"start": "2025-01-01", "end": "2025-12-31"}
FIRST, LAST = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
TOL = 1e-9
#: Communes directly under the province (not under a district).
PROVINCE_COMMUNES = [u[0] for u in ORG_UNITS if u[4] == "commune" and u[5] == "T"]


@dataclass(frozen=True)
class Case:
    grain: str = "month"
    levels: tuple[str, ...] | None = None
    version: str = "current"


CASES: dict[str, Case] = {
    "month": Case(),
    "quarter": Case(grain="quarter"),
    "year": Case(grain="year"),
    "ytd": Case(grain="ytd"),
    "month-by-unit-current": Case(levels=("department", "commune")),
    "month-by-unit-historical": Case(levels=("department", "commune"), version="historical"),
}


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    path = build_tiny_db(tmp_path_factory.mktemp("golden") / "tiny.duckdb")
    c = connect(path)
    yield c
    c.close()


@pytest.fixture(scope="module")
def data(con: duckdb.DuckDBPyConnection) -> oracle.Data:
    return oracle.load(con)


@pytest.fixture(scope="module")
def engine(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """The engine's answer for every case, all applicable indicators in one call per case."""
    out = {}
    for name, case in CASES.items():
        kwargs: dict[str, Any] = {}
        ids = CATALOG.ids
        if case.levels:
            kwargs = {"by": ["unit"], "level": list(case.levels), "unit_version": case.version}
            ids = UNIT_IDS
        out[name] = compute(ids, grain=case.grain, compare=False, db=con, **YEAR_2025, **kwargs)
    return out


# Comparison helpers -----------------------------------------------------------------------------------------

Triple = tuple[float | None, float | None, float | None]


def _cells(frame: pl.DataFrame, indicator: str) -> dict[tuple[str, str | None], Triple]:
    rows = frame.filter(pl.col("indicator") == indicator).iter_rows(named=True)
    return {(r["period"], r.get("unit_id")): (r["numerator"], r["denominator"], r["value"]) for r in rows}


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= TOL


def _empty(t: Triple) -> bool:
    """A row that says 'nothing here': zero or null everywhere."""
    return all(x is None or x == 0 for x in t)


def _differences(got: dict[tuple[str, str | None], Triple], want: dict[Any, oracle.Cell]) -> list[str]:
    """Every disagreement. Where the oracle places no record, the engine may give no row or an empty row."""
    problems = []
    for key in sorted(set(got) | set(want), key=str):
        g, w = got.get(key), want.get(key)
        if w is None or w.placed == 0:
            if g is not None and not _empty(g):
                problems.append(f"{key}: engine {g}, expected nothing (no records)")
            continue
        expected = (w.numerator, w.denominator, w.value)
        if g is None:
            problems.append(f"{key}: engine has no row, expected {expected}")
        elif not all(_close(a, b) for a, b in zip(g, expected, strict=True)):
            problems.append(f"{key}: engine (num, den, value) = {g}, expected {expected}")
    return problems


def _golden(data: oracle.Data, indicator: str, case: Case, **kwargs: Any) -> dict[Any, oracle.Cell]:
    return oracle.compute(
        data,
        indicator,
        grain=case.grain,
        first=kwargs.pop("first", FIRST),
        last=kwargs.pop("last", LAST),
        levels=case.levels,
        version=case.version,
        **kwargs,
    )


# The catalog against the oracle -------------------------------------------------------------------------------

PARAMS = [
    pytest.param(ind, name, id=f"{ind}[{name}]")
    for name, case in CASES.items()
    for ind in (UNIT_IDS if case.levels else CATALOG.ids)
]


@pytest.mark.parametrize(("indicator", "case_name"), PARAMS)
def test_indicator_matches_golden_answer(
    indicator: str, case_name: str, engine: dict[str, pl.DataFrame], data: oracle.Data
) -> None:
    if indicator not in oracle.ORACLES:
        pytest.fail(
            f"indicator {indicator!r} has no golden answer: add it to ORACLES in tests/golden/oracle.py "
            "(and, if needed, fixture rows to tests/fixtures/tiny.py that exercise it)"
        )
    case = CASES[case_name]
    want = _golden(data, indicator, case)
    problems = _differences(_cells(engine[case_name], indicator), want)
    assert not problems, f"{indicator} [{case_name}] differs from the golden answer:\n" + "\n".join(problems)


@pytest.mark.parametrize("indicator", CATALOG.ids)
def test_fixture_exercises_indicator(indicator: str, data: oracle.Data) -> None:
    """The tiny data set gives every indicator at least one non-zero value in 2025 (else the golden test is weak)."""
    if indicator not in oracle.ORACLES:
        pytest.fail(f"indicator {indicator!r} has no golden answer in tests/golden/oracle.py")
    cells = _golden(data, indicator, CASES["month"])
    assert any(c.value for c in cells.values()), f"{indicator}: the fixture never gives it a non-zero value"


def test_oracle_has_no_stale_entries() -> None:
    stale = sorted(set(oracle.ORACLES) - set(CATALOG.ids))
    assert not stale, f"golden answers for indicators no longer in the catalog: {stale}"


# Hand-computed expectations: these check the oracle itself ---------------------------------------------------

HAND = [
    # Jan 2025 on time. Finished in January: D03 (due 27/12/2024, finished 6/1: late), D04 (no due date,
    # 10 wd statutory: 24,25,26,27,30,31/12, 2,3,6,7/1 → finished 7/1 on time), D07 (received Sat 4/1, due
    # 10/1, finished 10/1: on time), D08 (due 20/1 + 3 supplement wd, finished 23/1 = wd(20/1, 23/1) = 3:
    # on time). Open at 31/1: D05 (due 17/2: on time), D06 (due 4/2: on time), D09 (2 supplements: late),
    # D11 (due 23/1, 31/1 is 1 wd later since Tết: late). D10 withdrawn: out. → 5 of 8 = 62.5 %
    ("dossiers_on_time", "2025-01", 5, 8, 62.5),
    # Feb 2025: finished D05 (on the due day 17/2: on time), D06 (5/2, 1 wd after due 4/2: late), D09 (late by
    # 2 supplements), D11 (late), D13 (27/2 ≤ 28/2: on time); open at 28/2: D12 (no due date, wd(10/2, 28/2) =
    # 14 ≤ 15: on time). → 3 of 6 = 50 %
    ("dossiers_on_time", "2025-02", 3, 6, 50.0),
    # Jun 2025: finished D17 (due 7/5, finished 3/6: late), D19 (no due date, 10 wd ≤ 10: on time), D21
    # (rejected 30/6, due 1/7: handled on time); open at 30/6: D20 due that very day (on time). → 3 of 4
    ("dossiers_on_time", "2025-06", 3, 4, 75.0),
    # Dec 2025: finished D32 (no due, wd(15/12, 29/12) = 10 ≤ 10: on time); open at 31/12: D29 (due 22/12,
    # 7 wd overdue), D30 (due 2/1/2026), D31 (due 8/1/2026). D10 withdrawn: out. → 3 of 4 = 75 %
    ("dossiers_on_time", "2025-12", 3, 4, 75.0),
    # Feb 2025 processing times, finished or returned in February (supplement days subtracted):
    # D13 wd(26/2, 27/2) = 1; D06 wd(24/1, 5/2) = 3 (3,4,5/2; Tết); D11 wd(16/1, 3/2) = 17,20,21,22,23,24/1 +
    # 3/2 = 7; D09 wd(8/1, 6/2) − 4 = 16 − 4 = 12; D05 wd(20/1, 17/2) = 4 + 5 + 5 + 1 = 15.
    # Sorted 1, 3, 7, 12, 15: median 7; p90 at rank 0.9·4 = 3.6 → 12 + 0.6·(15 − 12) = 13.8; mean 38/5 = 7.6
    ("processing_days_median", "2025-02", None, 5, 7.0),
    ("processing_days_p90", "2025-02", None, 5, 13.8),
    ("processing_days_mean", "2025-02", 38, 5, 7.6),
    # Jan 2025: D03 wd(20/12/2024, 6/1/2025) = 10, D04 10, D07 wd(Sat 4/1, 10/1) = 5, D08 13 − 3 = 10
    # → 5, 10, 10, 10: median 10, p90 at rank 2.7 → 10
    ("processing_days_median", "2025-01", None, 4, 10.0),
    ("processing_days_p90", "2025-01", None, 4, 10.0),
    # May 2025, over 30/4–2/5: D18 wd(29/4, 5/5) = 1; D16 wd(25/4, 6/5) = 26/4 (worked Saturday), 28, 29/4,
    # 5, 6/5 = 5; D34 wd(12/5, 20/5) = 6 → mean 12/3 = 4
    ("processing_days_mean", "2025-05", 12, 3, 4.0),
    # Sep 2025, over 1–2/9: D24 wd(29/8, 9/9) = 3,4,5,8,9/9 = 5; D25 wd(11/8, 12/9) − 5 = 22 − 5 = 17 → 11
    ("processing_days_mean", "2025-09", 22, 2, 11.0),
    # Overdue at 31/1: D09 (2 supplements) and D11 (due 23/1); D05, D06 within deadline → 2 of 4 open
    ("overdue_backlog", "2025-01", 2, None, 2.0),
    ("open_backlog", "2025-01", 4, None, 4.0),
    # At 31/5 only D17 is open (due 7/5): overdue
    ("overdue_backlog", "2025-05", 1, None, 1.0),
    # At 30/6 only D20 is open, due that day: not overdue
    ("overdue_backlog", "2025-06", 0, None, 0.0),
    # At 31/12: D29 overdue (due 22/12), D30 and D31 not yet due
    ("overdue_backlog", "2025-12", 1, None, 1.0),
    ("open_backlog", "2025-12", 3, None, 3.0),
    # January receipts: online D05, D07, D10; in person D06, D08, D09, D11 → 3 of 7
    ("online_share", "2025-01", 3, 7, 300 / 7),
    # December receipts: D29 in person, D30 online, D31 online, D32 in person → 2 of 4
    ("online_share", "2025-12", 2, 4, 50.0),
    # January receipts with a financial obligation: D05 (paid online), D06, D08, D09 (paid online), D10 → 2/5
    ("paid_online", "2025-01", 2, 5, 40.0),
    # December: D29 (not paid), D30 (paid), D32 (paid at the desk through the portal); D31 has no fee → 2/3
    ("paid_online", "2025-12", 2, 3, 200 / 3),
]


@pytest.mark.parametrize(
    ("indicator", "period", "num", "den", "value"), HAND, ids=[f"{h[0]}-{h[1]}" for h in HAND]
)
def test_hand_computed(
    indicator: str,
    period: str,
    num: float | None,
    den: float | None,
    value: float,
    engine: dict[str, pl.DataFrame],
    data: oracle.Data,
) -> None:
    expected = (num, den, value)
    golden = _golden(data, indicator, CASES["month"])[period, None]
    assert all(
        _close(a, b)
        for a, b in zip((golden.numerator, golden.denominator, golden.value), expected, strict=True)
    ), f"oracle {golden} ≠ hand-computed {expected}"
    got = _cells(engine["month"], indicator)[period, None]
    assert all(_close(a, b) for a, b in zip(got, expected, strict=True)), (
        f"engine {got} ≠ hand-computed {expected}"
    )


# Edge cases ---------------------------------------------------------------------------------------------------


def _row(frame: pl.DataFrame, indicator: str, period: str, unit: str | None = None) -> dict[str, Any] | None:
    rows = frame.filter((pl.col("indicator") == indicator) & (pl.col("period") == period))
    if unit is not None:
        rows = rows.filter(pl.col("unit_id") == unit)
    assert rows.height <= 1
    return rows.row(0, named=True) if rows.height else None


def _must(frame: pl.DataFrame, indicator: str, period: str, unit: str | None = None) -> dict[str, Any]:
    row = _row(frame, indicator, period, unit)
    assert row is not None, f"{indicator} has no row for {period} {unit or ''}"
    return row


def test_empty_period_is_filled_with_zero_counts(
    engine: dict[str, pl.DataFrame], con: duckdb.DuckDBPyConnection
) -> None:
    """November 2025 has no dossier received, finished or open (only the withdrawn D10, which never closed).

    Decided behaviour: a period inside the indicator's observed range always has a row; counts and sums are 0,
    ratios are 0/0 with no value (never 0 % nor 100 % for "nothing to judge"), quantiles have no value.
    """
    frame = engine["month"]
    dossier_ids = [i for i in CATALOG.ids if CATALOG.get(i).source == "dossier"]
    for indicator in dossier_ids:
        row = _must(frame, indicator, "2025-11")
        assert _empty((row["numerator"], row["denominator"], row["value"])), (indicator, row)
        aggregation = CATALOG.get(indicator).measure.aggregation
        if aggregation in ("count", "sum"):
            assert row["value"] == 0, indicator
        else:
            assert row["value"] is None, indicator
    assert _must(frame, "dossiers_received", "2025-11")["value"] == 0
    # the comparison of December with November is against 0 received, not against nothing
    compared = compute(["dossiers_received"], compare=True, db=con, **YEAR_2025)
    assert _must(compared, "dossiers_received", "2025-12")["previous_value"] == 0


def test_end_is_an_as_of_date(con: duckdb.DuckDBPyConnection) -> None:
    """A mid-month end cuts the last period: D20 received on 23/6 is not in June when end is 15/6."""
    full = compute(["dossiers_received"], grain="month", start="2025-06-01", end="2025-06-30", db=con)
    cut = compute(["dossiers_received"], grain="month", start="2025-06-01", end="2025-06-15", db=con)
    want = sum(
        1
        for d in oracle.load(con).dossiers
        if dt.date(2025, 6, 1) <= d["received_at"].date() <= dt.date(2025, 6, 15)
    )
    assert _must(cut, "dossiers_received", "2025-06")["value"] == want
    assert _must(full, "dossiers_received", "2025-06")["value"] > want
    assert _must(cut, "dossiers_received", "2025-06")["period_end"] == dt.date(2025, 6, 15)


def test_scope_to_an_ended_unit_is_an_error_in_the_current_version(con: duckdb.DuckDBPyConnection) -> None:
    from egov_metrics.engine import ComputeError

    with pytest.raises(ComputeError, match="successor"):
        compute(["dossiers_received"], unit="X1", db=con, **YEAR_2025)
    historical = compute(
        ["dossiers_received"], unit="X1", unit_version="historical", grain="year", db=con, **YEAR_2025
    )
    want = sum(1 for d in oracle.load(con).dossiers if d["unit_id"] == "X1" and d["received_at"].year == 2025)
    assert want > 0
    assert _must(historical, "dossiers_received", "2025")["value"] == want


def test_zero_denominators_give_null(engine: dict[str, pl.DataFrame]) -> None:
    month = engine["month"]
    # 31/12/2025: one NDXP connection with no traffic: 0 requests, success rate undefined
    row = _row(month, "exchange_success_rate", "2025-12")
    assert row is not None and (row["numerator"], row["denominator"], row["value"]) == (0, 0, None)
    assert _must(month, "exchange_requests", "2025-12")["value"] == 0
    # July: the only feedback handled (F4) was not rated
    row = _row(month, "feedback_satisfaction", "2025-07")
    assert row is not None and row["denominator"] == 0 and row["value"] is None
    # February, historical units: commune X2 had no documents to handle at all
    row = _row(engine["month-by-unit-historical"], "e_office_share", "2025-02", "X2")
    assert row is not None and (row["numerator"], row["denominator"], row["value"]) == (0, 0, None)
    # the new construction department has no training plan
    row = _row(engine["month-by-unit-historical"], "training_plan_done", "2025-03", "SXD-2025")
    assert row is not None and row["denominator"] == 0 and row["value"] is None


def _units(frame: pl.DataFrame, indicator: str) -> dict[str, float]:
    rows = frame.filter(pl.col("indicator") == indicator)
    return dict(zip(rows["unit_id"].to_list(), rows["numerator"].to_list(), strict=True))


def test_merged_units_roll_up_in_current_version(con: duckdb.DuckDBPyConnection, data: oracle.Data) -> None:
    """Received in 2025 per unit. Old construction SXD: D05, D12; old transport SGTVT: D09; new SXD-2025:
    D14, D15, D25, D29; Justice STP: D13, D19, D28, D32. Communes X1: D06, D10, D11, D16, D21, D34; X2: D07,
    D18, D20, D33; X3 (from 1/7): D22–D24, D26, D27, D30, D31. District H1: D08, D17."""
    kwargs: dict[str, Any] = {"grain": "year", "compare": False, "db": con, **YEAR_2025}
    levels = ["department", "district", "commune"]
    current = compute(["dossiers_received"], by=["unit"], level=levels, unit_version="current", **kwargs)
    # H1 was abolished without successor: in today's structure its dossiers belong to the province itself
    assert _units(current, "dossiers_received") == {"STP": 4, "SXD-2025": 7, "X3": 17}
    historical = compute(
        ["dossiers_received"], by=["unit"], level=levels, unit_version="historical", **kwargs
    )
    assert _units(historical, "dossiers_received") == {
        "STP": 4, "SXD": 2, "SGTVT": 1, "SXD-2025": 4, "H1": 2 + 6 + 4, "X1": 6, "X2": 4, "X3": 7,
    }  # fmt: skip
    # scoping to the new department includes the old ones' dossiers in the current version only
    for version, expected in (("current", 7), ("historical", 4)):
        scoped = compute(["dossiers_received"], unit="SXD-2025", unit_version=version, **kwargs)
        assert scoped["numerator"].to_list() == [expected], version
        golden = _golden(data, "dossiers_received", Case(grain="year", version=version), scope="SXD-2025")
        assert golden["2025", None].numerator == expected
    # D12 (old SXD) finished on 4/3, after the merger, next to D14 of the new department
    march: dict[str, Any] = {
        "grain": "month",
        "compare": False,
        "db": con,
        "start": "2025-03-01",
        "end": "2025-03-31",
    }
    by_dept: dict[str, Any] = {"by": ["unit"], "level": "department"}
    cur = compute(["dossiers_finished"], unit_version="current", **by_dept, **march)
    his = compute(["dossiers_finished"], unit_version="historical", **by_dept, **march)
    assert _units(cur, "dossiers_finished") == {"SXD-2025": 2}
    assert _units(his, "dossiers_finished") == {"SXD": 1, "SXD-2025": 1}


def test_open_dossiers_judged_at_each_period_end(engine: dict[str, pl.DataFrame]) -> None:
    """D17 (due 7/5) is open and within its deadline at 30/4, overdue at 31/5, late when it finishes on 3/6."""
    month = engine["month"]
    # April: D15 finished 18/4 on time (2 supplement wd after due 16/4); open at 30/4: D16, D17, D18 on time
    assert _must(month, "dossiers_on_time", "2025-04")["value"] == 100.0
    assert _must(month, "overdue_backlog", "2025-04")["value"] == 0
    # May: D16, D18 finished on time, D34 late (6 wd > 5, no due date), D17 open overdue → 2 of 4
    may = _must(month, "dossiers_on_time", "2025-05")
    assert (may["numerator"], may["denominator"]) == (2, 4)
    # dossier satisfaction for May: 4 − 2 overdue − 0 complaints = 2 of 4
    assert _must(month, "dossier_satisfaction", "2025-05")["value"] == 50.0


def test_holiday_spanning_dossiers(con: duckdb.DuckDBPyConnection) -> None:
    """Processing times over Tết, 30/4–2/5 and 1–2/9, per procedure and (historical) commune in 2025."""
    one: dict[str, Any] = {
        "grain": "year",
        "compare": False,
        "db": con,
        "by": ["procedure", "unit"],
        "level": "commune",
    }
    frame = compute(["processing_days_mean"], unit_version="historical", **YEAR_2025, **one)
    means = {
        (r["procedure"], r["unit_id"]): (r["numerator"], r["denominator"])
        for r in frame.iter_rows(named=True)
    }
    # X1 certification finished in 2025: D06 only (D10 withdrawn, D21 rejected) → 3 wd over Tết
    assert means["2.000815", "X1"] == (3, 1)
    # X1 civil status: D11 (7), D16 (5 over 30/4 with Saturday 26/4 worked), D34 (6) → 18 / 3
    assert means["1.001193", "X1"] == (18, 3)
    # X3 civil status: D22 wd(7/7, 10/7) = 3, D24 5 (over 1–2/9), D27 wd(13/10, 21/10) = 6 → 14 / 3
    assert means["1.001193", "X3"] == (14, 3)


#: (source, placement) pairs that place a record by one event date: longer periods pool their months.
EVENTS = {
    ("dossier", "received"), ("dossier", "finished"), ("feedback", "handled"), ("data_exchange", "day"),
    ("e_office", "month"),
}  # fmt: skip
ADDITIVE_EVENT = [
    i.id
    for i in CATALOG
    if (i.source, i.period_by) in EVENTS and i.measure.aggregation in ("count", "sum", "ratio", "mean")
]
STOCK = [i.id for i in CATALOG if i.period_by in ("open_at_end", "year", "current") or i.source == "adoption"]


@pytest.mark.parametrize("grain", ["quarter", "year", "ytd"])
def test_grains_add_up_from_months(grain: str, engine: dict[str, pl.DataFrame]) -> None:
    """Event-placed indicators: a longer period pools its months (Σnum, Σden). Stocks: the last month's figure."""
    month, longer = engine["month"], engine[grain]

    def months_of(period: str) -> list[str]:
        if grain == "quarter":
            year, q = period.split("-Q")
            return [f"{year}-{m:02d}" for m in range(3 * int(q) - 2, 3 * int(q) + 1)]
        if grain == "year":
            return [f"{period}-{m:02d}" for m in range(1, 13)]
        year, m = period.removesuffix(" YTD").split("-")
        return [f"{year}-{k:02d}" for k in range(1, int(m) + 1)]

    checked = 0
    for indicator in ADDITIVE_EVENT + STOCK:
        factor = CATALOG.get(indicator).measure.factor
        for r in longer.filter(pl.col("indicator") == indicator).iter_rows(named=True):
            parts = [_row(month, indicator, p) for p in months_of(r["period"])]
            if indicator in STOCK:
                last = parts[-1]
                assert last is not None and _close(last["value"], r["value"]), (indicator, r["period"])
                continue
            num = sum(p["numerator"] or 0 for p in parts if p)
            assert _close(r["numerator"], num), (indicator, r["period"], r["numerator"], num)
            if r["denominator"] is not None:
                den = sum(p["denominator"] for p in parts if p)
                assert _close(r["denominator"], den), (indicator, r["period"])
                value = num / den * factor if den else None
                assert _close(r["value"], value), (indicator, r["period"], r["value"], value)
            checked += 1
    assert checked > 10


RATIOS = [i.id for i in CATALOG if i.measure.aggregation in ("ratio", "mean")]


def test_comparisons_line_up(con: duckdb.DuckDBPyConnection, data: oracle.Data) -> None:
    """previous_value / year_ago_value are the golden values of the month before and of the month a year before."""
    frame = compute(RATIOS, grain="month", compare=True, db=con, **YEAR_2025)
    checked = 0
    for indicator in RATIOS:
        golden = _golden(data, indicator, CASES["month"], first=dt.date(2024, 1, 1))

        def value(period: str, golden: dict[Any, oracle.Cell] = golden) -> float | None:
            cell = golden.get((period, None))
            return cell.value if cell else None

        for r in frame.filter(pl.col("indicator") == indicator).iter_rows(named=True):
            year, m = map(int, r["period"].split("-"))
            previous = f"{year - 1}-12" if m == 1 else f"{year}-{m - 1:02d}"
            assert _close(r["previous_value"], value(previous)), (indicator, r["period"])
            assert _close(r["year_ago_value"], value(f"{year - 1}-{m:02d}")), (indicator, r["period"])
            if r["value"] is not None and r["previous_value"] is not None:
                assert _close(r["change_previous"], r["value"] - r["previous_value"])
            checked += r["year_ago_value"] is not None
    # dossiers on time: Jan 2025 follows Dec 2024 (open at 31/12/2024: D03 overdue, D04 within: 1 of 2);
    # Mar 2025 (3 of 4: D12 late, D14, D33 and the open D15 on time) against Mar 2024 (D01, D02: 100 %)
    jan = _row(frame, "dossiers_on_time", "2025-01")
    mar = _row(frame, "dossiers_on_time", "2025-03")
    assert jan is not None and jan["previous_value"] == 50.0
    assert mar is not None and mar["year_ago_value"] == 100.0 and mar["value"] == 75.0
    assert checked > 5


ROLL_UP = [i for i in UNIT_IDS if CATALOG.get(i).measure.aggregation in ("ratio", "mean")]


def _pooled(rows: list[dict[str, Any]], factor: float) -> Triple:
    num = sum(r["numerator"] or 0 for r in rows)
    den = sum(r["denominator"] or 0 for r in rows)
    return num, den, (num / den * factor if den else None)


@pytest.mark.parametrize("version", ["historical", "current"])
def test_province_is_pooled_from_its_units(version: str, con: duckdb.DuckDBPyConnection) -> None:
    """Province = Σnumerator ÷ Σdenominator of a split that covers every record exactly once.

    historical: departments + districts (with their communes) + communes directly under the province (X3);
    current: departments + communes, exhaustive from July 2025 (the abolished district H1 has no records
    left then; before, its records sit at the province itself).
    """
    kwargs: dict[str, Any] = {"grain": "month", "compare": False, "db": con, **YEAR_2025}
    province = compute(ROLL_UP, **kwargs)
    levels = ["department", "district", "commune"] if version == "historical" else ["department", "commune"]
    units = compute(ROLL_UP, by=["unit"], level=levels, unit_version=version, **kwargs)
    units = units.filter((pl.col("unit_level") != "commune") | pl.col("unit_id").is_in(PROVINCE_COMMUNES))
    first_month = "2025-01" if version == "historical" else "2025-07"
    checked = 0
    for indicator in ROLL_UP:
        factor = CATALOG.get(indicator).measure.factor
        for r in province.filter(pl.col("indicator") == indicator).iter_rows(named=True):
            if r["period"] < first_month:
                continue
            parts = units.filter((pl.col("indicator") == indicator) & (pl.col("period") == r["period"]))
            got = _pooled(list(parts.iter_rows(named=True)), factor)
            want = (r["numerator"] or 0, r["denominator"] or 0, r["value"])
            assert all(_close(a, b) for a, b in zip(got, want, strict=True)), (
                indicator,
                r["period"],
                got,
                want,
            )
            checked += 1
    assert checked > 50


def test_unit_catalogue_of_merged_units_stops_counting(engine: dict[str, pl.DataFrame]) -> None:
    """Pairs in force: Jan 8 (STP·CERT, SXD·CONS, SGTVT·CONS, H1·LAND, X1 and X2 × CERT, CIVIL); Mar 7
    (SXD-2025 replaces the two old departments); Jun 8 (STP·CRIM in force from 1/6); Jul 5 (H1 gone; X3
    replaces X1 and X2)."""
    month = engine["month"]
    counts = {
        p: _must(month, "procedures_in_force", p)["value"]
        for p in ("2025-01", "2025-03", "2025-06", "2025-07")
    }
    assert counts == {"2025-01": 8, "2025-03": 7, "2025-06": 8, "2025-07": 5}
