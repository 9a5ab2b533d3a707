"""One data fingerprint: what the reports, the compute cache and the scheduler know about the data.

Every table the reports read is covered, in one of two ways:

- **Dated tables** (`DATED`: dossiers, feedback, data exchange, e-office, adoption, workforce): each row is
  split into *terms*, each placed on the day its facts became true. A dossier has a receipt term (every
  column not named in `LATER_COLUMNS`, on `received_at`: its attributes, and also a rating, a complaint or a
  payment, which carry no date of their own), a finish term (`finished_at`, the outcome: status, e-result), a return term
  (`returned_at`) and a sync term (`synced_at`). A term is `hash(...)` of its columns; terms are summed per
  day. The data *as a report with horizon H sees it* is the sum of the terms placed on or before H: a
  dossier received in September and finished in October looks the same to September's report before and
  after October's load (its finish term lies after September), while a late correction to September
  (a new, deleted or changed September row or event) changes September's sum and every later one.
- **Every other table** (calendar, units and their crosswalk, procedures, fields, roadmap phases and
  targets, architecture, portal imports, and any table added later) is hashed whole, row by row
  (`hash(t)`), and enters every fingerprint: a calendar fix or a new target re-renders everything.
  Bookkeeping tables (`IGNORED`: ingest runs, quarantine, schema version) are left out: a load that changed
  nothing changes no fingerprint. The rows loads rejected enter every fingerprint once each (the progress
  report counts them): a load that only rejected rows re-renders the reports, its repetition does not. The
  demo's recorded fingerprint (`meta.data_fingerprint`) is included.

`data_fingerprint(con)` is the whole data (horizon: none), shown in every report's footer and naming the
compute cache's folder; `view_fingerprint(con, horizon)` is the data up to a day, recorded with each report
in the manifest so that a scheduled run re-renders exactly the reports whose data changed
(`egov_metrics.schedule`). Both are computed in one pass per database file version (path, inode, size,
modification time, write-ahead log) and process, then answered from memory; given a folder (`store`: the
compute cache's folder, `cache.store_for`) the material is kept there too, so the next process
reading the same file version skips the pass.

Limits (deliberate): a report is assumed to read a row's outcome only through the date that carries it
(the engine places finished dossiers on `finished_at`); columns that change without a date and that belong
to the receipt term (a supplement count, a unit reassignment) change every view from the receipt day on,
which re-renders those months too (safe, not minimal). Hashes are DuckDB's: a DuckDB upgrade that changes
`hash()` changes every fingerprint once (everything is re-rendered once).
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

#: Dated tables: SQL giving (day, h) terms; h is a hash of the columns that became true on that day.
#: Columns of a dated table that belong to a later term (hashed with that term's date). Every other column,
#: including any column added later, is hashed with the row's first term: a change nobody anticipated changes
#: every view from that day on (safe, not minimal).
LATER_COLUMNS: dict[str, tuple[str, ...]] = {
    "dossier": ("finished_at", "returned_at", "status", "e_result", "synced_at", "synced_to_national"),
    "feedback": ("handled_at", "satisfied"),
}
DATED: dict[str, str] = {
    # the receipt term: every column but the later terms' (rating, complaint, payment … included), plus what
    # the receipt already tells of the outcome (withdrawn) and a sync flag without a date
    "dossier": f"""
        SELECT CAST(received_at AS DATE) AS day, hash(t) AS h
        FROM (SELECT * EXCLUDE ({", ".join(LATER_COLUMNS["dossier"])}),
                     status = 'withdrawn' AS _withdrawn,
                     CASE WHEN synced_at IS NULL THEN synced_to_national END AS _synced_undated
              FROM dossier) t
        UNION ALL
        SELECT CAST(finished_at AS DATE), hash(id, 'finished', finished_at,
               CASE WHEN status = 'returned' THEN 'finished' ELSE status END, e_result)
        FROM dossier WHERE finished_at IS NOT NULL
        UNION ALL
        SELECT CAST(returned_at AS DATE), hash(id, 'returned', returned_at)
        FROM dossier WHERE returned_at IS NOT NULL
        UNION ALL
        SELECT CAST(synced_at AS DATE), hash(id, 'synced', synced_at, synced_to_national)
        FROM dossier WHERE synced_at IS NOT NULL""",
    "feedback": f"""
        SELECT CAST(received_at AS DATE), hash(t)
        FROM (SELECT * EXCLUDE ({", ".join(LATER_COLUMNS["feedback"])}) FROM feedback) t
        UNION ALL
        SELECT CAST(handled_at AS DATE), hash(id, 'handled', handled_at, satisfied)
        FROM feedback WHERE handled_at IS NOT NULL""",
    "data_exchange": "SELECT day, hash(t) FROM data_exchange t",
    "e_office": "SELECT month, hash(t) FROM e_office t",
    "adoption": "SELECT month, hash(t) FROM adoption t",
    "workforce": "SELECT make_date(year, 1, 1), hash(t) FROM workforce t",
}
#: Bookkeeping: not data a report shows (the quarantine enters through `_rejected_rows`).
IGNORED = frozenset({"ingest_run", "quarantine", "schema_version", "meta"})


def _rejected_rows(con: duckdb.DuckDBPyConnection) -> str:
    """The rows the loads rejected, each once however often it was loaded (the progress report's data quality
    counts them so): a load that only rejected rows changes what a report shows, one that rejected the same
    rows again does not."""
    from egov_metrics.schema.connection import quarantine_table

    rows = con.sql(
        'SELECT count(*), sum(hash(kind, record, problem, "column")::HUGEINT) FROM '
        f'(SELECT DISTINCT kind, record, problem, "column" FROM {quarantine_table(con)} q)'
    ).fetchall()
    return f"quarantine:{rows[0]}"


@dataclass(frozen=True)
class DataPrint:
    """The fingerprint material of one database file version."""

    whole: str  # the undated tables and the demo's recorded fingerprint
    days: tuple[dt.date, ...]  # days with dated terms, ascending
    sums: tuple[int, ...]  # running sum of the terms up to and including each day
    counts: tuple[int, ...]  # running number of terms

    def view(self, horizon: dt.date | None = None) -> str:
        """The fingerprint of the data a report with this horizon reads (None: all of it)."""
        n = len(self.days) if horizon is None else bisect.bisect_right(self.days, horizon)
        total, count = (self.sums[n - 1], self.counts[n - 1]) if n else (0, 0)
        return hashlib.sha256(f"{self.whole}|{total}|{count}".encode()).hexdigest()[:16]


_lock = threading.Lock()
_prints: dict[tuple[object, ...], DataPrint] = {}


def _database_file(con: duckdb.DuckDBPyConnection) -> Path | None:
    rows = con.sql("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return Path(rows[0][0]) if rows and rows[0][0] else None


def _stat_version(path: Path) -> tuple[object, ...] | None:
    if not path.exists():
        return None
    st = path.stat()
    wal = path.with_name(path.name + ".wal")
    wal_st = wal.stat() if wal.exists() else None
    log = (wal_st.st_size, wal_st.st_mtime_ns) if wal_st else None
    return (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns, log)


#: Database files held open by `one_version`: resolved path -> (the version the held instance reads, holders).
_held: dict[str, tuple[tuple[object, ...], int]] = {}


def file_version(con: duckdb.DuckDBPyConnection) -> tuple[object, ...] | None:
    """The database file behind `con` as (path, inode, size, modification time), and its write-ahead log's
    size and time if one is left: any write or replacement changes it. None for an in-memory database.
    Inside `one_version`, the version of the file the held instance opened, whatever the path holds now."""
    path = _database_file(con)
    if path is None:
        return None
    with _lock:
        held = _held.get(str(path.resolve()))
    return held[0] if held is not None else _stat_version(path)


@contextlib.contextmanager
def one_version(db_path: str | Path) -> Iterator[None]:
    """Keep one read-only connection to `db_path` open for the block: DuckDB gives every other connection to
    the same file in this process the same database instance while one is open, so the block's readers share
    one buffer pool (the file's blocks are read once) and do not open the file again (~16 ms each).

    Such an instance keeps reading the file it opened when a new copy is published under the same path
    (`schema.publish` renames one into place): `file_version` answers the version that instance reads for
    the whole block, so the fingerprints and the compute cache stay keyed by the data actually read. The
    version is taken on both sides of the open; a file replaced in between is opened again."""
    from egov_metrics.schema import connect

    path = Path(db_path)  # opened as given: DuckDB shares an instance between connections to the same name
    key = str(path.resolve())
    for _ in range(5):
        before = _stat_version(path)
        con = connect(path, read_only=True)
        if before is not None and _stat_version(path) == before:
            break
        con.close()
    else:  # replaced five times over while opening: hold nothing, every reader opens the file itself
        yield
        return
    with _lock:
        version, holders = _held.get(key, (before, 0))
        _held[key] = (version, holders + 1)
    try:
        yield
    finally:
        with _lock:
            version, holders = _held[key]
            if holders > 1:
                _held[key] = (version, holders - 1)
            else:
                del _held[key]
        con.close()


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.sql(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND NOT temporary ORDER BY table_name"
    ).fetchall()
    return [r[0] for r in rows]


def compute_print(con: duckdb.DuckDBPyConnection) -> DataPrint:
    """Read the fingerprint material from the database (one pass over each table)."""
    tables = _tables(con)
    undated = [t for t in tables if t not in DATED and t not in IGNORED]
    parts = [
        f"{t}:{con.sql(f'SELECT count(*), sum(hash(t)::HUGEINT) FROM {t} t').fetchall()[0]}" for t in undated
    ]
    if "meta" in tables:
        rows = con.sql("SELECT value FROM meta WHERE key = 'data_fingerprint'").fetchall()
        parts.append(f"meta:{rows[0][0] if rows else ''}")
    if "quarantine" in tables:
        parts.append(_rejected_rows(con))
    dated = [f"SELECT * FROM ({DATED[t]}) AS terms(day, h)" for t in DATED if t in tables]
    days: list[dt.date] = []
    sums: list[int] = []
    counts: list[int] = []
    if dated:
        union = "\nUNION ALL\n".join(dated)
        rows = con.sql(
            f"SELECT day, sum(h::HUGEINT), count(*) FROM ({union}) WHERE day IS NOT NULL GROUP BY day ORDER BY day"
        ).fetchall()
        total = count = 0
        for day, h, n in rows:
            total, count = total + int(h), count + int(n)
            days.append(day)
            sums.append(total)
            counts.append(count)
    whole = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return DataPrint(whole, tuple(days), tuple(sums), tuple(counts))


STORE_FILE = "data-print.json"


def _read_store(store: Path, version: tuple[object, ...]) -> DataPrint | None:
    try:
        kept = json.loads((store / STORE_FILE).read_text(encoding="utf-8"))
        if kept["version"] != json.loads(json.dumps(version)):
            return None
        days = tuple(dt.date.fromisoformat(d) for d in kept["days"])
        return DataPrint(kept["whole"], days, tuple(int(x) for x in kept["sums"]), tuple(kept["counts"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_store(store: Path, version: tuple[object, ...], found: DataPrint) -> None:
    from egov_metrics.export import atomic_write

    data = {
        "version": version,
        "whole": found.whole,
        "days": [d.isoformat() for d in found.days],
        "sums": [str(x) for x in found.sums],  # beyond JSON's safe integers
        "counts": list(found.counts),
    }
    with contextlib.suppress(OSError):  # a folder that cannot be written only costs the next process a pass
        store.mkdir(parents=True, exist_ok=True)
        text = json.dumps(data).encode("utf-8")
        atomic_write(store / STORE_FILE, lambda path: Path(path).write_bytes(text), suffix=".tmp")


def data_print(con: duckdb.DuckDBPyConnection, store: str | Path | None = None) -> DataPrint:
    """`compute_print(con)`, once per database file version and process (always read for in-memory); with
    `store` (a folder) also kept on disk for the next process (`<store>/data-print.json`)."""
    version = file_version(con)
    if version is not None:
        with _lock:
            known = _prints.get(version)
        if known is None and store is not None:
            known = _read_store(Path(store), version)
        if known is not None:
            with _lock:
                _prints[version] = known
            return known
    found = compute_print(con)
    if version is not None:
        with _lock:
            _prints[version] = found
        if store is not None:
            _write_store(Path(store), version, found)
    return found


def data_fingerprint(con: duckdb.DuckDBPyConnection, store: str | Path | None = None) -> str:
    """A short fingerprint of all the data behind `con`."""
    return data_print(con, store).view(None)


def view_fingerprint(
    con: duckdb.DuckDBPyConnection, horizon: dt.date | None, store: str | Path | None = None
) -> str:
    """A short fingerprint of the data up to and including `horizon` (None: all of it)."""
    return data_print(con, store).view(horizon)
