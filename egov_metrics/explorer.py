"""The indicator explorer: one call in a notebook gives pickers, an interactive chart, the tidy table, the
definition, the SQL and an export to Excel; offline, in JupyterLab.

    from egov_metrics.explorer import explore
    explore()                         # or explore(db="data/egov.duckdb", lang="en")

Pickers: indicators (several), dimension (none, unit level, field, procedure, channel, applicant type, online
level), grain (month, quarter, year, year to date), period range (a month 2025-01, a quarter 2025-Q1, a year
2025 or a day) and unit scope (the province, or a department or district and everything below it). Any change
recomputes; an unusable choice shows its error (with the hint) instead of the chart.

The work is done by `view(Selection, db)`, which returns the frame, chart, table, definition and SQL as plain
objects (tested without a browser); `Explorer` only wires widgets (ipywidgets) to it. The chart is
`interactive()`'s offline JupyterChart: tooltips, zoom and pan on time, click-to-highlight legend, and its
selections readable in Python (`explorer.chart_widget.selections`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl

from egov_metrics.catalog import load_catalog
from egov_metrics.charts import MAX_SERIES, chart_bar, chart_trend
from egov_metrics.engine import compute, explain
from egov_metrics.errors import EgovError
from egov_metrics.i18n import check_lang, fmt_number, fmt_period, fmt_value
from egov_metrics.present import definitions
from egov_metrics.vocab import SPLIT_LEVELS, UNIT_LEVELS

#: Every text the explorer shows, per language.
TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "indicators": "Chỉ tiêu",
        "dimension": "Chia theo",
        "grain": "Kỳ",
        "start": "Từ",
        "end": "Đến",
        "scope": "Phạm vi",
        "province": "Toàn tỉnh",
        "none": "(không chia)",
        **{f"unit:{level}": UNIT_LEVELS[level].name("vi") for level in SPLIT_LEVELS},
        "field": "Lĩnh vực",
        "procedure": "Thủ tục",
        "channel": "Hình thức nộp",
        "applicant_type": "Đối tượng",
        "online_level": "Mức độ trực tuyến",
        "month": "Tháng",
        "quarter": "Quý",
        "year": "Năm",
        "ytd": "Lũy kế từ đầu năm",
        "chart": "Biểu đồ",
        "table": "Bảng số liệu",
        "definition": "Định nghĩa",
        "sql": "SQL",
        "export": "Xuất Excel",
        "file": "Tệp",
        "written": "Đã ghi",
        "rows": "dòng",
        "period": "Kỳ",
        "series": "Nhóm",
        "indicator": "Chỉ tiêu",
        "numerator": "Tử số",
        "denominator": "Mẫu số",
        "value": "Giá trị",
        "error": "Lỗi",
        "top": "Biểu đồ chỉ vẽ {n} nhóm lớn nhất (theo mẫu số); bảng có tất cả.",
        "no_data": "Không có số liệu cho lựa chọn này.",
        "mixed": "Biểu đồ chỉ vẽ các chỉ tiêu cùng đơn vị với chỉ tiêu đầu tiên.",
    },
    "en": {
        "indicators": "Indicators",
        "dimension": "Split by",
        "grain": "Grain",
        "start": "From",
        "end": "To",
        "scope": "Scope",
        "province": "Whole province",
        "none": "(no split)",
        **{f"unit:{level}": UNIT_LEVELS[level].plural("en") for level in SPLIT_LEVELS},
        "field": "Field",
        "procedure": "Procedure",
        "channel": "Channel",
        "applicant_type": "Applicant type",
        "online_level": "Online level",
        "month": "Month",
        "quarter": "Quarter",
        "year": "Year",
        "ytd": "Year to date",
        "chart": "Chart",
        "table": "Table",
        "definition": "Definition",
        "sql": "SQL",
        "export": "Export to Excel",
        "file": "File",
        "written": "Written",
        "rows": "rows",
        "period": "Period",
        "series": "Group",
        "indicator": "Indicator",
        "numerator": "Numerator",
        "denominator": "Denominator",
        "value": "Value",
        "error": "Error",
        "top": "The chart shows the {n} largest groups (by denominator); the table has them all.",
        "no_data": "No data for this choice.",
        "mixed": "The chart shows only the indicators with the first one's unit.",
    },
}
DIMENSIONS = ("none", "unit:department", "unit:district", "unit:commune", "field", "procedure", "channel",
              "applicant_type", "online_level")  # fmt: skip
GRAINS = ("month", "quarter", "year", "ytd")


@dataclass(frozen=True)
class Selection:
    """What the pickers say. `dimension` is one of DIMENSIONS; `scope` a unit id, code or name, or None."""

    indicators: tuple[str, ...] = ("online_share",)
    dimension: str = "none"
    grain: str = "month"
    start: str | None = None
    end: str | None = None
    scope: str | None = None
    lang: str = "vi"

    def compute_args(self) -> dict[str, Any]:
        by: list[str] = []
        level = None
        if self.dimension.startswith("unit:"):
            by, level = ["unit"], self.dimension.split(":", 1)[1]
        elif self.dimension != "none":
            by = [self.dimension]
        return {
            "by": by,
            "level": level,
            "grain": self.grain,
            "start": self.start or None,
            "end": self.end or None,
            "unit": self.scope or None,
            "lang": self.lang,
        }


@dataclass(frozen=True)
class View:
    """Everything the explorer shows for one selection."""

    selection: Selection
    frame: pl.DataFrame
    chart: alt.TopLevelMixin | None
    table_html: str
    definition_html: str
    sql: str
    notes: tuple[str, ...] = field(default=())


def _series_column(selection: Selection) -> str | None:
    args = selection.compute_args()
    if args["by"]:
        return "unit" if args["by"] == ["unit"] else args["by"][0]
    return "indicator" if len(selection.indicators) > 1 else None


def _table_html(frame: pl.DataFrame, selection: Selection, max_rows: int = 300) -> str:
    t = TEXT[selection.lang]
    lang = selection.lang
    series = _series_column(selection)
    name_col = (
        {"unit": "unit_name", "indicator": None}.get(series or "", f"{series}_name") if series else None
    )
    head = [t["indicator"], t["period"]]
    if name_col:
        head.append(t["series"])
    head += [t["numerator"], t["denominator"], t["value"]]
    rows = []
    for r in frame.head(max_rows).iter_rows(named=True):
        cells = [
            html.escape(str(r.get("indicator_name") or r["indicator"])),
            html.escape(fmt_period(r["period"], lang)),
        ]
        if name_col:
            cells.append(html.escape(str(r.get(name_col) or "")))
        cells += [
            f'<span class="num">{fmt_number(r["numerator"], 0 if r["numerator"] is None or float(r["numerator"]).is_integer() else 2, lang)}</span>',
            f'<span class="num">{fmt_number(r["denominator"], 0 if r["denominator"] is None or float(r["denominator"]).is_integer() else 2, lang)}</span>',
            f'<span class="num">{fmt_value(r["value"], r["unit"], r["decimals"], lang)}</span>',
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    more = f"<p>… {frame.height - max_rows} {t['rows']}</p>" if frame.height > max_rows else ""
    return (
        '<table class="egov-explorer-table"><thead><tr>'
        + "".join(f"<th>{html.escape(h)}</th>" for h in head)
        + f"</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"
    )


def _chart(frame: pl.DataFrame, selection: Selection) -> tuple[alt.TopLevelMixin | None, list[str]]:
    t = TEXT[selection.lang]
    notes: list[str] = []
    if frame.is_empty():
        return None, [t["no_data"]]
    first_unit = str(frame["unit"][0])
    chosen = frame.filter(pl.col("unit") == first_unit)
    if chosen["indicator"].n_unique() < frame["indicator"].n_unique():
        notes.append(t["mixed"])
    series = _series_column(selection)
    if series and series != "indicator" and chosen["indicator"].n_unique() > 1:
        chosen = chosen.filter(pl.col("indicator") == chosen["indicator"][0])
    key = "unit_id" if series == "unit" else series
    if key and chosen[key].n_unique() > MAX_SERIES:
        top = (
            chosen.group_by(key)
            .agg(pl.col("denominator").fill_null(pl.col("numerator")).sum().alias("_size"))
            .sort("_size", descending=True)
            .head(MAX_SERIES)[key]
        )
        chosen = chosen.filter(pl.col(key).is_in(top.implode()))
        notes.append(t["top"].format(n=MAX_SERIES))
    title = str(chosen["indicator_name"][0]) if series != "indicator" else ""
    if chosen["period"].n_unique() == 1 and series:
        return chart_bar(chosen, category=series, title=title, unit=first_unit, lang=selection.lang), notes
    return chart_trend(chosen, color=series, title=title, unit=first_unit, lang=selection.lang), notes


def view(selection: Selection, db: Any = None) -> View:
    """Compute and lay out one selection (no widgets): frame (with names), chart, table, definition, SQL."""
    check_lang(selection.lang)
    args = selection.compute_args()
    ids = list(selection.indicators)
    frame = compute(ids, db=db, names=True, compare=False, **args)
    query = explain(ids, db=db, names=True, compare=False, **args)
    chart, notes = _chart(frame, selection)
    return View(
        selection=selection,
        frame=frame,
        chart=chart,
        table_html=_table_html(frame, selection),
        definition_html=definitions(ids, selection.lang).text,
        sql=str(query),
        notes=tuple(notes),
    )


def unit_choices(db: Any = None, lang: str = "vi") -> list[tuple[str, str]]:
    """(label, unit id) for the scope picker: the province, then today's departments and districts."""
    from egov_metrics.schema import connect

    con = db if hasattr(db, "sql") else connect(db, read_only=True)
    try:
        rows = con.sql(
            "SELECT id, name_vi, name_en, level FROM org_unit WHERE valid_to IS NULL "
            "AND level IN ('department', 'district') ORDER BY level, name_vi"
        ).fetchall()
    finally:
        if con is not db:
            con.close()
    return [(TEXT[lang]["province"], "")] + [(r[1] if lang == "vi" else r[2], r[0]) for r in rows]


