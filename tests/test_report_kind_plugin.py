"""A report kind is a plug-in: a kind module and a notebook, kept outside the package, registered with
`register()`, are rendered by `render_report` and planned and rendered by `schedule.run` without any other
module knowing it (no edit of render.py, schedule/, or a registry list).

The tiny kind ("tiny_report") reuses the shared day parameter (`kinds/params.py`: default the last day of
data, refused outside the data) and is placed in a schedule period by its last day. Its notebook prints its
parameters. The tiny database's dossiers run from 2024-03-04 to 2025-12-31 (tests/fixtures/tiny.py).

The quarter kind ("quarter_report") has a time parameter no shared mixin knows, `quarter` ("2026-Q3"): its
parameter model answers the hooks of `Params` (file name parts, period text, horizon, footer labels), and the
renderer, the index page and the scheduler name, date and label its reports through them alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import json
import re
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


QUARTER_MODULE = '''
"""A report kind of a quarter, for the province or a unit."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import field_validator

from egov_metrics.i18n import fmt_period
from egov_metrics.reports.kinds import ReportKind
from egov_metrics.reports.kinds.params import UnitParams, data_days, unit_in_data


def _quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


class QuarterParams(UnitParams):
    """unit (default: the province), quarter (default: the quarter of the last day of data)."""

    quarter: str | None = None

    LABELS: ClassVar[Mapping[str, Mapping[str, str]]] = {"vi": {"quarter": "Quý"}, "en": {"quarter": "Quarter"}}

    @field_validator("quarter")
    @classmethod
    def _quarter(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"\\d{4}-Q[1-4]", v):
            raise ValueError("quarter must be written YYYY-Qn, e.g. 2026-Q3")
        return v

    @classmethod
    def time_parts(cls, values: Mapping[str, Any]) -> list[str]:
        return [str(values["quarter"])] if values.get("quarter") else []

    @classmethod
    def period_text(cls, values: Mapping[str, Any], lang: str) -> str:
        return fmt_period(str(values["quarter"]), lang) if values.get("quarter") else ""

    @classmethod
    def horizon(cls, values: Mapping[str, Any]) -> dt.date | None:
        if not values.get("quarter"):
            return None
        year, q = str(values["quarter"]).split("-Q")
        return dt.date(int(year) + (q == "4"), 1 if q == "4" else 3 * int(q) + 1, 1) - dt.timedelta(days=1)


def resolve(kind, p, con):
    unit = unit_in_data(kind, p.unit, con) if p.unit else None
    first_day, last_day = data_days(con, p.db_path)
    return p.model_copy(update={"unit": unit, "quarter": p.quarter or _quarter_of(last_day)})


def schedule_time(period, con):
    return {"quarter": _quarter_of(period.end)}


