"""More of the bad-input corpus: variations a held-out data officer produced (QA of issue 10) that the first
corpus did not hold and that were silently misread. Each file is generated here; the expected values are
written by hand from the file's text, not taken from the loader.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest
from fixtures.samples import load_samples

from egov_metrics.errors import IngestError
from egov_metrics.ingest import IngestResult, ingest_file

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["Mã hồ sơ", "Mã TTHC", "Đơn vị", "Hình thức nộp", "Ngày tiếp nhận", "Trạng thái"]


def _line(id_: str, received: str, status: str = "Đang xử lý") -> str:
    return f"{id_},1.002175,STP,Trực tuyến,{received},{status}"


def _write(path: Path, lines: list[str], header: list[str] = HEADER) -> Path:
    path.write_text("\r\n".join([",".join(header), *lines]) + "\r\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return load_samples(tmp_path_factory.mktemp("more") / "ref.duckdb")


@pytest.fixture
def db(reference_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "egov.duckdb"
    shutil.copy(reference_db, path)
    return path


def _load(db: Path, path: Path) -> IngestResult:
    return ingest_file(db, "dossier", path, progress=False)


def _rejects(db: Path, run_id: int) -> dict[int, list[tuple[str, str, str]]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.sql(
            'SELECT row_number, "column", value, reason FROM quarantine WHERE run_id = ? ORDER BY 1, 2',
            params=[run_id],
        ).fetchall()
    out: dict[int, list[tuple[str, str, str]]] = {}
    for row, column, value, reason in rows:
        out.setdefault(row, []).append((column, value, reason))
    return out


def _received(db: Path, prefix: str) -> dict[str, dt.datetime]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.sql(
            "SELECT id, received_at FROM dossier WHERE id LIKE ? || '%'", params=[prefix]
        ).fetchall()
    return dict(rows)


# --- dd/mm or mm/dd ---------------------------------------------------------------------------------------


def test_a_month_first_export_is_not_read_day_first_without_a_word(db: Path, tmp_path: Path) -> None:
    """An export written mm/dd/yyyy: 12/25/2025 cannot be day-first, so 03/10/2025 is most likely 10 March,
    not 3 October. Rows whose day and month could be swapped are quarantined with the evidence named;
    05/05/2025 reads the same both ways and loads."""
    path = _write(
        tmp_path / "month_first.csv",
        [
            _line("MF-1", "03/10/2025 08:00"),  # row 2: ambiguous
            _line("MF-2", "12/25/2025 08:00"),  # row 3: only month-first
            _line("MF-3", "04/05/2025 09:00"),  # row 4: ambiguous
            _line("MF-4", "06/13/2025 10:00"),  # row 5: only month-first
            _line("MF-5", "05/05/2025 11:00"),  # row 6: the same either way
        ],
    )
    result = _load(db, path)
    assert (result.rows_read, result.inserted, result.rejected) == (5, 1, 4)
    assert _received(db, "MF-") == {"MF-5": dt.datetime(2025, 5, 5, 11, 0)}
    found = _rejects(db, result.run_id)
    assert sorted(found) == [2, 3, 4, 5]
    for row in (2, 4):
        ((column, value, reason),) = found[row]
        assert column == "Ngày tiếp nhận"
        assert value == {2: "03/10/2025 08:00", 4: "04/05/2025 09:00"}[row]
        assert reason.startswith("ambiguous date: day and month could be swapped")
        assert "row 3: 12/25/2025 08:00" in reason  # the evidence
        assert "%m/%d/%Y" in reason  # the fix
    assert all(r[2].startswith("unparseable date") for row in (3, 5) for r in found[row])


def test_a_day_first_export_with_one_typo_keeps_its_ambiguous_dates(db: Path, tmp_path: Path) -> None:
    """A day-first export with many days after the 12th and one impossible date (a typo): the typo is
    quarantined, the other dates are read day-first (03/10/2025 = 3 October)."""
    path = _write(
        tmp_path / "day_first.csv",
        [
            _line("DF-1", "03/10/2025 08:00"),
            _line("DF-2", "25/10/2025 08:00"),
            _line("DF-3", "13/11/2025 08:00"),
            _line("DF-4", "12/25/2025 08:00"),  # row 5: the typo
        ],
    )
    result = _load(db, path)
    assert (result.inserted, result.rejected) == (3, 1)
    assert _received(db, "DF-") == {
        "DF-1": dt.datetime(2025, 10, 3, 8, 0),
        "DF-2": dt.datetime(2025, 10, 25, 8, 0),
        "DF-3": dt.datetime(2025, 11, 13, 8, 0),
    }
    assert list(_rejects(db, result.run_id)) == [5]


def _mapping_with_dates(tmp_path: Path, formats: str) -> str:
    """The built-in dossier mapping with other `date_formats` (a YAML list), as a data officer would copy it."""
    base = (ROOT / "egov_metrics" / "mappings" / "one_stop_vi.yaml").read_text(encoding="utf-8")
    old = 'date_formats: ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"]'
    assert old in base
    path = tmp_path / "dates.yaml"
    path.write_text(base.replace("name: one_stop_vi", "name: dates").replace(old, f"date_formats: {formats}"))
    return str(path)


@pytest.mark.parametrize(
    ("formats", "values", "fix"),
    [
        # a system that writes the time before the date ("08:20 03/10/2025")
        (
            '["%H:%M %d/%m/%Y", "%d/%m/%Y"]',
            [
                "08:00 03/10/2025",
                "08:00 12/25/2025",
                "09:00 04/05/2025",
                "10:00 06/13/2025",
                "11:00 05/05/2025",
            ],
            '"%H:%M %m/%d/%Y"',
        ),
        # two-digit years
        (
            '["%d/%m/%y %H:%M", "%d/%m/%y"]',
            ["03/10/25 08:00", "12/25/25 08:00", "04/05/25 09:00", "06/13/25 10:00", "05/05/25 11:00"],
            '"%m/%d/%y %H:%M"',
        ),
    ],
)
def test_a_month_first_export_is_caught_whatever_the_mappings_date_format(
    db: Path, tmp_path: Path, formats: str, values: list[str], fix: str
) -> None:
    """The swapped-order check read only values that start with dd/mm/yyyy: with a mapping whose dates
    carry the time first, or a two-digit year, 03/10 of a month-first export was stored as 3 October.
    Rows 2 and 4 could be read either way; rows 3 and 5 only month-first (the evidence); row 6 reads the
    same both ways and loads (5 May)."""
    path = _write(tmp_path / "month_first.csv", [_line(f"TF-{n}", v) for n, v in enumerate(values, 1)])
    result = ingest_file(db, "dossier", path, mapping=_mapping_with_dates(tmp_path, formats), progress=False)
    assert (result.rows_read, result.inserted, result.rejected) == (5, 1, 4)
    assert _received(db, "TF-") == {"TF-5": dt.datetime(2025, 5, 5, 11, 0)}
    found = _rejects(db, result.run_id)
    for row in (2, 4):
        ((column, value, reason),) = found[row]
        assert (column, value) == ("Ngày tiếp nhận", values[row - 2])
        assert reason.startswith("ambiguous date: day and month could be swapped")
        assert f"row 3: {values[1]}" in reason  # the evidence
        assert fix in reason  # the mapping's own format, day and month swapped
    assert all(r[2].startswith("unparseable date") for row in (3, 5) for r in found[row])


def test_iso_dates_are_not_taken_for_day_month_pairs(db: Path, tmp_path: Path) -> None:
    """2025-12-10 holds '25-12-10' if read carelessly; ISO dates beside a dd/mm export are no evidence of
    a month-first file: 03/10/2025 stays 3 October."""
    path = _write(
        tmp_path / "iso_beside.csv",
        [_line("IS-1", "03/10/2025 08:00"), _line("IS-2", "2025-12-10"), _line("IS-3", "2025-01-13")],
    )
    result = _load(db, path)
    assert (result.inserted, result.rejected) == (3, 0)
    assert _received(db, "IS-1") == {"IS-1": dt.datetime(2025, 10, 3, 8, 0)}


# --- times with a zone ------------------------------------------------------------------------------------


def test_offsets_after_a_space_and_utc_names_are_converted_or_quarantined(db: Path, tmp_path: Path) -> None:
    """`… -05:00` after a space, `… UTC` and `… Z` were stored as written (the zone dropped by a cast); a
    zone the loader does not know (`GMT+7`) must not be dropped either: quarantined."""
    path = _write(
        tmp_path / "zones.csv",
        [
            _line("TZ-1", "2025-03-10T17:00:00 -05:00"),  # 22:00 UTC → 05:00 on the 11th in Vietnam
            _line("TZ-2", "2025-03-10 17:00:00 UTC"),  # → 00:00 on the 11th
            _line("TZ-3", "2025-03-10 17:00:00 Z"),  # → 00:00 on the 11th
            _line("TZ-4", "2025-03-10T17:00:00 +07:00"),  # Vietnam time already
            _line("TZ-5", "2025-03-10T17:00:00 GMT+7"),  # row 6: unknown notation
            _line("TZ-6", "2025-03-10 17:00 EST"),  # row 7: unknown notation
            _line("TZ-7", "2025-03-10 17:00"),  # no zone: Vietnam time
        ],
    )
    result = _load(db, path)
    assert _received(db, "TZ-") == {
        "TZ-1": dt.datetime(2025, 3, 11, 5, 0),
        "TZ-2": dt.datetime(2025, 3, 11, 0, 0),
        "TZ-3": dt.datetime(2025, 3, 11, 0, 0),
        "TZ-4": dt.datetime(2025, 3, 10, 17, 0),
        "TZ-7": dt.datetime(2025, 3, 10, 17, 0),
    }
    found = _rejects(db, result.run_id)
    assert sorted(found) == [6, 7]
    assert all(
        r[0] == "Ngày tiếp nhận" and r[2].startswith("unparseable date") for v in found.values() for r in v
    )


# --- total rows -------------------------------------------------------------------------------------------


def test_total_rows_with_a_count_in_their_label_are_skipped(db: Path, tmp_path: Path) -> None:
    """'Tổng cộng (2 hồ sơ)', 'TỔNG SỐ HỒ SƠ: 2' and 'Cộng 2' are total rows; a unit called 'Tổng đài …' in
    the first cells of a real row is not a label."""
    path = _write(
        tmp_path / "totals.csv",
        [
            _line("TR-1", "10/03/2025 08:00"),
            _line("TR-2", "10/03/2025 09:00"),
            "Tổng cộng (2 hồ sơ),,,,,",  # row 4
            ",TỔNG SỐ HỒ SƠ: 2,,,,",  # row 5
            "Cộng 2,,,,,",  # row 6
            "Tổng đài,,,,,",  # row 7: not a total label: a row with missing values
        ],
    )
    result = _load(db, path)
    assert [r for r, _ in result.total_rows] == [4, 5, 6]
    assert (result.rows_read, result.inserted, result.rejected) == (3, 2, 1)
    assert list(_rejects(db, result.run_id)) == [7]


# --- units that had ended ---------------------------------------------------------------------------------


def _units(db: Path, prefix: str) -> dict[str, str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.sql("SELECT id, unit_id FROM dossier WHERE id LIKE ? || '%'", params=[prefix]).fetchall()
    return dict(rows)


def test_a_unit_used_after_it_ended_goes_to_its_successor_or_to_quarantine(db: Path, tmp_path: Path) -> None:
    """STNMT ended on 1/3/2025 (merged into SNNMT-2025): a dossier of 2026 under STNMT was attached to the
    dissolved unit without a word. The sample units: STNMT → SNNMT-2025 from 2025-03-01; the commune
    X22822 → X2509 from 2025-07-01; the district H585 ended on 2025-07-01 without a successor."""
    lines = [
        "EN-1,1.002175,STNMT,Trực tuyến,10/03/2026 08:00,Đang xử lý",  # → SNNMT-2025
        "EN-2,1.002175,H585,Trực tuyến,10/08/2025 08:00,Đang xử lý",  # row 3: no successor
        "EN-3,1.002175,X22822,Trực tuyến,10/08/2025 08:00,Đang xử lý",  # → X2509
        "EN-4,1.002175,STNMT,Trực tuyến,28/02/2025 08:00,Đang xử lý",  # its last day: STNMT
        "EN-5,1.002175,STNMT,Trực tuyến,01/03/2025 00:00,Đang xử lý",  # validity is half-open: SNNMT-2025
        "EN-6,1.002175,H585,Trực tuyến,30/06/2025 16:00,Đang xử lý",  # still valid: H585
    ]
    result = _load(db, _write(tmp_path / "ended.csv", lines))
    assert _units(db, "EN-") == {
        "EN-1": "SNNMT-2025",
        "EN-3": "X2509",
        "EN-4": "STNMT",
        "EN-5": "SNNMT-2025",
        "EN-6": "H585",
    }
    ((column, value, reason),) = _rejects(db, result.run_id)[3]
    assert (column, value) == ("Đơn vị", "H585")
    assert "no longer existed on the received day (it existed until 2025-07-01)" in reason
    assert sorted(result.crosswalked) == [
        ("STNMT", "SNNMT-2025", 2, "successor"),
        ("X22822", "X2509", 1, "successor"),
    ]
    assert "received after that unit had ended were attached to 'SNNMT-2025'" in str(result)


def test_an_implausible_date_is_the_only_reason_given(db: Path, tmp_path: Path) -> None:
    """A received date of 1999 (STP exists from 2015) was quarantined twice: for the year, and with 'unit STP
    did not exist yet on the received day', which sends the data officer after the wrong cell."""
    lines = [
        _line("YR-1", "15/06/1999 08:00"),
        _line("YR-2", "10/03/2099 08:00"),
        _line("YR-3", "01/01/2000 08:00"),
    ]
    result = _load(db, _write(tmp_path / "years.csv", lines))
    found = _rejects(db, result.run_id)
    assert [(c, r.split(":")[0]) for c, _, r in found[2]] == [
        ("Ngày tiếp nhận", "received before 2000-01-01")
    ]
    assert [c for c, _, _ in found[3]] == ["Ngày tiếp nhận"]
    # a plausible date before the unit existed still names the unit
    assert [(c, r.split(" (")[0]) for c, _, r in found[4]] == [
        ("Đơn vị", "unit STP did not exist yet on the received day")
    ]


