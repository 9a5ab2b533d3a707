"""The engine's SQL builder in named steps (egov_metrics/engine): the statement's CTEs, one build per request
shape, and the two forms of a unit scope giving the same answer. The numbers themselves are checked against an
independent oracle in test_golden.py."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

import egov_metrics
from egov_metrics.engine import Request, api, build_query, compute, explain
from egov_metrics.schema import connect


def test_egov_metrics_compute_is_the_function() -> None:
    assert callable(egov_metrics.compute)
    assert egov_metrics.compute is compute


def test_the_statement_names_each_step_as_a_cte(small_demo_db: Path) -> None:
    sql = explain(["dossiers_on_time", "online_share"], by=["unit"], db=small_demo_db).sql
    for cte in (
        "spine AS (",
        "rows_dossier AS MATERIALIZED (",
        "placed_1 AS (",
        "grouped_1 AS (",
        "grid AS (",
        "cells AS (",
        "compared AS (",
    ):
        assert cte in sql, cte
    # each group says what it places and computes
    assert (
        "-- group 1: dossier by finished_at and open at the period's end (received_at .. finished_at): "
        in sql
    )
    assert "-- group 2: dossier by received_at: online_share" in sql


def test_the_statement_is_built_once_per_request_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []
    real = api.statements

    def counting(shape: object) -> object:
        built.append(shape)
        return real(shape)  # type: ignore[arg-type]

    monkeypatch.setattr(api, "statements", counting)
    api._STATEMENTS.clear()
    end = dt.date(2026, 6, 30)
    a = build_query(["dossiers_received"], grain="quarter", start="2025-01", data_end=end)
    b = build_query(["dossiers_received"], grain="quarter", start="2024-04", end="2025-09", data_end=end)
    c = build_query(["dossiers_received"], grain="month", start="2025-01", data_end=end)
    assert len(built) == 2  # a and b share a shape; c has another grain
    assert a.sql == b.sql and a.sql != c.sql
    assert a.params["start"] == dt.date(2025, 1, 1) and b.params["start"] == dt.date(2024, 4, 1)
    assert b.params["spine_end_excl"] == dt.date(2025, 10, 1)


def test_a_scope_as_a_bound_list_and_as_a_semi_join_give_the_same_answer(small_demo_db: Path) -> None:
    con = connect(small_demo_db, read_only=True)
    try:
        ids = ["dossiers_on_time", "online_share", "processing_days_p90", "open_backlog", "feedback_on_time"]
        unit = "STP"
        frame = compute(ids, unit=unit, grain="month", start="2025-01", db=con)  # the list form
        end = api._data_end(con)
        semi = build_query(ids, unit=unit, grain="month", start="2025-01", data_end=end)
        assert "$scope_units" not in semi.sql and "ua.ancestor_id = $scope" in semi.sql
        listed = explain(ids, unit=unit, grain="month", start="2025-01", db=con)
        assert "list_contains(CAST($scope_units AS VARCHAR[])" in listed.sql
        assert isinstance(listed.params["scope_units"], list) and unit in listed.params["scope_units"]
        other = con.sql(semi.sql, params=semi.params).pl()
    finally:
        con.close()
    assert frame.height > 0
    assert frame.equals(other, null_equal=True)


# -- placement: groups, period keys, the reach filter of narrow requests ------------------------------------

#: Requests of several shapes over the demo's last months: every grain, a stock and an event placement of
#: each unit source, the unit split, a dimension, an as-of end inside a month, comparisons.
NARROW_CASES: dict[str, tuple[list[str], Request]] = {
    "backlog by unit": (
        ["overdue_backlog", "open_backlog"],
        {
            "by": ["unit"],
            "level": ("department", "commune"),
            "start": "2026-05",
            "end": "2026-05",
            "compare": False,
        },
    ),
    "kpis by procedure": (
        ["dossiers_on_time", "online_share", "processing_days_median", "dossiers_received"],
        {"by": ["procedure"], "start": "2026-04", "end": "2026-05-20", "compare": False},
    ),
    "province, every source": (
        ["dossiers_on_time", "feedback_on_time", "procedures_full_online", "e_office_share", "open_backlog"],
        {"start": "2026-03", "end": "2026-05", "compare": False},
    ),
    "province-wide sources": (
        ["exchange_requests", "exchange_success_rate", "online_users", "vneid_users", "arch_readiness"],
        {"start": "2026-02", "end": "2026-05", "compare": False},
    ),
    "workforce by unit": (
        ["staff_trained", "training_plan_done", "dossiers_received"],
        {"by": ["unit"], "grain": "quarter", "start": "2026-Q1", "end": "2026-Q2", "compare": False},
    ),
    "quarter": (
        ["dossiers_on_time", "open_backlog"],
        {"grain": "quarter", "start": "2026-Q1", "compare": False},
    ),
    "ytd": (
        ["dossiers_on_time", "processing_days_p90", "feedback_on_time"],
        {"by": ["unit"], "grain": "ytd", "start": "2026-05", "end": "2026-05", "compare": False},
    ),
}


@pytest.mark.parametrize("case", list(NARROW_CASES))
def test_a_narrow_request_reads_only_the_rows_it_can_place_and_gives_the_same_answer(
    case: str, small_demo_db: Path
) -> None:
    """A request over a small part of the data filters the rows before the source's joins (`Shape.narrow`);
    the same request built as a wide one (no `data_start`, so no filter) gives the same frame."""
    indicators, request = NARROW_CASES[case]
    con = connect(small_demo_db, read_only=True)
    try:
        extent = api.data_extent(con, api.CLOCK_SOURCE)
        assert extent.first is not None and extent.last is not None
        narrow = build_query(indicators, data_end=extent.last, data_start=extent.first, **request)
        wide = build_query(indicators, data_end=extent.last, **request)
        # the reach filter on the source's rows: an event date in the periods, or a stock started before the end
        reach = re.compile(r"\(\(s\.\w+ (>= |< \$data_end_excl)")
        assert reach.search(narrow.sql) and not reach.search(wide.sql)
        a = con.sql(narrow.sql, params=narrow.params).pl()
        b = con.sql(wide.sql, params=wide.params).pl()
        via_compute = compute(indicators, db=con, **request)
    finally:
        con.close()
    assert a.height > 0
    assert a.equals(b, null_equal=True)
    assert via_compute.equals(a, null_equal=True)  # compute() passes the data's first day


def test_a_request_over_most_of_the_data_is_not_narrow(small_demo_db: Path) -> None:
    """Narrow: the periods span at most 1/8 of the data's days (5.5 years in the small demo)."""
    con = connect(small_demo_db, read_only=True)
    try:
        extent = api.data_extent(con, api.CLOCK_SOURCE)
    finally:
        con.close()
    assert extent.first == dt.date(2021, 1, 1) and extent.last is not None
    first, last = extent.first, extent.last
    ids = ["open_backlog"]
    # a month and the same month a year earlier (compare): 13 months of 66, more than 1/8
    month_compared = build_query(
        ids, by=["unit"], start="2026-05", end="2026-05", data_end=last, data_start=first
    )
    # eight months: less than 1/8
    months = build_query(
        ids, by=["unit"], start="2025-11", end="2026-06", compare=False, data_end=last, data_start=first
    )
    without_start = build_query(ids, by=["unit"], start="2026-05", compare=False, data_end=extent.last)
    assert "s.received_at < $data_end_excl" not in month_compared.sql
    assert "s.received_at < $data_end_excl" in months.sql
    assert "s.received_at < $data_end_excl" not in without_start.sql  # the data's first day unknown


