"""Vietnamese working-day calendar: weekends, statutory holidays (lunar ones included) and declared swaps.

Statutory holidays and the swaps the government announced come from the `holidays` package (Vietnam);
`reference/calendar_overrides.csv` (or a file of the user's) adds declared days off and working weekend
days. The calendar is materialised in `calendar_day` with a running working-day index, which makes
working-day arithmetic a join (see the `wd_between`/`wd_add` macros in schema.sql).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import holidays
import polars as pl

from egov_metrics.config import CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR, REFERENCE_DIR
from egov_metrics.errors import CalendarError

DEFAULT_OVERRIDES = REFERENCE_DIR / "calendar_overrides.csv"
OVERRIDE_KINDS = ("declared_off", "working_weekend")


@dataclass(frozen=True)
class Override:
    day: dt.date
    kind: str
    reason_vi: str
    reason_en: str
    source: str


def read_overrides(path: str | Path = DEFAULT_OVERRIDES) -> list[Override]:
    """Read a calendar overrides CSV; every bad line is reported at once with its line number."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CalendarError(f"cannot read calendar overrides {path}: {exc}") from exc
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if not line.startswith("#")]
    reader = csv.DictReader([line for _, line in lines])
    required = {"day", "kind", "reason_vi", "reason_en"}
    if reader.fieldnames is None or not required <= set(reader.fieldnames):
        raise CalendarError(
            f"{path}: header must name the columns {sorted(required)} (and optionally 'source')",
            "copy the header of egov_metrics/reference/calendar_overrides.csv",
        )
    out: list[Override] = []
    problems: list[str] = []
    seen: dict[dt.date, int] = {}
    for (lineno, _), row in zip(lines[1:], reader, strict=False):
        if not any((v or "").strip() for v in row.values()):
            continue
        try:
            day = dt.date.fromisoformat((row["day"] or "").strip())
        except ValueError:
            problems.append(f"{path}:{lineno}: column 'day': {row['day']!r} is not a date (use YYYY-MM-DD)")
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
    """One row per day with `is_working_day`, `kind`, Vietnamese and English reasons and `wd_index`."""
    overrides = read_overrides() if overrides is None else overrides
    years = range(first_year, last_year + 1)
    vi = holidays.country_holidays("VN", years=years, language="vi")
    en = holidays.country_holidays("VN", years=years, language="en_US")
    swapped_workdays = set(getattr(vi, "weekend_workdays", set()))
    by_day = {o.day: o for o in overrides}
    rows = []
    day = dt.date(first_year, 1, 1)
    end = dt.date(last_year, 12, 31)
    while day <= end:
        if day in by_day:
            o = by_day[day]
            rows.append((day, o.kind == "working_weekend", o.kind, o.reason_vi, o.reason_en))
        elif day in vi:
            rows.append((day, False, "holiday", vi[day], en.get(day)))
        elif day in swapped_workdays:
            rows.append((day, True, "working_weekend", "Ngày làm bù", "Working weekend day (swap)"))
        elif day.weekday() >= 5:
            rows.append((day, False, "weekend", None, None))
        else:
            rows.append((day, True, "workday", None, None))
        day += dt.timedelta(days=1)
    frame = pl.DataFrame(
        rows, schema=["day", "is_working_day", "kind", "reason_vi", "reason_en"], orient="row"
    )
    return frame.with_columns(wd_index=pl.col("is_working_day").cast(pl.Int32).cum_sum())


def materialise(
    con: duckdb.DuckDBPyConnection,
    overrides_path: str | Path | None = None,
    first_year: int = CALENDAR_FIRST_YEAR,
    last_year: int = CALENDAR_LAST_YEAR,
) -> int:
    """Replace `calendar_day` with the calendar for the given years; returns the number of days."""
    overrides = read_overrides(overrides_path or DEFAULT_OVERRIDES)
    frame = calendar_frame(first_year, last_year, overrides)
    con.execute("DELETE FROM calendar_day")
    con.execute(
        "INSERT INTO calendar_day SELECT day, is_working_day, kind, reason_vi, reason_en, wd_index FROM frame"
    )
    return frame.height


def working_days_between(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> int:
    """Working days in (start, end], computed by the same SQL macro the indicators use."""
    return con.sql("SELECT wd_between(?::DATE, ?::DATE)", params=[start, end]).fetchall()[0][0]


def add_working_days(con: duckdb.DuckDBPyConnection, start: dt.date, n: int) -> dt.date:
    """The date `n` working days after `start`, by the SQL macro `wd_add`."""
    return con.sql("SELECT wd_add(?::DATE, ?)", params=[start, n]).fetchall()[0][0]