def test_a_unit_code_in_another_case_or_by_its_name_is_quarantined_with_the_code_it_means(
    db: Path, tmp_path: Path
) -> None:
    """'stp', 'Stp' and the name 'SỞ TƯ PHÁP' said only 'unknown unit code', with no fix."""
    lines = [
        "UC-1,1.002175,stp,Trực tuyến,10/03/2025 08:00,Đang xử lý",
        "UC-2,1.002175,SỞ TƯ PHÁP,Trực tuyến,10/03/2025 08:00,Đang xử lý",
        "UC-3,1.002175,XYZ,Trực tuyến,10/03/2025 08:00,Đang xử lý",
    ]
    result = _load(db, _write(tmp_path / "unit_case.csv", lines))
    assert result.inserted == 0
    found = _rejects(db, result.run_id)
    for row in (2, 3):
        ((column, _, reason),) = found[row]
        assert column == "Đơn vị"
        assert reason.startswith("unknown unit code: did you mean STP (Sở Tư pháp)?"), reason
    ((_, _, reason),) = found[4]
    assert reason.startswith(
        "unknown unit code: correct the code in the file, or load the unit list first"
    ), reason


# --- formulas without a saved value -----------------------------------------------------------------------


def test_a_formula_without_a_saved_value_in_an_optional_column_is_not_a_silent_default(
    db: Path, tmp_path: Path
) -> None:
    """openpyxl (and other tools that do not calculate) write formulas without the value Excel saves with
    them; such a cell reads as empty, so '=1+1' in Số lần bổ sung was stored as 0 without a word. A cell
    whose formula has a saved value loads that value; a row with a plain number is untouched."""
    path = tmp_path / "formulas.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([*HEADER, "Số lần bổ sung", "Kết quả điện tử"])
    base = ["1.002175", "STP", "Trực tuyến", "10/03/2025 08:00", "Đang xử lý"]
    ws.append(["FX-1", *base, "=1+1", "Có"])  # row 2: count is a formula without a value
    ws.append(["FX-2", *base, 2, '=IF(TRUE,"Có","Không")'])  # row 3: yes/no is such a formula
    ws.append(["FX-3", *base, 2, "Có"])  # row 4: plain values
    wb.save(path)
    result = _load(db, path)
    assert (result.inserted, result.rejected) == (1, 2)
    found = _rejects(db, result.run_id)
    assert {row: [c for c, _, _ in v] for row, v in found.items()} == {
        2: ["Số lần bổ sung"],
        3: ["Kết quả điện tử"],
    }
    assert all(r.startswith("formula without a saved value") for v in found.values() for _, _, r in v)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("SELECT supplement_count, e_result FROM dossier WHERE id = 'FX-3'").fetchall() == [
            (2, True)
        ]


