"""Publishing a new state of the database atomically, so that readers never wait for a writer.

DuckDB lets any number of processes read a file, but while one process holds a read-write connection no
other process can open it at all, not even read-only. So no egov-metrics writer ever opens the published
file for writing. Every writer (ingest, `calendar load`, the demo build) goes through `publishing()`:

1. it takes the *writer lock* `<db>.lock` (an advisory `flock` on a file that exists while a writer runs;
   readers never look at it), so that two writers follow one another instead of losing each other's work;
2. it copies the database to a private file next to it (`.<db>.publish-<pid>`) and writes into the copy;
3. on success it checkpoints and closes the copy and `os.replace()`s it over the database: one atomic
   rename. A reader that opened the old file keeps reading the old state (its open file is the old inode);
   a reader that opens the database afterwards sees the new state. On failure, or when the process is
   killed, the copy is thrown away (or removed by the next writer) and the database is untouched.

The price is a copy of the file per write (measured in `bench/publish.py`, figures in bench/README.md) and
free disk space for a second copy while a write runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from egov_metrics.errors import EgovError, SchemaError
from egov_metrics.said import Said
from egov_metrics.schema.connection import connect, create_database

#: How long a writer waits for another writer by default (seconds).
DEFAULT_WRITER_WAIT = 600.0


class PublishError(EgovError):
    """The new state could not be written next to the database (disk full, no permission)."""


class WriterBusyError(EgovError):
    """Another egov-metrics writer is publishing a new state of the same database and did not finish in time."""


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def _holder(lock: Path) -> str:
    """Who holds the writer lock, as the holder wrote it into the lock file."""
    try:
        info = json.loads(lock.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "another egov-metrics process"
    return (
        f"{info.get('what', 'a writer')} (process {info.get('pid', '?')}, started {info.get('since', '?')})"
    )


def _try_lock(lock: Path) -> int | None:
    """A descriptor of `lock` holding its exclusive flock, or None when another process holds it. The file is
    removed by its holder on release, so a lock taken on a file that was meanwhile removed is retried."""
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    try:
        same = os.fstat(fd).st_ino == os.stat(lock).st_ino
    except FileNotFoundError:
        same = False
    if not same:  # the previous holder removed this file after we opened it: take the new one
        os.close(fd)
        return _try_lock(lock)
    return fd


@contextlib.contextmanager
def writer_lock(db: Path, what: str, wait_seconds: float = DEFAULT_WRITER_WAIT) -> Iterator[None]:
    """Hold the writer lock of `db` (waiting up to `wait_seconds` for another writer); readers are not affected.
    The lock file `<db>.lock` exists only while a writer runs."""
    db.parent.mkdir(parents=True, exist_ok=True)
    lock = lock_path(db)
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while (fd := _try_lock(lock)) is None:
        if time.monotonic() >= deadline:
            holder = _holder(lock)
            raise WriterBusyError(
                Said(
                    f"{db} đang được cập nhật bởi {holder}; đã chờ {wait_seconds:g} giây để việc đó xong. Báo "
                    "cáo và notebook không bị ảnh hưởng: chúng vẫn đọc trạng thái đã công bố gần nhất",
                    f"{db} is being updated by {holder}; waited {wait_seconds:g} s for it to finish. "
                    "Reports and notebooks are not affected: they keep reading the last published state",
                ),
                Said(
                    "chạy lại lệnh này khi việc kia đã xong, hoặc truyền --wait SỐ_GIÂY để chờ lâu hơn",
                    "run this again when that one has finished, or pass --wait SECONDS to wait longer",
                ),
            )
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
    try:
        since = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "what": what, "since": since}).encode(), 0)
        yield
    finally:
        lock.unlink(missing_ok=True)  # while still holding it: a waiting writer then retries on a new file
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _draft_path(db: Path) -> Path:
    return db.with_name(f".{db.name}.publish-{os.getpid()}")


def _remove_stale_drafts(db: Path) -> None:
    """Drafts left by writers that were killed (only called while holding the writer lock)."""
    for draft in db.parent.glob(f".{db.name}.publish-*"):
        draft.unlink(missing_ok=True)


def _copy(db: Path, draft: Path) -> None:
    """Copy the database to the draft; a full disk is said plainly (the database is untouched)."""
    need = db.stat().st_size
    free = shutil.disk_usage(db.parent).free
    try:
        if free < need * 1.2:
            raise OSError(28, "No space left on device")
        shutil.copyfile(db, draft)
    except OSError as exc:
        draft.unlink(missing_ok=True)
        raise PublishError(
            f"cannot copy {db} to write the new state next to it ({exc.strerror or exc}); "
            f"{need / 2**20:,.0f} MB are needed, {free / 2**20:,.0f} MB are free on that disk. "
            "Nothing was changed",
            "free disk space next to the database (a load writes a copy of it, then swaps it in), then run this "
            "again",
        ) from None


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _flush_wal(db: Path) -> None:
    """A database left with a write-ahead log (a writer outside egov-metrics crashed): fold it in first, or
    the copy would miss what the log holds."""
    if db.with_name(db.name + ".wal").exists():
        con = connect(db, read_only=False)
        con.execute("CHECKPOINT")
        con.close()


@contextlib.contextmanager
def publishing(
    db: str | Path,
    what: str,
    *,
    create: bool = True,
    wait_seconds: float = DEFAULT_WRITER_WAIT,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to a private copy of `db`, published over `db` atomically when the block ends
    without an exception (thrown away otherwise). `what` names the writer in messages to other writers.

    A database that does not exist is created (with `create`). Readers are never locked out: they read the
    previous state until the new one is published.
    """
    db = Path(db).expanduser().absolute()
    with writer_lock(db, what, wait_seconds):
        _remove_stale_drafts(db)
        draft = _draft_path(db)
        if db.exists():
            _flush_wal(db)
            connect(db, read_only=True).close()  # the schema check, with its clear errors, on the original
            _copy(db, draft)
            con = connect(draft, read_only=False)
        elif create:
            con = create_database(draft)
        else:
            raise SchemaError(
                f"database {db} does not exist",
                "build the demo with `egov-metrics demo` (or `make demo`), or pass --db PATH",
            )
        try:
            yield con
            con.execute("CHECKPOINT")
            con.close()
            with open(draft, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(draft, db)
            _fsync_dir(db.parent)
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.close()
            draft.unlink(missing_ok=True)
            draft.with_name(draft.name + ".wal").unlink(missing_ok=True)
            raise
