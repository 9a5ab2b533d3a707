"""Rendered reports, checked as a leader receives them: one offline HTML file per report.

The reports of `REPORT_CASES` (tests/conftest.py: province, a department and a commune, several periods,
both languages, all three kinds) are rendered once per session by papermill from the 40,000-dossier demo;
each test below inspects the exported pages. Parameter validation and failures use stand-ins and never
start a kernel where none is needed.
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import nbformat
import papermill
import pytest
from fixtures.reports import HEADINGS, MIN_CHARTS, REPORT_CASES, Rendered

from egov_metrics import __version__
from egov_metrics.catalog import load_catalog
from egov_metrics.errors import EgovError
from egov_metrics.i18n import fmt_period
from egov_metrics.reports import REPORT_KINDS, ReportError, ReportParameterError, render_report

pytestmark = pytest.mark.slow  # every report rendered through papermill

CASES = list(REPORT_CASES)
SCOPED = [c for c, (kind, params) in REPORT_CASES.items() if params.get("unit")]

APPENDIX = {"vi": "Phụ lục: Định nghĩa chỉ tiêu", "en": "Appendix: indicator definitions"}
HEADER_LABELS = {
    "vi": ("Tham số", "Dấu vân tay dữ liệu", "Thời điểm tạo", "Phiên bản phần mềm"),
    "en": ("Parameters", "Data fingerprint", "Generated at", "Software version"),
}
#: A formatted number with a decimal part, followed by % or a working-day unit, in each language.
DECIMAL = {
    "vi": re.compile(r"\d,\d+ (%|ngày LV)"),
    "en": re.compile(r"\d\.\d+ (%|working days)"),
}


@pytest.fixture(params=CASES)
def report(request: pytest.FixtureRequest, rendered_reports: dict[str, Rendered]) -> Rendered:
    return rendered_reports[request.param]


def _without(html: str, *tags: str) -> str:
    for tag in tags:
        html = re.sub(rf"<{tag}\b.*?</{tag}>", f"<{tag}/>", html, flags=re.DOTALL)
    return html


def _body(html: str) -> str:
    """The page's body without style sheets (the lab CSS mentions class names of code cells)."""
    return _without(html[html.index("<body") :], "style")


def _text(html: str) -> str:
    """What a reader can see or copy, SVG text included: tags dropped, entities decoded."""
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", _without(html, "style")))


# -- one offline file ------------------------------------------------------------------------------------


def test_each_report_is_one_self_contained_file(report: Rendered) -> None:
    path = report.result.path
    assert path.suffix == ".html" and path.is_file()
    siblings = [p.name for p in path.parent.iterdir() if p.name.startswith(path.stem) and p != path]
    assert not siblings, f"companion files next to {path.name}: {siblings}"
    html = report.html
    assert html.lstrip().lower().startswith("<!doctype html>")
    links = re.findall(r"\b(?:src|href)\s*=\s*[\"']?([^\"'\s>]+)", html)
    assert all(v.startswith(("data:", "#")) for v in links), f"links to other files: {links[:5]}"
    urls = re.findall(r"url\(\s*[\"']?([^\"')]+)", html)
    assert all(u.startswith(("data:", "#")) for u in urls), (
        f"CSS loads files: {[u for u in urls if not u.startswith('data:')][:5]}"
    )


def test_nothing_is_fetched_from_the_network(report: Rendered) -> None:
    html = report.html
    for pattern in (
        r"<script[^>]*\bsrc\s*=",
        r"<link[^>]*rel=[\"']?stylesheet[^>]*href=[\"']?https?:",
        r"<link[^>]*href=[\"']?https?:[^>]*rel=[\"']?stylesheet",
        r"@import\s+(url\()?[\"']?https?:",
        r"https://fonts\.",
        r"\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//",
        r"url\(\s*[\"']?(?:https?:)?//",
    ):
        found = re.search(pattern, html, re.IGNORECASE)
        assert not found, f"{report.case}: network resource {found.group(0)!r}"


def test_the_page_language_is_the_report_language(report: Rendered) -> None:
    assert re.search(rf'<html\s+lang="{report.lang}"', report.html), re.search(r"<html[^>]*>", report.html)


def test_no_code_prompt_or_error_is_shown(report: Rendered) -> None:
    body = _body(report.html)
    for needle in (
        'class="jp-InputArea',
        "jp-InputArea-editor",
        "jp-InputPrompt",
        "highlight-ipynb",
        "import egov_metrics",
        "from egov_metrics",
        "db_path",
        "ProgressReport(",
        "UnitScorecard(",
        "RoadmapReport(",
        "Traceback",
        "application/vnd.jupyter.stderr",
        "Kernel is running",
    ):
        assert needle not in body, f"{report.case}: {needle!r} is visible"
    calls = re.findall(r"\b(?:report|card)\.[a-z_]+\(", body)
    assert not calls, f"{report.case}: notebook code is visible: {calls[:3]}"


# -- content ----------------------------------------------------------------------------------------------