# --- the statutory time of a procedure ----------------------------------------------------------------------


def test_statutory_times_are_read_as_working_days_or_quarantined(db: Path, tmp_path: Path) -> None:
    """The built-in mapping took the first digits of "Thời hạn giải quyết": 0,5 ngày làm việc became 0,
    04 giờ làm việc 4 days, 12 tháng 12 days and 30 ngày (calendar days) 30 working days. Only whole working
    days are read (with the usual openings "Không quá", "Trong"), a bare number as working days, "Trong
    ngày" as 0; anything else is quarantined with what to write instead."""
    header = "Mã TTHC,Tên thủ tục,Lĩnh vực,Cấp thực hiện,Mức độ DVCTT,Thời hạn giải quyết"
    times = {
        "9.000001": ("15 ngày làm việc", 15),
        "9.000002": ("05 Ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ", 5),
        "9.000003": ("Không quá 10 ngày làm việc", 10),
        "9.000004": ("Trong 02 ngày làm việc", 2),
        "9.000005": ("Trong ngày", 0),
        "9.000006": ("20", 20),
        "9.000007": ("0,5 ngày làm việc", None),
        "9.000008": ("1.5 ngày làm việc", None),
        "9.000009": ("04 giờ làm việc", None),
        "9.000010": ("12 tháng", None),
        "9.000011": ("30 ngày", None),
        "9.000012": ("3 - 5 ngày làm việc", None),
    }
    lines = [f'{code},Thủ tục {code},Hộ tịch,Cấp xã,Một phần,"{text}"' for code, (text, _) in times.items()]
    path = _write(tmp_path / "procedures.csv", lines, header=header.split(","))
    result = ingest_file(db, "procedure", path, progress=False)
    with duckdb.connect(str(db), read_only=True) as con:
        stored = dict(
            con.sql("SELECT code, statutory_days FROM procedure WHERE code LIKE '9.0000%'").fetchall()
        )
    assert stored == {code: days for code, (_, days) in times.items() if days is not None}
    found = _rejects(db, result.run_id)
    codes = list(times)
    assert sorted(found) == [codes.index(c) + 2 for c, (_, days) in times.items() if days is None]
    for problems in found.values():
        ((column, _value, reason),) = problems
        assert column == "Thời hạn giải quyết"
        assert "whole working days" in reason and "values" in reason


