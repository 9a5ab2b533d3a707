"""The monthly progress report of one unit (the province by default): what the notebook displays.

`ProgressReport(db_path, period, unit, lang)` runs a handful of engine calls once; each section method
returns an `Html` fragment (localised headings, tables and inline-SVG charts). Units other than the scope
are named only in the province's report: a department's or commune's report holds its own figures and its
rank, never another unit's details.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import duckdb
import polars as pl

from egov_metrics.catalog import load_catalog
from egov_metrics.charts import chart_bar, chart_trend
from egov_metrics.engine import compute
from egov_metrics.i18n import check_lang, fmt_date, fmt_number, fmt_percent, fmt_period, fmt_points
from egov_metrics.ingest.problems import PROBLEMS
from egov_metrics.present import Html, chart, definitions, esc, heading, join, note, table, value_formatter
from egov_metrics.reports.common import (
    PAGE_CSS,
    Scope,
    group_names,
    kpi_cards,
    latest_period,
    month_bounds,
    months_and_status,
    months_before,
    named,
    open_db,
    scope_of,
    scores_and_previous,
    status_legend,
    unit_months_and_status,
)
from egov_metrics.reports.portal_sections import (
    load_reconciliation,
    reconciliation_section,
    reconciliation_summary,
)
from egov_metrics.roadmap.status import status_name
from egov_metrics.schema.connection import quarantine_table
from egov_metrics.scoring import ScoreResult, method_for
from egov_metrics.scoring.result import zero_outcome
from egov_metrics.vocab import CHANNELS as VOCAB_CHANNELS
from egov_metrics.vocab import PEER_LEVELS, STATUS_LIGHTS, UNIT_LEVELS

KPI_IDS = (
    "online_share",
    "fully_online_dossiers",
    "dossiers_on_time",
    "processing_days_median",
    "processing_days_p90",
    "dossiers_digitized",
    "data_reuse",
    "paid_online",
    "dossier_satisfaction",
    "overdue_backlog",
)
TREND_IDS = (
    "e_results",
    "population_data_use",
    "feedback_on_time",
    "feedback_satisfaction",
    "dossiers_received",
)
PROVINCE_IDS = ("vneid_users", "exchange_success_rate")
#: Actions on the month are due on this day of the next month.
ACTION_DAY = 15


class Texts(TypedDict):
    """The page's words in one language; both languages have every key (checked by mypy)."""

    title: str
    summary: str
    actions: str
    kpis: str
    trends: str
    league: str
    league_note: str
    unit_targets: str
    met: str
    unit_targets_note: str
    backlog: str
    channels: str
    digital: str
    integration: str
    satisfaction: str
    quality: str
    percent_trends: str
    days: str
    unit: str
    level: str
    total: str
    band: str
    rank: str
    overdue: str
    open: str
    procedure: str
    share: str
    none_overdue: str
    only_own: str
    method_of: str
    province_only: str


T: dict[str, Texts] = {
    "vi": {
        "title": "Báo cáo tiến độ chính quyền điện tử",
        "summary": "Tóm tắt",
        "actions": "Ba việc cần ưu tiên",
        "kpis": "Chỉ tiêu chính so với mục tiêu",
        "trends": "Xu hướng 24 tháng",
        "league": "Bảng xếp hạng Chỉ số 766 (lũy kế năm)",
        "league_note": "Mỗi nhóm được xếp hạng riêng: sở, ban, ngành với nhau; xã, phường với nhau.",
        "unit_targets": "Các đơn vị so với mục tiêu năm {y}",
        "met": "Đạt hoặc đúng tiến độ",
        "unit_targets_note": (
            "Mỗi đơn vị được đánh giá như báo cáo lộ trình (trung vị 3 tháng, xu hướng 24 tháng) theo mục tiêu "
            "của cấp mình; dấu * là mục tiêu chung của tỉnh áp dụng cho đơn vị vì chưa có mục tiêu riêng cho cấp "
            "này. Xếp theo tỷ lệ mục tiêu đạt hoặc đúng tiến độ."
        ),
        "backlog": "Hồ sơ quá hạn cuối kỳ",
        "channels": "Kênh nộp hồ sơ",
        "digital": "Số hóa và tái sử dụng dữ liệu",
        "integration": "Trao đổi dữ liệu qua LGSP/NDXP",
        "satisfaction": "Mức độ hài lòng",
        "quality": "Chất lượng dữ liệu",
        "percent_trends": "Tỷ lệ (%)",
        "days": "Thời gian giải quyết (ngày làm việc)",
        "unit": "Đơn vị",
        "level": "Cấp",
        "total": "Tổng điểm",
        "band": "Xếp loại",
        "rank": "Hạng",
        "overdue": "Quá hạn",
        "open": "Đang giải quyết",
        "procedure": "Thủ tục",
        "share": "Tỷ trọng",
        "none_overdue": "Không có hồ sơ quá hạn tại cuối kỳ.",
        "only_own": "Báo cáo của một đơn vị chỉ hiển thị số liệu của đơn vị đó.",
        "method_of": "Điểm tính theo phương pháp {m}.",
        "province_only": "Chỉ tiêu cấp tỉnh; chỉ có trong báo cáo toàn tỉnh.",
    },
    "en": {
        "title": "E-government progress report",
        "summary": "Summary",
        "actions": "Three things that most need action",
        "kpis": "Key indicators against targets",
        "trends": "24-month trends",
        "league": "766 index league table (year to date)",
        "league_note": "Each peer group is ranked on its own: departments among departments, communes among communes.",
        "unit_targets": "Units against their targets for {y}",
        "met": "Achieved or on track",
        "unit_targets_note": (
            "Each unit is judged as in the roadmap report (3-month median, 24-month trend) against its level's "
            "target; * marks the province's target, applied because the roadmap sets none for that level. "
            "Ranked by the share of targets achieved or on track."
        ),
        "backlog": "Overdue dossiers at period end",
        "channels": "Submission channels",
        "digital": "Digitization and data reuse",
        "integration": "Data exchange through LGSP/NDXP",
        "satisfaction": "Satisfaction",
        "quality": "Data quality",
        "percent_trends": "Rates (%)",
        "days": "Processing time (working days)",
        "unit": "Unit",
        "level": "Level",
        "total": "Total points",
        "band": "Band",
        "rank": "Rank",
        "overdue": "Overdue",
        "open": "Open",
        "procedure": "Procedure",
        "share": "Share",
        "none_overdue": "No overdue dossiers at the period's end.",
        "only_own": "A unit's report shows that unit's figures only.",
        "method_of": "Scores computed with method {m}.",
        "province_only": "Province-wide indicators; shown in the province's report only.",
    },
}
#: The 766 groups (vi, en), in the method's order (`common.group_names`).
GROUP_NAMES = group_names()
#: The peer groups of the 766 league: each ranked among its own.
PEER_GROUPS = {
    level: (UNIT_LEVELS[level].plural("vi"), UNIT_LEVELS[level].plural("en")) for level in PEER_LEVELS
}
CHANNELS = {code: (term.short("vi"), term.short("en")) for code, term in VOCAB_CHANNELS.items()}


