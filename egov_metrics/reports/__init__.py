"""Reports leaders read: papermill notebooks exported to offline single-file HTML, with an index."""

from __future__ import annotations

from egov_metrics.reports.kinds import REPORT_KINDS, ReportParameterError, get_kind, validate_params
from egov_metrics.reports.render import ReportError, ReportResult, read_manifest, render_report

__all__ = [
    "REPORT_KINDS",
    "ReportError",
    "ReportParameterError",
    "ReportResult",
    "get_kind",
    "read_manifest",
    "render_report",
    "validate_params",
]
