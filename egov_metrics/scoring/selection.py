"""Which method scores a period: the method files' validity (`valid_from`, `valid_to`) decides, no default name.

A method is valid on the days [valid_from, valid_to) (no `valid_to`: open-ended). A method named in another's
`replaces` is superseded: it stays loadable by name (`--method portal_2026`) but is never selected by date.
`method_for(day or period)` gives the method valid on the day (for a period, its last day); when several are,
the one with the latest `valid_from`. A day before every method is scored with the earliest one and a day after
every method's end with the last one that ended (applied retroactively: trends mark such periods, see
`method_trend`). Adding a method version is adding its YAML file with a later `valid_from`.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime
from pathlib import Path

from egov_metrics.scoring.errors import ScoringError
from egov_metrics.scoring.loading import load_method, method_files
from egov_metrics.scoring.method import MethodGroup, ScoringMethod

__all__ = [
    "current_methods",
    "indicator_groups",
    "latest_method",
    "method_for",
    "method_groups",
    "period_end",
]

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_HALF = re.compile(r"^(\d{4})-H([12])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def period_end(period: date | str) -> date:
    """The last day of a period: a date, or a label `2026`, `2026-H1`, `2026-Q3`, `2026-09`, `2026-09-30`, or a
    range `2026-01..2026-06` (its end)."""
    if isinstance(period, datetime):
        return period.date()
    if isinstance(period, date):
        return period
    text = str(period).strip().rpartition("..")[2].strip()
    if match := _YEAR.match(text):
        return date(int(match[1]), 12, 31)
    if match := _HALF.match(text):
        return _month_end(int(match[1]), 6 * int(match[2]))
    if match := _QUARTER.match(text):
        return _month_end(int(match[1]), 3 * int(match[2]))
    if (match := _MONTH.match(text)) and 1 <= int(match[2]) <= 12:
        return _month_end(int(match[1]), int(match[2]))
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ScoringError(
            f"cannot tell which day the period {period!r} ends, so not which scoring method is valid for it",
            "write the period as YYYY, YYYY-Qn, YYYY-MM or YYYY-MM-DD, or name the method (--method NAME)",
        ) from None


def current_methods() -> tuple[ScoringMethod, ...]:
    """The methods selectable by date (every method file not named in another's `replaces`), by valid_from."""
    methods = [load_method(path) for path in method_files().values()]
    replaced = {name for m in methods for name in m.replaces}
    return tuple(sorted((m for m in methods if m.id not in replaced), key=lambda m: (m.valid_from, m.id)))


def method_for(when: date | str) -> ScoringMethod:
    """The method valid for a day, or for a period (its last day; see `period_end`)."""
    day = period_end(when)
    methods = current_methods()
    if not methods:
        raise ScoringError(
            "no scoring method can be selected: every method file is replaced by another",
            "check the `replaces` lists of the files in egov_metrics/methods/",
        )
    valid = [m for m in methods if m.valid_on(day)]
    if valid:
        latest = max(m.valid_from for m in valid)
        chosen = [m for m in valid if m.valid_from == latest]
        if len(chosen) > 1:
            names = ", ".join(sorted(m.id for m in chosen))
            raise ScoringError(
                f"several scoring methods are valid from {latest} on {day}: {names}",
                "give the newer one a later valid_from, or name the older one in the newer one's `replaces`",
            )
        return chosen[0]
    if day < methods[0].valid_from:
        return methods[0]  # before every method: the earliest, applied retroactively
    ended = [m for m in methods if m.valid_to is not None and m.valid_to <= day]
    return max(ended, key=lambda m: m.valid_to or m.valid_from)


def latest_method() -> ScoringMethod:
    """The selectable method with the latest valid_from (the newest version): the one whose groups and names
    describe the 766 index where no period is at hand."""
    methods = current_methods()
    if not methods:
        return method_for(date.max)  # raises the error above
    return methods[-1]


def method_groups(method: ScoringMethod | str | Path | None = None) -> tuple[MethodGroup, ...]:
    """The 766 groups of a method (default: `latest_method()`), in the method's order, each with its id,
    name_vi, name_en and max_points: the one source of the groups and their labels."""
    return _method(method).groups


def indicator_groups(method: ScoringMethod | str | Path | None = None) -> dict[str, str]:
    """indicator id → 766 group id, for the indicators a method scores (default: `latest_method()`)."""
    return {i.id: i.group for i in _method(method).indicators}


def _method(method: ScoringMethod | str | Path | None) -> ScoringMethod:
    if method is None:
        return latest_method()
    return method if isinstance(method, ScoringMethod) else load_method(method)
