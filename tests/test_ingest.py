"""Importing real exports. Expected values are read off the sample files in data/samples by hand
(the row and the cell are named next to each expectation)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import unicodedata
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from egov_metrics.cli import app
from egov_metrics.errors import IngestError, UnknownNameError
from egov_metrics.ingest import (
    KINDS,
    IngestResult,
    MappingError,
    builtin_mappings,
    export_rejects,
    ingest_file,
    load_mapping_file,
    read_rejects,
)
from egov_metrics.ingest.parsers import PARSERS
from egov_metrics.ingest.readers import detect_format, sniff_delimiter, sniff_encoding
from egov_metrics.schema import create_database

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
T = dt.datetime
END = dt.time(23, 59, 59)

#: The sample export's first row (file row 2, STT 1), as stored.
ROW_2 = {
    "id": "H43.STP-250306-0001",
    "procedure_code": "1.002175",
    "unit_id": "STP",  # Đơn vị STP: Sở Tư pháp's code (and id) in units.csv
    "channel": "online",
    "applicant_type": "citizen",
    "received_at": T(2025, 3, 6, 8, 13),
    "due_at": T.combine(dt.date(2025, 3, 20), END),  # "20/03/2025": a date alone is the end of that day
    "finished_at": T(2025, 3, 20, 10, 11),
    "returned_at": T(2025, 3, 21, 11, 11),
    "status": "returned",
    "supplement_count": 0,
    "supplement_days": 0,
    "e_result": True,
    "digitized": False,
    "reused_data": False,
    "has_financial_obligation": True,
    "paid_online": True,
    "rating": "satisfied",
}


def _load(db: Path, kind: str, name: str | Path, mapping: str | None = None) -> IngestResult:
    path = name if isinstance(name, Path) else SAMPLES / name
    return ingest_file(db, kind, path, mapping=mapping, progress=False)


def _rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


def _dossiers(db: Path) -> list[tuple]:
    return _rows(db, "SELECT * EXCLUDE (source) FROM dossier ORDER BY id")


@pytest.fixture(scope="module")
def ingest_reference_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database created by ingest itself, holding the sample units and procedures."""
    db = tmp_path_factory.mktemp("ref") / "ref.duckdb"
    units = _load(db, "unit", "units.csv")
    procedures = _load(db, "procedure", "procedures.csv")
    assert (units.inserted, units.rejected, procedures.inserted, procedures.rejected) == (19, 0, 12, 0)
    return db


@pytest.fixture
def ingest_db(ingest_reference_db: Path, tmp_path: Path) -> Path:
    """A private copy of the reference database."""
    db = tmp_path / "egov.duckdb"
    shutil.copy(ingest_reference_db, db)
    return db


