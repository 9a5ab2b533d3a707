"""A report kind is a plug-in: a kind module and a notebook, kept outside the package, registered with
`register()`, are rendered by `render_report` and planned and rendered by `schedule.run` without any other
module knowing it (no edit of render.py, schedule/, or a registry list).

The tiny kind ("tiny_report") reuses the shared day parameter (`kinds/params.py`: default the last day of
data, refused outside the data) and is placed in a schedule period by its last day. Its notebook prints its
parameters. The tiny database's dossiers run from 2024-03-04 to 2025-12-31 (tests/fixtures/tiny.py).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import nbformat
import pytest
from fixtures.tiny import build_tiny_db

from egov_metrics import schedule
from egov_metrics.errors import EgovError
from egov_metrics.reports import REPORT_KINDS, ReportError, ReportParameterError, read_manifest, render_report
from egov_metrics.reports.kinds import register

KIND_MODULE = '''
"""A tiny report kind: as of a day, nothing else."""

from __future__ import annotations

from pydantic import Field

from egov_metrics.reports.kinds import ReportKind
from egov_metrics.reports.kinds.params import DayParams, data_days, day_in_data, day_of


class TinyParams(DayParams):
    """as_of (default: the last day of data), days (its own parameter)."""

    days: int = Field(7, ge=1)


def resolve(kind, p, con):
    first_day, last_day = data_days(con, p.db_path)
    return p.model_copy(update={"as_of": day_in_data(p.as_of, first_day, last_day)})


KIND = ReportKind(
    name="tiny_report",
    notebook="tiny_report.ipynb",
    params=TinyParams,
    title_vi="Báo cáo nhỏ",
    title_en="Tiny report",
    resolve=resolve,
    schedule_time=day_of,
    param_labels={"vi": {"days": "Số ngày"}, "en": {"days": "Days"}},
)
'''


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_db(tmp_path_factory.mktemp("plugin") / "tiny.duckdb")


@pytest.fixture
def plugin(tmp_path: Path) -> Iterator[tuple[ModuleType, Path]]:
    """The kind module (imported from a temporary folder and registered, for one test) and its notebooks
    folder."""
    root = tmp_path / "tiny_kind"
    root.mkdir()
    (root / "tiny_report").mkdir()
    (root / "tiny_report" / "__init__.py").write_text(KIND_MODULE, encoding="utf-8")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    nb = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('lang = "vi"\ndb_path = ""\nas_of = None\ndays = 7')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, nbformat.v4.new_code_cell('print("tiny", lang, as_of, days)')]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, notebooks / "tiny_report.ipynb")

    spec = importlib.util.spec_from_file_location("tiny_report", root / "tiny_report" / "__init__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["tiny_report"] = module
    spec.loader.exec_module(module)
    register(module.KIND)
    try:
        yield module, notebooks
    finally:
        REPORT_KINDS.pop("tiny_report", None)
        sys.modules.pop("tiny_report", None)


def _text(path: Path) -> str:
    return " ".join(path.read_text(encoding="utf-8").split())


@pytest.mark.slow  # renders through papermill kernels
def test_a_registered_kind_renders_with_its_defaults_and_checks(
    plugin: tuple[ModuleType, Path], tiny_db: Path, tmp_path: Path
) -> None:
    _, notebooks = plugin
    out = tmp_path / "reports"
    default = render_report("tiny_report", {"db_path": str(tiny_db)}, out_dir=out, notebooks_dir=notebooks)
    assert default.path.name == "tiny_report_2025-12-31_vi.html"  # the last day of data, as the default
    assert "tiny vi 2025-12-31 7" in _text(default.path)
    # the kind's own title and parameter label, in the footer
    assert "Báo cáo nhỏ" in _text(default.path) and "Số ngày: 7" in _text(default.path)

    given = render_report(
        "tiny_report",
        {"db_path": str(tiny_db), "as_of": "2025-06-30", "lang": "en", "days": "30"},
        out_dir=out,
        notebooks_dir=notebooks,
    )
    assert "tiny en 2025-06-30 30" in _text(given.path)
    assert "Tiny report" in _text(given.path) and "Days: 30" in _text(given.path)
    assert sorted((e["path"], json.dumps(e["params"], sort_keys=True)) for e in read_manifest(out)) == [
        ("tiny_report_2025-06-30_en.html", '{"as_of": "2025-06-30", "days": 30, "lang": "en"}'),
        ("tiny_report_2025-12-31_vi.html", '{"as_of": "2025-12-31", "days": 7, "lang": "vi"}'),
    ]

    # the shared day check refuses a day outside the data, before any kernel starts; unknown names too
    with pytest.raises(ReportError, match=r"as_of 2026-01-01 is outside the data \(2024-03-04–2025-12-31\)"):
        render_report(
            "tiny_report",
            {"db_path": str(tiny_db), "as_of": "2026-01-01"},
            out_dir=out,
            notebooks_dir=notebooks,
        )
    with pytest.raises(ReportParameterError, match=r"unknown parameter 'as_off'.*did you mean 'as_of'"):
        render_report(
            "tiny_report",
            {"db_path": str(tiny_db), "as_off": "2025-01-01"},
            out_dir=out,
            notebooks_dir=notebooks,
        )
    assert len(read_manifest(out)) == 2


@pytest.mark.slow
def test_a_registered_kind_is_scheduled_by_its_period_end(
    plugin: tuple[ModuleType, Path], tiny_db: Path, tmp_path: Path
) -> None:
    _, notebooks = plugin
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(
        textwrap.dedent(
            """
            jobs:
              - id: tiny
                kind: tiny_report
                cadence: {every: quarter, day: 5}
                languages: [vi, en]
                since: 2025-07
            """
        ),
        encoding="utf-8",
    )
    out = tmp_path / "reports"
    # as of 2026-01-06: 2025-Q3 (due 5/10/2025) and 2025-Q4 (due 5/1/2026), each as of its last day
    planned = schedule.plan("2026-01-06", jobs=jobs, db=tiny_db, out_dir=out)
    assert [(i.describe(), i.status) for i in planned.instances] == [
        ("tiny_report as_of=2025-09-30 days=7 lang=vi", "todo"),
        ("tiny_report as_of=2025-09-30 days=7 lang=en", "todo"),
        ("tiny_report as_of=2025-12-31 days=7 lang=vi", "todo"),
        ("tiny_report as_of=2025-12-31 days=7 lang=en", "todo"),
    ]
    result = schedule.run(
        "2026-01-06", jobs=jobs, db=tiny_db, out_dir=out, notebooks_dir=notebooks, workers=1
    )
    assert result.exit_code == 0, result.summary()
    assert sorted(o.path or "" for o in result.rendered) == [
        "tiny_report_2025-09-30_en.html",
        "tiny_report_2025-09-30_vi.html",
        "tiny_report_2025-12-31_en.html",
        "tiny_report_2025-12-31_vi.html",
    ]
    assert "tiny en 2025-09-30 7" in _text(out / "tiny_report_2025-09-30_en.html")
    again = schedule.plan("2026-01-06", jobs=jobs, db=tiny_db, out_dir=out)
    assert {i.status for i in again.instances} == {"done"}


def test_the_shipped_kinds_are_the_folders_in_name_order() -> None:
    folder = Path(__file__).resolve().parents[1] / "egov_metrics" / "reports" / "kinds"
    folders = sorted(p.parent.name for p in folder.glob("*/__init__.py"))
    assert folders == ["progress_report", "roadmap_report", "unit_scorecard"]
    assert list(REPORT_KINDS) == folders  # the index page lists the kinds in this order


def test_a_second_kind_of_the_same_name_is_refused() -> None:
    other = dataclasses.replace(REPORT_KINDS["progress_report"], title_en="Another progress report")
    with pytest.raises(EgovError, match="report kind 'progress_report' is registered twice"):
        register(other)
    assert REPORT_KINDS["progress_report"].title_en == "Progress report"
    register(REPORT_KINDS["progress_report"])  # the same kind again: nothing happens
