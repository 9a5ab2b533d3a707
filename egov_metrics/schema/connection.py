"""Open egov-metrics databases: schema creation, version check, read-only readers, busy-lock handling."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

from egov_metrics.config import SCHEMA_DIR, default_db_path
from egov_metrics.errors import EgovError, SchemaError
from egov_metrics.said import Said

SCHEMA_VERSION = 1

#: Canonical tables in dependency order (reference data first, facts after, bookkeeping last).
TABLES: tuple[str, ...] = (
    "calendar_day",
    "org_unit",
    "org_unit_crosswalk",
    "field",
    "procedure",
    "unit_procedure",
    "dossier",
    "feedback",
    "data_exchange",
    "e_office",
    "arch_layer",
    "roadmap_phase",
    "arch_component",
    "arch_dependency",
    "target",
    "workforce",
    "adoption",
    "ingest_run",
    "quarantine",
)


class DatabaseBusyError(EgovError):
    """Another program holds a read-write connection to the database file and did not release it in time.

    egov-metrics' own writers never do (they publish a new copy, see `schema.publish`): this is a DuckDB
    shell, a notebook or a script that opened the file with read_only=False."""


def schema_sql() -> str:
    """The DDL of the current schema version: tables and macros, then the views over them."""
    return "\n".join((SCHEMA_DIR / name).read_text(encoding="utf-8") for name in ("schema.sql", "views.sql"))


def _connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection with threads = the cores this process may use, and no progress bar: DuckDB prints one with
    meaningless time estimates into scripts and logs (a per-connection setting; config= refuses it)."""
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=_config())
    except duckdb.ConnectionException as exc:
        if "different configuration" not in str(exc):
            raise
        # the caller holds its own connection to the file (e.g. duckdb.connect(path) in a notebook): DuckDB
        # shares that instance only with a connection of the same settings, so take its settings
        con = duckdb.connect(str(path), read_only=read_only)
    con.execute("SET enable_progress_bar = false")
    return con


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


#: Environment variables that bound a connection's memory (DuckDB spills to the temporary directory beyond it).
MEMORY_ENV = {"memory_limit": "EGOV_MEMORY_LIMIT", "temp_directory": "EGOV_TEMP_DIR"}


#: Units of DuckDB's `current_setting('memory_limit')` text (e.g. '18.7 GiB').
_SIZE_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def memory_share(processes: int) -> dict[str, str]:
    """EGOV_MEMORY_LIMIT for each of `processes` processes that query at once (the scheduler's kernels).

    DuckDB's default limit is 80% of the memory it detects (cgroup limits included), per process: N processes
    would allow themselves 80% each, N × 80% together, and at 100 M dossiers two report kernels could exhaust the
    machine. Each gets its share of that default instead, and spills beyond it. Nothing when the operator set
    EGOV_MEMORY_LIMIT (their value stands, per process) or for one process."""
    if processes <= 1 or os.environ.get(MEMORY_ENV["memory_limit"], "").strip():
        return {}
    with duckdb.connect() as probe:
        number, unit = str(probe.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]).split()
    share = float(number) * _SIZE_UNITS[unit] / processes
    return {MEMORY_ENV["memory_limit"]: f"{int(share // 2**20)}MiB"}


def _config() -> dict[str, str | bool | int | float | list[str]]:
    """Threads (the cores this process may use) and, when set, EGOV_MEMORY_LIMIT / EGOV_TEMP_DIR."""
    config: dict[str, str | bool | int | float | list[str]] = {"threads": _threads()}
    for key, var in MEMORY_ENV.items():
        if os.environ.get(var, "").strip():
            config[key] = os.environ[var].strip()
    return config


