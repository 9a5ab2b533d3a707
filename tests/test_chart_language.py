"""Chart SVGs speak only the chart's language: no Vega-generated (English) ARIA text or raw field names inside,
one accessible name (the title) on the root, dates written per language, no two value ticks reading the same."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from typing import Any

import altair as alt
import polars as pl
import pytest

from egov_metrics import charts
from egov_metrics import roadmap as rm

D = dt.date
LANGS = ("vi", "en")


def _trajectories() -> pl.DataFrame:
    actual = [(D(2025, m, 28), 50.0 + m) for m in range(1, 12)]
    rows = [("actual", "actual", d, v, None, None) for d, v in actual]
    rows += [
        ("path", "baseline", D(2024, 12, 31), 45.0, None, None),
        ("path", "target", D(2026, 12, 31), 80.0, None, None),
        ("projection", "projection", D(2025, 11, 28), 61.0, 61.0, 61.0),
        ("projection", "projection", D(2026, 12, 31), 68.1234567, 63.3333333, 72.9876543),
    ]
    return pl.DataFrame(
        [("online_share", "Tỷ lệ hồ sơ nộp trực tuyến", "Online submission share", "percent", "province", *r)
         for r in rows],
        schema=["indicator", "name_vi", "name_en", "unit", "unit_level", "series", "kind", "date", "value", "low",
                "high"],
        orient="row",
    )  # fmt: skip


def _assessment() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "indicator": ["online_share", "processing_days_mean"],
            "name_vi": ["Tỷ lệ hồ sơ nộp trực tuyến", "Thời gian giải quyết trung bình"],
            "name_en": ["Online submission share", "Processing time, mean"],
            "unit": ["percent", "working_days"],
            "unit_level": ["province", "province"],
            "target": [80.0, 4.0],
            "current": [61.0, 4.4],
            "projection": [68.1234567, 4.0461],
            "status": ["off_track", "at_risk"],
        }
    )


def _bands() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "indicator": ["online_share"] * 3,
            "start": [0.0, 50.0, 75.0],
            "end": [50.0, 75.0, None],
            "light": ["red", "amber", "green"],
        }
    )


def _readiness() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "layer": [1, 1, 2],
            "name_vi": ["Người sử dụng", "Người sử dụng", "Kênh giao tiếp"],
            "name_en": ["Users", "Users", "Access channels"],
            "phase": ["2021–2025", "2026–2030", "2021–2025"],
            "planned": [3, 2, 4],
            "in_operation": [3, 0, 2],
            "readiness": [100.0, 0.0, 50.0],
            "overdue": [0, 0, 1],
            "lagging": [False, False, True],
            "flat_usage": [False, False, False],
        }
    )


def _monthly(values: list[float], unit_name: str = "name") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "period_start": [D(2025 + (m - 1) // 12, (m - 1) % 12 + 1, 1) for m in range(1, len(values) + 1)],
            "value": values,
            unit_name: ["Tỷ lệ giao dịch thành công"] * len(values),
        }
    )


def _league() -> pl.DataFrame:
    return pl.DataFrame(
        {"unit_name": ["Sở Tư pháp", "Sở Y tế", "Sở Xây dựng"], "value": [91.12345, 88.5, 80.25]}
    )


#: Every builder, by name: its chart in a language; TITLES: the chart's accessible name in that language.
BUILDERS: dict[str, Callable[[str], alt.TopLevelMixin]] = {
    "trajectory": lambda lang: charts.chart_trajectory(_trajectories(), "online_share", lang=lang),
    "timeline": lambda lang: charts.chart_timeline(
        rm.components(rm.load_roadmap(), as_of=D(2026, 6, 30)), lang=lang
    ),
    "bullet": lambda lang: charts.chart_bullet(_assessment(), _bands(), lang=lang),
    "readiness": lambda lang: charts.chart_readiness(_readiness(), lang=lang),
    "trend": lambda lang: charts.chart_trend(
        _monthly([98.1, 99.3, 98.6, 98.9]), color="name", title="Tỷ lệ / Rate", lang=lang
    ),
    "trend_untitled": lambda lang: charts.chart_trend(_monthly([40.0, 55.5]), lang=lang),
    "bar": lambda lang: charts.chart_bar(_league(), category="unit", title="Tổng điểm / Total", lang=lang),
}
TITLES = {
    ("trajectory", "vi"): "Tỷ lệ hồ sơ nộp trực tuyến",
    ("trajectory", "en"): "Online submission share",
    ("timeline", "vi"): "Lộ trình các thành phần kiến trúc",
    ("timeline", "en"): "Architecture components roadmap",
    ("bullet", "vi"): "Chỉ tiêu giai đoạn: hiện tại và dự báo",
    ("bullet", "en"): "Phase targets: current and projected",
    ("readiness", "vi"): "Mức sẵn sàng theo lớp kiến trúc",
    ("readiness", "en"): "Readiness by architecture layer",
    ("trend", "vi"): "Tỷ lệ / Rate",
    ("trend", "en"): "Tỷ lệ / Rate",
    ("trend_untitled", "vi"): "Biểu đồ",
    ("trend_untitled", "en"): "Chart",
    ("bar", "vi"): "Tổng điểm / Total",
    ("bar", "en"): "Tổng điểm / Total",
}
#: Columns of the frames the builders chart: none may be read out in an SVG.
FIELDS = ("series_label", "status_color", "status_label", "unit_name", "period_start", "state_label", "phase_start",
          "projection:", "segment", "fill:", "cell:", "label:", "value:", "low:", "high:", "date:", "planned:")  # fmt: skip
#: Vega's generated ARIA phrases.
VEGA_ARIA = ("axis titled", "X-axis", "Y-axis", "legend", "Title text", "mark container", "scale with",
             "values from", "graphics-", "title")  # fmt: skip
#: Vietnamese month abbreviations of Vega's default date format in the old theme ("Th11 30, 2026").
VI_MONTH = re.compile(r"\bTh\d{1,2} \d{2}, \d{4}")
_ATTRIBUTE = re.compile(r'\s([a-zA-Z:-]+)="([^"]*)"')


def _tags(svg: str) -> list[str]:
    return re.findall(r'<[A-Za-z][^>"]*(?:"[^"]*"[^>"]*)*>', svg)


def _aria(svg: str) -> list[tuple[int, str, str]]:
    """(tag index, attribute, value) of every role/aria attribute in the SVG."""
    return [
        (i, name, html.unescape(value))
        for i, tag in enumerate(_tags(svg))
        for name, value in _ATTRIBUTE.findall(tag)
        if name == "role" or name.startswith("aria-")
    ]


def _texts(svg: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r">([^<]+)<", svg)]


def _readable(svg: str) -> str:
    """Everything in an SVG a person or a screen reader may get: text, and every attribute value but the CSS
    classes Vega names its groups with ("mark-group role-axis") and the drawing ones."""
    drawing = {
        "class",
        "d",
        "transform",
        "fill",
        "stroke",
        "style",
        "font-family",
        "xmlns",
        "xmlns:xlink",
        "id",
    }
    values = [html.unescape(v) for tag in _tags(svg) for n, v in _ATTRIBUTE.findall(tag) if n not in drawing]
    return "\n".join([*_texts(svg), *values])


@pytest.fixture(scope="module")
def drawn() -> dict[tuple[str, str], str]:
    return {(name, lang): charts.to_svg(build(lang)) for name, build in BUILDERS.items() for lang in LANGS}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", list(BUILDERS))
def test_only_the_root_is_named_and_by_the_title(
    drawn: dict[tuple[str, str], str], name: str, lang: str
) -> None:
    svg = drawn[name, lang]
    assert _aria(svg) == [(0, "role", "img"), (0, "aria-label", TITLES[name, lang])]
    assert svg.startswith(f'<svg role="img" aria-label="{html.escape(TITLES[name, lang], quote=True)}"')


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", list(BUILDERS))
def test_no_generated_aria_text_field_names_or_raw_numbers(
    drawn: dict[tuple[str, str], str], name: str, lang: str
) -> None:
    readable = _readable(drawn[name, lang])
    for phrase in (*VEGA_ARIA, *FIELDS):
        assert phrase not in readable, f"{name}/{lang}: {phrase!r} in the SVG"
    # unrounded data values (68.1234567, 63.3333333, 91.12345) are never written out
    assert not re.search(r"\d[.,]\d{4,}", readable), name
    assert not VI_MONTH.search(readable)


def test_vietnamese_svgs_hold_no_english_ui_words(drawn: dict[tuple[str, str], str]) -> None:
    english = {w.lower() for text in charts.LABELS["en"].values() for w in re.findall(r"[A-Za-z]{4,}", text)}
    english |= {"axis", "legend", "title", "text", "titled", "scale", "values", "symbol", "gradient", "chart"}
    for name in BUILDERS:
        svg = drawn[name, "vi"]
        words = {
            w.lower() for t in [*_texts(svg), *(v for *_, v in _aria(svg))] for w in re.findall(r"\w+", t)
        }
        assert not words & (english - {"rate", "total"}), name  # the two test titles are bilingual on purpose


def test_english_svgs_hold_no_vietnamese_ui_words(drawn: dict[tuple[str, str], str]) -> None:
    vietnamese = {text for text in charts.LABELS["vi"].values()} | {"Biểu đồ", "Th11", "Th12", "tháng"}
    for name in BUILDERS:
        if name in ("trend", "bar"):  # titles and unit names given by the test are Vietnamese data
            continue
        svg = drawn[name, "en"]
        inside = " ".join([*_texts(svg), *(v for *_, v in _aria(svg))])
        assert not [w for w in vietnamese if w in inside], name


# --- dates ---------------------------------------------------------------------------------------------------


def _dates_drawn(lang: str, fmt: str | None) -> list[str]:
    """The text Vega draws for 30/11/2026 and 01/01/2026 in a chart localised to `lang` (with `fmt`, else the
    chart's default date format)."""
    frame = pl.DataFrame({"day": [D(2026, 11, 30), D(2026, 1, 1)], "y": [0, 1]})
    text = alt.Text("day:T", format=fmt) if fmt else alt.Text("day:T")
    chart = alt.Chart(frame).mark_text().encode(y="y:O", text=text).properties(title="Ngày / Day")
    svg = charts.to_svg(charts.localise(chart, lang))
    return sorted(t for t in _texts(svg) if re.search(r"\d{4}", t))


@pytest.mark.parametrize(
    ("lang", "expected"), [("vi", ["01/01/2026", "30/11/2026"]), ("en", ["Jan 1, 2026", "Nov 30, 2026"])]
)
def test_dates_in_text_marks_follow_the_language(lang: str, expected: list[str]) -> None:
    assert _dates_drawn(lang, None) == expected
    # the locale's own date (%x) and month names (%b) are the language's too
    assert _dates_drawn(lang, "%x") == expected
    assert _dates_drawn(lang, "%b %Y") == (
        ["Th1 2026", "Th11 2026"] if lang == "vi" else ["Jan 2026", "Nov 2026"]
    )


@pytest.mark.parametrize(
    ("lang", "expected"), [("vi", ["01/01/2026", "30/11/2026"]), ("en", ["Jan 1, 2026", "Nov 30, 2026"])]
)
def test_trend_tooltips_write_days_per_language_and_months_as_the_axis(
    lang: str, expected: list[str]
) -> None:
    daily = pl.DataFrame({"period_start": [D(2026, 1, 1), D(2026, 11, 30)], "value": [1.0, 2.0]})
    spec = charts.chart_trend(daily, unit="count", lang=lang).to_dict()
    time_tip = next(t for t in spec["encoding"]["tooltip"] if t["field"] == "period_start")
    assert _dates_drawn(lang, time_tip["format"]) == expected
    monthly = charts.chart_trend(_monthly([1.0, 2.0]), unit="count", lang=lang).to_dict()
    time_tip = next(t for t in monthly["encoding"]["tooltip"] if t["field"] == "period_start")
    assert time_tip["format"] == charts.TIME_AXIS_FORMAT


# --- value ticks ---------------------------------------------------------------------------------------------


def _axis_labels(svg: str) -> list[list[str]]:
    """The labels of each axis of an SVG, in drawing order."""
    groups = re.findall(r'<g class="mark-text role-axis-label"[^>]*>(.*?)</g>', svg, flags=re.S)
    return [[html.unescape(t) for t in re.findall(r">([^<]+)</text>", g)] for g in groups]


def _numeric_axes(svg: str) -> list[list[str]]:
    return [
        labels for labels in _axis_labels(svg) if labels and all(re.fullmatch(r"[\d.,]+", t) for t in labels)
    ]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    ("build", "what"),
    [
        (lambda lang: charts.chart_trend(_monthly([98.1, 99.3, 98.6, 98.9]), color="name", lang=lang), "narrow %"),
        (lambda lang: charts.chart_trend(_monthly([99.91, 99.95, 99.93]), lang=lang), "very narrow %"),
        (lambda lang: charts.chart_trend(_monthly([1.0, 2.0, 1.0]), unit="count", lang=lang), "small counts"),
        (lambda lang: charts.chart_trend(_monthly([4.02, 4.1, 4.06]), unit="working_days", lang=lang), "days"),
        (lambda lang: charts.chart_bar(
            pl.DataFrame({"unit": ["A", "B"], "value": [1.0, 2.0]}), category="unit", unit="count", lang=lang),
         "bar of small counts"),
        (lambda lang: charts.chart_bar(
            pl.DataFrame({"unit": ["A", "B"], "value": [0.41, 0.45]}), category="unit", unit="ratio", lang=lang),
         "bar of ratios"),
    ],
)  # fmt: skip
def test_no_two_value_ticks_read_the_same(build: Callable[[str], Any], what: str, lang: str) -> None:
    axes = _numeric_axes(charts.to_svg(build(lang)))
    assert axes, what
    for labels in axes:
        assert len(labels) >= 2, (what, labels)
        assert len(set(labels)) == len(labels), (what, labels)


def test_wide_ranges_keep_the_units_format() -> None:
    """Only a narrow range gains decimals: the usual percent axis still reads 40, 50, … (no "40,0")."""
    svg = charts.to_svg(charts.chart_trend(_monthly([41.0, 63.0, 95.0]), lang="vi"))
    (labels,) = _numeric_axes(svg)
    assert labels[:6] == ["40", "50", "60", "70", "80", "90"]
    narrow = charts.to_svg(charts.chart_trend(_monthly([98.1, 99.3]), lang="vi"))
    (labels,) = _numeric_axes(narrow)
    assert all(re.fullmatch(r"\d{2},\d", t) for t in labels), labels  # Vietnamese decimal comma
