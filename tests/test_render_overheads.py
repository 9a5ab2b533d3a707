"""What a report pays besides its queries (issue 14): the HTML export without nbconvert's second parse and
with one exporter per thread and language, the executed notebook kept in memory (no papermill save after
every cell), and vl-convert started in the background (off by default: `engine.WARM_UP_CHARTS`). Behaviour
only; timings live in bench/reports.py."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import nbformat
import papermill
import pytest
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter

from egov_metrics import charts
from egov_metrics.reports import engine as warm_engine
from egov_metrics.reports import render
from egov_metrics.reports.engine import WarmKernel
from egov_metrics.reports.kinds import get_kind, validate_params
from egov_metrics.reports.render import ReportError, export_html, exporter, render_report

#: An inline SVG chart as vl-convert writes it: self-closing elements, which html.parser writes back out as
#: `<path …></path>` (so nbconvert's own pass changes the bytes of every chart).
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"><g><path d="M0,0L10,10"/>'
    '<text x="1" y="9">Tỷ lệ &amp; 5%</text><rect width="2" height="2"/></g></svg>'
)


def _executed(lang_word: str) -> nbformat.NotebookNode:
    """An executed notebook with the outputs a report has: HTML (tables, inline SVG), stream text."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    html_cell = nbformat.v4.new_code_cell("report.kpis()", execution_count=1)
    html_cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"text/html": f"<h2>{lang_word}</h2><table><tr><td>1<br>2</td></tr></table>{SVG}"},
        ),
        nbformat.v4.new_output("execute_result", data={"text/html": "<p>cuối</p>"}, execution_count=1),
    ]
    text_cell = nbformat.v4.new_code_cell("print('x')", execution_count=2)
    text_cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="dòng một\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("notes for planners"), html_cell, text_cell]
    return nb


def _with_nbconvert(nb: nbformat.NotebookNode, lang: str) -> str:
    """The page as nbconvert's own HTMLExporter makes it (a new exporter, the same options and resources)."""
    kind = get_kind("progress_report")
    params = validate_params(kind, {"db_path": "x.duckdb", "period": "2026-01", "lang": lang})
    plain = HTMLExporter(**render.exporter_options(lang))
    resources = {
        "metadata": {"name": kind.title_vi if lang == "vi" else kind.title_en},
        "egov": {"css": render.REPORT_CSS, "footer_html": render._footer_html(kind, params, "fp", "now")},
    }
    return plain.from_notebook_node(nb, resources=resources)[0]


def _ours(nb: nbformat.NotebookNode, lang: str) -> str:
    kind = get_kind("progress_report")
    params = validate_params(kind, {"db_path": "x.duckdb", "period": "2026-01", "lang": lang})
    return export_html(nb, kind, params, "fp", "now")


def test_the_page_is_the_document_nbconvert_makes_without_its_rewrite() -> None:
    nb = _executed("Tiêu đề")
    ours, theirs = _ours(nb, "vi"), _with_nbconvert(nb, "vi")
    # nbconvert parses its page with html.parser and writes the tree back out; ours is the template's text.
    # Parsed and written out the same way, ours is byte for byte nbconvert's page: the same document.
    assert str(BeautifulSoup(ours, "html.parser")) == theirs
    assert ours != theirs and '<path d="M0,0L10,10"/>' in ours  # the chart's markup as vl-convert wrote it
    # every output area takes the focus (it may scroll), as in nbconvert's page: three outputs, three stops
    soup = BeautifulSoup(ours, "html.parser")
    areas = soup.select("div.jp-OutputArea-output")
    assert len(areas) == 3 and all(a.get("tabindex") == "0" for a in areas)
    assert ours.count('tabindex="0"') == 3
    assert "notes for planners" not in ours and "<img" not in ours


def test_a_page_with_an_image_takes_nbconverts_own_path_with_its_alt_text() -> None:
    nb = _executed("Ảnh")
    cell = nbformat.v4.new_code_cell("img", execution_count=3)
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="})]
    nb.cells.append(cell)
    ours = _ours(nb, "vi")
    assert ours == _with_nbconvert(nb, "vi")  # byte for byte: nbconvert's pass, alt text included
    assert 'alt="No description has been provided for this image"' in ours


