"""Reading exports: format and encoding detection and a registry of readers (CSV, XLSX/XLS, Parquet).

Every reader returns the same thing, a `Source`: the header texts and a polars frame of strings with
`__row` (the row number a data officer sees in Excel: header on its row, first data row below it),
`c0 … cN` (one column per header, text trimmed of surrounding white space, NULL when empty) and `__extra`
(fields beyond the header, CSV only).
Types are not guessed here; the mapping parses each column in DuckDB.
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import re
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import polars as pl

from egov_metrics.errors import IngestError, UnknownNameError
from egov_metrics.ingest.mapping import normalise
from egov_metrics.ingest.parsers import ODD_BYTES
from egov_metrics.said import Said

_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_TEXT = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_ODD_TEXT = "[" + "".join(b.decode("utf-8") for b in ODD_BYTES) + "]"

#: Rows looked at to find the header when the mapping says `header_row: auto`.
PREVIEW_ROWS = 30
#: Extra fields kept after the last header column to detect rows with too many fields.
_EXTRA_FIELDS = 4
_SAMPLE_BYTES = 1 << 18
_BATCH_ROWS = 200_000
DELIMITERS = (",", ";", "\t")

#: Progress callback: (units done so far, total units or None).
Progress = Callable[[int, int | None], None]


def _no_progress(done: int, total: int | None) -> None:
    return None


@dataclass(frozen=True)
class Source:
    path: Path
    format: str
    headers: tuple[str, ...]
    frame: pl.DataFrame
    header_row: int
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    #: Whether any cell holds zero-width characters / no-break spaces, or control characters (True: unknown).
    odd_spaces: bool = True
    control_chars: bool = True
    #: XLSX cells holding a formula without a saved value (read as empty): (row as in Excel, column index).
    uncalculated: tuple[tuple[int, int], ...] = ()

    def describe(self, lang: str = "en") -> str:
        """'csv (utf-8 with BOM, comma-separated)', 'xlsx (sheet 'Data')'; in Vietnamese with `lang='vi'`."""
        words = _SOURCE_WORDS[lang]
        delimiter = words.get(self.delimiter or "")
        sheet = f"{words['sheet']} {self.sheet!r}" if self.sheet else None
        encoding = self.encoding.replace(" with BOM", words["bom"]) if self.encoding else None
        extra = ", ".join(x for x in (encoding, delimiter, sheet) if x)
        return f"{self.format}{f' ({extra})' if extra else ''}"


_SOURCE_WORDS = {
    "en": {",": "comma-separated", ";": "semicolon-separated", "\t": "tab-separated", "sheet": "sheet",
           "bom": " with BOM"},
    "vi": {",": "phân cách bằng dấu phẩy", ";": "phân cách bằng dấu chấm phẩy", "\t": "phân cách bằng tab",
           "sheet": "trang tính", "bom": " có BOM"},
}  # fmt: skip


@dataclass(frozen=True)
class Reader:
    """`preview` gives the first rows as lists of text (to find the header); `read` loads the data."""

    preview: Callable[[Path, str | None], list[list[str | None]]]
    read: Callable[[Path, int, str | None, Progress], Source]


READERS: dict[str, Reader] = {}


def register_reader(name: str, reader: Reader) -> None:
    READERS[name] = reader


def get_reader(name: str) -> Reader:
    if name not in READERS:
        raise UnknownNameError.from_choices("file format", name, READERS)
    return READERS[name]


# --- format detection ------------------------------------------------------------------------------------

#: Leading bytes → format. Anything else is text, read as CSV.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "xlsx"),
    (b"\xd0\xcf\x11\xe0", "xlsx"),  # legacy .xls (OLE2): calamine reads it too
    (b"PAR1", "parquet"),
)
EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_HTML_STARTS = (b"<html", b"<!doctype", b"<table", b"<?xml")
#: Leading bytes of files that are not tables at all (a picture or a document saved under a table's name).
NOT_TABULAR: tuple[tuple[bytes, Said], ...] = (
    (b"\x89PNG\r\n\x1a\n", Said("một ảnh PNG", "a PNG image")),
    (b"\xff\xd8\xff", Said("một ảnh JPEG", "a JPEG image")),
    (b"GIF8", Said("một ảnh GIF", "a GIF image")),
    (b"%PDF-", Said("một tài liệu PDF", "a PDF document")),
    (b"{\\rtf", Said("một tài liệu RTF", "an RTF document")),
    (b"\x1f\x8b", Said("một tệp nén gzip", "a gzip archive")),
    (b"Rar!", Said("một tệp nén RAR", "a RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", Said("một tệp nén 7-Zip", "a 7-Zip archive")),
)
EMPTY_FILE = Said("tệp {path} trống (0 byte)", "{path} is empty (0 bytes)")
EXPORT_AGAIN = Said("xuất lại tệp từ hệ thống nguồn", "export the file again from the source system")


def detect_format(path: Path) -> str:
    """The reader for `path`, from its first bytes (content wins over the extension)."""
    head = _head(path, 512)
    if not head:
        raise IngestError(EMPTY_FILE.format(path=path), EXPORT_AGAIN)
    by_content = next((fmt for magic, fmt in MAGIC if head.startswith(magic)), None)
    if by_content:
        return by_content
    what = next((name for magic, name in NOT_TABULAR if head.startswith(magic)), None)
    if what is None and not head.startswith(tuple(m for m, _ in BOMS)) and _looks_binary(head):
        what = Said("một tệp nhị phân", "a binary file")
    if what:
        raise IngestError(
            Said(
                f"tệp {path} là {what.vi}, không phải một bảng (CSV, XLSX hay Parquet)",
                f"{path} is {what.en}, not a table (CSV, XLSX or Parquet)",
            ),
            Said(
                "kiểm tra xem đã chọn đúng tệp chưa; xuất dữ liệu từ hệ thống nguồn dạng 'CSV UTF-8' hoặc .xlsx",
                "check that you picked the right file; export the data from the source system as 'CSV UTF-8' or "
                ".xlsx",
            ),
        )
    stripped = head.lstrip(b"\xef\xbb\xbf \r\n\t").lower()
    if stripped.startswith(_HTML_STARTS) or stripped.replace(b"\x00", b"").startswith(_HTML_STARTS[:3]):
        raise IngestError(
            Said(
                f"tệp {path} là một trang web (HTML) được lưu với đuôi của bảng tính, không phải bảng tính",
                f"{path} is a web page (HTML) saved with a spreadsheet extension, not a spreadsheet",
            ),
            Said(
                "mở tệp trong Excel, lưu thành 'Excel Workbook (*.xlsx)' hoặc 'CSV UTF-8', rồi nạp tệp đó",
                "open it in Excel and save it as 'Excel Workbook (*.xlsx)' or 'CSV UTF-8', then load that file",
            ),
        )
    expected = EXTENSIONS.get(path.suffix.lower(), "csv")
    if expected != "csv":
        raise IngestError(
            Said(
                f"tệp {path} có đuôi {path.suffix} nhưng nội dung là văn bản, không phải {expected}",
                f"{path} has the extension {path.suffix} but its content is text, not {expected}",
            ),
            Said(
                "đổi đuôi thành .csv nếu đó là tệp CSV, hoặc xuất lại tệp từ hệ thống nguồn",
                "rename it to .csv if it is a CSV export, or export it again from the source system",
            ),
        )
    return "csv"


def _looks_binary(head: bytes) -> bool:
    """Control bytes (other than tab, CR, LF, form feed) in more than 1 % of the sample; UTF-16 text without a
    BOM has NULs in every other byte and is recognised before this test."""
    if not head:
        return False
    sample = head[:4096]
    if sample[1::2].count(0) > len(sample) // 4 or sample[0::2].count(0) > len(sample) // 4:
        return False
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return control > max(1, len(sample) // 100)


def _head(path: Path, n: int) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(n)
    except FileNotFoundError:
        raise IngestError(
            Said(f"tệp {path} không tồn tại", f"file {path} does not exist"),
            Said("kiểm tra đường dẫn và tên tệp", "check the path and the file name"),
        ) from None
    except OSError as exc:
        raise IngestError(
            Said(
                f"không đọc được {path}: {exc.strerror or exc}", f"cannot read {path}: {exc.strerror or exc}"
            ),
            Said("kiểm tra quyền đọc tệp", "check that the file is readable"),
        ) from None


def find_header_row(rows: list[list[str | None]], headers: set[str]) -> int:
    """1-based index of the row holding the most known headers; when none matches, the widest row (so that an
    error lists the file's real column names rather than a title line)."""
    scores = [sum(1 for cell in row if cell and normalise(cell) in headers) for row in rows]
    if max(scores, default=0) == 0:
        scores = [sum(1 for cell in row if cell and cell.strip()) for row in rows]
    best = max(scores, default=0)
    return scores.index(best) + 1 if best else 1


def read_source(
    path: Path,
    known_headers: set[str],
    header_row: int | str = "auto",
    sheet: str | None = None,
    progress: Progress = _no_progress,
) -> Source:
    """Read `path` with the reader its content calls for. `known_headers` (normalised) locate the header row."""
    reader = get_reader(detect_format(path))
    if header_row == "auto":
        header_row = find_header_row(reader.preview(path, sheet), known_headers)
    return reader.read(path, int(header_row), sheet, progress)


def _frame(headers: list[str], frame: pl.DataFrame, first_row: int) -> tuple[tuple[str, ...], pl.DataFrame]:
    """Rename the data columns to c0…, trim every cell (empty → NULL), add `__row` and `__extra`."""
    names = [f"c{i}" for i in range(len(headers))]
    data = [c for c in frame.columns if c not in ("__row", "__extra")]
    frame = frame.rename(dict(zip(data, names, strict=True)))
    if "__extra" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("__extra"))
    if "__row" not in frame.columns:
        frame = frame.with_row_index("__row", offset=first_row).with_columns(pl.col("__row").cast(pl.Int64))
    trimmed = [pl.col(c).str.strip_chars().replace("", None).alias(c) for c in (*names, "__extra")]
    return tuple(headers), frame.select("__row", *trimmed)


