"""The points planner: for a unit and period, the actions that gain the most 766 points per dossier or procedure.

    actions = plan(result, "STP")                  # result: a ScoreResult (score_units / score)
    actions = plan_unit(db, "STP", end="2026-10")  # scores the unit's period first

For every indicator with data that is below its maximum, the planner asks: how many more dossiers (or
procedures, feedback items) must count in the numerator to reach the indicator's full points, and how many
points does that gain? The answer is computed with the method itself — its caps, thresholds and rounding —
by scoring the changed counts, not by a formula of its own. Actions are ranked by points gained per item
changed (the fastest way up first), then by points gained.

What an action means for each indicator (the verb, what is counted) is data: `ACTIONS` below. An indicator the
planner has no action for, an indicator whose points the portal awards whatever the counts (rule `awarded`) and
an indicator without data (denominator 0) get no action.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import polars as pl

if TYPE_CHECKING:
    import duckdb

from egov_metrics.i18n import check_lang, fmt_number
from egov_metrics.model import FrozenModel
from egov_metrics.scoring import ScoreResult, ScoringMethod, load_method, score, score_units

__all__ = ["ACTIONS", "Action", "action_text", "plan", "plan_unit", "with_action_texts"]


class Action(FrozenModel):
    """What raising an indicator's numerator means: `{n}` is the number of items."""

    vi: str
    en: str
    item: Literal["dossier", "procedure", "feedback"]
    #: the numerator counts what goes wrong (complement rules): the action lowers it
    lowers_numerator: bool = False


ACTIONS: dict[str, Action] = {
    "procedures_published_on_time": Action(
        vi="công bố đúng hạn thêm {n} thủ tục", en="publish {n} more procedures on time", item="procedure"
    ),
    "procedures_disclosed_on_time": Action(
        vi="cập nhật, công khai đúng hạn thêm {n} thủ tục",
        en="update and disclose {n} more procedures on time",
        item="procedure",
    ),
    "procedures_content_complete": Action(
        vi="công khai đầy đủ nội dung thêm {n} thủ tục",
        en="complete the published content of {n} more procedures",
        item="procedure",
    ),
    "dossiers_synced_on_time": Action(
        vi="đồng bộ đúng hạn thêm {n} hồ sơ lên Cổng",
        en="synchronise {n} more dossiers on time",
        item="dossier",
    ),
    "dossiers_on_time": Action(
        vi="giải quyết đúng hạn thêm {n} hồ sơ", en="handle {n} more dossiers on time", item="dossier"
    ),
    "fully_online_dossiers": Action(
        vi="tiếp nhận trực tuyến toàn trình thêm {n} hồ sơ",
        en="receive {n} more dossiers fully online",
        item="dossier",
    ),
    "procedures_online": Action(
        vi="cung cấp trực tuyến thêm {n} thủ tục", en="offer {n} more procedures online", item="procedure"
    ),
    "online_submission": Action(
        vi="tiếp nhận trực tuyến thêm {n} hồ sơ", en="receive {n} more dossiers online", item="dossier"
    ),
    "paid_online": Action(
        vi="thanh toán trực tuyến thêm {n} hồ sơ",
        en="collect payment online for {n} more dossiers",
        item="dossier",
    ),
    "fee_procedures_paid_online": Action(
        vi="phát sinh thanh toán trực tuyến ở thêm {n} thủ tục có phí",
        en="take online payments in {n} more fee-bearing procedures",
        item="procedure",
    ),
    "fee_procedures_used": Action(
        # the portal does not publish what it counts for C (method note): the action says so, it invents no meaning
        vi="có thêm {n} thủ tục có phí được Cổng tính cho chỉ số C (Cổng chưa công bố cách tính)",
        en="get {n} more fee-bearing procedures counted by the portal for indicator C (its rule is not published)",
        item="procedure",
    ),
    "e_results": Action(
        vi="cấp kết quả điện tử thêm {n} hồ sơ", en="issue {n} more results electronically", item="dossier"
    ),
    "dossiers_digitized": Action(vi="số hóa thêm {n} hồ sơ", en="digitise {n} more dossiers", item="dossier"),
    "data_reuse": Action(
        vi="tái sử dụng dữ liệu số hóa ở thêm {n} hồ sơ",
        en="reuse digitised data in {n} more dossiers",
        item="dossier",
    ),
    "linked_citizen_store": Action(
        vi="kết nối kho dữ liệu cá nhân cho thêm {n} hồ sơ",
        en="link {n} more dossiers to the citizen's data store",
        item="dossier",
    ),
    "procedures_population_db": Action(
        vi="kết nối dữ liệu dân cư cho thêm {n} thủ tục",
        en="connect {n} more procedures to the population database",
        item="procedure",
    ),
    "population_data_use": Action(
        vi="sử dụng dữ liệu dân cư ở thêm {n} hồ sơ",
        en="use population data in {n} more dossiers",
        item="dossier",
    ),
    "feedback_on_time": Action(
        vi="xử lý đúng hạn thêm {n} phản ánh, kiến nghị",
        en="handle {n} more feedback items on time",
        item="feedback",
    ),
    "feedback_satisfaction": Action(
        vi="làm hài lòng thêm {n} phản ánh, kiến nghị",
        en="satisfy {n} more feedback items",
        item="feedback",
    ),
    "dossier_satisfaction": Action(
        vi="làm hài lòng thêm {n} hồ sơ (đúng hạn, không phản ánh)",
        en="satisfy {n} more dossiers (on time, no complaint)",
        item="dossier",
    ),
}

