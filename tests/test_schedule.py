"""Scheduled generation: due periods, plans on the tiny database, catch-up, idempotence, failures, dry runs,
the jobs file's problems with file:line, and two runs started at once (separate processes).

Reports are rendered from tiny stand-in notebooks (a parameters cell and one cell printing the parameters;
the scorecard one raises for the commune X3), so a render costs about a second: the kernel's start.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from fixtures.tiny import build_tiny_db
from typer.testing import CliRunner

from egov_metrics import schedule
from egov_metrics.cli import app
from egov_metrics.reports import read_manifest

D = dt.date
FAILING_UNIT = "X3"

PARAMETERS = {
    "progress_report": 'lang = "vi"\ndb_path = ""\nperiod = None\nunit = None',
    "unit_scorecard": 'lang = "vi"\ndb_path = ""\nperiod = None\nunit = None',
    "roadmap_report": 'lang = "vi"\ndb_path = ""\nas_of = None\nphase = None',
}
BODY = {
    "progress_report": "print(lang, period, unit)",
    "unit_scorecard": (
        f"if unit == {FAILING_UNIT!r}:\n    raise ValueError('stand-in failure for ' + unit)\nprint(lang, period, unit)"
    ),
    "roadmap_report": "print(lang, as_of, phase)",
}


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny database: dossiers to 2025-12-31; units T, STP, SXD/SGTVT → SXD-2025 (2025-03-01), X1/X2 → X3."""
    return build_tiny_db(tmp_path_factory.mktemp("schedule") / "tiny.duckdb")


@pytest.fixture(scope="module", autouse=True)
def planner_roadmap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The planner's roadmap for these tests: the small fixture roadmap (phases PA 2021–2025, PB 2026–2030).

    The tiny database's `roadmap_phase` table names its phases P1 and P2: a plan that said P1 would have read
    the table instead of the roadmap the planner edits (and the reports read)."""
    folder = tmp_path_factory.mktemp("planner")
    (folder / "roadmap.yaml").write_bytes(
        (Path(__file__).parent / "fixtures" / "roadmap_small.yaml").read_bytes()
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EGOV_USER_DIR", str(folder))
        yield folder


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("notebooks")
    for kind, params in PARAMETERS.items():
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell(params)
        cell.metadata["tags"] = ["parameters"]
        nb.cells = [cell, nbformat.v4.new_code_cell(BODY[kind])]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, folder / f"{kind}.ipynb")
    return folder


def write_jobs(folder: Path, text: str) -> Path:
    path = folder / "jobs.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def manifest_keys(out: Path) -> list[tuple[str, tuple]]:
    return sorted((e["kind"], tuple(sorted(e["params"].items()))) for e in read_manifest(out))  # type: ignore[union-attr]


def log_lines(out: Path, status: str) -> list[list[str]]:
    text = (out / schedule.LOG_FILE).read_text(encoding="utf-8") if (out / schedule.LOG_FILE).exists() else ""
    return [fields for line in text.splitlines() if (fields := line.split("\t"))[1] == status]


def described(instances: list[schedule.Instance]) -> list[str]:
    return [i.describe() for i in instances]


PROGRESS_JOB = """
jobs:
  - id: progress
    kind: progress_report
    cadence: {every: month, day: 3}
    languages: [vi, en]
    since: 2025-09
