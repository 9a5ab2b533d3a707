"""The leader's landing page, `reports/index.html`: the province's headline figures and its mean 766 score with
their trend and status, then every unit by name with its band and links to its reports, grouped by level, with
a search box; the full list of reports; times in Vietnam's time (UTC+7). One offline file (an inline script
filters the units; nothing is fetched).

The figures (`front_page_facts`) are computed once per data fingerprint and kept in `<out>/.frontpage.json`, so
rendering thirty reports of one run computes them once.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from egov_metrics import __version__
from egov_metrics.catalog import load_catalog
from egov_metrics.i18n import fmt_number, fmt_period, fmt_points, fmt_value, with_sign
from egov_metrics.vocab import PEER_LEVELS, STATUS_LIGHTS, UNIT_LEVELS

#: Vietnam keeps one offset all year (no daylight saving): UTC+7.
VIETNAM_TIME = dt.timezone(dt.timedelta(hours=7), "UTC+7")
CACHE = ".frontpage.json"
#: The headline figures of the province, in this order.
HEADLINE_IDS = (
    "online_share",
    "fully_online_dossiers",
    "dossiers_on_time",
    "dossiers_digitized",
    "paid_online",
)
LEVELS = {level: UNIT_LEVELS[level].plural("vi") for level in PEER_LEVELS}
STATUS_CSS = {status: light or "grey" for status, light in STATUS_LIGHTS.items()}


def front_page_facts(db_path: str | Path) -> dict[str, Any]:
    """What the landing page shows, as JSON values: period, headline figures with changes and the status
    against the year's target, the units' 766 totals this month and last month (year to date, both by this
    month's method: `scores_and_previous`), unit names."""
    from egov_metrics.engine import compute
    from egov_metrics.reports.common import (
        latest_period,
        month_bounds,
        months_and_status,
        months_before,
        open_db,
        scores_and_previous,
    )
    from egov_metrics.reports.kinds.progress_report.page import KPI_IDS, PROVINCE_IDS, TREND_IDS

    with open_db(db_path) as con:
        period = latest_period(con)
        first, last = month_bounds(period)
        previous = f"{months_before(first, 1):%Y-%m}"
        # the province progress report's own questions (same arguments, so the compute cache answers the
        # second asker): the headline figures are its months' last row, the overdue dossiers its backlog
        months, statuses = months_and_status(
            con, [*KPI_IDS, *TREND_IDS, *PROVINCE_IDS], start=months_before(first, 23), end=last, unit=None,
            lang="vi",
        )  # fmt: skip
        values = months.filter(pl.col("period") == period, pl.col("indicator").is_in(HEADLINE_IDS))
        status = {r["indicator"]: r for r in statuses.iter_rows(named=True)}
        levels = ("department", "commune")
        scored_now, scored_before = scores_and_previous(con, period, levels)
        now = scored_now.totals if scored_now else None
        before = scored_before.totals if scored_before else None
        names = {r[0]: r[1] for r in con.sql("SELECT id, name_vi FROM org_unit").fetchall()}
        overdue = compute(
            ["overdue_backlog", "open_backlog"],
            by=["unit"],
            level=("department", "commune"),
            start=first,
            end=last,
            unit=None,
            compare=False,
            lang="vi",
            db=con,
        ).filter(pl.col("indicator") == "overdue_backlog")
        province = con.sql(
            "SELECT name_vi FROM org_unit WHERE level = 'province' ORDER BY valid_to IS NULL DESC LIMIT 1"
        ).fetchall()[0][0]
        current_units = con.sql(
            "SELECT id, name_vi, level FROM org_unit WHERE level IN ('department', 'commune') "
            "AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?) ORDER BY level, name_vi",
            params=[last, last],
        ).fetchall()
    headline = _headline_rows(values, status)
    units = _unit_rows(current_units, now, before)
    totals = [u["total"] for u in units if u["total"] is not None]
    prev_totals = [u["previous_total"] for u in units if u["previous_total"] is not None]
    return {
        "period": period,
        "previous": previous,
        "province": province,
        "headline": headline,
        "score_mean": sum(totals) / len(totals) if totals else None,
        "score_mean_previous": sum(prev_totals) / len(prev_totals) if prev_totals else None,
        "units": units,
        "names": names,
        # for the alerts: every roadmap indicator's status against the year's target, overdue dossiers by unit
        "statuses": {
            k: {"status": v["status"], "name": v["name_vi"], "target": v["target"], "current": v["current"],
                "unit": v["unit"]}
            for k, v in status.items()
        },
        "overdue": {r["unit_id"]: r["value"] for r in overdue.iter_rows(named=True) if r["value"] is not None},
    }  # fmt: skip


def _headline_rows(values: pl.DataFrame, status: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The headline figures of the month, in `HEADLINE_IDS` order, with their changes and the status against
    the year's target, as JSON values."""
    from egov_metrics.roadmap.status import status_name

    catalog = load_catalog()
    headline = []
    for row in values.iter_rows(named=True):
        ind = catalog.get(row["indicator"])
        st = status.get(ind.id)
        headline.append(
            {
                "indicator": ind.id,
                "name": ind.name.vi,
                "value": fmt_value(row["value"], ind.unit, ind.decimals, "vi"),
                "change_previous": _change(row.get("change_previous"), ind.unit),
                "change_year_ago": _change(row.get("change_year_ago"), ind.unit),
                "status": st["status"] if st else None,
                "status_text": status_name(st["status"], st.get("rule"), "vi") if st else "Chưa có mục tiêu",
                "target": fmt_value(st["target"], ind.unit, ind.decimals, "vi") if st else None,
                "target_year": st["deadline"].year if st else None,
            }
        )
    order = {i: n for n, i in enumerate(HEADLINE_IDS)}
    headline.sort(key=lambda h: order.get(str(h["indicator"]), 99))
    return headline


def _unit_rows(
    current_units: list[tuple[Any, ...]], now: pl.DataFrame | None, before: pl.DataFrame | None
) -> list[dict[str, Any]]:
    """Each current department and commune with its 766 total, band and rank this month and last month (year
    to date), as JSON values; None where the unit has no score."""
    units = []
    prev = {} if before is None else {r["unit_id"]: r for r in before.iter_rows(named=True)}
    scored = {} if now is None else {r["unit_id"]: r for r in now.iter_rows(named=True)}
    for unit_id, name, level in current_units:
        r, p = scored.get(unit_id), prev.get(unit_id)
        units.append(
            {
                "id": unit_id,
                "name": name,
                "level": level,
                "total": None if r is None else r["total"],
                "band": None if r is None else r["band_vi"],
                "band_id": None if r is None else r["band"],
                "rank": None if r is None else r["rank"],
                "rank_among": None if r is None else r["rank_among"],
                "previous_total": None if p is None else p["total"],
                "previous_band": None if p is None else p["band_vi"],
                "previous_rank": None if p is None else p["rank"],
            }
        )
    return units


def _change(delta: float | None, unit: str) -> str:
    if delta is None:
        return "–"
    if unit == "percent":
        return fmt_points(delta, 1, "vi")
    return with_sign(delta, fmt_number(delta, 0 if unit == "count" else 1, "vi"))


def cached_facts(out_dir: Path, db_path: str | Path, fingerprint: str) -> dict[str, Any]:
    """`front_page_facts` of the data with this fingerprint, computed once and kept in `<out>/.frontpage.json`."""
    from egov_metrics.reports.render import _atomic_write

    path = out_dir / CACHE
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        if kept.get("fingerprint") == fingerprint:
            return kept["facts"]
    except (OSError, ValueError, KeyError):
        pass
    facts = front_page_facts(db_path)
    data = {"fingerprint": fingerprint, "facts": facts}
    _atomic_write(path, json.dumps(data, ensure_ascii=False).encode("utf-8"))
    return facts


def local_time(stamp: str) -> str:
    """'03/12/2026 02:15:00 +0000' (as the manifest records it) → '03/12/2026 09:15 (giờ Việt Nam)'."""
    try:
        moment = dt.datetime.strptime(stamp, "%d/%m/%Y %H:%M:%S %z")
    except ValueError:
        return stamp
    return f"{moment.astimezone(VIETNAM_TIME):%d/%m/%Y %H:%M}"


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _when(r: Mapping[str, Any]) -> dt.date:
    """The last day a made report reads, as its kind says (`ReportKind.horizon`): the latest report is the
    one reading furthest."""
    from egov_metrics.reports.kinds import REPORT_KINDS

    kind = REPORT_KINDS.get(str(r["kind"]))
    return (kind.horizon(r["params"]) if kind else None) or dt.date.min


def _links(entries: list[Mapping[str, Any]], period: str | None = None) -> str:
    """Links to a unit's latest reports: one per kind and language, labelled in Vietnamese. Of two reports
    reading to the same day, the one whose file name has fewer qualifiers (the day's own roadmap phase, not
    another one). A report of another month than `period` (YYYY-MM, the month the page's figures are of)
    says its period, so the link never passes for this month's report."""
    from egov_metrics.reports.kinds import REPORT_KINDS

    def rank(r: Mapping[str, Any]) -> tuple[dt.date, int]:
        return _when(r), -len(Path(str(r["path"])).stem.split("_"))

    latest: dict[tuple[str, str], Mapping[str, Any]] = {}
    for r in entries:
        key = (str(r["kind"]), str(r["params"].get("lang")))
        if key not in latest or rank(r) > rank(latest[key]):
            latest[key] = r
    links = []
    for (kind, lang), r in sorted(
        latest.items(), key=lambda kv: (list(REPORT_KINDS).index(kv[0][0]), kv[0][1] != "vi")
    ):
        title = REPORT_KINDS[kind].title_vi + (" (tiếng Anh)" if lang == "en" else "")
        if period is not None and f"{_when(r):%Y-%m}" != period:
            title += f" ({_period_text(r)})"
        links.append(f'<a href="{_e(r["path"])}">{_e(title)}</a>')
    return " · ".join(links)


def _period_text(r: Mapping[str, Any]) -> str:
    """The period of a made report, in Vietnamese, as its kind says (`ReportKind.period_text`)."""
    from egov_metrics.reports.kinds import REPORT_KINDS

    kind = REPORT_KINDS.get(str(r["kind"]))
    return kind.period_text(r["params"], "vi") if kind else ""


def index_html(
    reports: Sequence[Mapping[str, Any]], facts: dict[str, Any] | None = None, alerts: str | None = None
) -> str:
    """The Vietnamese landing page (see the module docstring); without `facts`, the list of reports only."""
    from egov_metrics.reports.kinds import REPORT_KINDS

    names = (facts or {}).get("names", {})
    by_unit: dict[str | None, list[Mapping[str, Any]]] = {}
    for r in reports:
        by_unit.setdefault(r["params"].get("unit"), []).append(r)
    parts = []
    if facts:
        parts.append(_headline(facts, by_unit.get(None, []), alerts))
        parts.append(_units(facts, by_unit))
    sections = []
    for name, kind in REPORT_KINDS.items():
        rows = [r for r in reports if r["kind"] == name]
        if not rows:
            continue
        body = "".join(
            '<tr><td>{unit}</td><td>{period}</td><td>{lang}</td><td><a href="{href}">Xem báo cáo</a></td>'
            "<td>{when}</td><td>{size}</td></tr>".format(
                unit=_e(names.get(r["params"].get("unit"), r["params"].get("unit")) or "Toàn tỉnh"),
                period=_e(_period_text(r)),
                lang="tiếng Việt" if r["params"].get("lang") == "vi" else "tiếng Anh",
                href=_e(r["path"]),
                when=_e(local_time(str(r["generated_at"]))),
                size=f"{int(r['size']) / 1024:,.0f} KB".replace(",", "."),
            )
            for r in sorted(rows, key=lambda r: (names.get(r["params"].get("unit"), ""), str(r["path"])))
        )
        sections.append(
            f'<h3>{_e(kind.title_vi)}</h3><div class="scroll"><table><thead><tr><th>Đơn vị</th><th>Kỳ</th>'
            f"<th>Ngôn ngữ</th><th>Báo cáo</th><th>Thời điểm tạo (giờ Việt Nam)</th><th>Dung lượng</th></tr>"
            f"</thead><tbody>{body}</tbody></table></div>"
        )
    parts.append(
        '<section id="all"><h2>Tất cả báo cáo</h2>'
        + ("".join(sections) or "<p>Chưa có báo cáo nào.</p>")
        + "</section>"
    )
    title = "Chính quyền điện tử" + (f" · {_e(facts['province'])}" if facts else "")
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Trang tổng quan</title>
<style>{INDEX_CSS}</style></head>
<body><h1>{title}</h1>
{"".join(parts)}
<footer><p>Tệp dữ liệu máy đọc được: <a href="manifest.json">manifest.json</a> · phiên bản egov-metrics {__version__}
· giờ Việt Nam (UTC+7)</p></footer>
<script>{SEARCH_JS}</script>
</body></html>"""


def _headline(facts: dict[str, Any], province_reports: list[Mapping[str, Any]], alerts: str | None) -> str:
    cards = []
    for h in facts["headline"]:
        light = STATUS_CSS.get(h["status"] or "", "grey")
        # without a target the status line says so ("Chưa có mục tiêu"); the target line is left out
        goal = f"Mục tiêu năm {h['target_year']}: {h['target']}"
        target = f'<div class="meta">{_e(goal)}</div>' if h["target"] else ""
        cards.append(
            f'<div class="card {light}"><div class="name">{_e(h["name"])}</div><div class="value">{_e(h["value"])}'
            f'</div><div class="status">{_e(h["status_text"])}</div>{target}'
            f'<div class="meta">{_e(h["change_previous"])} so với tháng trước · {_e(h["change_year_ago"])} so với '
            f"cùng kỳ</div></div>"
        )
    mean, before = facts.get("score_mean"), facts.get("score_mean_previous")
    if mean is not None:
        delta = (
            ""
            if before is None
            else f"{'+' if mean - before >= 0 else ''}{fmt_number(mean - before, 2, 'vi')}"
        )
        cards.append(
            f'<div class="card grey"><div class="name">Chỉ số 766: điểm trung bình của các đơn vị (lũy kế năm)</div>'
            f'<div class="value">{fmt_number(mean, 2, "vi")}</div><div class="meta">{_e(delta)} so với '
            f"{_e(fmt_period(facts['previous'], 'vi'))}</div></div>"
        )
    links = _links(province_reports, facts["period"])
    alert = '<p class="alert"><a href="alerts.html">Thay đổi từ lần chạy trước</a></p>' if alerts else ""
    return (
        f"<section><h2>Toàn tỉnh · {_e(fmt_period(facts['period'], 'vi'))}</h2>{alert}"
        f'<div class="cards">{"".join(cards)}</div>'
        f'<p class="legend"><span class="dot green"></span>Đã đạt hoặc đúng tiến độ '
        f'<span class="dot amber"></span>Có nguy cơ <span class="dot red"></span>Chệch hướng '
        f'<span class="dot grey"></span>Chưa có mục tiêu hoặc số liệu (mục tiêu năm, như báo cáo lộ trình)</p>'
        f"<p>{links or 'Chưa có báo cáo toàn tỉnh.'}</p></section>"
    )


def _units(facts: dict[str, Any], by_unit: dict[str | None, list[Mapping[str, Any]]]) -> str:
    groups = []
    for level, title in LEVELS.items():
        rows = []
        units = sorted(
            (u for u in facts["units"] if u["level"] == level),
            key=lambda u: (u["rank"] is None, u["rank"] or 0, u["name"]),
        )
        for u in units:
            trend = ""
            if u["total"] is not None and u["previous_total"] is not None:
                d = u["total"] - u["previous_total"]
                trend = f"{'+' if d >= 0 else ''}{fmt_number(d, 2, 'vi')}"
            rank = f"{u['rank']}/{u['rank_among']}" if u["rank"] is not None else "–"
            rows.append(
                f'<tr data-name="{_e(u["name"].casefold())}"><td>{_e(rank)}</td><td>{_e(u["name"])}</td>'
                f'<td class="num">{_e(fmt_number(u["total"], 2, "vi"))}</td><td class="num">{_e(trend or "–")}</td>'
                f"<td>{_e(u['band'] or '–')}</td><td>{_links(by_unit.get(u['id'], []), facts['period']) or '–'}</td></tr>"
            )
        groups.append(
            f'<h3>{_e(title)} ({len(units)})</h3><div class="scroll"><table class="units"><thead><tr>'
            f"<th>Hạng</th><th>Đơn vị</th><th>Điểm 766</th><th>So với tháng trước</th><th>Xếp loại</th>"
            f"<th>Báo cáo</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )
    return (
        '<section id="units"><h2>Các đơn vị</h2>'
        '<p><label for="search">Tìm đơn vị: </label><input id="search" type="search" '
        'placeholder="Gõ tên sở, xã, phường…" autocomplete="off"> <span id="found"></span></p>'
        f"{''.join(groups)}</section>"
    )


INDEX_CSS = """
body{font-family:'Segoe UI',Arial,'DejaVu Sans',sans-serif;margin:1.2em;color:#222;font-size:15px}
h1{color:#1f4e79;font-size:1.5em}h2{color:#1f4e79;font-size:1.25em;border-bottom:1px solid #c9d8e6}
h3{font-size:1.05em}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:10px}
.card{border:1px solid #d0d7de;border-left:8px solid #9aa5b1;border-radius:6px;padding:8px 10px}
.card.green{border-left-color:#2f9e44}.card.amber{border-left-color:#f59f00}.card.red{border-left-color:#e03131}
.card .name{font-size:.85em;min-height:2.4em}.card .value{font-size:1.5em;font-weight:700}
.card .status{font-weight:600;font-size:.85em}.card .meta{font-size:.8em;color:#555}
.legend{font-size:.85em;color:#333}.dot{display:inline-block;width:.8em;height:.8em;border-radius:50%;
margin:0 .3em 0 .8em;background:#9aa5b1}.dot.green{background:#2f9e44}.dot.amber{background:#f59f00}
.dot.red{background:#e03131}
.scroll{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin-bottom:1.2em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}th{background:#eef3f8}td.num{text-align:right}
#search{font-size:1em;padding:.3em .5em;min-width:16em;max-width:100%}
.alert{background:#fff4c2;border:1px solid #f0c36d;padding:.4em .7em;border-radius:4px}
footer{margin-top:2em;font-size:.85em;color:#555}
@media (max-width:600px){body{margin:.6em}.cards{grid-template-columns:repeat(auto-fill,minmax(150px,1fr))}}
"""

#: Client-side filter of the units' rows (accents and case do not matter); no network, no library.
SEARCH_JS = """
(function () {
  var box = document.getElementById('search');
  if (!box) return;
  var plain = function (s) { return s.normalize('NFD').replace(/[\\u0300-\\u036f]/g, '').replace(/đ/g, 'd')
    .toLowerCase(); };
  var rows = Array.prototype.slice.call(document.querySelectorAll('table.units tbody tr'));
  var found = document.getElementById('found');
  box.addEventListener('input', function () {
    var q = plain(box.value.trim()), n = 0;
    rows.forEach(function (tr) {
      var show = !q || plain(tr.getAttribute('data-name')).indexOf(q) >= 0;
      tr.style.display = show ? '' : 'none';
      if (show) n += 1;
    });
    found.textContent = q ? n + ' đơn vị' : '';
  });
})();
"""