PLAN_COLUMNS = (
    "unit_id",
    "period",
    "group",
    "indicator",
    "item",
    "changed",
    "points_now",
    "points_after",
    "points_gain",
    "points_per_item",
    "reaches_max",
    "provisional",
    "action_vi",
    "action_en",
    "method_version",
)


def _needed(n: pl.Expr, d: pl.Expr, threshold: pl.Expr, lowers: pl.Expr) -> pl.Expr:
    """Items to change for full points: up to threshold × denominator (or down to (1 − t) × d)."""
    t = threshold.fill_null(1.0)
    up = ((t * d).ceil() - n).clip(lower_bound=0)
    down = (n - ((1 - t) * d).floor()).clip(lower_bound=0)
    return pl.when(lowers).then(down).otherwise(up).cast(pl.Int64)


def plan(result: ScoreResult, unit_id: str | None = None, *, period: str | None = None) -> pl.DataFrame:
    """The actions for `unit_id` (default: every unit in `result`), ranked by points gained per item changed."""
    method = result.method
    frame = result.indicators
    if unit_id is not None:
        frame = frame.filter(pl.col("unit_id") == unit_id)
    if period is not None:
        frame = frame.filter(pl.col("period") == period)
    meta = method.indicator_frame().select("indicator", "rule", "threshold")
    actions = pl.DataFrame(
        {
            "indicator": list(ACTIONS),
            "item": [a.item for a in ACTIONS.values()],
            "_lowers": [a.lowers_numerator for a in ACTIONS.values()],
            "action_vi": [a.vi for a in ACTIONS.values()],
            "action_en": [a.en for a in ACTIONS.values()],
        }
    )
    todo = (
        frame.filter((pl.col("basis") == "rate") & (pl.col("points_lost") > 0))
        .join(meta, on="indicator")
        .filter(pl.col("rule") != "awarded")
        .join(actions, on="indicator")
        .with_columns(
            _lowers=pl.col("_lowers") | pl.col("rule").str.starts_with("complement"),
            _n=pl.col("numerator").cast(pl.Float64),
            _d=pl.col("denominator").cast(pl.Float64),
        )
        .with_columns(changed=_needed(pl.col("_n"), pl.col("_d"), pl.col("threshold"), pl.col("_lowers")))
        .filter(pl.col("changed") > 0)
    )
    if todo.is_empty():
        return pl.DataFrame(schema={c: _PLAN_SCHEMA[c] for c in PLAN_COLUMNS})
    # score the changed counts with the method itself: caps, thresholds and rounding as the portal applies them.
    # Each action is scored with the unit's other counts as they are (only its own numerator changed): a
    # zero-denominator rule that moves points between the indicators of a group (split, exclude) then gives
    # the indicator the maximum it has in the unit, not the one it would have if it were the only one with data
    key = pl.concat_str("unit_id", "period", "indicator", separator="\x1f")
    targets = todo.select(
        "unit_id",
        "period",
        key.alias("_key"),
        pl.col("indicator").alias("_target"),
        pl.when("_lowers")
        .then(pl.col("_n") - pl.col("changed"))
        .otherwise(pl.col("_n") + pl.col("changed"))
        .alias("_new_n"),
    )
    unit_counts = result.indicators.filter(pl.col("missing").not_()).select(
        "unit_id",
        "period",
        "indicator",
        pl.col("numerator").cast(pl.Float64),
        pl.col("denominator").cast(pl.Float64),
    )
    changed_counts = targets.join(unit_counts, on=["unit_id", "period"]).select(
        pl.col("_key").alias("unit_id"),
        pl.lit("plan").alias("period"),
        "indicator",
        pl.when(pl.col("indicator") == pl.col("_target"))
        .then(pl.col("_new_n"))
        .otherwise(pl.col("numerator"))
        .alias("numerator"),
        "denominator",
    )
    after = (
        score(changed_counts, method)
        .indicators.filter(pl.col("missing").not_())
        .select(pl.col("unit_id").alias("_key"), "indicator", pl.col("points").alias("points_after"))
    )
    out = (
        todo.with_columns(_key=key)
        .join(after, on=["_key", "indicator"], how="left")
        .with_columns(
            points_now=pl.col("points"),
            points_gain=(pl.col("points_after") - pl.col("points")).round(2),
        )
        .with_columns(
            points_per_item=pl.col("points_gain") / pl.col("changed"),
            reaches_max=pl.col("points_after") >= pl.col("max_points"),
            method_version=pl.lit(method.label),
        )
        .filter(pl.col("points_gain") > 0)
        .sort(["points_per_item", "points_gain"], descending=[True, True])
    )
    return out.select(PLAN_COLUMNS)


