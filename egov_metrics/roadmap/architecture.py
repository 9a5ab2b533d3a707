"""Architecture readiness: the seven layers' components as of a date, overdue ones, and whether layers are used.

Components come from a `Roadmap` or from a database's `arch_*` tables (the links from layers to usage
indicators and the thresholds then come from the shipped roadmap). Status as of a date, from the recorded
status and dates:

* retired → retired (left out of every ratio);
* went live on or before the date → in operation;
* the date comes before the start of the component's phase → planned (work on a phase's components does not
  start before the phase; a status recorded later, or a go-live date after the date, was not known then);
* recorded in operation but went live after the date → in progress (it was being built);
* otherwise the recorded status (planned or in progress).

A go-live date after the as-of date is not shown (`live` is null): a report as of a date shows the components
as they stood then.

A component is **due** when its planned date has passed (`is_due`), and **overdue** when it is due and not in
operation (`is_overdue`): the one definition the readiness grid, the timeline, the overdue table and the risks
of the roadmap report all read (through `components()`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from egov_metrics.catalog import load_catalog
from egov_metrics.i18n import fmt_date
from egov_metrics.roadmap.assessment import Db, _arrays, _connection, as_date, monthly_series, usage_state
from egov_metrics.roadmap.model import Component, Layer, Phase, Roadmap, Text, load_roadmap
from egov_metrics.vocab import COMPONENT_STATUSES, labels

COMPONENT_STATUS_NAMES: dict[str, dict[str, str]] = labels(COMPONENT_STATUSES)


@dataclass(frozen=True)
class Architecture:
    """Phases, layers and components, from a roadmap file or from a database."""

    phases: tuple[Phase, ...]
    layers: tuple[Layer, ...]
    components: tuple[Component, ...]
    roadmap: Roadmap  # links to usage indicators, targets, legends and rules


def _from_db(con: duckdb.DuckDBPyConnection, roadmap: Roadmap) -> Architecture:
    phases = tuple(
        Phase.model_construct(
            id=r[0],
            name=Text.model_construct(vi=r[1], en=r[2]),
            start=r[3],
            end=r[4] - dt.timedelta(days=1),
            goals=(),
        )
        for r in con.sql(
            "SELECT id, name_vi, name_en, start_date, end_date FROM roadmap_phase ORDER BY start_date"
        ).fetchall()
    )
    usage = {layer.layer: layer.usage for layer in roadmap.layers}
    layers = tuple(
        Layer.model_construct(
            layer=r[0], name=Text.model_construct(vi=r[1], en=r[2]), usage=usage.get(r[0], ())
        )
        for r in con.sql("SELECT layer, name_vi, name_en FROM arch_layer ORDER BY layer").fetchall()
    )
    deps: dict[str, list[str]] = {}
    for component_id, depends_on in con.sql(
        "SELECT component_id, depends_on FROM arch_dependency ORDER BY 1, 2"
    ).fetchall():
        deps.setdefault(component_id, []).append(depends_on)
    components = tuple(
        Component.model_construct(
            id=r[0], layer=r[1], name=Text.model_construct(vi=r[2], en=r[3]), phase=r[4], status=r[5],
            planned=r[6], live=r[7], owner=r[8], depends_on=tuple(deps.get(r[0], ())),
        )
        for r in con.sql(
            "SELECT id, layer, name_vi, name_en, phase_id, status, planned_at, live_at, owner_unit "
            "FROM arch_component ORDER BY layer, id"
        ).fetchall()
    )  # fmt: skip
    return Architecture(phases, layers, components, roadmap)


Source = Roadmap | Architecture | str | Path | duckdb.DuckDBPyConnection | None


def architecture(source: Source = None) -> Architecture:
    """The architecture of a roadmap (the shipped one by default) or of a database's `arch_*` tables."""
    if isinstance(source, Architecture):
        return source
    if source is None or isinstance(source, Roadmap):
        roadmap = source or load_roadmap()
        return Architecture(roadmap.phases, roadmap.layers, roadmap.components, roadmap)
    with _connection(source) as con:
        return _from_db(con, load_roadmap())


def status_as_of(component: Component, as_of: dt.date, phase_start: dt.date | None = None) -> str:
    """The component's status on `as_of` (see the module docstring); `phase_start`: the first day of the
    component's phase (before it, a component not yet live was only planned)."""
    if component.status == "retired":
        return "retired"
    if component.live is not None and component.live <= as_of:
        return "in_operation"
    if phase_start is not None and as_of < phase_start:
        return "planned"
    if component.status == "in_operation":
        return "in_progress"
    return component.status


def is_due(planned: dt.date, as_of: dt.date) -> bool:
    """Was the component due by `as_of`? Its planned date has passed."""
    return planned < as_of


