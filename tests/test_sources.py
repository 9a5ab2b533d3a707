"""Where the data ends, per source (`sources.data_extent`), on the tiny database; the answers are read off
the fixture's rows by hand (tests/fixtures/tiny.py)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from fixtures.tiny import build_tiny_db

from egov_metrics.errors import UnknownNameError
from egov_metrics.schema import connect
from egov_metrics.sources import CLOCK_SOURCE, SOURCES, Extent, data_extent

D = dt.date


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_db(tmp_path_factory.mktemp("sources") / "tiny.duckdb")


EXPECTED = {
    # first receipt 4/3/2024 09:00; last receipt 31/12/2025 16:30 (the last decision, 29/12, is earlier)
    "dossier": Extent(D(2024, 3, 4), D(2025, 12, 31)),
    # F6 received 10/12/2024; the last event is F5's reply on 10/10/2025 (F3 is never handled)
    "feedback": Extent(D(2024, 12, 10), D(2025, 10, 10)),
    # the catalogue is a stock: its figures per period are its dossiers' activity
    "unit_procedure": Extent(D(2024, 3, 4), D(2025, 12, 31)),
    "data_exchange": Extent(D(2024, 3, 15), D(2025, 12, 31)),
    # monthly counts from January 2024 to July 2025: the data covers July to its last day
    "e_office": Extent(D(2024, 1, 1), D(2025, 7, 31)),
    "adoption": Extent(D(2024, 3, 1), D(2025, 12, 31)),
    # a year's staff plan and the declared architecture say nothing about where data ends
    "workforce": Extent(None, None),
    "arch_component": Extent(None, None),
}


def test_every_source_declares_its_extent_or_none() -> None:
    assert set(EXPECTED) == set(SOURCES)


@pytest.mark.parametrize("source", sorted(EXPECTED))
def test_the_extent_of_each_source(tiny_db: Path, source: str) -> None:
    with connect(tiny_db, read_only=True) as con:
        assert data_extent(con, source) == EXPECTED[source]


def test_the_combined_extent_is_the_earliest_first_and_latest_last_day(tiny_db: Path) -> None:
    with connect(tiny_db, read_only=True) as con:
        assert data_extent(con) == Extent(D(2024, 1, 1), D(2025, 12, 31))
        assert data_extent(con, CLOCK_SOURCE) == EXPECTED["dossier"]


def test_an_unknown_source_names_the_known_ones(tiny_db: Path) -> None:
    with (
        connect(tiny_db, read_only=True) as con,
        pytest.raises(UnknownNameError, match="unknown source 'dosier'"),
    ):
        data_extent(con, "dosier")


def test_an_empty_source_has_no_extent_and_a_write_is_seen(tiny_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(tiny_db, db)
    with connect(db, read_only=True) as con:
        assert data_extent(con, "feedback") == EXPECTED["feedback"]  # remembered for this file version
    with duckdb.connect(str(db)) as writer:
        writer.execute("DELETE FROM feedback WHERE id <> 'F1'")  # F1: received 6/1/2025, handled 24/1/2025
    with connect(db, read_only=True) as con:
        assert data_extent(con, "feedback") == Extent(D(2025, 1, 6), D(2025, 1, 24))
    with duckdb.connect(str(db)) as writer:
        writer.execute("DELETE FROM feedback")
    with connect(db, read_only=True) as con:
        assert data_extent(con, "feedback") == Extent(None, None)


@pytest.mark.parametrize(
    ("last", "month_end"),
    [
        (D(2025, 11, 30), D(2025, 11, 30)),  # a month's last day: that month is complete
        (D(2025, 11, 29), D(2025, 10, 31)),  # not: the month before
        (D(2024, 3, 1), D(2024, 2, 29)),  # leap year
        (D(2026, 1, 15), D(2025, 12, 31)),  # across a year
        (None, None),
    ],
)
def test_the_last_full_month(last: dt.date | None, month_end: dt.date | None) -> None:
    assert Extent(D(2021, 1, 1) if last else None, last).last_full_month_end == month_end
