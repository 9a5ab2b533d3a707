"""bench/incremental_month.py's helpers on the small demo: the state at the end of the month before (checked
against the original by independent queries), the month's export loaded through `egov-metrics ingest` gives
the original dossiers back, and the row-by-row comparison tells a real difference from ingest's documented
midnight rule."""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "incremental_month.py"
CUT = dt.date(2026, 6, 1)  # the small demo runs to June 2026: the state at the end of May
AT = "TIMESTAMP '2026-06-01'"
#: Columns known when the dossier was received: never changed by going back to the end of May.
RECEIPT = ("procedure_code", "unit_id", "channel", "applicant_type", "received_at", "due_at", "supplement_count",
           "supplement_days", "digitized", "reused_data", "linked_to_citizen_store", "used_population_data",
           "has_financial_obligation", "paid_online", "complaint", "source")  # fmt: skip


def _bench() -> ModuleType:
    if "incremental_month" not in sys.modules:
        spec = importlib.util.spec_from_file_location("incremental_month", SCRIPT)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["incremental_month"] = module  # its dataclass looks its module up by name
        spec.loader.exec_module(module)
    return sys.modules["incremental_month"]


@pytest.fixture
def copies(small_demo_db: Path, tmp_path: Path) -> tuple[Path, Path]:
    """(the original, a copy turned into the state at the end of May)."""
    original = tmp_path / "original" / "egov.duckdb"
    state = tmp_path / "state" / "egov.duckdb"
    for path in (original, state):
        path.parent.mkdir()
        shutil.copyfile(small_demo_db, path)
    with duckdb.connect(str(state)) as con:
        _bench().month_before_state(con, CUT)
    return original, state


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.sql(sql).fetchall()[0][0]


def test_state_at_the_end_of_the_month_before(small_demo_db: Path, tmp_path: Path) -> None:
    state = tmp_path / "state.duckdb"
    shutil.copyfile(small_demo_db, state)
    with duckdb.connect(str(state)) as con:
        counts = _bench().month_before_state(con, CUT)
    con = duckdb.connect()
    con.execute(f"ATTACH '{small_demo_db}' AS o (READ_ONLY)")
    con.execute(f"ATTACH '{state}' AS s (READ_ONLY)")
    # the counts it reports are the original's rows with a receipt, finish, return or sync from June on
    received = _one(con, f"SELECT count(*) FROM o.dossier WHERE received_at >= {AT}")
    assert isinstance(received, int) and received > 100
    assert counts["removed"] == received
    assert counts["reopened"] == _one(con, f"SELECT count(*) FROM o.dossier WHERE received_at < {AT} AND finished_at >= {AT}")  # fmt: skip
    assert counts["unsynced"] == _one(con, f"SELECT count(*) FROM o.dossier WHERE received_at < {AT} AND synced_at >= {AT}")  # fmt: skip
    assert counts["not_returned"] == _one(
        con,
        f"SELECT count(*) FROM o.dossier WHERE received_at < {AT} AND finished_at < {AT} AND returned_at >= {AT}",
    )
    assert counts["reopened"] > 0 and counts["unsynced"] > 0 and counts["not_returned"] > 0
    # nothing from June on is left
    assert (
        _one(con, "SELECT count(*) FROM s.dossier") == _one(con, "SELECT count(*) FROM o.dossier") - received
    )
    for col in ("received_at", "finished_at", "returned_at", "synced_at"):
        assert _one(con, f"SELECT count(*) FROM s.dossier WHERE {col} >= {AT}") == 0, col
    # every dossier left keeps what was known at its receipt
    same = " AND ".join(f"s.{c} IS NOT DISTINCT FROM o.{c}" for c in RECEIPT)
    assert _one(con, f"SELECT count(*) FROM s.dossier s JOIN o.dossier o USING (id) WHERE NOT ({same})") == 0
    # finished in June or later: open again at the end of May, with no outcome
    reopened = con.sql(
        f"SELECT DISTINCT s.status, s.finished_at, s.returned_at, s.e_result, s.rating FROM s.dossier s "
        f"JOIN o.dossier o USING (id) WHERE o.finished_at >= {AT}"
    ).fetchall()
    assert reopened == [("processing", None, None, False, None)]
    # finished in May, handed back in June: finished at the end of May, the finish itself kept
    held = con.sql(
        f"SELECT DISTINCT s.status, s.returned_at IS NULL, s.finished_at = o.finished_at FROM s.dossier s "
        f"JOIN o.dossier o USING (id) WHERE o.finished_at < {AT} AND o.returned_at >= {AT}"
    ).fetchall()
    assert held == [("finished", True, True)]
    # synced in June: not synced at the end of May
    assert con.sql(
        f"SELECT DISTINCT s.synced_to_national, s.synced_at FROM s.dossier s JOIN o.dossier o USING (id) "
        f"WHERE o.synced_at >= {AT}"
    ).fetchall() == [(False, None)]
    # a dossier with nothing from June on is untouched, every column
    untouched = _one(
        con,
        f"SELECT count(*) FROM (SELECT * FROM o.dossier WHERE received_at < {AT} AND coalesce(finished_at < {AT}, true) "
        f"AND coalesce(returned_at < {AT}, true) AND coalesce(synced_at < {AT}, true) EXCEPT ALL SELECT * FROM s.dossier)",
    )
    assert untouched == 0


