"""The `egov-metrics` command: thin wrappers over the library modules, one module per command group.

The commands register themselves on `app` (`egov_metrics/cli/app.py`) when their module is imported; the
modules are imported in the order of `GROUPS`. A new command group is a new module here and one name in
`GROUPS`.
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
import threading
from typing import NoReturn

from egov_metrics.cli.app import app, cli_lang, error_lines
from egov_metrics.errors import EgovError
from egov_metrics.said import Said

#: The command groups, in the order `egov-metrics --help` lists their commands.
GROUPS = ("data", "catalog", "roadmap", "reports", "score", "schedule", "portal", "plan", "calendar")
for _group in GROUPS:
    importlib.import_module(f"egov_metrics.cli.{_group}")


def main() -> NoReturn:
    """The `egov-metrics` command: run `app`, then leave without tearing the interpreter down.

    Python's own exit frees every object of the report stack (pandas, polars, altair, IPython, DuckDB,
    vl-convert): 0.3–0.6 s after the work is done, on every command (measured: bench/README.md). The exit
    here keeps what matters of a normal one, in its order: non-daemon threads are waited for, the
    atexit handlers run (log handlers, temporary folders, `weakref.finalize`), stdout and stderr are
    flushed, and the exit status is the command's. Objects' own destructors do not run: the library closes
    every database connection and writes every file atomically before returning, so nothing depends on
    them. An uncaught exception leaves the normal way, with its traceback."""
    try:
        app()
    except SystemExit as done:
        code = done.code
        if _after_ctrl_c(done):  # the command line library's own exit on Ctrl-C (130), without a word
            code = _interrupted()
    except KeyboardInterrupt:
        code = _interrupted()
    except (
        OSError
    ) as exc:  # a file or folder the command cannot read or write: the path and why, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        reason = f"{where}{exc.strerror or exc}"  # the system's own words
        label, text = error_lines(EgovError(Said(reason, reason), OS_HINT))
        print(f"{label}: {text}", file=sys.stderr)
        code = 2
    except Exception as exc:
        # DuckDB turns Ctrl-C during a query into its own error ("Query interrupted")
        if type(exc).__name__ != "InterruptException" and "query interrupted" not in str(exc).lower():
            raise
        code = _interrupted()
    else:
        code = 0
    _exit_now(code)


#: What to check when the command cannot read or write a path (the reason itself is the system's, in English).
OS_HINT = Said(
    "kiểm tra rằng thư mục tồn tại, đúng là thư mục và người dùng này ghi được vào đó (và tên đó không bị một "
    "tệp chiếm), hoặc chọn đường dẫn khác",
    "check that the folder exists, is a folder and is writable by this user (and that the name is not taken "
    "by a file), or give another path",
)
INTERRUPTED = Said(
    "đã dừng: không để lại gì ghi dở (một lần nạp hay một báo cáo được ghi trọn vẹn hoặc không ghi gì)",
    "interrupted: nothing half-written is left (a load or a report is written whole or not at all)",
)


def _after_ctrl_c(exc: BaseException) -> bool:
    """Whether `exc` was raised while handling a KeyboardInterrupt (its chain of causes and contexts)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _interrupted() -> int:
    """Ctrl-C: one line; a load or a report is written whole or not at all, so nothing is left half-written."""
    print(INTERRUPTED(cli_lang()), file=sys.stderr)
    return 130


def _exit_now(code: object) -> NoReturn:
    """Exit with `code` as `sys.exit` would read it (None: 0, int: itself, anything else: printed, 1)."""
    status = 0 if code is None else code if isinstance(code, int) else 1
    if not isinstance(code, int | None):
        print(code, file=sys.stderr)
    # what Python's own exit does first: the threads' exit hooks (executors shut down), then other non-daemon
    # threads are waited for; then the atexit handlers
    getattr(threading, "_shutdown", lambda: None)()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`) or stream: Python's own exit gives 120
            status = status or 120
    os._exit(status)


__all__ = ["GROUPS", "app", "main"]
