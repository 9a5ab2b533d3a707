"""Which roadmap phase holds a date: one rule, one source, for the scheduler, the reports and the assessment.

The rule: the latest phase started on or before the day, else (a day before every phase) the first one.
The source: the roadmap the planner edits, `load_roadmap()` — `$EGOV_USER_DIR/roadmap.yaml` when there is one,
else the shipped `roadmap_data/default.yaml`. The `roadmap_phase` table of a database is a copy written by
`write_roadmap_tables` for SQL users; it is not read here, so a planner's edit reaches the scheduler and the
reports at the same time, without rebuilding the database.
"""

from __future__ import annotations

import datetime as dt

from egov_metrics.roadmap.model import Phase, Roadmap, load_roadmap


def phase_for(day: dt.date, roadmap: Roadmap | None = None) -> Phase:
    """The phase holding `day`: the latest one started on or before it, else the first (default: the planner's
    roadmap, see the module's docstring)."""
    roadmap = roadmap if roadmap is not None else load_roadmap()
    ordered = sorted(roadmap.phases, key=lambda p: p.start)
    started = [p for p in ordered if p.start <= day]
    return started[-1] if started else ordered[0]