def test_charts_are_inline_svg(report: Rendered) -> None:
    html = report.html
    key = (report.kind, report.unit is None)
    charts = len(re.findall(r"<svg\b", html))
    assert charts >= MIN_CHARTS[key], (
        f"{report.case}: {charts} inline SVG charts, expected {MIN_CHARTS[key]}+"
    )
    assert "data:image/svg" not in _without(html, "style"), "a chart was embedded as an image, not inline SVG"
    assert len(re.findall(r"<text\b", html)) >= 10 * charts // 2, "charts without text (axes, titles)"


def test_the_technical_footer_shows_parameters_fingerprint_time_and_version(
    report: Rendered, small_demo_db: Path
) -> None:
    footer = re.search(r'<footer class="egov-footer">(.*?)</footer>', report.html, re.DOTALL)
    assert footer, "no technical footer"
    assert "egov-header" not in report.html, "the technical block is still above the title"
    body = _body(report.html)
    assert body.index("egov-footer") > body.rindex("egov-appendix"), "the footer is not at the end"
    text = htmllib.unescape(footer.group(1))
    assert ("Thông tin kỹ thuật" if report.lang == "vi" else "Technical information") in text
    kind = REPORT_KINDS[report.kind]
    assert (kind.title_vi if report.lang == "vi" else kind.title_en) in text
    for label in HEADER_LABELS[report.lang]:
        assert label in text
    for name in ("period", "as_of"):
        if name in report.result.params:
            value = str(report.result.params[name])  # as the page writes it: tháng 11/2026, 30/11/2026
            shown = (
                fmt_period(value, report.lang)
                if name == "period"
                else f"{dt.date.fromisoformat(value):%d/%m/%Y}"
            )
            assert f": {shown}" in text, f"{name} not in the footer: {text}"
            assert f": {value}" not in text, f"{name} in ISO form in the footer: {text}"
    if "unit" in kind.params.model_fields:
        unit = report.result.params.get("unit")
        if unit:  # by its name in the page's language, with its id ('Sở Tư pháp (STP)'; it showed 'STP')
            with duckdb.connect(str(small_demo_db), read_only=True) as con:
                name_vi, name_en = con.sql(
                    "SELECT name_vi, name_en FROM org_unit WHERE id = ?", params=[unit]
                ).fetchall()[0]
            shown = f"{name_vi if report.lang == 'vi' else name_en or name_vi} ({unit})"
        else:
            shown = "toàn tỉnh" if report.lang == "vi" else "the province"
        assert f": {shown}" in text, f"unit {shown} not in the footer: {text}"
    assert ("tiếng Việt" if report.lang == "vi" else "English") in text
    assert report.result.data_fingerprint in text and re.fullmatch(
        r"[0-9a-f]{16}", report.result.data_fingerprint
    )
    assert report.result.generated_at in text
    assert re.match(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", report.result.generated_at)
    assert f"egov-metrics {__version__}" in text
    assert ": small.duckdb" in text, "the footer names the database file (and only its name)"


def test_headings_are_in_the_report_language(report: Rendered) -> None:
    text = _text(report.html)
    for heading in HEADINGS[(report.kind, report.lang)]:
        assert heading in text, f"{report.case}: {heading!r} missing"
    other = "en" if report.lang == "vi" else "vi"
    mixed = [h for h in HEADINGS[(report.kind, other)] if h not in HEADINGS[(report.kind, report.lang)]]
    for heading in mixed:
        assert f">{heading}<" not in report.html, (
            f"{report.case}: {other} heading {heading!r} in a {report.lang} report"
        )
    if report.lang == "vi":
        assert re.search(r"[ạảãấầẩẫậắằẳẵặẹẻẽếềểễệịỉọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ]", text)


#: A number in a table cell or KPI card: "–", a year, or digits grouped and separated the language's way.
NUMBER_SHAPE = {
    "vi": re.compile(r"^(–|(19|20)\d\d|[-+]?\d{1,3}(\.\d{3})*(,\d+)?( %| ngày LV| điểm %)?)$"),
    "en": re.compile(r"^(–|(19|20)\d\d|[-+]?\d{1,3}(,\d{3})*(\.\d+)?( %| working days| pp)?)$"),
}


def test_numbers_are_formatted_for_the_language(report: Rendered) -> None:
    lang, other = report.lang, "en" if report.lang == "vi" else "vi"
    cells = re.findall(r'<td class="num">([^<]*)</td>', report.html)
    cells += re.findall(r'<div class="value">([^<]*)</div>', report.html)
    cells = [htmllib.unescape(c).strip() for c in cells]
    assert cells, f"{report.case}: no number in a table or card"
    bad = [c for c in cells if not NUMBER_SHAPE[lang].match(c)]
    assert not bad, f"{report.case}: numbers not formatted for {lang}: {bad[:10]}"
    separator = "," if lang == "vi" else "."
    assert any(re.search(rf"\d\{separator}\d+($| )", c) for c in cells), (
        f"{report.case}: no decimal: {cells[:10]}"
    )
    if report.kind == "roadmap_report":  # the resources table has a year column
        assert re.search(r">20[23]\d<", report.html)
        years = re.findall(r">2[.,]0[23]\d<", report.html)
        assert not years, f"years shown with a thousands separator: {years[:3]}"
    prose = _text(_without(report.html, "svg"))  # chart axes carry the locale in their spec (test_charts.py)
    wrong = DECIMAL[other].findall(prose)
    assert not wrong, f"{report.case}: {other}-style numbers in a {lang} report: {wrong[:5]}"


def test_kpi_cards_use_the_language_decimal_separator(rendered_reports: dict[str, Rendered]) -> None:
    for case in ("progress_province_vi", "progress_department_vi", "progress_commune_en"):
        report = rendered_reports[case]
        values = [htmllib.unescape(v) for v in re.findall(r'<div class="value">([^<]*)</div>', report.html)]
        assert len(values) >= 8, f"{case}: {len(values)} KPI cards"
        bad = [v for v in values if not NUMBER_SHAPE[report.lang].match(v)]
        assert not bad, f"{case}: badly formatted card values {bad}"
        separator = "," if report.lang == "vi" else "."
        assert any(re.search(rf"\d\{separator}\d", v) for v in values), values
    score = rendered_reports["scorecard_department_vi"]
    assert re.search(r"Tổng điểm \d{1,3},\d{2} — ", _text(score.html))
    score_en = rendered_reports["scorecard_commune_en"]
    assert re.search(r"Total \d{1,3}\.\d{2} — ", _text(score_en.html))


def test_a_definitions_appendix_closes_the_report(report: Rendered) -> None:
    appendix = re.search(r'<section class="egov-appendix">(.*?)</section>', report.html, re.DOTALL)
    assert appendix, f"{report.case}: no definitions appendix"
    assert APPENDIX[report.lang] in appendix.group(1)
    # one definition per indicator it names, each an indicator of the catalog (a one-indicator page has one)
    defined = re.findall(r'<dt\b[^>]*\bdata-indicator="([^"]+)"', appendix.group(1))
    assert defined and len(defined) == len(re.findall(r"<dt\b", appendix.group(1))), defined
    assert set(defined) <= set(load_catalog().ids), defined
    assert report.html.rindex("egov-appendix") > report.html.rindex("<svg"), "the appendix is not at the end"


def test_the_report_prints_on_a4(report: Rendered) -> None:
    css = " ".join(re.findall(r"<style[^>]*>(.*?)</style>", report.html, re.DOTALL))
    page = re.search(r"@page\s*{([^}]*)}", css)
    assert page and re.search(r"size:\s*A4", page.group(1)), "no @page rule for A4"
    assert "@media print" in css


def _section(html: str, heading: str) -> str:
    """The HTML from the <h2> `heading` to the next <h2>."""
    start = html.index(f"<h2>{heading}</h2>")
    end = html.find("<h2>", start + 4)
    return html[start : end if end > 0 else len(html)]


def test_overdue_dossiers_are_counted_in_whole_numbers(rendered_reports: dict[str, Rendered]) -> None:
    backlog = _section(rendered_reports["progress_province_vi"].html, "Hồ sơ quá hạn cuối kỳ")
    cells = re.findall(r'<td class="num">([^<]*)</td>', backlog)
    assert cells and all(re.fullmatch(r"\d{1,3}(\.\d{3})*", c) for c in cells), cells


def test_roadmap_targets_are_in_their_unit_and_risks_say_things_once(
    rendered_reports: dict[str, Rendered],
) -> None:
    for case, days in (("roadmap_vi", "ngày LV"), ("roadmap_en", "working days")):
        report = rendered_reports[case]
        heading = "Mục tiêu giai đoạn và tình trạng" if report.lang == "vi" else "Phase targets and status"
        rows = re.findall(r"<tr[^>]*>(.*?)</tr>", _section(report.html, heading), re.DOTALL)
        cells = [re.findall(r"<td[^>]*>([^<]*)</td>", r) for r in rows]
        in_days = [c for c in cells if c and re.search(r"\((ngày làm việc|working days)\)", c[0])]
        assert in_days, f"{case}: no processing-time target"
        for c in in_days:
            assert c[2].endswith(days) and "%" not in c[2] + c[3], f"{case}: a time shown as a rate: {c}"
        risks = re.findall(
            r"<li>(.*?)</li>",
            _section(report.html, "Rủi ro cần xử lý" if report.lang == "vi" else "Risks to act on"),
        )
        assert len(risks) == len(set(risks)), f"{case}: a risk is listed twice"
        for item in risks:
            text = htmllib.unescape(re.sub(r"<[^>]+>", "", item))
            assert not re.search(r"(\w[\w ]*): \1:", text), f"{case}: status said twice: {text}"


def test_a_roadmap_report_can_show_another_phase(small_demo_db: Path) -> None:
    """Before 2026 the default is the 2021–2025 phase; the 2026–2030 targets can still be asked for."""
    from egov_metrics.reports.kinds.roadmap_report.page import RoadmapReport

    default = RoadmapReport(small_demo_db, "2025-12-31", None, "en")
    assert default.phase == "P2021_2025" and default.phase_targets.height > 0
    later = RoadmapReport(small_demo_db, "2025-12-31", "P2026_2030", "en")
    assert later.phase_targets.height > 0
    assert set(later.phase_targets["phase"]) == {"P2026_2030"} and set(later.phase_targets["kind"]) == {
        "target"
    }
    assert "<svg" in later.targets().text and "<svg" in later.trajectory_charts().text
    assert later.risks().text.startswith("<h2>")


def test_the_scorecard_trend_covers_twelve_months(small_demo_db: Path) -> None:
    from egov_metrics.reports.kinds.unit_scorecard.page import UnitScorecard

    card = UnitScorecard(small_demo_db, "SYT", "2026-06", "vi")
    assert card.trend.height == 12, card.trend.select("period", "total")


# -- scoping: a unit's report names that unit only -------------------------------------------------------


def _other_unit_names(db: Path, unit_id: str, text: str) -> list[str]:
    """Names of org units other than `unit_id` and its ancestors that appear in `text`."""
    with duckdb.connect(str(db), read_only=True) as con:
        own = {
            r[0]
            for r in con.sql(
                "SELECT ancestor_id FROM org_unit_closure WHERE unit_id = ?", params=[unit_id]
            ).fetchall()
        }
        units = con.sql("SELECT id, name_vi, name_en FROM org_unit").fetchall()
    own.add(unit_id)
    allowed = {n for i, vi, en in units if i in own for n in (vi, en) if n}
    for name in sorted(
        allowed, key=len, reverse=True
    ):  # "Xã Bác Ái" inside "Xã Bác Ái Đông" is the unit itself
        text = text.replace(name, " ")
    others = {n for i, vi, en in units if i not in own for n in (vi, en) if n and n not in allowed}
    return sorted(n for n in others if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text))