def is_overdue(state: str, planned: dt.date, as_of: dt.date) -> bool:
    """The one definition of an overdue component: due (`is_due`) and, as of the date (`state`, from
    `status_as_of`), neither in operation nor retired."""
    return state in ("planned", "in_progress") and is_due(planned, as_of)


COMPONENT_SCHEMA: dict[str, type[pl.DataType] | pl.DataType] = {
    "id": pl.String,
    "layer": pl.Int64,
    "layer_vi": pl.String,
    "layer_en": pl.String,
    "name_vi": pl.String,
    "name_en": pl.String,
    "phase": pl.String,
    "phase_start": pl.Date,
    "phase_end": pl.Date,
    "status": pl.String,
    "status_as_of": pl.String,
    "status_vi": pl.String,
    "status_en": pl.String,
    "planned": pl.Date,
    "live": pl.Date,
    "owner": pl.String,
    "depends_on": pl.List(pl.String),
    "blocked_by": pl.List(pl.String),
    "due": pl.Boolean,
    "overdue": pl.Boolean,
    "delay_days": pl.Int64,
    "as_of": pl.Date,
}


def components(source: Source = None, *, as_of: str | dt.date) -> pl.DataFrame:
    """One row per component: layer, phase, status recorded and as of the date, dates, owner, dependencies.

    `live`: the go-live date when it is on or before `as_of` (a later one was not known then), else null;
    `due`: `is_due`; `overdue`: `is_overdue`; `blocked_by`: dependencies not in operation on `as_of`;
    `delay_days`: days from the planned date to going live (or to `as_of` while not live), negative when
    early; null for retired components.
    """
    arch = architecture(source)
    as_of = as_date(as_of)
    layers = {layer.layer: layer for layer in arch.layers}
    phases = {p.id: p for p in arch.phases}
    by_id = {c.id: c for c in arch.components}

    def state_of(c: Component) -> str:
        phase = phases.get(c.phase)
        return status_as_of(c, as_of, phase.start if phase else None)

    rows = []
    for c in sorted(arch.components, key=lambda c: (c.layer, c.planned, c.id)):
        state = state_of(c)
        layer, phase = layers.get(c.layer), phases.get(c.phase)
        blocked = [d for d in c.depends_on if d in by_id and state_of(by_id[d]) != "in_operation"]
        live = c.live if c.live is not None and c.live <= as_of else None
        delay = (
            None
            if state == "retired"
            else ((live if state == "in_operation" and live is not None else as_of) - c.planned).days
        )
        rows.append(
            {
                "id": c.id, "layer": c.layer, "layer_vi": layer.name.vi if layer else None,
                "layer_en": layer.name.en if layer else None, "name_vi": c.name.vi, "name_en": c.name.en,
                "phase": c.phase, "phase_start": phase.start if phase else None,
                "phase_end": phase.end if phase else None, "status": c.status, "status_as_of": state,
                "status_vi": COMPONENT_STATUS_NAMES[state]["vi"], "status_en": COMPONENT_STATUS_NAMES[state]["en"],
                "planned": c.planned, "live": live, "owner": c.owner, "depends_on": list(c.depends_on),
                "blocked_by": blocked, "due": is_due(c.planned, as_of),
                "overdue": is_overdue(state, c.planned, as_of), "delay_days": delay, "as_of": as_of,
            }
        )  # fmt: skip
    return pl.DataFrame(rows, schema=COMPONENT_SCHEMA)


READINESS_SCHEMA: dict[str, type[pl.DataType] | pl.DataType] = {
    "layer": pl.Int64,
    "name_vi": pl.String,
    "name_en": pl.String,
    "phase": pl.String,
    "planned": pl.Int64,
    "in_operation": pl.Int64,
    "readiness": pl.Float64,
    "due": pl.Int64,
    "overdue": pl.Int64,
    "overdue_ids": pl.List(pl.String),
    "overdue_vi": pl.String,
    "overdue_en": pl.String,
    "layer_due": pl.Int64,
    "layer_in_operation_due": pl.Int64,
    "layer_readiness_due": pl.Float64,
    "built": pl.Boolean,
    "lagging": pl.Boolean,
    "usage": pl.List(pl.String),
    "usage_pace": pl.List(pl.Float64),
    "stalled": pl.List(pl.String),
    "flat_usage": pl.Boolean,
    "flag_vi": pl.String,
    "flag_en": pl.String,
    "as_of": pl.Date,
}


