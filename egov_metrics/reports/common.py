"""Shared pieces of the report pages: scope, periods, targets and traffic lights, KPI cards, CSS."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from egov_metrics.catalog import load_catalog
from egov_metrics.engine import compute
from egov_metrics.i18n import check_lang, fmt_points, fmt_value, with_sign
from egov_metrics.present import Html, esc
from egov_metrics.roadmap import STATUS_LIGHTS, assess, load_roadmap
from egov_metrics.roadmap.assessment import (
    as_series,
    assess_units,
    series_indicators,
    series_start,
    unit_indicators,
    unit_window,
)
from egov_metrics.roadmap.status import STATUS_NAMES, status_name
from egov_metrics.schema import connect
from egov_metrics.scoring import ScoreResult, ScoringError, score_units
from egov_metrics.sources import CLOCK_SOURCE, data_extent
from egov_metrics.vocab import groups_766

LIGHT_CSS = {"green": "egov-green", "amber": "egov-amber", "red": "egov-red", None: "egov-grey"}


def group_names() -> dict[str, tuple[str, str]]:
    """The 766 groups' names (vi, en), in the method's order: read from the scoring method, never spelt in a
    page; every kind's page takes them from here."""
    return {g: (term.vi, term.en) for g, term in groups_766().items()}


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
.egov-scroll { max-width: 100%; overflow-x: auto; }
.egov-chart { max-width: 100%; overflow-x: auto; }
.jp-OutputArea-output .egov-chart svg, .egov-chart svg { max-width: 100%; height: auto; }
.egov-table td:first-child { min-width: 9em; }
.egov-table td:last-child:not(.num) { min-width: 14em; }  /* notes and reasons: lines, not one word each */
@media (max-width: 600px) {
  .egov-cards { grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); }
  .egov-table { font-size: 0.8em; }
  .egov-card .value { font-size: 1.35em; }
}
@media print {  /* page 1 holds the title, the summary and every KPI card */
  .egov-scroll, .egov-chart { overflow: visible; }
  .egov-chart svg { min-width: 0 !important; }  /* on paper a chart fits the page width */
  .jp-RenderedHTMLCommon h1, h1 { font-size: 15pt; margin: 0 0 4pt; }
  .jp-RenderedHTMLCommon h2, h2 { font-size: 12pt; margin: 6pt 0 3pt; }
  .jp-RenderedHTMLCommon p, .jp-RenderedHTMLCommon li { margin-top: 1pt; margin-bottom: 1pt; }
  .egov-summary { padding: 2pt 8pt; }
  .jp-RenderedHTMLCommon .egov-summary p, .jp-RenderedHTMLCommon .egov-summary li { font-size: 9pt; margin: 1pt 0; }
  .egov-cards { grid-template-columns: repeat(4, 1fr); gap: 4pt; }
  .egov-card { padding: 2pt 4pt; border-left-width: 5pt; font-size: 7.5pt; line-height: 1.2; }
  .egov-card .name { min-height: 0; font-size: 1em; }
  .egov-card .value { font-size: 1.5em; margin: 0; }
  .egov-card .meta, .egov-card .light { font-size: 0.95em; }
  .egov-legend { font-size: 7.5pt; margin: 3pt 0; }
  .jp-RenderedHTMLCommon .egov-legend p, .jp-RenderedHTMLCommon .egov-legend li { font-size: 7.5pt; margin: 0; }
}
.egov-legend { font-size: 0.85em; margin: 8px 0 12px; }
.jp-RenderedHTMLCommon .egov-legend ul, .egov-legend ul { list-style: none; margin: 2px 0; padding: 0;
  display: flex; flex-wrap: wrap; gap: 2px 16px; }
