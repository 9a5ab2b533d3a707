"""Charts: one theme, Vietnamese text and number locale in the SVG, byte-identical output, small frames only."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import altair as alt
import polars as pl
import pytest
import vl_convert as vlc

from egov_metrics import charts
from egov_metrics import roadmap as rm
from egov_metrics.errors import UnknownNameError

D = dt.date


def _trajectories() -> pl.DataFrame:
    """A hand-made trajectories frame (the shape `roadmap.trajectories()` returns)."""
    actual = [(D(2024, m, 28), 40.0 + m) for m in range(1, 13)] + [
        (D(2025, m, 28), 52.0 + m) for m in range(1, 11)
    ]
    rows = [("actual", "actual", d, v, None, None) for d, v in actual]
    rows += [
        ("path", "baseline", D(2023, 12, 31), 38.0, None, None),
        ("path", "milestone", D(2024, 12, 31), 55.0, None, None),
        ("path", "target", D(2025, 12, 31), 70.0, None, None),
        ("projection", "projection", D(2025, 10, 31), 62.0, 62.0, 62.0),
        ("projection", "projection", D(2025, 12, 31), 64.0, 63.0, 65.5),
    ]
    return pl.DataFrame(
        [("fully_online_dossiers", "Tỷ lệ hồ sơ trực tuyến toàn trình", "Fully-online dossiers", "percent",
          "province", *r) for r in rows],
        schema=["indicator", "name_vi", "name_en", "unit", "unit_level", "series", "kind", "date", "value", "low",
                "high"],
        orient="row",
    )  # fmt: skip


def test_one_theme_is_registered_and_enabled() -> None:
    assert alt.theme.active == charts.THEME
    config = charts.egov_theme()["config"]
    families = [f.strip().strip("'") for f in config["font"].split(",")]
    # Arial's widths first (Liberation Sans is its metric twin), DejaVu Sans for readers without either
    assert families == ["Arial", "Liberation Sans", "DejaVu Sans", "sans-serif"]
    assert config["locale"]["number"] == {
        "decimal": ",",
        "thousands": ".",
        "grouping": [3],
        "currency": ["", " ₫"],
    }


def test_svg_has_vietnamese_text() -> None:
    svg = charts.to_svg(charts.chart_trajectory(_trajectories(), "fully_online_dossiers"))
    assert svg.startswith("<svg") and "</svg>" in svg
    assert "Tỷ lệ hồ sơ trực tuyến toàn trình" in svg
    assert "Thực tế" in svg and "Lộ trình chỉ tiêu" in svg and "Dự báo" in svg
    assert "Thời hạn 31/12/2025" in svg


def _label_band_width(font: str) -> float:
    """The width vl-convert lays out for one long Vietnamese axis label in `font` (the chart's own width)."""
    spec = {
        "data": {"values": [{"a": "Tỷ lệ hồ sơ trực tuyến toàn trình của các sở, ban, ngành"}]},
        "mark": "bar",
        "encoding": {
            "y": {
                "field": "a",
                "type": "nominal",
                "axis": {"labelFont": font, "labelLimit": 2000, "title": None},
            },
            "x": {"value": 0},
        },
        "config": {"padding": 0},
    }
    svg = vlc.vegalite_to_svg(spec, vl_version=charts.VL_VERSION)
    match = re.search(r'width="([\d.]+)"', svg)
    assert match is not None
    return float(match.group(1))


def test_labels_are_laid_out_with_arial_widths() -> None:
    """Widths measured by hand-picked fonts, not by the code's own stack: the theme's stack must measure as
    Liberation Sans (Arial's metrics, held in memory by vl-convert), not as DejaVu Sans (wider)."""
    liberation, dejavu = _label_band_width("Liberation Sans"), _label_band_width("DejaVu Sans")
    assert dejavu > liberation * 1.05  # the two fonts do differ, so the check below can fail
    assert _label_band_width(charts.FONT) == liberation


def test_english_labels() -> None:
    svg = charts.to_svg(charts.chart_trajectory(_trajectories(), "fully_online_dossiers", lang="en"))
    assert "Fully-online dossiers" in svg and "Target path" in svg and "Deadline 31/12/2025" in svg


def test_svg_is_byte_identical_from_run_to_run() -> None:
    first = charts.to_svg(charts.chart_trajectory(_trajectories(), "fully_online_dossiers"))
    second = charts.to_svg(charts.chart_trajectory(_trajectories(), "fully_online_dossiers"))
    assert first == second


def test_number_locale_follows_the_language() -> None:
    frame = pl.DataFrame({"unit": ["Sở A", "Sở B"], "value": [Decimal("1500.5"), Decimal("2750.25")]})
    vi = charts.to_svg(charts.chart_bar(frame, category="unit", unit="count", lang="vi"))
    en = charts.to_svg(charts.chart_bar(frame, category="unit", unit="count", lang="en"))
    ticks_vi = re.findall(r">(\d{1,3}(?:[.,]\d{3})+)</text>", vi)
    ticks_en = re.findall(r">(\d{1,3}(?:[.,]\d{3})+)</text>", en)
    assert ticks_vi and all("." in t and "," not in t for t in ticks_vi)
    assert ticks_en and all("," in t and "." not in t for t in ticks_en)


def test_decimals_are_cast_to_float() -> None:
    frame = pl.DataFrame(
        {"period_start": [D(2025, 1, 1), D(2025, 2, 1)], "value": [Decimal("75.0"), Decimal("76.5")]}
    )
    spec = charts.chart_trend(frame, title="Tỷ lệ").to_dict()
    values = next(iter(spec["datasets"].values()))
    assert all(isinstance(v["value"], float) for v in values)


def test_too_many_rows_are_refused_with_a_hint() -> None:
    frame = pl.DataFrame(
        {"period_start": [D(2020, 1, 1)] * (charts.MAX_ROWS + 1), "value": [1.0] * (charts.MAX_ROWS + 1)}
    )
    with pytest.raises(charts.ChartError, match="too many") as info:
        charts.chart_trend(frame)
    assert "aggregate" in str(info.value)


def test_missing_columns_are_named() -> None:
    with pytest.raises(charts.ChartError, match="no column"):
        charts.chart_bar(pl.DataFrame({"x": [1]}), category="unit")


def test_unknown_indicator_in_trajectory_suggests_the_known_ones() -> None:
    with pytest.raises(UnknownNameError, match="fully_online_dossiers"):
        charts.chart_trajectory(_trajectories(), "fully_online_dosiers")


def test_timeline_and_readiness_without_a_database() -> None:
    roadmap = rm.load_roadmap()
    comps = rm.components(roadmap, as_of=D(2026, 6, 30))
    svg = charts.to_svg(charts.chart_timeline(comps))
    assert (
        "Lộ trình các thành phần kiến trúc" in svg
        and "Quá hạn" in svg
        and "Cơ sở dữ liệu đất đai tỉnh" in svg
    )
    assert comps.height < 100


@pytest.mark.slow  # every roadmap chart drawn to SVG
def test_every_roadmap_chart_from_the_demo(small_demo_db: Path) -> None:
    roadmap = rm.load_roadmap()
    as_of = D(2026, 6, 30)
    series = rm.monthly_series(roadmap, as_of=as_of, db=small_demo_db)
    assessment = rm.assess(roadmap, as_of=as_of, db=small_demo_db, series=series)
    built = {
        "trajectory": charts.chart_trajectory(
            rm.trajectories(roadmap, as_of=as_of, db=small_demo_db, series=series, assessment=assessment),
            "processing_days_mean",
        ),
        "timeline": charts.chart_timeline(rm.components(roadmap, as_of=as_of), lang="en"),
        "bullet": charts.chart_bullet(assessment, rm.legend_frame(roadmap)),
        "readiness": charts.chart_readiness(rm.layer_readiness(roadmap, as_of=as_of, series=series)),
    }
    for name, chart in built.items():
        spec = chart.to_dict()
        rows = sum(len(v) for v in spec.get("datasets", {}).values())
        assert rows < 600, f"{name} embeds {rows} rows"
        svg = charts.to_svg(chart)
        assert svg.startswith("<svg"), name
    bullet = charts.to_svg(built["bullet"])
    assert "Tỷ lệ hồ sơ trực tuyến toàn trình" in bullet and "Chệch hướng" in bullet
    heat = charts.to_svg(built["readiness"])
    assert "chậm tiến độ" in heat and "6/9" in heat


def test_bare_charts_display_offline_as_inline_svg() -> None:
    """A chart displayed without `present.chart()` (e.g. in JupyterLab) is inline SVG, not a CDN script."""
    import altair as alt
    import polars as pl

    from egov_metrics import charts

    frame = pl.DataFrame({"period_start": ["2025-01-01", "2025-02-01"], "value": [61.5, 62.3]})
    chart = charts.chart_trend(frame, title="Tỷ lệ hồ sơ", lang="vi")
    bundle = chart._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert alt.renderers.active == charts.RENDERER
    assert "<svg" in data["text/html"] and "Tỷ lệ hồ sơ" in data["text/html"]
    assert "<script" not in data["text/html"] and "cdn" not in data["text/html"].lower()


@pytest.mark.slow
def test_the_reports_chart_specs_are_valid_vega_lite(
    small_demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rendering skips Altair's schema check (charts.VALIDATE_SPECS): every chart the progress and roadmap
    reports draw must pass it here, and the spec rendered is the one checked."""
    from egov_metrics import present
    from egov_metrics.reports.kinds.progress_report.page import ProgressReport
    from egov_metrics.reports.kinds.roadmap_report.page import RoadmapReport

    drawn: list[alt.TopLevelMixin] = []
    monkeypatch.setattr(present, "to_svg", lambda chart: drawn.append(chart) or "<svg></svg>")
    progress = ProgressReport(small_demo_db, None, None, "en")
    for section in ("kpis", "trends", "league", "backlog", "channel_mix", "digitization", "integration",
                    "satisfaction", "data_quality"):  # fmt: skip
        getattr(progress, section)()
    roadmap = RoadmapReport(small_demo_db, None, None, "vi")
    for section in ("phases", "targets", "trajectory_charts", "layers", "resources"):
        getattr(roadmap, section)()
    assert len(drawn) >= 10
    assert charts.VALIDATE_SPECS is False
    for chart in drawn:
        assert chart.to_dict(validate=True) == chart.to_dict(validate=False)  # raises if the spec is invalid