_PLAN_SCHEMA: dict[str, pl.DataType] = {
    "unit_id": pl.String(),
    "period": pl.String(),
    "group": pl.String(),
    "indicator": pl.String(),
    "item": pl.String(),
    "changed": pl.Int64(),
    "points_now": pl.Float64(),
    "points_after": pl.Float64(),
    "points_gain": pl.Float64(),
    "points_per_item": pl.Float64(),
    "reaches_max": pl.Boolean(),
    "provisional": pl.Boolean(),
    "action_vi": pl.String(),
    "action_en": pl.String(),
    "method_version": pl.String(),
}


_SINGULAR = {
    "dossiers": "dossier",
    "procedures": "procedure",
    "items": "item",
    "results": "result",
}


def _what(row: dict, lang: str) -> str:
    """The action with its number: 'số hóa thêm 120 hồ sơ' / 'digitise 120 more dossiers'."""
    what: str = row[f"action_{lang}"].format(n=fmt_number(row["changed"], 0, lang))
    if lang == "en" and row["changed"] == 1:  # "1 more dossier", not "1 more dossiers"
        for plural, single in _SINGULAR.items():
            what = what.replace(plural, single)
    return what


def with_action_texts(actions: pl.DataFrame) -> pl.DataFrame:
    """`actions` (from `plan`) with `action_vi` / `action_en` holding the text with its number ('số hóa thêm
    120 hồ sơ') instead of the template ('số hóa thêm {n} hồ sơ'): for a file a planner reads."""
    rows = list(actions.iter_rows(named=True))
    return actions.with_columns(
        pl.Series(f"action_{lang}", [_what(r, lang) for r in rows], dtype=pl.String) for lang in ("vi", "en")
    )


def action_text(row: dict, lang: str = "vi") -> str:
    """'số hóa thêm 120 hồ sơ → +0,82 điểm' / 'digitise 120 more dossiers → +0.82 points'."""
    check_lang(lang)
    what = _what(row, lang)
    unit = "điểm" if lang == "vi" else "points"
    return f"{what} → +{fmt_number(row['points_gain'], 2, lang)} {unit}"


def plan_unit(
    db: str | Path | duckdb.DuckDBPyConnection,
    unit: str,
    *,
    end: str | None = None,
    grain: str = "ytd",
    method: ScoringMethod | str | Path | None = None,
) -> pl.DataFrame:
    """Score the unit's level for the period of `grain` ending at `end` (default: the data's end) and plan;
    `method` defaults to the method valid for that period (`scoring.method_for`)."""
    from egov_metrics.orgunits import resolve_unit
    from egov_metrics.reports.common import open_db

    method = method if method is None or isinstance(method, ScoringMethod) else load_method(method)
    if isinstance(db, str | Path):
        with open_db(db) as con:
            unit_id = resolve_unit(con, unit)
            result = score_units(con, end=end, grain=grain, unit=None, method=method)
    else:
        unit_id = resolve_unit(db, unit)
        result = score_units(db, end=end, grain=grain, method=method)
    if unit_id not in set(result.totals["unit_id"]):  # the province, a district, a unit that ended
        from egov_metrics.errors import EgovError

        raise EgovError(
            f"{unit} ({unit_id}) is not among the units the 766 index scores for this period",
            "plan takes a department or a commune of today (e.g. STP, or its name)",
        )
    return plan(result, unit_id)