def _dossier_ids(db: Path, text: str) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        ids = {r[0] for r in con.sql("SELECT id FROM dossier").fetchall()}
    return sorted(set(re.findall(r"[\w.\-]+", text)) & ids)


@pytest.mark.parametrize("case", SCOPED)
def test_a_unit_report_names_no_other_unit(
    case: str, rendered_reports: dict[str, Rendered], small_demo_db: Path
) -> None:
    report = rendered_reports[case]
    text = htmllib.unescape(_without(report.html, "style"))  # SVG text and labels included
    assert report.unit and report.unit in report.html
    leaked = _other_unit_names(small_demo_db, report.unit, text)
    assert not leaked, f"{case} ({report.unit}) names other units: {leaked[:10]}"
    assert not _dossier_ids(small_demo_db, text), f"{case} shows dossier ids (row-level data)"


def test_the_scoping_check_can_fail(rendered_reports: dict[str, Rendered], small_demo_db: Path) -> None:
    """The province's report names its departments and communes: the check above would see them."""
    province = rendered_reports["progress_province_vi"]
    text = htmllib.unescape(_without(province.html, "style"))
    assert len(_other_unit_names(small_demo_db, "STP", text)) >= 10
    with duckdb.connect(str(small_demo_db), read_only=True) as con:
        some_id = con.sql("SELECT id FROM dossier ORDER BY id LIMIT 1").fetchall()[0][0]
    assert _dossier_ids(small_demo_db, f"<td>{some_id}</td>") == [some_id]
    assert not _dossier_ids(small_demo_db, text)