def test_a_reused_exporter_writes_the_page_a_new_one_writes() -> None:
    vi, en = _executed("Tiêu đề"), _executed("Title")
    first = _ours(vi, "vi")
    english = _ours(en, "en")
    again = _ours(vi, "vi")  # the same exporter, after a page in the other language
    assert again == first
    assert str(BeautifulSoup(english, "html.parser")) == _with_nbconvert(en, "en")
    assert '<html lang="en">' in english and '<html lang="vi">' in first
    assert exporter("vi") is exporter("vi") and exporter("vi") is not exporter("en")


def test_compiled_templates_are_kept_for_the_next_process_and_write_the_same_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from egov_metrics.catalog import model

    monkeypatch.setenv(model.CACHE_DIR_ENV, str(tmp_path))
    nb = _executed("Tiêu đề")

    def page() -> str:  # a new exporter, as in a new process
        resources = {"metadata": {"name": "x"}, "egov": {"css": "", "footer_html": "f"}}
        return render.ReportExporter(**render.exporter_options("vi")).from_notebook_node(
            nb, resources=resources
        )[0]

    first = page()
    kept = sorted((tmp_path / "jinja").glob("__jinja2_*.cache"))
    assert kept  # the compiled templates, for the next exporter
    stamps = [f.stat().st_mtime_ns for f in kept]
    assert page() == first  # compiled code loaded from the cache: the same page
    assert [f.stat().st_mtime_ns for f in kept] == stamps  # read, not written again
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(model.CACHE_DIR_ENV, str(blocked))
    assert render.template_cache() is None and page() == first  # no cache folder: compiled as before


def test_each_thread_has_its_own_exporters_and_makes_the_same_page() -> None:
    nb = _executed("Tiêu đề")
    here = _ours(nb, "vi")
    found: dict[str, object] = {}

    def work() -> None:
        found["exporter"] = exporter("vi")
        found["page"] = _ours(nb, "vi")

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert found["exporter"] is not exporter("vi")  # not shared between threads
    assert found["page"] == here


# -- vl-convert's warm-up ---------------------------------------------------------------------------------------


@pytest.fixture
def fresh_warm_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a process where nothing was converted yet."""
    monkeypatch.setattr(charts, "_warm_thread", None)


def test_the_warm_up_converts_one_chart_once_per_process(
    fresh_warm_up: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, object]] = []

    def convert(spec: dict[str, object], **_: object) -> str:
        calls.append(spec)
        return "<svg/>"

    monkeypatch.setattr(charts.vlc, "vegalite_to_svg", convert)
    first = charts.warm_up_in_background()
    second = charts.warm_up_in_background()
    first.join(10)
    assert second is first and first.daemon and not first.is_alive()
    assert calls == [charts.WARM_UP_SPEC]


def test_a_failing_warm_up_raises_nothing_anywhere(
    fresh_warm_up: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> str:
        raise RuntimeError("no JavaScript engine")

    seen: list[object] = []
    monkeypatch.setattr(threading, "excepthook", seen.append)
    monkeypatch.setattr(charts.vlc, "vegalite_to_svg", broken)
    charts.warm_up_in_background().join(10)
    assert seen == []  # the thread ended quietly: the report's first chart would report the error
    monkeypatch.setattr(charts, "warm_up_in_background", lambda: broken())
    render._charts_warm_up()  # the report's call never raises either


def test_the_warm_up_spec_converts_with_the_installed_vl_convert() -> None:
    svg = charts.vlc.vegalite_to_svg(charts.WARM_UP_SPEC, vl_version=charts.VL_VERSION)
    assert svg.startswith("<svg") and "<text" in svg


# -- reports end to end -----------------------------------------------------------------------------------------


@pytest.fixture
def notebook_writes(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every path papermill writes an executed notebook to (None: it writes nothing)."""
    import papermill.engines
    import papermill.execute

    paths: list[object] = []
    for module in (papermill.engines, papermill.execute):
        real = module.write_ipynb

        def counted(nb: nbformat.NotebookNode, path: object, real: object = real) -> None:
            paths.append(path)
            real(nb, path)  # type: ignore[operator]

        monkeypatch.setattr(module, "write_ipynb", counted)
    return paths


