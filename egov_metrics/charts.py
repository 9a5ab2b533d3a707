"""Altair chart builders with one registered theme, in Vietnamese or English, rendered to static SVG.

Every builder takes an aggregated frame (polars or pandas; a few hundred rows at most: `MAX_ROWS`) and
returns an Altair chart; `to_svg(chart)` renders it with vl-convert into an SVG string that opens offline,
keeps its text selectable and is byte-identical from run to run.

    chart_trajectory(trajectories(...), "fully_online_dossiers", lang="vi")   # actuals, path, projection
    chart_timeline(components(...))                                           # components by layer/phase
    chart_bullet(assess(...), legend_frame(...))                              # targets as bullet charts
    chart_readiness(layer_readiness(...))                                     # layer × phase heat map
    chart_trend(frame, ...) / chart_bar(frame, ...)                           # simple helpers for reports

The theme (`egov`) is registered and enabled on import: the font stack `FONT` (see there for why Arial and
Liberation Sans come first), Vietnamese number and time locales (1.234,5; 30/11/2026) in the chart config. English
charts carry the English locales in their own config (so they cannot be layered or concatenated further; Vietnamese
ones can). Decimal columns are cast to Float64 before charting (no renderer accepts them).

No English in a Vietnamese chart, inside the SVG too: Vega's generated ARIA text (English phrases such as "X-axis
titled …", raw field names, unrounded numbers) is turned off (`config.aria`), and `to_svg` removes what Vega
writes regardless and names the whole SVG in the chart's language (`role="img"`, `aria-label`) from the spec's
`description`: every builder's chart has one, its title (`localise` puts it there).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import math
import re
import threading
from collections.abc import Sequence
from typing import Any, cast

import altair as alt
import polars as pl
import vl_convert as vlc

from egov_metrics import svgworker
from egov_metrics.errors import EgovError, UnknownNameError
from egov_metrics.i18n import check_lang, fmt_date
from egov_metrics.vocab import COMPONENT_STATUSES, LIGHTS, STATUSES, names_by_lang

THEME = "egov"
#: Charts are laid out with Arial's letter widths: vl-convert measures every label with the first family of
#: the stack it holds, and it ships Liberation Sans (metric-compatible with Arial, Vietnamese glyphs included)
#: in memory, so on a machine without Arial the labels are measured as Windows readers' Arial will draw them,
#: ~4x faster than with a font read from disk (DejaVu Sans: 1.3 s against 0.36 s for the progress report's 10
#: charts; bench/README.md). Readers without Arial or Liberation Sans get DejaVu Sans (wider by ~12%).
FONT = "Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif"
#: The most rows a chart may embed (Altair refuses 5,000; a report should stay far below).
MAX_ROWS = 1_000
#: Vega-Lite version of the installed Altair, for vl-convert ("v6.4.1" → "6.4").
VL_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])

NUMBER_LOCALE: dict[str, alt.theme.NumberLocaleKwds] = {
    "vi": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", " ₫"]},
    "en": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["", " VND"]},
}

#: Series colours: 20 of maximum contrast (after Kelly's list), so ~20 lines or bars stay apart; more series
#: than this are drawn as small multiples (facets) instead of sharing colours.
PALETTE = (
    "#0067a5", "#f38400", "#008856", "#be0032", "#875692", "#a1caf1", "#f3c300", "#882d17", "#8db600",
    "#e68fac", "#604e97", "#c2b280", "#2b3d26", "#f99379", "#b3446c", "#848482", "#654522", "#dcd300",
    "#e25822", "#222222",
)  # fmt: skip
MAX_SERIES = len(PALETTE)

#: Colours, one place for all charts.
INK = "#1f2933"
MUTED = "#7b8794"
ACTUAL = "#1f6fb2"
PATH = "#3e4c59"
PROJECTION = "#d97706"
LIGHT_COLORS = {"green": "#b7e4c7", "amber": "#fde68a", "red": "#fecaca"}
STATUS_COLORS = {
    "achieved": "#1b7f3b",
    "on_track": "#52b788",
    "at_risk": "#f2a900",
    "off_track": "#d62828",
    "no_data": "#adb5bd",
}
COMPONENT_COLORS = {
    "in_operation": "#2d6a4f",
    "in_progress": "#f2a900",
    "planned": "#9aa5b1",
    "overdue": "#d62828",
    "retired": "#d3d8de",
}

#: Every text a chart shows, per language.
LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "time": "Thời gian",
        "actual": "Thực tế",
        "path": "Lộ trình chỉ tiêu",
        "projection": "Dự báo",
        "range": "Khoảng dự báo",
        "deadline": "Thời hạn",
        "value": "Giá trị",
        "current": "Hiện tại",
        "target": "Chỉ tiêu",
        "layer": "Lớp kiến trúc",
        "layer_short": "Tầng",
        "phase": "Giai đoạn",
        "component": "Thành phần",
        "status": "Trạng thái",
        "readiness": "Sẵn sàng (%)",
        "planned": "Kế hoạch",
        "live": "Vận hành",
        "overdue": "Quá hạn",
        "as_of": "Tính đến",
        "lagging": "chậm tiến độ",
        "flat_usage": "sử dụng chưa tăng",
        "series": "Chuỗi",
        "band": "Ngưỡng",
    },
    "en": {
        "time": "Time",
        "actual": "Actual",
        "path": "Target path",
        "projection": "Projection",
        "range": "Projection range",
        "deadline": "Deadline",
        "value": "Value",
        "current": "Current",
        "target": "Target",
        "layer": "Architecture layer",
        "layer_short": "Layer",
        "phase": "Phase",
        "component": "Component",
        "status": "Status",
        "readiness": "Readiness (%)",
        "planned": "Planned",
        "live": "Live",
        "overdue": "Overdue",
        "as_of": "As of",
        "lagging": "lagging",
        "flat_usage": "usage flat",
        "series": "Series",
        "band": "Band",
    },
}
STATUS_LABELS = names_by_lang(STATUSES)
#: The statuses of a component on the timeline: the vocabulary's, and "overdue" (planned, its date passed).
COMPONENT_LABELS = {
    lang: {**names, "overdue": LABELS[lang]["overdue"]}
    for lang, names in names_by_lang(COMPONENT_STATUSES).items()
}
LIGHT_LABELS = names_by_lang(LIGHTS)
#: Axis suffix and d3 format per unit of measure.
UNIT_AXIS = {
    "percent": {"vi": "%", "en": "%", "format": ",.0f"},
    "working_days": {"vi": "ngày làm việc", "en": "working days", "format": ",.1f"},
    "count": {"vi": "số lượng", "en": "count", "format": ",.0f"},
    "ratio": {"vi": "tỷ số", "en": "ratio", "format": ",.2f"},
}


#: d3 time-format locale for Vietnamese (month names in axis labels and tooltips).
TIME_LOCALE_VI: alt.theme.TimeLocaleKwds = {
    "dateTime": "%A, %d/%m/%Y %X",
    "date": "%d/%m/%Y",
    "time": "%H:%M:%S",
    "periods": ["SA", "CH"],
    "days": ["Chủ nhật", "Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy"],
    "shortDays": ["CN", "T2", "T3", "T4", "T5", "T6", "T7"],
    "months": [f"tháng {m}" for m in range(1, 13)],
    "shortMonths": [f"Th{m}" for m in range(1, 13)],
}
#: d3 time-format locale for English: the theme's is Vietnamese, and a chart's config is merged into the theme's,
#: so English charts must replace it (else Vega writes "Th11 30, 2026" in English charts).
TIME_LOCALE_EN: alt.theme.TimeLocaleKwds = {
    "dateTime": "%b %-d, %Y, %X",
    "date": "%b %-d, %Y",
    "time": "%H:%M:%S",
    "periods": ["AM", "PM"],
    "days": ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
    "shortDays": ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
    "months": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"],
    "shortMonths": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}  # fmt: skip
TIME_LOCALE: dict[str, alt.theme.TimeLocaleKwds] = {"vi": TIME_LOCALE_VI, "en": TIME_LOCALE_EN}
#: Time axes read as month/year in both languages, as Vietnamese offices write dates.
TIME_AXIS_FORMAT = "%m/%Y"
#: A day written by Vega (tooltips of daily or weekly series): 30/11/2026, Nov 30, 2026.
DATE_FORMAT = {"vi": "%d/%m/%Y", "en": "%b %-d, %Y"}
#: The accessible name of a chart without a title.
CHART_NAME = {"vi": "Biểu đồ", "en": "Chart"}


class ChartError(EgovError):
    """A chart cannot be drawn from the frame given."""


@alt.theme.register(THEME, enable=True)
def egov_theme() -> alt.theme.ThemeConfig:
    """The one theme of egov-metrics charts."""
    return alt.theme.ThemeConfig(
        config={
            "font": FONT,
            "background": "white",
            "padding": 8,
            "view": {"stroke": None, "continuousWidth": 560, "continuousHeight": 260},
            "title": {"font": FONT, "fontSize": 14, "fontWeight": 600, "color": INK, "anchor": "start"},
            "axis": {
                "labelFont": FONT, "titleFont": FONT, "labelColor": INK, "titleColor": INK, "labelFontSize": 11,
                "titleFontSize": 11, "titleFontWeight": 500, "gridColor": "#e4e7eb", "domainColor": MUTED,
                "tickColor": MUTED,
            },
            "legend": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": 11, "titleFontSize": 11,
                       "orient": "bottom", "labelLimit": 420, "columns": 2},
            "header": {"labelFont": FONT, "titleFont": FONT},
            "text": {"font": FONT, "color": INK},
            "line": {"strokeWidth": 2},
            "locale": {"number": NUMBER_LOCALE["vi"], "time": TIME_LOCALE_VI},
            "timeFormat": DATE_FORMAT["vi"],  # dates in text marks and tooltips without a format of their own
            # Vega's generated ARIA text is English ("X-axis titled …", "Title text …") and lists raw fields and
            # unrounded numbers: off for axes, legends and marks (titles keep theirs; `to_svg` removes it)
            "aria": False,
            "mark": {"aria": False},
            "range": {"category": list(PALETTE)},
        }
    )  # fmt: skip


# --- helpers ---------------------------------------------------------------------------------------------


def _polars(data: Any) -> pl.DataFrame:
    return data if isinstance(data, pl.DataFrame) else pl.from_pandas(data)


def _frame(data: Any, columns: Sequence[str], what: str) -> pl.DataFrame:
    """A polars frame with only `columns`, decimals cast to Float64, and no more than MAX_ROWS rows."""
    frame = _polars(data)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ChartError(
            f"{what}: the frame has no column(s) {', '.join(missing)}",
            f"columns present: {', '.join(frame.columns)}",
        )
    frame = frame.select(list(dict.fromkeys(columns)))
    frame = frame.with_columns(pl.col(pl.Decimal).cast(pl.Float64))
    if frame.height > MAX_ROWS:
        raise ChartError(
            f"{what}: {frame.height:,} rows is too many for a chart (at most {MAX_ROWS:,})",
            "aggregate first (compute by month/year, or filter to the units shown)",
        )
    return frame


def _title_text(title: Any) -> str:
    """The text of a chart title as Altair or Vega-Lite holds it (a string, lines, a dict or TitleParams)."""
    if isinstance(title, alt.TitleParams):
        title = title.text
    elif isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list | tuple):
        title = " ".join(str(line) for line in title)
    return title.strip() if isinstance(title, str) else ""


def localise(chart: alt.TopLevelMixin, lang: str) -> alt.TopLevelMixin:
    """Put the language's number and time locales and date format into the chart's config (Vietnamese is the
    theme's default), and the chart's title (or "Biểu đồ" / "Chart") into its `description`, which `to_svg`
    makes the SVG's accessible name."""
    check_lang(lang)
    if getattr(chart, "description", alt.Undefined) is alt.Undefined:
        name = _title_text(getattr(chart, "title", alt.Undefined)) or CHART_NAME[lang]
        chart = cast(Any, chart).properties(description=name)
    if lang == "vi":
        return chart
    return chart.configure(
        locale={"number": NUMBER_LOCALE[lang], "time": TIME_LOCALE[lang]}, timeFormat=DATE_FORMAT[lang]
    )


#: A start tag (attribute values may hold ">"); and an ARIA attribute in one.
_TAG = re.compile(r'<[A-Za-z][^>"]*(?:"[^"]*"[^>"]*)*>')
_ARIA_ATTRIBUTE = re.compile(r'\s(?:role|aria-[a-z]+)="[^"]*"')


def accessible_svg(svg: str, spec: dict[str, Any]) -> str:
    """A chart's SVG as one image named in the chart's language, when its spec has a `description` (every
    builder's chart has, from `localise`): Vega's own ARIA attributes removed (with `config.aria` off it
    still writes English ones: "group mark container", "Title text '…'"), and `role="img"` with the
    description as `aria-label` on the root element. Other SVGs are returned as vl-convert drew them."""
    name = spec.get("description")
    if not isinstance(name, str) or not name.strip():
        return svg
    svg = _TAG.sub(lambda tag: _ARIA_ATTRIBUTE.sub("", tag.group(0)), svg)
    label = html.escape(" ".join(name.split()), quote=True)
    return svg.replace("<svg", f'<svg role="img" aria-label="{label}"', 1)


#: Whether `to_svg` has Altair check the spec against the Vega-Lite JSON schema. The charts are built by the
#: functions below, whose specs the tests check (`tests/test_charts.py`, every chart of the progress and
#: roadmap reports); checking again on every render cost the roadmap report ~2 s of ~3 s in `to_dict()`.
VALIDATE_SPECS = False


def to_svg(chart: alt.TopLevelMixin) -> str:
    """Render a chart to a static SVG string with vl-convert (no network, byte-identical per input): by the
    chart helper process when this process started one (`svgworker`: `egov-metrics report` does), else here."""
    spec = chart.to_dict(validate=VALIDATE_SPECS)
    drawn = svgworker.convert(spec, VL_VERSION)
    if drawn is None:
        drawn = vlc.vegalite_to_svg(spec, vl_version=VL_VERSION)
    return accessible_svg(drawn, spec)


#: A tiny chart with an axis, a title and text marks: converting it starts vl-convert's JavaScript engine and
#: loads the Vega-Lite version and fonts the reports' charts use (the chart helper process warms up with it too).
WARM_UP_SPEC = svgworker.WARM_UP_SPEC
_warm_lock = threading.Lock()
_warm_thread: threading.Thread | None = None


def _warm_up() -> None:
    with contextlib.suppress(Exception):  # only a head start: the first chart pays the start instead
        vlc.vegalite_to_svg(WARM_UP_SPEC, vl_version=VL_VERSION)


def warm_up_in_background() -> threading.Thread:
    """Start vl-convert's engine in a daemon thread, once per process, and return that thread.

    The first conversion in a process costs ~0.5 s (vl-convert's JavaScript runtime starting; later ones
    ~0.1 s). vl-convert releases the GIL, so a report that calls this before its queries gets the start
    beside DuckDB's work instead of before its first chart. A conversion that fails here changes nothing:
    the report's own first chart starts the engine (and reports its errors) as before."""
    global _warm_thread
    with _warm_lock:
        if _warm_thread is None:
            _warm_thread = threading.Thread(target=_warm_up, name="egov-vl-convert-warm-up", daemon=True)
            _warm_thread.start()
        return _warm_thread


def _inline_svg_renderer(spec: dict[str, Any], **_: Any) -> dict[str, str]:
    """Altair renderer: a chart shown bare in JupyterLab (or under papermill) becomes inline SVG, drawn by
    vl-convert, so it displays without network; the default renderer would load Vega from a CDN."""
    return {"text/html": accessible_svg(vlc.vegalite_to_svg(spec, vl_version=VL_VERSION), spec)}


RENDERER = "egov_svg"
alt.renderers.register(RENDERER, _inline_svg_renderer)
alt.renderers.enable(RENDERER)


def _t(lang: str, key: str) -> str:
    return LABELS[check_lang(lang)][key]


def _name(frame: pl.DataFrame, lang: str) -> str | None:
    col = "name_vi" if lang == "vi" else "name_en"
    return str(frame[col][0]) if col in frame.columns and frame.height else None


#: The most decimals a value axis gains over its unit's format to tell narrow-range ticks apart.
MAX_EXTRA_DECIMALS = 2
#: Vega-Lite's default number of ticks: one per this many pixels of axis.
PIXELS_PER_TICK = 40


def _tick_step(low: float, high: float, count: int) -> float:
    """The step between the ticks Vega draws for `count` ticks over [low, high] (d3's `tickIncrement`)."""
    step = (high - low) / max(count, 1)
    power = math.floor(math.log10(step))
    error = step / 10.0**power
    factor = (
        10 if error >= math.sqrt(50) else 5 if error >= math.sqrt(10) else 2 if error >= math.sqrt(2) else 1
    )
    return factor * 10.0**power


def value_axis(unit: str, values: Sequence[Any], *, zero: bool, length: int) -> dict[str, Any]:
    """`format`, `tickMinStep` and, when fewer ticks are needed, `tickCount` of a value axis `length` pixels
    long in `unit` over `values` (its scale from 0 when `zero`), such that no two tick labels read the same.

    Vega puts ~length/40 ticks whatever the format shows: a 98.1–99.3 % axis read "98 98 98 99 99 99", counts
    of 0–2 "0 1 1 2 2". The ticks are kept a whole step of the format's last decimal apart (the tick step is
    computed as Vega computes it; the actual domain, niced, is never narrower, so its step is never finer),
    fewer if need be; an axis left with fewer than 3 ticks gets a decimal more instead (up to
    MAX_EXTRA_DECIMALS: "98,2 98,4 … 99,2"). Counts keep whole numbers."""
    fmt = UNIT_AXIS.get(unit, UNIT_AXIS["count"])["format"]
    decimals = int(fmt.rsplit(".", 1)[1].rstrip("f"))
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
    if zero:
        low, high = min(low, 0.0), max(high, 0.0)
    default = max(math.ceil(length / PIXELS_PER_TICK), 1)
    axis: dict[str, Any] = {"format": fmt, "tickMinStep": 10.0**-decimals}
    if high - low <= 0:  # one value: one tick
        return axis
    most = decimals + MAX_EXTRA_DECIMALS if unit in UNIT_AXIS and unit != "count" else decimals
    for places in range(decimals, most + 1):
        minimum = 10.0**-places * (1 - 1e-9)
        count = next((c for c in range(default, 0, -1) if _tick_step(low, high, c) >= minimum), 0)
        if not count:
            continue
        step = _tick_step(low, high, count)
        ticks = math.floor(high / step + 1e-9) - math.ceil(low / step - 1e-9) + 1
        if ticks >= 3 or places == most:
            axis = {"format": f",.{places}f", "tickMinStep": 10.0**-places}
            return axis | ({"tickCount": count} if count < default else {})
    # a range narrower than the most decimals show: as many decimals as Vega's step needs
    places = max(most, -math.floor(math.log10(_tick_step(low, high, default))))
    return {"format": f",.{places}f", "tickMinStep": 10.0**-places}


def _values(frame: pl.DataFrame, *columns: str) -> list[Any]:
    return [v for c in columns if c in frame.columns for v in frame[c].to_list()]


# --- trajectory --------------------------------------------------------------------------------------------


def chart_trajectory(
    trajectories: Any,
    indicator: str,
    *,
    lang: str = "vi",
    title: str | None = None,
    unit_level: str = "province",
) -> alt.TopLevelMixin:
    """Actual monthly values, the target path (baseline, milestones, phase targets), the projection to the
    deadline with its range, and the deadline: from `egov_metrics.roadmap.trajectories()`."""
    check_lang(lang)
    cols = [
        "indicator",
        "name_vi",
        "name_en",
        "unit",
        "unit_level",
        "series",
        "kind",
        "date",
        "value",
        "low",
        "high",
    ]
    everything = _polars(trajectories)
    frame = _frame(
        everything.filter(pl.col("indicator") == indicator, pl.col("unit_level") == unit_level),
        cols,
        "chart_trajectory",
    )
    if frame.is_empty():
        raise UnknownNameError.from_choices(
            "indicator in the trajectories frame", indicator, everything["indicator"].unique().to_list()
        )
    unit = str(frame["unit"][0])
    labels = {s: _t(lang, s) for s in ("actual", "path", "projection")}
    frame = frame.with_columns(pl.col("series").replace_strict(labels).alias("series_label"))
    axis = UNIT_AXIS[unit]
    y_axis = alt.Axis(**value_axis(unit, _values(frame, "value", "low", "high"), zero=True, length=260))
    y = alt.Y("value:Q", title=axis[lang], axis=y_axis)
    if unit == "percent":
        y = alt.Y(
            "value:Q",
            title=axis[lang],
            axis=alt.Axis(**value_axis(unit, [0, 100], zero=True, length=260)),
            scale=alt.Scale(domain=[0, 100]),
        )
    x = alt.X("date:T", title=_t(lang, "time"), axis=alt.Axis(format="%Y", tickCount="year"))
    color = alt.Color(
        "series_label:N",
        title=None,
        scale=alt.Scale(domain=list(labels.values()), range=[ACTUAL, PATH, PROJECTION]),
    )
    base = alt.Chart(frame.drop("name_vi", "name_en", "unit", "unit_level", "indicator"))
    band = (
        base.transform_filter(alt.datum.series == "projection")
        .mark_area(opacity=0.18, color=PROJECTION)
        .encode(x=x, y=alt.Y("low:Q"), y2="high:Q")
    )
    projection = (
        base.transform_filter(alt.datum.series == "projection")
        .mark_line(strokeDash=[6, 4])
        .encode(x=x, y=y, color=color)
    )
    path = (
        base.transform_filter(alt.datum.series == "path")
        .mark_line(strokeWidth=1.5, point=True)
        .encode(x=x, y=y, color=color)
    )
    actual = base.transform_filter(alt.datum.series == "actual").mark_line().encode(x=x, y=y, color=color)
    layers: list[alt.Chart] = [band, path, actual, projection]
    ends = frame.filter(pl.col("series") == "projection")
    if ends.height:
        deadline = cast(dt.date, ends["date"].max())  # a Date column
        rule_data = pl.DataFrame(
            {"date": [deadline], "label": [f"{_t(lang, 'deadline')} {fmt_date(deadline, lang)}"]}
        )
        rule = alt.Chart(rule_data).mark_rule(color=MUTED, strokeDash=[2, 2]).encode(x="date:T")
        text = (
            alt.Chart(rule_data)
            .mark_text(align="right", baseline="top", dx=-4, dy=4, color=MUTED)
            .encode(x="date:T", y=alt.value(0), text="label:N")
        )
        layers += [rule, text]
    chart = alt.layer(*layers).properties(
        title=title or _name(frame, lang) or indicator, width=560, height=260
    )
    return localise(chart, lang)


# --- roadmap timeline ----------------------------------------------------------------------------------------


def chart_timeline(components: Any, *, lang: str = "vi", title: str | None = None) -> alt.TopLevelMixin:
    """Components by layer: a line from the planned date to going live (or to the as-of date while not live),
    coloured by status as of the date (overdue in red), over the phases; from `roadmap.components()`."""
    check_lang(lang)
    cols = ["id", "layer", "name_vi", "name_en", "phase", "phase_start", "phase_end", "status_as_of", "planned",
            "live", "overdue", "as_of"]  # fmt: skip
    frame = _frame(components, cols, "chart_timeline").filter(pl.col("status_as_of") != "retired")
    if frame.is_empty():
        raise ChartError("chart_timeline: no components to draw", "pass roadmap.components(...)")
    name = "name_vi" if lang == "vi" else "name_en"
    as_of = frame["as_of"][0]
    frame = frame.with_columns(
        pl.when(pl.col("overdue")).then(pl.lit("overdue")).otherwise(pl.col("status_as_of")).alias("state"),
        pl.coalesce(pl.col("live"), pl.lit(as_of)).alias("end"),
        (
            pl.lit(_t(lang, "layer_short") + " ")
            + pl.col("layer").cast(pl.String)
            + pl.lit(" · ")
            + pl.col(name)
        ).alias("label"),
    ).sort("layer", "planned", "id")
    frame = frame.with_columns(
        pl.min_horizontal("planned", "end").alias("from"),
        pl.max_horizontal("planned", "end").alias("to"),
        pl.col("state").replace_strict(COMPONENT_LABELS[lang]).alias("state_label"),
    )
    order = frame["label"].to_list()
    keys = [k for k in ("in_operation", "in_progress", "planned", "overdue") if k in frame["state"].to_list()]
    color = alt.Color(
        "state_label:N",
        title=_t(lang, "status"),
        scale=alt.Scale(
            domain=[COMPONENT_LABELS[lang][k] for k in keys], range=[COMPONENT_COLORS[k] for k in keys]
        ),
    )
    y = alt.Y("label:N", title=None, sort=order, axis=alt.Axis(labelLimit=320))
    x_title = _t(lang, "time")
    data = frame.select("label", "state_label", "from", "to", "planned", "live")
    base = alt.Chart(data)
    spans = base.mark_rule(strokeWidth=3).encode(x=alt.X("from:T", title=x_title, axis=alt.Axis(format="%Y")),
                                                 x2="to:T", y=y, color=color)  # fmt: skip
    planned = base.mark_point(shape="circle", filled=False, size=40).encode(x="planned:T", y=y, color=color)
    live = (
        base.transform_filter("isValid(datum.live)")
        .mark_point(shape="circle", filled=True, size=40)
        .encode(x="live:T", y=y, color=color)
    )
    phases = (
        frame.group_by("phase")
        .agg(pl.col("phase_start").first(), pl.col("phase_end").first())
        .sort("phase_start")
    )
    phase_rules = alt.Chart(phases).mark_rule(color=MUTED, strokeDash=[4, 3]).encode(x="phase_start:T")
    phase_text = (
        alt.Chart(phases)
        .mark_text(align="left", baseline="bottom", dx=3, dy=-2, color=MUTED)
        .encode(x="phase_start:T", y=alt.value(0), text="phase:N")
    )
    now = pl.DataFrame({"as_of": [as_of], "label": [f"{_t(lang, 'as_of')} {fmt_date(as_of, lang)}"]})
    now_rule = alt.Chart(now).mark_rule(color=INK).encode(x="as_of:T")
    chart = alt.layer(phase_rules, phase_text, spans, planned, live, now_rule).properties(
        title=title
        or ("Lộ trình các thành phần kiến trúc" if lang == "vi" else "Architecture components roadmap"),
        width=520,
        height=max(14 * frame.height, 120),
    )
    return localise(chart, lang)


# --- bullet charts -------------------------------------------------------------------------------------------


def chart_bullet(
    assessment: Any, bands: Any | None = None, *, lang: str = "vi", title: str | None = None
) -> alt.TopLevelMixin:
    """One bullet per target: legend bands behind (red/amber/green), a bar for the current value, a black tick
    for the target, a hollow diamond for the projection at the deadline, and the status on the right.
    From `roadmap.assess()` and `roadmap.legend_frame()`."""
    check_lang(lang)
    cols = [
        "indicator",
        "name_vi",
        "name_en",
        "unit",
        "unit_level",
        "target",
        "current",
        "projection",
        "status",
    ]
    # the status as the assessment names it for a reader (`status_vi`/`status_en`: "too few months to judge"
    # for a value without a trend, where the status alone says "no data"), when it is there
    named = f"status_{lang}"
    if named in _polars(assessment).columns:
        cols.append(named)
    frame = _frame(assessment, cols, "chart_bullet")
    if frame.is_empty():
        raise ChartError("chart_bullet: no targets to draw", "pass roadmap.assess(...)")
    name = "name_vi" if lang == "vi" else "name_en"
    frame = frame.with_columns(
        pl.when(pl.col("unit_level") == "province")
        .then(pl.col(name))
        .otherwise(pl.col(name) + pl.lit(" (") + pl.col("unit_level") + pl.lit(")"))
        .alias("label"),
        (
            pl.col(named) if named in frame.columns else pl.col("status").replace_strict(STATUS_LABELS[lang])
        ).alias("status_label"),
    )
    band_frame = (
        _frame(bands, ["indicator", "start", "end", "light"], "chart_bullet bands")
        if bands is not None
        else pl.DataFrame(
            schema={"indicator": pl.String, "start": pl.Float64, "end": pl.Float64, "light": pl.String}
        )
    )
    rows = []
    for r in frame.iter_rows(named=True):
        unit = r["unit"]
        values = [v for v in (r["target"], r["current"], r["projection"]) if v is not None]
        top = 100.0 if unit == "percent" else max(values or [1.0]) * 1.25
        mine = band_frame.filter(pl.col("indicator") == r["indicator"], pl.col("start") < top).with_columns(
            pl.col("end").fill_null(top).clip(upper_bound=top),
            pl.col("light").replace_strict(LIGHT_COLORS).alias("fill"),
            pl.lit(r["label"]).alias("label"),
        )
        one = (
            pl.DataFrame([r])
            .select("label", "target", "current", "projection", "status_label")
            .with_columns(pl.lit(STATUS_COLORS[r["status"]]).alias("status_color"))
        )
        x_scale = alt.Scale(domain=[0, top], nice=False)
        x_axis = alt.Axis(title=None if unit == "percent" else UNIT_AXIS[unit][lang], grid=False,
                          **value_axis(unit, [0, top], zero=True, length=410))  # fmt: skip
        y = alt.Y("label:N", title=None, axis=alt.Axis(labelLimit=300, labelFontWeight=500))
        layers = []
        if mine.height:
            layers.append(
                alt.Chart(mine.select("label", "start", "end", "fill"))
                .mark_bar(height=22)
                .encode(x=alt.X("start:Q", scale=x_scale, axis=x_axis), x2="end:Q", y=y,
                        color=alt.Color("fill:N", scale=None))
            )  # fmt: skip
        base = alt.Chart(one)
        layers.append(
            base.mark_bar(height=8, color=INK).encode(x=alt.X("current:Q", scale=x_scale, axis=x_axis), y=y)
        )
        layers.append(base.mark_tick(thickness=3, size=26, color="#000000").encode(x="target:Q", y=y))
        layers.append(
            base.transform_filter("isValid(datum.projection)")
            .mark_point(shape="diamond", filled=False, size=60, color=PROJECTION, strokeWidth=2)
            .encode(x="projection:Q", y=y)
        )
        layers.append(
            base.mark_text(align="left", dx=6, fontWeight=600).encode(
                x=alt.value(410), y=y, text="status_label:N", color=alt.Color("status_color:N", scale=None)
            )
        )
        rows.append(alt.layer(*layers).properties(width=410, height=30))
    chart = (
        alt.vconcat(*rows, spacing=6)
        .resolve_scale(x="independent")
        .properties(
            title=title
            or (
                "Chỉ tiêu giai đoạn: hiện tại và dự báo"
                if lang == "vi"
                else "Phase targets: current and projected"
            )
        )
    )
    return localise(chart, lang)


# --- layer readiness heat map -------------------------------------------------------------------------------


def chart_readiness(readiness: Any, *, lang: str = "vi", title: str | None = None) -> alt.TopLevelMixin:
    """Layers × phases, coloured by components in operation ÷ planned, with 'in operation/planned' in each cell;
    lagging layers and layers whose usage stays flat are marked. From `roadmap.layer_readiness()`."""
    check_lang(lang)
    cols = ["layer", "name_vi", "name_en", "phase", "planned", "in_operation", "readiness", "overdue", "lagging",
            "flat_usage"]  # fmt: skip
    frame = _frame(readiness, cols, "chart_readiness")
    name = "name_vi" if lang == "vi" else "name_en"
    lag, flat = _t(lang, "lagging"), _t(lang, "flat_usage")
    frame = frame.with_columns(
        (
            pl.col("layer").cast(pl.String) + pl.lit(". ") + pl.col(name)
            + pl.when(pl.col("lagging")).then(pl.lit(f" [{lag}]")).otherwise(pl.lit(""))
            + pl.when(pl.col("flat_usage")).then(pl.lit(f" [{flat}]")).otherwise(pl.lit(""))
        ).alias("label"),
        pl.when(pl.col("planned") > 0)
        .then(
            pl.col("in_operation").cast(pl.String) + pl.lit("/") + pl.col("planned").cast(pl.String)
            + pl.when(pl.col("overdue") > 0)
            .then(pl.lit(f" ({_t(lang, 'overdue').lower()} ") + pl.col("overdue").cast(pl.String) + pl.lit(")"))
            .otherwise(pl.lit(""))
        )
        .otherwise(pl.lit("–"))
        .alias("cell"),
    ).sort("layer", "phase")  # fmt: skip
    order = frame.unique("layer", keep="first", maintain_order=True)["label"].to_list()
    data = frame.select("label", "phase", "readiness", "cell")
    y = alt.Y("label:N", title=None, sort=order, axis=alt.Axis(labelLimit=360))
    x = alt.X("phase:N", title=_t(lang, "phase"), axis=alt.Axis(labelAngle=0, orient="top"))
    base = alt.Chart(data)
    heat = base.mark_rect(stroke="white", strokeWidth=2).encode(
        x=x,
        y=y,
        color=alt.Color(
            "readiness:Q",
            title=_t(lang, "readiness"),
            scale=alt.Scale(domain=[0, 100], range=["#fee2e2", "#fde68a", "#2d6a4f"]),
            legend=alt.Legend(format=",.0f"),
        ),
    )
    text = base.mark_text(fontSize=11).encode(
        x=x,
        y=y,
        text="cell:N",
        color=alt.condition("datum.readiness >= 70", alt.value("white"), alt.value(INK)),
    )
    chart = alt.layer(heat, text).properties(
        title=title
        or ("Mức sẵn sàng theo lớp kiến trúc" if lang == "vi" else "Readiness by architecture layer"),
        width=120 * max(frame["phase"].n_unique(), 1),
        height=28 * max(len(order), 1),
    )
    return localise(chart, lang)


# --- simple helpers -------------------------------------------------------------------------------------------


def display_column(frame: Any, column: str) -> str:
    """The column a person should read for `column`: `<column>_name` when the frame has it (names beside
    codes, from `compute(..., names=True)`), else the column itself."""
    columns = _polars(frame).columns
    return f"{column}_name" if f"{column}_name" in columns else column


def _tooltip_value(y: str, unit: str, lang: str) -> alt.Tooltip:
    title = _t(lang, "value") + (f" ({UNIT_AXIS[unit][lang]})" if unit in UNIT_AXIS else "")
    return alt.Tooltip(f"{y}:Q", title=title, format=",.2f" if unit != "count" else ",.0f")


def chart_trend(
    frame: Any,
    *,
    x: str = "period_start",
    y: str = "value",
    color: str | None = None,
    title: str | None = None,
    y_title: str | None = None,
    unit: str = "percent",
    lang: str = "vi",
) -> alt.TopLevelMixin:
    """A line per `color` group over time (e.g. `compute(...)` by month), with points and tooltips.

    With `compute(..., names=True)` the legend shows names, not codes (`color="field"` reads `field_name`).
    Up to MAX_SERIES (20) groups get distinct colours; more are drawn as small multiples, one per group.
    """
    check_lang(lang)
    shown = display_column(frame, color) if color else None
    data = _frame(frame, [c for c in (x, y, shown) if c], "chart_trend")
    axis = UNIT_AXIS.get(unit, UNIT_AXIS["count"])
    temporal = data.height > 0 and data.schema[x].is_temporal()
    # months read as the axis does (11/2026); other periods (days, weeks) as days: 30/11/2026, Nov 30, 2026
    by_day = temporal and not bool((data[x].dt.day() == 1).all())
    time_format = DATE_FORMAT[lang] if by_day else TIME_AXIS_FORMAT
    tooltip = [
        alt.Tooltip(f"{x}:T", title=_t(lang, "time"), format=time_format),
        _tooltip_value(y, unit, lang),
    ]
    # a few months: one tick per month (Vega would put two ticks, both labelled with the month, in one month)
    months = data[x].dt.year().cast(pl.Int32) * 12 + data[x].dt.month().cast(pl.Int32) if temporal else None
    few = months is not None and int(cast(int, months.max()) - cast(int, months.min())) <= 24  # Int32 column
    faceted = shown is not None and data[shown].n_unique() > MAX_SERIES
    width, height = (180, 110) if faceted else (560, 240)
    time_axis = alt.Axis(
        format=TIME_AXIS_FORMAT,
        labelAngle=0,
        **({"tickCount": {"interval": "month", "step": 1}} if few else {}),  # type: ignore[arg-type]
    )
    enc: dict[str, Any] = {
        "x": alt.X(f"{x}:T", title=_t(lang, "time"), axis=time_axis),
        "y": alt.Y(
            f"{y}:Q",
            title=y_title or axis[lang],
            axis=alt.Axis(**value_axis(unit, data[y].to_list(), zero=unit != "percent", length=height)),
            scale=alt.Scale(zero=unit != "percent"),  # rates: show the movement, not the distance to 0
        ),
    }
    if shown:
        tooltip.insert(0, alt.Tooltip(f"{shown}:N", title=_t(lang, "series")))
        if not faceted:
            enc["color"] = alt.Color(f"{shown}:N", title=None)
    enc["tooltip"] = tooltip
    chart = alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=18)).encode(**enc)
    if faceted:
        facet = alt.Facet(f"{shown}:N", title=None)
        chart = (
            chart.properties(width=width, height=height).facet(facet, columns=4).properties(title=title or "")
        )
    else:
        chart = chart.properties(title=title or "", width=width, height=height)
    return localise(chart, lang)


