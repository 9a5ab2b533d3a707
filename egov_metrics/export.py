"""Write result frames to the formats data officers use: CSV (Excel-friendly UTF-8 with BOM), XLSX, Parquet.

Every CSV and XLSX file egov-metrics writes goes through this module (compute --out, score --out, roadmap
assess --out, quarantine exports), so that none of them can carry a spreadsheet formula:

- `safe_text_cell(text)`: a text that a spreadsheet would read as a formula or a command (it starts with
  `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading single quote (`'=HYPERLINK(…)`); other text
  is returned unchanged. Only text cells are touched: numbers stay numbers (-5 is still the number -5).
- `write_csv(frame, path)`: UTF-8 with BOM (Excel opens Vietnamese text correctly), text cells made safe.
- `write_xlsx(frame, path, sheet_name=…)`: text cells are made safe the same way and written as explicit
  strings (inline text, never a `<f>` formula element), so the cell stays text even when someone later saves
  the sheet as CSV; numbers, dates and booleans keep their types.
  A formatted writer can build on `xlsx_cell`.
- `write_frame(frame, path)`: picks the writer from the extension (.csv, .xlsx, .parquet); atomic.

Files are written to a temporary name and renamed, so a failed export never leaves a half-written file.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, overload

import polars as pl

if TYPE_CHECKING:  # openpyxl (~55 ms to import) only when a workbook is written: not for `atomic_write`
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.worksheet.worksheet import Worksheet

from egov_metrics.errors import UnknownNameError

#: First characters that make a spreadsheet read a cell as a formula or a DDE command.
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
#: The longest text an Excel cell holds.
EXCEL_CELL_LIMIT = 32_767


def is_formula_like(text: str) -> bool:
    """Would a spreadsheet read this text as a formula (or a command)?"""
    return text.startswith(FORMULA_STARTS)


@overload
def safe_text_cell(text: str) -> str: ...
@overload
def safe_text_cell(text: None) -> None: ...
def safe_text_cell(text: str | None) -> str | None:
    """`text` with a leading single quote when a spreadsheet would read it as a formula; otherwise unchanged."""
    if text is None or not is_formula_like(text):
        return text
    return "'" + text


def safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every text column made safe by `safe_text_cell` (other columns untouched)."""
    starts = r"^[=+\-@\t\r]"  # FORMULA_STARTS as a regular expression
    text_columns = [name for name, dtype in frame.schema.items() if dtype in (pl.String, pl.Categorical)]
    return frame.with_columns(
        pl.when(pl.col(c).cast(pl.String).str.contains(starts))
        .then(pl.lit("'") + pl.col(c).cast(pl.String))
        .otherwise(pl.col(c).cast(pl.String))
        .alias(c)
        for c in text_columns
    )


def write_csv(frame: pl.DataFrame, path: str | Path) -> Path:
    """Write `frame` as CSV (UTF-8 with BOM, text cells made safe); atomic."""
    return atomic_write(Path(path), lambda tmp: _csv(frame, tmp))


def write_xlsx(frame: pl.DataFrame, path: str | Path, sheet_name: str = "egov-metrics") -> Path:
    """Write `frame` as one XLSX sheet (text never a formula, numbers as numbers); atomic."""
    return atomic_write(Path(path), lambda tmp: _xlsx(frame, tmp, sheet_name))


def write_parquet(frame: pl.DataFrame, path: str | Path) -> Path:
    """Write `frame` as Parquet (typed columns; no spreadsheet reads it as formulas); atomic."""
    return atomic_write(Path(path), lambda tmp: frame.write_parquet(tmp))


def xlsx_cell(sheet: Worksheet, value: object) -> WriteOnlyCell:
    """One cell for a write-only sheet: text as an explicit string (never a formula), other types kept."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=safe_text_cell(value)[:EXCEL_CELL_LIMIT])
        cell.data_type = "s"  # openpyxl would otherwise store a text starting with '=' as a formula
        return cell
    if isinstance(value, dt.timedelta):
        value = value.total_seconds() / 86400
    return WriteOnlyCell(sheet, value=value)


def _csv(frame: pl.DataFrame, path: Path) -> None:
    with path.open("wb") as fh:
        fh.write(b"\xef\xbb\xbf")  # a BOM makes Excel open Vietnamese text as UTF-8
        safe_frame(frame).write_csv(fh)


def _xlsx(frame: pl.DataFrame, path: Path, sheet_name: str) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name[:31])
    sheet.append([xlsx_cell(sheet, str(name)) for name in frame.columns])
    for row in frame.iter_rows():
        sheet.append([xlsx_cell(sheet, _plain(v)) for v in row])
    workbook.save(path)


def _plain(value: object) -> object:
    """Values openpyxl cannot write (lists, structs, timezone-aware times) as text."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if isinstance(value, list | dict | tuple):
        return str(value)
    return value


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write: Callable[[Path], object], *, suffix: str | None = None) -> Path:
    """Call `write(tmp)` on a temporary file beside `path`, then rename it over `path`: a failed write never
    leaves a half-written file (the project's one way to write a file atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=path.suffix if suffix is None else suffix, dir=path.parent
        )
    except OSError as exc:  # a folder that takes no new file: say so of the file asked for
        raise _of_path(exc, path) from None
    os.close(fd)
    try:
        write(Path(tmp))
        # mkstemp makes the file private (0600); the finished file gets the mode a new file gets here (0644
        # under the usual umask), so colleagues reading a shared folder can open it
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        if exc.filename != tmp:
            raise
        raise _of_path(
            exc, path
        ) from None  # e.g. `path` is a folder: not the temporary name, never asked for
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _of_path(exc: OSError, path: Path) -> OSError:
    """The same error naming `path` (the file the caller asked for) instead of the temporary file."""
    if exc.errno is None:
        return exc
    return OSError(exc.errno, exc.strerror, str(path))


WRITERS: dict[str, Callable[[pl.DataFrame, Path], Path]] = {
    ".csv": write_csv,
    ".xlsx": write_xlsx,
    ".parquet": write_parquet,
}


def _writer(path: Path) -> Callable[[pl.DataFrame, Path], Path]:
    writer = WRITERS.get(path.suffix.lower())
    if writer is None:
        raise UnknownNameError.from_choices("output format", path.suffix or "(none)", WRITERS)
    return writer


def check_output(path: str | Path | None) -> None:
    """Raise `UnknownNameError` when `write_frame` cannot write `path` (its extension): a command checks it
    before computing, so a mistyped `--out` is a one-line error, not a traceback after the work."""
    if path is not None:
        _writer(Path(path))


def write_frame(frame: pl.DataFrame, path: str | Path) -> Path:
    """Write `frame` to `path`, choosing the format from the extension (.csv, .xlsx, .parquet); atomic."""
    path = Path(path)
    return _writer(path)(frame, path)