@dataclass
class ProgressReport:
    db_path: str | Path
    period: str | None = None  # default: the last complete month of data
    unit: str | None = None
    lang: str = "vi"
    used: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        check_lang(self.lang)
        self.t = T[self.lang]
        with open_db(self.db_path) as con:
            self.period = self.period or latest_period(con)
            self.first, self.last = month_bounds(self.period)
            self.start24 = months_before(self.first, 23)
            self.scope: Scope = scope_of(con, self.unit)
            scope_arg = None if self.scope.is_province else self.scope.unit_id
            self._load_series(con, scope_arg)
            self._load_backlogs(con, scope_arg)
            self._load_unit_views(con)
            self._load_scores_and_status(con, scope_arg)
        if self.lang != "vi":
            self._units_named_in_language()
        self.current = self.monthly.filter(pl.col("period") == self.period)
        self.used.update(self.monthly["indicator"].unique().to_list())

    # -- the report's questions, asked once (each step one group of engine calls) -------------------------
    def _load_series(self, con: duckdb.DuckDBPyConnection, scope_arg: str | None) -> None:
        """The 24 months of the KPIs and trends (and the province-only series), and dossiers by channel."""
        ids = [*KPI_IDS, *TREND_IDS] + ([*PROVINCE_IDS] if self.scope.is_province else [])
        # with the status of each indicator against the year's target: the roadmap assessment's own function
        self.monthly, self.status = months_and_status(
            con, ids, start=self.start24, end=self.last, unit=scope_arg, lang=self.lang
        )
        self.channels = compute(
            ["dossiers_received"],
            by=["channel"],
            start=self.start24,
            end=self.last,
            unit=scope_arg,
            compare=False,
            db=con,
        )

    def _load_backlogs(self, con: duckdb.DuckDBPyConnection, scope_arg: str | None) -> None:
        """The month's open and overdue dossiers by unit, by procedure, and by procedure and unit."""
        self.backlog_units = compute(
            ["overdue_backlog", "open_backlog"],
            by=["unit"],
            level=("department", "commune"),
            start=self.first,
            end=self.last,
            unit=scope_arg,
            compare=False,
            lang=self.lang,
            db=con,
        )
        self.backlog_procs = compute(
            ["overdue_backlog"],
            by=["procedure"],
            start=self.first,
            end=self.last,
            unit=scope_arg,
            compare=False,
            db=con,
        ).join(
            con.sql(
                "SELECT code AS procedure, name_vi, coalesce(name_en, name_vi) AS name_en FROM procedure"
            ).pl(),
            on="procedure",
            how="left",
        )
        self.backlog_proc_units = compute(
            ["overdue_backlog"],
            by=["procedure", "unit"],
            level=("department", "commune"),
            start=self.first,
            end=self.last,
            unit=scope_arg,
            compare=False,
            lang=self.lang,
            db=con,
        )

    def _load_unit_views(self, con: duckdb.DuckDBPyConnection) -> None:
        """Province report only: KPI values per unit, every unit against its year's targets, unit names, and
        data exchange by platform."""
        # the month's KPI values per unit (province report): who is furthest from the year's target; and
        # every department and commune against its targets of the year
        self.kpi_units = self.unit_status = None
        if self.scope.is_province:
            self.kpi_units, self.unit_status = unit_months_and_status(
                con, list(KPI_IDS), period_start=self.first, end=self.last, lang=self.lang
            )
        self.scope_names = {
            r[0]: (r[1] if self.lang == "vi" else r[2] or r[1])
            for r in con.sql("SELECT id, name_vi, name_en FROM org_unit").fetchall()
        }
        self.exchange = (
            compute(
                ["exchange_requests"],
                by=["platform"],
                start=self.start24,
                end=self.last,
                compare=False,
                db=con,
            )
            if self.scope.is_province
            else None
        )

    def _load_scores_and_status(self, con: duckdb.DuckDBPyConnection, scope_arg: str | None) -> None:
        """The 766 scores (year to date), data quality, the method and the reconciliation with the portal (each
        indicator's status against the year's target comes with the months: `_load_series`)."""
        assert self.period is not None  # resolved in __post_init__
        self.scores: ScoreResult | None = scores_and_previous(con, self.period)[0]
        self.quality = _quality(con, self.scope, self.first, self.last)
        self.method = method_for(self.period)
        # the province's report names every unit; a unit's report holds its own figures only
        self.reconciled = load_reconciliation(
            con, None if self.scope.is_province else self.scope.unit_id, self.method
        )

    def _units_named_in_language(self) -> None:
        """The scores' and the reconciliation's units by their names in the page's language (`scope_names`):
        `score_units` names them in Vietnamese (its engine call is the one the landing page and the Vietnamese
        page share through the compute cache), and so does the reconciliation, which is made of its scores; the
        page's other answers come named in its language already."""
        names = pl.col("unit_id").replace_strict(
            self.scope_names, default=pl.col("unit_name"), return_dtype=pl.String
        )
        if self.reconciled is not None:
            self.reconciled = self.reconciled.with_columns(names.alias("unit_name"))
        if self.scores is None:
            return
        scores = self.scores
        self.scores = dataclasses.replace(
            scores,
            indicators=scores.indicators.with_columns(names.alias("unit_name")),
            groups=scores.groups.with_columns(names.alias("unit_name")),
            totals=scores.totals.with_columns(names.alias("unit_name")),
        )

    # -- sections ---------------------------------------------------------------------------------------
    def style(self) -> Html:
        return Html(PAGE_CSS)

    def title(self) -> Html:
        assert self.period is not None  # resolved in __post_init__
        return heading(
            f"{self.t['title']} · {self.scope.name(self.lang)} · {fmt_period(self.period, self.lang)}", 1
        )

    def _value(self, indicator: str) -> dict | None:
        rows = self.current.filter(pl.col("indicator") == indicator)
        return rows.row(0, named=True) if rows.height else None

    def summary(self) -> Html:
        """A few plain sentences and the three things that most need action."""
        lang = self.lang
        sentences = []
        for ind_id in ("online_share", "dossiers_on_time", "dossiers_digitized"):
            row = self._value(ind_id)
            if row is None or row["value"] is None:
                continue
            name = load_catalog().get(ind_id).name_in(lang)
            text = f"{name} {'đạt' if lang == 'vi' else 'was'} {fmt_percent(row['value'], 1, lang)}"
            if row.get("change_year_ago") is not None:
                delta = row["change_year_ago"]
                if lang == "vi":
                    verb = "tăng" if delta >= 0 else "giảm"
                    text += f", {verb} {fmt_number(abs(delta), 1, lang)} điểm % so với cùng kỳ"
                else:
                    text += f", {fmt_points(delta, 1, lang)} on the same month a year earlier"
            sentences.append(text + ".")
        actions = [a for _, a in sorted(self._actions(), key=lambda x: -x[0])[:3]]
        items = "".join(f"<li>{esc(a)}</li>" for a in actions) or f"<li>{esc('–')}</li>"
        return Html(
            f'<div class="egov-summary"><h2>{esc(self.t["summary"])}</h2><p>{esc(" ".join(sentences))}</p>'
            f"<strong>{esc(self.t['actions'])}</strong><ol>{items}</ol></div>"
        )

    def _act_by(self) -> str:
        """The date actions on the month are due: day ACTION_DAY of the next month."""
        return fmt_date(months_before(self.first, -1).replace(day=ACTION_DAY), self.lang)

    def _actions(self) -> list[tuple[float, str]]:
        """Candidate actions with a severity; the summary shows the top three. Each names the unit that must
        act (in a unit's report: the unit itself), a number and a date."""
        return [
            *self._overdue_actions(),
            *self._procedure_actions(),
            *self._target_actions(),
            *self._score_actions(),
        ]

    def _overdue_actions(self) -> list[tuple[float, str]]:
        """Who holds the overdue backlog."""
        lang, out = self.lang, []
        by = self._act_by()
        me = self.scope.name(lang)
        overdue = self.backlog_units.filter(
            (pl.col("indicator") == "overdue_backlog") & (pl.col("value") > 0)
        )
        total = float(overdue["value"].sum()) if overdue.height else 0.0  # value is Float64 already
        if total:
            top = overdue.sort("value", descending=True).row(0, named=True)
            share = 100 * top["value"] / total
            owner = top["unit_name"] if self.scope.is_province else me
            n = fmt_number(top["value"] if self.scope.is_province else total, 0, lang)
            out.append(
                (
                    50 + share,
                    f"{owner}: giải quyết {n} hồ sơ quá hạn"
                    + (f" ({fmt_percent(share, 0, lang)} số hồ sơ quá hạn)" if self.scope.is_province else "")
                    + f" trước {by}."
                    if lang == "vi"
                    else f"{owner}: clear {n} overdue dossiers"
                    + (f" ({fmt_percent(share, 0, lang)} of all overdue)" if self.scope.is_province else "")
                    + f" by {by}.",
                )
            )
        return out

    def _procedure_actions(self) -> list[tuple[float, str]]:
        """The procedure with the most overdue dossiers, and the unit holding most of them."""
        lang, out = self.lang, []
        by = self._act_by()
        me = self.scope.name(lang)
        procs = self.backlog_proc_units.filter(pl.col("value") > 0)
        if procs.height:
            per_proc = (
                procs.group_by("procedure")
                .agg(pl.col("value").sum().alias("n"))
                .sort(["n", "procedure"], descending=[True, False])
            )
            code, n = per_proc.row(0)
            holder = (
                procs.filter(pl.col("procedure") == code).sort("value", descending=True).row(0, named=True)
            )
            names = self.backlog_procs.filter(pl.col("procedure") == code)
            name = (names["name_vi" if lang == "vi" else "name_en"][0] if names.height else None) or code
            owner = holder["unit_name"] if self.scope.is_province else me
            out.append(
                (
                    40 + n / max(1, procs["value"].sum()) * 20,
                    f"{owner}: rà soát quy trình và nhân lực của thủ tục “{name}” "
                    f"({fmt_number(holder['value'], 0, lang)} trong {fmt_number(n, 0, lang)} hồ sơ quá hạn "
                    f"của thủ tục) trước {by}."
                    if lang == "vi"
                    else f"{owner}: review the workflow and staffing of the procedure “{name}” "
                    f"({fmt_number(holder['value'], 0, lang)} of its {fmt_number(n, 0, lang)} overdue dossiers) "
                    f"by {by}.",
                )
            )
        return out

    def _target_actions(self) -> list[tuple[float, str]]:
        """Indicators off track for the year's target: the unit furthest short of it acts."""
        lang, out = self.lang, []
        me = self.scope.name(lang)
        status = {r["indicator"]: r for r in self.status.iter_rows(named=True)}
        for row in self.current.iter_rows(named=True):
            ind = load_catalog().get(row["indicator"])
            st = status.get(ind.id)
            if ind.unit != "percent" or row["value"] is None or st is None or st["status"] != "off_track":
                continue
            owner, short = me, None
            units = (
                self.kpi_units.filter(pl.col("indicator") == ind.id) if self.kpi_units is not None else None
            )
            if units is not None and units.height:
                sign = 1 if ind.direction == "higher" else -1
                gaps = units.with_columns(
                    (sign * (pl.col("denominator") * st["target"] / 100 - pl.col("numerator"))).alias("gap")
                ).sort("gap", descending=True)
                worst = gaps.row(0, named=True)
                if worst["gap"] and worst["gap"] > 0:
                    owner, short = worst["unit_name"], math.ceil(worst["gap"])
            elif row.get("denominator") and row.get("numerator") is not None:
                sign = 1 if ind.direction == "higher" else -1
                gap = sign * (row["denominator"] * st["target"] / 100 - row["numerator"])
                short = math.ceil(gap) if gap > 0 else None
            target = fmt_percent(st["target"], 1, lang)
            deadline = fmt_date(st["deadline"], lang)
            assert self.period is not None  # resolved in __post_init__
            period = fmt_period(self.period, lang)
            if lang == "vi":
                text = f"{owner}: đưa “{ind.name_in(lang)}” lên {target} trước {deadline}"
                text += f" (tháng này còn thiếu {fmt_number(short, 0, lang)} hồ sơ)." if short else "."
            else:
                text = f"{owner}: bring “{ind.name_in(lang)}” to {target} by {deadline}"
                text += f" ({fmt_number(short, 0, lang)} dossiers short in {period})." if short else "."
            out.append((30 + abs(st["target"] - (st["current"] or 0)), text))
        return out

    def _score_actions(self) -> list[tuple[float, str]]:
        """The 766 group that loses the most points, and the unit losing most in it."""
        lang, out = self.lang, []
        by = self._act_by()
        me = self.scope.name(lang)
        if self.scores is not None:
            groups = self.scores.groups
            if not self.scope.is_province:
                groups = groups.filter(pl.col("unit_id") == self.scope.unit_id)
            if groups.height:
                lost = groups.with_columns((pl.col("max") - pl.col("score")).alias("lost"))
                mean = lost.group_by("group").agg(pl.col("lost").mean()).sort("lost", descending=True)
                worst_group = mean.row(0, named=True)
                unit_row = (
                    lost.filter(pl.col("group") == worst_group["group"])
                    .sort("lost", descending=True)
                    .row(0, named=True)
                )
                owner = (
                    self.scope_names.get(unit_row["unit_id"], unit_row["unit_id"])
                    if self.scope.is_province
                    else me
                )
                gname = GROUP_NAMES[worst_group["group"]][0 if lang == "vi" else 1]
                points = fmt_number(unit_row["lost"], 2, lang)
                out.append(
                    (
                        20 + worst_group["lost"] * 3,
                        f"{owner}: lấy lại {points} điểm nhóm “{gname}” của Chỉ số 766 trước {by}."
                        if lang == "vi"
                        else f"{owner}: win back {points} points of the 766 group “{gname}” by {by}.",
                    )
                )
        return out

    def kpis(self) -> Html:
        order = [i for i in (*KPI_IDS, *PROVINCE_IDS) if i in set(self.current["indicator"].to_list())]
        rows = self.current.filter(pl.col("indicator").is_in(order))
        rows = rows.with_columns(
            pl.col("indicator")
            .replace_strict({k: n for n, k in enumerate(order)}, return_dtype=pl.Int32)
            .alias("_o")
        ).sort("_o")
        level = "province" if self.scope.is_province else self.scope.level
        return join(
            [
                heading(self.t["kpis"]),
                kpi_cards(rows, self.status, level, self.lang),
                status_legend(self.lang),
            ]
        )

    def trends(self) -> Html:
        pct = ["online_share", "fully_online_dossiers", "dossiers_on_time", "dossier_satisfaction"]
        frame = named(self.monthly.filter(pl.col("indicator").is_in(pct)), self.lang)
        days = named(self.monthly.filter(pl.col("indicator").str.starts_with("processing_days_")), self.lang)
        backlog = named(self.monthly.filter(pl.col("indicator") == "overdue_backlog"), self.lang)
        parts = [
            heading(self.t["trends"]),
            chart(chart_trend(frame, color="name", title=self.t["percent_trends"], lang=self.lang)),
        ]
        if days.height:
            parts.append(
                chart(
                    chart_trend(days, color="name", unit="working_days", title=self.t["days"], lang=self.lang)
                )
            )
        if backlog.height:
            parts.append(
                chart(
                    chart_trend(backlog, color="name", unit="count", title=backlog["name"][0], lang=self.lang)
                )
            )
        return join(parts)

    def league(self) -> Html:
        t, lang = self.t, self.lang
        if self.scores is None:
            return heading(t["league"]) + note("–")
        totals = self.scores.totals
        groups = self.scores.groups.pivot(on="group", index="unit_id", values="score")
        frame = totals.join(groups, on="unit_id", how="left").sort("rank_all")
        band = "band_vi" if lang == "vi" else "band"
        group_cols = [
            (g, GROUP_NAMES[g][0 if lang == "vi" else 1]) for g in GROUP_NAMES if g in frame.columns
        ]
        if not self.scope.is_province:
            frame = frame.filter(pl.col("unit_id") == self.scope.unit_id).with_columns(
                (pl.col("rank").cast(pl.String) + "/" + pl.col("rank_among").cast(pl.String)).alias(
                    "rank_text"
                )
            )
            cols = [
                ("unit_name", t["unit"]),
                ("total", t["total"]),
                (band, t["band"]),
                ("rank_text", t["rank"]),
                *group_cols,
            ]
            return join(
                [
                    heading(t["league"]),
                    table(frame, cols, lang=lang, formats=_points_formats(cols, lang)),
                    note(t["method_of"].format(m=self._method_name())),
                    note(t["only_own"]),
                ]
            )
        # one table per peer group (departments, communes), ranked among peers: a ward is not a department
        frame = frame.with_columns(
            (pl.col("rank").cast(pl.String) + "/" + pl.col("rank_among").cast(pl.String)).alias("rank_text")
        )
        cols = [
            ("rank", t["rank"]),
            ("unit_name", t["unit"]),
            ("total", t["total"]),
            (band, t["band"]),
            *group_cols,
        ]
        parts = [
            heading(t["league"]),
            note(t["league_note"]),
            note(t["method_of"].format(m=self._method_name())),
        ]
        for level, (name_vi, name_en) in PEER_GROUPS.items():
            peers = frame.filter(pl.col("unit_level") == level).sort("rank", "unit_name")
            if peers.is_empty():
                continue
            title = name_vi if lang == "vi" else name_en
            parts.append(heading(f"{title} ({peers.height})", 3))
            parts.append(table(peers, cols, lang=lang, formats={**_points_formats(cols, lang), "rank": str}))
            zero = self._zero_denominator_note(peers["unit_id"].to_list())
            if zero:
                parts.append(note(zero))
            parts.append(
                chart(
                    chart_bar(
                        peers.head(40),
                        category="unit_name",
                        value="total",
                        unit="count",
                        title=f"{t['total']} · {title}",
                        value_title=t["total"],
                        lang=lang,
                    )
                )
            )
        return join(parts)

    def _method_name(self) -> str:
        """The scoring method by its name and version in the report's language (never a code)."""
        name = self.method.name_vi if self.lang == "vi" else self.method.name_en
        return f"{name} ({self.method.version})"

    def _zero_denominator_note(self, unit_ids: list[str]) -> str:
        """The note under a peer table on the indicators these units scored by a zero-denominator rule."""
        return "" if self.scores is None else zero_denominator_note(self.scores, unit_ids, self.lang)

    def unit_targets(self) -> Html:
        """The league of units against their own targets of the year (province report): per peer group, each
        unit's status on every target indicator, ranked by the share of targets achieved or on track. A
        target borrowed from the province is marked with *."""
        t, lang = self.t, self.lang
        if self.unit_status is None:  # a unit's report names no other unit
            return Html("")
        parts = [heading(t["unit_targets"].format(y=self.first.year))]
        if self.unit_status.is_empty():
            return join([*parts, note("–")])
        catalog = load_catalog()
        frame = self.unit_status
        order = list(dict.fromkeys(frame["indicator"].to_list()))
        names = {i: catalog.get(i).name_in(lang) for i in order}
        for level, (name_vi, name_en) in PEER_GROUPS.items():
            peers = frame.filter(pl.col("unit_level") == level)
            if peers.is_empty():
                continue
            rows = []
            for _, part in peers.partition_by("unit_id", as_dict=True, maintain_order=True).items():
                cells = {r["indicator"]: r for r in part.iter_rows(named=True)}
                good = sum(STATUS_LIGHTS[r["status"]] == "green" for r in cells.values())
                row = {"unit": part["unit_name"][0], "good": f"{good}/{len(cells)}", "_good": good / len(cells),
                       "_off": sum(r["status"] == "off_track" for r in cells.values())}  # fmt: skip
                for ind in order:
                    r = cells.get(ind)
                    row[ind] = (
                        "–"
                        if r is None
                        else status_name(r["status"], r.get("rule"), lang)
                        + ("*" if r["target_level"] != level else "")
                    )
                rows.append(row)
            table_frame = pl.DataFrame(rows).sort(["_good", "_off", "unit"], descending=[True, False, False])
            table_frame = table_frame.with_columns(pl.int_range(1, table_frame.height + 1).alias("rank"))
            cols = [("rank", t["rank"]), ("unit", t["unit"]), ("good", t["met"])] + [
                (i, names[i]) for i in order
            ]
            parts.append(heading(f"{name_vi if lang == 'vi' else name_en} ({table_frame.height})", 3))
            parts.append(table(table_frame, cols, lang=lang, formats={"rank": str}))
        parts.append(note(t["unit_targets_note"]))
        return join(parts)

    def reconciliation(self) -> Html:
        if self.scope.is_province:
            return reconciliation_summary(self.reconciled, self.lang, period=self.period)
        return reconciliation_section(self.reconciled, self.method, self.lang, self.period)

    def backlog(self) -> Html:
        t, lang = self.t, self.lang
        overdue = self.backlog_units.filter(pl.col("indicator") == "overdue_backlog").select(
            "unit_id", "unit_name", pl.col("value").alias("overdue")
        )
        open_ = self.backlog_units.filter(pl.col("indicator") == "open_backlog").select(
            "unit_id", pl.col("value").alias("open")
        )
        units = (
            overdue.join(open_, on="unit_id", how="left")
            .filter(pl.col("overdue") > 0)
            .sort("overdue", descending=True)
        )
        procs = self.backlog_procs.filter(pl.col("value") > 0).sort("value", descending=True).head(10)
        name = "name_vi" if lang == "vi" else "name_en"
        whole = value_formatter("count", 0, lang)  # dossiers are counted: 5, not 5,0
        parts = [heading(t["backlog"])]
        if units.height == 0 and procs.height == 0:
            return join([*parts, note(t["none_overdue"])])
        if units.height and (self.scope.is_province or units.height > 1):
            parts.append(
                table(
                    units.head(15),
                    [("unit_name", t["unit"]), ("overdue", t["overdue"]), ("open", t["open"])],
                    lang=lang,
                    formats={"overdue": whole, "open": whole},
                )
            )
        if procs.height:
            parts.append(
                table(
                    procs,
                    [
                        ("procedure", "Mã TTHC" if lang == "vi" else "Code"),
                        (name, t["procedure"]),
                        ("value", t["overdue"]),
                    ],
                    lang=lang,
                    formats={"value": whole},
                )
            )
        return join(parts)

    def channel_mix(self) -> Html:
        lang = self.lang
        names = {k: v[0 if lang == "vi" else 1] for k, v in CHANNELS.items()}
        frame = self.channels.with_columns(
            pl.col("channel").replace_strict(names, default=pl.col("channel")).alias("channel_name")
        )
        totals = frame.group_by("period_start").agg(pl.col("value").sum().alias("total"))
        frame = frame.join(totals, on="period_start").with_columns(
            (100 * pl.col("value") / pl.col("total")).alias("share")
        )
        return heading(self.t["channels"]) + chart(
            chart_trend(frame, y="share", color="channel_name", title=self.t["share"], lang=lang)
        )

    def digitization(self) -> Html:
        ids = ["dossiers_digitized", "data_reuse", "e_results", "population_data_use"]
        frame = named(self.monthly.filter(pl.col("indicator").is_in(ids)), self.lang)
        return heading(self.t["digital"]) + chart(
            chart_trend(frame, color="name", title=self.t["percent_trends"], lang=self.lang)
        )

    def integration(self) -> Html:
        if self.exchange is None:
            return heading(self.t["integration"]) + note(self.t["province_only"])
        frame = self.exchange.with_columns(pl.col("platform").alias("name"))
        rate = named(self.monthly.filter(pl.col("indicator") == "exchange_success_rate"), self.lang)
        parts = [
            heading(self.t["integration"]),
            chart(
                chart_trend(
                    frame,
                    color="name",
                    unit="count",
                    title=load_catalog().get("exchange_requests").name_in(self.lang),
                    lang=self.lang,
                )
            ),
        ]
        if rate.height:
            parts.append(chart(chart_trend(rate, color="name", title=rate["name"][0], lang=self.lang)))
        return join(parts)

    def satisfaction(self) -> Html:
        ids = ["dossier_satisfaction", "feedback_on_time", "feedback_satisfaction"]
        frame = named(self.monthly.filter(pl.col("indicator").is_in(ids)), self.lang)
        return heading(self.t["satisfaction"]) + chart(
            chart_trend(frame, color="name", title=self.t["percent_trends"], lang=self.lang)
        )

    def data_quality(self) -> Html:
        t, lang, q = self.t, self.lang, self.quality
        labels = {
            "vi": (
                "Dòng bị loại khi nạp (các lần nạp đến hết tháng sau kỳ)",
                "Trường còn thiếu trong hồ sơ của kỳ",
                "Đơn vị không phát sinh hồ sơ trong kỳ",
                "Lý do",
                "Số dòng",
                "Trường",
                "Số hồ sơ",
                "Không có.",
            ),
            "en": (
                "Rows rejected at load (loads to the end of the month after the period)",
                "Missing fields in the period's dossiers",
                "Units with no dossier in the period",
                "Reason",
                "Rows",
                "Field",
                "Dossiers",
                "None.",
            ),
        }[lang]
        parts = [heading(t["quality"]), heading(labels[0], 3)]
        parts.append(
            table(_rejected_named(q.rejected, lang), [("reason", labels[3]), ("rows", labels[4])], lang=lang)
            if q.rejected.height
            else note(labels[7])
        )
        parts.append(heading(labels[1], 3))
        parts.append(
            table(_missing_named(q.missing, lang), [("field", labels[5]), ("dossiers", labels[6])], lang=lang)
            if q.missing.height
            else note(labels[7])
        )
        parts.append(heading(labels[2], 3))
        silent = q.silent.select("name_vi" if lang == "vi" else "name_en")
        parts.append(note(", ".join(silent.to_series().to_list())) if silent.height else note(labels[7]))
        return join(parts)

    def appendix(self) -> Html:
        return definitions(self.used, self.lang)


