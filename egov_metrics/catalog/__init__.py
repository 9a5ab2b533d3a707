"""The indicator catalog: one YAML document per indicator, validated against a closed schema.

`load_catalog()` returns the validated catalog or raises `CatalogError` listing every problem with its
file and line; `check_catalog()` returns those problems without raising (for `egov-metrics catalog check`).
Besides the schema, each indicator's SQL expressions are bound against its source in an empty in-memory
database, so a misspelt column is reported with the indicator's file and line too, and every literal code an
expression compares a column with (`channel = 'post'`) must be a known code of that column.

A planner's own indicators live outside the package, in `$EGOV_USER_DIR/indicators/*.yaml` (same format); they
are loaded on top of the shipped ones and validated the same way (a shipped id cannot be redefined).
"""

from __future__ import annotations

from egov_metrics.catalog.model import (
    CATALOG_DIR,
    USER_DIR_ENV,
    Catalog,
    CatalogError,
    Indicator,
    Measure,
    check_catalog,
    expression_type,
    load_catalog,
    planner_problems,
    user_catalog_dir,
)

__all__ = [
    "CATALOG_DIR",
    "USER_DIR_ENV",
    "Catalog",
    "CatalogError",
    "Indicator",
    "Measure",
    "check_catalog",
    "expression_type",
    "load_catalog",
    "planner_problems",
    "user_catalog_dir",
]
