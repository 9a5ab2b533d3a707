"""Report kinds as plug-ins: one folder per kind, registered once, here.

Each sub-package of this folder is a kind; its `__init__.py` defines `KIND` (a `ReportKind`: notebook name,
parameter model, titles, `resolve` — database checks and defaults — and `schedule_time` — the parameters of
a schedule period), and its `page.py` the page the notebook (top-level `notebooks/<notebook>`) displays.
Folders are discovered in name order (the order of the index page). A kind kept outside the package is
added with `register(KIND)`. Recipe: docs/extending.md, "Add a report kind".
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from egov_metrics.errors import EgovError, UnknownNameError
from egov_metrics.reports.kinds.base import (
    PERIOD_RE,
    Params,
    ReportError,
    ReportKind,
    ReportParameterError,
    SchedulePeriod,
    validate_params,
)

REPORT_KINDS: dict[str, ReportKind[Any]] = {}


def register(kind: ReportKind[Any]) -> ReportKind[Any]:
    """Make `kind` known to rendering, the schedule, the manifest and the index page."""
    if kind.name in REPORT_KINDS and REPORT_KINDS[kind.name] is not kind:
        raise EgovError(
            f"report kind {kind.name!r} is registered twice", "give the new kind a name of its own"
        )
    REPORT_KINDS[kind.name] = kind
    return kind


def _discover() -> None:
    for found in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not found.ispkg:
            continue
        module = importlib.import_module(f"{__name__}.{found.name}")
        kind = getattr(module, "KIND", None)
        if not isinstance(kind, ReportKind):
            raise EgovError(
                f"{module.__file__}: a report kind folder defines KIND = ReportKind(...)",
                "see docs/extending.md, 'Add a report kind'",
            )
        if kind.name != found.name:
            raise EgovError(
                f"{module.__file__}: report kind {kind.name!r} lives in folder {found.name!r}",
                f"name the folder {kind.name!r} or the kind {found.name!r}",
            )
        register(kind)


_discover()


def get_kind(name: str) -> ReportKind[Any]:
    try:
        return REPORT_KINDS[name]
    except KeyError:
        raise UnknownNameError.from_choices("report kind", name, REPORT_KINDS) from None


__all__ = [
    "PERIOD_RE",
    "REPORT_KINDS",
    "Params",
    "ReportError",
    "ReportKind",
    "ReportParameterError",
    "SchedulePeriod",
    "get_kind",
    "register",
    "validate_params",
]