# --- headers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Ket qua dien tu", "Có kết quả điện tử", "KẾT QUẢ ĐIỆN TỬ."])
def test_a_header_that_looks_like_an_optional_column_is_not_silently_dropped(
    db: Path, tmp_path: Path, header: str
) -> None:
    """A file whose "Kết quả điện tử" column is headed without accents or with one word more loaded with
    every row's e_result at its default (no electronic result at all), the header only listed as not used.
    It is refused, naming both headers, and the database is left as it was."""
    path = _write(
        tmp_path / "near_miss.csv",
        [_line("NM-1", "03/10/2025 08:00") + ",Có", _line("NM-2", "04/10/2025 08:00") + ",Có"],
        header=[*HEADER, header],
    )
    before = db.read_bytes()
    with pytest.raises(IngestError) as err:
        _load(db, path)
    message = str(err.value)
    assert str(path) in message and repr(header) in message and "'Kết quả điện tử' (e_result)" in message
    assert "default" in message and "rename the header" in message
    assert db.read_bytes() == before


def test_an_unrelated_unused_column_is_still_only_listed(db: Path, tmp_path: Path) -> None:
    """Columns that look like nothing the mapping reads (a row number, a procedure's name) do not refuse the
    file: they are listed as not used."""
    path = _write(
        tmp_path / "extra.csv",
        [_line("EX-1", "03/10/2025 08:00") + ",1,Cấp phiếu lý lịch tư pháp"],
        header=[*HEADER, "STT", "Tên thủ tục"],
    )
    result = _load(db, path)
    assert result.inserted == 1 and result.ignored_columns == ("STT", "Tên thủ tục")