#: The zero-denominator note's words: the lead, one sentence per indicator × outcome, the outcomes and the units.
ZERO_WORDS: dict[str, dict[str, str]] = {
    "vi": {
        "lead": "Mẫu số bằng 0 (không có gì để tính trong kỳ): điểm của chỉ tiêu theo phương pháp, đã cộng vào "
        "điểm nhóm trong bảng. ",
        "sentence": "Chỉ tiêu “{indicator}” (nhóm “{group}”) — {units}: {outcome}",
        "full": "được tính đủ điểm, {points}/{max} điểm",
        "zero": "được {points}/{max} điểm",
        "split": "không tính, {max} điểm của chỉ tiêu được chia đều cho các chỉ tiêu khác của nhóm",
        "exclude": "không tính, các chỉ tiêu khác của nhóm được quy đổi lại để nhóm giữ điểm tối đa",
        "lost": "được {points}/{max} điểm (nhóm không còn chỉ tiêu nào có số liệu để nhận số điểm này)",
        "all": "tất cả {n} đơn vị",
        "more": " và {n} đơn vị khác",
    },
    "en": {
        "lead": "Zero denominators (nothing to count in the period): each indicator's points as the method gives "
        "them, included in the group scores of the table. ",
        "sentence": "Indicator “{indicator}” (group “{group}”) — {units}: {outcome}",
        "full": "full points, {points} of {max}",
        "zero": "{points} of {max} points",
        "split": "left out, its {max} points shared equally by the group's other indicators",
        "exclude": "left out, the group's other indicators rescaled so that the group keeps its maximum",
        "lost": "{points} of {max} points (no other indicator of the group has data to take them)",
        "all": "all {n} units",
        "more": " and {n} more",
    },
}
#: Units named in one sentence of the note before "and N more".
ZERO_SHOWN = 6


