"""A deterministic synthetic province shaped like Ninh Thuận, at any size, built in DuckDB SQL.

`build_demo()` fills every canonical table (ingest bookkeeping excepted) from January 2021 to the last full
month: the working-day calendar, the org units with the 2025 reorganisation, a procedure catalogue, dossiers
that grow, dip at Tết, move online, get digitised and follow the mergers, citizen feedback, LGSP/NDXP traffic,
e-office use, workforce and training, adoption, the architecture components and the roadmap targets.

Determinism: every random draw is `hash(stable key, salt, seed)` (macros in `demo_sql/macros.sql`), dossier
counts are allocated with exact integer arithmetic, so the same seed and DuckDB version give the same data
whatever the thread scheduling; `meta.data_fingerprint` proves it.

Safety for readers: the database is built in a temporary file next to the target and moved over it with
`os.replace()` only when complete; a failure leaves the previous file untouched.

The generator's inputs are data: `demo_data/*.csv` (fields, procedure templates, unit profiles, exchange
flows), the org units (`reference/org_units.csv`), the province's roadmap (`roadmap_data/default.yaml`: phases,
layers, components, targets) and the SQL steps in `demo_sql/*.sql`, run in the order of `STEPS`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from egov_metrics import calendar, orgunits
from egov_metrics.config import CALENDAR_LAST_YEAR, PACKAGE_DIR
from egov_metrics.errors import DemoError
from egov_metrics.roadmap import load_roadmap, write_roadmap_tables
from egov_metrics.schema import TABLES, create_database, table_counts
from egov_metrics.schema.publish import writer_lock

DEMO_SQL_DIR = PACKAGE_DIR / "demo_sql"
DEMO_DATA_DIR = PACKAGE_DIR / "demo_data"
DATA_START = dt.date(2021, 1, 1)
#: Memory the build may use; DuckDB spills to a temporary directory beyond it.
MEMORY_LIMIT = "3GB"
#: Dossiers are moved from the staging table into `dossier` in sorted chunks of whole units of about this size.
SORT_CHUNK_ROWS = 2_000_000
MIN_DOSSIERS = 1_000

#: CSV inputs loaded into temporary tables (name → file) before the SQL steps run.
SOURCES: dict[str, Path] = {
    "_src_field": DEMO_DATA_DIR / "fields.csv",
    "_src_proc": DEMO_DATA_DIR / "procedures.csv",
    "_src_profile": DEMO_DATA_DIR / "unit_profiles.csv",
    "_src_exchange": DEMO_DATA_DIR / "exchange_systems.csv",
}

#: How the demo fills the timeliness columns (also written to `meta`).
TIMELINESS_CONVENTION = (
    "due_at = received day + statutory working days, 17:00 (same-day procedures received after 17:00 or on a "
    "day off: next working day); supplement_days = working days paused for the applicant, not included in "
    "due_at; finished_at includes them"
)


@dataclass(frozen=True)
class DemoSettings:
    """What one build makes."""

    dossiers: int
    seed: int
    start: dt.date
    end: dt.date  # exclusive: the first day after the last month
    scratch: Path  # prefix of the build's scratch files (staging database, spill directory)

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)


@dataclass(frozen=True)
class Step:
    """One step of the build: a label for progress lines and what it runs."""

    label: str
    run: Callable[[duckdb.DuckDBPyConnection, DemoSettings], object]


def _sql(name: str) -> Callable[[duckdb.DuckDBPyConnection, DemoSettings], object]:
    def run(con: duckdb.DuckDBPyConnection, settings: DemoSettings) -> None:
        con.execute((DEMO_SQL_DIR / name).read_text(encoding="utf-8"))

    run.__name__ = f"sql_{name}"
    return run


def _setup(con: duckdb.DuckDBPyConnection, settings: DemoSettings) -> None:
    """Variables, helper macros and the CSV inputs as temporary tables."""
    con.execute("SELECT setseed(?)", [(settings.seed % 2000) / 1000 - 1]).fetchall()
    variables = {
        "demo_seed": settings.seed,
        "demo_n": settings.dossiers,
        "demo_start": settings.start,
        "demo_end": settings.end,
        "demo_end_ts": dt.datetime.combine(settings.end, dt.time()),
    }
    for name, value in variables.items():
        con.execute(f"SET VARIABLE {name} = ?", [value])
    con.execute((DEMO_SQL_DIR / "macros.sql").read_text(encoding="utf-8"))
    for table, path in SOURCES.items():
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS "
            "SELECT row_number() OVER () AS tid, * FROM read_csv(?, header = true, comment = '#')",
            [str(path)],
        )


def _calendar(con: duckdb.DuckDBPyConnection, settings: DemoSettings) -> None:
    calendar.materialise(con)


def _org_units(con: duckdb.DuckDBPyConnection, settings: DemoSettings) -> None:
    orgunits.load_reference_units(con)
    orgunits.create_unit_views(con)


def _roadmap(con: duckdb.DuckDBPyConnection, settings: DemoSettings) -> None:
    """Phases, layers, components and targets from the province's roadmap (roadmap_data/default.yaml)."""
    write_roadmap_tables(con, load_roadmap())