def test_a_unit_code_column_wins_over_a_unit_name_column(db: Path, tmp_path: Path) -> None:
    """Exports often carry both "Mã đơn vị" (the code) and "Đơn vị" (the unit's name): the name column was
    read first, and every row was quarantined as an unknown unit code."""
    header = ["Mã hồ sơ", "Mã TTHC", "Mã đơn vị", "Đơn vị", "Hình thức nộp", "Ngày tiếp nhận", "Trạng thái"]
    lines = [f"UC-{n},1.002175,STP,Sở Tư pháp,Trực tuyến,0{n}/10/2025 08:00,Đang xử lý" for n in (1, 2)]
    result = _load(db, _write(tmp_path / "both_unit_columns.csv", lines, header=header))
    assert (result.inserted, result.rejected) == (2, 0)
    with duckdb.connect(str(db), read_only=True) as con:
        units = con.sql(
            "SELECT DISTINCT d.unit_id, u.code FROM dossier d JOIN org_unit u ON u.id = d.unit_id "
            "WHERE d.id LIKE 'UC-%'"
        ).fetchall()
    assert [code for _, code in units] == ["STP"]


def test_a_stray_quote_inside_a_cell_is_named_by_its_line(db: Path, tmp_path: Path) -> None:
    """A cell like `Phiếu 5" lý lịch` in an unquoted field: the CSV reader took the quote for the start of a
    quoted cell and failed with "expected 0 rows, actual 50 rows" and no line. The refusal names the line and
    shows the cell; the database is left as it was."""
    lines = [_line("SQ-1", "03/10/2025 08:00"), _line("SQ-2", "04/10/2025 08:00")]
    lines[1] = lines[1].replace("Trực tuyến", 'Trực tuyến 5" nhanh')
    lines += [f'"SQ-{n}",1.002175,STP,"Trực tuyến, ""nhanh""",05/10/2025 08:00,Đang xử lý' for n in (3, 4)]
    path = _write(tmp_path / "stray_quote.csv", lines)
    before = db.read_bytes()
    with pytest.raises(IngestError) as err:
        _load(db, path)
    assert "line 3 has a double quote inside a cell" in err.value.message
    assert 'Trực tuyến 5" nhanh' in err.value.message
    assert db.read_bytes() == before