"""


# -- due periods: pure -----------------------------------------------------------------------------------


def job(**fields: object) -> schedule.Job:
    return schedule.Job.model_validate({"id": "j", "kind": "progress_report", **fields})


@pytest.mark.parametrize(
    ("every", "day", "as_of", "latest"),
    [
        ("month", 3, D(2026, 3, 5), "2026-02"),
        ("month", 3, D(2026, 3, 3), "2026-02"),  # the due day itself
        ("month", 3, D(2026, 3, 2), "2026-01"),
        ("month", 28, D(2026, 1, 1), "2025-11"),
        ("quarter", 5, D(2026, 4, 5), "2026-Q1"),
        ("quarter", 5, D(2026, 4, 4), "2025-Q4"),
        ("quarter", 5, D(2026, 6, 30), "2026-Q1"),
        ("year", 10, D(2026, 1, 10), "2025"),
        ("year", 10, D(2026, 1, 9), "2024"),
    ],
)
def test_latest_due_period(every: str, day: int, as_of: dt.date, latest: str) -> None:
    cadence = schedule.Cadence(every=every, day=day)  # type: ignore[arg-type]
    period = cadence.last_due(as_of)
    assert period.label == latest
    assert cadence.due_on(period) <= as_of < cadence.due_on(period.shift(1))


def test_due_periods_from_since_or_the_last_three() -> None:
    monthly = job(cadence={"every": "month", "day": 3}, since="2026-01")
    assert [p.label for p in schedule.due_periods(monthly, "2026-03-05")] == ["2026-01", "2026-02"]
    assert [p.label for p in schedule.due_periods(monthly, "2026-03-02")] == ["2026-01"]
    assert schedule.due_periods(monthly, "2025-12-31") == []  # since is in the future
    default = job(cadence={"every": "month", "day": 3})
    assert [p.label for p in schedule.due_periods(default, "2026-03-05")] == ["2025-12", "2026-01", "2026-02"]
    assert [p.label for p in schedule.due_periods(default, "2026-03-05", since="2025-11")][:2] == [
        "2025-11",
        "2025-12",
    ]
    quarterly = job(kind="roadmap_report", cadence={"every": "quarter", "day": 5}, since="2025-08")
    periods = schedule.due_periods(quarterly, "2026-04-05")
    assert [(p.label, p.end) for p in periods] == [("2025-Q3", D(2025, 9, 30)), ("2025-Q4", D(2025, 12, 31)),
                                                   ("2026-Q1", D(2026, 3, 31))]  # fmt: skip
    assert schedule.next_due(quarterly, "2026-04-05") == D(2026, 7, 5)


# -- plans on the tiny database ------------------------------------------------------------------------------


ALL_KINDS = """
jobs:
  - id: roadmap
    kind: roadmap_report
    cadence: {every: quarter, day: 5}
    since: 2025-07
  - id: progress
    kind: progress_report
    cadence: {every: month, day: 3}
    units: province
    languages: [vi, en]
    since: 2025-10
  - id: scorecards
    kind: unit_scorecard
    cadence: {every: month, day: 3}
    units: [departments, communes]
    since: 2025-10
"""


def test_plan_lists_every_due_report_oldest_first(tiny_db: Path, tmp_path: Path) -> None:
    jobs = write_jobs(tmp_path, ALL_KINDS)
    p = schedule.plan("2025-12-04", jobs=jobs, db=tiny_db, out_dir=tmp_path / "reports")
    assert p.data_through == D(2025, 12, 31) and p.failures == ()
    # monthly jobs: Oct and Nov (Nov's reports were due on 3 Dec); the roadmap: Q3 only (Q4's is due 5 Jan).
    assert described(p.todo) == [
        "roadmap_report as_of=2025-09-30 lang=vi phase=PA",
        "progress_report lang=vi period=2025-10",
        "progress_report lang=en period=2025-10",
        "unit_scorecard lang=vi period=2025-10 unit=STP",
        "unit_scorecard lang=vi period=2025-10 unit=SXD-2025",
        "unit_scorecard lang=vi period=2025-10 unit=X3",
        "progress_report lang=vi period=2025-11",
        "progress_report lang=en period=2025-11",
        "unit_scorecard lang=vi period=2025-11 unit=STP",
        "unit_scorecard lang=vi period=2025-11 unit=SXD-2025",
        "unit_scorecard lang=vi period=2025-11 unit=X3",
    ]
    assert p.todo[0].param_dict == {"as_of": "2025-09-30", "lang": "vi", "phase": "PA"}
    assert p.todo[1].param_dict == {"lang": "vi", "period": "2025-10", "unit": None}  # the province: no unit


def test_units_are_todays_units_that_held_work_at_the_period_end(tiny_db: Path, tmp_path: Path) -> None:
    """The reports show units as they are today, each with the work of the units merged into it: a unit
    that ended (SGTVT, SXD, X1, X2) has no report of its own (its parameter is refused, and its scorecard
    used to come out empty); its months before the merger are in its successor's reports."""
    jobs = write_jobs(
        tmp_path,
        """
        jobs:
          - id: scorecards
            kind: unit_scorecard
            cadence: {every: month, day: 3}
            units: [departments, communes]
            since: 2025-01
        """,
    )
    p = schedule.plan("2025-02-03", jobs=jobs, db=tiny_db, out_dir=tmp_path)
    # January 2025, before the mergers of 1 March (departments) and 1 July (communes): SXD and SGTVT are in
    # SXD-2025's reports, X1 and X2 in X3's (tests/fixtures/tiny.py)
    assert [i.param_dict["unit"] for i in p.todo] == ["STP", "SXD-2025", "X3"]


