"""`--db` (and `$EGOV_DB`) relative paths work from any directory, including for reports, whose notebook kernel
runs in the notebooks folder: the path is made absolute from the caller's directory before anything runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from egov_metrics.reports.render import NOTEBOOKS_DIR

CLI = str(Path(sys.executable).parent / "egov-metrics")


@pytest.fixture
def workdir(small_demo_db: Path, tmp_path: Path) -> Path:
    work = tmp_path / "office"
    (work / "data").mkdir(parents=True)
    shutil.copy(small_demo_db, work / "data" / "egov.duckdb")
    return work


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "EGOV_DB"} | env
    return subprocess.run([CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=environment)


@pytest.mark.slow  # renders a report
def test_a_report_with_a_relative_db(workdir: Path) -> None:
    stray_before = (NOTEBOOKS_DIR / "out").exists()
    done = _run(["report", "progress_report", "-p", "unit=STP", "-p", "period=2026-03", "--db", "data/egov.duckdb",
                 "--out", "out"], workdir)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (page,) = (workdir / "out").glob("progress_report*.html")
    assert page.read_text(encoding="utf-8").rstrip().endswith("</html>")
    # the report's compute cache sits beside the database it was given (relative to the caller's folder), not
    # beside a path read from the notebooks folder the notebook ran in
    assert list((workdir / "data" / ".egov.duckdb.cache").glob("*/*.parquet"))
    assert not (workdir / "out" / ".cache").exists()
    assert not (NOTEBOOKS_DIR / "out").exists() or stray_before, (
        "a relative --out was read from the notebooks folder"
    )


@pytest.mark.slow  # several CLI processes
def test_relative_db_for_compute_info_and_ingest_and_egov_db(workdir: Path) -> None:
    sub = workdir / "data"
    assert (
        _run(["compute", "dossiers_received", "--grain", "year", "--db", "egov.duckdb"], sub).returncode == 0
    )
    assert _run(["info", "--db", "./data/egov.duckdb"], workdir).returncode == 0
    assert _run(["info"], sub, EGOV_DB="egov.duckdb").returncode == 0
    samples = Path(__file__).resolve().parents[1] / "data" / "samples" / "dossiers_one_stop.csv"
    loaded = _run(["ingest", "dossier", str(samples), "--db", "data/egov.duckdb"], workdir)
    assert loaded.returncode in (0, 1) and "Đã nạp tệp hồ sơ" in loaded.stdout, loaded.stderr  # 1: rejects
    assert sorted(p.name for p in sub.iterdir() if not p.name.endswith(".lock")) == ["egov.duckdb"]
