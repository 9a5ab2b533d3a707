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
    units = tmp_path / "old_unit.csv"  # a unit that existed in 1990 (the sample units start in 2015)
    units.write_text(
        "id,code,name_vi,name_en,level,parent_id,valid_from,valid_to,successor_id\n"
        "OLD,OLD,Ban cũ,Old board,department,T58,1990-01-01,,\n",
        encoding="utf-8",
    )
    assert load(db, units, kind="unit").inserted == 1
    path = tmp_path / "years.csv"
    path.write_text(
        _csv([
            _row("Y1", "31/12/1999 23:59", **{"Đơn vị": "OLD"}),
            _row("Y2", "01/01/2000", **{"Đơn vị": "OLD"}),  # the first day accepted
            _row("Y3", f"{far:%d/%m/%Y} 08:00", **{"Đơn vị": "OLD"}),
            _row("Y4", f"{tomorrow_noon:%d/%m/%Y %H:%M}", **{"Đơn vị": "OLD"}),  # less than a day ahead
            _row("Y5", "10/03/2205", **{"Đơn vị": "OLD"}),
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
    assert found[1][3].startswith("received in the future (more than 1 day(s) after now)")
    assert found[2][2] == "10/03/2205"
    feedback = tmp_path / "feedback.csv"
    feedback.write_text(
        "Mã PAKN,Đơn vị,Ngày tiếp nhận\r\nP1,OLD,05/03/1995 09:15\r\nP2,STP,05/03/2025 09:15\r\n",
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


@pytest.mark.slow  # a two-million-row file
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
    # its speed is measured in bench/ (make bench), never asserted here: a busy machine is not a failure
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
    """`egov-metrics ARGS` run in this process (as the console script would): exit code 1, no traceback."""
    from typer.testing import CliRunner

    from egov_metrics.cli import app

    done = CliRunner().invoke(app, list(args))
    assert isinstance(done.exception, SystemExit), done.exc_info  # anything else would print a traceback
    assert done.exit_code == 1, (done.exit_code, done.stdout, done.stderr)
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


# --- issue 10: files the corpus did not hold (each ends loaded correctly, or refused/quarantined with the fix) ---

FULL = [*HEADER, "Ngày hẹn trả", "Ngày kết thúc xử lý", "Số ngày bổ sung"]


def _full(id_: str, received: str = "10/03/2025 08:00", **over: object) -> list[object]:
    values = dict(zip(HEADER, _row(id_, received), strict=True))
    values |= {"Ngày hẹn trả": "", "Ngày kết thúc xử lý": "", "Số ngày bổ sung": ""} | over
    return [values[h] for h in FULL]


def _count(db: Path, sql: str, params: list[object] | None = None) -> object:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql, params=params or []).fetchall()[0][0]


def test_units_that_are_each_others_parent_are_rejected_with_the_cycle_named(
    db: Path, tmp_path: Path
) -> None:
    units = tmp_path / "units.csv"
    units.write_text(
        "id,code,name_vi,name_en,level,parent_id,valid_from,valid_to,successor_id\n"
        "CYC-A,CYCA,Ban A,Board A,department,CYC-B,2020-01-01,,\n"  # row 2
        "CYC-B,CYCB,Ban B,Board B,department,CYC-A,2020-01-01,,\n"  # row 3
        "OK-1,OK1,Ban C,Board C,department,T58,2020-01-01,,\n"  # row 4: fine
        "SELF,SELF,Ban D,Board D,department,SELF,2020-01-01,,\n"  # row 5: its own parent
        "STP-UP,STPUP,Ban E,Board E,department,STP,2020-01-01,,\n"  # row 6: below STP …
        "STP,STP,Sở Tư pháp,Department of Justice,department,STP-UP,2015-01-01,,\n",  # row 7: … and STP below it
        encoding="utf-8",
    )
    before = _count(db, "SELECT count(*) FROM org_unit")
    result = load(db, units, kind="unit")
    found = rejects(db, result.run_id)
    assert {(r[0], r[1]) for r in found} == {(2, "parent_id"), (3, "parent_id"), (5, "parent_id"),
                                             (6, "parent_id"), (7, "parent_id")}  # fmt: skip
    reasons = {r[0]: r[3] for r in found}
    assert "parent cycle CYC-A → CYC-B → CYC-A" in reasons[2] and "(rows 2, 3)" in reasons[2]
    assert reasons[5] == "unit is its own parent"
    assert "parent cycle" in reasons[6] and "STP" in reasons[6] and "STP-UP" in reasons[6]
    assert (result.inserted, result.rejected) == (1, 5)
    assert _count(db, "SELECT count(*) FROM org_unit") == before + 1
    assert _count(db, "SELECT parent_id FROM org_unit WHERE id = 'STP'") == "T58"  # unchanged


def test_implausible_dates_are_quarantined_and_scoring_still_works(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "dates.csv"
    path.write_text(
        _csv(
            [
                _full("D-2052", **{"Ngày kết thúc xử lý": "20/03/2052", "Trạng thái": "Đã trả kết quả"}),
                _full("D-2205", **{"Ngày hẹn trả": "20/03/2205"}),
                _full("D-1999", **{"Ngày kết thúc xử lý": "20/03/1999", "Trạng thái": "Hoàn thành"}),
                _full("D-OK", **{"Ngày hẹn trả": "20/03/2025"}),
            ],
            FULL,
        ),
        encoding="utf-8",
    )
    result = load(db, path)
    found = {(r[0], r[1]): r[3] for r in rejects(db, result.run_id)}
    assert found[2, "Ngày kết thúc xử lý"].startswith("finished in the future (more than 1 day(s) after now)")
    assert found[3, "Ngày hẹn trả"] == "due more than 3 years after received: check the year"
    assert any(k[0] == 4 for k in found)  # 1999 is before the receipt (and before 2000)
    assert (result.inserted, result.rejected) == (1, 3)
    assert (
        _count(
            db, "SELECT count(*) FROM dossier WHERE finished_at > now() OR due_at > TIMESTAMP '2100-01-01'"
        )
        == 0
    )
    from egov_metrics.scoring import score_units

    assert score_units(db).totals.height > 0  # one typed year cannot break scoring for everyone


def test_a_margin_in_the_mapping_allows_dates_a_little_ahead(db: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    base = (ROOT / "egov_metrics" / "mappings" / "one_stop_vi.yaml").read_text(encoding="utf-8")
    mapping.write_text(
        base.replace("name: one_stop_vi", "name: ahead") + "\nfuture_margin_days: '30'\n", "utf-8"
    )
    soon = (dt.date.today() + dt.timedelta(days=10)).strftime("%d/%m/%Y 08:00")
    path = tmp_path / "soon.csv"
    path.write_text(_csv([_row("SOON", soon)]), encoding="utf-8")
    assert load(db, path).rejected == 1  # default margin: 1 day
    assert load(db, path, mapping=str(mapping)).inserted == 1


def test_csv_with_cr_only_line_ends_loads_every_row(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes(
        _csv([_row("CR-1"), _row("CR-2"), _row("CR-3")]).replace("\r\n", "\r").encode("utf-8-sig")
    )
    result = load(db, path)
    assert (result.rows_read, result.inserted, result.rejected) == (3, 3, 0)
    assert dossier(db, "CR-3") == (dt.datetime(2025, 3, 10, 8, 0), "processing", "online")


def test_counts_with_the_vietnamese_thousands_separator(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "counts.csv"
    cells = ["12.000", "7", "1.234.567", "12,5", "2.5", "1,000", "3.0"]
    path.write_text(
        _csv([_full(f"N-{i}", **{"Số ngày bổ sung": c}) for i, c in enumerate(cells)], FULL)
        .replace("12,5", '"12,5"')
        .replace("1,000", '"1,000"'),
        encoding="utf-8",
    )
    result = load(db, path)
    stored = dict(
        duckdb.connect(str(db), read_only=True)
        .sql("SELECT id, supplement_days FROM dossier WHERE id LIKE 'N-%'")
        .fetchall()
    )
    assert stored == {"N-0": 12000, "N-1": 7, "N-2": 1234567, "N-6": 3}
    found = rejects(db, result.run_id)
    assert [(r[0], r[2]) for r in found] == [(5, "12,5"), (6, "2.5"), (7, "1,000")]
    assert all("ambiguous" in r[3] for r in found)


def test_invisible_characters_never_make_a_second_dossier(db: Path, tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    first.write_text(_csv([_row("INV-1"), _row("INV-2")]), encoding="utf-8")
    assert load(db, first).inserted == 2
    again = tmp_path / "b.csv"
    header = ["Mã hồ sơ\u200b", *HEADER[1:]]  # a zero-width space in a header too
    again.write_text(
        _csv([
            _row("\u200bINV-1", **{"Đơn vị": "STP\u00a0"}),  # zero-width space before, NBSP after the unit
            _row("INV-2\u00a0", **{"Hình thức nộp": "Trực\u00a0tuyến"}),  # NBSP after the id and inside a value
            _row("INV-3\u2060", **{"Trạng thái": unicodedata.normalize("NFD", "Đang xử lý")}),
        ], header),
        encoding="utf-8",
    )  # fmt: skip
    result = load(db, again)
    assert (result.inserted, result.updated, result.unchanged, result.rejected) == (1, 0, 2, 0)
    assert _count(db, "SELECT count(*) FROM dossier WHERE id LIKE '%INV-%'") == 3
    assert _count(db, "SELECT count(*) FROM dossier WHERE id IN ('INV-1', 'INV-2', 'INV-3')") == 3


def test_iso_times_with_an_offset_are_converted_to_vietnam_time(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "iso.csv"
    path.write_text(
        _csv([_row("TZ-1", "2025-03-10T23:30:00+00:00"), _row("TZ-2", "2025-03-10T08:00:00Z"),
              _row("TZ-3", "2025-03-10T08:00:00+07:00"), _row("TZ-4", "2025-03-10 08:00:00")]),
        encoding="utf-8",
    )  # fmt: skip
    assert load(db, path).inserted == 4
    assert dossier(db, "TZ-1")[0] == dt.datetime(2025, 3, 11, 6, 30)
    assert dossier(db, "TZ-2")[0] == dt.datetime(2025, 3, 10, 15, 0)
    assert dossier(db, "TZ-3")[0] == dossier(db, "TZ-4")[0] == dt.datetime(2025, 3, 10, 8, 0)


def test_a_unit_used_before_it_existed_goes_through_the_crosswalk_or_to_quarantine(
    db: Path, tmp_path: Path
) -> None:
    path = tmp_path / "early.csv"
    path.write_text(
        _csv([
            _row("EARLY-1", "15/05/2024 08:00", **{"Đơn vị": "SNNMT"}),  # SNNMT-2025 replaced STNMT on 1/3/2025
            _row("EARLY-2", "15/05/2024 08:00", **{"Đơn vị": "SNNMT-2025"}),
            _row("EARLY-3", "15/05/2024 08:00", **{"Đơn vị": "STC-2025"}),  # replaced SKHDT and STC: which one?
            _row("LATE-1", "15/05/2025 08:00", **{"Đơn vị": "SNNMT"}),
        ]),
        encoding="utf-8",
    )  # fmt: skip
    result = load(db, path)
    with duckdb.connect(str(db), read_only=True) as con:
        units = dict(
            con.sql("SELECT id, unit_id FROM dossier WHERE id LIKE 'EARLY-%' OR id LIKE 'LATE-%'").fetchall()
        )
    assert units == {"EARLY-1": "STNMT", "EARLY-2": "STNMT", "LATE-1": "SNNMT-2025"}
    ((row, column, value, reason),) = rejects(db, result.run_id)
    assert (row, column, value) == (4, "Đơn vị", "STC-2025")
    assert "did not exist yet" in reason and "SKHDT, STC" in reason and "give the code" in reason
    text = result.summary(markup=False)
    assert "with unit 'SNNMT' received before that unit existed were attached to 'STNMT'" in text
    assert "with unit 'SNNMT-2025' received before that unit existed were attached to 'STNMT'" in text


def test_duplicate_headers_are_refused(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    header = [*HEADER, "Trạng thái"]
    path.write_text(_csv([[*_row("DUP-1"), "Hoàn thành"]], header), encoding="utf-8")
    message = fails(db, path, "'Trạng thái' in columns F (6), G (7)", "every header is unique")
    assert "same header" in message


def _xlsx_with_far_cell(path: Path, ref: str) -> None:
    """A tiny workbook: the data, and one cell far away (declared in <dimension> and written in the sheet)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(_row("FAR-1"))
    ws[ref] = "x"
    wb.save(path)


@pytest.mark.parametrize("ref", ["XFD1048576", "ZZ300000"])
def test_xlsx_reaching_far_is_refused_before_it_is_read(db: Path, tmp_path: Path, ref: str) -> None:
    path = tmp_path / "far.xlsx"
    _xlsx_with_far_cell(path, ref)
    assert path.stat().st_size < 10_000
    fails(db, path, f"reaches cell {ref}", "Ctrl+End")


def test_xlsx_declaring_a_huge_range_without_cells_is_refused(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "declared.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    wb.save(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:F1"', b'<dimension ref="A1:XFD1048576"')
            dst.writestr(item, data)
    path.write_bytes(buffer.getvalue())
    fails(db, path, "reaches cell XFD1048576")


@pytest.mark.slow  # a one-megabyte cell through the CLI
def test_a_one_megabyte_cell_is_quarantined_and_the_exit_code_is_documented(db: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from egov_metrics.cli import app

    path = tmp_path / "big_cell.csv"
    path.write_text(_csv([_row("BIGCELL-1", **{"Trạng thái": "x" * 1_000_000}), _row("BIGCELL-2")]), "utf-8")
    outcome = CliRunner().invoke(app, ["ingest", "dossier", str(path), "--db", str(db)])
    assert outcome.exit_code == 1, outcome.output  # loaded, one row rejected (docs/ingest.md)
    assert "Traceback" not in outcome.output
    with duckdb.connect(str(db), read_only=True) as con:
        ((row, column, reason),) = con.sql(
            "SELECT row_number, \"column\", reason FROM quarantine WHERE file LIKE '%big_cell.csv'"
        ).fetchall()
    assert (row, column) == (2, "Trạng thái") and reason.startswith("value longer than 32,767 characters")
    assert dossier(db, "BIGCELL-2") is not None


def test_a_nul_byte_deep_in_a_csv_is_not_stored(db: Path, tmp_path: Path) -> None:
    rows = [_row(f"NUL-{i}") for i in range(6000)]  # ~400 KB: beyond the sample the format sniffer reads
    rows[5000][0] = "NUL-5000\x00X"
    path = tmp_path / "nul.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    assert path.stat().st_size > 300_000
    result = load(db, path)
    assert (result.inserted, result.rejected) == (5999, 1)
    ((row, column, _value, reason),) = rejects(db, result.run_id)
    assert (row, column) == (5002, "Mã hồ sơ") and reason.startswith("control character")
    assert _count(db, "SELECT count(*) FROM dossier WHERE contains(id, chr(0))") == 0


def test_data_on_another_sheet_names_the_sheet_and_the_option(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "two_sheets.xlsx"
    wb = openpyxl.Workbook()
    guide = wb.active
    guide.title = "Hướng dẫn"
    guide.append(["Danh sách hồ sơ tháng 3/2025, xem trang sau"])
    data = wb.create_sheet("Dữ liệu")
    data.append(HEADER)
    data.append(_row("SHEET-1"))
    wb.save(path)
    message = fails(db, path, "sheet 'Dữ liệu' holds the headers", "--sheet 'Dữ liệu'")
    assert "this was sheet 'Hướng dẫn'" in message
    result = ingest_file(db, "dossier", path, progress=False, sheet="Dữ liệu")
    assert result.inserted == 1 and dossier(db, "SHEET-1") is not None


def test_a_total_row_is_recognised_and_reported(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "total.csv"
    header = ["STT", *HEADER]
    rows = [[1, *_row("TOT-1")], [2, *_row("TOT-2")], ["Tổng cộng", "", "", "", "", "", ""]]
    path.write_text(_csv(rows, header), encoding="utf-8")
    result = load(db, path)
    assert (result.rows_read, result.inserted, result.rejected) == (2, 2, 0)
    assert result.total_rows == ((4, "Tổng cộng"),)
    assert "skipped 1 total row(s), not dossiers: row 4 ('Tổng cộng')" in result.summary(markup=False)


def test_a_formula_in_a_unit_name_is_never_exported_as_a_formula(db: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from egov_metrics.cli import app
    from egov_metrics.ingest import export_rejects

    formula = '=HYPERLINK("http://example.invalid","Bấm vào đây")'
    units = tmp_path / "units.csv"
    units.write_text(
        "id,code,name_vi,name_en,level,parent_id,valid_from,valid_to,successor_id\n"
        f'STP,STP,"{formula.replace(chr(34), chr(34) * 2)}",Department of Justice,department,T58,2015-01-01,,\n',
        encoding="utf-8",
    )
    assert load(db, units, kind="unit").updated == 1
    runner = CliRunner()
    for out in (tmp_path / "x.xlsx", tmp_path / "x.csv"):
        done = runner.invoke(app, ["compute", "dossiers_received", "--by", "unit", "--level", "department",
                                   "--grain", "year", "--db", str(db), "--out", str(out)])  # fmt: skip
        assert done.exit_code == 0, done.output
    with zipfile.ZipFile(tmp_path / "x.xlsx") as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet and "HYPERLINK" in sheet  # the text is there, never as a formula
    ws = openpyxl.load_workbook(tmp_path / "x.xlsx").active
    texts = [
        c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value
    ]
    assert texts and all(t.startswith("'=") for t in texts)
    numbers = [c.value for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, int | float)]
    assert numbers, "counts stay numbers"
    csv_text = (tmp_path / "x.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in csv_text and ",=HYPERLINK" not in csv_text and '"=HYPERLINK' not in csv_text
    # quarantine exports too
    bad = tmp_path / "bad.csv"
    bad.write_text(_csv([_row("Q-1", **{"Hình thức nộp": "=1+2"})]), encoding="utf-8")
    result = load(db, bad)
    with duckdb.connect(str(db), read_only=True) as con:
        export_rejects(con, result.run_id, tmp_path / "rejects.csv")
    assert "'=1+2" in (tmp_path / "rejects.csv").read_text(encoding="utf-8-sig")


def test_exit_codes_are_the_documented_ones(db: Path, tmp_path: Path) -> None:
    """docs/ingest.md: 0 every row loaded, 1 some rows rejected, 2 nothing loaded (with the file and the fix)."""
    from typer.testing import CliRunner

    from egov_metrics.cli import app

    good = tmp_path / "good.csv"
    good.write_text(_csv([_row("EXIT-1")]), encoding="utf-8")
    some = tmp_path / "some.csv"
    some.write_text(_csv([_row("EXIT-2"), _row("EXIT-3", "10/03/2205")]), encoding="utf-8")
    dup = tmp_path / "dup.csv"
    dup.write_text(_csv([[*_row("EXIT-4"), "x"]], [*HEADER, "Mã hồ sơ"]), encoding="utf-8")
    far = tmp_path / "far.xlsx"
    _xlsx_with_far_cell(far, "XFD1048576")
    runner = CliRunner()
    for path, code in ((good, 0), (some, 1), (dup, 2), (far, 2)):
        outcome = runner.invoke(app, ["ingest", "dossier", str(path), "--db", str(db)])
        assert outcome.exit_code == code, (path.name, outcome.output)
        assert "Traceback" not in outcome.output
        if code == 2:
            assert str(path) in outcome.output.replace("\n", "") and "Gợi ý:" in outcome.output
