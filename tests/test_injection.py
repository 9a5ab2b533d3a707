"""Injection and scoping: every value a user passes is validated or bound, never spliced into SQL, and the
rendered reports hold aggregates only (no dossier or feedback ids, no person-like fields)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from fixtures.reports import Rendered
from typer.testing import CliRunner

from egov_metrics.cli import app
from egov_metrics.engine import compute, explain
from egov_metrics.schema.connection import TABLES

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"


def tables(db: Path) -> dict[str, int]:
    """Every table of the database (not only the canonical ones) with its row count."""
    with duckdb.connect(str(db), read_only=True) as con:
        names = [r[0] for r in con.sql("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return {n: con.sql(f'SELECT count(*) FROM "{n}"').fetchall()[0][0] for n in names}


@pytest.fixture
def db(small_demo_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "egov.duckdb"
    shutil.copy(small_demo_db, path)
    return path


ATTACKS = [
    (["compute", "--unit", "x'; DROP TABLE dossier; --"], 'unknown org unit "x\'; DROP TABLE dossier; --"'),
    (["compute", "--unit", "STP' OR '1'='1"], "unknown org unit"),
    (["compute", "--from", "2025-01'; --"], "is not a date"),
    (["compute", "--to", "2025-12-31); DELETE FROM dossier; --"], "is not a date"),
    (["compute", "dossiers_received'; DROP TABLE dossier; --"], "unknown indicator"),
    (["compute", 'online_share" OR 1=1 --'], "unknown indicator"),
    (["compute", "--by", "unit; drop"], "unknown dimension 'unit; drop'"),
    (["compute", "--by", "unit", "--level", "commune'--"], "unknown unit level"),
    (["compute", "--grain", "month'; --"], "unknown grain"),
    (["compute", "--lang", "vi'); --"], "unknown language"),
    (
        ["report", "progress_report", "-p", "unit=x'; DROP TABLE dossier; --"],
        "parameter 'unit': unknown org unit",
    ),
    (["report", "progress_report", "-p", "period=2026-03'; DROP TABLE dossier; --"], "parameter 'period'"),
    (["report", "unit_scorecard", "-p", "unit=SYT", "-p", "lang=vi' --"], "parameter 'lang'"),
    (["report", "progress_report", "-p", "unit; drop=STP"], "unit; drop"),
    (["report", "roadmap_report", "-p", "phase=p1'; --"], "parameter 'phase'"),
]


@pytest.mark.parametrize(("args", "needle"), ATTACKS, ids=[" ".join(a[1:])[:40] for a, _ in ATTACKS])
def test_injection_through_the_cli_is_rejected_and_changes_nothing(
    db: Path, args: list[str], needle: str
) -> None:
    before = tables(db)
    result = CliRunner().invoke(app, [*args, "--db", str(db)], env={"EGOV_LANG": "en"})  # the English words
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and needle in result.output, result.output
    assert "Traceback" not in result.output and "Binder Error" not in result.output
    assert "Parser Error" not in result.output and "Catalog Error" not in result.output
    assert tables(db) == before
    assert set(TABLES) <= set(before)


def test_a_unit_whose_name_and_code_hold_quotes_is_bound_literally(db: Path) -> None:
    tricky = "X'Q; DROP TABLE dossier; --"
    with duckdb.connect(str(db)) as con:
        con.execute(
            "INSERT INTO org_unit (id, code, name_vi, name_en, level, parent_id, valid_from) "
            "SELECT ?, ?, ?, ?, 'commune', id, DATE '2015-01-01' FROM org_unit WHERE level = 'province'",
            [tricky, tricky, "Xã O'Lăng", "O'Lang commune"],
        )
        # copies of two dossiers received in February 2025 and one in May, now received by the new unit
        for month, n in (("2025-02", 2), ("2025-05", 1)):
            con.execute(
                "INSERT INTO dossier SELECT * REPLACE ('copy-' || id AS id, ? AS unit_id) FROM dossier "
                "WHERE strftime(received_at, '%Y-%m') = ? ORDER BY id LIMIT ?",
                [tricky, month, n],
            )
    before = tables(db)
    query = explain(["dossiers_received"], db=db, unit="Xã O'Lăng", start="2025-01", end="2025-06")
    # resolved by its (quoted) name; the scope's units (it has none below it) are passed as a parameter
    assert query.params["scope_units"] == [tricky]
    assert tricky not in query.sql and "O'Lăng" not in query.sql and "2025-01" not in query.sql
    frame = compute(["dossiers_received"], db=db, unit=tricky, start="2025-01", end="2025-06")
    # only the three copies, counted in their months: the quoted id filtered the rows, it did not break the SQL
    received = {period: value for period, value in frame.select("period", "value").iter_rows() if value}
    assert received == {"2025-02": 2.0, "2025-05": 1.0}
    assert tables(db) == before


def test_the_engine_binds_every_user_value(db: Path) -> None:
    query = explain(
        ["dossiers_received", "online_share"],
        db=db,
        unit="STP",
        by=["channel"],
        start="2025-02",
        end="2025-05-31",
    )
    assert "'STP'" not in query.sql and "2025-02" not in query.sql and "2025-05" not in query.sql
    assert "STP" in query.params["scope_units"]  # the scope's units, bound as a list
    assert {"$" + k for k in query.params} <= set(re.findall(r"\$[a-z_]+", query.sql))


def test_ingest_of_a_file_named_with_spaces_quotes_and_vietnamese_letters(db: Path, tmp_path: Path) -> None:
    from egov_metrics.ingest import ingest_file

    name = "Hồ sơ tháng 3 (bản của O'Lăng); DROP TABLE dossier.csv"
    path = tmp_path / "Thư mục dữ liệu" / name
    path.parent.mkdir()
    shutil.copy(SAMPLES / "dossiers_one_stop.csv", path)
    before = tables(db)
    result = CliRunner().invoke(app, ["ingest", "dossier", str(path), "--db", str(db)])
    assert result.exit_code in (0, 1), result.output  # demo units/procedures may reject some rows
    after = tables(db)
    assert set(after) == set(before) and after["ingest_run"] == before["ingest_run"] + 1
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("SELECT file FROM ingest_run ORDER BY id DESC LIMIT 1").fetchall() == [
            (str(path.resolve()),)
        ]
    ingest_file(db, "dossier", path, progress=False)
    assert tables(db)["dossier"] == after["dossier"]  # the same file again changes nothing


# --- reports hold aggregates only ---------------------------------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{5,}")
PERSONAL = ("cccd", "cmnd", "số điện thoại", "so_dien_thoai", "phone", "email", "ngày sinh", "date_of_birth",
            "applicant_name", "họ và tên", "địa chỉ thường trú")  # fmt: skip


def test_reports_hold_no_row_level_ids_or_personal_fields(
    rendered_reports: dict[str, Rendered], small_demo_db: Path
) -> None:
    with duckdb.connect(str(small_demo_db), read_only=True) as con:
        ids = {r[0] for r in con.sql("SELECT id FROM dossier UNION ALL SELECT id FROM feedback").fetchall()}
        columns = {r[0] for r in con.sql("SELECT column_name FROM duckdb_columns() WHERE table_name "
                                          "IN ('dossier', 'feedback')").fetchall()}  # fmt: skip
    assert len(ids) > 40_000
    assert not any(c in columns for c in ("name", "phone", "email", "citizen_id")), (
        "the schema has no person data"
    )
    for case, page in rendered_reports.items():
        html = page.html  # the whole page: text, tables and the data inside the inline SVG charts
        leaked = set(_TOKEN.findall(html)) & ids
        assert not leaked, f"{case}: row-level ids in the report: {sorted(leaked)[:5]}"
        assert "H43." not in html and "PAKN-" not in html, case
        lowered = html.lower()
        assert not [w for w in PERSONAL if w in lowered], case