def _dossiers(con: duckdb.DuckDBPyConnection, settings: DemoSettings) -> None:
    """Generate the dossiers into a scratch database, then store them sorted by (unit_id, received_at).

    Sorting 10 million wide rows at once needs more memory than the build may use; chunks of whole units,
    taken in unit order, give the same stored order with a bounded sort.
    """
    stage = settings.scratch.with_name(settings.scratch.name + ".stage")
    _remove(stage, stage.with_name(stage.name + ".wal"))
    con.execute("ATTACH ? AS demo_stage", [str(stage)])
    try:
        _sql("dossiers.sql")(con, settings)
        sizes = con.sql("SELECT unit_id, count(*) FROM demo_stage.dossier GROUP BY 1 ORDER BY 1").fetchall()
        for units in _chunks(sizes, SORT_CHUNK_ROWS):
            con.execute(
                "INSERT INTO dossier BY NAME SELECT * FROM demo_stage.dossier WHERE unit_id IN ? "
                "ORDER BY unit_id, received_at, id",
                [units],
            )
    finally:
        con.execute("DETACH DATABASE IF EXISTS demo_stage")
        _remove(stage, stage.with_name(stage.name + ".wal"))


def _chunks(sizes: list[tuple[str, int]], limit: int) -> list[list[str]]:
    """Consecutive groups of units (in the given order) with about `limit` rows each (at least one unit)."""
    chunks: list[list[str]] = [[]]
    rows = 0
    for unit, n in sizes:
        if chunks[-1] and rows + n > limit:
            chunks.append([])
            rows = 0
        chunks[-1].append(unit)
        rows += n
    return [c for c in chunks if c]


#: The build, in order. Each step sees the tables of the steps before it.
STEPS: tuple[Step, ...] = (
    Step("setup", _setup),
    Step("calendar", _calendar),
    Step("org units", _org_units),
    Step("roadmap, architecture and targets", _roadmap),
    Step("procedures", _sql("catalogue.sql")),
    Step("units and routes", _sql("units.sql")),
    Step("volume by unit and day", _sql("volume.sql")),
    Step("dossiers", _dossiers),
    Step("feedback", _sql("feedback.sql")),
    Step("data exchange", _sql("exchange.sql")),
    Step("e-office, workforce, adoption", _sql("resources.sql")),
)


def data_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """A short hash of the content of every canonical table (row order does not matter).

    Equal fingerprints mean equal data (for one DuckDB version: it hashes with DuckDB's `hash()`).
    """
    parts = " UNION ALL ".join(
        f"SELECT '{t}' AS t, count(*) AS n, coalesce(sum(CAST(hash(x) AS HUGEINT)), 0) AS h FROM {t} AS x"
        for t in TABLES
    )
    rows = con.sql(f"SELECT t, n, h FROM ({parts}) ORDER BY t").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


