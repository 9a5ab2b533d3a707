"""Compute once, render many: `compute()` results kept on disk, keyed by the data fingerprint.

A batch of reports asks the engine many identical questions: every progress report and every scorecard of a
month scores all departments and communes year to date, every scorecard scores them month by month, the
Vietnamese and English editions of a page compute the same figures. When the environment variable
`EGOV_COMPUTE_CACHE` names a folder (the scheduler sets it for its kernels), `compute()` stores each answer
there as Parquet and answers the same question again from the file:

    <folder>/<data fingerprint>/<request key>.parquet

- The **data fingerprint** is that of the database file the connection reads: the demo's recorded
  fingerprint (`meta.data_fingerprint`) plus row counts and the latest ingest run, computed once per file
  version (path, inode, size, modification time) and process. New data, a new file: a new folder, so a
  cached answer never outlives the data it was computed from; older folders are pruned (`KEEP_FOLDERS`).
- The **request key** hashes every argument of the call (indicators, dimensions, levels, grain, dates,
  resolved unit, unit version, comparisons, language), the package version and the content of the engine,
  the sources and the built-in catalog: a changed definition is a different question. A call with a custom
  `catalog` is never cached.
- Concurrent workers: the first to ask computes under an exclusive lock on the key while the others wait,
  then read its file (written to a temporary name and renamed, so a reader never sees half a file).

Without the variable nothing is cached: interactive use and the tests see the engine itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import polars as pl

from egov_metrics import __version__
from egov_metrics.config import PACKAGE_DIR

ENV_VAR = "EGOV_COMPUTE_CACHE"
#: Fingerprint folders kept besides the current one (a run still reading the previous data keeps its files).
KEEP_FOLDERS = 2
#: What the meaning of a request depends on besides its arguments: the engine, the sources, the catalog.
DEFINITION_FILES = ("engine", "sources.py", "catalog")

_lock = threading.Lock()
_fingerprints: dict[tuple[object, ...], str] = {}
_definitions: list[str] = []


def cache_root() -> Path | None:
    """The cache folder named by EGOV_COMPUTE_CACHE, or None (caching off)."""
    value = os.environ.get(ENV_VAR, "").strip()
    return Path(value) if value else None


def _database_file(con: duckdb.DuckDBPyConnection) -> Path | None:
    rows = con.sql("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return Path(rows[0][0]) if rows and rows[0][0] else None


def file_version(con: duckdb.DuckDBPyConnection) -> tuple[object, ...] | None:
    """The database file behind `con` as (path, inode, size, modification time), and its write-ahead log's
    size and time if one is left: any write or replacement changes it. None for an in-memory database."""
    path = _database_file(con)
    if path is None or not path.exists():
        return None
    st = path.stat()
    wal = path.with_name(path.name + ".wal")
    wal_st = wal.stat() if wal.exists() else None
    log = (wal_st.st_size, wal_st.st_mtime_ns) if wal_st else None
    return (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns, log)


def data_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """The fingerprint of the data behind `con` (None for an in-memory database: not cacheable)."""
    version = file_version(con)
    if version is None:
        return None
    with _lock:
        known = _fingerprints.get(version)
    if known is not None:
        return known
    meta = dict(con.sql("SELECT key, value FROM meta").fetchall())
    facts = con.sql(
        "SELECT (SELECT count(*) FROM dossier), (SELECT max(received_at) FROM dossier), "
        "(SELECT max(finished_at) FROM dossier), (SELECT count(*) FROM feedback), "
        "(SELECT coalesce(max(id), 0) FROM ingest_run), (SELECT count(*) FROM org_unit)"
    ).fetchall()[0]
    text = f"{meta.get('data_fingerprint', '')}|{facts}|{version}"
    fingerprint = hashlib.sha256(text.encode()).hexdigest()[:16]
    with _lock:
        _fingerprints[version] = fingerprint
    return fingerprint


def _definitions_digest() -> str:
    """A hash of the engine's, the sources' and the built-in catalog's files (once per process)."""
    with _lock:
        if _definitions:
            return _definitions[0]
    digest = hashlib.sha256(__version__.encode())
    for name in DEFINITION_FILES:
        base = PACKAGE_DIR / name
        files = sorted(base.rglob("*")) if base.is_dir() else [base]
        for f in files:
            if f.is_file() and "__pycache__" not in f.parts:
                digest.update(str(f.relative_to(PACKAGE_DIR)).encode())
                digest.update(f.read_bytes())
    value = digest.hexdigest()[:16]
    with _lock:
        _definitions[:] = [value]
    return value


def request_key(indicators: object, arguments: dict[str, object]) -> str:
    """A stable hash of a compute request (dates and tuples written as text)."""
    shown = {k: v for k, v in arguments.items() if k != "catalog"}
    text = json.dumps(
        {"indicators": indicators, "arguments": shown, "definitions": _definitions_digest()},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _prune(root: Path, current: str) -> None:
    """Drop the oldest fingerprint folders, keeping the current one and KEEP_FOLDERS others."""
    others = [p for p in root.iterdir() if p.is_dir() and p.name != current]
    others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in others[KEEP_FOLDERS:]:
        shutil.rmtree(old, ignore_errors=True)


def cached(
    con: duckdb.DuckDBPyConnection,
    indicators: object,
    arguments: dict[str, object],
    produce: Callable[[], pl.DataFrame],
) -> pl.DataFrame:
    """`produce()`'s frame, from the cache when the same request on the same data was answered before."""
    root = cache_root()
    fingerprint = data_fingerprint(con) if root is not None and arguments.get("catalog") is None else None
    if root is None or fingerprint is None:
        return produce()
    folder = root / fingerprint
    target = folder / f"{request_key(indicators, arguments)}.parquet"
    if target.exists():
        return pl.read_parquet(target)
    new_folder = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    if new_folder:
        _prune(root, fingerprint)
    lock = target.with_suffix(".lock")
    with _exclusive(lock):
        if target.exists():  # another worker computed it while this one waited
            return pl.read_parquet(target)
        frame = produce()
        # imported here: it imports openpyxl (~0.25 s), which compute() does not need
        from egov_metrics.export import atomic_write

        atomic_write(target, frame.write_parquet, suffix=".tmp")  # never read half-written by a waiter
        lock.unlink(missing_ok=True)  # a later waiter locks a new file, then finds the answer
    return frame
