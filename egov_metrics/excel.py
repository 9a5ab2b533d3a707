"""Excel for leaders: a formatted workbook from a `compute()` frame, in Vietnamese (default) or English.

    from egov_metrics import compute, write_excel
    frame = compute(["online_share", "dossiers_on_time"], by=["unit"], level="department", grain="quarter",
                    start="2026-Q1", end="2026-Q2", names=True)
    write_excel(frame, "bang_so_lieu.xlsx")                  # one row per indicator, unit and period
    write_excel(frame, "bang_ngang.xlsx", layout="wide")     # units down, periods across, one block per indicator

The workbook (openpyxl):
- a data sheet ("Số liệu" / "Data") with headers in the language, bold on a dark fill, frozen, with a filter;
- numbers stay numbers: percentages as Excel percentages (96.06 % is the number 0.9606 shown `0.00%`),
  counts with a thousands separator, working days with one decimal, changes in percentage points signed;
  Excel shows the separators of the reader's locale (1.234,5 in a Vietnamese Excel): the format codes are
  locale-neutral, which is how Excel stores every number format;
- dates as dates (dd/mm/yyyy), not text; columns sized to their content;
- a definitions sheet ("Định nghĩa" / "Definitions"): each indicator's name, description, unit, which way is
  better, legal source and provisional note, and how the file was made;
- every text cell that a spreadsheet would read as a formula (starting with =, +, -, @, tab or CR) is
  neutralised with a leading apostrophe (`neutralise_formula`);
- written to a temporary file and renamed: a failed export never leaves a half-written file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from egov_metrics.catalog import Catalog, load_catalog
from egov_metrics.errors import EgovError, UnknownNameError
from egov_metrics.i18n import check_lang, fmt_period

Layout = Literal["long", "wide"]
LAYOUTS = ("long", "wide")

#: Characters that make a spreadsheet treat a text cell as a formula (OWASP "CSV injection").

HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=13)
DATE_FORMAT = "dd/mm/yyyy"
MAX_WIDTH = 60

#: Every text the workbook shows, per language.
TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "data": "Số liệu",
        "definitions": "Định nghĩa",
        "indicator_id": "Mã chỉ tiêu",
        "indicator": "Chỉ tiêu",
        "period": "Kỳ",
        "period_start": "Từ ngày",
        "period_end": "Đến ngày",
        "numerator": "Tử số",
        "denominator": "Mẫu số",
        "value": "Giá trị",
        "unit": "Đơn vị tính",
        "previous_value": "Kỳ trước",
        "year_ago_value": "Cùng kỳ năm trước",
        "change_previous": "Thay đổi so với kỳ trước",
        "change_year_ago": "Thay đổi so với cùng kỳ",
        "unit_name": "Đơn vị",
        "unit_id": "Mã đơn vị",
        "unit_level": "Cấp",
        "description": "Mô tả",
        "direction": "Tốt hơn khi",
        "legal_source": "Căn cứ, nguồn",
        "provisional": "Tạm tính",
        "note": "Ghi chú",
        "higher": "cao hơn",
        "lower": "thấp hơn",
        "yes": "có",
        "made": "Lập bằng egov-metrics ngày",
        "ratio_rule": "Tỷ lệ được tính gộp (tổng tử số ÷ tổng mẫu số) ở mọi cấp.",
        "percent": "%",
        "working_days": "ngày làm việc",
        "count": "số lượng",
        "ratio": "tỷ số",
        "points": "điểm %",
        "field": "Lĩnh vực",
        "procedure": "Thủ tục",
        "channel": "Hình thức nộp",
        "applicant_type": "Đối tượng",
        "online_level": "Mức độ trực tuyến",
        "platform": "Nền tảng",
        "system": "Hệ thống",
        "layer": "Tầng kiến trúc",
        "phase": "Giai đoạn",
    },
    "en": {
        "data": "Data",
        "definitions": "Definitions",
        "indicator_id": "Indicator id",
        "indicator": "Indicator",
        "period": "Period",
        "period_start": "From",
        "period_end": "To",
        "numerator": "Numerator",
        "denominator": "Denominator",
        "value": "Value",
        "unit": "Unit of measure",
        "previous_value": "Previous period",
        "year_ago_value": "A year earlier",
        "change_previous": "Change on previous period",
        "change_year_ago": "Change on a year earlier",
        "unit_name": "Unit",
        "unit_id": "Unit id",
        "unit_level": "Level",
        "description": "Description",
        "direction": "Better when",
        "legal_source": "Legal basis, source",
        "provisional": "Provisional",
        "note": "Note",
        "higher": "higher",
        "lower": "lower",
        "yes": "yes",
        "made": "Made with egov-metrics on",
        "ratio_rule": "Ratios are pooled (sum of numerators ÷ sum of denominators) at every level.",
        "percent": "%",
        "working_days": "working days",
        "count": "count",
        "ratio": "ratio",
        "points": "pp",
        "field": "Field",
        "procedure": "Procedure",
        "channel": "Channel",
        "applicant_type": "Applicant",
        "online_level": "Online level",
        "platform": "Platform",
        "system": "System",
        "layer": "Architecture layer",
        "phase": "Phase",
    },
}

#: Dimension columns compute() may return, in the order they are shown.
DIMENSIONS = ("unit", "field", "procedure", "channel", "applicant_type", "online_level", "platform", "system",
              "layer", "phase")  # fmt: skip
_VALUE_COLUMNS = ("value", "previous_value", "year_ago_value")
_CHANGE_COLUMNS = ("change_previous", "change_year_ago")


class ExcelError(EgovError):
    """A frame that cannot be written as a leaders' workbook."""


