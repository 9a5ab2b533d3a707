"""Presentation helpers for notebooks and reports: HTML tables, charts as inline SVG, headings, appendix.

Everything returns an `Html` object, which JupyterLab and nbconvert display as HTML (no script, no network):
charts become static inline SVG (vl-convert), numbers and dates follow the language (vi 1.234,5 · en 1,234.5).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt
import polars as pl

from egov_metrics.catalog import load_catalog
from egov_metrics.charts import to_svg
from egov_metrics.i18n import check_lang, fmt_date, fmt_number, fmt_value


@dataclass(frozen=True)
class Html:
    """A fragment of HTML that notebooks display as such."""

    text: str

    def _repr_html_(self) -> str:
        return self.text

    def __add__(self, other: Html) -> Html:
        return Html(self.text + other.text)


def join(parts: Iterable[Html]) -> Html:
    return Html("".join(p.text for p in parts))


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def heading(text: str, level: int = 2) -> Html:
    return Html(f"<h{level}>{esc(text)}</h{level}>")


def note(text: str) -> Html:
    return Html(f'<p class="egov-note">{esc(text)}</p>')


#: Chart text is drawn at 11 px; a chart may shrink to fit its box only as far as keeps it at 10 px or more.
MIN_CHART_SCALE = 10 / 11


def chart(chart_obj: alt.TopLevelMixin) -> Html:
    """An Altair chart as static inline SVG (text stays selectable; prints crisply; works offline).

    The SVG scales down to its box (phones, print) but never below MIN_CHART_SCALE of its drawn width, so no
    text gets smaller than 10 px; on a narrower screen its box scrolls sideways instead."""
    svg = to_svg(chart_obj)
    width = re.search(r'<svg[^>]*\bwidth="([\d.]+)"', svg)
    if width:
        min_width = math.ceil(float(width.group(1)) * MIN_CHART_SCALE)
        svg = svg.replace("<svg", f'<svg style="min-width: {min_width}px"', 1)
    return Html(f'<div class="egov-chart">{svg}</div>')


Formatter = Callable[[Any], str]


def table(
    frame: pl.DataFrame,
    columns: Sequence[tuple[str, str]] | None = None,
    *,
    lang: str = "vi",
    formats: dict[str, Formatter] | None = None,
    css: str = "egov-table",
    row_class: Callable[[dict[str, Any]], str] | None = None,
    max_rows: int = 200,
) -> Html:
    """An HTML table of `frame`: `columns` = [(column, header)], numbers and dates formatted for `lang`."""
    check_lang(lang)
    columns = list(columns or [(c, c) for c in frame.columns])
    formats = formats or {}

    def cell(column: str, value: Any) -> str:
        if column in formats:
            return formats[column](value)
        if isinstance(value, float):
            return fmt_number(value, 1, lang)
        if isinstance(value, int) and not isinstance(value, bool):
            return fmt_number(value, 0, lang)
        if hasattr(value, "strftime"):
            return fmt_date(value, lang)
        return esc(value)

    head = "".join(f"<th>{esc(h)}</th>" for _, h in columns)
    rows = []
    for row in frame.head(max_rows).iter_rows(named=True):
        klass = f' class="{esc(row_class(row))}"' if row_class else ""
        tds = "".join(
            f'<td class="num">{cell(c, row[c])}</td>'
            if isinstance(row[c], int | float) and not isinstance(row[c], bool)
            else f"<td>{cell(c, row[c])}</td>"
            for c, _ in columns
        )
        rows.append(f"<tr{klass}>{tds}</tr>")
    more = ""
    if frame.height > max_rows:
        more = f'<p class="egov-note">… {frame.height - max_rows} more rows</p>'
    return Html(  # the box scrolls sideways on a narrow screen: no column is cut off, no word-per-line wrap
        f'<div class="egov-scroll"><table class="{esc(css)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{more}"
    )


def value_formatter(unit: str, decimals: int, lang: str) -> Formatter:
    return lambda v: fmt_value(v, unit, decimals, lang)


def catalog_table(lang: str = "vi", ids: Sequence[str] | None = None) -> Html:
    """The indicator catalog as a table: id, name, unit, direction, 766 group, layer, provisional."""
    catalog = load_catalog()
    heads = {
        "vi": ("Mã", "Chỉ tiêu", "Đơn vị tính", "Tốt hơn khi", "Nhóm 766", "Tầng", "Tạm tính"),
        "en": ("Id", "Indicator", "Unit", "Better when", "766 group", "Layer", "Provisional"),
    }[check_lang(lang)]
    better = {"vi": {"higher": "cao hơn", "lower": "thấp hơn"}, "en": {"higher": "higher", "lower": "lower"}}[
        lang
    ]
    rows = [
        {
            "id": i.id,
            "name": i.name_in(lang),
            "unit": i.unit,
            "direction": better[i.direction],
            "group": i.group_766 or "",
            "layer": str(i.layer or ""),
            "provisional": "✓" if i.provisional else "",
        }
        for i in catalog.select(list(ids) if ids else None)
    ]
    frame = pl.DataFrame(rows)
    return table(frame, list(zip(frame.columns, heads, strict=True)), lang=lang)


def definitions(ids: Iterable[str], lang: str = "vi") -> Html:
    """The definitions appendix: each indicator's name, description, unit, source and provisional note."""
    catalog = load_catalog()
    title = {"vi": "Phụ lục: Định nghĩa chỉ tiêu", "en": "Appendix: indicator definitions"}[check_lang(lang)]
    labels = {
        "vi": ("Nguồn", "Tạm tính", "Mã"),
        "en": ("Source", "Provisional", "Id"),
    }[lang]
    items = []
    for ind in catalog.select(sorted(set(ids))):
        desc = ind.description.vi if lang == "vi" else ind.description.en
        extra = ""
        if ind.provisional and ind.provisional_note:
            note_text = ind.provisional_note.vi if lang == "vi" else ind.provisional_note.en
            extra = f"<br><em>{esc(labels[1])}:</em> {esc(note_text)}"
        items.append(
            f'<dt title="{esc(labels[2])}: {esc(ind.id)}" data-indicator="{esc(ind.id)}">{esc(ind.name_in(lang))}</dt>'
            f"<dd>{esc(desc)}<br><em>{esc(labels[0])}:</em> {esc(ind.legal_source_in(lang))}{extra}</dd>"
        )
    return Html(f'<section class="egov-appendix"><h2>{esc(title)}</h2><dl>{"".join(items)}</dl></section>')
