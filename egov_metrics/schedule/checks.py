"""Checks before planning or running: explicit units the database does not know, a planner's broken files."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from egov_metrics.config import default_db_path
from egov_metrics.errors import EgovError
from egov_metrics.schedule.errors import ScheduleError
from egov_metrics.schedule.jobs import DEFAULT_JOBS, SELECTORS, Job
from egov_metrics.yamlutil import Problem, line_of, load_yaml_with_lines


def check_units(
    jobs: Sequence[Job], db: str | Path | None = None, path: str | Path | None = None
) -> list[Problem]:
    """Every explicit unit of the jobs that the database does not know, with file, line and "did you mean"."""
    from egov_metrics.orgunits import resolve_unit
    from egov_metrics.schema import connect

    path = Path(path) if path else DEFAULT_JOBS
    lines: dict[tuple, int] = {}
    with contextlib.suppress(Exception):
        _, lines, _ = load_yaml_with_lines(path)
    problems = []
    with connect(db if db is not None else default_db_path(), read_only=True) as con:
        for i, job in enumerate(jobs):
            for j, entry in enumerate(job.units or ()):
                if entry in SELECTORS:
                    continue
                try:
                    resolve_unit(con, entry)
                except EgovError as exc:
                    line = line_of(lines, ("jobs", i, "units", j))
                    problems.append(
                        Problem(path, line, f"jobs.{i}.units", f"{exc.message} in job {job.id!r}; {exc.hint}")
                    )
    return problems


def refuse_broken_planner_catalog() -> None:
    """A planner's broken indicator file ($EGOV_USER_DIR) stops the run before anything is rendered, naming
    every problem (file:line): reports are never made from a catalog nobody checked, and never fail one by one
    for a reason unrelated to them (docs/schedule.md, "The planner's own indicators")."""
    from egov_metrics.catalog import USER_DIR_ENV, planner_problems
    from egov_metrics.roadmap.model import check_roadmap, user_roadmap

    problems = planner_problems()
    roadmap = user_roadmap()
    if roadmap is not None and not problems:
        problems = check_roadmap(roadmap)
    if problems:
        lines = "\n".join(str(p) for p in problems)
        raise ScheduleError(
            f"the planner's indicators or roadmap (${USER_DIR_ENV}) have {len(problems)} problem(s); "
            f"no report was rendered:\n{lines}",
            f"fix the file(s) named above (`egov-metrics catalog check` lists them), or unset ${USER_DIR_ENV}; "
            "the next run renders everything that is due",
        )
