"""The phased roadmap: targets, trajectories, projections, status; architecture layers and their readiness.

    roadmap = load_roadmap()                        # the shipped province roadmap (roadmap_data/default.yaml)
    series = monthly_series(roadmap, as_of="2026-10-31")   # one engine call for everything below
    assess(roadmap, as_of="2026-10-31", series=series)     # one row per target: status and reason
    trajectories(roadmap, as_of="2026-10-31", series=series)
    layer_readiness(roadmap, as_of="2026-10-31", series=series)
    resources(roadmap, as_of="2026-10-31", series=series)

Sub-modules: `model` (the file format and its checks), `status` (pure trend and status rules), `assessment`
(targets, trajectories, resources), `architecture` (components and layer readiness), `tables` (write the
roadmap into the canonical tables). Rules and file format: docs/roadmap.md.
"""

from __future__ import annotations

from egov_metrics.roadmap.architecture import (
    components,
    is_due,
    is_overdue,
    layer_readiness,
    status_as_of,
)
from egov_metrics.roadmap.assessment import (
    assess,
    legend_frame,
    monthly_series,
    resources,
    trajectories,
)
from egov_metrics.roadmap.model import (
    DEFAULT_ROADMAP,
    Band,
    Component,
    Layer,
    Phase,
    Roadmap,
    RoadmapError,
    TargetSet,
    check_roadmap,
    load_roadmap,
)
from egov_metrics.roadmap.phases import phase_for
from egov_metrics.roadmap.status import STATUSES, Rules, TargetCheck, check_target, robust_trend
from egov_metrics.roadmap.tables import write_roadmap_tables
from egov_metrics.vocab import STATUS_LIGHTS

__all__ = [
    "DEFAULT_ROADMAP",
    "STATUSES",
    "STATUS_LIGHTS",
    "Band",
    "Component",
    "Layer",
    "Phase",
    "Roadmap",
    "RoadmapError",
    "Rules",
    "TargetCheck",
    "TargetSet",
    "assess",
    "check_roadmap",
    "check_target",
    "components",
    "is_due",
    "is_overdue",
    "layer_readiness",
    "legend_frame",
    "load_roadmap",
    "monthly_series",
    "phase_for",
    "resources",
    "robust_trend",
    "status_as_of",
    "trajectories",
    "write_roadmap_tables",
]
