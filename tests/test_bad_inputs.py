"""The bad-input corpus: files a data officer really produces, each generated here into tmp_path.

Every case ends in a clear error or a quarantine line naming the file, the row, the column and the fix, and a
load that fails leaves every table of the database exactly as it was (compared by row count and checksum).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import shutil
import subprocess
import sys
import textwrap
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import openpyxl
import pytest
from fixtures.samples import load_samples

from egov_metrics.errors import IngestError
from egov_metrics.ingest import IngestResult, ingest_file
from egov_metrics.schema.connection import TABLES

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"

HEADER = ["Mã hồ sơ", "Mã TTHC", "Đơn vị", "Hình thức nộp", "Ngày tiếp nhận", "Trạng thái"]


def _row(id_: str, received: object = "10/03/2025 08:00", **over: object) -> list[object]:
    values = {
        "Mã hồ sơ": id_,
        "Mã TTHC": "1.002175",
        "Đơn vị": "STP",
        "Hình thức nộp": "Trực tuyến",
        "Ngày tiếp nhận": received,
        "Trạng thái": "Đang xử lý",
    } | over
    return [values[h] for h in HEADER]


def _csv(rows: list[list[object]], header: list[str] = HEADER) -> str:
    return "\r\n".join(",".join(str(v) for v in r) for r in [header, *rows]) + "\r\n"


# --- the database and its checksum ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Units, procedures and the 50-dossier one-stop sample, loaded by ingest itself."""
    db = tmp_path_factory.mktemp("bad") / "ref.duckdb"
    return load_samples(db)