def _header_texts(row: Sequence[str | None]) -> list[str]:
    """Header cells as text; trailing empty cells dropped, blank ones in between named by their position."""
    cells = [(c or "").strip() for c in row]
    while cells and not cells[-1]:
        cells.pop()
    return [c or f"column {i + 1}" for i, c in enumerate(cells)]


def _scan_bytes(path: Path, skip: int = 0) -> tuple[bool, bool]:
    """(odd spaces, control characters) anywhere in a UTF-8 file: one fast pass over its bytes."""
    odd = control = False
    tail = b""
    with path.open("rb") as fh:
        fh.seek(skip)
        while chunk := fh.read(1 << 24):
            data = tail + chunk
            odd = odd or any(b in data for b in ODD_BYTES)
            control = control or _CONTROL_BYTES.search(chunk) is not None
            if odd and control:
                break
            tail = data[-3:]
    return odd, control


def _scan_frame(frame: pl.DataFrame, columns: list[str]) -> tuple[bool, bool]:
    """(odd spaces, control characters) anywhere in the text columns of a frame."""
    if not columns or frame.height == 0:
        return False, False
    flags = frame.select(
        pl.any_horizontal(pl.col(c).str.contains(_ODD_TEXT).any() for c in columns).alias("odd"),
        pl.any_horizontal(pl.col(c).str.contains(_CONTROL_TEXT).any() for c in columns).alias("control"),
    ).row(0)
    return bool(flags[0]), bool(flags[1])


