"""The roadmap report as of a date: phases, targets with trajectories and statuses, layer readiness, the
component timeline, training and adoption, and the risks. Province-level, aggregates only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypedDict

import polars as pl

from egov_metrics.charts import chart_bullet, chart_readiness, chart_timeline, chart_trajectory
from egov_metrics.i18n import check_lang, fmt_date
from egov_metrics.present import Html, chart, definitions, esc, heading, join, note, table
from egov_metrics.reports.common import PAGE_CSS, open_db, status_legend, year_status
from egov_metrics.roadmap import (
    assess,
    components,
    layer_readiness,
    legend_frame,
    load_roadmap,
    monthly_series,
    phase_for,
    resources,
    trajectories,
)
from egov_metrics.roadmap.status import value_and_target_texts
from egov_metrics.sources import CLOCK_SOURCE, data_extent

#: The page's words in one language; both languages have every key (checked by mypy). Functional form:
#: "from" is a Python keyword.
Texts = TypedDict(
    "Texts",
    {
        "title": str,
        "phases": str,
        "targets": str,
        "year_targets": str,
        "trajectories": str,
        "layers": str,
        "timeline": str,
        "resources": str,
        "risks": str,
        "phase": str,
        "from": str,
        "to": str,
        "goals": str,
        "indicator": str,
        "deadline": str,
        "target": str,
        "current": str,
        "status": str,
        "reason": str,
        "layer": str,
        "ready": str,
        "overdue": str,
        "year": str,
        "actual": str,
        "gap": str,
        "no_risk": str,
        "lead": str,
        "no_lead": str,
        "overdue_owner": str,
        "lagging_layer": str,
        "overdue_layer": str,
        "flat_usage": str,
    },
)


T: dict[str, Texts] = {
    "vi": {
        "title": "Báo cáo lộ trình chính quyền điện tử",
        "phases": "Các giai đoạn",
        "targets": "Mục tiêu giai đoạn và tình trạng",
        "year_targets": "Mục tiêu năm {y} và tình trạng",
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
        "current": "Hiện tại (trung vị 3 tháng)",
        "status": "Tình trạng",
        "reason": "Lý do",
        "layer": "Tầng",
        "ready": "Đang vận hành/kế hoạch",
        "overdue": "Thành phần quá hạn",
        "year": "Năm",
        "actual": "Thực tế",
        "gap": "Còn thiếu",
        "no_risk": "Không có rủi ro đáng kể.",
        "lead": "Đơn vị chủ trì",
        "no_lead": "chưa phân công",
        "overdue_owner": "Thành phần quá hạn",
        "lagging_layer": "Tầng chậm tiến độ",
        "overdue_layer": "Tầng có thành phần quá hạn",
        "flat_usage": "Đã vận hành nhưng chỉ tiêu sử dụng không tăng",
    },
    "en": {
        "title": "E-government roadmap report",
        "phases": "Phases",
        "targets": "Phase targets and status",
        "year_targets": "Targets for {y} and status",
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
        "current": "Current (3-month median)",
        "status": "Status",
        "reason": "Reason",
        "layer": "Layer",
        "ready": "In operation/planned",
        "overdue": "Overdue components",
        "year": "Year",
        "actual": "Actual",
        "gap": "Gap",
        "no_risk": "No significant risk.",
        "lead": "Lead unit",
        "no_lead": "not assigned",
        "overdue_owner": "Overdue component",
        "lagging_layer": "Lagging layer",
        "overdue_layer": "Layer with overdue components",
        "flat_usage": "In operation but usage flat",
    },
}


@dataclass
class RoadmapReport:
    db_path: str | Path
    as_of: dt.date | str | None = None
    phase: str | None = None  # default: the phase containing as_of
    lang: str = "vi"

    def __post_init__(self) -> None:
        check_lang(self.lang)
        self.t = T[self.lang]
        self.roadmap = load_roadmap()
        with open_db(self.db_path) as con:
            if not self.as_of:
                self.as_of = data_extent(con, CLOCK_SOURCE).last
            self.as_of = dt.date.fromisoformat(str(self.as_of))
            current = phase_for(self.as_of, self.roadmap)
            self.phase = self.phase or current.id
            series = monthly_series(self.roadmap, as_of=self.as_of, db=con)
            # Another phase than the one containing as_of: its targets, judged as of the date.
            choice: Literal["phase", "all"] = "phase" if self.phase == current.id else "all"
            self.assessment = assess(self.roadmap, as_of=self.as_of, db=con, series=series, targets=choice)
            self.phase_targets = self.assessment.filter(
                (pl.col("phase") == self.phase) & (pl.col("kind") == "target")
            )
            self.paths = trajectories(
                self.roadmap, as_of=self.as_of, db=con, series=series, assessment=self.phase_targets
            )
            # the targets due at the end of as_of's year: the same function as the progress report's cards
            self.year_targets = year_status(con, self.as_of, series=series)
            self.readiness = layer_readiness(self.roadmap, as_of=self.as_of, db=con, series=series)
            self.resources_frame = resources(self.roadmap, as_of=self.as_of, db=con, series=series)
            # unit names of the lead units (targets) and owners (components), for the risks
            self.unit_names = {
                r[0]: (r[1], r[2] or r[1])
                for r in con.sql("SELECT id, name_vi, name_en FROM org_unit").fetchall()
            }
        self.components = components(self.roadmap, as_of=self.as_of)
        # phases are shown by their years (2021–2025), never by their ids
        labels = {p.id: f"{p.start.year}–{p.end.year}" for p in self.roadmap.phases}
        self.readiness = self.readiness.with_columns(
            pl.col("phase").replace_strict(labels, default=pl.col("phase"))
        )
        self.components = self.components.with_columns(
            pl.col("phase").replace_strict(labels, default=pl.col("phase"))
        )

    def style(self) -> Html:
        return Html(PAGE_CSS)

    def title(self) -> Html:
        assert isinstance(self.as_of, dt.date)  # resolved to a date in __post_init__
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

    def _status_frame(self, frame: pl.DataFrame | None = None) -> pl.DataFrame:
        """The assessment's rows with the reader's words: the status as the assessment names it (a value with
        too few months for a trend is not "no data": `roadmap.status.status_name`) and its reason."""
        lang = self.lang
        frame = self.phase_targets if frame is None else frame
        return frame.with_columns(
            pl.col("name_vi" if lang == "vi" else "name_en").alias("name"),
            pl.col("status_vi" if lang == "vi" else "status_en").alias("status_text"),
            pl.col("reason_vi" if lang == "vi" else "reason_en").alias("reason"),
        )

    def year_targets_table(self) -> Html:
        """The targets due at the end of the as-of year: the statuses the progress report's cards show."""
        t = self.t
        year = self.as_of.year if isinstance(self.as_of, dt.date) else int(str(self.as_of)[:4])
        return join(
            [
                heading(t["year_targets"].format(y=year)),
                self._targets_table(
                    self._status_frame(self.year_targets), css="egov-table egov-year-targets"
                ),
                status_legend(self.lang),
            ]
        )

    def _targets_table(self, frame: pl.DataFrame, css: str = "egov-table") -> Html:
        t, lang = self.t, self.lang
        # each value in its indicator's unit (a processing time is in working days, not %), the current value
        # and the target with the same decimals: one short of its target never reads the same as the target
        texts = [
            value_and_target_texts(
                r["current"], r["target"], unit=r["unit"], direction=r["direction"], lang=lang, decimals=1
            )
            for r in frame.iter_rows(named=True)
        ]
        frame = frame.with_columns(
            pl.Series("current_text", [c for c, _ in texts], dtype=pl.String),
            pl.Series("target_text", [g for _, g in texts], dtype=pl.String),
        )
        cols = [
            ("name", t["indicator"]),
            ("deadline", t["deadline"]),
            ("target_text", t["target"]),
            ("current_text", t["current"]),
            ("status_text", t["status"]),
            ("reason", t["reason"]),
        ]
        return table(
            frame,
            cols,
            lang=lang,
            css=css,
            row_class=lambda r: f"egov-status-{r['status']}",
        )

    def targets(self) -> Html:
        tab = self._targets_table(self._status_frame())
        bullets = chart(chart_bullet(self.phase_targets, legend_frame(self.roadmap), lang=self.lang))
        return join([heading(self.t["targets"]), tab, bullets])

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

    def overdue_components(self) -> pl.DataFrame:
        """The components overdue as of the date: `roadmap.components()`'s `overdue` (`roadmap.is_overdue`), the
        one definition behind the readiness grid's counts, the timeline's red lines, the overdue table and the
        risks."""
        return self.components.filter(pl.col("overdue"))

    def overdue_rows(self) -> pl.DataFrame:
        """The readiness rows (layer and phase) with at least one overdue component: the overdue table."""
        return self.readiness.filter(pl.col("overdue") > 0)

    def layers(self) -> Html:
        t, lang = self.t, self.lang
        parts = [heading(t["layers"]), chart(chart_readiness(self.readiness, lang=lang))]
        late = self.overdue_rows()
        if late.height:
            name = "name_vi" if lang == "vi" else "name_en"
            cols = [(name, t["layer"]), ("phase", t["phase"]), (f"overdue_{lang}", t["overdue"])]
            parts.append(table(late, cols, lang=lang))
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
        # a year is a label, not a quantity: 2026, never 2.026 (vi) or 2,026 (en)
        return heading(t["resources"]) + table(frame, cols, lang=lang, formats={"year": str})

    def _unit(self, unit_id: str | None) -> str:
        if not unit_id:
            return self.t["no_lead"]
        names = self.unit_names.get(unit_id)
        return unit_id if names is None else names[0 if self.lang == "vi" else 1]

    def risks(self) -> Html:
        """Targets at risk or off track, lagging layers with their overdue components, flat usage: each with
        the unit that must act (the target's lead unit, the component's owner)."""
        t, lang = self.t, self.lang
        frame = self._status_frame().filter(pl.col("status").is_in(["off_track", "at_risk"]))
        items = []
        for r in frame.iter_rows(named=True):
            reason = r["reason"] or ""
            if not reason.startswith(r["status_text"]):  # reasons usually start with their status already
                reason = f"{r['status_text']}: {reason}"
            ts = self.roadmap.target_set(r["indicator"], r["unit_level"])
            lead = self._unit(ts.owner if ts else None)
            items.append(
                f"<li><strong>{esc(r['name'])}</strong> — {esc(reason)} "
                f'<span class="egov-owner">{esc(t["lead"])}: <strong>{esc(lead)}</strong>.</span></li>'
            )
        name = "name_vi" if lang == "vi" else "name_en"
        # every layer that lags or has an overdue component (one row per layer and phase: each layer once),
        # with all its overdue components: the same ones as the readiness grid, the timeline and the table
        overdue = self.overdue_components()
        layers = self.readiness.filter(pl.col("lagging") | pl.col("layer").is_in(overdue["layer"].implode()))
        for r in layers.unique("layer", maintain_order=True).sort("layer").iter_rows(named=True):
            word = t["lagging_layer"] if r["lagging"] else t["overdue_layer"]
            owners = "".join(
                f"<li>{esc(t['overdue_owner'])}: {esc(c[name])} — {esc(t['lead'])}: "
                f"<strong>{esc(self._unit(c['owner']))}</strong></li>"
                for c in overdue.filter(pl.col("layer") == r["layer"]).iter_rows(named=True)
            )
            sub = f"<ul>{owners}</ul>" if owners else ""
            items.append(f"<li><strong>{esc(word)}: {esc(r[name])}</strong>{sub}</li>")
        flat = self.readiness.filter(pl.col("flat_usage").fill_null(False)).unique(
            "layer", maintain_order=True
        )
        for r in flat.iter_rows(named=True):
            items.append(f"<li>{esc(t['flat_usage'])}: {esc(r[name])}</li>")
        body = f"<ol>{''.join(items)}</ol>" if items else f"<p>{esc(t['no_risk'])}</p>"
        return heading(t["risks"]) + Html(body)

    def appendix(self) -> Html:
        return definitions(self.assessment["indicator"].unique().to_list(), self.lang)


__all__ = ["RoadmapReport", "note"]
