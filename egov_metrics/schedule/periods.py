"""Reporting periods and cadences: which periods a job covers and when each one's report is due."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from egov_metrics.model import FrozenModel
from egov_metrics.schedule.errors import ScheduleError

if TYPE_CHECKING:
    from egov_metrics.schedule.jobs import Job

#: Without `since`, a job covers this many of its most recent due periods.
DEFAULT_LOOKBACK = 3
MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"

#: Cadence name -> months per period. Periods are aligned on the calendar year (quarters start in Jan, Apr…).
FREQUENCIES: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}
#: Months per period -> how a period starting on a date is written (2026-02, 2026-Q1, 2026).
PERIOD_LABELS: dict[int, Callable[[dt.date], str]] = {
    1: lambda d: f"{d:%Y-%m}",
    3: lambda d: f"{d.year}-Q{(d.month - 1) // 3 + 1}",
    12: lambda d: f"{d.year}",
}


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    """One reporting period: `months` long, number `index` counted from year 0 in periods of that length."""

    months: int
    index: int

    @classmethod
    def containing(cls, months: int, day: dt.date) -> Period:
        return cls(months, _month_index(day) // months)

    @property
    def start(self) -> dt.date:
        return _month_start(self.index * self.months)

    @property
    def end(self) -> dt.date:
        return self.shift(1).start - dt.timedelta(days=1)

    def shift(self, n: int) -> Period:
        return Period(self.months, self.index + n)

    @property
    def label(self) -> str:
        return PERIOD_LABELS[self.months](self.start)


Frozen = FrozenModel


class Cadence(Frozen):
    """`every` month/quarter/year; the report for a period is due on `day` of the month after it ends."""

    every: Literal["month", "quarter", "year"]
    day: Annotated[int, Field(ge=1, le=28, description="day of the month (1–28, so every month has it)")]

    @property
    def months(self) -> int:
        return FREQUENCIES[self.every]

    def due_on(self, period: Period) -> dt.date:
        return period.shift(1).start.replace(day=self.day)

    def last_due(self, as_of: dt.date) -> Period:
        """The most recent period whose report is due on or before `as_of`."""
        period = Period.containing(self.months, as_of).shift(-1)
        while self.due_on(period) > as_of:
            period = period.shift(-1)
        return period

    def describe(self) -> str:
        return f"every {self.every}, day {self.day}"


def as_date(value: str | dt.date | None) -> dt.date:
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ScheduleError(
            f"as_of {value!r} is not a date", "write it as YYYY-MM-DD, e.g. 2026-03-05"
        ) from None


def check_since(since: str | None) -> None:
    if since is not None and not re.match(MONTH_RE, since):
        raise ScheduleError(f"since {since!r} is not a month", "write it as YYYY-MM, e.g. 2025-10")


def due_periods(job: Job, as_of: str | dt.date | None = None, since: str | None = None) -> list[Period]:
    """The job's periods due on or before `as_of`, oldest first: from `since` (this argument, else the job's,
    else the last DEFAULT_LOOKBACK periods) to the latest period whose due date has come."""
    as_of = as_date(as_of)
    last = job.cadence.last_due(as_of)
    first_month = since or job.since
    if first_month:
        first = Period.containing(job.cadence.months, dt.date.fromisoformat(first_month + "-01"))
    else:
        first = last.shift(1 - DEFAULT_LOOKBACK)
    return [first.shift(n) for n in range(last.index - first.index + 1)]


def next_due(job: Job, as_of: str | dt.date | None = None) -> dt.date:
    """The next date after `as_of` on which a report of the job becomes due."""
    day = as_date(as_of)
    return job.cadence.due_on(job.cadence.last_due(day).shift(1))