def test_an_excel_day_number_in_a_date_column_is_named_as_such(db: Path, tmp_path: Path) -> None:
    """A date cell that lost its format in Excel holds the day's serial number (45722.342361111 is
    6 March 2025 08:13): quarantined as before, with what it is and how to fix it; other unreadable dates
    keep the plain reason."""
    path = _write(
        tmp_path / "serial.csv",
        [_line("XS-1", "45722.342361111"), _line("XS-2", "45722"), _line("XS-3", "06/03/2025 08:13"),
         _line("XS-4", "hôm qua")],
    )  # fmt: skip
    result = _load(db, path)
    assert (result.inserted, result.rejected) == (1, 3)
    found = _rejects(db, result.run_id)
    for row in (2, 3):
        ((_, _, reason),) = found[row]
        assert reason.startswith("unparseable date") and "Excel date serial number" in reason
    ((_, _, plain),) = found[5]
    assert plain.startswith("unparseable date") and "Excel" not in plain


def test_an_unreadable_finish_date_is_reported_once(db: Path, tmp_path: Path) -> None:
    """A finished dossier whose finish date cannot be read got two reasons: "unparseable date" and the
    misleading "status finished/returned without a finish date". The first alone says what is wrong; a
    finished dossier with no finish date at all still gets the second."""
    header = [*HEADER, "Ngày kết thúc xử lý"]
    lines = [
        _line("FD-1", "03/10/2025 08:00", "Đã trả kết quả") + ",31/02/2025 10:00",
        _line("FD-2", "03/10/2025 08:00", "Đã trả kết quả") + ",",
    ]
    result = _load(db, _write(tmp_path / "finish.csv", lines, header=header))
    found = _rejects(db, result.run_id)
    ((column, _, reason),) = found[2]
    assert column == "Ngày kết thúc xử lý" and reason.startswith("unparseable date")
    assert [r[2] for r in found[3]] == ["status finished/returned without a finish date"]