KIND = ReportKind(
    name="quarter_report",
    notebook="quarter_report.ipynb",
    params=QuarterParams,
    title_vi="Báo cáo quý",
    title_en="Quarterly report",
    resolve=resolve,
    schedule_time=schedule_time,
)
'''


def _load_kind(root: Path, name: str, source: str, parameters: str, line: str) -> tuple[ModuleType, Path]:
    """Write the kind's module and its notebook under `root`, import the module and register its kind."""
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text(source, encoding="utf-8")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(line)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, notebooks / f"{name}.ipynb")
    spec = importlib.util.spec_from_file_location(name, root / name / "__init__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    register(module.KIND)
    return module, notebooks


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_db(tmp_path_factory.mktemp("plugin") / "tiny.duckdb")


@pytest.fixture
def plugin(tmp_path: Path) -> Iterator[tuple[ModuleType, Path]]:
    """The kind module (imported from a temporary folder and registered, for one test) and its notebooks
    folder."""
    module, notebooks = _load_kind(
        tmp_path / "tiny_kind",
        "tiny_report",
        KIND_MODULE,
        'lang = "vi"\ndb_path = ""\nas_of = None\ndays = 7',
        'print("tiny", lang, as_of, days)',
    )
    try:
        yield module, notebooks
    finally:
        REPORT_KINDS.pop("tiny_report", None)
        sys.modules.pop("tiny_report", None)


@pytest.fixture
def quarter_kind(tmp_path: Path) -> Iterator[tuple[ModuleType, Path]]:
    """The quarter kind (registered for one test) and its notebooks folder."""
    module, notebooks = _load_kind(
        tmp_path / "quarter_kind",
        "quarter_report",
        QUARTER_MODULE,
        'lang = "vi"\ndb_path = ""\nunit = None\nquarter = None',
        'print("quarter", lang, unit, quarter)',
    )
    try:
        yield module, notebooks
    finally:
        REPORT_KINDS.pop("quarter_report", None)
        sys.modules.pop("quarter_report", None)


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
    with pytest.raises(
        ReportError, match=r"parameter .as_of.: 2026-01-01 is outside the data \(04/03/2024–31/12/2025\)"
    ):
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
    # a new kind's folder joins this list by itself (docs/extending.md, "Add a report kind")
    assert {"progress_report", "roadmap_report", "unit_scorecard"} <= set(folders)
    assert list(REPORT_KINDS) == folders  # the index page lists the kinds in this order


def test_a_second_kind_of_the_same_name_is_refused() -> None:
    other = dataclasses.replace(REPORT_KINDS["progress_report"], title_en="Another progress report")
    with pytest.raises(EgovError, match="report kind 'progress_report' is registered twice"):
        register(other)
    assert REPORT_KINDS["progress_report"].title_en == "Progress report"
    register(REPORT_KINDS["progress_report"])  # the same kind again: nothing happens


# -- a kind whose time parameter is a quarter ------------------------------------------------------------


def _entry(kind: str, path: str, **params: object) -> dict[str, object]:
    """A manifest entry as `render_report` records it."""
    return {
        "kind": kind,
        "path": path,
        "params": {"lang": "vi", **params},
        "generated_at": "03/12/2026 02:15:00 +0000",
        "size": 2048,
    }


def test_a_quarter_kind_names_dates_and_labels_its_reports_through_its_parameters(
    quarter_kind: tuple[ModuleType, Path],
) -> None:
    from egov_metrics.reports import frontpage, render

    module, _ = quarter_kind
    kind = REPORT_KINDS["quarter_report"]
    q3 = module.QuarterParams(db_path="/data/x.duckdb", quarter="2026-Q3")
    # the file name: kind, unit (the shared mixin's part), quarter, language
    assert kind.output_stem(q3) == "quarter_report_2026-Q3_vi"
    stp = module.QuarterParams(db_path="/x.duckdb", quarter="2026-Q3", unit="Sở Tư pháp", lang="en")
    assert kind.output_stem(stp) == "quarter_report_S__T__ph_p_2026-Q3_en"
    # the last day of data it reads: the quarter's end (Q4 ends on 31/12)
    assert kind.horizon({"quarter": "2026-Q3"}) == dt.date(2026, 9, 30)
    assert kind.horizon({"quarter": "2025-Q4"}) == dt.date(2025, 12, 31)
    assert kind.horizon({"quarter": None}) is None
    # the index page: its period in words, and the latest report by its quarter (Q4 2025 < Q1 2026)
    entries = [
        _entry("quarter_report", "quarter_report_2025-Q4_vi.html", quarter="2025-Q4", unit=None),
        _entry("quarter_report", "quarter_report_2026-Q1_vi.html", quarter="2026-Q1", unit=None),
    ]
    page = frontpage.index_html(entries)
    assert "<td>quý 4/2025</td>" in page and "<td>quý 1/2026</td>" in page
    assert 'href="quarter_report_2026-Q1_vi.html">Báo cáo quý<' in frontpage._links(entries)
    assert 'href="quarter_report_2026-Q1_vi.html">Báo cáo quý<' in frontpage._links(entries[::-1])
    # the footer: the kind's own label for the quarter, the shared one for the unit (the province by default)
    vi = render._footer_html(kind, q3, "0123456789abcdef", "03/12/2026 09:15:00 +0700")
    assert "Quý: 2026-Q3" in vi and "Đơn vị: toàn tỉnh" in vi and "Ngôn ngữ: tiếng Việt" in vi
    en = render._footer_html(kind, stp, "0123456789abcdef", "03/12/2026 09:15:00 +0700")
    assert "Quarter: 2026-Q3" in en and "Unit: Sở Tư pháp" in en and "Quý" not in en


def test_the_shared_parameters_answer_the_same_hooks() -> None:
    """The shipped kinds, through the same hooks: a month, a day, a unit, a phase."""
    from egov_metrics.reports import frontpage

    progress, roadmap = REPORT_KINDS["progress_report"], REPORT_KINDS["roadmap_report"]
    month = progress.params(db_path="/x.duckdb", period="2026-02", unit="STP")
    assert progress.output_stem(month) == "progress_report_STP_2026-02_vi"
    assert progress.horizon({"period": "2026-02"}) == dt.date(2026, 2, 28)
    assert progress.horizon({"period": "2024-02"}) == dt.date(2024, 2, 29)
    day = roadmap.params(db_path="/x.duckdb", as_of=dt.date(2025, 12, 31), phase="P2026_2030", lang="en")
    # the day's own phase is not in the name; another phase is (two phases of one day are two reports)
    assert roadmap.output_stem(day) == "roadmap_report_2025-12-31_P2026_2030_en"
    own = roadmap.params(db_path="/x.duckdb", as_of=dt.date(2025, 12, 31), phase="P2021_2025", lang="en")
    assert roadmap.output_stem(own) == "roadmap_report_2025-12-31_en"
    assert roadmap.horizon({"as_of": "2025-12-31"}) == dt.date(2025, 12, 31)
    assert frontpage._period_text(_entry("progress_report", "p.html", period="2026-02")) == "tháng 02/2026"
    assert frontpage._period_text(_entry("roadmap_report", "r.html", as_of="2025-12-31")) == "đến 31/12/2025"
    other = _entry("roadmap_report", "r.html", as_of="2025-12-31", phase="P2026_2030")
    assert frontpage._period_text(other) == "đến 31/12/2025 · Giai đoạn 2026–2030"
    assert frontpage._period_text(_entry("no_such_kind", "n.html", period="2026-02")) == ""
    assert roadmap.labels("vi") == {"as_of": "Tính đến ngày", "phase": "Giai đoạn"}
    assert progress.labels("en") == {"period": "Period", "unit": "Unit"}


@pytest.mark.slow  # renders through papermill kernels
def test_a_quarter_kind_is_rendered_indexed_and_scheduled_by_its_quarter(
    quarter_kind: tuple[ModuleType, Path], tiny_db: Path, tmp_path: Path
) -> None:
    _, notebooks = quarter_kind
    out = tmp_path / "reports"
    default = render_report("quarter_report", {"db_path": str(tiny_db)}, out_dir=out, notebooks_dir=notebooks)
    # the data ends on 2025-12-31: the default is its quarter, in the file name, the page and the index
    assert default.path.name == "quarter_report_2025-Q4_vi.html"
    assert "quarter vi None 2025-Q4" in _text(default.path) and "Quý: 2025-Q4" in _text(default.path)
    assert "<td>quý 4/2025</td>" in (out / "index.html").read_text(encoding="utf-8")

    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(
        "jobs:\n  - id: q\n    kind: quarter_report\n    cadence: {every: quarter, day: 5}\n    since: 2025-07\n",
        encoding="utf-8",
    )
    # the report rendered above is the schedule's 2025-Q4 report: same parameters, data up to the same day
    planned = schedule.plan("2026-01-06", jobs=jobs, db=tiny_db, out_dir=out)
    assert [(i.describe(), i.status) for i in planned.instances] == [
        ("quarter_report lang=vi quarter=2025-Q3", "todo"),
        ("quarter_report lang=vi quarter=2025-Q4", "done"),
    ]
    result = schedule.run(
        "2026-01-06", jobs=jobs, db=tiny_db, out_dir=out, notebooks_dir=notebooks, workers=1
    )
    assert result.exit_code == 0, result.summary()
    assert [o.path for o in result.rendered] == ["quarter_report_2025-Q3_vi.html"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "<td>quý 3/2025</td>" in index and "<td>quý 4/2025</td>" in index
    # each report's data fingerprint stops at its quarter's end: a second plan finds both current
    again = schedule.plan("2026-01-06", jobs=jobs, db=tiny_db, out_dir=out)
    assert {i.status for i in again.instances} == {"done"}


def test_the_landing_page_links_say_when_a_report_is_not_of_the_pages_month() -> None:
    """The headline figures are of the data's last month; a link to a progress report of another month
    said only "Báo cáo tiến độ", as if it were this month's. Of two roadmap reports of one day, the link is
    the day's own phase, not another phase asked for later."""
    from egov_metrics.reports import frontpage

    early = _entry("progress_report", "progress_report_2021-01_vi.html", period="2021-01")
    links = frontpage._links([early], "2026-11")
    assert ">Báo cáo tiến độ (tháng 01/2021)</a>" in links
    now = _entry("progress_report", "progress_report_2026-11_vi.html", period="2026-11")
    assert ">Báo cáo tiến độ</a>" in frontpage._links([early, now], "2026-11")
    own = _entry(
        "roadmap_report", "roadmap_report_2026-11-30_vi.html", as_of="2026-11-30", phase="P2026_2030"
    )
    other = _entry(
        "roadmap_report",
        "roadmap_report_2026-11-30_P2021_2025_vi.html",
        as_of="2026-11-30",
        phase="P2021_2025",
    )
    for entries in ([own, other], [other, own]):
        assert 'href="roadmap_report_2026-11-30_vi.html"' in frontpage._links(entries, "2026-11")


def test_the_footer_does_not_say_a_label_twice() -> None:
    """A phase's name starts with the parameter's label: "Giai đoạn: Giai đoạn 2021–2025" read twice."""
    from egov_metrics.reports import render

    roadmap = REPORT_KINDS["roadmap_report"]
    for lang, shown in (("vi", "; Giai đoạn 2021–2025;"), ("en", "; Phase 2021–2025;")):
        p = roadmap.params(db_path="/x.duckdb", as_of=dt.date(2025, 12, 31), phase="P2021_2025", lang=lang)
        footer = render._footer_html(roadmap, p, "0123456789abcdef", "03/12/2026 09:15:00 +0700")
        assert shown in footer and "Giai đoạn: Giai đoạn" not in footer and "Phase: Phase" not in footer


def test_the_footer_writes_the_month_and_the_day_as_the_page_does() -> None:
    """The footer's parameters on a Vietnamese page read "Kỳ báo cáo: 2026-11" and "Tính đến ngày: 2026-11-30"
    (ISO) under a title that says "tháng 11/2026" and "30/11/2026"."""
    from egov_metrics.reports import render

    progress, roadmap = REPORT_KINDS["progress_report"], REPORT_KINDS["roadmap_report"]
    expected = {
        "vi": ("Kỳ báo cáo: tháng 11/2026;", "Tính đến ngày: 30/11/2026;"),
        "en": ("Period: November 2026;", "As of: 30/11/2026;"),
    }
    for lang, (month_text, day_text) in expected.items():
        month = progress.params(db_path="/x.duckdb", period="2026-11", lang=lang)
        day = roadmap.params(db_path="/x.duckdb", as_of=dt.date(2026, 11, 30), lang=lang)
        for kind, p, text in ((progress, month, month_text), (roadmap, day, day_text)):
            footer = render._footer_html(kind, p, "0123456789abcdef", "03/12/2026 09:15:00 +0700")
            assert text in footer, footer
            assert not re.search(r"\b20\d\d-\d\d\b", footer), footer


@pytest.mark.parametrize("damage", ['{"reports": [', '{"reports": [{"kind": "progress_report"}]}', "[]"])
def test_a_damaged_manifest_is_named_and_no_page_is_written(tmp_path: Path, damage: str) -> None:
    """A manifest cut short or edited by hand gave a JSONDecodeError or KeyError traceback, after the report's
    page had already replaced the one the manifest lists. It is now refused first, naming the file and how
    to start again."""
    from egov_metrics.reports import read_manifest, render_report
    from egov_metrics.reports.kinds.base import ReportError

    (tmp_path / "manifest.json").write_text(damage, encoding="utf-8")
    with pytest.raises(ReportError, match=r"manifest\.json is damaged") as err:
        read_manifest(tmp_path)
    assert err.value.hint is not None and "schedule run" in err.value.hint
    with pytest.raises(ReportError, match=r"manifest\.json is damaged"):
        render_report("progress_report", {"db_path": "/nonexistent.duckdb"}, out_dir=tmp_path)
    assert not list(tmp_path.glob("*.html"))


def test_the_landing_page_lists_only_reports_whose_page_is_there(tmp_path: Path) -> None:
    """A report deleted to be made again, whose new render then failed, stayed on the landing page as a link
    to nothing."""
    import json

    from egov_metrics.reports.render import refresh_index

    here = _entry("progress_report", "progress_report_2026-10_vi.html", period="2026-10")
    gone = _entry("progress_report", "progress_report_2026-09_vi.html", period="2026-09")
    (tmp_path / "manifest.json").write_text(json.dumps({"reports": [here, gone]}), encoding="utf-8")
    (tmp_path / "progress_report_2026-10_vi.html").write_text("<html></html>", encoding="utf-8")
    refresh_index(tmp_path, None)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert 'href="progress_report_2026-10_vi.html"' in index
    assert "progress_report_2026-09_vi.html" not in index


def test_the_footers_time_of_generation_is_vietnams_as_on_the_index() -> None:
    """A report made at 23:24 UTC said '04/12/2026 23:24:35 +0000' in its footer while the landing page listed
    it at '05/12/2026 06:24' (Vietnam's time): one report, two days."""
    from egov_metrics.reports import frontpage, render

    stamp = render.generation_stamp(dt.datetime(2026, 12, 4, 23, 24, 35, tzinfo=dt.UTC))
    assert stamp == "05/12/2026 06:24:35 +0700"
    assert frontpage.local_time(stamp) == "05/12/2026 06:24"