def _overdue_text(frame: pl.DataFrame, lang: str, names: dict[str, tuple[str, str]] | None = None) -> str:
    """'Cơ sở dữ liệu đất đai tỉnh (kế hoạch 31/12/2024; phụ thuộc: Trung tâm dữ liệu tỉnh)' joined by '; '.

    Components are named in the reader's language, never by their ids (`names`: id -> (vi, en))."""
    names = names or {}
    pick = 0 if lang == "vi" else 1

    def called(cid: str) -> str:
        return names[cid][pick] if cid in names else cid

    parts = []
    for r in frame.iter_rows(named=True):
        deps = ", ".join(
            f"{called(d)}{' (chưa xong)' if lang == 'vi' else ' (not ready)'}"
            if d in r["blocked_by"]
            else called(d)
            for d in r["depends_on"]
        )
        name = r["name_vi"] if lang == "vi" else r["name_en"]
        if lang == "vi":
            tail = f"; phụ thuộc: {deps}" if deps else ""
            parts.append(f"{name} (kế hoạch {fmt_date(r['planned'], lang)}{tail})")
        else:
            tail = f"; depends on: {deps}" if deps else ""
            parts.append(f"{name} (planned {fmt_date(r['planned'], lang)}{tail})")
    return "; ".join(parts)


def layer_readiness(
    source: Source = None,
    *,
    as_of: str | dt.date,
    db: Db = None,
    series: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per layer and phase: components in operation ÷ planned, overdue ones with their dependencies, usage.

    `source`: a Roadmap (default: the shipped one) or a database whose `arch_*` tables hold the components.
    Layer-wide columns (repeated on each phase row): `layer_readiness_due` = in operation ÷ components due by
    `as_of` (planned date passed; retired left out); `lagging` when that is below `rules.lagging_below`;
    `built` when it reaches `rules.built_at`; `flat_usage` when a built layer has a usage indicator that
    stalled (flat pace, and short of its phase target or outside its green band), listed in `stalled`.
    Usage indicators are computed province-wide from `db` (or from `source` when it is a database).
    """
    arch = architecture(source)
    as_of = as_date(as_of)
    roadmap = arch.roadmap
    rules = roadmap.rules
    comps = components(arch, as_of=as_of).filter(pl.col("status_as_of") != "retired")
    usage_ids = [i for layer in arch.layers for i in layer.usage]
    comp_names = {r["id"]: (r["name_vi"], r["name_en"]) for r in comps.iter_rows(named=True)}
    catalog = load_catalog()
    if series is None and usage_ids:
        data = db if db is not None or isinstance(source, Roadmap | Architecture | None) else source
        series = monthly_series(roadmap, as_of=as_of, db=data, indicators=usage_ids)
    arrays = _arrays(series) if series is not None else {}
    rows = []
    for layer in sorted(arch.layers, key=lambda x: x.layer):
        mine = comps.filter(pl.col("layer") == layer.layer)
        due = mine.filter(pl.col("due"))
        layer_due = due.height
        layer_op_due = due.filter(pl.col("status_as_of") == "in_operation").height
        readiness_due = 100.0 * layer_op_due / layer_due if layer_due else None
        built = readiness_due is not None and readiness_due >= rules.built_at
        lagging = readiness_due is not None and readiness_due < rules.lagging_below
        states = [usage_state(roadmap, i, arrays, as_of) for i in layer.usage]
        stalled = [str(s["indicator"]) for s in states if s["stalled"]]
        flat_usage = bool(built and stalled)
        flag_vi = flag_en = None
        if flat_usage:
            names_vi = ", ".join(catalog.get(i).name.vi for i in stalled)
            names_en = ", ".join(catalog.get(i).name.en for i in stalled)
            flag_vi = f"Các thành phần đã vận hành ({readiness_due:.0f} % số đến hạn) nhưng chỉ số sử dụng không tăng: {names_vi}."
            flag_en = f"Components are in operation ({readiness_due:.0f} % of those due) but usage stays flat: {names_en}."
        for phase in sorted(arch.phases, key=lambda p: p.start):
            part = mine.filter(pl.col("phase") == phase.id)
            overdue = part.filter(pl.col("overdue"))
            in_op = part.filter(pl.col("status_as_of") == "in_operation").height
            rows.append(
                {
                    "layer": layer.layer, "name_vi": layer.name.vi, "name_en": layer.name.en, "phase": phase.id,
                    "planned": part.height, "in_operation": in_op,
                    "readiness": 100.0 * in_op / part.height if part.height else None,
                    "due": part.filter(pl.col("due")).height, "overdue": overdue.height,
                    "overdue_ids": overdue["id"].to_list(), "overdue_vi": _overdue_text(overdue, "vi", comp_names) or None,
                    "overdue_en": _overdue_text(overdue, "en", comp_names) or None, "layer_due": layer_due,
                    "layer_in_operation_due": layer_op_due, "layer_readiness_due": readiness_due,
                    "built": built, "lagging": lagging, "usage": list(layer.usage),
                    "usage_pace": [s["pace"] for s in states], "stalled": stalled, "flat_usage": flat_usage,
                    "flag_vi": flag_vi, "flag_en": flag_en, "as_of": as_of,
                }
            )  # fmt: skip
    return pl.DataFrame(rows, schema=READINESS_SCHEMA)