def chart_bar(
    frame: Any,
    *,
    category: str,
    value: str = "value",
    color: str | None = None,
    title: str | None = None,
    value_title: str | None = None,
    unit: str = "percent",
    lang: str = "vi",
    sort_descending: bool = True,
) -> alt.TopLevelMixin:
    """Horizontal bars of `value` per `category` (e.g. a unit league table), largest first by default.

    Names replace codes when the frame has them (`category="field"` reads `field_name`)."""
    check_lang(lang)
    category = display_column(frame, category)
    color = display_column(frame, color) if color else None
    data = _frame(frame, [c for c in (category, value, color) if c], "chart_bar")
    axis = UNIT_AXIS.get(unit, UNIT_AXIS["count"])
    enc: dict[str, Any] = {
        "y": alt.Y(
            f"{category}:N", title=None, sort="-x" if sort_descending else "x", axis=alt.Axis(labelLimit=300)
        ),
        "x": alt.X(
            f"{value}:Q",
            title=value_title or axis[lang],
            axis=alt.Axis(**value_axis(unit, data[value].to_list(), zero=True, length=480)),
        ),
        "tooltip": [
            alt.Tooltip(f"{category}:N", title=_t(lang, "series")),
            _tooltip_value(value, unit, lang),
        ],
    }
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=None)
    else:
        enc["color"] = alt.value(ACTUAL)
    chart = alt.Chart(data).mark_bar().encode(**enc)
    chart = chart.properties(title=title or "", width=480, height=max(18 * data.height, 60))
    return localise(chart, lang)
