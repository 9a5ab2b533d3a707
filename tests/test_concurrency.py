"""Readers (compute, reports, the CLI) while an ingest writes: they never wait.

An ingest writes into a copy and publishes it atomically (`schema.publish`): a reader opens the database at
once and reads the last published state; a second writer waits for the first and says so; a program outside
egov-metrics that holds the file read-write gets a message that says exactly that.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from egov_metrics.engine import compute
from egov_metrics.schema import connect
from egov_metrics.schema.connection import DatabaseBusyError

pytestmark = pytest.mark.slow  # concurrent processes reading while an ingest writes

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
INDICATORS = ["dossiers_received", "online_share"]

#: An ingest that stays inside its write transaction for `hold` seconds before committing.
_HOLDING = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import egov_metrics.ingest.load as load
    original = load._record_run
    def slow(*args, **kwargs):
        original(*args, **kwargs)
        print("HOLDING", flush=True)
        time.sleep(float(sys.argv[3]))
    load._record_run = slow
    load.ingest_file(Path(sys.argv[1]), "dossier", Path(sys.argv[2]), progress=False)
    print("DONE", flush=True)
    """
)


@pytest.fixture
def demo_copy(small_demo_db: Path, tmp_path: Path) -> Path:
    db = tmp_path / "egov.duckdb"
    shutil.copy(small_demo_db, db)
    return db


def _hold(db: Path, seconds: float) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDING, str(db), str(SAMPLES / "dossiers_one_stop.csv"), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "HOLDING"
    return child


def _runs(db: Path) -> int:
    with connect(db, read_only=True, wait_seconds=0) as con:
        return con.sql("SELECT count(*) FROM ingest_run").fetchall()[0][0]


def test_readers_open_at_once_and_read_the_previous_state_while_an_ingest_runs(demo_copy: Path) -> None:
    before = _runs(demo_copy)
    child = _hold(demo_copy, 60.0)
    try:
        assert _runs(demo_copy) == before  # no wait at all (wait_seconds=0), the state before the load
        with duckdb.connect(str(demo_copy), read_only=True) as con:  # even DuckDB itself opens it
            assert con.sql("SELECT count(*) FROM ingest_run").fetchall()[0][0] == before
        frame = compute(INDICATORS, db=demo_copy, grain="year")
        cli = subprocess.run(
            [str(Path(sys.executable).parent / "egov-metrics"), "compute", "dossiers_received", "--grain", "year",
             "--db", str(demo_copy)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        # no reader waited for the load: it was still running when they had all finished
        assert child.poll() is None, "the ingest was still running while all of this read"
    finally:
        child.kill()
        child.wait()
    assert cli.returncode == 0, cli.stderr
    assert frame.height > 0
    assert _runs(demo_copy) == before  # the killed ingest published nothing


def test_a_new_reader_sees_the_published_state_and_an_old_one_keeps_its_own(demo_copy: Path) -> None:
    before = _runs(demo_copy)
    old = connect(demo_copy, read_only=True, wait_seconds=0)
    child = _hold(demo_copy, 0.5)
    assert child.wait(60) == 0
    try:
        assert old.sql("SELECT count(*) FROM ingest_run").fetchall()[0][0] == before  # its snapshot
    finally:
        old.close()
    assert _runs(demo_copy) == before + 1
    assert not list(demo_copy.parent.glob(f".{demo_copy.name}.publish-*")), "no draft left behind"


def test_a_second_writer_waits_for_the_first_and_says_so(demo_copy: Path) -> None:
    from egov_metrics.ingest import ingest_file
    from egov_metrics.schema.publish import WriterBusyError

    before = _runs(demo_copy)
    child = _hold(demo_copy, 8.0)
    try:
        with pytest.raises(WriterBusyError) as err:
            ingest_file(
                demo_copy, "dossier", SAMPLES / "dossiers_one_stop.csv", progress=False, wait_seconds=0.5
            )
        message = str(err.value)
        assert (
            f"{demo_copy} is being updated by ingest dossier dossiers_one_stop.csv (process {child.pid}"
            in message
        )
        assert "Reports and notebooks are not affected" in message
        assert "Hint: run this again when that one has finished, or pass --wait SECONDS" in message
        ingest_file(demo_copy, "dossier", SAMPLES / "dossiers_one_stop.csv", progress=False, wait_seconds=120)
        assert child.wait(30) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert _runs(demo_copy) == before + 2  # both loads published, one after the other


def test_a_foreign_read_write_connection_gets_a_true_message(demo_copy: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('OPEN', flush=True); "
         "time.sleep(30)", str(demo_copy)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "OPEN"
        with pytest.raises(DatabaseBusyError) as err:
            connect(demo_copy, read_only=True, wait_seconds=0.3)
    finally:
        holder.kill()
        holder.wait()
    assert str(err.value).startswith(
        f"{demo_copy} is held open for writing by another program (waited 0.3 s)"
    )
    assert "Hint: close that program's connection" in str(err.value)


def test_a_report_renders_while_an_ingest_holds_the_database(demo_copy: Path, tmp_path: Path) -> None:
    from egov_metrics.reports import render_report

    child = _hold(demo_copy, 120.0)
    try:
        result = render_report("progress_report", {"unit": "STP", "period": "2026-03", "db_path": str(demo_copy)},
                               out_dir=tmp_path / "reports")  # fmt: skip
        assert child.poll() is None, "the report was rendered while the ingest was still running"
    finally:
        child.kill()
        child.wait()
    assert result.path.exists() and result.path.read_text(encoding="utf-8").rstrip().endswith("</html>")


_LOADS = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from egov_metrics.ingest import ingest_file
    for i in range(3):
        ingest_file(Path(sys.argv[1]), "dossier", Path(sys.argv[2]), progress=False)
    """
)


def test_readers_in_a_loop_during_ingests_always_succeed(demo_copy: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with duckdb.connect() as con:
        con.execute(
            f"""COPY (SELECT 'C-' || i AS "Mã hồ sơ", '1.002175' AS "Mã TTHC", 'STP' AS "Đơn vị",
                        'Trực tuyến' AS "Hình thức nộp", '10/03/2025 08:00' AS "Ngày tiếp nhận",
                        'Đang xử lý' AS "Trạng thái" FROM range(150000) t(i)) TO '{big}' (HEADER)"""
        )
    child = subprocess.Popen([sys.executable, "-c", _LOADS, str(demo_copy), str(big)])
    outcomes = {"ok": 0}
    try:
        while child.poll() is None:
            with connect(demo_copy, read_only=True, wait_seconds=0) as con:
                compute(INDICATORS[:1], db=con, grain="year")
            outcomes["ok"] += 1
            time.sleep(0.02)
        assert child.wait() == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert outcomes["ok"] >= 3, outcomes
    assert _runs(demo_copy) >= 3