def dimension_choices(db: Any = None) -> tuple[str, ...]:
    """The splits the dimension picker offers: DIMENSIONS, less a level of units that no unit of today has
    (the explorer reads today's units: after the 2025 reorganisation the districts' work is the province's,
    and a split by district would always be empty)."""
    from egov_metrics.schema import connect

    con = db if hasattr(db, "sql") else connect(db, read_only=True)
    try:
        levels = {
            r[0] for r in con.sql("SELECT DISTINCT level FROM org_unit WHERE valid_to IS NULL").fetchall()
        }
    finally:
        if con is not db:
            con.close()
    return tuple(d for d in DIMENSIONS if not d.startswith("unit:") or d.split(":", 1)[1] in levels)


class Explorer:
    """The widgets of `explore()`; `refresh()` recomputes, `export(path)` writes the current frame to Excel."""

    def __init__(self, db: Any = None, *, lang: str = "vi", selection: Selection | None = None) -> None:
        import ipywidgets as w

        self.db = db
        self.lang = check_lang(lang)
        t = TEXT[lang]
        catalog = load_catalog()
        dimensions, units = dimension_choices(db), unit_choices(db, lang)
        sel = _checked(db, selection or Selection(lang=lang), dimensions, {u for _, u in units if u})
        self.current: View | None = None
        layout = w.Layout(width="auto")
        self.indicators = w.SelectMultiple(
            options=[(i.name_in(lang), i.id) for i in catalog], value=sel.indicators, rows=6,
            description=t["indicators"], layout=w.Layout(width="60%"),
        )  # fmt: skip
        self.dimension = w.Dropdown(options=[(t[d], d) for d in dimensions], value=sel.dimension,
                                    description=t["dimension"], layout=layout)  # fmt: skip
        self.grain = w.Dropdown(options=[(t[g], g) for g in GRAINS], value=sel.grain, description=t["grain"],
                                layout=layout)  # fmt: skip
        self.start = w.Text(value=sel.start or "", placeholder="2025-01 · 2025-Q1 · 2025", description=t["start"],
                            continuous_update=False, layout=layout)  # fmt: skip
        self.end = w.Text(value=sel.end or "", placeholder="2026-06 · 2026-Q2 · 2026", description=t["end"],
                          continuous_update=False, layout=layout)  # fmt: skip
        self.scope = w.Dropdown(options=units, value=sel.scope or "", description=t["scope"],
                                layout=layout)  # fmt: skip
        self.file = w.Text(value="egov_explorer.xlsx", description=t["file"], layout=layout)
        self.export_button = w.Button(description=t["export"], icon="download")
        self.status = w.HTML()
        self.chart_box = w.Box()
        self.table = w.HTML()
        self.definition = w.HTML()
        self.sql = w.HTML()
        self.chart_widget: alt.JupyterChart | None = None
        tabs = w.Tab(children=[self.table, self.definition, self.sql])
        for n, key in enumerate(("table", "definition", "sql")):
            tabs.set_title(n, t[key])
        pickers = w.HBox([self.indicators, w.VBox([self.dimension, self.grain, self.scope]),
                          w.VBox([self.start, self.end, w.HBox([self.file, self.export_button])])])  # fmt: skip
        self.widget = w.VBox([pickers, self.status, self.chart_box, tabs])
        self.widget.add_class("egov-explorer")
        for picker in (self.indicators, self.dimension, self.grain, self.start, self.end, self.scope):
            picker.observe(lambda _change: self.refresh(), names="value")
        self.export_button.on_click(lambda _button: self.export(self.file.value))
        self.refresh()

    def selection(self) -> Selection:
        return Selection(
            indicators=tuple(self.indicators.value) or ("online_share",),
            dimension=self.dimension.value,
            grain=self.grain.value,
            start=self.start.value.strip() or None,
            end=self.end.value.strip() or None,
            scope=self.scope.value or None,
            lang=self.lang,
        )

    def refresh(self) -> View | None:
        """Recompute for the pickers' values; show the error (message and hint) instead when there is one."""
        from egov_metrics.interactive import interactive

        t = TEXT[self.lang]
        try:
            current = view(self.selection(), self.db)
        except EgovError as exc:
            self.status.value = f'<div class="egov-error"><b>{t["error"]}:</b> {html.escape(str(exc))}</div>'
            return None
        self.current = current
        notes = "".join(f"<p>{html.escape(n)}</p>" for n in current.notes)
        self.status.value = f'<div class="egov-status">{current.frame.height:,} {t["rows"]}</div>{notes}'
        if current.chart is not None:
            self.chart_widget = interactive(current.chart, lang=self.lang)
            self.chart_box.children = (self.chart_widget,)
        else:
            self.chart_widget = None
            self.chart_box.children = ()
        self.table.value = current.table_html
        self.definition.value = current.definition_html
        self.sql.value = f"<pre>{html.escape(current.sql)}</pre>"
        return current

    def export(self, path: str | Path) -> Path | None:
        """Write the current table to a leaders' workbook (see `excel.write_excel`)."""
        from egov_metrics.excel import write_excel

        t = TEXT[self.lang]
        if self.current is None:
            return None
        layout = "wide" if _series_column(self.current.selection) not in (None, "indicator") else "long"
        try:
            written = write_excel(self.current.frame, path, lang=self.lang, layout=layout)
        except (EgovError, OSError) as exc:
            self.status.value = f'<div class="egov-error"><b>{t["error"]}:</b> {html.escape(str(exc))}</div>'
            return None
        self.status.value = f'<div class="egov-status">{t["written"]}: <code>{html.escape(str(written.resolve()))}</code></div>'
        return written

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def explore(db: Any = None, *, lang: str = "vi", **selection: Any) -> Explorer:
    """The explorer for the database `db` (default `$EGOV_DB` / data/egov.duckdb), in `lang`.

    Keyword arguments preset the pickers: indicators=("online_share",), dimension="unit:department",
    grain="quarter", start="2025-Q1", end="2026-Q2", scope="Sở Tư pháp".
    """
    if "indicators" in selection and isinstance(selection["indicators"], str):
        selection["indicators"] = (selection["indicators"],)
    if "indicators" in selection:
        selection["indicators"] = tuple(selection["indicators"])
    check_lang(lang)
    return Explorer(db, lang=lang, selection=replace(Selection(lang=lang), **selection))


