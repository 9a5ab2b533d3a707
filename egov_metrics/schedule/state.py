"""A run's traces: the lock (one run at a time), the log (one line per event), the state file, and the
temporary files a killed render left behind."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from egov_metrics.schedule.running import RunResult

LOCK_FILE = ".schedule.lock"
LOG_FILE = "schedule.log"
STATE_FILE = "schedule_state.json"
#: Temporary files of `render_report` older than this are leftovers of a killed render and are removed.
STALE_TMP_SECONDS = 3600


def now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def append_log(
    out_dir: Path, status: str, what: str, detail: str, seconds: float | None = None, error: str = ""
) -> None:
    """Append one tab-separated line to schedule.log: time, status, what, detail, seconds, error."""
    secs = f"{seconds:.1f}s" if seconds is not None else ""
    line = "\t".join((now(), status, what, detail, secs, error)).rstrip("\t") + "\n"
    fd = os.open(out_dir / LOG_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))  # one write of one line: lines never interleave
    finally:
        os.close(fd)


class RunLock:
    """An exclusive flock on `<out>/.schedule.lock`, released by the kernel when the process dies."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self, wait: float = 0.0) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "started_at": now()}).encode())
        self._fd = fd
        return True

    def holder(self) -> dict[str, Any]:
        """Who holds the lock, as written by that run: pid and started_at (empty if unknown)."""
        try:
            return json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None


def remove_stale_tmp(out_dir: Path) -> None:
    """Remove `render_report`'s temporary files left behind by a killed render (old ones only)."""
    cutoff = time.time() - STALE_TMP_SECONDS
    for tmp in out_dir.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()


def write_state(out_dir: Path, result: RunResult, started_at: str) -> None:
    from egov_metrics.reports.render import _atomic_write

    path = out_dir / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    assert result.plan is not None
    last = {
        "pid": os.getpid(),
        "as_of": result.plan.as_of.isoformat(),
        "started_at": started_at,
        "finished_at": now(),
        "seconds": result.seconds,
        "workers": result.workers,
        "rendered": len(result.rendered),
        "failed": [
            {"kind": o.instance.kind, "params": o.instance.param_dict, "error": o.error}
            for o in result.failed
        ],
        "job_failures": [
            {"job": f.job, "unit": f.unit, "kind": f.kind, "error": f.error} for f in result.plan.failures
        ],
        "summary": result.failure_lines,
        "alerts": result.alerts,
        "waiting": len(result.plan.by_status("waiting")),
        "data_through": result.plan.data_through.isoformat(),
    }
    state["last_run"] = last
    if result.exit_code == 0:
        state["last_success"] = last["finished_at"]
    _atomic_write(path, json.dumps(state, ensure_ascii=False, indent=2).encode("utf-8"))
