"""Method-version boundaries in trends: a score series that crosses a change of method is drawn in segments.

Scores are comparable only under one method. `segments()` labels each period of a score series with the method
version it was computed with, and with "applied retroactively" when the period lies outside the method's
validity (valid_from, valid_to): the portal scored those periods with another method. `chart_scores()` draws
one line per segment, never joining two segments, with a dashed rule and a label at every boundary.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

from egov_metrics.charts import localise
from egov_metrics.i18n import check_lang
from egov_metrics.scoring import ScoringMethod, method_display

__all__ = ["chart_scores", "segments"]

T = {
    "vi": {
        "retro": "áp dụng hồi tố",
        "change": "đổi phương pháp",
        "time": "Thời gian",
        "method": "Phương pháp",
    },
    "en": {"retro": "applied retroactively", "change": "method change", "time": "Time", "method": "Method"},
}


def segments(
    frame: pl.DataFrame, methods: dict[str, ScoringMethod], *, x: str = "period_start", lang: str = "vi"
) -> pl.DataFrame:
    """Add `method_label` (version, marked when applied outside its validity) and `segment` (a run of equal
    labels, numbered in time order) to a frame with `x` (a date) and `method_version` columns."""
    check_lang(lang)
    t = T[lang]
    bounds = pl.DataFrame(
        {
            "method_version": list(methods),
            "_from": [m.valid_from for m in methods.values()],
            "_to": [m.valid_to for m in methods.values()],
        },
        schema={"method_version": pl.String, "_from": pl.Date, "_to": pl.Date},
    )
    day = pl.col(x).cast(pl.Date)
    shown = pl.col("method_version").map_elements(lambda v: method_display(v, lang), return_dtype=pl.String)
    out = (
        frame.join(bounds, on="method_version", how="left")
        .with_columns(_retro=(day < pl.col("_from")) | (pl.col("_to").is_not_null() & (day >= pl.col("_to"))))
        .with_columns(
            method_label=pl.when(pl.col("_retro"))
            .then(pl.format("{} ({})", shown, pl.lit(t["retro"])))
            .otherwise(shown)
        )
        .sort(x)
    )
    return out.with_columns(
        segment=(pl.col("method_label") != pl.col("method_label").shift(1)).fill_null(True).cum_sum()
    ).drop("_from", "_to", "_retro")


def chart_scores(
    frame: pl.DataFrame,
    *,
    x: str = "period_start",
    y: str = "total",
    title: str = "",
    y_title: str = "",
    lang: str = "vi",
) -> alt.TopLevelMixin:
    """One line per method segment (colour: the method label), a dashed rule at each boundary."""
    check_lang(lang)
    t = T[lang]
    data = frame.select(pl.col(x).cast(pl.String), y, "method_label", "segment").to_dicts()  # ISO dates
    base = alt.Chart(alt.Data(values=data))
    lines = base.mark_line(point=alt.OverlayMarkDef(size=18)).encode(
        x=alt.X(f"{x}:T", title=t["time"], axis=alt.Axis(format="%m/%Y", labelAngle=0)),
        y=alt.Y(f"{y}:Q", title=y_title, scale=alt.Scale(zero=False)),
        color=alt.Color("method_label:N", title=t["method"], legend=alt.Legend(orient="bottom")),
        detail="segment:N",
    )
    starts = (
        frame.filter(pl.col("segment") > pl.col("segment").min())
        .group_by("segment")
        .agg(pl.col(x).min(), pl.col("method_label").first())
        .with_columns(text=pl.format("{}: {}", pl.lit(t["change"]), "method_label"))
    )
    layers: list[Any] = [lines]
    if starts.height:
        rule_data = alt.Data(
            values=starts.select(pl.col(x).cast(pl.String), "text").to_dicts()
        )  # ISO dates: parsed as time by Vega-Lite
        rule = alt.Chart(rule_data).mark_rule(strokeDash=[4, 3], color="#666").encode(x=f"{x}:T")
        label = (
            alt.Chart(rule_data)
            .mark_text(align="left", baseline="top", dx=4, y=2, fontSize=11, color="#444")
            .encode(x=f"{x}:T", text="text:N")
        )
        layers += [rule, label]
    chart = alt.layer(*layers).properties(title=title, width=560, height=240)
    return localise(chart, lang)
