"""Ingest speaks the data officer's language: every reason a row is rejected for exists in Vietnamese and
English (both are kept in `quarantine`), the command's summary is Vietnamese by default, and the progress
report's data-quality table names the rejected rows' problems in the page's language."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from egov_metrics.cli import app
from egov_metrics.ingest import ingest_file, read_rejects
from egov_metrics.ingest.kinds import KINDS
from egov_metrics.ingest.problems import PROBLEMS
from egov_metrics.reports.common import scope_of
from egov_metrics.reports.kinds.progress_report.page import EARLIER_REASON, _quality, _rejected_named

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"

#: Words of the English reasons and summary that a Vietnamese text must not hold.
ENGLISH = re.compile(
    r"\b(row|rows|column|rejected|loaded|unparseable|expected|missing|unknown|before|after|duplicate|"
    r"required|check|the|file|value|inserted|updated|unchanged|read|skipped)\b",
    re.IGNORECASE,
)


def _english_words(text: str) -> list[str]:
    """The English words of `text`, past the canonical codes a choice lists ("hoặc mã chuẩn processing, …")."""
    return ENGLISH.findall(re.sub(r"\(hoặc mã chuẩn [^)]*\)", "", text))


def test_every_rule_and_reference_of_every_kind_has_its_reason_in_both_languages() -> None:
    for kind in KINDS.values():
        reasons = [r.reason for r in kind.rules] + [r.reason for r in kind.references if not r.keep_unknown]
        for said in reasons:
            assert said.vi and said.en and said.vi != said.en, (kind.name, said)
            assert not _english_words(said.vi), (kind.name, said.vi)
        assert kind.name_vi and not _english_words(kind.name_vi)
    for code, said in PROBLEMS.items():
        assert said.vi and said.en and not _english_words(said.vi), code


@pytest.fixture(scope="module")
def broken_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Units, procedures, the one-stop sample and the broken sample (17 rejected rows) loaded by ingest."""
    db = tmp_path_factory.mktemp("broken") / "egov.duckdb"
    for kind, name in [
        ("unit", "units.csv"),
        ("procedure", "procedures.csv"),
        ("dossier", "dossiers_one_stop.csv"),
        ("dossier", "dossiers_broken.csv"),
    ]:
        ingest_file(db, kind, SAMPLES / name, progress=False)
    return db


def test_each_rejected_row_keeps_its_reason_in_both_languages_and_its_problem(broken_db: Path) -> None:
    with duckdb.connect(str(broken_db), read_only=True) as con:
        rejects = read_rejects(con)
    assert rejects.height == 17
    assert rejects["reason_vi"].null_count() == 0
    assert set(rejects["problem"]) <= {*PROBLEMS, "rule"}
    by_row = {r["row_number"]: r for r in rejects.iter_rows(named=True)}
    # what data/samples/README.md says each row breaks, read in both languages
    expected = {
        3: ("missing", "thiếu giá trị bắt buộc", "missing required value"),
        11: ("duplicate", "trùng mã: đã có ở dòng 2", "duplicate id: first on row 2"),
        7: ("rule", "ngày kết thúc xử lý trước ngày tiếp nhận", "finished before received"),
        8: ("rule", "ngày hẹn trả trước ngày tiếp nhận", "due before received"),
    }
    for row, (problem, vi, en) in expected.items():
        assert (by_row[row]["problem"], by_row[row]["reason_vi"], by_row[row]["reason"]) == (problem, vi, en)
    assert by_row[4]["problem"] == "unparseable"
    assert by_row[4]["reason_vi"].startswith("ngày không đọc được: cần dd/mm/yyyy")
    assert by_row[9]["problem"] == "unknown" and by_row[9]["column"] == "Đơn vị"
    assert by_row[9]["reason_vi"].startswith("mã đơn vị không có trong danh mục đơn vị")
    for r in rejects.iter_rows(named=True):
        assert not _english_words(r["reason_vi"]), r


