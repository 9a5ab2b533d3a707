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
