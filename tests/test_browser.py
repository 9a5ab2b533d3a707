"""Every rendered report opened in a real headless Chromium with the network blocked.

Debian's `chromium` (installed by `make browser`, which `make test` runs) is driven through Playwright with
`executable_path`: Playwright never downloads a browser of its own here. All host names resolve to nothing
(`--host-resolver-rules`) and every request other than the page's own file is aborted and recorded, so a
report that needed the network fails. For each report: no request, no console error or warning, no script
error, every chart an SVG drawn at a visible size with its text, the right page language and Vietnamese
text. A full-page screenshot of each report is kept in tests/artifacts/ (gitignored) for a human to look at,
and the province's progress report is printed to an A4 PDF there too.
"""

from __future__ import annotations

import html as htmllib
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fixtures.reports import MUST_READ, REPORT_CASES, Rendered

pytestmark = pytest.mark.slow  # reports rendered and opened in headless Chromium

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
INSTALL = (
    "Install Debian's chromium without its recommends (their fonts lack Vietnamese glyphs): run `make browser` "
    "as root, or `apt-get install --no-install-recommends chromium`; or set EGOV_CHROMIUM to a Chromium binary."
)
FLAGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND",  # no host name resolves: a page that needs the network breaks
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--no-sandbox",
]
LAYOUT = """() => {
    const td = document.querySelector('table.egov-table td:not(.num)');
    const floats = Array.from(document.querySelectorAll('.egov-appendix dt, .egov-appendix dd'))
        .map(e => getComputedStyle(e).cssFloat);
    return {td: td ? getComputedStyle(td).textAlign : null, floats: Array.from(new Set(floats))};
}"""
SVG_BOXES = """() => Array.from(document.querySelectorAll('svg'))
    .filter(svg => !svg.parentElement.closest('svg'))
    .map(svg => {
        const box = svg.getBoundingClientRect();
        const texts = Array.from(svg.querySelectorAll('text')).filter(t => t.textContent.trim()).length;
        const marks = svg.querySelectorAll('path, rect, line, circle, symbol').length;
        return {width: box.width, height: box.height, texts: texts, marks: marks};
    })"""


@dataclass
class Visit:
    """What happened when the browser opened one page."""

    lang: str = ""
    text: str = ""
    charts: list[dict] = field(default_factory=list)
    layout: dict = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return (
            [f"network request: {u}" for u in self.requests]
            + [f"console: {m}" for m in self.console]
            + [f"script error: {e}" for e in self.errors]
        )


def find_chromium() -> Path:
    """$EGOV_CHROMIUM, else `chromium` on PATH, else Debian's path; fails (never skips) when it is missing."""
    path = Path(os.environ.get("EGOV_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium")
    if not path.is_file():
        pytest.fail(f"Chromium is not installed (looked for {path}). {INSTALL}", pytrace=False)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    chromium_path = find_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        pytest.fail("playwright is missing: pip install -e '.[test]' (make test does it)", pytrace=False)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(chromium_path), args=FLAGS, headless=True)
        yield chromium
        chromium.close()