@pytest.fixture
def db(reference_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "egov.duckdb"
    shutil.copy(reference_db, path)
    return path


def checksums(db: Path) -> dict[str, tuple[int, int]]:
    """(row count, order-independent hash of every row) of every canonical table."""
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            t: tuple(con.sql(f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM {t} t").fetchall()[0])
            for t in TABLES
        }


@contextlib.contextmanager
def unchanged(db: Path) -> Iterator[None]:
    before = checksums(db)
    yield
    assert checksums(db) == before, "a failed load changed the database"


def load(db: Path, path: Path, kind: str = "dossier", mapping: str | None = None) -> IngestResult:
    return ingest_file(db, kind, path, mapping=mapping, progress=False)


def fails(db: Path, path: Path, *needles: str, kind: str = "dossier", mapping: str | None = None) -> str:
    """Load `path`, expect an IngestError naming the file and every needle, and an unchanged database."""
    with unchanged(db), pytest.raises(IngestError) as err:
        load(db, path, kind, mapping)
    message = str(err.value)
    assert str(path) in message, message
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    assert "\nHint: " in message, "every error says how to fix it"
    return message


def rejects(db: Path, run_id: int) -> list[tuple[int, str | None, str | None, str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(
            'SELECT row_number, "column", value, reason FROM quarantine WHERE run_id = ? ORDER BY 1, 2',
            params=[run_id],
        ).fetchall()


def dossier(db: Path, id_: str) -> tuple | None:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.sql(
            "SELECT received_at, status, channel FROM dossier WHERE id = ?", params=[id_]
        ).fetchall()
    return rows[0] if rows else None


# --- encodings ----------------------------------------------------------------------------------------------

_TONES = "\u0300\u0309\u0303\u0301\u0323"  # the five tone marks, combining, as Windows-1258 writes them


def cp1258(text: str) -> bytes:
    """Text as Windows-1258 writes it: base letters precomposed (ư, ơ, â …), tone marks as combining bytes."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
            out += base.encode("cp1258") + "".join(c for c in parts if c in _TONES).encode("cp1258")
    return bytes(out)


#: "Mã hồ sơ,Trạng thái" in TCVN3 (ABC): one byte per accented letter, no Python codec exists for it.
TCVN3_HEADER = b"M\xb8 h\xe5 s\xad,M\xb8 TTHC,\xae\xb5n v\xfb,Tr\xb9ng th\xb8i"


def test_cp1258_round_trip_helper_is_real_cp1258() -> None:
    encoded = cp1258("Trực tuyến, Đang xử lý")
    assert unicodedata.normalize("NFC", encoded.decode("cp1258")) == "Trực tuyến, Đang xử lý"
    with pytest.raises(UnicodeDecodeError):
        encoded.decode("utf-8")


@pytest.mark.parametrize(
    ("case", "looks_like", "line"),
    [
        ("cp1258_header", "Windows-1258", 1),
        ("tcvn3_header", "TCVN3", 1),
        ("cp1258_after_300_kb", "Windows-1258", 5002),  # beyond the sample the encoding is sniffed from
    ],
)
def test_legacy_code_pages_mislabelled_as_utf8(
    db: Path, tmp_path: Path, case: str, looks_like: str, line: int
) -> None:
    path = tmp_path / f"{case}.csv"
    good = _csv([_row(f"E{i}") for i in range(5000)]).encode("utf-8")
    if case == "cp1258_header":
        path.write_bytes(cp1258(_csv([_row("E1")])))
    elif case == "tcvn3_header":
        path.write_bytes(TCVN3_HEADER + b"\r\nE1,1.002175,STP,x\r\n")
    else:
        path.write_bytes(good + cp1258(",".join(map(str, _row("E-late"))) + "\r\n"))
        assert path.stat().st_size > 300_000
    message = fails(db, path, f"file {path} is not UTF-8: looks like {looks_like}", f"line {line}")
    assert "re-save as UTF-8 (Excel: Save As → CSV UTF-8" in message


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_loads(db: Path, tmp_path: Path, codec: str) -> None:
    path = tmp_path / "unicode.txt"
    path.write_bytes(_csv([_row("U1"), _row("U2", "11/03/2025 09:30")]).replace(",", "\t").encode(codec))
    assert not path.read_bytes().startswith((b"\xff\xfe", b"\xfe\xff"))
    result = load(db, path)
    assert (result.inserted, result.rejected) == (2, 0)
    assert result.source == f"csv ({codec}, tab-separated)"
    assert dossier(db, "U2") == (dt.datetime(2025, 3, 11, 9, 30), "processing", "online")


# --- dates ----------------------------------------------------------------------------------------------------


def test_the_mappings_declared_date_format_wins(db: Path, tmp_path: Path) -> None:
    # 03/10/2025 is 3 October under the default dd/mm/yyyy, 10 March under a mapping that declares mm/dd/yyyy
    path = tmp_path / "us_dates.csv"
    path.write_text(_csv([_row("M1", "03/10/2025 08:00"), _row("M2", "13/25/2025 08:00")]), encoding="utf-8")
    result = load(db, path)
    assert dossier(db, "M1")[0] == dt.datetime(2025, 10, 3, 8, 0)
    assert rejects(db, result.run_id) == [
        (3, "Ngày tiếp nhận", "13/25/2025 08:00",
         "unparseable date: expected dd/mm/yyyy HH:MM:SS, dd/mm/yyyy HH:MM, dd/mm/yyyy or yyyy-mm-dd"),
    ]  # fmt: skip
    mapping = tmp_path / "us_system.yaml"
    original = (ROOT / "egov_metrics" / "mappings" / "one_stop_vi.yaml").read_text(encoding="utf-8")
    mapping.write_text(
        original.replace("name: one_stop_vi", "name: us_system").replace(
            'date_formats: ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"]',
            'date_formats: ["%m/%d/%Y %H:%M", "%m/%d/%Y"]',
        ),
        encoding="utf-8",
    )
    result = load(db, path, mapping=str(mapping))
    assert dossier(db, "M1")[0] == dt.datetime(2025, 3, 10, 8, 0)
    (reject,) = rejects(db, result.run_id)
    assert reject[:3] == (3, "Ngày tiếp nhận", "13/25/2025 08:00")
    assert reject[3] == "unparseable date: expected mm/dd/yyyy HH:MM, mm/dd/yyyy or yyyy-mm-dd"


def test_dates_before_2000_or_in_the_future_are_quarantined(db: Path, tmp_path: Path) -> None:
    tomorrow_noon = dt.datetime.combine(dt.date.today() + dt.timedelta(days=1), dt.time(0, 0))
    far = dt.date.today() + dt.timedelta(days=3)
    path = tmp_path / "years.csv"
    path.write_text(
        _csv([
            _row("Y1", "31/12/1999 23:59"),
            _row("Y2", "01/01/2000"),  # the first day accepted
            _row("Y3", f"{far:%d/%m/%Y} 08:00"),
            _row("Y4", f"{tomorrow_noon:%d/%m/%Y %H:%M}"),  # less than a day ahead: clocks and time zones
            _row("Y5", "10/03/2205"),
        ]),
        encoding="utf-8",
    )  # fmt: skip
    result = load(db, path)
    assert (result.inserted, result.rejected) == (2, 3)
    found = rejects(db, result.run_id)
    assert [(r[0], r[1]) for r in found] == [
        (2, "Ngày tiếp nhận"),
        (4, "Ngày tiếp nhận"),
        (6, "Ngày tiếp nhận"),
    ]
    assert found[0][3] == "received before 2000-01-01: check the year"
    assert found[1][3].startswith("received in the future (more than 1 day after now)")
    assert found[2][2] == "10/03/2205"
    feedback = tmp_path / "feedback.csv"
    feedback.write_text(
        "Mã PAKN,Đơn vị,Ngày tiếp nhận\r\nP1,STP,05/03/1995 09:15\r\nP2,STP,05/03/2025 09:15\r\n",
        encoding="utf-8",
    )
    result = load(db, feedback, kind="feedback")
    assert (result.inserted, result.rejected) == (1, 1)
    assert rejects(db, result.run_id)[0][3] == "received before 2000-01-01: check the year"


def test_negative_durations_are_quarantined(db: Path, tmp_path: Path) -> None:
    header = [*HEADER, "Ngày kết thúc xử lý", "Ngày hẹn trả", "Số ngày bổ sung"]
    path = tmp_path / "durations.csv"
    path.write_text(
        _csv(
            [
                [*_row("N1", "10/03/2025 08:00", **{"Trạng thái": "Hoàn thành"}), "09/03/2025 08:00", "", ""],
                [*_row("N2"), "", "07/03/2025", ""],
                [*_row("N3"), "", "", "-2"],
                [
                    *_row("N4", **{"Trạng thái": "Hoàn thành"}),
                    "10/03/2025",
                    "20/03/2025",
                    "0",
                ],  # same day: fine
            ],
            header,
        ),
        encoding="utf-8",
    )
    result = load(db, path)
    assert [(r[0], r[1], r[3]) for r in rejects(db, result.run_id)] == [
        (2, "Ngày kết thúc xử lý", "finished before received"),
        (3, "Ngày hẹn trả", "due before received"),
        (4, "Số ngày bổ sung", "number below 0"),
    ]
    assert result.inserted == 1


# --- XLSX quirks --------------------------------------------------------------------------------------------


def _workbook(tmp_path: Path, name: str = "export.xlsx") -> tuple[Path, openpyxl.Workbook]:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Hồ sơ"
    ws["A1"] = "DANH SÁCH HỒ SƠ TIẾP NHẬN THÁNG 3/2025"
    ws.merge_cells("A1:F1")  # a merged title
    ws["A2"] = "Nhóm"
    ws.merge_cells("A2:B2")  # a merged group header above the real header
    ws["C2"] = "Nơi tiếp nhận"
    ws.merge_cells("C2:D2")
    ws.append(HEADER)  # row 3
    return tmp_path / name, wb


def _date_cell(ws, ref: str, value: object) -> None:
    ws[ref] = value
    ws[ref].number_format = "dd/mm/yyyy hh:mm"


def test_xlsx_merged_titles_blank_rows_and_excel_dates(db: Path, tmp_path: Path) -> None:
    path, wb = _workbook(tmp_path)
    ws = wb.active
    ws.append(_row("X1", None))  # row 4: a real Excel date cell (stored as serial 45726.333…)
    _date_cell(ws, "E4", dt.datetime(2025, 3, 10, 8, 0))
    ws.append([])  # row 5: empty
    ws.append([None] * 6)  # row 6: empty cells
    ws.append(_row("X2", 45727))  # row 7: a serial number in a cell NOT formatted as a date
    ws.append(_row("X3", "11/03/2025 14:00"))  # row 8: text
    ws.append(_row("X4", None))  # row 9: a date cell holding a serial with a time fraction
    _date_cell(ws, "E9", 45727.5)
    wb.save(path)
    result = load(db, path)
    assert result.source == "xlsx (sheet 'Hồ sơ')"
    assert (result.rows_read, result.blank_rows, result.inserted, result.rejected) == (4, 2, 3, 1)
    assert dossier(db, "X1")[0] == dt.datetime(2025, 3, 10, 8, 0)
    assert dossier(db, "X3")[0] == dt.datetime(2025, 3, 11, 14, 0)
    assert dossier(db, "X4")[0] == dt.datetime(2025, 3, 11, 12, 0)
    # a bare number is not guessed to be a date: Excel shows it as 45727 too; the officer formats the column
    (reject,) = rejects(db, result.run_id)
    assert reject[:3] == (7, "Ngày tiếp nhận", "45727")
    assert reject[3].startswith("unparseable date: expected dd/mm/yyyy")


def _with_cached_value(path: Path, cell: str, value: str) -> None:
    """Give a formula cell the cached result Excel stores next to it (openpyxl writes formulas without one)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                start = text.index(f'<c r="{cell}"')
                end = text.index("</c>", start)
                assert "<v />" in text[start:end]
                text = text[:start] + text[start:end].replace("<v />", f"<v>{value}</v>") + text[end:]
                data = text.encode("utf-8")
            dst.writestr(item, data)
    path.write_bytes(buffer.getvalue())


def test_formulas_load_their_cached_value_and_without_one_are_rejected(db: Path, tmp_path: Path) -> None:
    """Defined behaviour: a formula cell is read as the value Excel cached when it last saved the workbook.
    A formula without a cached value (written by a tool that does not calculate) is an empty cell, so a
    required column is quarantined as 'missing required value' at that row and column; nothing is evaluated."""
    path, wb = _workbook(tmp_path)
    ws = wb.active
    ws.append(_row("F1", None, **{"Mã TTHC": '="1.002175"'}))  # row 4
    _date_cell(ws, "E4", "=DATE(2025,3,10)+TIME(8,0,0)")
    ws.append(_row("F2", None))  # row 5: a formula without a cached value
    _date_cell(ws, "E5", "=E4+1")
    wb.save(path)
    _with_cached_value(path, "B4", "1.002175")
    _with_cached_value(path, "E4", "45726.333333333336")
    result = load(db, path)
    assert dossier(db, "F1")[0] == dt.datetime(2025, 3, 10, 8, 0)
    assert rejects(db, result.run_id) == [(5, "Ngày tiếp nhận", None, "missing required value")]
    assert dossier(db, "F2") is None


# --- columns ----------------------------------------------------------------------------------------------------


def test_extra_missing_and_renamed_columns(db: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra.csv"
    extra.write_text(_csv([[*_row("C1"), "x", "y"]], [*HEADER, "Ghi chú", "Người nhập"]), encoding="utf-8")
    result = load(db, extra)
    assert (result.inserted, result.ignored_columns) == (1, ("Ghi chú", "Người nhập"))
    missing = tmp_path / "missing.csv"
    missing.write_text(_csv([_row("C2")[:4] + _row("C2")[5:]], HEADER[:4] + HEADER[5:]), encoding="utf-8")
    message = fails(
        db, missing, "missing required column(s)", "received_at: expected a column headed 'Ngày tiếp nhận'"
    )
    assert "--mapping" in message
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(
        _csv([_row("C3")], [h.replace("Trạng thái", "Trang thai") for h in HEADER]), encoding="utf-8"
    )
    fails(db, renamed, "status: expected a column headed", "did you mean 'Trang thai' for 'Trạng thái'")


def test_the_same_id_in_two_files_the_later_file_updates(db: Path, tmp_path: Path) -> None:
    """Documented rule (docs/ingest.md): across files a key that exists is updated when it differs and left
    unchanged when identical; within one file the first row counts and later ones are quarantined."""
    first, second = tmp_path / "march.csv", tmp_path / "april.csv"
    first.write_text(_csv([_row("D1"), _row("D2")]), encoding="utf-8")
    second.write_text(
        _csv(
            [
                _row("D1", **{"Trạng thái": "Chờ bổ sung"}),
                _row("D2"),
                _row("D1", **{"Trạng thái": "Rút hồ sơ"}),
            ]
        ),
        encoding="utf-8",
    )
    load(db, first)
    result = load(db, second)
    assert (result.inserted, result.updated, result.unchanged, result.rejected) == (0, 1, 1, 1)
    assert dossier(db, "D1")[1] == "supplementing"
    assert rejects(db, result.run_id) == [(4, "Mã hồ sơ", "D1", "duplicate id: first on row 2")]


# --- broken files ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet", ".txt"])
def test_zero_byte_files(db: Path, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    fails(db, path, "is empty (0 bytes)", "export the file again")


def test_header_only_file_loads_nothing(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text(_csv([]), encoding="utf-8")
    result = load(db, path)
    assert (result.rows_read, result.inserted, result.rejected) == (0, 0, 0)


def test_csv_cut_mid_row(db: Path, tmp_path: Path) -> None:
    text = _csv([_row("T1"), _row("T2"), _row("T3")])
    plain = tmp_path / "cut.csv"
    plain.write_text(text[: text.index("T3") + 12], encoding="utf-8")  # "T3,1.002175,S"
    result = load(db, plain)
    assert (result.inserted, result.rejected) == (2, 1)
    found = rejects(db, result.run_id)
    assert {r[0] for r in found} == {4}
    assert (4, "Hình thức nộp", None, "missing required value") in found
    quoted = tmp_path / "cut_quoted.csv"
    quoted.write_text(text + 'T4,1.002175,"STP', encoding="utf-8")  # a quoted cell that never closes
    fails(db, quoted, "cannot parse as CSV", "cut short")


@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_binary_files(db: Path, tmp_path: Path, fmt: str, keep: float) -> None:
    source = SAMPLES / ("dossiers_one_stop.xlsx" if fmt == "xlsx" else "dossiers_canonical.parquet")
    data = source.read_bytes()
    path = tmp_path / f"truncated.{fmt}"
    path.write_bytes(data[: int(len(data) * keep)])
    mapping = "dossier_canonical" if fmt == "parquet" else None
    message = fails(db, path, mapping=mapping)
    assert (
        "cannot open the workbook" in message if fmt == "xlsx" else "not a readable Parquet file" in message
    )


_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
)
_PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"


@pytest.mark.parametrize(
    ("name", "content", "what"),
    [
        ("chart.csv", _PNG + bytes(range(256)), "a PNG image"),
        ("Hồ sơ tháng 3.csv", _PDF + bytes(range(256)), "a PDF document"),
        ("report.xlsx", _PDF, "a PDF document"),
        ("photo.csv", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200), "a JPEG image"),
        ("blob.csv", bytes(range(256)) * 4, "a binary file"),
    ],
)
def test_non_tabular_files(db: Path, tmp_path: Path, name: str, content: bytes, what: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    fails(db, path, f"is {what}, not a table")


# --- size ---------------------------------------------------------------------------------------------------

_BIG = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    from egov_metrics.ingest import ingest_file
    t0 = time.perf_counter()
    r = ingest_file(Path(sys.argv[1]), "dossier", Path(sys.argv[2]), progress=False)
    print(json.dumps({"seconds": time.perf_counter() - t0, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "read": r.rows_read, "inserted": r.inserted, "rejected": r.rejected}))
    """
)


def test_two_million_rows_load_in_sane_time_and_memory(db: Path, tmp_path: Path) -> None:
    n = 2_000_000
    path = tmp_path / "big.csv"
    with duckdb.connect() as con:
        con.execute(
            f"""COPY (SELECT 'BIG-' || i AS "Mã hồ sơ", '1.002175' AS "Mã TTHC", 'STP' AS "Đơn vị",
                        CASE WHEN i % 3 = 0 THEN 'Trực tiếp' ELSE 'Trực tuyến' END AS "Hình thức nộp",
                        strftime(TIMESTAMP '2024-01-01 07:30' + to_minutes(i % 600000), '%d/%m/%Y %H:%M')
                          AS "Ngày tiếp nhận",
                        CASE WHEN i = 1234567 THEN 'Fax' ELSE 'Đang xử lý' END AS "Trạng thái"
                      FROM range({n}) t(i)) TO '{path}' (HEADER, DELIMITER ',')"""
        )
    assert path.stat().st_size > 100_000_000
    done = subprocess.run(
        [sys.executable, "-c", _BIG, str(db), str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    assert (stats["read"], stats["inserted"], stats["rejected"]) == (n, n - 1, 1)
    assert stats["seconds"] < 50, stats
    assert stats["rss_mb"] < 6000, stats  # docs/ingest.md: about 4 GB for 2 million rows
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM dossier WHERE id LIKE 'BIG-%'").fetchall() == [(n - 1,)]
        ((value, reason),) = con.sql(
            "SELECT value, reason FROM quarantine WHERE row_number = 1234569"
        ).fetchall()
        assert value == "Fax" and reason.startswith("unparseable value: expected one of")


def test_the_checksum_sees_a_one_cell_change(db: Path) -> None:
    before = checksums(db)
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE dossier SET status = 'withdrawn' WHERE id = (SELECT min(id) FROM dossier)")
    after = checksums(db)
    assert after["dossier"][0] == before["dossier"][0] and after["dossier"][1] != before["dossier"][1]


# --- catalog and roadmap files: every problem with file and line, never a traceback ----------------------------

INDICATOR = (ROOT / "egov_metrics" / "catalog" / "indicators" / "online_share.yaml").read_text(
    encoding="utf-8"
)
ROADMAP = (ROOT / "egov_metrics" / "roadmap_data" / "default.yaml").read_text(encoding="utf-8")


def _line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line containing `needle`."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[nth - 1]


def _check_cli(*args: str) -> str:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "egov-metrics"), *args], capture_output=True, text=True, timeout=60
    )
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    return done.stderr


def _indicator(name: str, text: str) -> tuple[str, str]:
    return name, text.replace("id: online_share", f"id: {name}", 1)


def test_catalog_check_reports_every_broken_file_with_its_line(tmp_path: Path) -> None:
    files = dict(
        [
            _indicator("good_one", INDICATOR),
            _indicator("bad_yaml", INDICATOR.replace("direction: higher", "direction: [higher")),
            _indicator("unknown_key", INDICATOR + "colour: red\n"),
            _indicator("unknown_source", INDICATOR.replace("source: dossier", "source: dossierz")),
            _indicator(
                "dup_key", INDICATOR.replace("direction: higher", "direction: higher\ndirection: lower")
            ),
            _indicator(
                "bad_sql", INDICATOR.replace("numerator: channel = 'online'", "numerator: chanel = 'online'")
            ),
            ("wrong_name", INDICATOR),  # id online_share in wrong_name.yaml
        ]
    )
    for name, text in files.items():
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "latin1.yaml").write_bytes(cp1258(INDICATOR.replace("id: online_share", "id: latin1")))
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    (tmp_path / "a_list.yaml").write_text("- id: x\n", encoding="utf-8")
    err = _check_cli("catalog", "check", str(tmp_path))
    expected = {
        "bad_yaml": _line_of(files["bad_yaml"], "direction:") + 1,  # where the parser notices
        "unknown_key": _line_of(files["unknown_key"], "colour:"),
        "unknown_source": _line_of(files["unknown_source"], "source:"),
        "dup_key": _line_of(files["dup_key"], "direction:", 2),
        "bad_sql": _line_of(files["bad_sql"], "numerator:"),
        "wrong_name": 1,
        "latin1": _line_of(INDICATOR, "vi:"),  # the first accented letter
        "empty": 1,
        "a_list": 1,
    }
    for name, line in expected.items():
        assert f"{tmp_path / name}.yaml:{line}: " in err, f"{name}:{line} not in\n{err}"
    assert "unknown source 'dossierz'" in err and "unknown key" in err and "duplicate key 'direction'" in err
    assert f"{len(expected)} problem(s); 1 indicator(s) valid." in err


ROADMAP_CASES = {
    "cycle": (
        ROADMAP.replace("depends_on: [L7_PKI]", "depends_on: [L1_LEADER_DASH]").replace(
            "depends_on: [L5_IOC]", "depends_on: [L1_OFFICIAL_ACC]"
        ),
        "depends_on: [L1_OFFICIAL_ACC]",
        "circular dependency: L1_LEADER_DASH → L1_OFFICIAL_ACC → L1_LEADER_DASH",
    ),
    "unknown_dep": (ROADMAP.replace("depends_on: [L7_PKI]", "depends_on: [L7_PKX]"), "depends_on: [L7_PKX]",
                    "unknown component 'L7_PKX'; did you mean 'L7_PKI'?"),
    "bad_yaml": (ROADMAP.replace("    live: 2021-05-15\n", "    live: [2021-05-15\n", 1), "live: [2021-05-15",
                 "invalid YAML"),
    "unknown_key": (ROADMAP.replace("    live: 2021-05-15\n", "    live: 2021-05-15\n    colour: red\n", 1),
                    "colour: red", "unknown key"),
    "top_key": ("phasez: []\n" + ROADMAP, "phasez", "did you mean 'phases'?"),
    "dup_key": (ROADMAP.replace("    live: 2021-05-15\n", "    live: 2021-05-15\n    live: 2021-05-16\n", 1),
                "live: 2021-05-16", "duplicate key 'live'"),
    "not_a_mapping": ("- 1\n- 2\n", "- 1", "a roadmap file is a mapping"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(ROADMAP_CASES))
def test_roadmap_check_reports_file_and_line(tmp_path: Path, case: str) -> None:
    text, at, message = ROADMAP_CASES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text, encoding="utf-8")
    err = _check_cli("roadmap", "check", str(path))
    line = _line_of(text, at) + (1 if case == "bad_yaml" else 0)  # bad YAML: where the parser notices
    assert f"{path}:{line}: " in err and message in err, err
