"""Compute once, render many: `compute()` results kept on disk, keyed by the data fingerprint.

A batch of reports asks the engine many identical questions: every progress report and every scorecard of a
month scores all departments and communes year to date, every scorecard scores them month by month, the
Vietnamese and English editions of a page compute the same figures. When the environment variable
`EGOV_COMPUTE_CACHE` names a folder (the scheduler sets it for its kernels), `compute()` stores each answer
there as Parquet and answers the same question again from the file:

    <folder>/<data fingerprint>/<request key>.parquet

- The **data fingerprint** is that of the data the connection reads (`egov_metrics.fingerprint`: every
  table the reports read, the same fingerprint the reports show), computed once per file version (path,
  inode, size, modification time) and process. New data: a new folder, so a cached answer never outlives
  the data it was computed from; older folders are pruned (`KEEP_FOLDERS`).
- The **request key** hashes every argument of the call (indicators, dimensions, levels, grain, dates,
  resolved unit, unit version, comparisons, and the language where the answer names indicators and codes,
  `names=True`; units are named in the caller's language after the answer is read), the package version and the content of the engine,
  the sources and the built-in catalog: a changed definition is a different question. The catalog the call
  uses is keyed by its definitions as well: its own `catalog` (the roadmap assessment, the scoring), or the
  default one, which includes a planner's indicators in `$EGOV_USER_DIR` (an edited file: a new question).
- Concurrent workers: the first to ask computes under an exclusive lock on the key while the others wait,
  then read its file (written to a temporary name and renamed, so a reader never sees half a file).

Without the variable nothing is cached: interactive use and the tests see the engine itself. The scheduler and
`egov-metrics report` set it to `store_for(database, report folder)`: beside the database file, so that runs
on the same data share their answers.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

import duckdb
import polars as pl

from egov_metrics import __version__, fingerprint
from egov_metrics.config import PACKAGE_DIR
from egov_metrics.fingerprint import file_version

__all__ = [
    "ENV_VAR",
    "OUT_FOLDER",
    "cache_root",
    "cached",
    "data_fingerprint",
    "enabled",
    "file_version",
    "request_key",
    "store_for",
]

ENV_VAR = "EGOV_COMPUTE_CACHE"
#: The cache inside a report folder, for a database whose own folder cannot be written (`store_for`).
OUT_FOLDER = ".cache/compute"
#: Fingerprint folders kept besides the current one (a run still reading the previous data keeps its files).
KEEP_FOLDERS = 2
#: What the meaning of a request depends on besides its arguments: the engine, the sources, the catalog.
DEFINITION_FILES = ("engine", "sources.py", "catalog")

_lock = threading.Lock()
_definitions: list[str] = []
_catalogs: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()


def cache_root() -> Path | None:
    """The cache folder named by EGOV_COMPUTE_CACHE, or None (caching off)."""
    value = os.environ.get(ENV_VAR, "").strip()
    return Path(value) if value else None


def store_for(db_path: str | Path, out_dir: str | Path) -> Path:
    """Where reports keep what they compute from a database: beside the database file, in
    `.<file name>.cache/` (e.g. `data/.egov.duckdb.cache/`), so that every run and every report folder on the
    same data shares it (the night's run fills it; a report asked for the next morning reads its answers);
    in the report folder (`<out>/.cache/compute`) when the database's folder cannot be written (a read-only
    copy). Its content is keyed by the data fingerprint, so a changed file never reads an older answer.
    A folder named by EGOV_COMPUTE_CACHE takes precedence (e.g. a benchmark that measures a cold cache)."""
    named = cache_root()
    if named is not None:
        return named.resolve()
    db = Path(db_path).resolve()
    beside = db.parent / f".{db.name}.cache"
    try:
        beside.mkdir(exist_ok=True)
        if os.access(beside, os.W_OK | os.X_OK):
            return beside
    except OSError:
        pass
    return Path(out_dir).resolve() / OUT_FOLDER


@contextlib.contextmanager
def enabled(folder: str | Path) -> Iterator[None]:
    """Cache `compute()` answers in this process under `folder` for the duration of the block, unless
    EGOV_COMPUTE_CACHE already names a folder. A single report run in-process uses it (`render_report`):
    the landing page's figures then reuse the report's own answers (the province's scores, the year's
    status), and the next report into the same folder reuses both."""
    if cache_root() is not None:
        yield
        return
    os.environ[ENV_VAR] = str(folder)
    try:
        yield
    finally:
        os.environ.pop(ENV_VAR, None)


def data_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """The fingerprint of the data behind `con` (`egov_metrics.fingerprint`, the one the reports show);
    None for an in-memory database: not cacheable."""
    if file_version(con) is None:
        return None
    return fingerprint.data_fingerprint(con, cache_root())


def catalog_digest(catalog: object) -> str:
    """A hash of a catalog's definitions (every indicator as validated JSON), once per catalog object: a
    call with its own catalog is cached under what the catalog says, not under its identity."""
    with _lock:
        known = _catalogs.get(catalog)
    if known is not None:
        return known
    digest = hashlib.sha256()
    for indicator in catalog:  # type: ignore[attr-defined]
        digest.update(indicator.model_dump_json().encode())
    value = digest.hexdigest()[:16]
    with _lock:
        _catalogs[catalog] = value
    return value


def files_digest(paths: Iterable[Path], keep: Callable[[Path], bool] | None = None) -> str:
    """A hash of the library's version and every file of `paths` (a folder's files in sorted order), each
    with its name from the folder that holds the path (`__pycache__` left out, and what `keep` refuses)."""
    digest = hashlib.sha256(__version__.encode())
    for path in paths:
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for f in files:
            if f.is_file() and "__pycache__" not in f.parts and (keep is None or keep(f)):
                digest.update(str(f.relative_to(path.parent)).encode())
                digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def _definitions_digest() -> str:
    """A hash of the engine's, the sources' and the built-in catalog's files (once per process)."""
    with _lock:
        if _definitions:
            return _definitions[0]
    value = files_digest(PACKAGE_DIR / name for name in DEFINITION_FILES)
    with _lock:
        _definitions[:] = [value]
    return value