def visit(browser: object, page_file: Path, screenshot: Path | None = None) -> Visit:
    """Open `page_file` with every other request aborted; record what happened; optionally take a picture."""
    seen = Visit()
    own = page_file.resolve().as_uri()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")

    def guard(route: object) -> None:
        url = route.request.url
        if url == own or url.startswith("data:"):
            route.continue_()
        else:
            seen.requests.append(url)
            route.abort("internetdisconnected")

    context.route("**/*", guard)
    page = context.new_page()
    page.on(
        "console",
        lambda m: seen.console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    page.goto(own, wait_until="load")
    page.wait_for_load_state("networkidle")
    seen.lang = page.evaluate("document.documentElement.lang")
    seen.text = page.inner_text("body")
    seen.charts = page.evaluate(SVG_BOXES)
    seen.layout = page.evaluate(LAYOUT)
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
    context.close()
    return seen


@pytest.mark.parametrize("case", list(REPORT_CASES))
def test_the_report_renders_offline_in_chromium(
    case: str, browser: object, rendered_reports: dict[str, Rendered]
) -> None:
    report = rendered_reports[case]
    shot = ARTIFACTS / f"{case}.png"
    seen = visit(browser, report.result.path, screenshot=shot)

    assert not seen.problems(), f"{case}: " + "; ".join(seen.problems())
    assert seen.lang == report.lang
    for words in MUST_READ[(report.kind, report.lang)]:
        assert words in seen.text, f"{case}: {words!r} is not on the page"
    if report.lang == "vi":
        assert re.search(r"[ạảấầẩẫậắằẳẵặẹẻẽếềểễệịỉọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ]", seen.text)
    code = re.findall(r"\bimport egov_metrics|\b(?:report|card)\.[a-z_]+\(", seen.text)
    assert not code, f"{case}: notebook code is visible: {code[:3]}"

    expected = report.html.count("<svg")
    assert len(seen.charts) == expected >= 2, (
        f"{case}: {len(seen.charts)} charts drawn, {expected} in the file"
    )
    for n, svg in enumerate(seen.charts):
        assert svg["width"] > 100 and svg["height"] > 50, f"{case}: chart {n} drawn at {svg}"
        assert svg["texts"] >= 2 and svg["marks"] >= 3, (
            f"{case}: chart {n} has no axes, title or marks: {svg}"
        )
    assert shot.is_file() and shot.stat().st_size > 20_000
    # the report's CSS wins over JupyterLab's: text cells left-aligned, definitions not floated into columns
    assert seen.layout["td"] in (None, "left"), f"{case}: table text is aligned {seen.layout['td']}"
    assert seen.layout["floats"] == ["none"], f"{case}: appendix entries float ({seen.layout['floats']})"


def test_the_index_opens_offline(browser: object, rendered_reports: dict[str, Rendered]) -> None:
    index = next(iter(rendered_reports.values())).result.path.parent / "index.html"
    seen = visit(browser, index, screenshot=ARTIFACTS / "index.png")
    assert not seen.problems(), "; ".join(seen.problems())
    assert seen.lang == "vi"
    for words in (
        "Toàn tỉnh",
        "Các đơn vị",
        "Sở, ban, ngành",
        "Xã, phường",
        "Tất cả báo cáo",
        "giờ Việt Nam",
    ):
        assert words in seen.text, words
    assert seen.text.count("Xem báo cáo") == len(rendered_reports)


def test_the_index_search_box_filters_units(browser: object, rendered_reports: dict[str, Rendered]) -> None:
    """Typing part of a name, without accents, leaves only the matching units."""
    index = next(iter(rendered_reports.values())).result.path.parent / "index.html"
    context = browser.new_context(viewport={"width": 390, "height": 900})
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(index.resolve().as_uri(), wait_until="load")
    visible = (
        "() => Array.from(document.querySelectorAll('table.units tbody tr')).filter(r => r.offsetParent)"
    )
    total = page.evaluate(f"({visible})().length")
    page.fill("#search", "y te")
    names = page.evaluate(f"({visible})().map(r => r.cells[1].textContent)")
    page.fill("#search", "")
    again = page.evaluate(f"({visible})().length")
    context.close()
    assert not errors, errors
    assert names == ["Sở Y tế"] and again == total > 10


#: The smallest font size of any visible text, SVG text at the scale it is drawn, and the page's overflow.
NARROW = """() => {
    let smallest = 100, where = '';
    for (const el of document.querySelectorAll('body *')) {
        if (!el.offsetParent && el.tagName.toLowerCase() !== 'text') continue;
        const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
        if (!own) continue;
        let size = parseFloat(getComputedStyle(el).fontSize);
        const svg = el.closest('svg');
        if (svg) {
            const outer = svg.parentElement.closest('svg') || svg;
            const drawn = outer.getBoundingClientRect().width, natural = outer.width.baseVal.value;
            if (!drawn) continue;
            size = size * drawn / natural;
        }
        if (size < smallest) { smallest = size; where = el.textContent.trim().slice(0, 40); }
    }
    return {smallest: smallest, where: where, overflow: document.documentElement.scrollWidth - window.innerWidth};
}"""


@pytest.mark.parametrize("case", list(REPORT_CASES))
def test_the_report_is_usable_on_a_phone(
    case: str, browser: object, rendered_reports: dict[str, Rendered]
) -> None:
    """At 390 px: nothing sticks out of the page (tables and charts scroll inside their box) and no text,
    chart text included, is drawn under 10 px."""
    report = rendered_reports[case]
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
    page = context.new_page()
    page.goto(report.result.path.resolve().as_uri(), wait_until="load")
    found = page.evaluate(NARROW)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{case}_390.png"), full_page=True)
    context.close()
    assert found["overflow"] <= 1, f"{case}: the page is {found['overflow']} px wider than the phone"
    assert found["smallest"] >= 9.95, f"{case}: text drawn at {found['smallest']:.1f} px: {found['where']!r}"


def test_the_province_report_prints_on_a4(browser: object, rendered_reports: dict[str, Rendered]) -> None:
    report = rendered_reports["progress_province_vi"]
    context = browser.new_context()
    context.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort()
    )
    page = context.new_page()
    page.goto(report.result.path.resolve().as_uri(), wait_until="load")
    page.emulate_media(media="print")
    pdf = ARTIFACTS / "progress_province_vi.pdf"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    context.close()
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert 3 <= pages <= 40, f"{pages} printed pages"
    sizes = {
        tuple(round(float(x)) for x in m)
        for m in re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    }
    assert sizes == {(595, 842)}, f"page sizes {sizes} are not A4 portrait (595 × 842 pt)"
    # page 1 holds the summary and every KPI card
    from pypdf import PdfReader

    flat = " ".join(PdfReader(pdf).pages[0].extract_text().split())
    assert "Tóm tắt" in flat and "Ba việc cần ưu tiên" in flat, "the summary is not on page 1"
    assert "Chỉ tiêu chính so với mục tiêu" in flat, "the KPI cards do not start on page 1"
    names = re.findall(r'<div class="name">([^<]*)</div>', report.html)
    assert len(names) >= 10
    last = " ".join(htmllib.unescape(names[-1]).split()[:3])
    assert last in flat, f"the last KPI card ({last}) is not on page 1"


# -- the checks above can fail ---------------------------------------------------------------------------


def test_a_page_that_needs_the_network_or_throws_is_caught(browser: object, tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
        '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto"></head>'
        "<body><p>Xin chào</p><img src='https://example.com/chart.png'>"
        "<script>console.error('boom'); undefinedFunction();</script></body></html>",
        encoding="utf-8",
    )
    problems = "\n".join(visit(browser, bad).problems())
    assert "network request: https://fonts.googleapis.com" in problems
    assert "network request: https://example.com/chart.png" in problems
    assert "console: error: boom" in problems
    assert "script error:" in problems and "undefinedFunction" in problems


def test_a_missing_chromium_fails_with_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """No skip: without Chromium the browser tests fail and say how to install it."""
    monkeypatch.setenv("EGOV_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.fail.Exception) as info:
        find_chromium()
    assert "Chromium is not installed (looked for /nonexistent/chromium)" in str(info.value)
    assert "apt-get install --no-install-recommends chromium" in str(info.value)