def last_full_month(today: dt.date | None = None) -> dt.date:
    """The first day of the last complete month before `today`."""
    today = today or dt.date.today()
    first = today.replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


def _settings(dossiers: int, seed: int, until: dt.date | None, scratch: Path) -> DemoSettings:
    until = until or last_full_month()
    latest = dt.date(CALENDAR_LAST_YEAR - 1, 12, 1)
    if until.day != 1 or not DATA_START < until <= latest:
        raise DemoError(
            f"until={until} must be the first day of a month between {DATA_START:%Y-%m} (exclusive) and {latest:%Y-%m}",
            "pass e.g. datetime.date(2026, 10, 1), or nothing for the last full month",
        )
    if dossiers < MIN_DOSSIERS:
        raise DemoError(f"dossiers={dossiers:,} is too few", f"ask for at least {MIN_DOSSIERS:,}")
    end = (until + dt.timedelta(days=32)).replace(day=1)
    return DemoSettings(dossiers=dossiers, seed=seed, start=DATA_START, end=end, scratch=scratch)


def _write_meta(con: duckdb.DuckDBPyConnection, settings: DemoSettings) -> None:
    meta = {
        "demo_seed": str(settings.seed),
        "demo_dossiers_requested": str(settings.dossiers),
        "demo_generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "data_source": "demo (synthetic, Ninh Thuận-shaped)",
        "data_from": settings.start.isoformat(),
        "data_to": settings.last_day.isoformat(),
        "timeliness_convention": TIMELINESS_CONVENTION,
        "duckdb_version": duckdb.__version__,
        "data_fingerprint": data_fingerprint(con),
    }
    con.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(meta.items()))


def _remove(*paths: Path) -> None:
    for p in paths:
        p.unlink(missing_ok=True)


def build_demo(
    path: Path,
    *,
    dossiers: int = 2_000_000,
    seed: int = 58,
    until: dt.date | None = None,
    progress: Callable[[str], object] | None = None,
) -> dict[str, int]:
    """Build the demo database at `path` from scratch and return the row count of every table.

    `dossiers`: how many dossiers in all (exactly); `seed`: the same seed gives the same data; `until`: the
    first day of the last month to generate (default: the last full month before today). The database is
    built next to `path` and replaces it only when complete. `progress` receives one line per step.
    """
    path = Path(path)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    settings = _settings(dossiers, seed, until, tmp)
    path.parent.mkdir(parents=True, exist_ok=True)
    wal = tmp.with_name(tmp.name + ".wal")
    spill = tmp.with_name(tmp.name + ".spill")
    _remove(tmp, wal)
    say = progress or (lambda _line: None)
    say(
        f"demo: {settings.dossiers:,} dossiers, seed {settings.seed}, "
        f"{settings.start:%Y-%m} to {settings.last_day:%Y-%m}"
    )
    started = time.perf_counter()
    with writer_lock(path.absolute(), "demo build"):  # one writer at a time; readers keep the old file
        counts = _build(tmp, path, wal, spill, settings, say)
    say(f"demo: done in {time.perf_counter() - started:.1f} s: {path}")
    return counts


def _build(
    tmp: Path, path: Path, wal: Path, spill: Path, settings: DemoSettings, say: Callable[[str], object]
) -> dict[str, int]:
    con = create_database(tmp)
    try:
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.execute("SET enable_progress_bar = false")
        con.execute("SET temp_directory = ?", [str(spill)])
        for step in STEPS:
            t0 = time.perf_counter()
            step.run(con, settings)
            say(f"demo: {step.label} ({time.perf_counter() - t0:.1f} s)")
        _write_meta(con, settings)
        counts = table_counts(con)
        con.execute("CHECKPOINT")
        con.close()
        os.replace(tmp, path)
    except BaseException:
        con.close()
        _remove(tmp, wal)
        raise
    finally:
        if spill.exists():
            for f in spill.iterdir():
                f.unlink(missing_ok=True)
            spill.rmdir()
    return counts
