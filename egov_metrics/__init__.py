"""egov-metrics: e-government indicators, the 766 index and phased-roadmap reports from DuckDB.

The public API, by verb family:

    connect(path)                          open a database (read-only by default)
    build_demo(path, dossiers=…)           build the synthetic demo province
    ingest_file(db, kind, file)            load an export (CSV/XLSX/Parquet) with quarantine
    load_catalog()                         the validated indicator catalog
    compute(ids, by=…, grain=…)            indicators as a long polars frame; explain(…) for the SQL
    write_excel(frame, "x.xlsx")           a formatted workbook for leaders (layout="wide": periods across)
    what_if(changes, end=…)                766 scores before and after changing counts or rates of units
    explore()                              the indicator explorer (JupyterLab, offline)
    score(counts) / score_units(db)        the 766 index
    load_roadmap() / assess(as_of=…)       the phased roadmap and its targets' status
    render_report(kind, params)            an offline single-file HTML report
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("egov-metrics")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

#: name -> module that defines it; imported on first use so `import egov_metrics` stays fast.
_EXPORTS = {
    "connect": "egov_metrics.schema",
    "build_demo": "egov_metrics.demo",
    "ingest_file": "egov_metrics.ingest",
    "load_catalog": "egov_metrics.catalog",
    "compute": "egov_metrics.compute",
    "explain": "egov_metrics.compute",
    "write_excel": "egov_metrics.excel",
    "what_if": "egov_metrics.whatif",
    "explore": "egov_metrics.explorer",
    "score": "egov_metrics.scoring",
    "score_units": "egov_metrics.scoring",
    "load_roadmap": "egov_metrics.roadmap",
    "assess": "egov_metrics.roadmap",
    "layer_readiness": "egov_metrics.roadmap",
    "render_report": "egov_metrics.reports",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'egov_metrics' has no attribute {name!r}")
    return getattr(import_module(module), name)
