"""Saved portal responses as other provinces' captures and other tools produce them: each misread is refused
with one line naming the file (and the place), never loaded wrong and never a traceback."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from egov_metrics.cli import app
from egov_metrics.portal.importer import PortalImportError, import_files
from tests.test_portal import DIGITIZED

DAY = dt.date(2026, 9, 26)


def write(folder: Path, endpoint: str, name: str, doc: object) -> Path:
    path = folder / endpoint / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def loaded(con: duckdb.DuckDBPyConnection) -> int:
    tables = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    return (
        con.sql("SELECT count(*) FROM portal_indicator").fetchall()[0][0]
        if "portal_indicator" in tables
        else 0
    )


def test_a_metric_listed_twice_for_a_unit_is_refused_with_its_place(tmp_path: Path) -> None:
    doc = copy.deepcopy(DIGITIZED)
    metrics = doc["data"]["evaluation"][1]["metrics"]
    metrics.append(dict(metrics[2]))  # REUSED_DIGITIZED_DATA again (a capture tool joining two responses)
    path = write(tmp_path, "dossier-digitized", "year-all.json", doc)
    con = duckdb.connect()
    with pytest.raises(PortalImportError) as err:
        import_files(con, [path], periods={"year": "2026"}, captured_on=DAY)
    msg = str(err.value)
    assert str(path) in msg and "data.evaluation[1].metrics[7].code" in msg
    assert "REUSED_DIGITIZED_DATA appears twice" in msg and "metrics[2]" in msg
    assert loaded(con) == 0


def manifest(folder: Path, *captures: dict) -> None:
    (folder / "manifest.m0.json").write_text(json.dumps({"captures": list(captures)}), encoding="utf-8")


@pytest.mark.parametrize("quarter", ["Q3", "3rd", None, [3]])
def test_a_manifest_period_that_is_not_a_number_is_a_plain_error(tmp_path: Path, quarter: object) -> None:
    path = write(tmp_path, "dossier-digitized", "quarter-all.json", DIGITIZED)
    payload = {"timeType": "quarter", "year": 2026, "quarter": quarter}
    manifest(
        tmp_path,
        {"file": "dossier-digitized/quarter-all.json", "payload": payload, "capturedAt": "2026-09-26"},
    )
    with pytest.raises(PortalImportError) as err:  # was a ValueError traceback (int('Q3'))
        import_files(duckdb.connect(), [path])
    assert str(path) in str(err.value) and "--period quarter=" in str(err.value)
    # the conformance command says what is wrong, not "--captured-on '' is not a date"
    out = CliRunner().invoke(app, ["portal", "conformance", str(path)])
    assert out.exit_code != 0 and "captured-on" not in out.output and "no period given" in out.output
    # given on the command line, the period is taken
    report = import_files(duckdb.connect(), [path], periods={"quarter": "2026-Q3"})
    assert [s.period for s in report.loaded] == ["2026-Q3"]


def sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_period_given_against_the_manifest_of_the_same_capture_is_refused(tmp_path: Path) -> None:
    # the capture tool's manifest (same SHA-256) says month 9; the documented command passes month=2026-08
    path = write(tmp_path, "dossier-digitized", "month-all.json", DIGITIZED)
    payload = {"timeType": "month", "year": 2026, "month": 9}
    entry = {"file": "dossier-digitized/month-all.json", "payload": payload, "sha256": sha(path)}
    manifest(tmp_path, {**entry, "capturedAt": "2026-10-01T03:00:00+00:00"})
    con = duckdb.connect()
    with pytest.raises(PortalImportError) as err:  # was loaded as 2026-08
        import_files(con, [path], periods={"year": "2026", "month": "2026-08"}, captured_on=DAY)
    assert str(path) in str(err.value) and "month 2026-09, not the month 2026-08" in str(err.value)
    assert loaded(con) == 0
    # a file name or --period-type of another type than the manifest's request is refused too
    with pytest.raises(PortalImportError, match="month 2026-09, not a year"):
        import_files(con, [path], period_type="year", captured_on=DAY)
    # agreeing, or left to the manifest: loaded as September
    for periods in ({"month": "2026-09"}, {}):
        report = import_files(duckdb.connect(), [path], periods=periods)
        assert [(s.period, s.captured_on) for s in report.loaded] == [("2026-09", dt.date(2026, 10, 1))]


def test_a_manifest_entry_of_another_capture_of_the_file_is_not_applied(tmp_path: Path) -> None:
    # month-all.json was captured again (September); the old manifest still describes the August capture
    path = write(tmp_path, "dossier-digitized", "month-all.json", DIGITIZED)
    old = {"timeType": "month", "year": 2026, "month": 8}
    new = {"timeType": "month", "year": 2026, "month": 9}
    name = "dossier-digitized/month-all.json"
    (tmp_path / "manifest.m0.json").write_text(
        json.dumps(
            {"captures": [{"file": name, "payload": old, "capturedAt": "2026-09-26", "sha256": "ab" * 32}]}
        ),
        encoding="utf-8",
    )
    with pytest.raises(PortalImportError) as err:  # was loaded as 2026-08, captured 26 September
        import_files(duckdb.connect(), [path])
    assert "another SHA-256" in str(err.value) and "--period month=" in str(err.value)
    # a second manifest with this capture's entry is found
    (tmp_path / "manifest.m1.json").write_text(
        json.dumps(
            {"captures": [{"file": name, "payload": new, "capturedAt": "2026-10-02", "sha256": sha(path)}]}
        ),
        encoding="utf-8",
    )
    report = import_files(duckdb.connect(), [path])
    assert [(s.period, s.captured_on) for s in report.loaded] == [("2026-09", dt.date(2026, 10, 2))]


def test_a_count_field_no_unit_has_is_refused_not_read_as_null(tmp_path: Path) -> None:
    from egov_metrics.portal.conformance import load_responses
    from tests.test_portal import PAYMENT

    doc = copy.deepcopy(PAYMENT)
    for unit in [doc["data"]["parent"], *doc["data"]["children"]]:
        unit["feeDossierFormalityCount"] = unit.pop("totalFeeDossierFormality")  # renamed in a newer response
    path = write(tmp_path, "formality-online-payment-tree", "year-all.json", doc)
    con = duckdb.connect()
    with pytest.raises(PortalImportError) as err:  # was loaded, payment C null for every unit
        import_files(con, [path], periods={"year": "2026"}, captured_on=DAY)
    msg = str(err.value)
    assert str(path) in msg and "'totalFeeDossierFormality'" in msg and "fee_procedures_used" in msg
    assert loaded(con) == 0
    with pytest.raises(PortalImportError):  # conformance: was "differs" for every unit, blaming the method
        load_responses([path], periods={"year": "2026"}, captured_on=DAY)
    # a field null in some units (no data) or absent from some units only is read as null, as before
    doc = copy.deepcopy(PAYMENT)
    del doc["data"]["children"][0]["totalFeeDossierFormality"]
    doc["data"]["children"][1]["totalFeeDossierFormality"] = None
    path = write(tmp_path / "ok", "formality-online-payment-tree", "year-all.json", doc)
    report = import_files(duckdb.connect(), [path], periods={"year": "2026"}, captured_on=DAY)
    ind = report.loaded[0].indicators
    assert ind.filter(ind["indicator"] == "fee_procedures_used")["numerator"].null_count() == 2


def test_a_capture_mid_month_counting_fewer_dossiers_is_capture_timing_not_unsynced(
    small_demo_db: Path, tmp_path: Path
) -> None:
    import shutil

    import polars as pl

    from egov_metrics.portal.synthetic import write_demo_captures
    from egov_metrics.reconcile import reconcile
    from egov_metrics.schema.connection import connect

    db = tmp_path / "demo.duckdb"
    shutil.copy(small_demo_db, db)
    with connect(db, read_only=False) as con:
        files = write_demo_captures(
            con, tmp_path / "cap", end="2026-03", period_type="year", unsynced_share=0
        )
        # captured on 15 March: the portal's year to date lacks the dossiers of 16–31 March
        progress = next(f for f in files if f.parent.name == "dvc-progress-tree")
        doc = json.loads(progress.read_text(encoding="utf-8"))
        for unit in doc["data"]["children"]:
            unit["totalReceived"] = unit["totalReceived"] * 9 // 10
            unit["totalOnTime"] = min(unit["totalOnTime"], unit["totalReceived"])
        progress.write_text(json.dumps(doc), encoding="utf-8")
        import_files(con, files, periods={"year": "2026"}, captured_on=dt.date(2026, 3, 15))
    table = reconcile(db)
    fewer = table.filter(pl.col("indicator") == "dossiers_on_time", pl.col("denominator_diff") > 0.5)
    assert fewer.height  # compared with the data to 31 March, the portal counts fewer: not proof of unsynced
    assert set(fewer["cause"]) == {"capture_timing"}, fewer.select("unit_id", "denominator_diff", "cause")
    assert "_short" not in table.columns


def test_fewer_dossiers_over_the_same_days_stay_unsynced() -> None:
    import polars as pl

    from egov_metrics.reconcile import classify

    frame = pl.DataFrame(
        {
            "local_numerator": [90.0, 90.0],
            "local_denominator": [100.0, 100.0],
            "local_points": [5.4, 5.4],
            "published_numerator": [85.0, 85.0],
            "published_denominator": [95.0, 95.0],
            "published_points": [5.37, 5.37],
            "provisional": [False, False],
            "_timing": [False, True],
            "_short": [False, True],
        }
    ).with_columns(
        numerator_diff=pl.col("local_numerator") - pl.col("published_numerator"),
        denominator_diff=pl.col("local_denominator") - pl.col("published_denominator"),
        points_diff=(pl.col("local_points") - pl.col("published_points")).round(2),
    )
    assert classify(frame)["cause"].to_list() == ["not_synced", "capture_timing"]