def _open(path: Path, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            return _connect(path, read_only)
        except (duckdb.InvalidInputException, duckdb.BinderException, duckdb.ParserException) as exc:
            raise SchemaError(
                f"cannot open {path} with the settings {_config()}: {exc}",
                f"fix {' / '.join(MEMORY_ENV.values())} (e.g. EGOV_MEMORY_LIMIT=8GB, EGOV_TEMP_DIR=/var/tmp/egov)",
            ) from None
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise SchemaError(f"cannot open {path}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise DatabaseBusyError(
                    f"{path} is held open for writing by another program (waited {wait_seconds:g} s). "
                    "egov-metrics ingests never do this (they publish a new copy of the file); it is a "
                    "DuckDB shell, a notebook or a script that opened the file with read_only=False",
                    "close that program's connection (or open the file there with read_only=True), then "
                    "run this again",
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def create_database(path: str | Path) -> duckdb.DuckDBPyConnection:
    """Create a new, empty egov-metrics database at `path` (which must not exist) and return a writer."""
    path = Path(path)
    if path.exists():
        raise SchemaError(f"{path} already exists", "choose another path or delete the file first")
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect(path)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(schema_sql())
        con.execute(
            "INSERT INTO schema_version (version, description) VALUES (?, ?)",
            [SCHEMA_VERSION, "canonical model: units, procedures, dossiers, feedback, exchange, roadmap"],
        )
        con.execute("COMMIT")
    except Exception:
        con.close()
        path.unlink(missing_ok=True)
        raise
    return con


def connect(
    path: str | Path | None = None,
    *,
    read_only: bool = True,
    create: bool = False,
    wait_seconds: float = 30.0,
) -> duckdb.DuckDBPyConnection:
    """Open an egov-metrics database.

    Readers (the default) open read-only, so any number of them can run at once. A writer
    (`read_only=False`) creates the schema when `create=True` and the file does not exist yet.
    While another process writes, the open is retried for up to `wait_seconds`.
    """
    path = Path(path) if path is not None else default_db_path()
    if not path.exists():
        if create and not read_only:
            return create_database(path)
        raise SchemaError(
            Said(f"cơ sở dữ liệu {path} không tồn tại", f"database {path} does not exist"),
            Said(
                "tạo cơ sở dữ liệu mẫu bằng `egov-metrics demo` (hoặc `make demo`), hoặc truyền --db ĐƯỜNG_DẪN",
                "build the demo with `egov-metrics demo` (or `make demo`), or pass --db PATH",
            ),
        )
    con = _open(path, read_only, wait_seconds)
    try:
        found = con.sql("SELECT max(version) FROM schema_version").fetchall()[0][0]
    except duckdb.CatalogException:
        con.close()
        raise SchemaError(
            Said(
                f"{path} không phải cơ sở dữ liệu của egov-metrics (không có bảng schema_version)",
                f"{path} is not an egov-metrics database (no schema_version table)",
            ),
            Said(
                "trỏ --db tới một cơ sở dữ liệu do `egov-metrics demo` hoặc `egov-metrics ingest` tạo ra",
                "point --db at a database made by `egov-metrics demo` or `egov-metrics ingest`",
            ),
        ) from None
    if found != SCHEMA_VERSION:
        con.close()
        raise SchemaError(
            Said(
                f"{path} có phiên bản lược đồ {found}, bản egov-metrics này cần {SCHEMA_VERSION}",
                f"{path} has schema version {found}, this egov-metrics expects {SCHEMA_VERSION}",
            ),
            Said(
                "tạo lại cơ sở dữ liệu bằng phiên bản này (egov-metrics demo) hoặc nâng cấp egov-metrics",
                "rebuild the database with this version (egov-metrics demo) or upgrade egov-metrics",
            ),
        )
    return con


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every canonical table."""
    sql = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM {t}" for t in TABLES)
    return {t: n for t, n in con.sql(sql).fetchall()}


#: Columns of `quarantine` added after its first version (schema version 1): a database made before them
#: gets them at its next ingest; its earlier rows keep NULL there.
REASON_COLUMNS = ("reason_vi", "problem")


def add_reason_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Add `REASON_COLUMNS` to a database made before them (nullable columns: nothing else changes)."""
    for column in REASON_COLUMNS:
        con.execute(f"ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS {column} VARCHAR")


def quarantine_table(con: duckdb.DuckDBPyConnection) -> str:
    """SQL to read `quarantine` FROM, with `REASON_COLUMNS` NULL where the database predates them (a reader
    opens it read-only and cannot add them)."""
    present = {
        r[0]
        for r in con.sql(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'quarantine' "
            "AND database_name = current_database() AND schema_name = 'main'"
        ).fetchall()
    }
    missing = [c for c in REASON_COLUMNS if c not in present]
    if not missing:
        return "quarantine"
    return f"(SELECT *, {', '.join(f'CAST(NULL AS VARCHAR) AS {c}' for c in missing)} FROM quarantine)"
