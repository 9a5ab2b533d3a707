"""Shared pieces of the report pages: scope, periods, targets and traffic lights, KPI cards, CSS."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from egov_metrics.catalog import load_catalog
from egov_metrics.i18n import check_lang, fmt_percent, fmt_points, fmt_value
from egov_metrics.present import Html, esc
from egov_metrics.roadmap import legend_frame, load_roadmap
from egov_metrics.schema import connect

LIGHT_CSS = {"green": "egov-green", "amber": "egov-amber", "red": "egov-red", None: "egov-grey"}

PAGE_CSS = """
<style>
/* `.jp-OutputArea-output` raises specificity above JupyterLab's output rules (which right-align every table
   cell and float each <dt> at 20 % and each <dd> at 80 % width), both in the exported HTML and in JupyterLab itself. */
.egov-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 10px; }
.egov-card { border: 1px solid #d0d7de; border-left: 8px solid #9aa5b1; border-radius: 6px; padding: 8px 10px;
             break-inside: avoid; }
.egov-card.egov-green { border-left-color: #2f9e44; } .egov-card.egov-amber { border-left-color: #f59f00; }
.egov-card.egov-red { border-left-color: #e03131; }
.egov-card .name { font-size: 0.85em; color: #333; min-height: 2.4em; }
.egov-card .value { font-size: 1.6em; font-weight: 700; margin: 2px 0; }
.egov-card .meta { font-size: 0.78em; color: #555; }
.egov-card .light { font-size: 0.78em; font-weight: 600; }
.egov-table { border-collapse: collapse; font-size: 0.88em; margin: 6px 0 12px; }
.jp-OutputArea-output table.egov-table th, .jp-OutputArea-output table.egov-table td,
.egov-table th, .egov-table td { border: 1px solid #d0d7de; padding: 3px 7px; text-align: left; }
.egov-table th { background: #eef3f8; }
.jp-OutputArea-output table.egov-table td.num, .egov-table td.num { text-align: right;
  font-variant-numeric: tabular-nums; }
.egov-table tr.egov-self td { background: #fff4c2; font-weight: 600; }
.egov-summary { background: #f4f8fb; border: 1px solid #c9d8e6; padding: 8px 14px; border-radius: 6px; }
.egov-summary ol { margin: 4px 0 0 1.2em; padding: 0; }
.egov-note { color: #555; font-size: 0.85em; }
.egov-status-achieved, .egov-status-on_track { color: #2b8a3e; font-weight: 600; }
.egov-status-at_risk { color: #e67700; font-weight: 600; } .egov-status-off_track { color: #c92a2a; font-weight: 600; }
.jp-OutputArea-output .egov-appendix dt, .egov-appendix dt { font-weight: 600; margin-top: 6px; float: none;
  width: auto; }
.jp-OutputArea-output .egov-appendix dd, .egov-appendix dd { margin-left: 1em; font-size: 0.88em; float: none;
  width: auto; }
</style>
"""


@dataclass(frozen=True)
class Scope:
    """The unit a report is about: id, names, level; `is_province` for the whole province."""

    unit_id: str
    name_vi: str
    name_en: str
    level: str

    @property
    def is_province(self) -> bool:
        return self.level == "province"

    def name(self, lang: str) -> str:
        return self.name_vi if lang == "vi" else self.name_en


def open_db(db_path: str | Path) -> duckdb.DuckDBPyConnection:
    return connect(db_path, read_only=True)


def scope_of(con: duckdb.DuckDBPyConnection, unit: str | None) -> Scope:
    """The scope's unit; None means today's province."""
    if unit is None:
        row = con.sql(
            "SELECT id, name_vi, name_en, level FROM org_unit WHERE level = 'province' "
            "ORDER BY valid_to IS NULL DESC, valid_from DESC LIMIT 1"
        ).fetchall()
    else:
        from egov_metrics.orgunits import resolve_unit

        row = con.sql(
            "SELECT id, name_vi, name_en, level FROM org_unit WHERE id = ?", params=[resolve_unit(con, unit)]
        ).fetchall()
    return Scope(*row[0])


def latest_period(con: duckdb.DuckDBPyConnection) -> str:
    """The last complete month of dossier data, as YYYY-MM."""
    last = con.sql("SELECT max(CAST(received_at AS DATE)) FROM dossier").fetchall()[0][0]
    if last is None:
        from egov_metrics.errors import EgovError

        raise EgovError("the database holds no dossiers", "build the demo or ingest an export first")
    if (last + dt.timedelta(days=1)).month == last.month:  # not the month's last day: take the month before
        last = last.replace(day=1) - dt.timedelta(days=1)
    return last.strftime("%Y-%m")


def month_bounds(period: str) -> tuple[dt.date, dt.date]:
    first = dt.date.fromisoformat(period + "-01")
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, nxt - dt.timedelta(days=1)


def months_before(day: dt.date, n: int) -> dt.date:
    month = day.year * 12 + day.month - 1 - n
    return dt.date(month // 12, month % 12 + 1, 1)


def target_for(indicator: str, year: int, level: str = "province") -> float | None:
    """The roadmap's value for `indicator` in `year` (milestone or phase target) at `level`."""
    roadmap = load_roadmap()
    for ts in roadmap.targets:
        if ts.indicator == indicator and ts.level == level:
            for point in roadmap.path(ts):
                if point.year == year and point.kind != "baseline":
                    return float(point.value)
    return None


def light_for(indicator: str, value: float | None) -> str | None:
    """Traffic light from the roadmap's legend bands (None when the indicator has no bands or no value)."""
    if value is None:
        return None
    bands = legend_frame(indicators=[indicator])
    for row in bands.iter_rows(named=True):
        if row["start"] <= value < row["end"] or (value == row["end"] == bands["end"].max()):
            return str(row["light"])
    return None


LIGHT_LABELS = {
    "vi": {"green": "Đạt", "amber": "Gần đạt", "red": "Chưa đạt", None: "Chưa có ngưỡng"},
    "en": {"green": "On target", "amber": "Near target", "red": "Below target", None: "No bands"},
}


def kpi_cards(rows: pl.DataFrame, year: int, level: str, lang: str) -> Html:
    """Cards: value, target of the year, light, change since the previous period and a year earlier.

    `rows`: one row per indicator (engine output with previous_value/year_ago_value)."""
    check_lang(lang)
    catalog = load_catalog()
    words = {
        "vi": ("Mục tiêu năm", "so với kỳ trước", "so với cùng kỳ"),
        "en": ("Target for the year", "vs previous period", "vs a year earlier"),
    }[lang]
    cards = []
    for row in rows.iter_rows(named=True):
        ind = catalog.get(row["indicator"])
        value = row["value"]
        target = target_for(ind.id, year, level)
        light = light_for(ind.id, value)

        def change(delta: float | None, unit: str = ind.unit, decimals: int = ind.decimals) -> str:
            if delta is None:
                return "–"
            if unit == "percent":
                return fmt_points(delta, 1, lang)
            sign = "+" if delta > 0 else ""
            return sign + fmt_value(delta, unit, decimals, lang)

        target_text = (
            "–"
            if target is None
            else (
                fmt_percent(target, 0, lang)
                if ind.unit == "percent"
                else fmt_value(target, ind.unit, ind.decimals, lang)
            )
        )
        cards.append(
            f'<div class="egov-card {LIGHT_CSS[light]}"><div class="name">{esc(ind.name_in(lang))}</div>'
            f'<div class="value">{esc(fmt_value(value, ind.unit, ind.decimals, lang))}</div>'
            f'<div class="light">{esc(LIGHT_LABELS[lang][light])}</div>'
            f'<div class="meta">{esc(words[0])}: {esc(target_text)}</div>'
            f'<div class="meta">{esc(change(row.get("change_previous")))} {esc(words[1])}</div>'
            f'<div class="meta">{esc(change(row.get("change_year_ago")))} {esc(words[2])}</div></div>'
        )
    return Html(f'<div class="egov-cards">{"".join(cards)}</div>')


def named(frame: pl.DataFrame, lang: str) -> pl.DataFrame:
    """Add the catalog's indicator names in `lang` as a column `name`."""
    catalog = load_catalog()
    names = {i.id: i.name_in(lang) for i in catalog}
    return frame.with_columns(
        pl.col("indicator").replace_strict(names, default=pl.col("indicator")).alias("name")
    )
