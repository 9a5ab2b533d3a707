"""The schedule's errors, and how any error is written on one line of the log and the summary."""

from __future__ import annotations

from pydantic import ValidationError

from egov_metrics.errors import EgovError, ProblemsError


class ScheduleError(EgovError):
    """The jobs file has problems, or a schedule cannot be planned at all."""


class JobsFileError(ScheduleError, ProblemsError):
    """The jobs file has problems; `problems` holds every one with file and line."""

    subject = "the jobs file"
    fix = "fix the lines named above; `egov-metrics schedule check FILE` lists them again"


def one_line(exc: BaseException) -> str:
    if isinstance(exc, EgovError):
        text = exc.message
    elif isinstance(exc, ValidationError):
        text = "; ".join(e["msg"] for e in exc.errors())
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())
