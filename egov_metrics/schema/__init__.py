"""The canonical DuckDB data model of egov-metrics and `connect()`."""

from egov_metrics.schema.connection import SCHEMA_VERSION, TABLES, connect, create_database, table_counts

__all__ = ["SCHEMA_VERSION", "TABLES", "connect", "create_database", "table_counts"]
