"""Write a roadmap into the canonical tables (roadmap_phase, target, arch_layer, arch_component, arch_dependency).

The demo build calls `write_roadmap_tables(con, load_roadmap())` so that the database and the shipped roadmap
file agree; a province can do the same with its own file. The five tables are emptied and refilled (the
caller's transaction, if any, makes it atomic). Conventions of the tables:

* `roadmap_phase.end_date` is exclusive (the day after the phase's last day), like every validity interval
  of the schema;
* `target` holds one row per milestone and phase target (derived milestones included), with the baseline
  repeated on each row; `source` is suffixed with " [chưa xác minh / unverified]" or
  " [nội suy / derived]" because the table has no columns for these flags.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from egov_metrics.roadmap.model import Roadmap

TABLES: tuple[str, ...] = ("arch_dependency", "arch_component", "target", "roadmap_phase", "arch_layer")


def _source(text: str, verified: bool, derived: bool) -> str:
    if derived:
        return f"{text} [nội suy / derived]"
    return text if verified else f"{text} [chưa xác minh / unverified]"


def roadmap_rows(roadmap: Roadmap) -> dict[str, list[tuple]]:
    """The rows of each table, in insertion order."""
    phases = [
        (p.id, p.name.vi, p.name.en, p.start, p.end + dt.timedelta(days=1),
         "; ".join(g.vi for g in p.goals) or None, "; ".join(g.en for g in p.goals) or None)
        for p in sorted(roadmap.phases, key=lambda p: p.start)
    ]  # fmt: skip
    targets = []
    for ts in roadmap.targets:
        b = ts.baseline
        for point in roadmap.path(ts):
            if point.kind == "baseline":
                continue
            targets.append(
                (point.phase, ts.indicator, ts.level, point.year, point.value, point.kind == "target",
                 b.value if b else None, b.date if b else None, _source(point.source, point.verified, point.derived))
            )  # fmt: skip
    layers = [(x.layer, x.name.vi, x.name.en) for x in sorted(roadmap.layers, key=lambda x: x.layer)]
    components = [
        (c.id, c.layer, c.name.vi, c.name.en, c.phase, c.status, c.planned, c.live, c.owner)
        for c in sorted(roadmap.components, key=lambda c: (c.layer, c.id))
    ]
    deps = sorted({(c.id, d) for c in roadmap.components for d in c.depends_on})
    return {
        "arch_layer": layers,
        "roadmap_phase": phases,
        "target": targets,
        "arch_component": components,
        "arch_dependency": deps,
    }


_INSERT = {
    "arch_layer": "INSERT INTO arch_layer (layer, name_vi, name_en) VALUES (?, ?, ?)",
    "roadmap_phase": (
        "INSERT INTO roadmap_phase (id, name_vi, name_en, start_date, end_date, goals_vi, goals_en) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)"
    ),
    "target": (
        "INSERT INTO target (phase_id, indicator, unit_level, year, value, is_phase_end, baseline_value, "
        "baseline_date, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ),
    "arch_component": (
        "INSERT INTO arch_component (id, layer, name_vi, name_en, phase_id, status, planned_at, live_at, "
        "owner_unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ),
    "arch_dependency": "INSERT INTO arch_dependency (component_id, depends_on) VALUES (?, ?)",
}


def write_roadmap_tables(con: duckdb.DuckDBPyConnection, roadmap: Roadmap) -> dict[str, int]:
    """Replace the contents of the five roadmap tables with `roadmap`; return the rows written per table."""
    rows = roadmap_rows(roadmap)
    for table in TABLES:
        con.execute(f"DELETE FROM {table}")
    for table, values in rows.items():
        if values:
            con.executemany(_INSERT[table], values)
    return {table: len(values) for table, values in rows.items()}
