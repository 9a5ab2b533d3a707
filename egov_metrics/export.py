"""Write result frames to the formats data officers use: CSV (Excel-friendly UTF-8 with BOM), XLSX, Parquet.

Writers register by file extension; files are written to a temporary name and renamed, so a failed
export never leaves a half-written file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl

from egov_metrics.errors import UnknownNameError


def _write_csv(frame: pl.DataFrame, path: Path) -> None:
    # A BOM makes Excel open Vietnamese text as UTF-8.
    with path.open("wb") as fh:
        fh.write(b"\xef\xbb\xbf")
        frame.write_csv(fh)


def _write_xlsx(frame: pl.DataFrame, path: Path) -> None:
    frame.to_pandas().to_excel(path, index=False, engine="openpyxl", sheet_name="egov-metrics")


def _write_parquet(frame: pl.DataFrame, path: Path) -> None:
    frame.write_parquet(path)


WRITERS: dict[str, Callable[[pl.DataFrame, Path], None]] = {
    ".csv": _write_csv,
    ".xlsx": _write_xlsx,
    ".parquet": _write_parquet,
}


def write_frame(frame: pl.DataFrame, path: str | Path) -> Path:
    """Write `frame` to `path`, choosing the format from the extension; atomic."""
    path = Path(path)
    writer = WRITERS.get(path.suffix.lower())
    if writer is None:
        raise UnknownNameError.from_choices("output format", path.suffix or "(none)", WRITERS)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        writer(frame, Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
