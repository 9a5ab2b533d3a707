"""egov-metrics: e-government indicators, the 766 index and phased-roadmap reports from DuckDB."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from egov_metrics.schema import connect

try:
    __version__ = version("egov-metrics")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__", "connect"]
