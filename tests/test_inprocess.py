"""A single report's notebook runs in the calling process (reports/inprocess.py): papermill parameterises
it, an IPython shell in this process executes it. Behaviour only; timings live in bench/reports.py."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat
import papermill
import pytest
from papermill.exceptions import PapermillExecutionError

from egov_metrics.reports.inprocess import ENGINE_NAME
from egov_metrics.reports.render import ReportError, render_report


def _notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("name = 'default'", metadata={"tags": ["parameters"]})
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def _run(path: Path, out: Path, parameters: dict[str, object]) -> nbformat.NotebookNode:
    return papermill.execute_notebook(
        str(path), str(out), parameters=parameters, engine_name=ENGINE_NAME, progress_bar=False
    )


def _code_outputs(nb: nbformat.NotebookNode) -> list[list[dict[str, object]]]:
    return [[dict(o) for o in c.outputs] for c in nb.cells if c.cell_type == "code"]


def test_outputs_are_recorded_as_a_kernel_sends_them_in_this_process(tmp_path: Path) -> None:
    path = _notebook(
        tmp_path / "nb.ipynb",
        "import os\nprint(name, os.getpid())\nprint('second line')",
        "from IPython.display import HTML, display\ndisplay(HTML('<b>shown</b>'))\n41 + 1",
        "x = 1",
    )
    nb = _run(path, tmp_path / "out.ipynb", {"name": "one"})
    outputs = _code_outputs(nb)
    # parameters, injected parameters, the three cells
    assert [c.execution_count for c in nb.cells if c.cell_type == "code"] == [1, 2, 3, 4, 5]
    stream = outputs[2]
    assert len(stream) == 1 and stream[0]["output_type"] == "stream" and stream[0]["name"] == "stdout"
    assert stream[0]["text"] == f"one {os.getpid()}\nsecond line\n"  # this process: no kernel started
    display, result = outputs[3]
    assert display["output_type"] == "display_data" and display["data"]["text/html"] == "<b>shown</b>"
    assert result["output_type"] == "execute_result" and result["data"] == {"text/plain": "42"}
    assert result["execution_count"] == 4
    assert outputs[4] == []
    assert "inprocess" not in type(sys.stdout).__module__  # the streams are back


@pytest.mark.slow
def test_two_notebooks_in_one_process_share_no_variables(tmp_path: Path) -> None:
    first = _notebook(tmp_path / "a.ipynb", "import json\nleft_behind = 42\nprint(name)")
    second = _notebook(tmp_path / "b.ipynb", "print(name, 'left_behind' in globals(), 'json' in globals())")
    one = _run(first, tmp_path / "a_out.ipynb", {"name": "one"})
    two = _run(second, tmp_path / "b_out.ipynb", {"name": "two"})
    assert _code_outputs(one)[2][0]["text"] == "one\n"
    assert _code_outputs(two)[2][0]["text"] == "two False False\n"
    # the second run is numbered as the first: from 1
    assert [c.execution_count for c in two.cells if c.cell_type == "code"] == [1, 2, 3]


def test_what_a_notebook_leaves_in_cycles_is_collected_and_the_freeze_happens_once(tmp_path: Path) -> None:
    """The shell freezes the objects alive before its first notebook (`gc.freeze`), so its resets no longer
    walk the whole report stack; the notebooks' own garbage, reference cycles included, can still be freed."""
    import builtins
    import gc

    cycle = _notebook(
        tmp_path / "cycle.ipynb",
        "import builtins, weakref\nclass Node: pass\na, b = Node(), Node()\na.other, b.other = b, a\n"
        "builtins._egov_cycle_probe = weakref.ref(a)",
    )
    _run(cycle, tmp_path / "c1.ipynb", {"name": "one"})
    frozen = gc.get_freeze_count()
    assert frozen > 0
    gc.collect()  # what the collector does on its own, sooner or later: the cycle was not frozen
    assert builtins._egov_cycle_probe() is None  # type: ignore[attr-defined]
    _run(cycle, tmp_path / "c2.ipynb", {"name": "two"})
    gc.collect()
    assert builtins._egov_cycle_probe() is None  # type: ignore[attr-defined]
    assert gc.get_freeze_count() == frozen  # frozen once per process, not once per notebook
    del builtins._egov_cycle_probe  # type: ignore[attr-defined]


@pytest.mark.slow
def test_a_failing_cell_stops_the_notebook_and_names_the_same_cell_as_a_kernel(tmp_path: Path) -> None:
    bad = _notebook(tmp_path / "bad.ipynb", "x = 1", "raise ValueError('boom')", "print('never')")
    with pytest.raises(PapermillExecutionError) as failed:
        _run(bad, tmp_path / "bad_out.ipynb", {})
    assert failed.value.exec_count == 3  # parameters, x = 1, the failing cell (as a new kernel numbers it)
    assert (failed.value.ename, failed.value.evalue) == ("ValueError", "boom")
    executed = nbformat.read(tmp_path / "bad_out.ipynb", as_version=4)
    assert [c.outputs for c in executed.cells if c.cell_type == "code"][-1] == []  # not executed
    # the process is usable afterwards: its streams are back and the next notebook runs
    assert "inprocess" not in type(sys.stdout).__module__
    good = _notebook(tmp_path / "good.ipynb", "print('fine', 'x' in globals())")
    assert _code_outputs(_run(good, tmp_path / "good_out.ipynb", {}))[1][0]["text"] == "fine False\n"


def _normalised(page: str) -> str:
    """A report page without what changes from run to run: the time it was made, nbconvert's cell ids."""
    page = re.sub(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d [+-]\d{4}", "<time>", page)
    return re.sub(r'id="cell-id=[0-9a-f-]+"', 'id="cell-id"', page)


@pytest.mark.slow  # renders reports, one of them in a kernel
def test_a_report_rendered_in_process_is_the_page_a_new_kernel_makes(
    small_demo_db: Path, tmp_path: Path
) -> None:
    params = {"unit": "STP", "period": "2026-03", "db_path": str(small_demo_db)}
    kernel = render_report("progress_report", params, out_dir=tmp_path / "kernel", in_process=False)
    # another report first, in English, in this process: nothing of it may show in the next one
    render_report("unit_scorecard", {**params, "lang": "en"}, out_dir=tmp_path / "here")
    here = render_report("progress_report", params, out_dir=tmp_path / "here")
    assert _normalised(here.path.read_text(encoding="utf-8")) == _normalised(
        kernel.path.read_text(encoding="utf-8")
    )
    with pytest.raises(ReportError, match=r"parameter 'period': 1999-01 is outside the data"):
        render_report("progress_report", {**params, "period": "1999-01"}, out_dir=tmp_path / "here")