# -- index and manifest ----------------------------------------------------------------------------------


def test_the_index_lists_every_report_by_kind_unit_and_period(
    rendered_reports: dict[str, Rendered], small_demo_db: Path
) -> None:
    out_dir = next(iter(rendered_reports.values())).result.path.parent
    index = (out_dir / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<html\s+lang="vi"', index)
    assert '<meta name="viewport"' in index
    listing = index[index.index('<section id="all">') :]
    rows = {
        href: (unit, period, lang, when)
        for unit, period, lang, href, when in re.findall(
            r'<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td><a href="([^"]+)">Xem báo cáo</a></td>'
            r"<td>([^<]*)</td>",
            listing,
        )
    }
    assert set(rows) == {r.result.path.name for r in rendered_reports.values()}
    with duckdb.connect(str(small_demo_db), read_only=True) as con:
        names = dict(con.sql("SELECT id, name_vi FROM org_unit").fetchall())
    for r in rendered_reports.values():
        unit, period, lang, when = rows[r.result.path.name]
        assert htmllib.unescape(unit) == (names[r.unit] if r.unit else "Toàn tỉnh"), "units by name, not id"
        assert lang == ("tiếng Việt" if r.lang == "vi" else "tiếng Anh")
        # the time of generation in Vietnam's time: the recorded time + 7 h
        recorded = dt.datetime.strptime(r.result.generated_at, "%d/%m/%Y %H:%M:%S %z")
        assert when == f"{recorded.astimezone(dt.timezone(dt.timedelta(hours=7))):%d/%m/%Y %H:%M}"
        if "period" in r.result.params:
            month = dt.date.fromisoformat(str(r.result.params["period"]) + "-01")
            assert period == f"tháng {month:%m/%Y}"
    sections = re.findall(r"<h3>([^<]*)</h3>", listing)
    assert sections == [k.title_vi for k in REPORT_KINDS.values()]
    assert "+0000" not in index and "T58" not in _text(index)


def test_the_index_is_the_leaders_front_page(
    rendered_reports: dict[str, Rendered], small_demo_db: Path
) -> None:
    """Headline figures with status, then every current department and commune by name with its band and
    links to its reports, grouped by level, and a search box."""
    out_dir = next(iter(rendered_reports.values())).result.path.parent
    index = (out_dir / "index.html").read_text(encoding="utf-8")
    front = index[: index.index('<section id="all">')]
    assert "Toàn tỉnh · tháng" in front
    cards = re.findall(r'<div class="card (green|amber|red|grey)">', front)
    assert len(cards) >= 6, "headline figures and the 766 mean"
    assert "Chỉ số 766: điểm trung bình của các đơn vị" in front
    for card in re.findall(r'<div class="card [a-z]+">(.*?)</div></div>', front):
        lines = re.findall(r"<div class=\"(?:status|meta)\">([^<]*)</div>", card)
        assert len(lines) == len(set(lines)), f"a headline card says the same thing twice: {lines}"
    assert re.search(r"<h3>Sở, ban, ngành \(\d+\)</h3>", front) and re.search(
        r"<h3>Xã, phường \(\d+\)</h3>", front
    )
    assert '<input id="search" type="search"' in front and "<script>" in index
    with duckdb.connect(str(small_demo_db), read_only=True) as con:
        current = con.sql(
            "SELECT name_vi FROM org_unit WHERE level IN ('department', 'commune') AND valid_to IS NULL"
        ).fetchall()
    rows = re.findall(r'<tr data-name="[^"]*"><td>[^<]*</td><td>([^<]*)</td>', front)
    assert sorted(htmllib.unescape(r) for r in rows) == sorted(n for (n,) in current)
    syt = re.search(r'<tr data-name="sở y tế">(.*?)</tr>', front)
    assert syt and 'href="unit_scorecard_SYT_' in syt.group(1) and "Phiếu điểm đơn vị" in syt.group(1)
    assert re.search(r"<td>(xuất sắc|tốt|khá|trung bình|yếu)</td>", syt.group(1))


def test_the_manifest_has_one_entry_per_report(rendered_reports: dict[str, Rendered]) -> None:
    out_dir = next(iter(rendered_reports.values())).result.path.parent
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    entries = {e["path"]: e for e in manifest["reports"]}
    assert len(entries) == len(manifest["reports"]) == len(rendered_reports)
    for r in rendered_reports.values():
        entry = entries[r.result.path.name]
        assert entry["kind"] == r.kind
        assert entry["params"] == r.result.params
        assert entry["data_fingerprint"] == r.result.data_fingerprint
        assert entry["size"] == r.result.path.stat().st_size
    leftovers = [p.name for p in out_dir.iterdir() if p.name.endswith((".tmp", ".ipynb")) or ".tmp" in p.name]
    assert not leftovers


# -- parameters are checked before any kernel starts -----------------------------------------------------


@pytest.fixture
def no_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("papermill.execute_notebook was called: parameters were not validated first")

    monkeypatch.setattr(papermill, "execute_notebook", refuse)


@pytest.mark.parametrize(
    ("kind", "params", "error", "says"),
    [
        ("progress_report", {"unit_id": "STP"}, ReportParameterError, "unknown parameter 'unit_id'"),
        ("progress_report", {"period": "2026-13"}, ReportParameterError, "period must be a month"),
        ("progress_report", {"period": "06/2026"}, ReportParameterError, "period must be a month"),
        ("progress_report", {"period": "2031-01"}, ReportError, "outside the data"),
        ("progress_report", {"lang": "fr"}, ReportParameterError, "parameter 'lang'"),
        ("progress_report", {"unit": "Sở Không Tồn Tại"}, ReportParameterError, "unknown org unit"),
        ("unit_scorecard", {}, ReportParameterError, "missing parameter 'unit'"),
        ("unit_scorecard", {"unit": "T58"}, ReportParameterError, "is a province"),
        ("roadmap_report", {"period": "2026-01"}, ReportParameterError, "unknown parameter 'period'"),
        ("roadmap_report", {"as_of": "2019-12-31"}, ReportError, "outside the data"),
        ("roadmap_report", {"phase": "P2026_2035"}, ReportParameterError, "unknown roadmap phase"),
    ],
)
def test_bad_parameters_fail_fast_without_a_kernel(
    no_kernel: None, small_demo_db: Path, tmp_path: Path, kind: str, params: dict, error: type, says: str
) -> None:
    with pytest.raises(error) as info:
        render_report(kind, {**params, "db_path": str(small_demo_db)}, out_dir=tmp_path / "out")
    assert says in info.value.message
    assert info.value.hint, "the error gives no hint"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_unknown_parameter_gets_a_suggestion(no_kernel: None, small_demo_db: Path) -> None:
    with pytest.raises(ReportParameterError) as info:
        render_report("progress_report", {"perod": "2026-01", "db_path": str(small_demo_db)})
    assert "did you mean 'period'" in str(info.value)


def test_an_unknown_kind_lists_the_known_ones(no_kernel: None) -> None:
    with pytest.raises(EgovError) as info:
        render_report("weekly_report", {})
    assert "progress_report" in str(info.value)


def test_the_cli_reports_a_bad_parameter_in_one_line(small_demo_db: Path, tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "egov-metrics"
    run = subprocess.run(
        [
            str(exe),
            "report",
            "progress_report",
            "-p",
            "month=2026-01",
            "--db",
            str(small_demo_db),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "unknown parameter 'month'" in run.stdout + run.stderr
    assert not list(tmp_path.iterdir())


# -- a failing notebook never replaces a good report -----------------------------------------------------


def _stand_in(folder: Path, *cells: str) -> None:
    """A stand-in progress_report.ipynb: the real parameters cell, then `cells`."""
    params = nbformat.v4.new_code_cell(
        'import os\n\nperiod = ""\nunit = None\nlang = "vi"\ndb_path = os.environ.get("EGOV_DB", "")\n',
        metadata={"tags": ["parameters"]},
    )
    nb = nbformat.v4.new_notebook(cells=[params, *(nbformat.v4.new_code_cell(c) for c in cells)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / "progress_report.ipynb")


def test_a_failing_notebook_raises_one_line_and_keeps_the_good_report(
    small_demo_db: Path, tmp_path: Path
) -> None:
    notebooks, out = tmp_path / "notebooks", tmp_path / "out"
    params = {"period": "2026-05", "db_path": str(small_demo_db)}
    _stand_in(notebooks, "from IPython.display import HTML\nHTML('<p>good report</p>')")
    good = render_report("progress_report", params, out_dir=out, notebooks_dir=notebooks)
    good_bytes = good.path.read_bytes()
    assert b"good report" in good_bytes
    # the files (the compute cache under .cache/ may gain answers: they are the data's, not the report's)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    _stand_in(notebooks, "x = 1", "raise ValueError(f'the stand-in fails\\non purpose ({x})')")
    with pytest.raises(ReportError) as info:
        render_report("progress_report", params, out_dir=out, notebooks_dir=notebooks)
    message = info.value.message
    assert "\n" not in message
    assert re.search(r"cell \d+: ValueError: the stand-in fails on purpose \(1\)$", message), message
    assert str(info.value).splitlines()[0] == message

    assert good.path.read_bytes() == good_bytes, "a failed run replaced the good report"
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before, f"a failed run changed the output folder: {sorted(set(after) ^ set(before))}"


# -- one status language -----------------------------------------------------------------------------------

CARD_TAG = re.compile(r'<div (?=[^>]*class="egov-card )[^>]*>')


def _attr(tag: str, name: str) -> str:
    found = re.search(rf'{name}="([^"]*)"', tag)
    assert found, f"no {name} in {tag}"
    return htmllib.unescape(found.group(1))


def _cards(html: str) -> dict[str, dict[str, str]]:
    """KPI cards by indicator name: light (css class), status, and the text of each meta line."""
    cards = {}
    for m in CARD_TAG.finditer(html):
        tag = m.group(0)
        rest = html[m.end() : m.end() + 3000]
        name = htmllib.unescape(re.search(r'<div class="name">([^<]*)</div>', rest).group(1))
        light = re.search(r"egov-(green|amber|red|grey)", _attr(tag, "class")).group(1)
        body = rest[: rest.find('<div class="egov-card') if '<div class="egov-card' in rest else len(rest)]
        cards[name] = {
            "light": light,
            "status": _attr(tag, "data-status"),
            "label": htmllib.unescape(re.search(r'<div class="light">([^<]*)</div>', body).group(1)),
            "meta": " | ".join(
                htmllib.unescape(x) for x in re.findall(r'<div class="meta">([^<]*)</div>', body)
            ),
        }
    return cards


def _year_rows(html: str) -> dict[str, dict[str, str]]:
    """The roadmap report's "targets of the year" table by indicator name: status, target, current value."""
    table_html = re.search(r'<table class="egov-table egov-year-targets">(.*?)</table>', html, re.DOTALL)
    assert table_html, "no table of the year's targets in the roadmap report"
    rows = {}
    for status, cells in re.findall(
        r'<tr class="egov-status-(\w+)">(.*?)</tr>', table_html.group(1), re.DOTALL
    ):
        texts = [htmllib.unescape(c).strip() for c in re.findall(r"<td[^>]*>([^<]*)</td>", cells)]
        rows[texts[0]] = {"status": status, "target": texts[2], "current": texts[3], "status_text": texts[4]}
    return rows


LIGHT_OF = {
    "achieved": "green",
    "on_track": "green",
    "at_risk": "amber",
    "off_track": "red",
    "no_data": "grey",
}
STATUS_WORDS = {
    "vi": {"achieved": "Đã đạt", "on_track": "Đúng tiến độ", "at_risk": "Có nguy cơ", "off_track": "Chệch hướng",
           "no_data": "Chưa có số liệu", "no_target": "Chưa có mục tiêu"},
    "en": {"achieved": "Achieved", "on_track": "On track", "at_risk": "At risk", "off_track": "Off track",
           "no_data": "No data", "no_target": "No target"},
}  # fmt: skip


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_progress_and_roadmap_reports_agree_on_every_indicator(
    small_demo_db: Path, tmp_path: Path, lang: str
) -> None:
    """Rendered for the same date, each KPI card with a target has the roadmap's status, target and current
    value for that indicator; the words are the roadmap's; cards without a target are grey."""
    period, as_of = "2026-03", "2026-03-31"
    progress = render_report(
        "progress_report", {"period": period, "lang": lang, "db_path": str(small_demo_db)}, out_dir=tmp_path
    )
    roadmap = render_report(
        "roadmap_report", {"as_of": as_of, "lang": lang, "db_path": str(small_demo_db)}, out_dir=tmp_path
    )
    cards = _cards(progress.path.read_text(encoding="utf-8"))
    rows = _year_rows(roadmap.path.read_text(encoding="utf-8"))
    assert len(cards) >= 10 and len(rows) >= 8
    compared = 0
    for name, card in cards.items():
        assert card["label"] == STATUS_WORDS[lang][card["status"]], card
        if card["status"] == "no_target":
            assert name not in rows, f"{name}: the roadmap has a target the card does not show"
            assert card["light"] == "grey"
            continue
        row = rows[name]
        assert card["status"] == row["status"], f"{name}: card {card['status']} vs roadmap {row['status']}"
        assert card["light"] == LIGHT_OF[row["status"]]
        assert card["label"] == row["status_text"]
        assert f": {row['target']}" in card["meta"], f"{name}: target {row['target']} not on the card: {card}"
        assert f": {row['current']}" in card["meta"], (
            f"{name}: current {row['current']} not on the card: {card}"
        )
        compared += 1
    assert compared >= 6, f"only {compared} cards have a target"
    assert {c["light"] for c in cards.values()} & {"red", "amber"}, "every card is green: nothing was judged"


def test_a_card_without_a_target_has_no_light(rendered_reports: dict[str, Rendered]) -> None:
    """The department's report: indicators without a roadmap target are grey "No target", never green."""
    for case in ("progress_province_vi", "progress_department_vi", "progress_commune_en"):
        report = rendered_reports[case]
        cards = _cards(report.html)
        untargeted = {n: c for n, c in cards.items() if c["status"] == "no_target"}
        assert untargeted, f"{case}: every card claims a target"
        for name, card in untargeted.items():
            assert card["light"] == "grey" and card["label"] == STATUS_WORDS[report.lang]["no_target"], name
            assert "Mục tiêu" not in card["meta"] and "Target" not in card["meta"], name
        for name, card in cards.items():
            assert card["light"] == ("grey" if card["status"] == "no_target" else LIGHT_OF[card["status"]]), (
                name
            )
    # a unit held to the province's target says so
    dept = _cards(rendered_reports["progress_department_vi"].html)
    assert any("mục tiêu chung của tỉnh" in c["meta"] for c in dept.values())


@pytest.mark.parametrize("case", ["progress_province_vi", "progress_commune_en", "roadmap_vi", "roadmap_en"])
def test_every_report_with_lights_has_a_legend(rendered_reports: dict[str, Rendered], case: str) -> None:
    report = rendered_reports[case]
    legend = re.search(r'<div class="egov-legend">(.*?)</div>', report.html, re.DOTALL)
    assert legend, f"{case}: no legend"
    text = htmllib.unescape(legend.group(1))
    words = (
        ("Xanh", "Vàng", "Đỏ", "Xám", "trung vị")
        if report.lang == "vi"
        else ("Green", "Amber", "Red", "Grey", "median")
    )
    for word in words:
        assert word in text, f"{case}: legend without {word!r}"


# -- fully Vietnamese / fully English ---------------------------------------------------------------------

#: English words that are not Vietnamese words too (so "to", "in", "an", "no", "on" are left out).
ENGLISH_WORDS = frozenset(
    [
        "the",
        "of",
        "and",
        "is",
        "not",
        "for",
        "with",
        "by",
        "are",
        "was",
        "were",
        "from",
        "this",
        "that",
        "be",
        "or",
        "its",
        "has",
        "have",
        "until",
        "than",
        "which",
        "each",
        "only",
        "into",
        "when",
        "per",
        "target",
        "targets",
        "confirmed",
        "points",
        "group",
        "rate",
        "unit",
        "units",
        "online",
        "data",
        "ytd",
        "phase",
        "month",
        "year",
        "source",
        "provisional",
        "score",
        "rank",
        "none",
        "status",
        "report",
        "parameters",
        "generated",
        "version",
        "fingerprint",
        "track",
        "risk",
        "achieved",
        "legend",
        "trend",
        "median",
        "current",
        "overdue",
        "open",
        "total",
        "band",
        "level",
        "summary",
    ]
)


def _english(text: str) -> list[str]:
    """English words and code-like identifiers (P2026_2030, L5_LAND_DB, fully_online_dossiers) with context."""
    found = []
    for m in re.finditer(r"\w+", text):
        word = m.group(0)
        if word.isascii() and (
            word.lower() in ENGLISH_WORDS or ("_" in word and re.search("[A-Za-z]", word))
        ):
            found.append(text[max(0, m.start() - 40) : m.end() + 40].replace("\n", " "))
    return found


def test_the_english_detector_finds_english() -> None:
    assert _english("Tạm tính: The conversion of the group is not confirmed")
    assert _english("Giai đoạn P2026_2030") and _english("L5_LAND_DB Cơ sở dữ liệu")
    assert not _english("Tỷ lệ hồ sơ trực tuyến toàn trình đúng hạn, an toàn thông tin, in ấn, to lớn")


@pytest.mark.parametrize("case", [c for c, (_, p) in REPORT_CASES.items() if p.get("lang", "vi") == "vi"])
def test_a_vietnamese_report_shows_no_english(rendered_reports: dict[str, Rendered], case: str) -> None:
    text = _text(_body(rendered_reports[case].html))
    found = _english(text)
    assert not found, f"{case}: English in a Vietnamese report: {found[:8]}"


def _interface_strings(lang: str) -> set[str]:
    """Every interface string the report modules define for `lang` (headings, labels, legend, footer)."""
    import importlib

    from egov_metrics.reports import common, render

    out: set[str] = set()

    def collect(value: object) -> None:
        if isinstance(value, str):
            out.add(value)
        elif isinstance(value, dict):
            for v in value.values():
                collect(v)
        elif isinstance(value, tuple | list):
            for v in value:
                collect(v)

    pages = [importlib.import_module(f"egov_metrics.reports.kinds.{name}.page") for name in REPORT_KINDS]
    for table_of in (*(page.T for page in pages), common.LEGEND_WORDS, render.PARAM_LABELS):
        collect(table_of[lang])
    collect(common.STATUS_TEXT[lang])
    collect([kind.labels(lang) for kind in REPORT_KINDS.values()])  # the footer's parameter labels
    return {s for s in out if len(s) >= 6 and "{" not in s}  # short words ("huyện") also name documents


@pytest.mark.parametrize("case", [c for c, (_, p) in REPORT_CASES.items() if p.get("lang") == "en"])
def test_an_english_report_has_no_untranslated_interface_text(
    rendered_reports: dict[str, Rendered], case: str
) -> None:
    text = " ".join(_text(_body(rendered_reports[case].html)).split())
    english = _interface_strings("en")
    leftovers = sorted(s for s in _interface_strings("vi") - english if s in text)
    assert not leftovers, f"{case}: Vietnamese interface text in an English report: {leftovers[:8]}"
    assert "Thông tin kỹ thuật" not in text and "Chưa có mục tiêu" not in text


def test_report_kernels_are_quiet(small_demo_db: Path, tmp_path: Path) -> None:
    """A real render through the CLI writes nothing to stderr: no "[IPKernelApp] WARNING | Kernel is running
    over TCP without encryption", no "KeyboardInterrupt caught in kernel" at shutdown."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "egov-metrics"), "report", "unit_scorecard", "-p", "unit=SYT",
         "--db", str(small_demo_db), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", f"stderr of a healthy render: {done.stderr[:500]}"
    assert "IPKernelApp" not in done.stdout and "KeyboardInterrupt" not in done.stdout


def test_the_units_league_judges_each_unit_as_its_own_assessment(small_demo_db: Path) -> None:
    """`assess_units` (one engine call for every unit) gives each unit the status, target and current value
    that `assess(unit=…, targets="year")` gives it alone; a department is held to the department e-office
    target (Decision 749) and to the province's target elsewhere."""
    import polars as pl

    from egov_metrics.roadmap import assess
    from egov_metrics.roadmap.assessment import assess_units

    as_of = "2026-03-31"
    league = assess_units(as_of=as_of, db=small_demo_db)
    for unit in ("STP", "X2503"):
        alone = assess(as_of=as_of, unit=unit, db=small_demo_db, targets="year")
        mine = league.filter(pl.col("unit_id") == unit).sort("indicator")
        alone = alone.sort("indicator")
        assert mine["indicator"].to_list() == alone["indicator"].to_list()
        assert mine["status"].to_list() == alone["status"].to_list()
        assert mine["target"].to_list() == alone["target"].to_list()
        assert mine["target_level"].to_list() == alone["unit_level"].to_list()
        for a, b in zip(mine["current"], alone["current"], strict=True):
            assert (a is None and b is None) or abs(a - b) < 1e-9
    stp = {r["indicator"]: r for r in league.filter(pl.col("unit_id") == "STP").iter_rows(named=True)}
    assert stp["e_office_share"]["target_level"] == "department"
    assert stp["dossiers_on_time"]["target_level"] == "province"


def test_the_province_report_has_the_units_league(rendered_reports: dict[str, Rendered]) -> None:
    html = rendered_reports["progress_province_vi"].html
    section = _section(html, re.search(r"<h2>(Các đơn vị so với mục tiêu năm \d{4})</h2>", html).group(1))
    assert "<h3>Sở, ban, ngành (" in section and "<h3>Xã, phường (" in section
    assert "Đã đạt*" in section or "Chệch hướng*" in section, "province targets applied to units are marked"
    assert "Tỷ lệ văn bản điện tử" in section
    assert "Các đơn vị so với mục tiêu" not in rendered_reports["progress_department_vi"].html