def _zero_outcome(basis: str, points: float, max_points: float, method_max: float, lang: str) -> str:
    """What one unit got for one indicator scored by a zero-denominator rule, read from the points the group
    score sums (never from the rule alone): a dropped indicator (split / exclude) has a maximum of 0."""
    words = ZERO_WORDS[lang]

    def num(value: float) -> str:
        return fmt_number(value, 0 if float(value).is_integer() else 2, lang)

    kind = zero_outcome(basis, points, max_points)
    return words[kind].format(
        points=num(points), max=num(method_max if kind in ("split", "exclude") else max_points)
    )


def zero_denominator_note(scores: ScoreResult, unit_ids: list[str], lang: str) -> str:
    """The indicators these units scored by a zero-denominator rule (nothing to count in the period): one
    sentence per indicator and outcome, naming the indicator (and its group), the units, and the points they
    got, taken from the same indicator points the table's group scores add up. Units with different outcomes
    for one indicator are in different sentences; "" when no unit has a zero denominator."""
    check_lang(lang)
    words = ZERO_WORDS[lang]
    method = scores.method
    indicators = {i.id: i for i in method.indicators}
    groups = {g.id: (g.name_vi if lang == "vi" else g.name_en) for g in method.groups}
    order = {i.id: n for n, i in enumerate(method.indicators)}
    zero = scores.indicators.filter(pl.col("unit_id").is_in(unit_ids) & (pl.col("basis") != "rate"))
    if zero.is_empty():
        return ""
    totals = scores.totals
    names = (
        dict(zip(totals["unit_id"], totals["unit_name"], strict=False))
        if "unit_name" in totals.columns
        else {}
    )
    everyone = set(unit_ids) & set(scores.indicators["unit_id"])
    outcomes: dict[tuple[str, str], set[str]] = {}
    for r in zero.iter_rows(named=True):
        ind = indicators[r["indicator"]]
        outcome = _zero_outcome(r["basis"], r["points"], r["max_points"], float(ind.max_points), lang)
        outcomes.setdefault((r["indicator"], outcome), set()).add(r["unit_id"])
    parts = []
    for (indicator, outcome), units in sorted(
        outcomes.items(), key=lambda kv: order.get(kv[0][0], len(order))
    ):
        ind = indicators[indicator]
        if units == everyone and len(units) > 1:
            shown = words["all"].format(n=len(units))
        else:
            listed = sorted(names.get(u, u) for u in units)
            shown = ", ".join(listed[:ZERO_SHOWN])
            if len(listed) > ZERO_SHOWN:
                shown += words["more"].format(n=len(listed) - ZERO_SHOWN)
        parts.append(
            words["sentence"].format(
                indicator=ind.name_vi if lang == "vi" else ind.name_en,
                group=groups.get(ind.group, ind.group),
                units=shown,
                outcome=outcome,
            )
        )
    return words["lead"] + ". ".join(parts) + "."


