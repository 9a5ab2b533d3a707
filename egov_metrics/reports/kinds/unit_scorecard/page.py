"""One unit's 766 scorecard: score by group and indicator, where it loses the most points, its rank, its trend.

Only the unit's own figures are shown; peers are used for the rank and never named.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import polars as pl

from egov_metrics.charts import chart_bar
from egov_metrics.errors import EgovError
from egov_metrics.i18n import check_lang, fmt_number, fmt_period
from egov_metrics.method_trend import chart_scores, segments
from egov_metrics.planner import plan
from egov_metrics.present import Html, chart, definitions, esc, heading, join, note, table, value_formatter
from egov_metrics.reports.common import (
    PAGE_CSS,
    Scope,
    group_names,
    latest_period,
    month_bounds,
    months_before,
    open_db,
    scope_of,
)
from egov_metrics.reports.portal_sections import load_reconciliation, planner_section, reconciliation_section
from egov_metrics.scoring import score_units
from egov_metrics.scoring.result import zero_outcome

#: The 766 groups (vi, en), in the method's order (`common.group_names`).
GROUP_NAMES = group_names()


class Texts(TypedDict):
    """The page's words in one language; both languages have every key (checked by mypy)."""

    title: str
    ytd: str
    rank: str
    groups: str
    indicators: str
    trend: str
    group: str
    score: str
    max: str
    lost: str
    indicator: str
    rate: str
    points: str
    num: str
    den: str
    provisional: str
    rank_text: str
    peers: dict[str, str]
    method: str
    method_version: str
    note: str
    notes: str
    bands: str
    zero: dict[str, str]


T: dict[str, Texts] = {
    "vi": {
        "title": "Phiếu điểm Chỉ số 766",
        "ytd": "lũy kế năm đến hết",
        "rank": "Xếp hạng",
        "groups": "Điểm theo nhóm",
        "indicators": "Điểm theo chỉ tiêu (xếp theo số điểm bị mất)",
        "trend": "Diễn biến 12 tháng (điểm của từng tháng)",
        "group": "Nhóm",
        "score": "Điểm",
        "max": "Tối đa",
        "lost": "Điểm bị mất",
        "indicator": "Chỉ tiêu",
        "rate": "Tỷ lệ (%)",
        "points": "Điểm",
        "num": "Tử số",
        "den": "Mẫu số",
        "provisional": "Tạm tính",
        "rank_text": "Đứng thứ {rank}/{among} trong nhóm {peers}; thứ {rank_all}/{all} trong toàn tỉnh. Tổng điểm {total} — {band}.",
        "peers": {"department": "sở, ban, ngành", "commune": "xã, phường", "district": "huyện"},
        "method": "Phương pháp: {m}. Các quy tắc chưa được xác nhận được đánh dấu tạm tính.",
        "method_version": "{name}, phiên bản {version}",
        "note": "Ghi chú",
        "notes": "Ghi chú về phương pháp",
        "bands": "Xếp loại theo tổng điểm",
        "zero": {
            "full": "Không phát sinh (mẫu số 0): theo phương pháp được tính đủ điểm.",
            "zero": "Không phát sinh (mẫu số 0): theo phương pháp được 0 điểm.",
            "split": "Không phát sinh (mẫu số 0): điểm được chia cho các chỉ tiêu khác trong nhóm.",
            "exclude": "Không phát sinh (mẫu số 0): chỉ tiêu không tính, điểm của nhóm được quy đổi lại.",
            "lost": "Không phát sinh (mẫu số 0): được 0 điểm, vì nhóm không còn chỉ tiêu nào có số liệu để nhận điểm.",
        },
    },
    "en": {
        "title": "766 index scorecard",
        "ytd": "year to date, through",
        "rank": "Rank",
        "groups": "Score by group",
        "indicators": "Score by indicator (ordered by points lost)",
        "trend": "12-month trend (each month's score)",
        "group": "Group",
        "score": "Score",
        "max": "Max",
        "lost": "Points lost",
        "indicator": "Indicator",
        "rate": "Rate (%)",
        "points": "Points",
        "num": "Numerator",
        "den": "Denominator",
        "provisional": "Provisional",
        "rank_text": "Rank {rank} of {among} among {peers}; {rank_all} of {all} in the province. Total {total} — {band}.",
        "peers": {"department": "departments", "commune": "communes", "district": "districts"},
        "method": "Method: {m}. Rules not yet confirmed are marked provisional.",
        "method_version": "{name}, version {version}",
        "note": "Note",
        "notes": "Notes on the method",
        "bands": "Bands by total points",
        "zero": {
            "full": "None in the period (denominator 0): the method gives full points.",
            "zero": "None in the period (denominator 0): the method gives 0 points.",
            "split": "None in the period (denominator 0): the points go to the group's other indicators.",
            "exclude": "None in the period (denominator 0): left out; the group's points are rescaled.",
            "lost": "None in the period (denominator 0): 0 points, as no other indicator of the group has data to take them.",
        },
    },
}


