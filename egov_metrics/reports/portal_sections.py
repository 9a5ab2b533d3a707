"""Report sections on the portal's published figures and on the points planner (vi and en).

Small, self-contained fragments that the unit scorecard and the progress report add to their pages:

* `reconciliation_section` — local versus published counts and points per indicator, with the likely cause;
* `reconciliation_summary` — per unit, how many indicators agree with the portal, and the largest gap;
* `planner_section` — "Cách tăng điểm nhanh nhất": the actions that gain the most points per item changed.
"""

from __future__ import annotations

import math

import duckdb
import polars as pl

from egov_metrics.errors import EgovError
from egov_metrics.i18n import check_lang, fmt_date, fmt_number, fmt_period
from egov_metrics.planner import action_text
from egov_metrics.present import Html, esc, heading, join, note, table, value_formatter
from egov_metrics.scoring import ScoringMethod, method_display

__all__ = ["load_reconciliation", "planner_section", "reconciliation_section", "reconciliation_summary"]

T = {
    "vi": {
        "rec_title": "Đối chiếu với số liệu Cổng Dịch vụ công quốc gia công bố",
        "rec_none": "Chưa có số liệu do Cổng Dịch vụ công quốc gia công bố cho đơn vị này: "
        "cần nhập số liệu Cổng công bố trước khi đối chiếu.",
        "rec_note": "Kỳ đối chiếu: {period} (kỳ của số liệu Cổng công bố, có thể khác kỳ của phần điểm ở trên); "
        "số liệu Cổng lấy ngày {captured}; {method}. "
        "Điểm Cổng không công bố theo chỉ tiêu được tính lại từ số liệu Cổng công bố.",
        "indicator": "Chỉ tiêu",
        "local": "Tỉnh (tử/mẫu)",
        "portal": "Cổng (tử/mẫu)",
        "local_points": "Điểm theo số liệu tỉnh",
        "portal_points": "Điểm theo Cổng",
        "diff": "Chênh lệch (tỉnh − Cổng)",
        "cause": "Nguyên nhân có thể",
        "sum_title": "Đối chiếu với số liệu Cổng công bố",
        "unit": "Đơn vị",
        "agree": "Chỉ tiêu khớp",
        "differ": "Chỉ tiêu lệch",
        "gap": "Chênh lệch điểm lớn nhất",
        "main_cause": "Nguyên nhân chính",
        "plan_title": "Cách tăng điểm nhanh nhất",
        "plan_none": "Không còn chỉ tiêu nào có thể tăng điểm từ số liệu hiện có.",
        "plan_note": "Xếp theo số điểm tăng trên mỗi hồ sơ, thủ tục hoặc phản ánh cần thay đổi; tính theo đúng "
        "ngưỡng, mức trần và cách làm tròn của {method}. Dấu ✓ ở cột «Đạt tối đa»: việc này đưa "
        "chỉ tiêu lên điểm tối đa; ở cột «Tạm tính»: quy tắc của chỉ tiêu chưa được xác nhận.",
        "action": "Việc cần làm → điểm tăng",
        "per_item": "Điểm trên mỗi hồ sơ/thủ tục",
        "full": "Đạt tối đa",
        "provisional": "Tạm tính",
    },
    "en": {
        "rec_title": "Reconciliation with the figures published by the national portal",
        "rec_none": "No figures published by the national portal for this unit yet "
        "(import them with egov-metrics portal import).",
        "rec_note": "Period compared: {period} (the period of the portal's figures, which may differ from the "
        "period of the scores above); portal figures captured on {captured}; {method}. Points the portal "
        "does not publish per indicator are recomputed from its published counts.",
        "indicator": "Indicator",
        "local": "Province (num/den)",
        "portal": "Portal (num/den)",
        "local_points": "Points from the province's data",
        "portal_points": "Portal points",
        "diff": "Difference (province − portal)",
        "cause": "Likely cause",
        "sum_title": "Reconciliation with the portal's published figures",
        "unit": "Unit",
        "agree": "Indicators agreeing",
        "differ": "Indicators differing",
        "gap": "Largest points gap",
        "main_cause": "Main cause",
        "plan_title": "Fastest ways to gain points",
        "plan_none": "No indicator can gain points from the current data.",
        "plan_note": "Ranked by points gained per dossier, procedure or feedback item changed; computed with "
        "the thresholds, caps and rounding of {method}. ✓ under «Reaches the maximum»: the action brings "
        "the indicator to its maximum; under «Provisional»: the indicator's rule is not confirmed.",
        "action": "Action → points gained",
        "per_item": "Points per item",
        "full": "Reaches the maximum",
        "provisional": "Provisional",
    },
}


def load_reconciliation(
    con: duckdb.DuckDBPyConnection, unit: str | None, method: ScoringMethod
) -> pl.DataFrame | None:
    """The reconciliation table, or None when there is nothing to reconcile (no import, no matched unit)."""
    from egov_metrics.reconcile import reconcile

    try:
        return reconcile(con, unit=unit, method=method)
    except EgovError:
        return None


def _latest(rec: pl.DataFrame, period: str | None = None) -> pl.DataFrame:
    """The report's own period when the portal's figures for it were imported, else the latest capture."""
    if period is not None and (rec["period"] == period).any():
        return rec.filter(pl.col("period") == period)
    return rec.filter(pl.col("captured_on") == pl.col("captured_on").max()).filter(
        pl.col("period") == pl.col("period").max()
    )


