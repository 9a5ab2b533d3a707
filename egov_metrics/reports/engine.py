"""Warm kernels: a batch of reports reuses one kernel process per worker instead of starting one per report.

Starting a kernel (~1 s) and importing the report stack in it (duckdb, polars, altair, vl-convert: ~1.5–2 s)
cost more than most reports' queries and charts. `WarmKernel` starts one kernel and runs notebook after
notebook in it through papermill (engine `egov-warm`, registered here), so a batch pays both once per worker.

Isolation between reports: before each notebook the kernel runs a hidden first cell that clears the user
namespace and starts a new history session with its execution counter at 1 (IPython's own
`reset(new_session=True)`), so a notebook sees none of the previous one's
variables and its cells are numbered as in a fresh kernel (error messages name the same cell). Imported
modules stay loaded: that is the point. The hidden cell is removed from the executed notebook before export.
A kernel that died (or a notebook that failed) is replaced by a fresh one for the next report.

A kernel serves one report at a time: a batch uses one `WarmKernel` per worker thread (`KernelPool` hands
them out) and closes them all at its end.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from pathlib import Path
from typing import Any

import nbformat
import papermill
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger

ENGINE_NAME = "egov-warm"
RESET_TAG = "egov-reset"
#: The hidden first cell: an empty namespace and execution numbers as in a fresh kernel, then `after_reset`
#: (a call that leaves no name behind).
RESET_SOURCE = (
    "get_ipython().reset(new_session=True)\n"
    '__import__("egov_metrics.reports.engine", fromlist=["after_reset"]).after_reset()'
)
#: Start vl-convert's engine in the background before a report's queries (`charts.warm_up_in_background`:
#: once per process; in a warm kernel, a line of the hidden cell; a failure there changes nothing). Off:
#: measured on 2 cores (bench/README.md, third round), the start (~0.7 s of CPU) taken beside DuckDB's
#: queries slowed them by more than it saved at the first chart (render 0.2–3.7 s slower in 3 of 3 pairs).
#: `egov-metrics report` starts the engine in a helper process instead (`svgworker`), which does pay off.
WARM_UP_CHARTS = False
#: The warm-up's line in a warm kernel's hidden cell (before the reset, which leaves no name behind).
WARM_UP_SOURCE = """\
try:
    __import__("egov_metrics.charts", fromlist=["charts"]).warm_up_in_background()
except Exception:
    pass
"""


#: Arguments of every report kernel: its own log only says CRITICAL things (a failing cell still fails its
#: report; the kernel's "running over TCP without encryption" and shutdown messages no longer bury failures).
KERNEL_ARGUMENTS: tuple[str, ...] = ("--IPKernelApp.log_level=CRITICAL",)


#: Resets this process has run as a warm kernel (`after_reset`).
_resets = 0


def after_reset() -> None:
    """Run by a warm kernel's hidden cell after its reset. IPython's reset ends with a full garbage collection
    that walks every object of the report stack (~0.1 s each, measured in process: `inprocess.ReportShell`).
    The kernel's first notebook imports that stack; what is still alive after the reset before the second
    lives as long as the kernel (modules, catalogs, compiled statements), so it is moved out of the
    collector's sight then, once (`gc.freeze`). The reset collects before it clears the namespace, so the
    first notebook's own cycles are collected here first, not frozen. What later notebooks create is
    collected as before."""
    global _resets
    _resets += 1
    if _resets == 2:
        gc.collect()
        gc.freeze()


class WarmEngine(NBClientEngine):
    """papermill's nbclient engine, with a kernel manager given by the caller and left running."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = 60,
        execution_timeout: int | None = None,
        km: AsyncKernelManager | None = None,
        **kwargs: Any,
    ) -> Any:
        client = PapermillNotebookClient(
            nb_man,
            km=km,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        try:
            return client.execute()
        finally:
            if client.kc is not None:  # the kernel stays; its client (zmq channels) does not
                client.kc.stop_channels()


papermill_engines.register(ENGINE_NAME, WarmEngine)


def _with_reset_cell(notebook_path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(notebook_path, as_version=4)
    source = (WARM_UP_SOURCE if WARM_UP_CHARTS else "") + RESET_SOURCE
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [RESET_TAG]})
    nb.cells.insert(0, cell)
    return nb


def strip_reset_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The executed notebook without the hidden reset cell."""
    nb.cells = [c for c in nb.cells if RESET_TAG not in c.get("metadata", {}).get("tags", [])]
    return nb


class WarmKernel:
    """One kernel process, started on first use in `cwd` (with `env` added to this process's environment),
    reused for every notebook run through it."""

    def __init__(
        self, cwd: str | Path, env: dict[str, str] | None = None, kernel_name: str = "python3"
    ) -> None:
        self.cwd = str(cwd)
        self.env = env or {}
        self.kernel_name = kernel_name
        self.km: AsyncKernelManager | None = None
        self.started = 0  # kernels started so far (1 unless one died or a report failed)
        self.runs = 0

    def _kernel(self) -> AsyncKernelManager:
        if self.km is not None and run_sync(self.km.is_alive)():
            return self.km
        self.close()
        km = AsyncKernelManager(kernel_name=self.kernel_name)
        # the same quiet kernel as a single report's (no "running over TCP" or shutdown noise in cron logs)
        run_sync(km.start_kernel)(
            cwd=self.cwd, env={**os.environ, **self.env}, extra_arguments=list(KERNEL_ARGUMENTS)
        )
        self.km = km
        self.started += 1
        return km

    def execute(
        self, notebook_path: Path, output_path: Path | None, parameters: dict[str, Any]
    ) -> nbformat.NotebookNode:
        """Execute a notebook with parameters (papermill raises PapermillExecutionError on a failed cell) and
        return it executed. `output_path`: where papermill also writes it (after every cell); None: nowhere,
        the notebook stays in memory (what `render_report` does: it only exports it)."""
        km = self._kernel()
        try:
            executed = papermill.execute_notebook(
                _with_reset_cell(Path(notebook_path)),
                None if output_path is None else str(output_path),
                parameters=parameters,
                engine_name=ENGINE_NAME,
                kernel_name=self.kernel_name,
                progress_bar=False,
                km=km,
            )
        except BaseException:
            self.close()  # a failed notebook may leave the kernel in any state: the next report gets a new one
            raise
        self.runs += 1
        return strip_reset_cell(executed)

    def close(self) -> None:
        if self.km is None:
            return
        km, self.km = self.km, None
        with contextlib.suppress(Exception):
            run_sync(km.shutdown_kernel)(now=True)


class KernelPool:
    """One `WarmKernel` per worker thread of a batch; `close()` shuts them all down at the end."""

    def __init__(self, cwd: str | Path, env: dict[str, str] | None = None) -> None:
        self.cwd = Path(cwd)
        self.env = env or {}
        self._local = threading.local()
        self._lock = threading.Lock()
        self.kernels: list[WarmKernel] = []

    def current(self) -> WarmKernel:
        """The calling thread's kernel (created, not yet started, on the thread's first call)."""
        kernel = getattr(self._local, "kernel", None)
        if kernel is None:
            kernel = WarmKernel(self.cwd, self.env)
            self._local.kernel = kernel
            with self._lock:
                self.kernels.append(kernel)
        return kernel

    def close(self) -> None:
        with self._lock:
            kernels, self.kernels = self.kernels, []
        for kernel in kernels:
            kernel.close()