def test_the_command_speaks_vietnamese_by_default_and_english_when_asked(
    broken_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "egov.duckdb"
    shutil.copy(broken_db, db)
    broken = str(SAMPLES / "dossiers_broken.csv")
    vi = CliRunner().invoke(app, ["ingest", "dossier", broken, "--db", str(db)])
    assert vi.exit_code == 1, vi.output
    text = " ".join(vi.output.split())
    assert "Đã loại 17 dòng, 17 lỗi; 10 lỗi đầu tiên:" in text
    assert "dòng 3, cột 'Mã hồ sơ': thiếu giá trị bắt buộc" in text
    # the file's own names and the query to read the quarantine are not words of the summary
    words = text.replace(broken, "").split("Mọi dòng bị loại nằm trong bảng quarantine:")[0]
    assert not _english_words(words), _english_words(words)
    en = CliRunner().invoke(app, ["ingest", "dossier", broken, "--db", str(db)], env={"EGOV_LANG": "en"})
    assert en.exit_code == 1
    assert "row 3, column 'Mã hồ sơ': missing required value" in " ".join(en.output.split())


def test_a_database_made_before_the_vietnamese_reasons_is_read_and_then_extended(
    broken_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "old.duckdb"
    shutil.copy(broken_db, db)
    with duckdb.connect(str(db)) as con:  # as a version before them left it: no reason_vi, no problem
        con.execute("ALTER TABLE quarantine DROP COLUMN reason_vi")
        con.execute("ALTER TABLE quarantine DROP COLUMN problem")
    with duckdb.connect(str(db), read_only=True) as con:
        old = read_rejects(con)
    assert old.height == 17 and old["reason_vi"].null_count() == 17 and old["problem"].null_count() == 17
    ingest_file(db, "dossier", SAMPLES / "dossiers_broken.csv", progress=False)  # adds the columns
    with duckdb.connect(str(db), read_only=True) as con:
        new = read_rejects(con)
        runs = con.sql("SELECT count(DISTINCT run_id), count(reason_vi), count(*) FROM quarantine").fetchall()
    assert new.height == 17 and new["reason_vi"].null_count() == 0
    assert runs == [(2, 17, 34)]  # the earlier rows are kept, without a Vietnamese reason


def test_a_row_rejected_by_two_loads_of_the_same_file_is_counted_once(
    broken_db: Path, tmp_path: Path
) -> None:
    """Loading the broken sample again quarantines its 17 rows again (a second run); the report counted 34."""
    db = tmp_path / "egov.duckdb"
    shutil.copy(broken_db, db)
    ingest_file(db, "dossier", SAMPLES / "dossiers_broken.csv", progress=False)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM quarantine").fetchall() == [(34,)]
        loaded = con.sql("SELECT max(CAST(started_at AS DATE)) FROM ingest_run").fetchall()[0][0]
        quality = _quality(con, scope_of(con, None), loaded.replace(day=1), loaded)
    assert sum(dict(_rejected_named(quality.rejected, "vi").iter_rows()).values()) == 17


def test_the_reports_data_quality_names_the_problems_in_the_pages_language(broken_db: Path) -> None:
    with duckdb.connect(str(broken_db), read_only=True) as con:
        loaded = con.sql("SELECT max(CAST(started_at AS DATE)) FROM ingest_run").fetchall()[0][0]
        # the report of the month before the load (a month's export is loaded in the next month) counts it;
        # the report of two months before does not
        month_before = loaded.replace(day=1) - dt.timedelta(days=1)
        two_before = month_before.replace(day=1) - dt.timedelta(days=1)
        quality = _quality(con, scope_of(con, None), month_before.replace(day=1), month_before)
        earlier = _quality(con, scope_of(con, None), two_before.replace(day=1), two_before)
    assert earlier.rejected.height == 0
    vi = dict(_rejected_named(quality.rejected, "vi").iter_rows())
    en = dict(_rejected_named(quality.rejected, "en").iter_rows())
    assert sum(vi.values()) == sum(en.values()) == 17
    assert vi["Thiếu giá trị bắt buộc: Mã hồ sơ"] == 1
    assert en["Required value missing: Mã hồ sơ"] == 1
    assert vi["Trùng mã: Mã hồ sơ"] == 1
    assert vi["ngày kết thúc xử lý trước ngày tiếp nhận"] == 1
    assert en["finished before received"] == 1
    for name in vi:
        assert not _english_words(name), name
    assert EARLIER_REASON not in vi


#: Files that cannot be loaded at all, each refused for its own reason (the message names the file).
UNREADABLE = {
    "empty.csv": b"",
    "picture.csv": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
    "page.xlsx": b"<html><body><table><tr><td>1</td></tr></table></body></html>",
    "text.xlsx": "Mã hồ sơ,Trạng thái\n1,x\n".encode(),
    "legacy.csv": b"M\xe3 h\xf4\xd2 s\xf5,\xd0\xf5n v\xec\xf2\n1,S\xf5\xd2 T\xfd ph\xe1p\n",  # Windows-1258
    "quote.csv": 'Mã hồ sơ,Mã TTHC,Đơn vị,Hình thức nộp,Ngày tiếp nhận,Trạng thái\n1,2,3,"Cấp Phiếu 5,x,y\n'.encode(),
    "twice.csv": "Mã hồ sơ,Mã hồ sơ,Mã TTHC\n1,2,3\n".encode(),
    "columns.csv": "Số biên nhận,Tình trạng\n1,x\n".encode(),
    "near.csv": (
        "Mã hồ sơ,Mã TTHC,Đơn vị,Hình thức nộp,Ngày tiếp nhận,Trạng thái,Ket qua dien tu\n"
        "H1,1.000001,STP,Trực tuyến,01/03/2025,Đang xử lý,Có\n"
    ).encode(),
}


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_a_file_that_cannot_be_loaded_is_refused_in_both_languages(
    broken_db: Path, tmp_path: Path, name: str
) -> None:
    from egov_metrics.errors import IngestError

    db = tmp_path / "egov.duckdb"
    shutil.copy(broken_db, db)
    path = tmp_path / name
    path.write_bytes(UNREADABLE[name])
    with pytest.raises(IngestError) as err:
        ingest_file(db, "dossier", path, progress=False)
    exc = err.value
    assert exc.message_vi and exc.hint_vi, (name, exc.message)
    assert str(path) in exc.message_vi and str(path) in exc.message
    vi = exc.in_language("vi")
    assert "Gợi ý:" in vi and "Hint:" not in vi
    # the file's own headers and technical names (UTF-8, CSV UTF-8, header_row …) are not words of the message
    words = vi.replace(str(path), "")
    assert not _english_words(re.sub(r"'[^']*'|\([^)]*\)", "", words)), (name, vi)


def test_the_reports_missing_fields_are_named_in_the_pages_language(broken_db: Path, tmp_path: Path) -> None:
    """A dossier without its due date is counted under the field's name in the page's language ("Ngày hẹn trả"
    on the Vietnamese page, "Due date" on the English one), never the column's code (due_at)."""
    from egov_metrics.reports.kinds.progress_report.page import ProgressReport

    db = tmp_path / "missing.duckdb"
    shutil.copy(broken_db, db)
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE dossier SET due_at = NULL WHERE received_at < DATE '2025-04-01'")
        [(missing,)] = con.sql("SELECT count(*) FROM dossier WHERE due_at IS NULL").fetchall()
    assert missing > 0
    pages = {lang: ProgressReport(db, "2025-03", None, lang).data_quality().text for lang in ("vi", "en")}
    codes = re.compile(r"\b(due_at|finished_at|returned_at|synced_at)\b")
    for lang, page in pages.items():
        assert not codes.search(page), (lang, codes.findall(page))
    assert ">Ngày hẹn trả<" in pages["vi"], pages["vi"]
    assert ">Due date<" in pages["en"], pages["en"]
    assert not re.search(r"[ạảãấầẩẫậắằẳẵặẹẻẽếềểễệịỉọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ]", pages["en"]), pages["en"]


def test_a_load_that_only_rejects_rows_changes_the_fingerprint_and_its_repetition_does_not(
    broken_db: Path, tmp_path: Path
) -> None:
    """The progress report shows the rejected rows: a load that inserted nothing and rejected rows left the data
    fingerprint as it was, so a scheduled run re-rendered nothing and the report kept saying 'Không có.'."""
    from egov_metrics.fingerprint import data_fingerprint

    db = tmp_path / "egov.duckdb"
    shutil.copy(broken_db, db)
    broken = tmp_path / "only_broken.csv"
    lines = (SAMPLES / "dossiers_broken.csv").read_text(encoding="utf-8-sig").splitlines()
    # row 4 of the sample (a date that is not one) with another id and date: a row no load has rejected yet
    row = lines[3].replace("31/02/2025", "30/02/2025").replace("-0003", "-9003")
    assert row != lines[3]
    broken.write_text("\n".join([lines[0], row]) + "\n", encoding="utf-8")

    def fingerprint() -> str:
        with duckdb.connect(str(db), read_only=True) as con:
            return data_fingerprint(con)

    before = fingerprint()
    first = ingest_file(db, "dossier", broken, progress=False)
    after = fingerprint()
    again = ingest_file(db, "dossier", broken, progress=False)
    assert (first.inserted, first.updated, first.rejected) == (0, 0, 1)
    assert (again.inserted, again.updated, again.rejected) == (0, 0, 1)
    assert before != after == fingerprint()
