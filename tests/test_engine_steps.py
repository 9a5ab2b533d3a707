"""The engine's SQL builder in named steps (egov_metrics/engine): the statement's CTEs, one build per request
shape, and the two forms of a unit scope giving the same answer. The numbers themselves are checked against an
independent oracle in test_golden.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import egov_metrics
from egov_metrics.engine import api, build_query, compute, explain
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
        "aggregated_1 AS (",
        "raw AS (",
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
    real = api.statement

    def counting(shape: object) -> str:
        built.append(shape)
        return real(shape)  # type: ignore[arg-type]

    monkeypatch.setattr(api, "statement", counting)
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