def test_an_indicator_joins_the_group_that_already_places_its_rows() -> None:
    """`open_backlog` (open at the period's end) asked with `received` and `finished_or_open` indicators joins
    the group placing dossiers by finished date and open: the open dossiers are expanded to their periods
    once."""
    end = dt.date(2026, 6, 30)
    ids = ["dossiers_received", "dossiers_on_time", "open_backlog", "overdue_backlog"]
    sql = build_query(ids, by=["unit"], start="2025-01", compare=False, data_end=end).sql
    assert sql.count("generate_series(") == 1
    assert "-- group 1: dossier by received_at: dossiers_received\n" in sql
    assert (
        "-- group 2: dossier by finished_at and open at the period's end (received_at .. finished_at): "
        "dossiers_on_time, open_backlog, overdue_backlog\n" in sql
    )


def test_each_placement_date_is_truncated_once() -> None:
    """The finished date places a dossier by its event, tests whether it may be open and bounds its open
    periods: it is truncated to the period once, with the source's rows."""
    end = dt.date(2026, 6, 30)
    sql = build_query(
        ["dossiers_on_time", "online_share"], by=["unit"], start="2025-01", compare=False, data_end=end
    ).sql
    assert sql.count("date_trunc('month', s.finished_at)") == 1
    assert sql.count("date_trunc('month', s.received_at)") == 1
    assert "_key_finished_at" in sql and "_key_received_at" in sql


def test_a_callers_connection_is_left_free(small_demo_db: Path) -> None:
    """compute() runs its statement with con.execute (bound once) and reads every row: the caller's connection
    takes the next statement at once. (That the frame is the statement's answer: test_engine_assembly.py.)"""
    con = connect(small_demo_db, read_only=True)
    try:
        frame = compute(["dossiers_on_time", "open_backlog"], by=["unit"], start="2026-01", db=con)
        assert con.sql("SELECT 42").fetchall() == [(42,)]
    finally:
        con.close()
    assert frame.height > 0