def _checked(db: Any, sel: Selection, dimensions: tuple[str, ...], scopes: set[str]) -> Selection:
    """The preset pickers, each one a value its picker offers (`dimensions`, `scopes`: the unit ids of the
    scope picker): indicators, dimension and grain by their names (the closest suggested), the scope as the
    unit's id (given by id, code or name: "Sở Tư pháp" as in `explore`'s docstring). A value a picker does
    not hold raised a bare widget error naming neither it nor a fix."""
    from egov_metrics.errors import UnknownNameError
    from egov_metrics.orgunits import resolve_unit
    from egov_metrics.schema import connect

    load_catalog().select(list(sel.indicators))  # unknown ids: UnknownNameError with the closest ones
    if sel.dimension not in dimensions:
        raise UnknownNameError.from_choices("explorer dimension", sel.dimension, dimensions)
    if sel.grain not in GRAINS:
        raise UnknownNameError.from_choices("grain", sel.grain, GRAINS)
    if not sel.scope:
        return sel
    con = db if hasattr(db, "sql") else connect(db, read_only=True)
    try:
        unit = resolve_unit(con, sel.scope)
    finally:
        if con is not db:
            con.close()
    if unit not in scopes:
        raise EgovError(
            f"scope {sel.scope!r} ({unit}) is not one of the explorer's scopes",
            "the scope is the province (none) or one of today's departments or districts",
        )
    return replace(sel, scope=unit)
