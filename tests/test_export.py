"""Safe exports: no CSV or XLSX written by egov-metrics carries a live spreadsheet formula, and numbers stay
numbers. Expected cells are written out by hand from the rule (a leading ' before = + - @ tab CR in text)."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from egov_metrics.export import safe_text_cell, write_frame

RISKY = ['=HYPERLINK("http://example.invalid","Bấm vào đây")', "+84 912", "-2", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("text", RISKY)
def test_risky_text_gets_a_leading_quote(text: str) -> None:
    assert safe_text_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Sở Tư pháp", "12", "a=b", " =x", "", None])
def test_other_text_is_unchanged(text: str | None) -> None:
    assert safe_text_cell(text) == text


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "unit_name": [*RISKY, "Sở Tư pháp"],
            "count": [-5, 0, 1, 2, 3, 4, 5],
            "value": [-1.5, 0.25, None, 1.0, 2.0, 3.0, 4.0],
            "day": [dt.date(2026, 1, 2)] * 7,
        }
    )


def test_csv(tmp_path: Path) -> None:
    path = write_frame(_frame(), tmp_path / "out.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["unit_name", "count", "value", "day"]
    assert [r[0] for r in rows[1:]] == ["'" + t for t in RISKY] + ["Sở Tư pháp"]
    assert [r[1] for r in rows[1:]] == ["-5", "0", "1", "2", "3", "4", "5"]  # numbers untouched
    assert rows[1][2] == "-1.5" and rows[1][3] == "2026-01-02"


def test_xlsx(tmp_path: Path) -> None:
    path = write_frame(_frame(), tmp_path / "out.xlsx")
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet and "<f " not in sheet  # no formula element anywhere
    ws = openpyxl.load_workbook(path).active
    rows = list(ws.iter_rows(values_only=True))
    # XML reads a CR in text back as LF (the cell is text either way)
    assert [r[0] for r in rows[1:]] == ["'" + t.replace("\r", "\n") for t in RISKY] + ["Sở Tư pháp"]
    assert [r[1] for r in rows[1:]] == [-5, 0, 1, 2, 3, 4, 5]
    assert rows[1][2] == -1.5 and rows[2][2] == 0.25
    assert rows[1][3] == dt.datetime(2026, 1, 2)
    assert all(c.data_type == "s" for c in next(ws.iter_cols(min_row=2, max_col=1)))
    assert all(c.data_type == "n" for c in next(ws.iter_cols(min_row=2, min_col=2, max_col=2)))


@pytest.mark.parametrize("name", ["out.csv", "out.xlsx", "out.parquet"])
def test_a_path_that_cannot_be_written_is_named_in_the_error(tmp_path: Path, name: str) -> None:
    """`plan STP --out adir.csv` where adir.csv is a folder said 'error: …/.adir.csv.4qm115vx.csv: Is a
    directory': the temporary file's name, which the user never gave. The error names the path asked for."""
    taken = tmp_path / name
    taken.mkdir()
    with pytest.raises(OSError) as caught:
        write_frame(_frame(), taken)
    assert caught.value.filename == str(taken)
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left behind