@pytest.mark.slow  # renders a report
def test_a_report_keeps_its_executed_notebook_in_memory_and_starts_no_warm_up_by_default(
    small_demo_db: Path, tmp_path: Path, notebook_writes: list[object], fresh_warm_up: None
) -> None:
    params: dict[str, object] = {"db_path": str(small_demo_db), "period": "2026-03"}
    result = render_report("progress_report", params, out_dir=tmp_path / "out")
    page = result.path.read_text(encoding="utf-8")
    areas = BeautifulSoup(page, "html.parser").select("div.jp-OutputArea-output")
    assert "<svg" in page and areas and all(a.get("tabindex") == "0" for a in areas)
    assert notebook_writes and set(notebook_writes) == {None}  # no save after each cell, no file at all
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        ".frontpage.json",
        ".manifest.lock",
        "index.html",
        "manifest.json",
        result.path.name,
    ]  # fmt: skip  (the compute cache is beside the database: `cache.store_for`)
    assert charts._warm_thread is None  # engine.WARM_UP_CHARTS is off: measured not to pay on 2 cores


@pytest.mark.slow  # renders a report
def test_with_the_warm_up_on_a_broken_warm_up_never_breaks_a_report(
    small_demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []

    def broken() -> threading.Thread:
        started.append("called")
        raise RuntimeError("warm-up broken")

    monkeypatch.setattr(warm_engine, "WARM_UP_CHARTS", True)
    monkeypatch.setattr(charts, "warm_up_in_background", broken)
    params: dict[str, object] = {"db_path": str(small_demo_db), "period": "2026-03"}
    result = render_report("progress_report", params, out_dir=tmp_path / "out")
    assert started == ["called"] and "<svg" in result.path.read_text(encoding="utf-8")


def _failing_notebooks(tmp_path: Path) -> Path:
    """A copy of the notebooks folder whose progress report fails in its third code cell."""
    folder = tmp_path / "notebooks"
    shutil.copytree(render.NOTEBOOKS_DIR, folder, ignore=shutil.ignore_patterns(".*"))
    path = folder / "progress_report.ipynb"
    nb = nbformat.read(path, as_version=4)
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells.insert(first_code + 1, nbformat.v4.new_code_cell("raise ValueError('boom in the report')"))
    nbformat.write(nb, path)
    return folder


@pytest.mark.slow  # runs notebooks, one in a kernel
def test_a_failing_cell_still_names_its_cell_and_nothing_is_written(
    small_demo_db: Path, tmp_path: Path, notebook_writes: list[object]
) -> None:
    folder = _failing_notebooks(tmp_path)
    params: dict[str, object] = {"db_path": str(small_demo_db), "period": "2026-03"}
    # parameters (1), injected parameters (2), the failing cell (3): as a new kernel numbers them
    with pytest.raises(ReportError, match=r"cell 3: ValueError: boom in the report"):
        render_report("progress_report", params, out_dir=tmp_path / "here", notebooks_dir=folder)
    kernel = WarmKernel(folder)
    try:
        with pytest.raises(ReportError, match=r"cell 3: ValueError: boom in the report"):
            render_report(
                "progress_report", params, out_dir=tmp_path / "warm", notebooks_dir=folder, kernel=kernel
            )
    finally:
        kernel.close()
    for out in ("here", "warm"):
        assert not list((tmp_path / out).glob("*.html"))
        assert not (tmp_path / out / "manifest.json").exists()
    assert set(notebook_writes) == {None}
    # papermill itself confirms the numbering (a new kernel, the notebook saved where asked)
    with pytest.raises(papermill.PapermillExecutionError) as fresh:
        papermill.execute_notebook(
            str(folder / "progress_report.ipynb"),
            str(tmp_path / "fresh.ipynb"),
            parameters={"db_path": str(small_demo_db), "period": "2026-03"},
            kernel_name="python3",
            progress_bar=False,
            cwd=str(folder),
        )
    assert fresh.value.exec_count == 3
    assert json.loads((tmp_path / "fresh.ipynb").read_text(encoding="utf-8"))["cells"]


@pytest.mark.slow  # starts a Jupyter kernel
def test_with_the_warm_up_on_a_warm_kernel_starts_vl_convert_first_and_leaves_no_name_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("name = 'x'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import sys\n"
            "started = sys.modules['egov_metrics.charts']._warm_thread is not None\n"
            "print(started, 'charts' in globals(), [k for k in globals() if 'warm' in k])"
        ),
    ]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setattr(warm_engine, "WARM_UP_CHARTS", True)
    kernel = WarmKernel(tmp_path)
    try:
        executed = kernel.execute(path, None, {"name": "y"})
    finally:
        kernel.close()
    printed = [o["text"] for c in executed.cells for o in c.get("outputs", []) if o.get("name") == "stdout"]
    assert printed == ["True False []\n"]
    assert [c.execution_count for c in executed.cells] == [1, 2, 3]  # as in a new kernel