def test_a_file_with_a_header_only_says_it_loaded_nothing(db: Path, tmp_path: Path) -> None:
    """An empty export (the header alone) loads nothing, and the summary says so in words, not only "read 0"."""
    result = _load(db, _write(tmp_path / "empty.csv", []))
    assert (result.rows_read, result.inserted, result.rejected) == (0, 0, 0)
    assert "holds no rows below its header" in result.summary()


def test_headers_without_accents_are_suggested_for_their_own_column_only(db: Path, tmp_path: Path) -> None:
    """A file written without diacritics is refused naming the missing columns; the hint paired 'Ten thu tuc'
    (a procedure's name) with 'Mã thủ tục' beside 'Ma thu tuc'. Now a header that differs only by accents and
    case is the one suggestion for its column."""
    header = [
        "Ma ho so",
        "Ma thu tuc",
        "Ten thu tuc",
        "Don vi",
        "Hinh thuc nop",
        "Ngay tiep nhan",
        "Trang thai",
    ]
    path = _write(tmp_path / "no_accents.csv", ["H1,1.002175,Cấp phiếu,STP,Trực tuyến,03/10/2025,Đang xử lý"],
                  header=header)  # fmt: skip
    with pytest.raises(IngestError) as err:
        _load(db, path)
    hint = err.value.hint or ""
    assert "'Ma thu tuc' for 'Mã thủ tục'" in hint and "'Ma ho so' for 'Mã hồ sơ'" in hint
    assert "'Ten thu tuc' for" not in hint