.jp-RenderedHTMLCommon .egov-legend li, .egov-legend li { margin: 0; }
.egov-dot { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 50%; margin-right: 0.35em;
            vertical-align: -0.05em; background: #9aa5b1; }
.egov-dot.egov-green { background: #2f9e44; } .egov-dot.egov-amber { background: #f59f00; }
.egov-dot.egov-red { background: #e03131; }
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
    last = data_extent(con, CLOCK_SOURCE).last_full_month_end
    if last is None:
        from egov_metrics.errors import EgovError

        raise EgovError("the database holds no dossiers", "build the demo or ingest an export first")
    return last.strftime("%Y-%m")


def month_bounds(period: str) -> tuple[dt.date, dt.date]:
    first = dt.date.fromisoformat(period + "-01")
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, nxt - dt.timedelta(days=1)


def months_before(day: dt.date, n: int) -> dt.date:
    month = day.year * 12 + day.month - 1 - n
    return dt.date(month // 12, month % 12 + 1, 1)


def year_status(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    unit: str | None = None,
    series: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The status of every roadmap indicator against the target due at the end of `as_of`'s year, for the
    scope (`unit` None: the province): `roadmap.assess(targets="year")`, the one function the KPI cards and
    the roadmap report's "targets of the year" table both use, so they agree on value, target and status.
    A unit is held to its level's target where the roadmap sets one, else to the province's (`unit_level`
    says which). `series`: the scope's `monthly_series`, when the caller has it (no engine call)."""
    return assess(load_roadmap(), as_of=as_of, unit=unit, db=con, targets="year", series=series)


def months_and_status(
    con: duckdb.DuckDBPyConnection,
    ids: Sequence[str],
    *,
    start: dt.date,
    end: dt.date,
    unit: str | None = None,
    lang: str = "vi",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The scope's monthly values of `ids` from `start` to `end` (with their comparisons), and `year_status`
    as of `end`, from ONE engine call: the roadmap's series and the report's months are the same rows.

    A month's figures do not depend on where a request starts, so the months are those of
    `compute(ids, start=start, end=end, unit=unit)` and the status that of `year_status(con, end, unit)`
    (tests/test_report_questions.py), with one kind of difference, the better answer: inside the longer
    range, a month with no record of an indicator (for a unit: none of the unit's) gets the engine's zero row
    (0, or no value: the engine fills empty months inside the range it observed), where the short question,
    which observed nothing before it, has no row; and a comparison with such a month reads that 0 where the
    short question had no value to compare with. The month the report is about is the same, comparisons
    included, unless the year before it is such a month. The progress report and the landing page both ask
    through here, so the second asker finds the answer in the compute cache."""
    roadmap = load_roadmap()
    catalog = load_catalog()
    series_ids = series_indicators(roadmap, catalog, unit, roadmap.indicator_ids)
    first = series_start(roadmap)
    frame = compute(
        list(dict.fromkeys([*ids, *series_ids])),
        start=min(first, start),
        end=end,
        unit=unit,
        lang=lang,
        db=con,
    )
    in_series = pl.col("indicator").is_in(series_ids) & (pl.col("period_start") >= first)
    series = as_series(frame.filter(in_series), end)
    months = frame.filter(pl.col("indicator").is_in(list(ids)), pl.col("period_start") >= start)
    return months, year_status(con, end, unit, series=series)


def unit_months_and_status(
    con: duckdb.DuckDBPyConnection,
    ids: Sequence[str],
    *,
    period_start: dt.date,
    end: dt.date,
    levels: Sequence[str] = ("department", "commune"),
    lang: str = "vi",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every unit's values of `ids` in the month from `period_start` to `end`, and `assess_units` as of `end`,
    from ONE engine call by unit and month over the trend window: the same rows as
    `compute(ids, by=["unit"], level=levels, start=period_start, end=end, compare=False)` (a unit without a
    record in the month may get a zero row, see `months_and_status`) and the same statuses
    (tests/test_report_questions.py)."""
    roadmap = load_roadmap()
    catalog = load_catalog()
    first = min(unit_window(roadmap, end), period_start)
    frame = compute(
        list(dict.fromkeys([*ids, *unit_indicators(roadmap, catalog)])), by=["unit"], level=tuple(levels),
        grain="month", start=first, end=end, compare=False, lang=lang, db=con,
    )  # fmt: skip
    month = frame.filter(pl.col("indicator").is_in(list(ids)), pl.col("period_start") >= period_start)
    status = assess_units(roadmap, as_of=end, levels=levels, db=con, lang=lang, frame=frame)
    return month, status


def scores_and_previous(
    con: duckdb.DuckDBPyConnection, period: str, levels: tuple[str, ...] = ("department", "commune")
) -> tuple[ScoreResult | None, ScoreResult | None]:
    """The units' 766 scores year to date at the end of `period` (YYYY-MM) and at the end of the month before,
    from ONE engine call (`score_units(start=previous, end=period)`); None for a month with nothing to score.

    The points, groups and totals are those of `score_units(end=…)` for each month, with two differences. The
    month before is scored with the method of `period` (like for like, as score trends are): where a new
    method starts with `period`, its figures are not those of last month's own page. An indicator with no
    record in a unit's year to date in one month but some in the other counts 0 of 0 there instead of being
    marked `missing`; both are scored as a zero denominator. The progress report and the landing page both
    ask through here, so the second asker finds the answer in the compute cache."""
    first, _ = month_bounds(period)
    previous = f"{months_before(first, 1):%Y-%m}"
    try:
        both = score_units(con, start=previous, end=period, grain="ytd", levels=levels)
    except ScoringError:
        return None, None
    now, before = both.where(pl.col("period_end") >= first), both.where(pl.col("period_end") < first)
    return (now if now.totals.height else None), (before if before.totals.height else None)


STATUS_TEXT = {
    lang: {
        **{k: v[lang] for k, v in STATUS_NAMES.items()},
        None: ("Chưa có mục tiêu" if lang == "vi" else "No target"),
    }
    for lang in ("vi", "en")
}

LEGEND_WORDS = {
    "vi": {
        "title": "Chú giải",
        "green": "Xanh: đã đạt mục tiêu năm, hoặc đúng tiến độ để đạt",
        "amber": "Vàng: có nguy cơ không đạt (xu hướng chỉ đạt nếu thuận lợi)",
        "red": "Đỏ: chệch hướng (theo xu hướng hiện tại sẽ không đạt)",
        "grey": "Xám: chưa có mục tiêu cho đơn vị và năm này, hoặc chưa đủ số liệu",
        "method": (
            "Cách đánh giá (như báo cáo lộ trình): giá trị hiện tại là trung vị của {n} tháng gần nhất để một "
            "tháng bất thường không làm đổi đánh giá; xu hướng là độ dốc Theil–Sen theo mùa của 24 tháng; "
            "tình trạng so sánh giá trị hiện tại và giá trị dự báo với mục tiêu của năm."
        ),
    },
    "en": {
        "title": "Legend",
        "green": "Green: the year's target is achieved, or on track to be",
        "amber": "Amber: at risk (the target is reached only at the better end of the trend)",
        "red": "Red: off track (at the current trend the target will be missed)",
        "grey": "Grey: no target for this unit and year, or not enough data",
        "method": (
            "How the status is judged (as in the roadmap report): the current value is the median of the last "
            "{n} months, so one unusual month does not change it; the trend is the seasonal Theil–Sen slope "
            "over 24 months; the status compares the current and projected values with the year's target."
        ),
    },
}


def status_legend(lang: str) -> Html:
    """What each light means and how the current value is computed: shown on every report."""
    w = LEGEND_WORDS[check_lang(lang)]
    items = "".join(
        f'<li><span class="egov-dot {LIGHT_CSS[light]}"></span>{esc(w[key])}</li>'
        for light, key in (("green", "green"), ("amber", "amber"), ("red", "red"), (None, "grey"))
    )
    method = w["method"].format(n=load_roadmap().rules.level_months)
    return Html(
        f'<div class="egov-legend"><strong>{esc(w["title"])}</strong><ul>{items}</ul>'
        f'<p class="egov-note">{esc(method)}</p></div>'
    )


def kpi_cards(rows: pl.DataFrame, status: pl.DataFrame, level: str, lang: str) -> Html:
    """Cards: the month's value and changes, and the status against the target due at the end of the year.

    `rows`: one row per indicator (engine output with change_previous/change_year_ago); `status`: the
    `year_status` frame of the same scope and date. The light, the current value (median of the last months)
    and the target all come from `status`: no target, no light (grey, "No target")."""
    check_lang(lang)
    catalog = load_catalog()
    words = {
        "vi": ("Mục tiêu năm {y}", "so với kỳ trước", "so với cùng kỳ", "Hiện tại (trung vị {n} tháng)",
               "mục tiêu chung của tỉnh", "nội suy"),
        "en": ("Target for {y}", "vs previous period", "vs a year earlier", "Current ({n}-month median)",
               "the province's target", "interpolated"),
    }[lang]  # fmt: skip
    n_months = load_roadmap().rules.level_months
    by_indicator = {r["indicator"]: r for r in status.iter_rows(named=True)}
    cards = []
    for row in rows.iter_rows(named=True):
        ind = catalog.get(row["indicator"])
        st = by_indicator.get(ind.id)
        light = STATUS_LIGHTS[st["status"]] if st else None
        label = status_name(st["status"], st.get("rule"), lang) if st else STATUS_TEXT[lang][None]

        def change(delta: float | None, unit: str = ind.unit, decimals: int = ind.decimals) -> str:
            if delta is None:
                return "–"
            if unit == "percent":
                return fmt_points(delta, 1, lang)
            return with_sign(delta, fmt_value(delta, unit, decimals, lang))

        def show(x: float | None, unit: str = ind.unit, decimals: int = ind.decimals) -> str:
            return fmt_value(x, unit, decimals, lang)

        meta = []
        if st:
            notes = []
            if st["unit_level"] != level:
                notes.append(words[4])
            if st["derived"]:
                notes.append(words[5])
            extra = f" ({', '.join(notes)})" if notes else ""
            year = st["deadline"].year
            meta.append(f"{words[0].format(y=year)}: {show(st['target'])}{extra}")
            meta.append(f"{words[3].format(n=n_months)}: {show(st['current'])}")
        meta.append(f"{change(row.get('change_previous'))} {words[1]}")
        meta.append(f"{change(row.get('change_year_ago'))} {words[2]}")
        title = st["reason_vi" if lang == "vi" else "reason_en"] if st else ""
        cards.append(
            f'<div class="egov-card {LIGHT_CSS[light]}" title="{esc(title)}" data-indicator="{esc(ind.id)}" '
            f'data-status="{esc(st["status"] if st else "no_target")}">'
            f'<div class="name">{esc(ind.name_in(lang))}</div>'
            f'<div class="value">{esc(fmt_value(row["value"], ind.unit, ind.decimals, lang))}</div>'
            f'<div class="light">{esc(label)}</div>'
            + "".join(f'<div class="meta">{esc(m)}</div>' for m in meta)
            + "</div>"
        )
    return Html(f'<div class="egov-cards">{"".join(cards)}</div>')


def named(frame: pl.DataFrame, lang: str) -> pl.DataFrame:
    """Add the catalog's indicator names in `lang` as a column `name`."""
    catalog = load_catalog()
    names = {i.id: i.name_in(lang) for i in catalog}
    return frame.with_columns(
        pl.col("indicator").replace_strict(names, default=pl.col("indicator")).alias("name")
    )
