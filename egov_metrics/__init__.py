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

Type checkers and editors read the real imports below (under `TYPE_CHECKING`), so every name has the type of
the function it names. At run time the same names are imported on first use: importing every module at once
pulls in altair, papermill and nbconvert and takes ~8 s, while `import egov_metrics` stays under 0.1 s
(README, "Checked types"). A test checks that both lists name the same objects.

`egov_metrics.compute` is the function: the engine is the package `egov_metrics.engine` (formerly the module
`egov_metrics.compute`, whose name the import system bound over the function once it was imported).
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from egov_metrics.catalog import load_catalog
    from egov_metrics.demo import build_demo
    from egov_metrics.engine import compute, explain
    from egov_metrics.excel import write_excel
    from egov_metrics.explorer import explore
    from egov_metrics.ingest import ingest_file
    from egov_metrics.reports import render_report
    from egov_metrics.roadmap import assess, layer_readiness, load_roadmap
    from egov_metrics.schema import connect
    from egov_metrics.scoring import score, score_units
    from egov_metrics.whatif import what_if

from egov_metrics import importcost

importcost.install()  # jsonschema's optional IRI grammar: ~1 s of every report's imports (importcost.py)

try:
    __version__ = version("egov-metrics")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

#: name -> module that defines it (the same pairs as the imports above); imported on first use.
_EXPORTS: dict[str, str] = {
    "connect": "egov_metrics.schema",
    "build_demo": "egov_metrics.demo",
    "ingest_file": "egov_metrics.ingest",
    "load_catalog": "egov_metrics.catalog",
    "compute": "egov_metrics.engine",
    "explain": "egov_metrics.engine",
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

__all__ = [
    "__version__",
    "assess",
    "build_demo",
    "compute",
    "connect",
    "explain",
    "explore",
    "ingest_file",
    "layer_readiness",
    "load_catalog",
    "load_roadmap",
    "render_report",
    "score",
    "score_units",
    "what_if",
    "write_excel",
]

if not TYPE_CHECKING:  # hidden from type checkers: an unknown name must be an error there, not `Any`

    def __getattr__(name: str) -> object:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module 'egov_metrics' has no attribute {name!r}")
        value = getattr(import_module(module), name)
        globals()[name] = value  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
