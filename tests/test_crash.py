"""Crash safety: SIGKILL an ingest and a report rendering at random moments.

After every kill the database opens and holds exactly the state before the load or exactly the state after
it (row counts and checksums of every table), and the reports folder holds no half-written HTML and no
temporary file, with the good report still intact.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from fixtures.samples import load_samples

from egov_metrics.ingest import ingest_file
from egov_metrics.schema import connect
from egov_metrics.schema.connection import TABLES

pytestmark = pytest.mark.slow  # processes killed at random moments, in loops

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
TRIALS = 20
RNG = random.Random(int(os.environ.get("EGOV_CRASH_SEED", "20261125")))

#: Columns that differ from one run of the same load to the next.
VOLATILE = {"ingest_run": "EXCLUDE (started_at, finished_at)"}


def state(db: Path) -> dict[str, tuple[int, int]]:
    """(rows, checksum) of every canonical table, through the library's own `connect` (schema checked)."""
    with connect(db, read_only=True, wait_seconds=5) as con:
        return {
            t: tuple(
                con.sql(
                    f"SELECT count(*), coalesce(sum(hash(x)::HUGEINT), 0) "
                    f"FROM (SELECT * {VOLATILE.get(t, '')} FROM {t}) x"
                ).fetchall()[0]
            )
            for t in TABLES
        }


_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from egov_metrics.ingest import ingest_file
    print("READY", flush=True)
    ingest_file(Path(sys.argv[1]), "dossier", Path(sys.argv[2]), progress=False)
    print("DONE", flush=True)
    """
)


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("crash") / "base.duckdb"
    return load_samples(db)


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """150,000 dossiers (~1 s to load), one in a thousand with a bad channel so quarantine is written too;
    the first 50 ids are the sample's, with another status, so the load also updates existing rows."""
    path = tmp_path_factory.mktemp("crash-data") / "big.csv"
    with duckdb.connect() as con:
        con.execute(
            f"""COPY (SELECT 'K-' || i AS "Mã hồ sơ", '1.002175' AS "Mã TTHC", 'STP' AS "Đơn vị",
                        CASE WHEN i % 1000 = 7 THEN 'Fax' ELSE 'Trực tuyến' END AS "Hình thức nộp",
                        strftime(TIMESTAMP '2024-01-01 07:30' + to_minutes(i % 600000), '%d/%m/%Y %H:%M')
                          AS "Ngày tiếp nhận", 'Đang xử lý' AS "Trạng thái"
                      FROM range(150000) t(i)) TO '{path}' (HEADER)"""
        )
    return path


def test_killed_ingests_leave_the_old_or_the_new_state(base_db: Path, big_csv: Path, tmp_path: Path) -> None:
    old = state(base_db)
    # the state after a complete load, and how long the load takes once the child is ready
    done_db = tmp_path / "done.duckdb"
    shutil.copy(base_db, done_db)
    t0 = time.perf_counter()
    result = ingest_file(done_db, "dossier", big_csv, progress=False)
    seconds = time.perf_counter() - t0
    assert (result.inserted, result.rejected) == (149_850, 150)
    new = state(done_db)
    assert new != old
    outcomes = {"old": 0, "new": 0}
    db = tmp_path / "egov.duckdb"
    for trial in range(TRIALS):
        shutil.copy(base_db, db)
        for wal in db.parent.glob("egov.duckdb.wal"):
            wal.unlink()
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(db), str(big_csv)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "READY"
            time.sleep(RNG.uniform(0, seconds * 1.1))
            child.send_signal(signal.SIGKILL)
            child.wait(10)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        after = state(db)  # opens (replaying the WAL if the kill came after a commit)
        assert after in (old, new), f"trial {trial}: a mix of the old and the new state"
        outcomes["old" if after == old else "new"] += 1
    assert outcomes["old"] >= 1, outcomes  # most kills land inside the load
    # the database still takes writes after the last kill, and the load then completes
    again = ingest_file(db, "dossier", big_csv, progress=False)
    assert again.rejected == 150 and state(db)["dossier"] == new["dossier"]


# --- reports -------------------------------------------------------------------------------------------------

REPORT_ARGS = ["progress_report", "-p", "unit=STP", "-p", "period=2026-03"]
#: + the landing page's figures (the compute cache a report fills is beside the database: checked below)
ALLOWED = {"index.html", "manifest.json", ".manifest.lock", ".frontpage.json"}


def _cache_is_whole(folder: Path, trial: int) -> None:
    """Every answer a killed run left in the compute cache is whole: a later run reads it as the answer, so a
    half-written file must never carry an answer's name (temp files and lock files may be left behind)."""
    import polars as pl

    assert any(folder.rglob("*.parquet")), f"trial {trial}: no compute cache in {folder}"
    for answer in folder.rglob("*.parquet"):
        pl.read_parquet(answer)  # raises on a truncated file
    for record in folder.rglob("*.json"):
        assert json.loads(record.read_text(encoding="utf-8")) is not None, f"trial {trial}: {record}"


def _report_cli(out: Path, db: Path) -> list[str]:
    return [
        str(Path(sys.executable).parent / "egov-metrics"),
        "report",
        *REPORT_ARGS,
        "--out",
        str(out),
        "--db",
        str(db),
    ]


def _complete(html: bytes) -> bool:
    return html.rstrip().endswith(b"</html>") and b"<html" in html[:500]


def test_killed_report_renders_leave_no_partial_output(small_demo_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    db = tmp_path / "small.duckdb"  # a copy: the compute cache beside it is this test's alone
    shutil.copy(small_demo_db, db)
    t0 = time.perf_counter()
    done = subprocess.run(_report_cli(out, db), capture_output=True, text=True, timeout=120)
    seconds = time.perf_counter() - t0
    assert done.returncode == 0, done.stderr
    (page,) = [p for p in out.glob("*.html") if p.name != "index.html"]
    good = page.read_bytes()
    manifest = (out / "manifest.json").read_bytes()
    assert _complete(good)
    replaced = 0
    for trial in range(5):
        child = subprocess.Popen(
            _report_cli(out, db),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the kernel it starts dies with it
        )
        try:
            time.sleep(RNG.uniform(0.3, seconds * 0.95))
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(10)
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        names = {p.name for p in out.iterdir()}
        assert names == ALLOWED | {page.name}, f"trial {trial}: stray files {names - ALLOWED - {page.name}}"
        now = page.read_bytes()
        if now != good:  # killed after the atomic replace: a complete new page, recorded in the manifest
            assert _complete(now), f"trial {trial}: half-written HTML"
            replaced += 1
            good = now
        entries = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        assert [e["path"] for e in entries["reports"]] == [page.name], f"trial {trial}: manifest {entries}"
        assert _complete((out / "index.html").read_bytes())
        _cache_is_whole(tmp_path / ".small.duckdb.cache", trial)
    assert replaced < 5 and manifest  # most kills land before the page is replaced