@pytest.fixture(scope="module")
def ingest_loaded_db(ingest_reference_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference database with the one-stop sample (CSV) loaded; read-only use."""
    db = tmp_path_factory.mktemp("loaded") / "egov.duckdb"
    shutil.copy(ingest_reference_db, db)
    _load(db, "dossier", "dossiers_one_stop.csv")
    return db


# --- a fresh database -------------------------------------------------------------------------------------


def test_ingest_creates_the_database_with_schema_and_calendar(tmp_path: Path) -> None:
    db = tmp_path / "new" / "egov.duckdb"
    result = _load(db, "unit", "units.csv")
    assert db.exists()
    assert (result.rows_read, result.inserted, result.rejected) == (19, 19, 0)
    (days,) = _rows(db, "SELECT count(*) FROM calendar_day")[0]
    assert days == (dt.date(2035, 12, 31) - dt.date(2015, 1, 1)).days + 1
    # the merged departments keep their successor (Decree 45/2025, 1 March 2025)
    assert _rows(db, "SELECT valid_to, successor_id, name_en FROM org_unit WHERE id = 'SKHDT'") == [
        (dt.date(2025, 3, 1), "STC-2025", "Department of Planning and Investment")
    ]


def test_procedures_with_vietnamese_headers(ingest_reference_db: Path) -> None:
    rows = _rows(
        ingest_reference_db,
        "SELECT code, level, online_level, statutory_days, has_fee, applicant_type, field FROM procedure "
        "WHERE code IN ('1.001193', '1.003001', '2.001610') ORDER BY code",
    )
    assert rows == [
        # "Trong ngày" (same day) → 0 working days; no fee ("Không")
        ("1.001193", "commune", "full", 0, False, "citizen", "Hộ tịch"),
        # "30 ngày làm việc" → 30; "Công dân, doanh nghiệp" → both
        ("1.003001", "district", "partial", 30, True, "both", "Đất đai"),
        ("2.001610", "province", "full", 3, False, "business", "Thành lập và hoạt động doanh nghiệp"),
    ]
    # the fields named by procedures are registered in `field`: Hộ tịch, Chứng thực, Đất đai, Xây dựng, Lý lịch
    # tư pháp, Thành lập và hoạt động doanh nghiệp, Khám bệnh, chữa bệnh, Môi trường
    assert _rows(ingest_reference_db, "SELECT count(*) FROM field") == [(8,)]


def test_sample_units_are_the_reference_units(tmp_path: Path) -> None:
    # units.csv copies rows of the project's reference list: loading it over the reference changes nothing
    from egov_metrics.orgunits import load_reference_units

    db = tmp_path / "egov.duckdb"
    with create_database(db) as con:
        load_reference_units(con)
    result = _load(db, "unit", "units.csv")
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, 19)


def test_a_reused_unit_code_resolves_to_the_version_valid_on_the_day(ingest_loaded_db: Path) -> None:
    # Đơn vị STC and SXD in March 2025 are the versions since 1 March 2025 (the old versions kept the code as
    # their id); 22738 (Phường Đô Vinh) before 1 July 2025 is X22738, not X2501 which reuses the code
    units = dict(_rows(ingest_loaded_db, "SELECT unit_id, count(*) FROM dossier GROUP BY ALL"))
    assert units == {
        "STP": 5,
        "STC-2025": 4,
        "SYT": 4,
        "SNNMT-2025": 4,
        "SXD-2025": 4,
        "H582": 4,
        "H585": 4,
        "H586": 4,
        "X22738": 8,
        "X22822": 4,
        "X22840": 5,
    }


# --- formats and encodings -----------------------------------------------------------------------------


def test_one_stop_sample_values(ingest_loaded_db: Path) -> None:
    cols = ", ".join(ROW_2)
    (row,) = _rows(ingest_loaded_db, f"SELECT {cols} FROM dossier WHERE id = '{ROW_2['id']}'")
    assert dict(zip(ROW_2, row, strict=True)) == ROW_2
    counts = dict(_rows(ingest_loaded_db, "SELECT status, count(*) FROM dossier GROUP BY ALL"))
    # Trạng thái: 15 Đã trả kết quả; 11 Đang xử lý + 1 "đang xử lý" (row 6); 5 Hoàn thành + 5 Chờ trả kết quả;
    # 7 Chờ bổ sung; 4 Rút hồ sơ; 2 Từ chối
    assert counts == {
        "returned": 15,
        "processing": 12,
        "finished": 10,
        "supplementing": 7,
        "withdrawn": 4,
        "rejected": 2,
    }
    channels = dict(_rows(ingest_loaded_db, "SELECT channel, count(*) FROM dossier GROUP BY ALL"))
    assert channels == {"online": 28, "in_person": 18, "post": 4}  # row 11 is " TRỰC TIẾP "
    ratings = dict(_rows(ingest_loaded_db, "SELECT rating, count(*) FROM dossier GROUP BY ALL"))
    assert ratings == {None: 34, "satisfied": 12, "very_satisfied": 3, "dissatisfied": 1}
    flags = _rows(
        ingest_loaded_db,
        "SELECT count(*) FILTER (paid_online), count(*) FILTER (has_financial_obligation), "
        "count(*) FILTER (applicant_type = 'business'), count(finished_at), count(returned_at), "
        "count(DISTINCT source) FROM dossier",
    )
    assert flags == [(15, 38, 13, 25, 15, 1)]


@pytest.mark.parametrize(
    ("name", "mapping", "described"),
    [
        ("dossiers_one_stop.xlsx", None, "xlsx (sheet 'Danh sách hồ sơ')"),
        ("dossiers_one_stop_utf16.txt", None, "csv (utf-16, tab-separated)"),
        ("dossiers_canonical.parquet", "dossier_canonical", "parquet"),
    ],
)
def test_every_format_loads_the_same_rows(
    ingest_db: Path, ingest_loaded_db: Path, name: str, mapping: str | None, described: str
) -> None:
    result = _load(ingest_db, "dossier", name, mapping)
    assert (result.rows_read, result.inserted, result.rejected) == (50, 50, 0)
    assert result.source == described
    assert _dossiers(ingest_db) == _dossiers(ingest_loaded_db)


def test_xlsx_title_rows_and_numeric_procedure_codes(ingest_db: Path) -> None:
    # The workbook has a title on row 1 and the header on row 3; Excel stored 1.004870 and 1.010730 as numbers.
    _load(ingest_db, "dossier", "dossiers_one_stop.xlsx")
    assert _rows(
        ingest_db, "SELECT count(*) FROM dossier WHERE procedure_code IN ('1.004870', '1.010730')"
    ) == [(9,)]
    with duckdb.connect(str(ingest_db), read_only=True) as con:
        assert con.sql("SELECT max(row_number) FROM quarantine").fetchall() == [(None,)]


def test_header_and_value_matching_ignores_case_spaces_and_unicode_form(
    ingest_db: Path, tmp_path: Path
) -> None:
    with (SAMPLES / "dossiers_one_stop.csv").open(encoding="utf-8-sig", newline="") as fh:
        text = fh.read()
    header, rest = text.split("\r\n", 1)
    header = ",".join(f"  {h.upper()} " for h in header.split(","))
    nfd = unicodedata.normalize("NFD", header + "\r\n" + rest)  # as some Mac/Excel exports write it
    assert nfd != text
    path = tmp_path / "nfd.csv"
    path.write_text(nfd, encoding="utf-8")
    result = _load(ingest_db, "dossier", path)
    assert (result.inserted, result.rejected) == (50, 0)
    assert _rows(ingest_db, f"SELECT status, channel FROM dossier WHERE id = '{ROW_2['id']}'") == [
        ("returned", "online")
    ]


def test_semicolon_separated_exchange_sample(ingest_db: Path) -> None:
    result = _load(ingest_db, "data_exchange", "data_exchange.csv")
    assert (result.rows_read, result.inserted, result.rejected) == (20, 20, 0)
    assert result.source == "csv (utf-8, semicolon-separated)"
    # line 2: 03/03/2025;NDXP;Hệ thống một cửa điện tử tỉnh;Cổng Dịch vụ công quốc gia;1911;9
    assert _rows(
        ingest_db,
        "SELECT day, platform, requests, failures, source FROM data_exchange "
        "WHERE target_system = 'Cổng Dịch vụ công quốc gia' AND day = DATE '2025-03-03'",
    ) == [(dt.date(2025, 3, 3), "NDXP", 1911, 9, "lgsp_report")]
    assert _rows(ingest_db, "SELECT platform, count(*) FROM data_exchange GROUP BY ALL ORDER BY 1") == [
        ("LGSP", 5),
        ("NDXP", 15),
    ]


def test_feedback_sample(ingest_db: Path) -> None:
    result = _load(ingest_db, "feedback", "feedback.csv")
    assert (result.rows_read, result.inserted, result.rejected) == (20, 20, 0)
    # line 2: 1,PAKN-2025-00001,22738,05/03/2025 09:15,26/03/2025,06/03/2025 16:00,Hài lòng,…
    assert _rows(
        ingest_db,
        "SELECT unit_id, received_at, due_at, handled_at, satisfied FROM feedback WHERE id = 'PAKN-2025-00001'",
    ) == [
        (
            "X22738",
            T(2025, 3, 5, 9, 15),
            T.combine(dt.date(2025, 3, 26), END),
            T(2025, 3, 6, 16),
            True,
        )
    ]
    # 15 handled: 10 "Hài lòng", 5 "Không hài lòng"; 5 without a rating
    assert dict(_rows(ingest_db, "SELECT satisfied, count(*) FROM feedback GROUP BY ALL")) == {
        True: 10,
        False: 5,
        None: 5,
    }


# --- rejected rows ----------------------------------------------------------------------------------------

#: dossiers_broken.csv: (file row, column as headed in the file, reason). Rows 2 and 20 are good.
BROKEN = [
    (3, "Mã hồ sơ", "missing required value"),
    (4, "Ngày tiếp nhận", "unparseable date"),  # 31/02/2025
    (5, "Hình thức nộp", "unparseable value"),  # Fax
    (6, "Số lần bổ sung", "unparseable number"),  # hai
    (7, "Ngày kết thúc xử lý", "finished before received"),
    (8, "Ngày hẹn trả", "due before received"),
    (9, "Đơn vị", "unknown unit code"),  # 999
    (10, "Mã TTHC", "unknown procedure code"),  # 9.999999
    (11, "Mã hồ sơ", "duplicate id: first on row 2"),
    (12, "Thanh toán trực tuyến", "paid online without a financial obligation"),
    (13, "Ngày kết thúc xử lý", "status finished/returned without a finish date"),
    (14, "Số ngày bổ sung", "number below 0"),  # -2
    (15, "Số hoá", "unparseable yes/no value"),  # Có lẽ
    (16, None, "too many fields"),  # an unquoted 21st field
    (17, "Ngày trả kết quả", "returned before received"),
    (18, "Trạng thái", "unparseable value"),  # Đã huỷ
    (19, "Ngày tiếp nhận", "missing required value"),
]


def test_each_rejection_reason_lands_in_quarantine(ingest_db: Path) -> None:
    result = _load(ingest_db, "dossier", "dossiers_broken.csv")
    assert (result.rows_read, result.inserted, result.rejected, result.problems) == (19, 2, 17, 17)
    rows = _rows(
        ingest_db,
        'SELECT row_number, "column", reason, value, record, run_id, kind, file FROM quarantine ORDER BY 1',
    )
    found = [(r[0], r[1], r[2][: len(reason)]) for r, (_, _, reason) in zip(rows, BROKEN, strict=True)]
    assert found == BROKEN
    by_row = {r[0]: r for r in rows}
    assert by_row[5][3] == "Fax" and by_row[9][3] == "999" and by_row[16][3] == "nhanh"
    record = json.loads(by_row[11][4])
    assert record["Mã hồ sơ"] == "H43.STP-250310-0001" and record["Trạng thái"] == "Đang xử lý"
    assert {r[5:] for r in rows} == {(result.run_id, "dossier", str(SAMPLES / "dossiers_broken.csv"))}
    assert _rows(ingest_db, "SELECT id FROM dossier ORDER BY id") == [
        ("H43.STP-250310-0001",),
        ("H43.STP-250310-0019",),
    ]
    run = _rows(
        ingest_db,
        f"SELECT rows_read, inserted, updated, unchanged, rejected FROM ingest_run WHERE id = {result.run_id}",
    )
    assert run == [(19, 2, 0, 0, 17)]


def test_summary_names_rejects_and_how_to_see_all(ingest_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "rejects.csv"
    result = ingest_file(ingest_db, "dossier", SAMPLES / "dossiers_broken.csv", progress=False, rejects=out)
    text = result.summary(markup=False)
    assert "read 19 · inserted 2 · updated 0 · unchanged 0 · rejected 17" in text
    assert "row 3, column 'Mã hồ sơ': missing required value" in text
    assert "row 12, column 'Thanh toán trực tuyến' = 'Có': paid online without a financial obligation" in text
    assert "row 13," not in text  # only the first 10 problems are listed
    assert f"SELECT * FROM quarantine WHERE run_id = {result.run_id} ORDER BY row_number" in text
    written = pl.read_csv(out, infer_schema=False)
    assert written.height == 17 and written["row_number"].to_list()[:2] == ["3", "4"]
    with duckdb.connect(str(ingest_db), read_only=True) as con:
        assert read_rejects(con).height == 17
        assert export_rejects(con, result.run_id, tmp_path / "again.csv") == 17


def test_excel_row_numbers_with_title_blank_lines_and_multiline_cells(
    ingest_db: Path, tmp_path: Path
) -> None:
    header = "Mã hồ sơ,Mã TTHC,Đơn vị,Hình thức nộp,Ngày tiếp nhận,Trạng thái,Ghi chú"
    good = "{id},1.002175,STP,Trực tuyến,10/03/2025 08:00,Đang xử lý,{note}"
    lines = [
        "DANH SÁCH HỒ SƠ",  # row 1
        "",  # row 2
        header,  # row 3
        good.format(id="A", note="ok"),  # row 4
        "",  # row 5 (blank, skipped)
        good.format(id="B", note='"hai\ndòng"'),  # row 6, a cell over two lines
        good.format(id="C", note="ok").replace("Trực tuyến", "Fax"),  # row 7 (line 8 in a text editor)
    ]
    path = tmp_path / "rows.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    result = _load(ingest_db, "dossier", path)
    assert (result.rows_read, result.blank_rows, result.inserted, result.rejected) == (3, 1, 2, 1)
    assert result.rejects[0].row == 7 and result.ignored_columns == ("Ghi chú",)


# --- idempotence and corrections ------------------------------------------------------------------------


def test_loading_the_same_file_twice_changes_nothing(ingest_db: Path) -> None:
    first = _load(ingest_db, "dossier", "dossiers_one_stop.csv")
    before = _dossiers(ingest_db)
    second = _load(ingest_db, "dossier", "dossiers_one_stop.csv")
    assert (first.inserted, first.updated, first.unchanged) == (50, 0, 0)
    assert (second.inserted, second.updated, second.unchanged, second.rejected) == (0, 0, 50, 0)
    assert _dossiers(ingest_db) == before
    runs = _rows(ingest_db, "SELECT DISTINCT sha256, kind, mapping FROM ingest_run WHERE kind = 'dossier'")
    assert len(runs) == 1 and len(runs[0][0]) == 64 and runs[0][1:] == ("dossier", "one_stop_vi")


def test_a_corrected_file_updates_exactly_the_corrected_rows(ingest_db: Path, tmp_path: Path) -> None:
    _load(ingest_db, "dossier", "dossiers_one_stop.csv")
    before = {r[0]: r for r in _dossiers(ingest_db)}
    text = (SAMPLES / "dossiers_one_stop.csv").read_text(encoding="utf-8-sig")
    # file row 3 (STT 2): the supplement came in and the dossier is being processed again
    old3 = "11/03/2025 09:26,14/03/2025,,,Chờ bổ sung,1,2,"
    # file row 5 (STT 4): the land-title dossier is finished on 25/04/2025
    old5 = "19/03/2025 11:52,30/04/2025,,,Chờ bổ sung,"
    assert text.count(old3) == 1 and text.count(old5) == 1
    text = text.replace(old3, "11/03/2025 09:26,14/03/2025,,,Đang xử lý,1,2,")
    text = text.replace(old5, "19/03/2025 11:52,30/04/2025,25/04/2025 15:30,,Hoàn thành,")
    path = tmp_path / "corrected.csv"
    path.write_text(text, encoding="utf-8-sig")
    result = _load(ingest_db, "dossier", path)
    assert (result.inserted, result.updated, result.unchanged, result.rejected) == (0, 2, 48, 0)
    after = {r[0]: r for r in _dossiers(ingest_db)}
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {"H43.22840-250311-0001", "H43.585-250319-0001"}
    assert _rows(ingest_db, "SELECT status, finished_at FROM dossier WHERE id = 'H43.585-250319-0001'") == [
        ("finished", T(2025, 4, 25, 15, 30))
    ]


def test_columns_the_file_lacks_keep_their_stored_values(ingest_db: Path, tmp_path: Path) -> None:
    _load(ingest_db, "dossier", "dossiers_one_stop.csv")
    before = _dossiers(ingest_db)
    frame = pl.read_csv(SAMPLES / "dossiers_one_stop.csv", infer_schema=False)
    path = tmp_path / "narrow.csv"
    frame.select(
        "Mã hồ sơ",
        "Mã TTHC",
        "Đơn vị",
        "Hình thức nộp",
        "Ngày tiếp nhận",
        "Trạng thái",
        "Ngày kết thúc xử lý",
        "Ngày trả kết quả",
        "Ngày hẹn trả",
    ).write_csv(path)
    result = _load(ingest_db, "dossier", path)
    assert (result.updated, result.unchanged) == (0, 50)
    assert _dossiers(ingest_db) == before


# --- mappings ----------------------------------------------------------------------------------------------


def test_custom_mapping_loads_an_unseen_layout(ingest_db: Path) -> None:
    with pytest.raises(IngestError) as err:
        _load(ingest_db, "dossier", "dossiers_other_system.csv")
    message = str(err.value)
    assert (
        "missing required column(s)" in message
        and "received_at: expected a column headed 'Ngày tiếp nhận'" in message
    )
    assert "columns found: 'Số biên nhận', 'Mã thủ tục hành chính'" in message and "--mapping" in message
    result = _load(
        ingest_db, "dossier", "dossiers_other_system.csv", str(SAMPLES / "other_system_mapping.yaml")
    )
    assert (result.rows_read, result.inserted, result.rejected, result.mapping) == (10, 10, 0, "other_system")
    # row 6 of the file: NS-2025-00103,1.009794,H585,Online,10:12 05/03/2025,26/03/2025,16:00 21/03/2025,
    # 08:30 24/03/2025;Đã trả cho công dân;X;X
    assert _rows(
        ingest_db,
        "SELECT unit_id, channel, received_at, due_at, finished_at, returned_at, status, has_financial_obligation, "
        "paid_online, applicant_type, source FROM dossier WHERE id = 'NS-2025-00103'",
    ) == [
        (
            "H585",
            "online",
            T(2025, 3, 5, 10, 12),
            T.combine(dt.date(2025, 3, 26), END),
            T(2025, 3, 21, 16),
            T(2025, 3, 24, 8, 30),
            "returned",
            True,
            True,
            "citizen",
            "ninh_son_system",
        )
    ]
    assert dict(_rows(ingest_db, "SELECT status, count(*) FROM dossier GROUP BY ALL")) == {
        "processing": 2,
        "finished": 1,
        "returned": 5,
        "supplementing": 1,
        "withdrawn": 1,
    }


def test_missing_column_error_suggests_the_near_header(ingest_db: Path, tmp_path: Path) -> None:
    text = (SAMPLES / "dossiers_one_stop.csv").read_text(encoding="utf-8-sig")
    path = tmp_path / "typo.csv"
    path.write_text(text.replace("Ngày tiếp nhận", "Ngay tiep nhan", 1), encoding="utf-8")
    with pytest.raises(IngestError) as err:
        _load(ingest_db, "dossier", path)
    assert "did you mean 'Ngay tiep nhan' for 'Ngày tiếp nhận'?" in str(err.value)
    assert _rows(ingest_db, "SELECT count(*) FROM ingest_run WHERE kind = 'dossier'") == [(0,)]


def test_mapping_file_errors_list_every_problem_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            kind: dossier
            colums: {}
            columns:
              Mã hồ sơ: id
              Mã TTHC: procedure_cod
              Đơn vị: unit_id
              Kênh: channel
              Ngày nhận: received_at
              Tình trạng: status
            values:
              channel:
                Online: onlin
            date_formats: ["%d/%m/%Q"]
            defaults:
              applicant_type: robot
              applicant_type: citizen
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(MappingError) as err:
        load_mapping_file(path)
    lines = str(err.value).splitlines()
    expected = [
        f"{path}:2: colums: Extra inputs are not permitted",
        f"{path}:5: columns.Mã TTHC: 'procedure_cod' is not a column of dossier (did you mean 'procedure_code'?)",
        f"{path}:12: values.channel.Online: 'onlin' is not a value of channel; use one of: online, in_person, post",
        f"{path}:13: date_formats.0: date format '%d/%m/%Q': unknown directive(s) %Q",
        f"{path}:16: defaults.applicant_type: key listed twice",
    ]
    for start in expected:
        assert any(line.startswith(start) for line in lines), start
    # the two more: procedure_code has no header (its only one is misspelt); the last applicant_type is valid
    assert lines[0] == f"mapping {path} has 6 problem(s):"


def test_the_guide_example_mapping_is_valid(tmp_path: Path) -> None:
    guide = (ROOT / "docs" / "ingest.md").read_text(encoding="utf-8")
    example = guide.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")
    mapping = load_mapping_file(path)
    assert (mapping.name, mapping.kind, mapping.header_row) == ("other_system", "dossier", "auto")


def test_builtin_mappings_are_valid_and_named_after_their_file() -> None:
    mappings = builtin_mappings()
    for name, path in mappings.items():
        assert load_mapping_file(path).name == name
    assert {k.default_mapping for k in KINDS.values()} <= set(mappings)


def test_wrong_kind_or_mapping_names_raise_with_choices(ingest_db: Path) -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'dossier'"):
        _load(ingest_db, "dosier", "dossiers_one_stop.csv")
    with pytest.raises(UnknownNameError, match="did you mean 'one_stop_vi'"):
        _load(ingest_db, "dossier", "dossiers_one_stop.csv", "one_stop")
    with pytest.raises(MappingError, match="is for dossier files, not feedback"):
        _load(ingest_db, "feedback", "feedback.csv", "one_stop_vi")


def test_kinds_mirror_the_schema(ingest_reference_db: Path) -> None:
    for kind in KINDS.values():
        assert {c.type for c in kind.columns} <= set(PARSERS), kind.name
        columns = _rows(
            ingest_reference_db,
            f"SELECT column_name, is_nullable, column_default FROM duckdb_columns() WHERE table_name = '{kind.table}' "
            "ORDER BY column_index",
        )
        assert [c[0] for c in columns] == list(kind.column_names), kind.name
        not_null_without_default = {c[0] for c in columns if not c[1] and c[2] is None}
        assert not_null_without_default == set(kind.required), kind.name
        (key,) = _rows(
            ingest_reference_db,
            "SELECT constraint_column_names FROM duckdb_constraints() "
            f"WHERE table_name = '{kind.table}' AND constraint_type = 'PRIMARY KEY'",
        )[0]
        assert tuple(key) == kind.key, kind.name


# --- files that cannot be read ---------------------------------------------------------------------------


def test_format_and_encoding_detection(tmp_path: Path) -> None:
    xlsx_named_csv = tmp_path / "export.csv"
    shutil.copy(SAMPLES / "dossiers_one_stop.xlsx", xlsx_named_csv)
    assert detect_format(xlsx_named_csv) == "xlsx"  # content wins over the extension
    assert detect_format(SAMPLES / "dossiers_canonical.parquet") == "parquet"
    assert sniff_encoding(SAMPLES / "dossiers_one_stop.csv") == "utf-8-sig"
    assert sniff_encoding(SAMPLES / "dossiers_one_stop_utf16.txt") == "utf-16"
    assert sniff_encoding(SAMPLES / "data_exchange.csv") == "utf-8"
    assert sniff_delimiter('a;b;c\n"x,y";2;3\n') == ";"
    assert sniff_delimiter("a\tb\n1\t2\n") == "\t"
    html = tmp_path / "export.xls"
    html.write_text("<html><body><table><tr><td>Mã hồ sơ</td></tr></table></body></html>", encoding="utf-8")
    with pytest.raises(IngestError, match="web page"):
        detect_format(html)
    fake = tmp_path / "export.xlsx"
    fake.write_text("Mã hồ sơ,Mã TTHC\n", encoding="utf-8")
    with pytest.raises(IngestError, match="content is text"):
        detect_format(fake)
    legacy = tmp_path / "legacy.csv"
    legacy.write_bytes(b"M\xb8 h\xe5 s\xad,Tr\xb9ng th\xb8i\n")  # "Mã hồ sơ,Trạng thái" in TCVN3 (ABC)
    with pytest.raises(IngestError, match="not UTF-8 or UTF-16"):
        sniff_encoding(legacy)


# --- the command line ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["dossier", "dossiers_one_stop.csv"], 0, "thêm mới 50"),  # the summary is Vietnamese by default
        (["dossier", "dossiers_broken.csv"], 1, "bị loại 17"),
        (["dossier", "dossiers_one_stop.csv", "--lang", "en"], 0, "inserted 50"),
        (["dossier", "dossiers_broken.csv", "--lang", "en"], 1, "rejected 17"),
        (["dossier", "dossiers_broken.csv", "--lang", "fr"], 2, "không phải một ngôn ngữ của công cụ"),
        (["dossier", "no_such_file.csv"], 2, "không tồn tại"),
        (["dossier", "dossiers_other_system.csv"], 2, "thiếu (các) cột bắt buộc"),
        (["dossier", "units.csv", "--mapping", "one_stop"], 2, "có phải là 'one_stop_vi'"),
        (["dossier", "no_such_file.csv", "--lang", "en"], 2, "does not exist"),
        (["dossier", "dossiers_other_system.csv", "--lang", "en"], 2, "missing required column"),
        (["dossier", "units.csv", "--mapping", "one_stop", "--lang", "en"], 2, "did you mean 'one_stop_vi'"),
    ],
)
def test_cli_exit_codes(ingest_db: Path, args: list[str], code: int, needle: str) -> None:
    args = [args[0], str(SAMPLES / args[1]), *args[2:], "--db", str(ingest_db)]
    result = CliRunner().invoke(app, ["ingest", *args])
    assert result.exit_code == code, result.output
    assert needle in " ".join(result.output.split())


# --- atomicity: a killed load leaves the old state ------------------------------------------------------

_CHILD = """
import sys, time
from pathlib import Path
import egov_metrics.ingest.load as load
import egov_metrics.ingest.sql as sql

def announce(original, marker):
    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        print(marker, flush=True)
        if marker == "BEFORE-COMMIT":
            time.sleep(60)  # stay inside the transaction until killed
        return result
    return wrapped

if sys.argv[3] == "merge":
    sql.merge_sql = announce(sql.merge_sql, "MERGING")  # called right before the MERGE runs
else:
    load._record_run = announce(load._record_run, "BEFORE-COMMIT")  # the last write before COMMIT
load.ingest_file(Path(sys.argv[1]), "dossier", Path(sys.argv[2]), progress=False)
"""


def _kill_at(marker: str, db: Path, file: Path, where: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(db), str(file), where],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    seen = threading.Event()

    def watch() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            if line.strip() == marker:
                seen.set()
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        assert seen.wait(30), f"the child never reached {marker}"
        child.send_signal(signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()


def _state(db: Path) -> tuple[int, int, int]:
    return _rows(
        db,
        "SELECT (SELECT count(*) FROM dossier), (SELECT count(*) FROM ingest_run), "
        "(SELECT count(*) FROM quarantine)",
    )[0]


@pytest.mark.slow  # a load killed at random moments, in a loop
def test_a_killed_load_leaves_the_database_as_it_was(ingest_db: Path, tmp_path: Path) -> None:
    _load(ingest_db, "dossier", "dossiers_one_stop.csv")
    old = _state(ingest_db)
    assert old == (50, 3, 0)
    sample = pl.read_csv(SAMPLES / "dossiers_one_stop.csv", infer_schema=False)
    n = 200_000
    big = (
        pl.concat([sample] * (n // sample.height))
        .with_row_index("i")
        .with_columns(pl.format("{}-k{}", pl.col("Mã hồ sơ"), pl.col("i")).alias("Mã hồ sơ"))
        .drop("i")
    )
    big = big.with_columns(
        pl.when(pl.int_range(pl.len()) == 7)
        .then(pl.lit("Fax"))
        .otherwise(pl.col("Hình thức nộp"))
        .alias("Hình thức nộp")
    )  # one bad row, so that quarantine is written too
    path = tmp_path / "big.csv"
    big.write_csv(path, include_bom=True)
    for where, marker in (("merge", "MERGING"), ("commit", "BEFORE-COMMIT")):
        _kill_at(marker, ingest_db, path, where)
        assert _state(ingest_db) == old, f"killed at {marker}"
    result = _load(ingest_db, "dossier", path)  # the database still works and the load now completes
    assert (result.inserted, result.rejected) == (n - 1, 1)
    assert _state(ingest_db) == (50 + n - 1, 4, 1)


def test_the_usual_rating_words_load_the_row_instead_of_rejecting_it(ingest_db: Path, tmp_path: Path) -> None:
    """An unrated dossier ("Chưa đánh giá"), a neutral rating ("Bình thường") and "Rất không hài lòng" each
    rejected the whole dossier (gone from every figure, the on-time rate included); feedback likewise. No
    rating is an empty cell, a strong dislike a dislike; a neutral feedback rating is rated, not satisfied."""
    lines = (SAMPLES / "dossiers_one_stop.csv").read_text(encoding="utf-8-sig").splitlines()
    header, row = lines[0], lines[1]
    assert row.endswith(",Hài lòng")
    words = {"Chưa đánh giá": None, "Bình thường": None, "Rất không hài lòng": "dissatisfied", "": None}
    rows = [
        row.replace("-0001,", f"-900{i},", 1).removesuffix("Hài lòng") + word for i, word in enumerate(words)
    ]
    dossiers = tmp_path / "ratings.csv"
    dossiers.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    result = _load(ingest_db, "dossier", dossiers)
    assert (result.inserted, result.rejected) == (4, 0), result.summary(markup=False)
    got = dict(_rows(ingest_db, "SELECT right(id, 4), rating FROM dossier WHERE id LIKE '%-900_'"))
    assert got == {f"900{i}": rating for i, rating in enumerate(words.values())}

    lines = (SAMPLES / "feedback.csv").read_text(encoding="utf-8-sig").splitlines()
    header, row = lines[0], lines[2]  # unit STP, rated "Hài lòng"
    feedback_words = {
        "Chưa đánh giá": None,
        "Bình thường": False,
        "Rất không hài lòng": False,
        "Hài lòng": True,
    }
    rows = [
        row.replace("-00002,", f"-0900{i},", 1).replace(",Hài lòng,", f",{word},", 1)
        for i, word in enumerate(feedback_words)
    ]
    items = tmp_path / "feedback_ratings.csv"
    items.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    result = _load(ingest_db, "feedback", items)
    assert (result.inserted, result.rejected) == (4, 0), result.summary(markup=False)
    got = dict(_rows(ingest_db, "SELECT right(id, 5), satisfied FROM feedback WHERE id LIKE '%-0900_'"))
    assert got == {f"0900{i}": value for i, value in enumerate(feedback_words.values())}


def test_a_mapping_may_map_a_text_to_no_value(tmp_path: Path) -> None:
    """'' in a value map means no value (an empty cell); another unknown value is still refused."""
    path = tmp_path / "m.yaml"
    path.write_text(
        "kind: dossier\nname: m\ncolumns:\n  Mã hồ sơ: id\n  Đánh giá: rating\n"
        "values:\n  rating:\n    'N/A': ''\n    Tốt: great\n",
        encoding="utf-8",
    )
    with pytest.raises(MappingError) as err:
        load_mapping_file(path)
    messages = [line for line in str(err.value).splitlines() if "values.rating" in line]
    assert len(messages) == 1 and "'great' is not a value of rating" in messages[0], str(err.value)


def test_a_unit_list_that_moves_a_units_dates_names_the_records_left_outside(
    ingest_db: Path, tmp_path: Path
) -> None:
    """A corrected unit list moved the 2025 merger of the finance department from 1 to 20 March: it loaded as
    'updated', and the dossiers of 3, 7 and 19 March stayed on STC-2025, before its new start, without a word."""
    _load(ingest_db, "dossier", "dossiers_one_stop.csv")
    text = (SAMPLES / "units.csv").read_text(encoding="utf-8")
    moved = text.replace(",2025-03-01,STC-2025", ",2025-03-20,STC-2025").replace(
        "STC-2025,STC,Sở Tài chính,Department of Finance,department,T58,2025-03-01,",
        "STC-2025,STC,Sở Tài chính,Department of Finance,department,T58,2025-03-20,",
    )
    assert moved.count("2025-03-20") == 3
    units = tmp_path / "units.csv"
    units.write_text(moved, encoding="utf-8")
    result = _load(ingest_db, "unit", units)
    assert (result.updated, result.rejected) == (3, 0), result.summary(markup=False)
    received = _rows(
        ingest_db,
        "SELECT count(*) FROM dossier WHERE unit_id = 'STC-2025' AND received_at < TIMESTAMP '2025-03-20'",
    )
    assert result.outside_validity == (("dossier", "STC-2025", received[0][0]),) and received[0][0] == 3
    assert "3 hồ sơ của đơn vị 'STC-2025' tiếp nhận vào ngày nằm ngoài" in " ".join(
        result.summary(markup=False, lang="vi").split()
    )
    assert "3 dossier(s) of unit 'STC-2025' were received on a day outside its validity" in " ".join(
        result.summary(markup=False, lang="en").split()
    )