# --- CSV -------------------------------------------------------------------------------------------------

# A cell may be as long as the file (a quote that never closes): the check of cell lengths is in sql.py
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

#: Byte-order marks → Python codec (the codec strips the BOM).
BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def sniff_encoding(path: Path) -> str:
    """The Python codec of a text export: from its BOM, its NUL-byte pattern (BOM-less UTF-16) or UTF-8."""
    head = _head(path, _SAMPLE_BYTES)
    bom = next((codec for mark, codec in BOMS if head.startswith(mark)), None)
    if bom:
        return bom
    sample = head[:4096]
    if sample and sample[1::2].count(0) > len(sample) // 4:
        return "utf-16-le"
    if sample and sample[0::2].count(0) > len(sample) // 4:
        return "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise not_utf8(path, head, exc.start) from None
    return "utf-8"


#: Bytes that Windows-1258 uses for its combining tone marks (̀ ̉ ̃ ́ ̣); TCVN3 (ABC) puts letters there.
_CP1258_TONES = frozenset(b"\xcc\xd2\xde\xec\xf2")


def guess_legacy_encoding(data: bytes) -> str:
    """Which old Vietnamese code page undecodable text most likely uses (for the error message only)."""
    high = [b for b in data if b >= 0x80]
    if not high:
        return "Windows-1258/TCVN3"
    tones = sum(1 for b in high if b in _CP1258_TONES)
    return "Windows-1258" if tones * 4 >= len(high) else "TCVN3 (ABC)"


