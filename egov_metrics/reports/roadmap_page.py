"""The roadmap report as of a date: phases, targets with trajectories and statuses, layer readiness, the
component timeline, training and adoption, and the risks. Province-level, aggregates only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from egov_metrics.charts import chart_bullet, chart_readiness, chart_timeline, chart_trajectory
from egov_metrics.i18n import check_lang, fmt_date, fmt_value
from egov_metrics.present import Html, chart, definitions, esc, heading, join, note, table
from egov_metrics.reports.common import PAGE_CSS, open_db
from egov_metrics.roadmap import (
    assess,
    components,
    layer_readiness,
    legend_frame,
    load_roadmap,
    monthly_series,
    resources,
    trajectories,
)

T = {
    "vi": {
        "title": "Báo cáo lộ trình chính quyền điện tử",
        "phases": "Các giai đoạn",
        "targets": "Mục tiêu và tình trạng",
        "trajectories": "Quỹ đạo các mục tiêu",
        "layers": "Mức sẵn sàng của bảy tầng kiến trúc",
        "timeline": "Tiến độ các thành phần kiến trúc",
        "resources": "Đào tạo và người dùng",
        "risks": "Rủi ro cần xử lý",
        "phase": "Giai đoạn",
        "from": "Từ",
        "to": "Đến",
        "goals": "Mục tiêu",
        "indicator": "Chỉ tiêu",
        "deadline": "Hạn",
        "target": "Mục tiêu",
        "current": "Hiện tại",
        "status": "Tình trạng",
        "reason": "Lý do",
        "layer": "Tầng",
        "ready": "Đang vận hành/kế hoạch",
        "overdue": "Thành phần quá hạn",
        "year": "Năm",
        "actual": "Thực tế",
        "gap": "Còn thiếu",
        "no_risk": "Không có rủi ro đáng kể.",
        "status_names": {
            "achieved": "Đã đạt",
            "on_track": "Đúng tiến độ",
            "at_risk": "Có nguy cơ",
            "off_track": "Chệch hướng",
            "no_data": "Chưa có số liệu",
        },
    },
    "en": {
        "title": "E-government roadmap report",
        "phases": "Phases",
        "targets": "Targets and status",
        "trajectories": "Target trajectories",
        "layers": "Readiness of the seven architecture layers",
        "timeline": "Architecture components over time",
        "resources": "Training and adoption",
        "risks": "Risks to act on",
        "phase": "Phase",
        "from": "From",
        "to": "To",
        "goals": "Goals",
        "indicator": "Indicator",
        "deadline": "Deadline",
        "target": "Target",
        "current": "Current",
        "status": "Status",
        "reason": "Reason",
        "layer": "Layer",
        "ready": "In operation/planned",
        "overdue": "Overdue components",
        "year": "Year",
        "actual": "Actual",
        "gap": "Gap",
        "no_risk": "No significant risk.",
        "status_names": {
            "achieved": "Achieved",
            "on_track": "On track",
            "at_risk": "At risk",
            "off_track": "Off track",
            "no_data": "No data",
        },
    },
}


@dataclass
class RoadmapReport:
    db_path: str | Path
    as_of: dt.date | str | None = None
    phase: str = "P2026_2030"
    lang: str = "vi"

    def __post_init__(self) -> None:
        check_lang(self.lang)
        self.t = T[self.lang]
        self.roadmap = load_roadmap()
        with open_db(self.db_path) as con:
            if not self.as_of:
                self.as_of = con.sql("SELECT max(CAST(received_at AS DATE)) FROM dossier").fetchall()[0][0]
            self.as_of = dt.date.fromisoformat(str(self.as_of))
            series = monthly_series(self.roadmap, as_of=self.as_of, db=con)
            self.assessment = assess(self.roadmap, as_of=self.as_of, db=con, series=series)
            self.paths = trajectories(
                self.roadmap, as_of=self.as_of, db=con, series=series, assessment=self.assessment
            )
            self.readiness = layer_readiness(self.roadmap, as_of=self.as_of, db=con, series=series)
            self.resources_frame = resources(self.roadmap, as_of=self.as_of, db=con, series=series)
        self.components = components(self.roadmap, as_of=self.as_of)
        self.phase_targets = (
            self.assessment.filter(pl.col("phase") == self.phase)
            if "phase" in self.assessment.columns
            else self.assessment
        )

    def style(self) -> Html:
        return Html(PAGE_CSS)

    def title(self) -> Html:
        return heading(f"{self.t['title']} · {fmt_date(self.as_of, self.lang)}", 1)

    def phases(self) -> Html:
        lang = self.lang
        rows = [
            {
                "name": p.name.vi if lang == "vi" else p.name.en,
                "start": p.start,
                "end": p.end,
                "goals": "; ".join(g.vi if lang == "vi" else g.en for g in p.goals),
            }
            for p in self.roadmap.phases
        ]
        t = self.t
        return heading(t["phases"]) + table(
            pl.DataFrame(rows),
            [("name", t["phase"]), ("start", t["from"]), ("end", t["to"]), ("goals", t["goals"])],
            lang=lang,
        )

    def _status_frame(self) -> pl.DataFrame:
        lang, t = self.lang, self.t
        return self.phase_targets.with_columns(
            pl.col("name_vi" if lang == "vi" else "name_en").alias("name"),
            pl.col("status").replace_strict(t["status_names"], default=pl.col("status")).alias("status_text"),
            pl.col("reason_vi" if lang == "vi" else "reason_en").alias("reason"),
        )

    def targets(self) -> Html:
        t, lang = self.t, self.lang
        frame = self._status_frame()

        def fmt(col: str):
            return lambda v: fmt_value(v, "percent", 1, lang) if v is not None else "–"

        cols = [
            ("name", t["indicator"]),
            ("deadline", t["deadline"]),
            ("target", t["target"]),
            ("current", t["current"]),
            ("status_text", t["status"]),
            ("reason", t["reason"]),
        ]
        tab = table(
            frame,
            cols,
            lang=lang,
            formats={"target": fmt("target"), "current": fmt("current")},
            row_class=lambda r: f"egov-status-{r['status']}",
        )
        bullets = chart(chart_bullet(self.phase_targets, legend_frame(self.roadmap), lang=lang))
        return join([heading(t["targets"]), tab, bullets])

    def trajectory_charts(self, limit: int = 6) -> Html:
        order = {"off_track": 0, "at_risk": 1, "on_track": 2, "achieved": 3, "no_data": 4}
        ranked = self.phase_targets.with_columns(
            pl.col("status").replace_strict(order, default=5, return_dtype=pl.Int32).alias("_o")
        ).sort("_o")
        parts = [heading(self.t["trajectories"])]
        for row in ranked.head(limit).iter_rows(named=True):
            paths = self.paths.filter(
                (pl.col("indicator") == row["indicator"]) & (pl.col("unit_level") == row["unit_level"])
            )
            if paths.height:
                parts.append(
                    chart(
                        chart_trajectory(
                            paths, row["indicator"], lang=self.lang, unit_level=row["unit_level"]
                        )
                    )
                )
        return join(parts)

    def layers(self) -> Html:
        t, lang = self.t, self.lang
        parts = [heading(t["layers"]), chart(chart_readiness(self.readiness, lang=lang))]
        overdue_col = f"overdue_{lang}"
        lagging = (
            self.readiness.filter(pl.col("lagging"))
            if "lagging" in self.readiness.columns
            else self.readiness.head(0)
        )
        if lagging.height:
            name = "name_vi" if lang == "vi" else "name_en"
            cols = [
                (c, h)
                for c, h in ((name, t["layer"]), ("phase", t["phase"]), (overdue_col, t["overdue"]))
                if c and c in lagging.columns
            ]
            parts.append(table(lagging, cols, lang=lang))
        parts.append(heading(t["timeline"], 3))
        parts.append(chart(chart_timeline(self.components, lang=lang)))
        return join(parts)

    def resources(self) -> Html:
        t, lang = self.t, self.lang
        frame = self.resources_frame.with_columns(
            pl.col("name_vi" if lang == "vi" else "name_en").alias("name"),
            pl.col("basis_vi" if lang == "vi" else "basis_en").alias("basis"),
        )
        cols = [
            ("name", t["indicator"]),
            ("year", t["year"]),
            ("actual", t["actual"]),
            ("target", t["target"]),
            ("gap", t["gap"]),
        ]
        return heading(t["resources"]) + table(frame, cols, lang=lang)

    def risks(self) -> Html:
        t, lang = self.t, self.lang
        frame = self._status_frame().filter(pl.col("status").is_in(["off_track", "at_risk"]))
        items = [
            f"<li><strong>{esc(r['name'])}</strong> — {esc(r['status_text'])}: {esc(r['reason'])}</li>"
            for r in frame.iter_rows(named=True)
        ]
        if "lagging" in self.readiness.columns:
            name = "name_vi" if lang == "vi" else "name_en"
            for r in self.readiness.filter(pl.col("lagging")).iter_rows(named=True):
                word = "Tầng chậm tiến độ" if lang == "vi" else "Lagging layer"
                items.append(f"<li><strong>{esc(word)}: {esc(r.get(name))}</strong></li>")
        if "flat_usage" in self.readiness.columns:
            for r in self.readiness.filter(pl.col("flat_usage").fill_null(False)).iter_rows(named=True):
                word = (
                    "Đã vận hành nhưng chỉ tiêu sử dụng không tăng"
                    if lang == "vi"
                    else "In operation but usage flat"
                )
                items.append(f"<li>{esc(word)}: {esc(r.get('name_vi' if lang == 'vi' else 'name_en'))}</li>")
        body = f"<ol>{''.join(items)}</ol>" if items else f"<p>{esc(t['no_risk'])}</p>"
        return heading(t["risks"]) + Html(body)

    def appendix(self) -> Html:
        return definitions(self.assessment["indicator"].unique().to_list(), self.lang)


__all__ = ["RoadmapReport", "note"]