def _points_formats(cols: list[tuple[str, str]], lang: str) -> dict:
    numeric = {c for c, _ in cols if c in ("total", *GROUP_NAMES)}
    fmt = value_formatter("count", 2, lang)
    return {c: fmt for c in numeric}


#: A rejected row quarantined by a version that kept its reason in English only, on a Vietnamese page.
EARLIER_REASON = "Lý do khác (ghi nhận trước khi có bản tiếng Việt; xem bảng quarantine)"


def _rejected_named(rejected: pl.DataFrame, lang: str) -> pl.DataFrame:
    """The rejected rows by kind of problem (`Quality.rejected`), each named in `lang`: the problem and the
    file's column ("Giá trị không đọc được: Ngày tiếp nhận"), or a rule's own reason (which names its columns)."""

    def name(row: dict[str, str | None]) -> str:
        problem, column = row["problem"], row["column"]
        if problem in PROBLEMS:
            said = PROBLEMS[problem](lang)
            return f"{said}: {column}" if column else said
        return (row["reason_vi"] or EARLIER_REASON) if lang == "vi" else (row["reason"] or "")

    names = [name(r) for r in rejected.iter_rows(named=True)]
    return (
        rejected.with_columns(pl.Series("reason", names, dtype=pl.String))
        .group_by("reason", maintain_order=True)
        .agg(pl.col("rows").sum())
        .sort("rows", descending=True, maintain_order=True)
    )


