"""What a database holds: tables, row counts, date ranges, schema version, reference checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from egov_metrics.schema import TABLES, connect, table_counts

#: The column that dates each table's rows, for the date range shown by `egov-metrics info`.
DATE_COLUMNS: dict[str, str] = {
    "calendar_day": "day",
    "dossier": "received_at",
    "feedback": "received_at",
    "data_exchange": "day",
    "e_office": "month",
    "adoption": "month",
    "org_unit": "valid_from",
    "ingest_run": "started_at",
}

#: Reference checks: (description, SQL returning the offending keys). DuckDB foreign keys are not declared
#: (they forbid updating referenced rows), so these queries are the referential-integrity check.
REFERENCE_CHECKS: tuple[tuple[str, str], ...] = (
    (
        "dossiers with an unknown unit",
        "SELECT DISTINCT unit_id FROM dossier WHERE unit_id NOT IN (SELECT id FROM org_unit)",
    ),
    (
        "dossiers with an unknown procedure",
        "SELECT DISTINCT procedure_code FROM dossier WHERE procedure_code NOT IN (SELECT code FROM procedure)",
    ),
    (
        "feedback with an unknown unit",
        "SELECT DISTINCT unit_id FROM feedback WHERE unit_id NOT IN (SELECT id FROM org_unit)",
    ),
    (
        "units with an unknown parent",
        "SELECT id FROM org_unit WHERE parent_id IS NOT NULL AND parent_id NOT IN (SELECT id FROM org_unit)",
    ),
    (
        "units with an unknown successor",
        "SELECT id FROM org_unit WHERE successor_id IS NOT NULL AND successor_id NOT IN (SELECT id FROM org_unit)",
    ),
    (
        "procedures with an unknown field",
        "SELECT code FROM procedure WHERE field NOT IN (SELECT code FROM field)",
    ),
    (
        "dossiers outside the calendar",
        "SELECT min(received_at)::VARCHAR FROM dossier WHERE received_at::DATE NOT IN (SELECT day FROM calendar_day) "
        "HAVING count(*) > 0",
    ),
)


@dataclass(frozen=True)
class TableInfo:
    name: str
    rows: int
    first: dt.date | dt.datetime | None
    last: dt.date | dt.datetime | None


@dataclass(frozen=True)
class DatabaseInfo:
    path: Path
    schema_version: int
    tables: list[TableInfo]
    meta: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def describe(path: str | Path, *, check: bool = False) -> DatabaseInfo:
    """Summarise a database (read-only); with `check`, list broken references between tables."""
    path = Path(path)
    with connect(path, read_only=True) as con:
        version = con.sql("SELECT max(version) FROM schema_version").fetchall()[0][0]
        counts = table_counts(con)
        tables = []
        for name in TABLES:
            first = last = None
            column = DATE_COLUMNS.get(name)
            if column and counts[name]:
                first, last = con.sql(f"SELECT min({column}), max({column}) FROM {name}").fetchall()[0]
            tables.append(TableInfo(name, counts[name], first, last))
        meta = dict(con.sql("SELECT key, value FROM meta ORDER BY key").fetchall())
        problems: list[str] = []
        if check:
            for label, sql in REFERENCE_CHECKS:
                rows = con.sql(sql).fetchall()
                if rows:
                    sample = ", ".join(str(r[0]) for r in rows[:5])
                    problems.append(f"{len(rows)} {label}: {sample}{' …' if len(rows) > 5 else ''}")
    return DatabaseInfo(path, version, tables, meta, problems)
