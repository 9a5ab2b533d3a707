"""Readers (compute, reports, the CLI) while an ingest writes: never a raw DuckDB lock error.

A reader either succeeds (after the writer finishes, within the bounded wait) or gets DatabaseBusyError with
a message that says what is going on and what to do.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import pytest

from egov_metrics.compute import compute
from egov_metrics.schema import connect
from egov_metrics.schema.connection import DatabaseBusyError

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


def test_a_reader_waits_then_reads_or_gets_a_clear_busy_error(demo_copy: Path) -> None:
    child = _hold(demo_copy, 4.0)
    try:
        # what the library protects against: DuckDB's own error for a second process
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(demo_copy), read_only=True)
        t0 = time.perf_counter()
        with pytest.raises(DatabaseBusyError) as err:
            connect(demo_copy, read_only=True, wait_seconds=0.5)
        assert 0.5 <= time.perf_counter() - t0 < 3
        assert str(err.value) == (
            f"{demo_copy} is being written by another process (waited 0.5 s)\n"
            "Hint: wait for the running ingest or demo build to finish, or pass a longer --wait"
        )
        # compute with the default bounded wait (30 s): it waits for the commit and reads the new state
        results: dict[str, object] = {}

        def reader() -> None:
            try:
                results["frame"] = compute(INDICATORS, db=demo_copy, grain="year")
            except Exception as exc:  # recorded and asserted below
                results["error"] = exc

        thread = threading.Thread(target=reader)
        thread.start()
        cli = subprocess.run(
            [str(Path(sys.executable).parent / "egov-metrics"), "compute", "dossiers_received", "--grain", "year",
             "--db", str(demo_copy)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        thread.join(60)
        assert child.wait(30) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert "error" not in results, results.get("error")
    assert cli.returncode == 0, cli.stderr
    for text in (cli.stdout, cli.stderr):
        assert "Could not set lock" not in text and "IO Error" not in text and "Traceback" not in text
    with connect(demo_copy) as con:
        assert con.sql("SELECT count(*) FROM ingest_run").fetchall()[0][0] >= 1  # the load did commit
    assert results["frame"].height > 0  # type: ignore[attr-defined]


def test_a_report_renders_while_an_ingest_holds_the_database(demo_copy: Path, tmp_path: Path) -> None:
    from egov_metrics.reports import render_report

    child = _hold(demo_copy, 2.0)
    try:
        result = render_report("progress_report", {"unit": "STP", "period": "2026-03", "db_path": str(demo_copy)},
                               out_dir=tmp_path / "reports")  # fmt: skip
        assert child.wait(30) == 0
    finally:
        if child.poll() is None:
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


def test_readers_in_a_loop_during_ingests_only_succeed_or_get_busy(demo_copy: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with duckdb.connect() as con:
        con.execute(
            f"""COPY (SELECT 'C-' || i AS "Mã hồ sơ", '1.002175' AS "Mã TTHC", 'STP' AS "Đơn vị",
                        'Trực tuyến' AS "Hình thức nộp", '10/03/2025 08:00' AS "Ngày tiếp nhận",
                        'Đang xử lý' AS "Trạng thái" FROM range(150000) t(i)) TO '{big}' (HEADER)"""
        )
    child = subprocess.Popen([sys.executable, "-c", _LOADS, str(demo_copy), str(big)])
    outcomes = {"ok": 0, "busy": 0}
    try:
        while child.poll() is None:
            try:
                with connect(demo_copy, read_only=True, wait_seconds=0.2) as con:
                    compute(INDICATORS[:1], db=con, grain="year")
                outcomes["ok"] += 1
            except DatabaseBusyError as exc:
                assert "is being written by another process" in str(exc)
                outcomes["busy"] += 1
            time.sleep(0.02)
        assert child.wait() == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert outcomes["busy"] >= 1 and outcomes["ok"] >= 1, outcomes