@pytest.mark.parametrize("kind", ["progress_report", "unit_scorecard"])
def test_a_report_of_a_unit_that_ended_is_refused_naming_its_successor(tiny_db: Path, kind: str) -> None:
    """progress_report failed inside the notebook (cell 3) with a hint to a parameter the report does not
    take, and unit_scorecard wrote an empty scorecard: both now refuse the unit before anything runs."""
    from egov_metrics.reports.kinds import REPORT_KINDS
    from egov_metrics.reports.kinds.base import ReportParameterError
    from egov_metrics.reports.kinds.params import unit_in_data
    from egov_metrics.schema import connect

    with connect(tiny_db, read_only=True) as con:
        with pytest.raises(ReportParameterError) as err:
            unit_in_data(REPORT_KINDS[kind], "SGTVT", con)
        assert "SGTVT" in err.value.message and "ended on 01/03/2025" in err.value.message
        assert err.value.hint is not None and "SXD-2025" in err.value.hint
        assert unit_in_data(REPORT_KINDS[kind], "SXD-2025", con) == "SXD-2025"


def test_periods_beyond_the_data_wait_and_phase_comes_from_the_planners_roadmap(
    tiny_db: Path, tmp_path: Path
) -> None:
    jobs = write_jobs(tmp_path, ALL_KINDS.replace("since: 2025-07", "since: 2025-10"))
    p = schedule.plan("2026-04-06", jobs=jobs, db=tiny_db, out_dir=tmp_path)
    waiting = p.by_status("waiting")
    assert {i.period.end for i in waiting} == {D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31)}
    assert all(i.period.end <= p.data_through for i in p.todo)
    roadmap = {
        i.param_dict["as_of"]: i.param_dict["phase"] for i in p.instances if i.kind == "roadmap_report"
    }
    # the planner's roadmap (PA 2021–2025, PB from 2026), not the database's copy (P1, P2)
    assert roadmap == {"2025-12-31": "PA", "2026-03-31": "PB"}


def test_explicit_units_and_a_job_that_cannot_be_planned(tiny_db: Path, tmp_path: Path) -> None:
    jobs = write_jobs(
        tmp_path,
        """
        jobs:
          - id: named
            kind: progress_report
            cadence: {every: month, day: 3}
            units: [STP, "Sở Tư pháp", "Xã Một Mới", province]
            since: 2025-11
          - id: typo
            kind: progress_report
            cadence: {every: month, day: 3}
            units: [Sở Tư phap X]
            since: 2025-11
        """,
    )
    p = schedule.plan("2025-12-03", jobs=jobs, db=tiny_db, out_dir=tmp_path)
    assert [i.param_dict["unit"] for i in p.todo] == ["STP", "X3", None]  # a name resolves to its id, once
    assert [f.job for f in p.failures] == ["typo"]
    assert "unknown" in p.failures[0].error


MIXED_UNITS = """
jobs:
  - id: mixed
    kind: progress_report
    cadence: {every: month, day: 3}
    units: [STP, Sở Tư phap X, "Xã Một Mới"]
    since: 2025-11
"""


