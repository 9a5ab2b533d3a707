"""Vietnamese working-day calendar: weekends, statutory holidays (lunar ones included) and declared swaps.

Statutory holidays and the swaps the government announced come from the `holidays` package (Vietnam);
`reference/calendar_overrides.csv` corrects and completes it with the official notices (each line has its
`source` and a `status`: official or unconfirmed). A province's own days off and swaps live in a file of the
user's OUTSIDE the package, with the same columns: `egov-metrics calendar load FILE` checks it, stores it in
the database (`meta` key `calendar_overrides`, so that every later rebuild keeps it) and recomputes
`calendar_day`; `$EGOV_CALENDAR` names such a file for databases created afterwards. A user's line wins over
a shipped line for the same day.

The calendar is materialised in `calendar_day` with a running working-day index, which makes working-day
arithmetic a join (see the `wd_between`/`wd_add` macros in schema.sql); indicators read it at query time, so
recomputing the table is enough for every number to follow.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import holidays
import polars as pl

from egov_metrics.config import CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR, REFERENCE_DIR
from egov_metrics.errors import CalendarError

DEFAULT_OVERRIDES = REFERENCE_DIR / "calendar_overrides.csv"
#: declared_off: a weekday off; working_weekend: a Saturday/Sunday worked; workday: a weekday that is a normal
#: working day although the `holidays` package lists it (to cancel an announcement that did not happen).
OVERRIDE_KINDS = ("declared_off", "working_weekend", "workday")
STATUSES = ("official", "unconfirmed")
#: The `meta` key holding the user's overrides (the CSV text) and the file they came from.
META_KEY = "calendar_overrides"
#: Names the `holidays` package gives to days that no official text makes a day off yet.
UNCONFIRMED_PACKAGE_DAYS = frozenset({"Vietnam Cultural Day"})
STATUTORY_SOURCE = "Bộ luật Lao động 2019, Điều 112"
PACKAGE_SWAP_SOURCE = "thư viện holidays (Việt Nam)"
#: The sources this module writes itself, in English (a cited notice's number is the same in both languages).
SOURCES_EN = {
    STATUTORY_SOURCE: "Labour Code 2019, art. 112",
    PACKAGE_SWAP_SOURCE: "holidays package (Vietnam)",
}


@dataclass(frozen=True)
class Override:
    day: dt.date
    kind: str
    reason_vi: str
    reason_en: str
    source: str
    status: str = "official"


def user_overrides_path() -> Path | None:
    """The file named by `$EGOV_CALENDAR`, if any (a province's own days off and swaps)."""
    value = os.environ.get("EGOV_CALENDAR")
    return Path(value).expanduser().absolute() if value else None


def read_overrides(path: str | Path = DEFAULT_OVERRIDES, text: str | None = None) -> list[Override]:
    """Read a calendar overrides CSV (or its `text`); every bad line is reported at once with its number."""
    path = Path(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CalendarError(
                f"cannot read calendar overrides {path}: {exc.strerror or exc}", "check the path"
            ) from None
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if not line.startswith("#")]
    reader = csv.DictReader([line for _, line in lines])
    required = {"day", "kind", "reason_vi", "reason_en"}
    if reader.fieldnames is None or not required <= set(reader.fieldnames):
        raise CalendarError(
            f"{path}: header must name the columns {sorted(required)} (and optionally 'source')",
            "copy the header of egov_metrics/reference/calendar_overrides.csv "
            "(day,kind,reason_vi,reason_en,source,status)",
        )
    out: list[Override] = []
    problems: list[str] = []
    seen: dict[dt.date, int] = {}
    consumed = reader.line_num  # the lines read so far (the header's)
    for row in reader:
        # the row's first line in the file: the reader skips empty lines without yielding a row, and a
        # quoted value may span lines, so a row is not simply the next line
        first = consumed
        while first < reader.line_num - 1 and not lines[first][1].strip():
            first += 1
        lineno, consumed = lines[first][0], reader.line_num
        if not any((v or "").strip() for v in row.values()):
            continue
        try:
            day = dt.date.fromisoformat((row["day"] or "").strip())
        except ValueError:
            problems.append(f"{path}:{lineno}: column 'day': {row['day']!r} is not a date (use YYYY-MM-DD)")
            continue
        if not CALENDAR_FIRST_YEAR <= day.year <= CALENDAR_LAST_YEAR:
            problems.append(
                f"{path}:{lineno}: column 'day': {day} is outside the calendar's years "
                f"{CALENDAR_FIRST_YEAR}–{CALENDAR_LAST_YEAR}, so it would change nothing (a typo in the year?)"
            )
            continue
        kind = (row["kind"] or "").strip()
        if kind not in OVERRIDE_KINDS:
            problems.append(
                f"{path}:{lineno}: column 'kind': {kind!r} must be one of {', '.join(OVERRIDE_KINDS)}"
            )
            continue
        if kind == "working_weekend" and day.weekday() < 5:
            problems.append(
                f"{path}:{lineno}: {day} is a weekday; 'working_weekend' is for Saturdays/Sundays"
            )
            continue
        if kind == "workday" and day.weekday() >= 5:
            problems.append(f"{path}:{lineno}: {day} is a weekend day; use 'working_weekend' for it")
            continue
        status = (row.get("status") or "official").strip() or "official"
        if status not in STATUSES:
            problems.append(
                f"{path}:{lineno}: column 'status': {status!r} must be one of {', '.join(STATUSES)}"
            )
            continue
        if not (row.get("reason_vi") or "").strip() or not (row.get("reason_en") or "").strip():
            problems.append(f"{path}:{lineno}: reason_vi and reason_en are both needed (Vietnamese, English)")
            continue
        if day in seen:
            problems.append(f"{path}:{lineno}: {day} is listed again (first on line {seen[day]})")
            continue
        seen[day] = lineno
        out.append(
            Override(
                day,
                kind,
                row["reason_vi"].strip(),
                row["reason_en"].strip(),
                (row.get("source") or "").strip(),
                status,
            )
        )
    if problems:
        raise CalendarError("\n".join(problems), "fix the lines above; dates are YYYY-MM-DD")
    return out


def calendar_frame(
    first_year: int = CALENDAR_FIRST_YEAR,
    last_year: int = CALENDAR_LAST_YEAR,
    overrides: list[Override] | None = None,
) -> pl.DataFrame:
    """One row per day with `is_working_day`, `kind`, Vietnamese and English reasons, `wd_index`, and where
    the day comes from (`source`, `status`: official or unconfirmed). `overrides` (default: the shipped ones)
    apply in order, a later line for the same day winning."""
    overrides = read_overrides() if overrides is None else overrides
    years = range(first_year, last_year + 1)
    vi = holidays.country_holidays("VN", years=years, language="vi")
    en = holidays.country_holidays("VN", years=years, language="en_US")
    swapped_workdays = set(getattr(vi, "weekend_workdays", set()))
    by_day = {o.day: o for o in overrides}
    rows: list[tuple[dt.date, bool, str, str | None, str | None, str | None, str | None]] = []
    day = dt.date(first_year, 1, 1)
    end = dt.date(last_year, 12, 31)
    while day <= end:
        if day in by_day:
            o = by_day[day]
            working = o.kind != "declared_off"
            rows.append((day, working, o.kind, o.reason_vi, o.reason_en, o.source, o.status))
        elif day in vi:
            swap = "substituted" in (en.get(day) or "")
            status = (
                "unconfirmed"
                if en.get(day) in UNCONFIRMED_PACKAGE_DAYS or (day.year >= 2026 and swap)
                else "official"
            )
            source = PACKAGE_SWAP_SOURCE if swap else STATUTORY_SOURCE
            rows.append((day, False, "holiday", vi[day], en.get(day), source, status))
        elif day in swapped_workdays:
            status = "unconfirmed" if day.year >= 2026 else "official"
            rows.append(
                (
                    day,
                    True,
                    "working_weekend",
                    "Ngày làm bù",
                    "Working weekend day (swap)",
                    PACKAGE_SWAP_SOURCE,
                    status,
                )
            )
        elif day.weekday() >= 5:
            rows.append((day, False, "weekend", None, None, None, None))
        else:
            rows.append((day, True, "workday", None, None, None, None))
        day += dt.timedelta(days=1)
    frame = pl.DataFrame(
        rows,
        schema=["day", "is_working_day", "kind", "reason_vi", "reason_en", "source", "status"],
        orient="row",
    )
    return frame.with_columns(wd_index=pl.col("is_working_day").cast(pl.Int32).cum_sum())


def stored_user_overrides(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """(file name, CSV text) of the user's overrides stored in the database by `calendar load`, if any."""
    rows = con.sql(
        "SELECT key, value FROM meta WHERE key IN (?, ?)", params=[META_KEY, META_KEY + "_file"]
    ).fetchall()
    found = dict(rows)
    return (found.get(META_KEY + "_file", "stored"), found[META_KEY]) if META_KEY in found else None


def effective_overrides(
    con: duckdb.DuckDBPyConnection | None = None, user_path: str | Path | None = None
) -> list[Override]:
    """The shipped overrides, then the user's: `user_path`, else those stored in the database, else
    `$EGOV_CALENDAR`."""
    overrides = read_overrides(DEFAULT_OVERRIDES)
    if user_path is not None:
        return overrides + read_overrides(user_path)
    stored = stored_user_overrides(con) if con is not None else None
    if stored is not None:
        return overrides + read_overrides(stored[0], stored[1])
    env = user_overrides_path()
    return overrides + (read_overrides(env) if env is not None else [])


def materialise(
    con: duckdb.DuckDBPyConnection,
    overrides_path: str | Path | None = None,
    first_year: int = CALENDAR_FIRST_YEAR,
    last_year: int = CALENDAR_LAST_YEAR,
) -> int:
    """Replace `calendar_day` (the working-day indexes included) with the calendar for the given years: the
    shipped overrides, then the user's (`overrides_path`, else stored in the database, else `$EGOV_CALENDAR`).
    Returns the number of days."""
    frame = calendar_frame(first_year, last_year, effective_overrides(con, overrides_path))
    con.execute("DELETE FROM calendar_day")
    con.execute(
        "INSERT INTO calendar_day SELECT day, is_working_day, kind, reason_vi, reason_en, wd_index FROM frame"
    )
    return frame.height


def load_user_overrides(con: duckdb.DuckDBPyConnection, path: str | Path) -> list[tuple[dt.date, str, str]]:
    """Check the user's overrides file, store it in the database and recompute `calendar_day` (in the
    caller's transaction). Returns the days whose kind changed: (day, old kind, new kind)."""
    path = Path(path)
    text = _read_text(path)
    read_overrides(path, text)  # every problem with its line, before anything is written
    before = dict(con.sql("SELECT day, kind FROM calendar_day").fetchall())
    con.execute("DELETE FROM meta WHERE key IN (?, ?)", [META_KEY, META_KEY + "_file"])
    con.execute("INSERT INTO meta VALUES (?, ?), (?, ?)", [META_KEY, text, META_KEY + "_file", str(path)])
    materialise(con, None)
    after = con.sql("SELECT day, kind FROM calendar_day ORDER BY day").fetchall()
    return [(day, before.get(day, "none"), kind) for day, kind in after if before.get(day) != kind]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CalendarError(
            f"cannot read calendar overrides {path}: {exc.strerror or exc}", "check the path"
        ) from None


def days_off_and_swaps(year: int, overrides: list[Override] | None = None) -> pl.DataFrame:
    """The holidays, declared days off, working weekend days and overridden weekdays of `year`, with their
    reasons, source and status (what `egov-metrics calendar show` prints)."""
    frame = calendar_frame(year, year, overrides)
    return frame.filter(
        pl.col("kind").is_in(["holiday", "declared_off", "working_weekend"]) | pl.col("source").is_not_null()
    ).select("day", "is_working_day", "kind", "reason_vi", "reason_en", "source", "status")


def working_days_between(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> int:
    """Working days in (start, end], computed by the same SQL macro the indicators use."""
    return con.sql("SELECT wd_between(?::DATE, ?::DATE)", params=[start, end]).fetchall()[0][0]


def add_working_days(con: duckdb.DuckDBPyConnection, start: dt.date, n: int) -> dt.date:
    """The date `n` working days after `start`, by the SQL macro `wd_add`."""
    return con.sql("SELECT wd_add(?::DATE, ?)", params=[start, n]).fetchall()[0][0]