#: The dossier fields the data-quality section counts when missing (`Quality.missing`), by their names in each
#: language: a reader sees "Ngày hẹn trả" / "Due date", never the column's code.
MISSING_FIELDS: dict[str, dict[str, str]] = {
    "vi": {
        "due_at": "Ngày hẹn trả",
        "finished_at": "Ngày kết thúc xử lý",
        "returned_at": "Ngày trả kết quả",
        "synced_at": "Thời điểm đồng bộ lên Cổng Dịch vụ công quốc gia",
    },
    "en": {
        "due_at": "Due date",
        "finished_at": "Date processing finished",
        "returned_at": "Date the result was returned",
        "synced_at": "Time synchronised to the national public service portal",
    },
}


def _missing_named(missing: pl.DataFrame, lang: str) -> pl.DataFrame:
    """The missing fields (`Quality.missing`: field code, dossiers), each field named in `lang`."""
    return missing.with_columns(pl.col("field").replace_strict(MISSING_FIELDS[lang], return_dtype=pl.String))


@dataclass(frozen=True)
class Quality:
    rejected: pl.DataFrame
    missing: pl.DataFrame
    silent: pl.DataFrame


def _quality(con: duckdb.DuckDBPyConnection, scope: Scope, first: dt.date, last: dt.date) -> Quality:
    """Aggregates only: rejected rows by kind of problem and column, missing fields, units with no dossier in
    the period. A rule's problem is its reason (one text per rule); rows quarantined by a version that kept
    no kind of problem are counted by their reason. A rejected row is counted once however often it was
    loaded (by its source row: kind and the whole row as recorded)."""
    by_reason = "q.problem IS NULL OR q.problem = 'rule'"
    rejected = con.sql(
        f'SELECT q.problem, q."column", CASE WHEN {by_reason} THEN q.reason END AS reason, '
        # a source row loaded, and rejected, again (the same file loaded twice) is one row, not two
        f"CASE WHEN {by_reason} THEN q.reason_vi END AS reason_vi, count(DISTINCT (q.kind, q.record)) AS rows "
        f"FROM {quarantine_table(con)} q JOIN ingest_run r ON r.id = q.run_id "
        # a month's export is loaded in the month after it: its loads count on its report
        "WHERE CAST(r.started_at AS DATE) <= last_day(CAST(? AS DATE) + INTERVAL 1 MONTH) "
        'GROUP BY ALL ORDER BY rows DESC, q.problem, q."column"',
        params=[last],
    ).pl()
    in_scope = (
        "SELECT d.* FROM dossier d JOIN org_unit_closure c ON c.unit_id = d.unit_id AND c.version = 'current' "
        "AND c.ancestor_id = $scope WHERE d.received_at >= $first AND d.received_at < $last + INTERVAL 1 DAY"
    )
    missing = con.sql(
        f"""WITH d AS ({in_scope})
        SELECT * FROM (
            SELECT 'due_at' AS field, count_if(due_at IS NULL) AS dossiers FROM d
            UNION ALL SELECT 'finished_at',
                   count_if(status IN ('finished', 'returned') AND finished_at IS NULL) FROM d
            UNION ALL SELECT 'returned_at', count_if(status = 'returned' AND returned_at IS NULL) FROM d
            UNION ALL SELECT 'synced_at', count_if(synced_to_national AND synced_at IS NULL) FROM d
        ) WHERE dossiers > 0""",
        params={"scope": scope.unit_id, "first": first, "last": last},
    ).pl()
    silent = con.sql(
        """SELECT u.id, u.name_vi, u.name_en FROM org_unit u
        JOIN org_unit_closure c ON c.unit_id = u.id AND c.version = 'current' AND c.ancestor_id = $scope
        WHERE u.level IN ('department', 'commune') AND u.valid_from <= $last
          AND (u.valid_to IS NULL OR u.valid_to > $last)
          AND NOT EXISTS (SELECT 1 FROM dossier d WHERE d.unit_id = u.id
                          AND d.received_at >= $first AND d.received_at < $last + INTERVAL 1 DAY)
        ORDER BY u.name_vi""",
        params={"scope": scope.unit_id, "first": first, "last": last},
    ).pl()
    return Quality(rejected, missing, silent)
