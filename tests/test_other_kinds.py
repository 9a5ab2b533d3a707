"""Exports of the kinds other than dossiers (unit, procedure, feedback, data_exchange) as data officers send
them: each file is written here and the expected values are read off its text by hand."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import duckdb
import pytest
from fixtures.samples import load_samples

from egov_metrics.errors import IngestError
from egov_metrics.ingest import ingest_file


@pytest.fixture(scope="module")
def reference_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return load_samples(tmp_path_factory.mktemp("kinds") / "ref.duckdb")


@pytest.fixture
def db(reference_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "egov.duckdb"
    shutil.copy(reference_db, path)
    return path


def _rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


def _rejects(db: Path, run_id: int) -> list[tuple[int, str, str]]:
    return _rows(
        db, f'SELECT row_number, "column", reason FROM quarantine WHERE run_id = {run_id} ORDER BY 1, 2'
    )


# --- procedures -----------------------------------------------------------------------------------------


def test_statutory_times_written_in_nfd_are_read(db: Path, tmp_path: Path) -> None:
    """Excel on a Mac writes decomposed Unicode (NFD): "15 ngày làm việc" did not match the built-in
    pattern, so every procedure of such a file was quarantined as 'unparseable number'."""
    text = (
        "Mã TTHC,Tên thủ tục,Lĩnh vực,Cấp thực hiện,Mức độ DVCTT,Thời hạn giải quyết\n"
        "9.100001,Thủ tục A,Hộ tịch,Cấp xã,Toàn trình,15 ngày làm việc\n"
        "9.100002,Thủ tục B,Hộ tịch,Cấp xã,Một phần,Không quá 10 ngày làm việc\n"
        "9.100003,Thủ tục C,Hộ tịch,Cấp xã,Một phần,Trong ngày\n"
    )
    path = tmp_path / "procedures_mac.csv"
    path.write_text(unicodedata.normalize("NFD", text), encoding="utf-8")
    result = ingest_file(db, "procedure", path, progress=False)
    assert _rejects(db, result.run_id) == []
    assert _rows(db, "SELECT code, statutory_days FROM procedure WHERE code LIKE '9.1%' ORDER BY 1") == [
        ("9.100001", 15),
        ("9.100002", 10),
        ("9.100003", 0),
    ]


# --- data exchange --------------------------------------------------------------------------------------

EXCHANGE_HEADER = "Ngày;Nền tảng;Hệ thống nguồn;Hệ thống đích;Số giao dịch"


@pytest.mark.parametrize(
    "header",
    ["Số giao dịch thất bại", "Thất bại", "Số giao dịch không thành công", "Không thành công", "Lỗi"],
)
def test_failures_under_another_usual_header_are_read(db: Path, tmp_path: Path, header: str) -> None:
    """LGSP/NDXP reports head the failed exchanges "Thất bại" or "Số giao dịch không thành công" as often as
    "Số giao dịch lỗi": such a column was ignored and every row stored 0 failures (a 100 % success rate)."""
    path = tmp_path / "exchange.csv"
    path.write_text(f"{EXCHANGE_HEADER};{header}\n12/03/2025;NDXP;A;B;100;40\n", encoding="utf-8")
    ingest_file(db, "data_exchange", path, progress=False)
    assert _rows(db, "SELECT requests, failures FROM data_exchange WHERE day = DATE '2025-03-12'") == [
        (100, 40)
    ]


def test_a_report_of_successes_without_failures_is_refused(db: Path, tmp_path: Path) -> None:
    """A report that counts the successful exchanges (and no failures) would have stored 0 failures for
    every row: the file is refused, naming the column, and nothing is loaded."""
    path = tmp_path / "exchange.csv"
    path.write_text(
        f"{EXCHANGE_HEADER};Số giao dịch thành công\n12/03/2025;NDXP;A;B;100;60\n", encoding="utf-8"
    )
    with pytest.raises(IngestError, match="Số giao dịch thành công"):
        ingest_file(db, "data_exchange", path, progress=False)
    assert _rows(db, "SELECT count(*) FROM data_exchange WHERE day = DATE '2025-03-12'") == [(0,)]


def test_subtotal_rows_of_an_exchange_report_are_skipped_not_loaded_as_systems(
    db: Path, tmp_path: Path
) -> None:
    """Daily LGSP/NDXP reports close each platform and each day with a subtotal whose day is filled in:
    'Cộng LGSP' was loaded as a source system (every LGSP exchange of the day counted twice) and the other
    subtotals were quarantined as missing systems or an unknown platform. They are skipped and listed like
    the 'Tổng cộng' row of a dossier export."""
    path = tmp_path / "exchange.csv"
    path.write_text(
        f"{EXCHANGE_HEADER};Số giao dịch lỗi\n"
        "10/03/2025;NDXP;Một cửa;Cổng DVCQG;1.911;9\n"  # row 2
        "10/03/2025;NDXP;Một cửa;CSDL dân cư;1072;12\n"  # row 3
        "10/03/2025;NDXP;Tổng cộng;;2.983;21\n"  # row 4: the platform's subtotal
        "10/03/2025;LGSP;Một cửa;CSDL đất đai;454;18\n"  # row 5
        "10/03/2025;LGSP;Cộng LGSP;Tất cả;454;18\n"  # row 6: the platform's subtotal
        "10/03/2025;Tổng cộng;;;3.437;39\n"  # row 7: the day's total
        "Tổng cộng;;;;3.437;39\n",  # row 8: the file's total
        encoding="utf-8",
    )
    result = ingest_file(db, "data_exchange", path, progress=False)
    assert (result.rows_read, result.inserted, result.rejected) == (3, 3, 0)
    assert [row for row, _ in result.total_rows] == [4, 6, 7, 8]
    assert "skipped 4 total row(s), not data_exchange rows" in result.summary(markup=False)
    assert _rows(
        db,
        "SELECT platform, sum(requests), sum(failures) FROM data_exchange WHERE day = '2025-03-10' GROUP BY 1 ORDER BY 1",
    ) == [("LGSP", 454, 18), ("NDXP", 2983, 21)]


def test_a_system_whose_name_starts_like_a_total_is_still_loaded(db: Path, tmp_path: Path) -> None:
    """'Tổng đài 1022' and 'Tổng cục Thuế' are systems, not totals."""
    path = tmp_path / "exchange.csv"
    path.write_text(
        f"{EXCHANGE_HEADER};Số giao dịch lỗi\n"
        "10/03/2025;LGSP;Tổng đài 1022;Một cửa;10;1\n"
        "10/03/2025;NDXP;Một cửa;Tổng cục Thuế;20;2\n",
        encoding="utf-8",
    )
    result = ingest_file(db, "data_exchange", path, progress=False)
    assert (result.inserted, result.total_rows) == (2, ())


# --- units ----------------------------------------------------------------------------------------------

UNIT_HEADER = "Mã định danh,Mã đơn vị,Tên đơn vị,Cấp,Trực thuộc,Hiệu lực từ,Hiệu lực đến,Đơn vị kế thừa\n"


def test_a_last_day_of_validity_is_refused_when_the_successor_starts_the_next_day(
    db: Path, tmp_path: Path
) -> None:
    """Validity is [from, to): 'Hiệu lực đến' is the first day the unit no longer exists. A unit list that
    writes the last day instead (28/02/2025, its successor from 01/03/2025) left a day on which neither
    existed: dossiers of that day were quarantined with 'no longer existed … until 2025-02-28' (of a dossier
    of 28/02), and roll-ups of that day lost the unit. Such a row is rejected with the day to write; a
    successor that does not exist on the unit's end day at all is rejected too."""
    path = tmp_path / "units.csv"
    path.write_text(
        UNIT_HEADER + "QA,QA,Sở A,Sở,T58,01/01/2015,28/02/2025,QA-2025\n"  # row 2: the last day written
        "QA-2025,QA,Sở A,Sở,T58,01/03/2025,,\n"  # row 3
        "QB,QB,Sở B,Sở,T58,01/01/2015,01/03/2025,QB-2025\n"  # row 4: right
        "QB-2025,QB,Sở B,Sở,T58,01/03/2025,,\n"  # row 5
        "QC,QC,Sở C,Sở,T58,01/01/2015,01/03/2025,SYT-X\n"  # row 6: successor valid from 2026
        "SYT-X,SYTX,Sở X,Sở,T58,01/01/2026,,\n"  # row 7
        "QD,QD,Sở D,Sở,T58,01/01/2015,01/03/2025,STNMT\n",  # row 8: successor stored, ended that day
        encoding="utf-8",
    )
    result = ingest_file(db, "unit", path, progress=False)
    found = _rejects(db, result.run_id)
    assert [(row, column) for row, column, _ in found] == [
        (2, "Hiệu lực đến"),
        (6, "Đơn vị kế thừa"),
        (8, "Đơn vị kế thừa"),
    ]
    reasons = {row: reason for row, _, reason in found}
    assert "2025-03-01" in reasons[2] and "QA-2025" in reasons[2] and "first day" in reasons[2]
    assert "SYT-X" in reasons[6] and "2025-03-01" in reasons[6]
    assert "STNMT" in reasons[8]
    assert _rows(db, "SELECT id FROM org_unit WHERE id IN ('QA', 'QB', 'QC', 'QD') ORDER BY 1") == [("QB",)]
    vi = _rows(db, f"SELECT reason_vi FROM quarantine WHERE run_id = {result.run_id} AND row_number = 2")
    assert "01/03/2025" in vi[0][0]


def test_the_sample_units_load_again_unchanged(db: Path) -> None:
    """The check above holds for the sample units (each successor starts on the day its unit ends)."""
    result = ingest_file(db, "unit", Path(__file__).parents[1] / "data/samples/units.csv", progress=False)
    assert (result.unchanged, result.rejected) == (19, 0)
