"""Source lookups (columns behind a join of their own, joined only when a request reads them) and the warm
call's memo of the unit a caller names. The synced-on-time figures are checked against a count in Python
from the raw rows (the calendar's working-day index looked up per day), not against the engine's SQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from egov_metrics.engine import api, compute, explain
from egov_metrics.errors import UnknownNameError
from egov_metrics.schema import connect
from egov_metrics.sources import Lookup, Placement, Source

CORE = [
    "dossiers_on_time",
    "online_share",
    "processing_days_median",
    "processing_days_p90",
    "data_reuse",
    "dossiers_digitized",
]


def test_a_request_that_reads_no_lookup_column_has_no_lookup_join(small_demo_db: Path) -> None:
    core = explain(CORE, by=["unit"], level="department", db=small_demo_db).sql
    assert "calendar_day cs" not in core and "sync_wd" not in core
    synced = explain(["dossiers_synced_on_time", "online_share"], db=small_demo_db).sql
    assert synced.count("LEFT JOIN calendar_day cs ON cs.day = CAST(s.synced_at AS DATE)") == 1


def test_the_calendar_joins_of_finish_and_deadline_are_made_only_when_read(small_demo_db: Path) -> None:
    finish = "LEFT JOIN calendar_day cf ON cf.day = CAST(s.finished_at AS DATE)"
    due = "LEFT JOIN calendar_day cd ON cd.day = CAST(s.due_at AS DATE)"
    plain = explain(["online_share", "dossiers_received", "data_reuse"], db=small_demo_db).sql
    assert finish not in plain and due not in plain
    days = explain(["processing_days_median", "online_share"], db=small_demo_db).sql
    assert days.count(finish) == 1 and due not in days
    on_time = explain(["dossiers_on_time"], by=["unit"], level="department", db=small_demo_db).sql
    assert on_time.count(finish) == 1 and on_time.count(due) == 1


def _raw_rows_and_2025(db: Path, rows_sql: str, indicator: str) -> tuple[dict, list[tuple], pl.DataFrame]:
    """The calendar's working-day index per day, the raw rows of `rows_sql`, and the engine's monthly answer
    for 2025 of `indicator`: what a test recounts in Python and what it checks."""
    con = connect(db, read_only=True)
    try:
        wd = dict(con.sql("SELECT day, wd_index FROM calendar_day").fetchall())
        rows = con.sql(rows_sql).fetchall()
        frame = compute([indicator], start="2025-01", end="2025-12", compare=False, db=con)
    finally:
        con.close()
    return wd, rows, frame


def test_processing_days_median_matches_a_median_from_the_raw_rows(small_demo_db: Path) -> None:
    """Working days from receipt to finish, less the days paused for the applicant, of the dossiers finished
    (or returned) in each month: the calendar's index looked up per day in Python, the median by `statistics`."""
    import statistics

    wd, rows, frame = _raw_rows_and_2025(
        small_demo_db,
        "SELECT received_at, finished_at, supplement_days FROM dossier WHERE status IN ('finished', 'returned') "
        "AND finished_at >= DATE '2025-01-01' AND finished_at < DATE '2026-01-01'",
        "processing_days_median",
    )
    days: dict[str, list[int]] = {}
    for received, finished, paused in rows:
        elapsed = max(wd[finished.date()] - wd[received.date()] - paused, 0)
        days.setdefault(f"{finished:%Y-%m}", []).append(elapsed)
    got = {r["period"]: (r["value"], r["denominator"]) for r in frame.iter_rows(named=True)}
    assert len(days) == 12 and min(len(v) for v in days.values()) > 10
    assert got == {m: (float(statistics.median(v)), float(len(v))) for m, v in days.items()}


def test_select_adds_a_lookup_only_for_texts_naming_one_of_its_columns() -> None:
    source = Source(
        "t",
        "SELECT x.a, x.d FROM x",
        dimensions={"unit": "a"},
        placements={"day": Placement(event="d")},
        lookups=(Lookup(join="LEFT JOIN y ON y.k = s.a", columns={"b_wd": "y.v - 1"}),),
    )
    assert source.select(["a = 1", "b_wd_total > 0"]) == "SELECT x.a, x.d FROM x"  # a longer word
    assert "AS b_wd" in source.select(["coalesce(B_WD, 0) <= 1"])  # SQL names ignore case
    assert "LEFT JOIN y ON y.k = s.a" in source.select()  # None: every lookup (e.g. to check expressions)


def test_dossiers_synced_on_time_matches_a_count_from_the_raw_rows(small_demo_db: Path) -> None:
    wd, rows, frame = _raw_rows_and_2025(
        small_demo_db,
        "SELECT received_at, synced_to_national, synced_at FROM dossier "
        "WHERE received_at >= DATE '2025-01-01' AND received_at < DATE '2026-01-01'",
        "dossiers_synced_on_time",
    )
    expected: dict[str, list[int]] = {}
    late_synced = 0  # the case the lookup decides: synced, but more than a working day after receipt
    for received, synced, synced_at in rows:
        month = f"{received:%Y-%m}"
        counts = expected.setdefault(month, [0, 0])
        counts[1] += 1
        late = synced_at is not None and wd[synced_at.date()] - wd[received.date()] > 1
        counts[0] += bool(synced) and not late
        late_synced += bool(synced) and late
    got = {r["period"]: (r["numerator"], r["denominator"]) for r in frame.iter_rows(named=True)}
    assert len(expected) == 12 and sum(d for _, d in expected.values()) > 1000 and late_synced > 0
    assert got == {m: (float(n), float(d)) for m, (n, d) in expected.items()}
    assert 0 < sum(n for n, _ in expected.values()) < sum(d for _, d in expected.values())


def test_a_named_unit_is_resolved_once_per_database_version(
    small_demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import egov_metrics.orgunits as orgunits

    calls: list[str] = []
    real = orgunits.resolve_unit

    def counting(con: object, text: str, **kw: object) -> str:
        calls.append(text)
        return real(con, text, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(orgunits, "resolve_unit", counting)
    api._UNIT_IDS.clear()
    con = connect(small_demo_db, read_only=True)
    try:
        unit = con.sql("SELECT name_vi FROM org_unit WHERE id = 'STP'").fetchall()[0][0]
        first = compute(["dossiers_received"], unit=unit, start=dt.date(2025, 1, 1), db=con)
        again = compute(["dossiers_received"], unit=unit, start=dt.date(2025, 1, 1), db=con)
        by_id = compute(["dossiers_received"], unit="STP", start=dt.date(2025, 1, 1), db=con)
        assert first.equals(again) and first.equals(by_id)
        assert calls == [unit, "STP"]  # the second call by name was answered from the memo
        for _ in range(2):  # an unknown name is not remembered: it fails with its hint every time
            with pytest.raises(UnknownNameError, match="unknown org unit"):
                compute(["dossiers_received"], unit="Sở Không Có", db=con)
        assert calls[2:] == ["Sở Không Có", "Sở Không Có"]
    finally:
        con.close()