def not_utf8(path: Path, data: bytes, offset: int, base: int = 0, line: int | None = None) -> IngestError:
    """The error for a text file with bytes that are not UTF-8: where, which code page it looks like, the fix.
    `data` holds the file from byte `base`; `offset` is the bad byte's position in `data`."""
    line = line if line is not None else data.count(b"\n", 0, offset) + 1
    guess = guess_legacy_encoding(data[offset : offset + 4096])  # what precedes may be valid UTF-8
    return IngestError(
        Said(
            f"tệp {path} không phải UTF-8: có vẻ là {guess} (một bảng mã tiếng Việt cũ, không phải UTF-8 hay "
            f"UTF-16); byte đầu tiên không phải UTF-8 là byte {base + offset} (0x{data[offset]:02x}), ở dòng {line}",
            f"file {path} is not UTF-8: looks like {guess} (an old Vietnamese code page, not UTF-8 or UTF-16); "
            f"the first byte that is not UTF-8 is byte {base + offset} (0x{data[offset]:02x}), on line {line}",
        ),
        Said(
            "lưu lại dạng UTF-8 (Excel: Save As → CSV UTF-8 (Comma delimited)), rồi nạp tệp đó",
            "re-save as UTF-8 (Excel: Save As → CSV UTF-8 (Comma delimited)), then load that file",
        ),
    )


def _stray_quote(path: Path, delimiter: str) -> tuple[int, str] | None:
    """The first line holding a double quote between two characters that are neither the delimiter nor a
    quote (`5" lý lịch`): a quote inside an unquoted cell, which CSV readers take for the start of a quoted
    one. Its line number (1-based) and the text around it; None when there is none."""
    pattern = re.compile(f'[^{re.escape(delimiter)}"\r\n]"[^{re.escape(delimiter)}"\r\n]')
    with open(path, encoding="utf-8", errors="replace", newline="") as lines:
        for number, line in enumerate(lines, start=1):
            found = pattern.search(line)
            if found:
                return number, line[max(0, found.start() - 20) : found.end() + 20].strip()
    return None


def _first_bad_utf8(path: Path) -> IngestError | None:
    """Decode the whole file as UTF-8 in chunks; the error for its first undecodable byte, if any."""
    base, lines, carry = 0, 0, b""
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(1 << 22)
            data = carry + chunk
            try:
                data.decode("utf-8")
                carry = b""
            except UnicodeDecodeError as exc:
                if chunk and exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
                    carry = data[exc.start :]  # a character cut by the chunk boundary
                    data = data[: exc.start]
                else:
                    return not_utf8(path, data, exc.start, base, lines + data.count(b"\n", 0, exc.start) + 1)
            if not chunk:
                return None
            base += len(data)
            lines += data.count(b"\n")


def _decoded_sample(path: Path, encoding: str) -> str:
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(
        _head(path, _SAMPLE_BYTES), final=False
    )


def sniff_delimiter(sample: str) -> str:
    """The delimiter (, ; or tab) that splits the first rows into the most, most regular fields."""

    def score(delimiter: str) -> tuple[int, int]:
        records = list(_records(sample, delimiter, PREVIEW_ROWS))
        counts = Counter(len(r) for r in records[:-1] or records if len(r) > 1)
        return max(((n, k) for k, n in counts.items()), key=lambda t: (t[1], t[0]), default=(0, 0))[::-1]

    return max(DELIMITERS, key=score)


def _records(sample: str, delimiter: str, limit: int) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    for i, record in enumerate(reader):
        if i >= limit:
            return
        yield record


def _csv_preview(path: Path, sheet: str | None) -> list[list[str | None]]:
    sample = _decoded_sample(path, sniff_encoding(path))
    return [list(record) for record in _records(sample, sniff_delimiter(sample), PREVIEW_ROWS)]


def _cr_only(sample: str) -> bool:
    """Lines end with a bare CR (Excel's "CSV (Macintosh)"): the CSV parser would see one long line."""
    return "\r" in sample and "\n" not in sample


