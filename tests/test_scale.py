"""Scale settings: a memory limit and a spill directory for every connection (EGOV_MEMORY_LIMIT, EGOV_TEMP_DIR),
and the engine's per-file memo of where the data ends (never stale after a write)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from egov_metrics.engine import compute
from egov_metrics.errors import SchemaError
from egov_metrics.schema import connect


def test_connections_take_the_memory_limit_and_spill_directory_from_the_environment(
    small_demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EGOV_MEMORY_LIMIT", "300MB")
    monkeypatch.setenv("EGOV_TEMP_DIR", str(tmp_path / "spill"))
    with connect(small_demo_db) as con:
        limit, temp = con.sql(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchall()[0]
    assert temp == str(tmp_path / "spill")
    assert limit.endswith("MiB") and 280 <= float(limit.split()[0]) <= 300  # 300 MB = 286.1 MiB


def test_without_the_variables_duckdb_keeps_its_defaults(
    small_demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EGOV_MEMORY_LIMIT", raising=False)
    monkeypatch.delenv("EGOV_TEMP_DIR", raising=False)
    with connect(small_demo_db) as con, duckdb.connect() as plain:
        ours = con.sql("SELECT current_setting('memory_limit')").fetchall()
        default = plain.sql("SELECT current_setting('memory_limit')").fetchall()
    assert ours == default


def test_a_bad_memory_limit_names_the_variable_and_the_fix(
    small_demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EGOV_MEMORY_LIMIT", "lots")
    with pytest.raises(SchemaError) as err:
        connect(small_demo_db)
    assert "'memory_limit': 'lots'" in err.value.message and str(small_demo_db) in err.value.message
    assert "EGOV_MEMORY_LIMIT=8GB" in (err.value.hint or "")


def test_the_data_end_follows_a_write_to_the_file(small_demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(small_demo_db, db)
    with connect(db) as con:
        first = compute(["dossiers_received"], grain="month", start="2026-01", compare=False, db=con)
        again = compute(["dossiers_received"], grain="month", start="2026-01", compare=False, db=con)
    assert first.equals(again)
    assert first["period"].max() == "2026-06"  # the small demo ends in June 2026
    with duckdb.connect(str(db)) as writer:  # everything from June on disappears: the data now ends in May
        writer.execute("DELETE FROM dossier WHERE received_at >= '2026-06-01' OR finished_at >= '2026-06-01'")
        expected_end = writer.sql(
            "SELECT greatest(max(CAST(received_at AS DATE)), max(CAST(finished_at AS DATE))) FROM dossier"
        ).fetchall()[0][0]
    assert expected_end < dt.date(2026, 6, 1)
    with connect(db) as con:
        after = compute(["dossiers_received"], grain="month", start="2026-01", compare=False, db=con)
    assert after["period"].max() == "2026-05"
    assert after.filter(pl.col("period") == "2026-05")["period_end"].item() == expected_end


def _limit_bytes(con: duckdb.DuckDBPyConnection) -> float:
    """A connection's memory limit in bytes, from DuckDB's own text ('9.3 GiB')."""
    number, unit = con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0].split()
    return float(number) * {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}[unit]


def test_processes_querying_at_once_share_duckdbs_default_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    from egov_metrics.schema.connection import memory_share

    monkeypatch.delenv("EGOV_MEMORY_LIMIT", raising=False)
    assert memory_share(1) == {}  # one process keeps DuckDB's default
    with duckdb.connect() as plain:
        default = _limit_bytes(plain)
    for processes in (2, 3):
        share = memory_share(processes)
        with duckdb.connect(config={"memory_limit": share["EGOV_MEMORY_LIMIT"]}) as con:
            # DuckDB shows one decimal of GiB, cut rather than rounded: within 0.1 GiB of each share
            assert _limit_bytes(con) == pytest.approx(default / processes, abs=0.11 * 2**30)
    monkeypatch.setenv("EGOV_MEMORY_LIMIT", "2GB")  # the operator's value stands, per process
    assert memory_share(2) == {}