@pytest.mark.slow
def test_one_unknown_unit_fails_only_its_own_reports(tiny_db: Path, notebooks: Path, tmp_path: Path) -> None:
    """The job's valid units are still rendered; the run ends with a summary naming job, unit, report and
    reason, on stdout and in schedule.log; the exit code is 1."""
    jobs, out = write_jobs(tmp_path, MIXED_UNITS), tmp_path / "reports"
    p = schedule.plan("2025-12-03", jobs=jobs, db=tiny_db, out_dir=out)
    assert [i.param_dict["unit"] for i in p.todo] == ["STP", "X3"]
    assert [(f.job, f.unit, f.kind) for f in p.failures] == [("mixed", "Sở Tư phap X", "progress_report")]
    assert "unknown org unit 'Sở Tư phap X'" in p.failures[0].error and "did you mean" in p.failures[0].error

    args = ["schedule", "run", "--as-of", "2025-12-03", "--jobs", str(jobs), "--db", str(tiny_db)]
    args += ["--out", str(out), "--notebooks", str(notebooks), "--quiet"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "2 rendered, 0 failed" in result.output
    assert [k[1][2] for k in manifest_keys(out)] == [("unit", "STP"), ("unit", "X3")]
    summary = [line for line in result.output.splitlines() if line.startswith("FAILED ")]
    assert len(summary) == 1, result.output
    assert summary[0].startswith(
        "FAILED job mixed · unit Sở Tư phap X · report progress_report (not planned) · "
    )
    assert "unknown org unit 'Sở Tư phap X'" in summary[0]
    logged = [f[3] for f in log_lines(out, "summary")]
    assert logged == [summary[0].removeprefix("FAILED ")]
    state = json.loads((out / schedule.STATE_FILE).read_text(encoding="utf-8"))
    assert state["last_run"]["job_failures"][0]["unit"] == "Sở Tư phap X"
    assert state["last_run"]["summary"] == logged
    # the run's digest of changes (the first run: nothing to compare), linked from the landing page
    assert "Lần chạy đầu tiên" in (out / "alerts.txt").read_text(encoding="utf-8")
    assert 'href="alerts.html"' in (out / "index.html").read_text(encoding="utf-8")
    assert [f[3] for f in log_lines(out, "alerts")] == ["changes=0"]


@pytest.mark.slow
def test_a_failed_report_is_in_the_summary_with_job_unit_and_reason(
    tiny_db: Path, notebooks: Path, tmp_path: Path
) -> None:
    jobs = write_jobs(
        tmp_path,
        """
        jobs:
          - id: scorecards
            kind: unit_scorecard
            cadence: {every: month, day: 3}
            units: [communes]
            since: 2025-11
        """,
    )
    out = tmp_path / "reports"
    result = schedule.run("2025-12-04", jobs=jobs, db=tiny_db, out_dir=out, notebooks_dir=notebooks)
    assert result.summary()[1:] == [
        "FAILED job scorecards · unit X3 · report unit_scorecard lang=vi period=2025-11 unit=X3 · "
        "unit_scorecard failed: cell 3: ValueError: stand-in failure for X3"
    ]
    assert [f[3] for f in log_lines(out, "summary")] == [result.summary()[1].removeprefix("FAILED ")]


def test_check_with_a_database_finds_unknown_units(tiny_db: Path, tmp_path: Path) -> None:
    jobs = write_jobs(tmp_path, MIXED_UNITS)
    assert CliRunner().invoke(app, ["schedule", "check", str(jobs)]).exit_code == 0  # the file itself is fine
    cli = CliRunner().invoke(app, ["schedule", "check", str(jobs), "--db", str(tiny_db)])
    assert cli.exit_code == 1, cli.output
    text = " ".join(cli.output.split())
    assert f"{jobs}:5: jobs.0.units: unknown org unit 'Sở Tư phap X' in job 'mixed'; did you mean" in text
    assert "Sở Tư pháp" in text
    good = write_jobs(tmp_path, MIXED_UNITS.replace("Sở Tư phap X, ", ""))
    ok = CliRunner().invoke(app, ["schedule", "check", str(good), "--db", str(tiny_db)])
    assert ok.exit_code == 0 and "no problems" in ok.output


def test_the_shipped_jobs_file_is_valid_and_plans(tiny_db: Path, tmp_path: Path) -> None:
    jobs, problems = schedule.check_jobs()
    assert problems == []
    assert {j.kind for j in jobs} == {"progress_report", "roadmap_report", "unit_scorecard"}
    p = schedule.plan("2026-01-05", db=tiny_db, out_dir=tmp_path)
    assert p.failures == () and p.todo
    assert {i.period.label for i in p.todo if i.kind != "roadmap_report"} == {"2025-10", "2025-11", "2025-12"}


# -- running ----------------------------------------------------------------------------------------------


@pytest.mark.slow  # starts two kernels
def test_the_kernels_of_a_run_share_the_memory_limit(
    tiny_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two kernels querying at once get half of DuckDB's default limit each (not 80% of the machine each);
    a limit the operator set is passed on unchanged. The stand-in notebook prints what its kernel sees."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(PARAMETERS["progress_report"])
    cell.metadata["tags"] = ["parameters"]
    show = "import os\nprint('limit=' + os.environ.get('EGOV_MEMORY_LIMIT', 'none'))"
    nb.cells = [cell, nbformat.v4.new_code_cell(show)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "progress_report.ipynb")
    jobs = write_jobs(tmp_path, PROGRESS_JOB)
    from egov_metrics.schema.connection import memory_share

    for operator, expected in ((None, None), ("3GB", "3GB")):
        if operator is None:
            monkeypatch.delenv("EGOV_MEMORY_LIMIT", raising=False)
            expected = memory_share(2)["EGOV_MEMORY_LIMIT"]
        else:
            monkeypatch.setenv("EGOV_MEMORY_LIMIT", operator)
        out = tmp_path / f"reports-{operator}"
        result = schedule.run(
            "2025-10-05", jobs=jobs, db=tiny_db, out_dir=out, notebooks_dir=folder, workers=2
        )
        assert result.exit_code == 0 and len(result.rendered) == 2
        for page in out.glob("progress_report_*.html"):
            assert f"limit={expected}" in page.read_text(encoding="utf-8")


@pytest.mark.slow  # renders a backlog of reports
def test_catch_up_after_an_outage_then_nothing_to_do(tiny_db: Path, notebooks: Path, tmp_path: Path) -> None:
    jobs, out = write_jobs(tmp_path, PROGRESS_JOB), tmp_path / "reports"
    kw = dict(jobs=jobs, db=tiny_db, out_dir=out, notebooks_dir=notebooks, workers=2)

    first = schedule.run("2025-10-05", **kw)
    assert first.exit_code == 0
    assert sorted(o.instance.describe() for o in first.rendered) == [
        "progress_report lang=en period=2025-09",
        "progress_report lang=vi period=2025-09",
    ]
    # no run for two months; the next one makes October and November
    later = schedule.run("2025-12-05", **kw)
    assert sorted(o.instance.describe() for o in later.rendered) == [
        "progress_report lang=en period=2025-10",
        "progress_report lang=en period=2025-11",
        "progress_report lang=vi period=2025-10",
        "progress_report lang=vi period=2025-11",
    ]
    assert later.failed == []
    expected = [
        ("progress_report", (("lang", lang), ("period", period), ("unit", None)))
        for lang in ("en", "vi")
        for period in ("2025-09", "2025-10", "2025-11")
    ]
    assert manifest_keys(out) == expected
    assert len(list(out.glob("progress_report_*.html"))) == 6
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.html")}

    again = schedule.run("2025-12-05", **kw)
    assert again.outcomes == () and again.exit_code == 0
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.html")} == stamps
    assert len(log_lines(out, "ok")) == 6 and log_lines(out, "failed") == []
    state = json.loads((out / schedule.STATE_FILE).read_text(encoding="utf-8"))
    assert state["last_run"]["rendered"] == 0 and state["last_run"]["as_of"] == "2025-12-05"

    # a report whose file went missing is not done: exactly that one is made again
    (out / "progress_report_2025-10_en.html").unlink()
    redo = schedule.run("2025-12-05", **{**kw, "workers": 1})
    assert [o.instance.describe() for o in redo.rendered] == ["progress_report lang=en period=2025-10"]
    assert manifest_keys(out) == expected


@pytest.mark.slow  # renders reports
def test_a_failing_report_does_not_stop_the_others(tiny_db: Path, notebooks: Path, tmp_path: Path) -> None:
    jobs = write_jobs(
        tmp_path,
        """
        jobs:
          - id: scorecards
            kind: unit_scorecard
            cadence: {every: month, day: 3}
            units: [departments, communes]
            since: 2025-11
        """,
    )
    out = tmp_path / "reports"
    args = ["schedule", "run", "--as-of", "2025-12-04", "--jobs", str(jobs), "--db", str(tiny_db)]
    args += ["--out", str(out), "--notebooks", str(notebooks), "--quiet"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    failed = [line for line in result.output.splitlines() if line.startswith("failed:")]
    assert failed == [
        "failed: unit_scorecard lang=vi period=2025-11 unit=X3: unit_scorecard failed: cell 3: ValueError: "
        "stand-in failure for X3"
    ]
    assert "2 rendered, 1 failed" in result.output
    assert [k[1] for k in manifest_keys(out)] == [
        (("lang", "vi"), ("period", "2025-11"), ("unit", "STP")),
        (("lang", "vi"), ("period", "2025-11"), ("unit", "SXD-2025")),
    ]
    assert not list(out.glob("*X3*"))
    assert [f[3] for f in log_lines(out, "failed")] == ["lang=vi period=2025-11 unit=X3"]
    state = json.loads((out / schedule.STATE_FILE).read_text(encoding="utf-8"))
    assert [f["params"]["unit"] for f in state["last_run"]["failed"]] == ["X3"]
    assert "last_success" not in state

    # the failed one is tried again next time (and fails again); the others are not re-made
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 1 and "0 rendered, 1 failed, 2 already done" in again.output


@pytest.mark.slow
def test_dry_run_renders_nothing(tiny_db: Path, notebooks: Path, tmp_path: Path) -> None:
    jobs, out = write_jobs(tmp_path, PROGRESS_JOB), tmp_path / "reports"
    result = schedule.run(
        "2025-11-03", jobs=jobs, db=tiny_db, out_dir=out, notebooks_dir=notebooks, dry_run=True
    )
    assert result.dry_run and result.outcomes == () and result.exit_code == 0
    assert described(result.plan.todo) == [  # type: ignore[union-attr]
        "progress_report lang=vi period=2025-09",
        "progress_report lang=en period=2025-09",
        "progress_report lang=vi period=2025-10",
        "progress_report lang=en period=2025-10",
    ]
    cli = CliRunner().invoke(
        app, ["schedule", "run", "--dry-run", "--as-of", "2025-11-03", "--jobs", str(jobs), "--db", str(tiny_db),
              "--out", str(out)],
    )  # fmt: skip
    assert cli.exit_code == 0, cli.output
    assert sum(line.startswith("would render: ") for line in cli.output.splitlines()) == 4
    assert not out.exists() or list(out.iterdir()) == []


def test_list_shows_each_job_with_counts(tiny_db: Path, tmp_path: Path) -> None:
    jobs = write_jobs(tmp_path, ALL_KINDS)
    result = CliRunner().invoke(
        app, ["schedule", "list", "--as-of", "2025-12-04", "--jobs", str(jobs), "--db", str(tiny_db),
              "--out", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "# as of 2025-12-04 · data through 2025-12-31"
    rows = {r[0]: r for r in (line.split("\t") for line in lines[1:])}
    assert list(rows) == ["job", "roadmap", "progress", "scorecards"]
    assert rows["scorecards"][1:] == [
        "unit_scorecard", "every month, day 3", "departments, communes", "vi", "2025-10", "0", "6", "0", "2026-01-03"
    ]  # fmt: skip
    assert rows["roadmap"][3:] == ["–", "vi", "2025-07", "0", "1", "0", "2026-01-05"]


# -- the jobs file ----------------------------------------------------------------------------------------

BROKEN = """
jobs:
  - id: progress
    kind: progres_report
    cadence: {every: month, day: 3}
  - id: progress
    kind: progress_report
    cadence: {every: week, day: 31}
    langauges: [vi]
  - id: roadmap
    kind: roadmap_report
    cadence: {every: quarter, day: 5}
    units: departments
    since: 2025-13
  - id: cards
    kind: unit_scorecard
    cadence: {every: month, day: 3}
  - id: cards-province
    kind: unit_scorecard
    cadence: {every: month, day: 3}
    units: [province]
    languages: [vi, fr]
"""


def test_a_broken_jobs_file_lists_every_problem_with_file_and_line(tmp_path: Path) -> None:
    path = write_jobs(tmp_path, BROKEN)
    jobs, problems = schedule.check_jobs(path)
    assert jobs == ()
    found = {(p.line, p.key) for p in problems}
    assert found == {
        (3, "jobs.0.kind"),  # unknown kind, with a "did you mean"
        (5, "jobs.1.id"),  # id used again
        (7, "jobs.1.cadence.every"),
        (7, "jobs.1.cadence.day"),  # `cadence: {…}` is one line: both point at it
        (8, "jobs.1.langauges"),
        (12, "jobs.2.units"),  # roadmap_report takes no units
        (13, "jobs.2.since"),
        (14, "jobs.3"),  # unit_scorecard needs units
        (20, "jobs.4.units"),  # a scorecard is not made for the province
        (21, "jobs.4.languages.1"),
    }, "\n".join(map(str, problems))
    text = "\n".join(map(str, problems))
    assert (
        f"{path}:3: jobs.0.kind: unknown report kind 'progres_report' (did you mean 'progress_report'" in text
    )
    assert f"{path}:5: jobs.1.id: job id 'progress' is used again (first on line 2)" in text
    assert f"{path}:8: jobs.1.langauges: unknown key" in text
    with pytest.raises(schedule.JobsFileError) as err:
        schedule.run("2025-12-04", jobs=path, db=tmp_path / "none.duckdb", out_dir=tmp_path)
    assert len(err.value.problems) == len(problems)
    cli = CliRunner().invoke(app, ["schedule", "check", str(path)])
    assert cli.exit_code == 1 and cli.output.count(f"{path}:") == len(problems)


# -- one run at a time --------------------------------------------------------------------------------------


def cli_process(*args: str) -> subprocess.Popen[str]:
    code = "from egov_metrics.cli import app; app()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "schedule", "run", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow  # two scheduler processes render reports
def test_two_runs_started_at_once_make_each_report_once(
    tiny_db: Path, notebooks: Path, tmp_path: Path
) -> None:
    jobs, out = write_jobs(tmp_path, PROGRESS_JOB), tmp_path / "reports"
    args = ["--as-of", "2025-11-05", "--jobs", str(jobs), "--db", str(tiny_db), "--out", str(out)]
    args += ["--notebooks", str(notebooks), "--wait", "120"]
    runs = [cli_process(*args), cli_process(*args)]
    outputs = [p.communicate(timeout=180)[0] for p in runs]
    assert [p.returncode for p in runs] == [0, 0], outputs
    summaries = sorted(
        line.split(",")[0] for o in outputs for line in o.splitlines() if " rendered, " in line
    )
    assert summaries == ["0 rendered", "4 rendered"], outputs  # Sep and Oct in two languages, by one run
    keys = manifest_keys(out)
    assert len(keys) == len(set(keys)) == 4
    ok = [(f[2], f[3]) for f in log_lines(out, "ok")]
    assert len(ok) == len(set(ok)) == 4


def hold_lock(out: Path) -> subprocess.Popen[str]:
    """Another process holding the schedule lock (as a run does) until killed."""
    out.mkdir(parents=True, exist_ok=True)
    code = (
        "import fcntl, json, os, sys, time\n"
        f"fd = os.open({str(out / schedule.LOCK_FILE)!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "os.write(fd, json.dumps({'pid': os.getpid(), 'started_at': '2020-01-01T00:00:00+00:00'}).encode())\n"
        "print('locked', flush=True)\n"
        "time.sleep(600)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


@pytest.mark.slow  # scheduler processes
def test_an_active_run_makes_the_next_one_step_aside_and_a_killed_one_does_not_block(
    tiny_db: Path, notebooks: Path, tmp_path: Path
) -> None:
    jobs, out = write_jobs(tmp_path, PROGRESS_JOB), tmp_path / "reports"
    kw = dict(jobs=jobs, db=tiny_db, out_dir=out, notebooks_dir=notebooks)
    holder = hold_lock(out)
    try:
        busy = schedule.run("2025-10-03", **kw)
        assert busy.busy and f"pid {holder.pid}" in busy.busy and busy.outcomes == ()
        assert busy.hung and busy.exit_code == 1  # it has held the lock since 2020: reported, not ignored
        started = time.monotonic()
        assert schedule.run("2025-10-03", wait=0.5, **kw).busy
        assert time.monotonic() - started >= 0.5
        assert read_manifest(out) == []
    finally:
        os.kill(holder.pid, signal.SIGKILL)  # the kernel drops a dead process's flock
        holder.wait()
    result = schedule.run("2025-10-03", workers=1, **kw)
    assert result.busy is None and len(result.rendered) == 2
    with open(out / schedule.LOCK_FILE) as fh:  # released after the run
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    assert [f[1] for f in (line.split("\t") for line in (out / schedule.LOG_FILE).read_text().splitlines())] == [
        "busy", "busy", "run", "ok", "ok", "alerts", "end",
    ]  # fmt: skip


def test_leftovers_of_a_killed_render_are_removed(tiny_db: Path, notebooks: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    stale, fresh = out / ".progress_report_2025-09_vi.html.abc.tmp", out / ".unit_scorecard_X.html.def.tmp"
    stale.write_text("<html>half", encoding="utf-8")
    fresh.write_text("<html>half", encoding="utf-8")
    hour_ago = time.time() - schedule.STALE_TMP_SECONDS - 60
    os.utime(stale, (hour_ago, hour_ago))
    jobs = write_jobs(tmp_path, PROGRESS_JOB.replace("since: 2025-09", "since: 2026-01"))  # nothing due yet
    result = schedule.run("2025-12-05", jobs=jobs, db=tiny_db, out_dir=out, notebooks_dir=notebooks)
    assert result.exit_code == 0 and result.outcomes == ()
    assert not stale.exists() and fresh.exists()  # a fresh one may belong to a render in progress


@pytest.mark.slow  # a run killed, then rerun
def test_a_run_killed_mid_way_leaves_whole_files_and_the_next_run_finishes(
    tiny_db: Path, notebooks: Path, tmp_path: Path
) -> None:
    jobs, out = write_jobs(tmp_path, PROGRESS_JOB), tmp_path / "reports"
    args = ["--as-of", "2025-12-05", "--jobs", str(jobs), "--db", str(tiny_db), "--out", str(out)]
    args += ["--notebooks", str(notebooks), "--workers", "2", "--quiet"]
    victim = cli_process(*args)
    deadline = time.monotonic() + 60
    while not log_lines(out, "ok") and time.monotonic() < deadline:  # kill it after its first report
        time.sleep(0.05)
    victim.kill()
    victim.wait()
    made = {e["path"] for e in read_manifest(out)}
    assert 1 <= len(made) < 6
    # every page in reports/ is whole (a page written but not yet recorded is whole too, and is made again);
    # a render cut short leaves at most a hidden temporary file
    pages = {p.name for p in out.glob("*.html")} - {"index.html"}
    assert made <= pages
    assert all((out / name).read_text(encoding="utf-8").rstrip().endswith("</html>") for name in pages)
    assert not (out / schedule.STATE_FILE).exists()  # the killed run never wrote a state file, half or whole
    time.sleep(1)  # its kernels notice their parent is gone
    after = schedule.run("2025-12-05", jobs=jobs, db=tiny_db, out_dir=out, notebooks_dir=notebooks)
    assert after.busy is None and after.exit_code == 0
    assert len(after.rendered) == 6 - len(made)
    keys = manifest_keys(out)
    assert len(keys) == len(set(keys)) == 6
    assert json.loads((out / schedule.STATE_FILE).read_text(encoding="utf-8"))["last_run"]["rendered"] == len(
        after.rendered
    )


@pytest.mark.slow  # a scheduler process renders reports
def test_ctrl_c_stops_a_run_at_once_and_says_so(tiny_db: Path, notebooks: Path, tmp_path: Path) -> None:
    """Ctrl-C went on rendering every queued report (the worker pool waited for them all) and printed
    nothing. Now the reports not started are dropped, the log says where the run stopped, the command says
    so in one line (no traceback) with the status 130, and every page left is whole."""
    jobs, out = write_jobs(tmp_path, PROGRESS_JOB), tmp_path / "reports"
    args = ["--as-of", "2025-12-05", "--jobs", str(jobs), "--db", str(tiny_db), "--out", str(out)]
    args += ["--notebooks", str(notebooks), "--workers", "1"]
    code = "from egov_metrics.cli import main; main()"
    run = subprocess.Popen(
        [sys.executable, "-c", code, "schedule", "run", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not log_lines(out, "ok") and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends: the whole process group
    output, _ = run.communicate(timeout=30)
    assert run.returncode == 130, output
    assert "đã dừng: không để lại gì ghi dở" in output and "Traceback" not in output
    (stopped,) = log_lines(out, "interrupted")
    done = {e["path"] for e in read_manifest(out)}
    assert 1 <= len(done) < 6 and any("stopped by Ctrl-C; of 6 reports planned" in f for f in stopped)
    pages = {p.name for p in out.glob("*.html")} - {"index.html"}
    assert all((out / name).read_text(encoding="utf-8").rstrip().endswith("</html>") for name in pages)


def test_an_output_folder_that_cannot_be_used_is_one_line_not_a_traceback(
    tiny_db: Path, tmp_path: Path
) -> None:
    """`--out` naming a file (or a folder the user cannot write) ended in a Python traceback, exit 1: now one
    line with the path and why, a hint, and the status 2."""
    taken = tmp_path / "a_file"
    taken.write_text("not a folder", encoding="utf-8")
    code = "from egov_metrics.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "report", "progress_report", "--db", str(tiny_db), "--out", str(taken)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"lỗi: {taken}" in done.stderr and "Gợi ý:" in done.stderr and "Traceback" not in done.stderr