def neutralise_formula(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula gets a leading apostrophe; other values unchanged
    (the project's one rule: `egov_metrics.export.safe_text_cell`)."""
    from egov_metrics.export import safe_text_cell

    return safe_text_cell(value) if isinstance(value, str) else value


def value_format(unit: str, decimals: int) -> str:
    """Excel number format of a value in `unit` (percent values are written as fractions)."""
    places = "." + "0" * decimals if decimals > 0 else ""
    if unit == "percent":
        return f"0{places}%"
    if unit == "count" and decimals == 0:
        return "#,##0"
    return f"#,##0{places}"


def change_format(unit: str, decimals: int, lang: str) -> str:
    """Signed change: percentage points for percentages, the unit's own format otherwise."""
    places = "." + "0" * decimals if decimals > 0 else ""
    if unit == "percent":
        suffix = f' "{TEXT[lang]["points"]}"'
        return f"+0{places}{suffix};-0{places}{suffix};0{places}{suffix}"
    return f"+#,##0{places};-#,##0{places};0{places}"


def _cell_value(value: float | None, unit: str, decimals: int) -> float | None:
    """The number a cell holds: rounded to the indicator's decimals as shown (96.06 %, not 96.0629921…),
    percentages as fractions (0.9606) so that Excel's % format and arithmetic work."""
    if value is None:
        return None
    rounded = round(float(value), decimals)
    return round(rounded / 100, decimals + 2) if unit == "percent" else rounded


def _dimension_columns(frame: pl.DataFrame) -> list[tuple[str, str]]:
    """(shown column, header key) for each dimension of the frame: names where the frame has them."""
    out = []
    for dim in DIMENSIONS:
        key = "unit_id" if dim == "unit" else dim
        if key not in frame.columns:
            continue
        name = "unit_name" if dim == "unit" else f"{dim}_name"
        header = "unit_name" if dim == "unit" else dim
        out.append((name if name in frame.columns else key, header))
    return out


def _code_column(header: str) -> str:
    """The code column of a dimension shown under `header` (see `_dimension_columns`)."""
    return "unit_id" if header == "unit_name" else header


def _indicator_names(frame: pl.DataFrame, catalog: Catalog, lang: str) -> pl.DataFrame:
    if "indicator_name" in frame.columns:
        return frame
    names = {i: catalog.get(i).name_in(lang) for i in frame["indicator"].unique().to_list() if i in catalog}
    return frame.with_columns(
        pl.col("indicator").replace_strict(names, default=pl.col("indicator")).alias("indicator_name")
    )


def _style_header(ws: Worksheet, row: int, ncols: int) -> None:
    for col in range(1, ncols + 1):
        cell = ws.cell(row=row, column=col)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def _fit_widths(ws: Worksheet, minimum: int = 8) -> None:
    widths: dict[int, int] = {}
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is None:
                continue
            if isinstance(cell.value, dt.date):
                length = 10
            elif isinstance(cell.value, float | int):
                length = 12
            else:
                length = max(len(line) for line in str(cell.value).splitlines() or [""])
            widths[cell.column] = max(widths.get(cell.column, minimum), min(length + 2, MAX_WIDTH))
    for column, width in widths.items():
        ws.column_dimensions[get_column_letter(column)].width = width


def _put(ws: Worksheet, row: int, column: int, value: Any, number_format: str | None = None) -> None:
    cell = ws.cell(row=row, column=column, value=neutralise_formula(value))
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text
    if number_format and isinstance(value, int | float):
        cell.number_format = number_format
    elif isinstance(value, dt.date):
        cell.number_format = DATE_FORMAT


def _long_sheet(ws: Worksheet, frame: pl.DataFrame, meta: dict[str, tuple[str, int]], lang: str) -> None:
    t = TEXT[lang]
    columns: list[tuple[str, str]] = [("indicator_name", "indicator"), ("period", "period")]
    columns += [(c, c) for c in ("period_start", "period_end") if c in frame.columns]
    columns += _dimension_columns(frame)
    columns += [(c, c) for c in ("numerator", "denominator", *_VALUE_COLUMNS[:1]) if c in frame.columns]
    columns.append(("_unit_label", "unit"))
    columns += [(c, c) for c in (*_VALUE_COLUMNS[1:], *_CHANGE_COLUMNS) if c in frame.columns]
    columns.append(("indicator", "indicator_id"))
    for col, (_, header) in enumerate(columns, start=1):
        ws.cell(row=1, column=col, value=t[header])
    _style_header(ws, 1, len(columns))
    for r, row in enumerate(frame.iter_rows(named=True), start=2):
        unit, decimals = meta[row["indicator"]]
        for c, (name, _) in enumerate(columns, start=1):
            if name == "_unit_label":
                _put(ws, r, c, t.get(unit, unit))
                continue
            value = row.get(name)
            if name == "period":
                value = fmt_period(str(value), lang)
            fmt = None
            if name in _VALUE_COLUMNS and value is not None:
                value, fmt = _cell_value(value, unit, decimals), value_format(unit, decimals)
            elif name in _CHANGE_COLUMNS and value is not None:
                value, fmt = round(float(value), decimals), change_format(unit, decimals, lang)
            elif name in ("numerator", "denominator"):
                fmt = "#,##0" if value is None or float(value).is_integer() else "#,##0.00"
            _put(ws, r, c, value, fmt)
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = ws.dimensions


def _wide_sheet(ws: Worksheet, frame: pl.DataFrame, meta: dict[str, tuple[str, int]], lang: str) -> None:
    """Indicator and dimensions down, periods across (in time order), values in the cells."""
    t = TEXT[lang]
    dims = _dimension_columns(frame)
    # in time order: year-to-date periods all start on 1 January, their ends tell them apart
    order = [c for c in ("period_start", "period_end") if c in frame.columns]
    periods = frame.select("period", *order).unique().sort([*order, "period"])["period"].to_list()
    # rows are keyed by the codes too: two units (or procedures) of the same name, such as a department
    # before and after its 2025 merger, are two rows, not one row holding the first one's values
    codes = {shown: _code_column(header) for shown, header in dims}
    code_keys = [c for shown, c in codes.items() if c != shown and c in frame.columns]
    keys = ["indicator", "indicator_name", *[c for c, _ in dims], *code_keys]
    table = frame.pivot(on="period", index=keys, values="value", aggregate_function="first")
    for shown, code in codes.items():
        if code == shown or code not in table.columns:
            continue
        shared = table.select(shown, code).unique().filter(pl.col(shown).is_duplicated())[shown]
        table = table.with_columns(
            pl.when(pl.col(shown).is_in(shared.implode()))
            .then(pl.format("{} ({})", pl.col(shown), pl.col(code)))
            .otherwise(pl.col(shown))
            .alias(shown)
        )
    heads = [t["indicator"], *[t[h] for _, h in dims], t["unit"], *[fmt_period(p, lang) for p in periods]]
    for col, head in enumerate(heads, start=1):
        ws.cell(row=1, column=col, value=head)
    _style_header(ws, 1, len(heads))
    first_value = 3 + len(dims)
    for r, row in enumerate(table.iter_rows(named=True), start=2):
        unit, decimals = meta[row["indicator"]]
        _put(ws, r, 1, row["indicator_name"])
        for c, (name, _) in enumerate(dims, start=2):
            _put(ws, r, c, row[name])
        _put(ws, r, first_value - 1, t.get(unit, unit))
        for c, period in enumerate(periods, start=first_value):
            value = row.get(period)
            _put(ws, r, c, _cell_value(value, unit, decimals), value_format(unit, decimals))
    ws.freeze_panes = ws.cell(row=2, column=first_value).coordinate
    ws.auto_filter.ref = ws.dimensions


def _definitions_sheet(ws: Worksheet, ids: Sequence[str], catalog: Catalog, lang: str) -> None:
    t = TEXT[lang]
    heads = (
        "indicator_id",
        "indicator",
        "description",
        "unit",
        "direction",
        "legal_source",
        "provisional",
        "note",
    )
    for col, head in enumerate(heads, start=1):
        ws.cell(row=1, column=col, value=t[head])
    _style_header(ws, 1, len(heads))
    r = 1
    for r, ind in enumerate((catalog.get(i) for i in ids if i in catalog), start=2):
        desc = ind.description.vi if lang == "vi" else ind.description.en
        values = (ind.id, ind.name_in(lang), desc, t.get(ind.unit, ind.unit), t[ind.direction], ind.legal_source_in(lang),
                  t["yes"] if ind.provisional else "", ind.provisional_note_in(lang) or "")  # fmt: skip
        for c, value in enumerate(values, start=1):
            _put(ws, r, c, value)
            ws.cell(row=r, column=c).alignment = Alignment(wrap_text=True, vertical="top")
    _put(ws, r + 2, 1, t["ratio_rule"])
    _put(ws, r + 3, 1, f"{t['made']} {dt.date.today():%d/%m/%Y}")
    ws.freeze_panes = "B2"
    _fit_widths(ws)
    for letter in ("C", "F", "H"):
        ws.column_dimensions[letter].width = MAX_WIDTH


def build_workbook(
    frame: pl.DataFrame | Any,
    *,
    lang: str = "vi",
    layout: str = "long",
    catalog: Catalog | None = None,
) -> Workbook:
    """The leaders' workbook of a `compute()` frame (polars or pandas), not yet saved."""
    check_lang(lang)
    if layout not in LAYOUTS:
        raise UnknownNameError.from_choices("Excel layout", layout, LAYOUTS)
    frame = frame if isinstance(frame, pl.DataFrame) else pl.from_pandas(frame)
    missing = [c for c in ("indicator", "period", "value") if c not in frame.columns]
    if missing:
        raise ExcelError(
            f"the frame has no column(s) {', '.join(missing)}",
            "pass a frame from egov_metrics.compute(...) (it has indicator, period, value, …)",
        )
    catalog = catalog or load_catalog()
    frame = frame.with_columns(pl.col(pl.Decimal).cast(pl.Float64))
    if "unit" not in frame.columns or "decimals" not in frame.columns:
        frame = frame.join(
            pl.DataFrame(
                [{"indicator": i.id, "unit": i.unit, "decimals": i.decimals} for i in catalog],
                schema={"indicator": pl.String, "unit": pl.String, "decimals": pl.Int32},
            ),
            on="indicator",
            how="left",
        )
    frame = _indicator_names(frame, catalog, lang)
    meta = {
        r["indicator"]: (str(r["unit"] or "count"), int(r["decimals"] if r["decimals"] is not None else 2))
        for r in frame.select("indicator", "unit", "decimals")
        .unique(maintain_order=True)
        .iter_rows(named=True)
    }
    if "period_start" not in frame.columns:
        frame = frame.with_columns(pl.col("period").alias("period_start"))
    book = Workbook()
    data = book.active
    data.title = TEXT[lang]["data"]
    (_wide_sheet if layout == "wide" else _long_sheet)(data, frame, meta, lang)
    _fit_widths(data)
    _definitions_sheet(book.create_sheet(TEXT[lang]["definitions"]), list(meta), catalog, lang)
    return book


def write_excel(
    frame: pl.DataFrame | Any,
    path: str | Path,
    *,
    lang: str = "vi",
    layout: str = "long",
    catalog: Catalog | None = None,
) -> Path:
    """Write a `compute()` frame as a formatted workbook for leaders (see the module docstring); atomic.

    `layout="long"`: one row per indicator, dimension values and period, with numerator, denominator, value,
    the previous and year-earlier values and the changes. `layout="wide"`: one row per indicator and
    dimension values (e.g. unit), one column per period. Headers in `lang` (vi or en); names are taken from
    the frame when it has them (`compute(..., names=True)`), else from the catalog (indicators) and the codes.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ExcelError(f"{path} is not an .xlsx file", "name the file …/something.xlsx")
    book = build_workbook(frame, lang=lang, layout=layout, catalog=catalog)
    from egov_metrics.export import atomic_write

    return atomic_write(path, book.save)