@contextmanager
def _utf8_copy(path: Path, encoding: str, progress: Progress, cr_only: bool = False) -> Iterator[Path]:
    """`path` itself when it is UTF-8 with LF or CRLF line ends; otherwise a temporary UTF-8 copy, transcoded
    in 4 MB chunks (bare CR line ends become LF)."""
    if encoding in ("utf-8", "utf-8-sig") and not cr_only:
        yield path
        return
    total = path.stat().st_size
    with tempfile.TemporaryDirectory(prefix="egov-ingest-") as tmp:
        target = Path(tmp) / "utf8.csv"
        decoder = codecs.getincrementaldecoder(encoding)()
        done = 0
        with path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
            while chunk := src.read(1 << 22):
                text = decoder.decode(chunk)
                dst.write(text.replace("\r", "\n") if cr_only else text)
                done += len(chunk)
                progress(done // 2, total)
            dst.write(decoder.decode(b"", final=True))
        yield target


def _csv_read(path: Path, header_row: int, sheet: str | None, progress: Progress) -> Source:
    if path.stat().st_size == 0:
        raise IngestError(EMPTY_FILE.format(path=path), EXPORT_AGAIN)
    encoding = sniff_encoding(path)
    sample = _decoded_sample(path, encoding)
    delimiter = sniff_delimiter(sample)
    records = list(_records(sample, delimiter, header_row))
    headers = _header_texts(records[header_row - 1] if len(records) >= header_row else [])
    if not headers:
        raise IngestError(
            Said(
                f"{path}: dòng {header_row} không có tiêu đề cột",
                f"{path}: row {header_row} holds no column headers",
            ),
            Said(
                "dòng đầu của tệp (hoặc dòng header_row của ánh xạ cột) phải chứa tên các cột",
                "the first row of the file (or the mapping's header_row) must hold the column names",
            ),
        )
    extras = [f"__x{i}" for i in range(_EXTRA_FIELDS)]
    schema = dict.fromkeys([f"c{i}" for i in range(len(headers))] + extras, pl.String)
    total = path.stat().st_size
    with _utf8_copy(path, encoding, progress, _cr_only(sample)) as utf8:
        scan = pl.scan_csv(
            utf8,
            has_header=False,
            skip_rows=header_row,  # records, not lines: a quoted cell over two lines is one
            separator=delimiter,
            schema=schema,  # all text; more columns than the header to catch rows with too many fields
            missing_columns="insert",
            truncate_ragged_lines=True,
            row_index_name="__row",
            row_index_offset=header_row + 1,
            raise_if_empty=False,
        )
        row_bytes = max(1, len(sample.encode("utf-8")) // max(1, sample.count("\n")))
        offset = total // 2 if utf8 != path else 0  # the first half of the bar was the transcoding
        expected = max(1, utf8.stat().st_size // row_bytes)

        def on_rows(rows: int) -> None:
            progress(offset + (total - offset) * min(rows, expected) // expected, total)

        try:
            frame = _collect(scan, schema | {"__row": pl.Int64}, on_rows)
        except pl.exceptions.PolarsError as exc:
            if "utf-8" in str(exc).lower() and (bad := _first_bad_utf8(utf8)) is not None:
                raise bad from None  # a legacy code page further down than the sample that was checked
            if (stray := _stray_quote(utf8, delimiter)) is not None:
                line, excerpt = stray
                raise IngestError(
                    Said(
                        f"{path}: không đọc được như CSV: dòng {line} có dấu ngoặc kép trong một ô không nằm trong "
                        f"ngoặc kép: …{excerpt}…",
                        f"{path}: cannot parse as CSV: line {line} has a double quote inside a cell that is not "
                        f"quoted: …{excerpt}…",
                    ),
                    Said(
                        'đặt cả ô trong ngoặc kép và viết dấu ngoặc kép bên trong hai lần ("Cấp Phiếu 5"" lý lịch"), '
                        "hoặc bỏ dấu ngoặc kép đó; xuất 'CSV UTF-8' của Excel tự làm việc này",
                        'quote the whole cell and double the quote inside it ("Cấp Phiếu 5"" lý lịch"), or remove '
                        "the quote; Excel's 'CSV UTF-8' export does this itself",
                    ),
                ) from None
            why = str(exc).splitlines()[0]
            raise IngestError(
                Said(
                    f"{path}: không đọc được như CSV (phân cách bằng {delimiter!r}): {why}",
                    f"{path}: cannot parse as CSV ({delimiter!r}-separated): {why}",
                ),
                Said(
                    "kiểm tra các dấu ngoặc kép có đóng mở đủ cặp (một ô mở ngoặc mà không đóng thường là do tệp "
                    "bị cắt cụt: xuất lại tệp); lưu lại dạng 'CSV UTF-8' từ Excel",
                    "check that quotes are balanced (a quoted cell that never closes usually means the file was "
                    "cut short: export it again); save it again as 'CSV UTF-8' from Excel",
                ),
            ) from None
        odd, control = _scan_bytes(utf8, 3 if utf8 == path and encoding == "utf-8-sig" else 0)
    frame = frame.with_columns(pl.col("__row").cast(pl.Int64), pl.coalesce(extras).alias("__extra")).drop(
        extras
    )
    names, frame = _frame(headers, frame, header_row + 1)
    progress(total, total)
    return Source(
        path,
        "csv",
        names,
        frame,
        header_row,
        encoding.replace("-sig", " with BOM"),
        delimiter,
        None,
        odd,
        control,
    )


def _collect(
    scan: pl.LazyFrame, schema: dict[str, type[pl.DataType]], on_rows: Callable[[int], None]
) -> pl.DataFrame:
    """Collect a scan in batches, reporting the rows read so far."""
    batches, rows = [], 0
    for batch in scan.collect_batches(chunk_size=_BATCH_ROWS):
        batches.append(batch)
        rows += batch.height
        on_rows(rows)
    return pl.concat(batches) if batches else pl.DataFrame(schema=schema)


register_reader("csv", Reader(_csv_preview, _csv_read))


# --- XLSX / XLS ------------------------------------------------------------------------------------------


#: Bounds checked before a workbook is opened: a few KB can declare a sheet of 17 billion cells.
MAX_XLSX_UNCOMPRESSED = 2 << 30  # bytes of XML, all parts together
MAX_XLSX_COLUMNS = 500
MAX_XLSX_ROWS = 1_048_576  # Excel's own limit
MAX_XLSX_CELLS = 30_000_000  # columns × rows of the used range
#: Sheets up to this size (uncompressed XML) are scanned for their farthest cell; larger ones are judged by
#: their declared <dimension> and their last rows.
_FULL_SCAN_BYTES = 256 << 20
_CELL_REF = re.compile(rb'<(?:c|x:c)\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"')
_ROW_REF = re.compile(rb'<(?:row|x:row)\b[^>]*?\br="([0-9]{1,7})"')
_DIMENSION = re.compile(
    rb'<(?:dimension|x:dimension)\b[^>]*?\bref="(?:[A-Z]{1,3}[0-9]{1,7}:)?([A-Z]{1,3})([0-9]{1,7})"'
)


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → its XML part, from xl/workbook.xml and its relationships."""
    try:
        workbook = zf.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        return {}
    targets = dict(re.findall(r'<Relationship\b[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels))
    targets |= {i: t for t, i in re.findall(r'<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)}
    parts = {}
    for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", workbook):
        name = re.search(r'\bname="([^"]*)"', tag)
        rid = re.search(r'\br:id="([^"]*)"|\bid="([^"]*)"', tag)
        if not name or not rid:
            continue
        target = targets.get(rid.group(1) or rid.group(2) or "", "")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        parts[html.unescape(name.group(1))] = target
    return parts


def check_xlsx_bounds(path: Path, sheet: str | None) -> None:
    """Refuse a workbook whose XML is too large or whose sheet reaches too far, before reading it."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return  # a legacy .xls, or a damaged file: the reader reports it
    with zf:
        total = sum(info.file_size for info in zf.infolist())
        if total > MAX_XLSX_UNCOMPRESSED:
            unpacked, limit = f"{total / 2**30:.1f}", f"{MAX_XLSX_UNCOMPRESSED / 2**30:.0f}"
            raise IngestError(
                Said(
                    f"{path}: bảng tính giải nén thành {unpacked.replace('.', ',')} GB XML, nhiều hơn mức egov-metrics "
                    f"đọc ({limit} GB)",
                    f"{path}: the workbook unpacks to {unpacked} GB of XML, more than egov-metrics reads ({limit} GB)",
                ),
                Said(
                    "xuất dữ liệu dạng 'CSV UTF-8' thay thế (không giới hạn kích thước), hoặc chia thành nhiều tệp",
                    "export the data as 'CSV UTF-8' instead (no size limit), or split it into several files",
                ),
            )
        parts = _sheet_parts(zf)
        name = sheet if sheet is not None else next(iter(parts), None)
        part = parts.get(name or "")
        if part is None or part not in zf.NameToInfo:
            return
        size = zf.getinfo(part).file_size
        max_col = max_row = 0

        def scan(chunk: bytes) -> None:
            nonlocal max_col, max_row
            for m in _CELL_REF.finditer(chunk):
                max_col, max_row = max(max_col, _col_number(m.group(1))), max(max_row, int(m.group(2)))
            for m in _ROW_REF.finditer(chunk):
                max_row = max(max_row, int(m.group(1)))

        with zf.open(part) as fh:
            head = fh.read(1 << 16)
            declared = _DIMENSION.search(head)
            if declared:
                max_col, max_row = _col_number(declared.group(1)), int(declared.group(2))
            scan(head)
            tail = head[-200:]
            while data := fh.read(1 << 20):
                if size <= _FULL_SCAN_BYTES:
                    scan(tail + data)  # every cell of the sheet
                    tail = data[-200:]
                else:
                    tail = (tail + data)[-(1 << 20) :]  # a large sheet: its last rows only
            scan(tail)
    cells = max_col * max_row
    if max_col > MAX_XLSX_COLUMNS or max_row > MAX_XLSX_ROWS or cells > MAX_XLSX_CELLS:
        last = _column_name(max_col) + str(max_row)

        def vi(n: int) -> str:
            return f"{n:,}".replace(",", ".")

        raise IngestError(
            Said(
                f"{path}: trang tính {name!r} kéo tới ô {last} ({vi(max_col)} cột × {vi(max_row)} dòng = "
                f"{vi(cells)} ô), nhiều hơn mức egov-metrics đọc ({MAX_XLSX_COLUMNS} cột, {vi(MAX_XLSX_CELLS)} "
                "ô): không nạp gì",
                f"{path}: sheet {name!r} reaches cell {last} ({max_col:,} columns × {max_row:,} rows = {cells:,} "
                f"cells), more than egov-metrics reads ({MAX_XLSX_COLUMNS} columns, {MAX_XLSX_CELLS:,} cells): "
                "nothing was loaded",
            ),
            Said(
                "một giá trị hay định dạng lạc xa vùng dữ liệu làm trang tính lớn như vậy: trong Excel nhấn "
                "Ctrl+End để tìm ô cuối, xóa các dòng và cột sau vùng dữ liệu, lưu rồi nạp lại; hoặc lưu trang "
                "tính dạng 'CSV UTF-8'",
                "a stray value or format far from the data makes the sheet that large: in Excel press Ctrl+End to "
                "find the last cell, delete the rows and columns after the data, save and load again; or save the "
                "sheet as 'CSV UTF-8'",
            ),
        )


_FORMULA_CELL = re.compile(
    rb'<(?:x:)?c\b([^>]*?)\br="([A-Z]{1,3})([0-9]{1,7})"([^>]*?)(?:/>|>(.*?)</(?:x:)?c>)', re.S
)
_SAVED_VALUE = re.compile(rb"<(?:x:)?v>[^<]")
_ANY_FORMULA = re.compile(rb"<(?:x:)?f[ />]")


def uncalculated_formulas(path: Path, sheet: str | None) -> tuple[tuple[int, int], ...]:
    """Cells of the sheet that hold a formula without the value Excel saves with it (a workbook written by a
    program that does not calculate, such as openpyxl): (row as in Excel, 0-based column). Such a cell
    reads as empty, which would silently be a default (0, no) in an optional column. Sheets larger than
    `_FULL_SCAN_BYTES` are not scanned."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return ()
    with zf:
        parts = _sheet_parts(zf)
        part = parts.get((sheet if sheet is not None else next(iter(parts), None)) or "")
        if part is None or part not in zf.NameToInfo or zf.getinfo(part).file_size > _FULL_SCAN_BYTES:
            return ()
        data = zf.read(part)
    found = []
    for m in _ANY_FORMULA.finditer(data):  # only the cells that hold a formula are looked at
        open_at = max(data.rfind(b"<c ", 0, m.start()), data.rfind(b"<x:c ", 0, m.start()))
        ends = [i for i in (data.find(b"</c>", m.end()), data.find(b"</x:c>", m.end())) if i >= 0]
        close_at = min(ends, default=len(data))
        cell = _FORMULA_CELL.match(data, open_at) if open_at >= 0 else None
        if cell is None:
            continue
        tag = cell.group(1) + cell.group(4)
        inner = data[m.start() : close_at]
        is_text = b't="str"' in tag  # a formula whose saved result is the empty text
        if not _SAVED_VALUE.search(inner) and not (is_text and b"<v></v>" in inner):
            found.append((int(cell.group(3)), _col_number(cell.group(2)) - 1))
    return tuple(found)


def _column_name(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters or "A"


def sheets_with_headers(path: Path, known_headers: set[str], skip: str | None) -> list[str]:
    """The other sheets of a workbook whose first rows hold headers the mapping knows (best first)."""
    try:
        names = fastexcel.read_excel(path).sheet_names
    except Exception:  # fastexcel raises its own error types
        return []
    scored = []
    for name in names:
        if name == skip:
            continue
        try:
            rows = _xlsx_preview(path, name)
        except IngestError:
            continue
        best = max((sum(1 for c in row if c and normalise(c) in known_headers) for row in rows), default=0)
        if best:
            scored.append((best, name))
    return [name for _, name in sorted(scored, key=lambda t: -t[0])]


def _sheet(path: Path, sheet: str | None) -> tuple[fastexcel.ExcelReader, str | int]:
    check_xlsx_bounds(path, sheet)
    try:
        workbook = fastexcel.read_excel(path)
    except Exception as exc:  # fastexcel raises its own error types
        why = str(exc).splitlines()[0]
        raise IngestError(
            Said(f"{path}: không mở được bảng tính: {why}", f"{path}: cannot open the workbook: {why}"),
            Said(
                "kiểm tra tệp mở được trong Excel; lưu lại dạng .xlsx",
                "check that the file opens in Excel; save it again as .xlsx",
            ),
        ) from None
    if sheet is not None and sheet not in workbook.sheet_names:
        raise UnknownNameError.from_choices(
            Said(f"trang tính trong {path.name}", f"sheet in {path.name}"), sheet, workbook.sheet_names
        )
    return workbook, sheet if sheet is not None else 0


def _xlsx_preview(path: Path, sheet: str | None) -> list[list[str | None]]:
    workbook, which = _sheet(path, sheet)
    table = workbook.load_sheet(which, header_row=None, skip_rows=0, n_rows=PREVIEW_ROWS, dtypes="string")
    return [list(r.values()) for r in table.to_arrow().to_pylist()]


def _xlsx_read(path: Path, header_row: int, sheet: str | None, progress: Progress) -> Source:
    rows = _xlsx_preview(path, sheet)
    headers = _header_texts(rows[header_row - 1] if len(rows) >= header_row else [])
    if not headers:
        raise IngestError(
            Said(
                f"{path}: dòng {header_row} của trang tính không có tiêu đề cột",
                f"{path}: row {header_row} of the sheet holds no column headers",
            ),
            Said(
                "dòng tiêu đề phải nằm ở những dòng đầu của trang tính đầu tiên (hoặc đặt `sheet`/`header_row` "
                "trong ánh xạ cột)",
                "the header must be in the first rows of the first sheet (or set `sheet`/`header_row` in the "
                "mapping)",
            ),
        )
    progress(0, None)
    workbook, which = _sheet(path, sheet)
    table = workbook.load_sheet(which, header_row=None, skip_rows=header_row, dtypes="string")
    frame = pl.DataFrame(table.to_arrow())
    width = len(headers)
    if frame.width < width:  # trailing header columns without any data
        frame = frame.with_columns(
            pl.lit(None, dtype=pl.String).alias(f"__pad{i}") for i in range(width - frame.width)
        )
    headers += [f"column {i + 1}" for i in range(width, frame.width)]  # cells right of the header
    names, frame = _frame(headers, frame.select(pl.all().cast(pl.String)), header_row + 1)
    odd, control = _scan_frame(frame, [c for c in frame.columns if c != "__row"])
    progress(1, 1)
    return Source(
        path,
        "xlsx",
        names,
        frame,
        header_row,
        sheet=sheet or workbook.sheet_names[0],
        odd_spaces=odd,
        control_chars=control,
        uncalculated=uncalculated_formulas(path, sheet),
    )


register_reader("xlsx", Reader(_xlsx_preview, _xlsx_read))


# --- Parquet ---------------------------------------------------------------------------------------------


def _parquet_scan(path: Path) -> pl.LazyFrame:
    return pl.scan_parquet(path)


def _parquet_preview(path: Path, sheet: str | None) -> list[list[str | None]]:
    try:
        return [list(_parquet_scan(path).collect_schema().names())]
    except pl.exceptions.PolarsError as exc:
        raise IngestError(
            Said(
                f"{path}: không phải tệp Parquet đọc được: {exc}",
                f"{path}: not a readable Parquet file: {exc}",
            ),
            Said("xuất lại tệp", "export the file again"),
        ) from None


def _parquet_read(path: Path, header_row: int, sheet: str | None, progress: Progress) -> Source:
    headers = [str(h) for h in _parquet_preview(path, sheet)[0]]
    try:
        total = pl.scan_parquet(path).select(pl.len()).collect().item()
        scan = _parquet_scan(path).select(pl.all().cast(pl.String))
        frame = _collect(scan, dict.fromkeys(headers, pl.String), lambda rows: progress(rows, total))
    except pl.exceptions.PolarsError as exc:
        why = str(exc).splitlines()[0]
        raise IngestError(
            Said(
                f"{path}: không đọc được các cột Parquet thành văn bản: {why}",
                f"{path}: cannot read the Parquet columns as text: {why}",
            ),
            Said(
                "xuất các cột phẳng (văn bản, số, ngày, đúng/sai); danh sách hay cấu trúc lồng nhau không ánh xạ "
                "được",
                "export flat columns (text, numbers, dates, booleans); nested lists or structs cannot be mapped",
            ),
        ) from None
    names, frame = _frame(headers, frame, 2)
    odd, control = _scan_frame(frame, [c for c in frame.columns if c != "__row"])
    return Source(path, "parquet", names, frame, 1, odd_spaces=odd, control_chars=control)


register_reader("parquet", Reader(_parquet_preview, _parquet_read))