def language_free(arguments: Mapping[str, object]) -> bool:
    """Whether a request's answer is the same in every language once its units are named in the caller's
    (`engine.api` names them after reading a cached answer): the language names units (a split by unit) and,
    with names=True, indicators and coded dimensions; only the latter stays in the request key."""
    return not arguments.get("names")


def request_key(indicators: object, arguments: dict[str, object]) -> str:
    """A stable hash of a compute request (dates and tuples written as text)."""
    shown = {k: v for k, v in arguments.items() if k != "catalog"}
    if language_free(shown):  # one question in every language: the editions of a page share the answer
        shown.pop("lang", None)
    catalog = arguments.get("catalog")
    if catalog is None:  # the default catalog: the built-in one plus the planner's `$EGOV_USER_DIR` files,
        from egov_metrics.catalog import load_catalog  # whose edits are not in the package's files

        catalog = load_catalog()
    own = catalog_digest(catalog)
    text = json.dumps(
        {"indicators": indicators, "arguments": shown, "definitions": _definitions_digest(), "catalog": own},
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
    current = data_fingerprint(con) if root is not None else None
    if root is None or current is None:
        return produce()
    folder = root / current
    target = folder / f"{request_key(indicators, arguments)}.parquet"
    if target.exists():
        return pl.read_parquet(target)
    new_folder = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    if new_folder:
        _prune(root, current)
    lock = target.with_suffix(".lock")
    with _exclusive(lock):
        if target.exists():  # another worker computed it while this one waited
            lock.unlink(missing_ok=True)  # a lock file this waiter made after the producer removed its own
            return pl.read_parquet(target)
        frame = produce()
        # imported here: it imports openpyxl (~0.25 s), which compute() does not need
        from egov_metrics.export import atomic_write

        atomic_write(target, frame.write_parquet, suffix=".tmp")  # never read half-written by a waiter
        lock.unlink(missing_ok=True)  # a later waiter locks a new file, then finds the answer
    return frame