def test_counting_boolean_expressions_gives_the_answer_of_summing_them(
    small_demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Boolean numerators and denominators are counted (`count_if`) once the catalog's check knows their type;
    without that knowledge they are summed as 1/0, as before. Both statements give the same frame for the
    whole catalog, including cells whose boolean is NULL on every row (`count_if` alone would give NULL)."""
    from egov_metrics.catalog import load_catalog, model

    catalog = load_catalog()
    unit_ids = [i for i in catalog.ids if "unit" in catalog.get(i).dimensions]
    requests: list[tuple[list[str], Request]] = [
        (catalog.ids, Request(grain="month", start="2024-01")),
        (unit_ids, Request(by=["unit"], level=["department", "commune"], grain="quarter", compare=False)),
    ]
    con = connect(small_demo_db, read_only=True)
    try:
        counted = [compute(ids, db=con, **req) for ids, req in requests]
        typed = [explain(ids, db=con, **req).sql for ids, req in requests]
        monkeypatch.setattr(model, "_TYPES", {})
        api._STATEMENTS.clear()
        summed = [compute(ids, db=con, **req) for ids, req in requests]
        untyped = [explain(ids, db=con, **req).sql for ids, req in requests]
    finally:
        con.close()
        api._STATEMENTS.clear()
    for sql, plain in zip(typed, untyped, strict=True):
        assert "count_if((channel = 'online'))" in sql and "count_if((channel" not in plain
    for a, b in zip(counted, summed, strict=True):
        assert a.height > 1000
        assert a.equals(b, null_equal=True)


@pytest.mark.parametrize(
    ("grain", "start", "end", "uncompared"),
    [
        ("quarter", "2025-Q3", "2026-05-15", {"2026-Q2": ("p", "y")}),  # April to mid-May of a quarter
        ("year", "2025", "2026-03-31", {"2026": ("p", "y")}),  # a quarter of a year
        ("month", "2026-02", "2026-04-20", {"2026-04": ("p", "y")}),  # twenty days of a month
        ("ytd", "2025-11", "2026-02-28", {"2026-01 YTD": ("p",)}),  # January is not compared with December
    ],
)
def test_a_period_cut_short_is_not_compared_with_whole_ones(
    small_demo_db: Path, grain: str, start: str, end: str, uncompared: dict[str, tuple[str, ...]]
) -> None:
    """October–November's dossiers set against a whole fourth quarter's read as a fall of a third. A count in a
    period cut short by the requested end (or the data's) has no previous or year-ago value, and year to date
    January's no previous one (that would be the whole year before); the other periods keep theirs, and a
    share is compared in every period. The statement `explain` shows gives the same answer as `compute`."""
    ids = ["dossiers_received", "online_share"]
    frame = compute(ids, grain=grain, start=start, end=end, db=small_demo_db)
    con = connect(small_demo_db, read_only=True)
    query = explain(ids, grain=grain, start=start, end=end, db=con)
    sql = con.sql(query.sql, params=query.params).pl()
    columns = ["indicator", "period", "value", "previous_value", "year_ago_value"]
    assert sql.select(columns).equals(frame.select(columns))
    for row in frame.iter_rows(named=True):
        # a count grows with its period's length; a share of part of a period is still compared
        missing = uncompared.get(row["period"], ()) if row["indicator"] == "dossiers_received" else ()
        assert (row["previous_value"] is None) == ("p" in missing), row
        assert (row["year_ago_value"] is None) == ("y" in missing), row


def test_one_name_given_as_a_string_is_that_name(small_demo_db: Path) -> None:
    """compute("online_share") answered "unknown indicator 'o'", and by="channel" "unknown dimension 'c'"."""
    one = compute("online_share", by="channel", grain="year", start="2025", end="2025", db=small_demo_db)
    listed = compute(
        ["online_share"], by=["channel"], grain="year", start="2025", end="2025", db=small_demo_db
    )
    assert one.equals(listed) and set(one["indicator"]) == {"online_share"}


def test_a_start_after_the_data_says_where_the_data_ends(small_demo_db: Path) -> None:
    """A start after the data was reported as "start … is after end …, swap --from and --to", in Python too,
    even when no end was given."""
    from egov_metrics.engine.request import ComputeError

    with pytest.raises(ComputeError) as err:
        compute(["online_share"], start="2030-01", db=small_demo_db)
    assert "after the data's last day (2026-06-30)" in err.value.message
    assert (
        err.value.hint is not None and "runs to 2026-06-30" in err.value.hint and "swap" not in err.value.hint
    )
    with pytest.raises(ComputeError, match="is after end 2025-01-31"):
        compute(["online_share"], start="2025-06", end="2025-01", db=small_demo_db)


def test_compute_by_path_beside_the_callers_own_duckdb_connection(small_demo_db: Path) -> None:
    """A planner who opened the file with duckdb.connect(path, read_only=True) and then called
    compute(db=path) got DuckDB's "different configuration" error: the second connection now shares it."""
    import duckdb

    own = duckdb.connect(str(small_demo_db), read_only=True)
    try:
        frame = compute(["online_share"], start="2026-01", end="2026-03", db=small_demo_db)
        assert frame.height == 3
        assert own.sql("SELECT count(*) FROM dossier").fetchall()[0][0] > 0  # the caller's still works
    finally:
        own.close()


def test_an_indicator_named_twice_is_answered_once(small_demo_db: Path) -> None:
    """`egov-metrics compute X X` (or compute(["X", "X"])) returned every row twice."""
    twice = compute(["online_share", "online_share"], start="2026-01", end="2026-03", db=small_demo_db)
    once = compute(["online_share"], start="2026-01", end="2026-03", db=small_demo_db)
    assert twice.equals(once) and once.height == 3
