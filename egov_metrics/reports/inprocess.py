"""In-process notebooks: a single report runs its papermill notebook inside the process that asked for it.

`egov-metrics report` used to start a Jupyter kernel (~1 s) and import the report stack again in it
(duckdb, polars, altair, vl-convert: ~1.5–2 s on a quiet machine, 5 s under load) before the first query.
The CLI process has already imported the library to check the parameters, so this module runs the notebook
there: papermill still parameterises and drives it (engine `egov-inprocess`, registered here), but each
cell is executed by an IPython shell in this process, and its outputs are recorded as a kernel would send
them (stream text, `display_data`, `execute_result`, `error` with the traceback).

Isolation: before each notebook the shell's namespace is cleared and a new session starts with its
execution counter at 1 (`reset(new_session=True)`, as in the warm kernels of `engine.py`), so a second
report in the same process sees nothing of the first; `sys.modules["__main__"]`, `sys.stdout`/`sys.stderr`
and the working directory are restored after every notebook. Imported modules stay loaded: that is the
point. One notebook at a time per process (the shell is a process-wide singleton): a batch of reports uses
the warm kernels of `engine.py`, one per worker thread.
"""

from __future__ import annotations

import contextlib
import gc
import io
import sys
import threading
from collections.abc import Iterator
from typing import Any

import nbformat
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from papermill.engines import Engine, papermill_engines
from traitlets.config import Config

ENGINE_NAME = "egov-inprocess"

#: One notebook at a time: the shell, stdout and `__main__` are process-wide.
_running = threading.Lock()


class _Outputs:
    """The outputs of the cell being executed, in order, merged as nbclient merges consecutive stream text."""

    def __init__(self) -> None:
        self.items: list[nbformat.NotebookNode] = []

    def stream(self, name: str, text: str) -> None:
        if not text:
            return
        last = self.items[-1] if self.items else None
        if last is not None and last.output_type == "stream" and last.name == name:
            last.text += text
        else:
            self.items.append(nbformat.v4.new_output("stream", name=name, text=text))

    def add(self, output: nbformat.NotebookNode) -> None:
        self.items.append(output)


class _Stream(io.TextIOBase):
    """A text stream (stdout or stderr) whose writes become stream outputs of the current cell."""

    def __init__(self, shell: ReportShell, name: str) -> None:
        self.shell = shell
        self.name = name

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.shell.outputs.stream(self.name, text)
        return len(text)


class _DisplayHook(DisplayHook):
    """The value of a cell's last expression becomes an `execute_result` output (as ipykernel sends it)."""

    def start_displayhook(self) -> None:
        self._data: dict[str, Any] = {}
        self._metadata: dict[str, Any] = {}

    def write_output_prompt(self) -> None:
        pass

    def write_format_data(self, format_dict: dict[str, Any], md_dict: dict[str, Any] | None = None) -> None:
        self._data, self._metadata = format_dict, md_dict or {}

    def finish_displayhook(self) -> None:
        shell = self.shell
        assert isinstance(shell, ReportShell)
        if self._data:
            shell.outputs.add(
                nbformat.v4.new_output(
                    "execute_result",
                    data=self._data,
                    metadata=self._metadata,
                    execution_count=shell.cell_count,
                )
            )


class _DisplayPublisher(DisplayPublisher):
    """`display(...)` becomes a `display_data` output."""

    def publish(
        self,
        data: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        source: object = None,
        *,
        transient: dict[str, Any] | None = None,
        update: bool = False,
        **kwargs: Any,
    ) -> None:
        shell = self.shell
        assert isinstance(shell, ReportShell)
        shell.outputs.add(nbformat.v4.new_output("display_data", data=data, metadata=metadata or {}))

    def clear_output(self, wait: bool = False) -> None:
        shell = self.shell
        assert isinstance(shell, ReportShell)
        shell.outputs.items.clear()


class ReportShell(InteractiveShell):
    """An IPython shell that records outputs instead of printing them; no history file."""

    displayhook_class = _DisplayHook
    display_pub_class = _DisplayPublisher
    outputs: _Outputs = _Outputs()  # replaced per cell
    cell_count: int = 0  # the execution number of the cell being run

    def _showtraceback(self, etype: type, evalue: BaseException, stb: list[str]) -> None:
        self.outputs.add(
            nbformat.v4.new_output("error", ename=etype.__name__, evalue=str(evalue), traceback=list(stb))
        )

    @classmethod
    def get(cls) -> ReportShell:
        if cls.initialized():
            shell = cls.instance()
        else:
            # The shell's `reset` (before and after every notebook) runs a full garbage collection, which
            # walks every object of the imported report stack: 0.1 s each, twice per report. Those objects
            # live as long as the process, so they are moved out of the collector's sight once, before the
            # first notebook (`gc.freeze`); what the notebooks create is collected as before.
            gc.freeze()
            config = Config()
            config.HistoryManager.enabled = False  # no ~/.ipython/…/history.sqlite from a report
            config.InteractiveShell.colors = "nocolor"
            main = sys.modules.get("__main__")
            shell = cls.instance(config=config)
            if main is not None:  # the shell installs its own __main__; the process keeps its own
                sys.modules["__main__"] = main
        if not isinstance(shell, ReportShell):  # pragma: no cover - only inside IPython itself
            raise RuntimeError("another IPython shell runs in this process; use a kernel instead")
        return shell


@contextlib.contextmanager
def _redirected(shell: ReportShell) -> Iterator[None]:
    saved = sys.stdout, sys.stderr, sys.modules.get("__main__")
    sys.stdout, sys.stderr = _Stream(shell, "stdout"), _Stream(shell, "stderr")
    sys.modules["__main__"] = shell.user_module
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved[0], saved[1]
        if saved[2] is not None:
            sys.modules["__main__"] = saved[2]


class InProcessEngine(Engine):
    """papermill engine: every code cell runs in this process's `ReportShell`; stops at the first error
    (papermill then raises `PapermillExecutionError` naming the cell, as with a kernel)."""

    @classmethod
    def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
        with _running:
            shell = ReportShell.get()
            shell.reset(new_session=True)  # an empty namespace, execution numbers from 1
            with _redirected(shell):
                for index, cell in enumerate(nb_man.nb.cells):
                    if cell.cell_type != "code":
                        continue
                    nb_man.cell_start(cell, index)
                    shell.outputs = _Outputs()
                    cell.execution_count = shell.cell_count = shell.execution_count
                    result = shell.run_cell(cell.source, store_history=True)
                    cell.outputs = shell.outputs.items
                    failed = result.error_before_exec is not None or result.error_in_exec is not None
                    if failed:
                        nb_man.cell_exception(cell, index)
                    nb_man.cell_complete(cell, index)
                    if failed:
                        break
            shell.reset(new_session=True)  # the report's frames and connections are not kept alive
            shell.outputs = _Outputs()
        return nb_man.nb


papermill_engines.register(ENGINE_NAME, InProcessEngine)
