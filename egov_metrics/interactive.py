"""Interactive charts in JupyterLab, offline: tooltips, zoom and pan on time, click-to-highlight legends, and
selections readable back in Python.

    from egov_metrics.charts import chart_trend
    from egov_metrics.interactive import interactive
    view = interactive(chart_trend(frame, color="unit", lang="vi"))
    view                                   # in JupyterLab: hover, drag to pan, wheel to zoom, click the legend
    view.selections.legend.value           # what is highlighted, back in Python (a list of {field: value})

`interactive()` returns Altair's `JupyterChart` (an anywidget) in its offline mode: the JavaScript (Vega,
Vega-Lite, vega-embed) comes from vl-convert's bundle inside the Python package, never from a CDN. Reports
keep static SVG (`charts.to_svg`) for print and mail; only notebooks use this.

What is added to a single-view chart (`make_interactive`):
- `legend`: a point selection on the colour field, bound to the legend: click a legend entry (shift-click for
  several) to highlight its series, the others fade; double-click to clear;
- `zoom`: an interval selection bound to the scales of a temporal x axis: drag to pan, wheel to zoom
  (x only, so a rate axis keeps its range), double-click to reset;
- tooltips are set by the chart builders (`charts.chart_trend`, `charts.chart_bar`), formatted with the chart's
  number locale (1.234,5 in Vietnamese).
Layered, faceted or concatenated charts are shown as they are (tooltips only).
"""

from __future__ import annotations

from typing import Any, cast

import altair as alt

from egov_metrics.errors import EgovError
from egov_metrics.i18n import check_lang

#: vega-embed's menu (the "…" button) in the chart's language: export as PNG/SVG only (no link to the online
#: Vega editor, no source views).
EMBED_OPTIONS: dict[str, dict[str, Any]] = {
    "vi": {
        "actions": {"export": True, "source": False, "compiled": False, "editor": False},
        "i18n": {"PNG_ACTION": "Lưu ảnh PNG", "SVG_ACTION": "Lưu ảnh SVG"},
    },
    "en": {
        "actions": {"export": True, "source": False, "compiled": False, "editor": False},
        "i18n": {"PNG_ACTION": "Save as PNG", "SVG_ACTION": "Save as SVG"},
    },
}
LEGEND = "legend"
ZOOM = "zoom"
FADED_OPACITY = 0.15


class InteractiveError(EgovError):
    """Interactive charts need packages that are missing."""


def _encoding(chart: alt.Chart, channel: str) -> Any:
    value = getattr(chart.encoding, channel, alt.Undefined)
    return None if value is alt.Undefined else value


def _field(channel: Any) -> tuple[str, str] | None:
    """(field, type) of an encoding channel given as a shorthand or a channel object."""
    shorthand = getattr(channel, "shorthand", alt.Undefined)
    field = getattr(channel, "field", alt.Undefined)
    kind = getattr(channel, "type", alt.Undefined)
    text = shorthand if isinstance(shorthand, str) else field if isinstance(field, str) else None
    if text is None:
        return None
    name, _, code = text.partition(":")
    letter = code or (kind[0].upper() if isinstance(kind, str) else "")
    return name, letter


def make_interactive(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The chart with a legend-highlight selection and zoom/pan on a temporal x axis (single-view charts)."""
    if not isinstance(chart, alt.Chart):
        return chart
    params = []
    color = _encoding(chart, "color")
    color_field = _field(color) if color is not None else None
    updates: dict[str, Any] = {}
    if color_field is not None and color_field[1] == "N":
        legend = alt.selection_point(name=LEGEND, fields=[color_field[0]], bind="legend")
        params.append(legend)
        updates["opacity"] = alt.condition(legend, alt.value(1.0), alt.value(FADED_OPACITY))
    x = _encoding(chart, "x")
    x_field = _field(x) if x is not None else None
    if x_field is not None and x_field[1] == "T":
        params.append(alt.selection_interval(name=ZOOM, bind="scales", encodings=["x"]))
    if not params:
        return chart
    return chart.add_params(*params).encode(**updates)


def interactive(chart: alt.TopLevelMixin, *, lang: str = "vi", **kwargs: Any) -> alt.JupyterChart:
    """The chart as an offline JupyterChart widget with tooltips, zoom/pan and legend highlighting; its menu
    in `lang`. `kwargs` go to `alt.JupyterChart` (e.g. `debounce_wait`). Needs `anywidget` (a dependency)."""
    check_lang(lang)
    try:
        import anywidget  # noqa: F401
    except ImportError:  # pragma: no cover - anywidget is a dependency
        raise InteractiveError(
            "interactive charts need the anywidget package", "pip install anywidget (it is a dependency)"
        ) from None
    alt.JupyterChart.enable_offline()
    kwargs.setdefault("embed_options", EMBED_OPTIONS[lang])
    # every altair top-level chart (Chart, LayerChart, …) is both a TopLevelMixin and a TopLevelSpec
    return alt.JupyterChart(cast(alt.TopLevelSpec, make_interactive(chart)), **kwargs)