def _ratio(n: float | None, d: float | None, lang: str) -> str:
    return f"{fmt_number(n, 0, lang)}/{fmt_number(d, 0, lang)}"


def reconciliation_section(
    rec: pl.DataFrame | None, method: ScoringMethod, lang: str = "vi", period: str | None = None
) -> Html:
    check_lang(lang)
    t = T[lang]
    if rec is None or rec.is_empty():
        return heading(t["rec_title"]) + note(t["rec_none"])
    rec = _latest(rec, period)
    names = {i.id: (i.name_vi if lang == "vi" else i.name_en) for i in method.indicators}
    frame = rec.with_columns(
        pl.col("indicator").replace_strict(names, default=pl.col("indicator")).alias("name"),
        pl.struct("local_numerator", "local_denominator")
        .map_elements(
            lambda s: _ratio(s["local_numerator"], s["local_denominator"], lang), return_dtype=pl.String
        )
        .alias("local"),
        pl.struct("published_numerator", "published_denominator")
        .map_elements(
            lambda s: _ratio(s["published_numerator"], s["published_denominator"], lang),
            return_dtype=pl.String,
        )
        .alias("portal"),
        pl.col(f"cause_{lang}").alias("cause"),
    )
    fmt = value_formatter("count", 2, lang)
    cols = [
        ("name", t["indicator"]),
        ("local", t["local"]),
        ("portal", t["portal"]),
        ("local_points", t["local_points"]),
        ("published_points", t["portal_points"]),
        ("points_diff", t["diff"]),
        ("cause", t["cause"]),
    ]
    row = rec.row(0, named=True)
    text = t["rec_note"].format(
        period=fmt_period(str(row["period"]), lang),
        captured=fmt_date(row["captured_on"], lang),
        method=method_display(str(row["method_version"]), lang),
    )
    return join(
        [
            heading(t["rec_title"]),
            table(
                frame,
                cols,
                lang=lang,
                formats={"local_points": fmt, "published_points": fmt, "points_diff": fmt},
            ),
            note(text),
        ]
    )


def reconciliation_summary(
    rec: pl.DataFrame | None, lang: str = "vi", limit: int = 15, period: str | None = None
) -> Html:
    """Per unit: indicators agreeing / differing with the portal, the largest gap and its main cause."""
    check_lang(lang)
    t = T[lang]
    if rec is None or rec.is_empty():
        return heading(t["sum_title"]) + note(t["rec_none"])
    rec = _latest(rec, period)
    frame = (
        rec.group_by("unit_id")
        .agg(
            pl.col("unit_name").first(),
            (pl.col("cause") == "match").sum().alias("agree"),
            (pl.col("cause") != "match").sum().alias("differ"),
            pl.col("points_diff").abs().max().alias("gap"),
            pl.col(f"cause_{lang}").filter(pl.col("cause") != "match").mode().first().alias("main_cause"),
            pl.col("method_version").first(),
        )
        .sort(["gap", "unit_id"], descending=[True, False])
        .head(limit)
    )
    fmt = value_formatter("count", 2, lang)
    cols = [
        ("unit_name", t["unit"]),
        ("agree", t["agree"]),
        ("differ", t["differ"]),
        ("gap", t["gap"]),
        ("main_cause", t["main_cause"]),
    ]
    row = rec.row(0, named=True)
    text = t["rec_note"].format(
        period=fmt_period(str(row["period"]), lang),
        captured=fmt_date(row["captured_on"], lang),
        method=method_display(str(row["method_version"]), lang),
    )
    return join([heading(t["sum_title"]), table(frame, cols, lang=lang, formats={"gap": fmt}), note(text)])


def _per_item(value: float | None, lang: str) -> str:
    """Points per item with two significant digits, at least 3 decimals: 0,665; 0,0048 (a commune with thousands
    of dossiers gains a few ten-thousandths of a point per dossier, which 3 fixed decimals would show as 0,000)."""
    if value is None or value <= 0:
        return fmt_number(value, 3, lang)
    decimals = min(6, max(3, 1 - math.floor(math.log10(value))))
    return fmt_number(value, decimals, lang)


def planner_section(actions: pl.DataFrame, method: ScoringMethod, lang: str = "vi", limit: int = 6) -> Html:
    check_lang(lang)
    t = T[lang]
    if actions.is_empty():
        return heading(t["plan_title"]) + note(t["plan_none"])
    top = actions.head(limit)
    frame = top.with_columns(
        pl.Series("text", [action_text(r, lang) for r in top.iter_rows(named=True)], dtype=pl.String),
        pl.when(pl.col("reaches_max")).then(pl.lit("✓")).otherwise(pl.lit("")).alias("full"),
        pl.when(pl.col("provisional")).then(pl.lit("✓")).otherwise(pl.lit("")).alias("prov"),
    )
    cols = [
        ("text", t["action"]),
        ("points_per_item", t["per_item"]),
        ("full", t["full"]),
        ("prov", t["provisional"]),
    ]
    items = "".join(f"<li>{esc(x)}</li>" for x in frame["text"].head(3))
    return join(
        [
            heading(t["plan_title"]),
            Html(f'<ol class="egov-summary">{items}</ol>'),
            table(frame, cols, lang=lang, formats={"points_per_item": lambda v: _per_item(v, lang)}),
            note(t["plan_note"].format(method=method.display(lang))),
        ]
    )