@dataclass
class UnitScorecard:
    db_path: str | Path
    unit: str
    period: str | None = None
    lang: str = "vi"

    def __post_init__(self) -> None:
        check_lang(self.lang)
        self.t = T[self.lang]
        with open_db(self.db_path) as con:
            self.period = self.period or latest_period(con)
            first, _ = month_bounds(self.period)
            self.scope: Scope = scope_of(con, self.unit)
            if self.scope.level not in ("department", "commune"):
                raise EgovError(
                    f"{self.scope.name_vi} is a {self.scope.level}; the 766 scorecard ranks departments and communes",
                    "pick a department or a commune (egov-metrics info lists the units)",
                )
            levels = ("department", "commune")
            self.ytd = score_units(con, end=self.period, grain="ytd", levels=levels)
            self.months = score_units(
                con, start=months_before(first, 11), end=self.period, grain="month", levels=levels
            )
            self.method = self.ytd.method
            self.reconciled = load_reconciliation(con, self.scope.unit_id, self.method)
        me = pl.col("unit_id") == self.scope.unit_id
        self.total = self.ytd.totals.filter(me)
        self.groups = self.ytd.groups.filter(me)
        self.indicators = self.ytd.indicators.filter(me)
        self.trend = self.months.totals.filter(me)
        self.all_units = self.ytd.totals.height
        self.actions = plan(self.ytd, self.scope.unit_id)

    def style(self) -> Html:
        return Html(PAGE_CSS)

    def title(self) -> Html:
        assert self.period is not None  # resolved in __post_init__
        return heading(
            f"{self.t['title']} · {self.scope.name(self.lang)} · {self.t['ytd']} {fmt_period(self.period, self.lang)}",
            1,
        )

    def rank(self) -> Html:
        if self.total.height == 0:
            return heading(self.t["rank"]) + note("–")
        row = self.total.row(0, named=True)
        text = self.t["rank_text"].format(
            rank=row["rank"],
            among=row["rank_among"],
            peers=self.t["peers"].get(self.scope.level, self.scope.level),
            rank_all=row["rank_all"],
            all=row["rank_all_among"],
            total=fmt_number(row["total"], 2, self.lang),
            band=row["band_vi"] if self.lang == "vi" else row["band"],
        )
        method = self.method_text()
        return join(
            [
                heading(self.t["rank"]),
                Html(f'<p class="egov-summary">{esc(text)}</p>'),
                note(method),
                self.bands(),
            ]
        )

    def by_group(self) -> Html:
        t, lang = self.t, self.lang
        frame = self.groups.with_columns(
            pl.col("group")
            .replace_strict({g: n[0 if lang == "vi" else 1] for g, n in GROUP_NAMES.items()})
            .alias("group_name"),
            (pl.col("max") - pl.col("score")).alias("lost"),
        )
        fmt = value_formatter("count", 2, lang)
        tab = table(
            frame,
            [("group_name", t["group"]), ("score", t["score"]), ("max", t["max"]), ("lost", t["lost"])],
            lang=lang,
            formats={"score": fmt, "max": fmt, "lost": fmt},
        )
        bars = chart(
            chart_bar(
                frame,
                category="group_name",
                value="score",
                unit="count",
                title=t["score"],
                value_title=t["points"],
                lang=lang,
            )
        )
        return join([heading(t["groups"]), tab, note(self.method_text()), bars])

    def by_indicator(self) -> Html:
        """Points by indicator; a zero denominator says what the method gives for it, and the provisional
        rules are explained under the table (numbered)."""
        t, lang = self.t, self.lang
        by_id = {i.id: i for i in self.method.indicators}
        names = {i.id: (i.name_vi if lang == "vi" else i.name_en) for i in self.method.indicators}
        frame = self.indicators.sort("points_lost", descending=True)
        noted = [i for i in frame["indicator"].to_list() if i in by_id and by_id[i].note_in(lang)]
        number = {ind: n for n, ind in enumerate(noted, start=1)}
        notes = []
        for r in frame.iter_rows(named=True):
            parts = []
            if r["basis"] != "rate":
                parts.append(t["zero"][zero_outcome(r["basis"], r["points"], r["max_points"])])
            if r["indicator"] in number:
                parts.append(f"({number[r['indicator']]})")
            notes.append(" ".join(p for p in parts if p))
        frame = frame.with_columns(
            pl.col("indicator").replace_strict(names, default=pl.col("indicator")).alias("name"),
            pl.when(pl.col("provisional")).then(pl.lit("✓")).otherwise(pl.lit("")).alias("prov"),
            pl.Series("note", notes, dtype=pl.String),
        )
        fmt = value_formatter("count", 2, lang)
        cols = [
            ("name", t["indicator"]),
            ("numerator", t["num"]),
            ("denominator", t["den"]),
            ("rate", t["rate"]),
            ("points", t["points"]),
            ("max_points", t["max"]),
            ("points_lost", t["lost"]),
            ("prov", t["provisional"]),
            ("note", t["note"]),
        ]
        tab = table(
            frame,
            cols,
            lang=lang,
            formats={
                "rate": fmt,
                "points": fmt,
                "max_points": fmt,
                "points_lost": fmt,
                "numerator": value_formatter("count", 0, lang),
                "denominator": value_formatter("count", 0, lang),
            },
        )
        general = self.method.notes_vi if lang == "vi" else self.method.notes
        method_wide = "".join(f"<li>{esc(n)}</li>" for n in general)
        footnotes = "".join(f"<li>{esc(names.get(i, i))}: {esc(by_id[i].note_in(lang))}</li>" for i in noted)
        extra = (
            Html(
                f'<div class="egov-note"><strong>{esc(t["notes"])}</strong>'
                f"{f'<ul>{method_wide}</ul>' if method_wide else ''}"
                f"{f'<ol>{footnotes}</ol>' if footnotes else ''}</div>"
            )
            if noted or general
            else Html("")
        )
        return join([heading(t["indicators"]), note(self.method_text()), tab, extra])

    def method_text(self) -> str:
        """'Method: <its name> (version …)', in the report's language: a name, never a code."""
        name = self.method.name_vi if self.lang == "vi" else self.method.name_en
        return self.t["method"].format(
            m=self.t["method_version"].format(name=name, version=self.method.version)
        )

    def bands(self) -> Html:
        """What each band means: the legend of this report."""
        t, lang = self.t, self.lang
        items = []
        for b in self.method.bands:
            name = b.name_vi if lang == "vi" else b.name_en
            low = fmt_number(float(b.min), 2, lang)
            # a band holds its lower bound, not its upper one (80 is "tốt", not "khá"): said, not shown as 70–80
            if b.below is None:
                span = f"từ {low} trở lên" if lang == "vi" else f"{low} or more"
            else:
                high = fmt_number(float(b.below), 2, lang)
                span = f"từ {low} đến dưới {high}" if lang == "vi" else f"{low} to under {high}"
            items.append(f"<li>{esc(name)}: {esc(span)}</li>")
        return Html(
            f'<div class="egov-legend"><strong>{esc(t["bands"])}</strong><ul>{"".join(items)}</ul></div>'
        )

    def trend_chart(self) -> Html:
        if self.trend.height == 0:
            return heading(self.t["trend"]) + note("–")
        # a change of method (or a method applied outside its validity) breaks the line: never one line across
        frame = segments(self.trend, {self.method.label: self.method}, lang=self.lang)
        return heading(self.t["trend"]) + chart(
            chart_scores(frame, y="total", title=self.t["score"], y_title=self.t["points"], lang=self.lang)
        )

    def reconciliation(self) -> Html:
        return reconciliation_section(self.reconciled, self.method, self.lang, self.period)

    def fastest_gains(self) -> Html:
        return planner_section(self.actions, self.method, self.lang)

    def appendix(self) -> Html:
        return definitions(self.indicators["indicator"].to_list(), self.lang)