@pytest.mark.slow  # egov-metrics ingest in a new process
def test_the_months_export_through_ingest_gives_the_original_back(
    copies: tuple[Path, Path], tmp_path: Path
) -> None:
    bench = _bench()
    original, state = copies
    export = tmp_path / "june.parquet"
    with duckdb.connect(str(original), read_only=True) as con:
        rows = bench.month_export(con, CUT, export)
        expected = _one(
            con,
            "SELECT count(*) FROM dossier WHERE received_at >= TIMESTAMP '2026-06-01' OR finished_at >= "
            "TIMESTAMP '2026-06-01' OR returned_at >= TIMESTAMP '2026-06-01' OR synced_at >= TIMESTAMP '2026-06-01'",
        )
    assert rows == expected
    cli = Path(sys.executable).with_name("egov-metrics")
    done = subprocess.run(
        [str(cli), "ingest", "dossier", str(export), "--lang", "en", "--db", str(state), "--mapping",
         "dossier_canonical"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    counts = bench.ingest_counts(done.stdout)
    with duckdb.connect(str(original), read_only=True) as con:
        received = _one(con, "SELECT count(*) FROM dossier WHERE received_at >= TIMESTAMP '2026-06-01'")
    assert counts["read"] == rows and counts["rejected"] == 0
    assert counts["inserted"] == received and counts["updated"] == rows - received
    diff = bench.dossier_differences(original, state)
    assert diff["unexplained"] == 0, diff
    assert diff["only_in_source"] == 0 and diff["only_loaded"] == 0


def test_row_comparison_tells_a_change_from_the_midnight_rule(small_demo_db: Path, tmp_path: Path) -> None:
    bench = _bench()
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    shutil.copyfile(small_demo_db, a)
    shutil.copyfile(small_demo_db, b)
    pick = (
        "SELECT id FROM dossier WHERE finished_at IS NOT NULL AND returned_at IS NULL AND "
        "CAST(finished_at AS DATE) > CAST(received_at AS DATE) ORDER BY id LIMIT 3"
    )
    with duckdb.connect(str(a)) as con:
        ids = [r[0] for r in con.sql(pick).fetchall()]
        con.execute("UPDATE dossier SET finished_at = date_trunc('day', finished_at) WHERE id IN ?", [ids])
    with duckdb.connect(str(b)) as con:
        # the first two: midnight read as the end of the day (ingest's rule); the third: an hour later
        con.execute(
            "UPDATE dossier SET finished_at = date_trunc('day', finished_at) + INTERVAL 86399 SECOND WHERE id IN ?",
            [ids[:2]],
        )
        con.execute(
            "UPDATE dossier SET finished_at = date_trunc('day', finished_at) + INTERVAL 1 HOUR WHERE id = ?",
            [ids[2]],
        )
        con.execute("DELETE FROM dossier WHERE id = (SELECT max(id) FROM dossier)")
    diff = bench.dossier_differences(a, b)
    assert diff == {"rows_differing": 4, "only_in_source": 1, "only_loaded": 0, "unexplained": 2,
                    "by_column": {"finished_at": 3}}  # fmt: skip
    assert bench.dossier_differences(a, a)["rows_differing"] == 0


def test_ingest_summary_and_months() -> None:
    bench = _bench()
    line = "  read 232,285 · inserted 188,730 · updated 43,555 · unchanged 0 · rejected 0   (run 4, 46.5 s)"
    assert bench.ingest_counts(line) == {"read": 232285, "inserted": 188730, "updated": 43555, "unchanged": 0,
                                         "rejected": 0}  # fmt: skip
    assert bench.shift_month(dt.date(2026, 1, 1), -1) == dt.date(2025, 12, 1)
    assert bench.shift_month(dt.date(2026, 12, 1), 1) == dt.date(2027, 1, 1)


def test_changed_lines_shows_the_visible_text_that_changed() -> None:
    bench = _bench()
    page = "<h2>Mức độ hài lòng</h2><p>{v}</p><svg><text>{c}</text></svg><footer>Tệp dữ liệu: egov.duckdb</footer>"
    before, after = page.format(v="94,1 %", c="a"), page.format(v="93,8 %", c="b")
    assert bench.changed_lines(before, after) == ["-94,1 %", "+93,8 %"]  # the chart's text is not shown
    assert bench.changed_lines(before, before) == []
