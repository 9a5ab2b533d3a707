"""One `phase_for(day)`: the rule (latest phase started on or before the day, else the first), and one source
(the planner's roadmap) for the scheduler and the reports — after a planner edits the roadmap, both pick the
same phase. Uses the small fixture roadmap (PA 2021–2025, PB 2026–2030) and the tiny database, whose own
`roadmap_phase` table says P1/P2: neither consumer may read it."""

from __future__ import annotations

import datetime as dt
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.tiny import build_tiny_db

from egov_metrics import schedule
from egov_metrics.reports.kinds.roadmap_report.page import RoadmapReport
from egov_metrics.roadmap import load_roadmap, phase_for

D = dt.date
SMALL = Path(__file__).parent / "fixtures" / "roadmap_small.yaml"


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_db(tmp_path_factory.mktemp("phases") / "tiny.duckdb")


@pytest.fixture
def planner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A planner's folder holding a copy of the small roadmap, as `$EGOV_USER_DIR`."""
    folder = tmp_path / "planner"
    folder.mkdir()
    (folder / "roadmap.yaml").write_text(SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("EGOV_USER_DIR", str(folder))
    yield folder / "roadmap.yaml"


@pytest.mark.parametrize(
    ("day", "phase"),
    [
        (D(2019, 6, 1), "PA"),  # before every phase: the first
        (D(2021, 1, 1), "PA"),  # PA's first day
        (D(2025, 12, 31), "PA"),  # PA's last day
        (D(2026, 1, 1), "PB"),  # PB's first day
        (D(2030, 12, 31), "PB"),
        (D(2033, 3, 1), "PB"),  # after every phase: the last one started
    ],
)
def test_the_latest_phase_started_on_or_before_the_day_else_the_first(day: dt.date, phase: str) -> None:
    assert phase_for(day, load_roadmap(SMALL)).id == phase


def test_without_a_roadmap_it_reads_the_planners(planner: Path) -> None:
    assert phase_for(D(2026, 5, 1)).id == "PB"  # the shipped roadmap has no phase PB


def _edit_phases(path: Path, pb_start: str) -> None:
    """The planner moves the start of PB (and the end of PA with it)."""
    text = path.read_text(encoding="utf-8")
    end_a = (D.fromisoformat(pb_start) - dt.timedelta(days=1)).isoformat()
    text = text.replace("end: 2025-12-31", f"end: {end_a}", 1).replace(
        "start: 2026-01-01", f"start: {pb_start}", 1
    )
    path.write_text(text, encoding="utf-8")
    stat = path.stat()  # a new modification time, however coarse the file system's clock
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


def _scheduled_phase(db: Path, out: Path) -> str:
    jobs = out / "jobs.yaml"
    jobs.write_text(
        textwrap.dedent(
            """\
            jobs:
              - id: roadmap
                kind: roadmap_report
                cadence: {every: quarter, day: 5}
                since: 2025-07
            """
        ),
        encoding="utf-8",
    )
    plan = schedule.plan("2025-10-06", jobs=jobs, db=db, out_dir=out)
    (instance,) = [i for i in plan.instances if i.period.end == D(2025, 9, 30)]
    assert instance.param_dict["as_of"] == "2025-09-30"
    return str(instance.param_dict["phase"])


def test_after_a_planner_edits_the_roadmap_scheduler_and_report_pick_the_same_phase(
    planner: Path, tiny_db: Path, tmp_path: Path
) -> None:
    as_of = D(2025, 9, 30)
    # before the edit: 30 Sep 2025 lies in PA (2021–2025)
    assert _scheduled_phase(tiny_db, tmp_path) == "PA"
    assert RoadmapReport(tiny_db, as_of=as_of).phase == "PA"
    # the planner brings PB forward to 1 July 2025: 30 Sep 2025 now lies in PB, for both
    _edit_phases(planner, "2025-07-01")
    assert load_roadmap().phase("PB").start == D(2025, 7, 1)
    assert _scheduled_phase(tiny_db, tmp_path) == "PB"
    assert RoadmapReport(tiny_db, as_of=as_of).phase == "PB"
