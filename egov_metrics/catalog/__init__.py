"""The indicator catalog: one YAML document per indicator, validated against a closed schema.

`load_catalog()` returns the validated catalog or raises `CatalogError` listing every problem with its
file and line; `check_catalog()` returns those problems without raising (for `egov-metrics catalog check`).
Besides the schema, each indicator's SQL expressions are bound against its source in an empty in-memory
database, so a misspelt column is reported with the indicator's file and line too.
"""

from __future__ import annotations

from egov_metrics.catalog.model import (
    CATALOG_DIR,
    Catalog,
    CatalogError,
    Indicator,
    Measure,
    check_catalog,
    load_catalog,
)

__all__ = ["CATALOG_DIR", "Catalog", "CatalogError", "Indicator", "Measure", "check_catalog", "load_catalog"]
