"""Working-day calendar on real Vietnamese dates. Expected counts are worked out by hand from the
official holiday announcements (listed next to each case)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egov_metrics import calendar
from egov_metrics.errors import CalendarError
from egov_metrics.schema import create_database

D = dt.date


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory):
    c = create_database(tmp_path_factory.mktemp("cal") / "cal.duckdb")
    calendar.materialise(c)
    yield c
    c.close()


@pytest.mark.parametrize(
    ("start", "end", "expected", "why"),
    [
        # Tết Ất Tỵ 2025: off Mon 27/1 – Fri 31/1 (+ weekends 25–26/1 and 1–2/2): only Mon 3/2 counts.
        (D(2025, 1, 24), D(2025, 2, 3), 1, "Tết 2025"),
        # Tết Giáp Thìn 2024: off Thu 8/2 – Wed 14/2: only Thu 15/2 counts.
        (D(2024, 2, 7), D(2024, 2, 15), 1, "Tết 2024"),
        # 30/4–1/5 2025: Wed 30/4, Thu 1/5 off, Fri 2/5 swapped with Sat 26/4 (worked):
        # 26/4, 28/4, 29/4, 5/5 are working days.
        (D(2025, 4, 25), D(2025, 5, 5), 4, "30/4–1/5 2025 with swap"),
        # 30/4–1/5 2024: Mon 29/4 swapped with Sat 4/5; Tue 30/4 and Wed 1/5 off: 2/5, 3/5, 4/5, 6/5 count.
        (D(2024, 4, 26), D(2024, 5, 6), 4, "30/4–1/5 2024 with swap"),
        # National Day 2025: Mon 1/9 and Tue 2/9 off: only Wed 3/9 counts.
        (D(2025, 8, 29), D(2025, 9, 3), 1, "2/9 2025"),
        # National Day 2024: Mon 2/9 and Tue 3/9 off: only Wed 4/9 counts.
        (D(2024, 8, 30), D(2024, 9, 4), 1, "2/9 2024"),
        # Received Saturday, finished Monday: one working day.
        (D(2025, 3, 1), D(2025, 3, 3), 1, "weekend receipt"),
        (D(2025, 3, 4), D(2025, 3, 4), 0, "same day"),
        # January 2025: 23 weekdays, minus 1/1 and 27–31/1 (6) = 17.
        (D(2024, 12, 31), D(2025, 1, 31), 17, "January 2025"),
        # February 2025: 20 weekdays, no weekday holiday.
        (D(2025, 1, 31), D(2025, 2, 28), 20, "February 2025"),
    ],
)
def test_working_days_between(con, start: dt.date, end: dt.date, expected: int, why: str) -> None:
    assert calendar.working_days_between(con, start, end) == expected, why


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2025, 1, 24), 1, D(2025, 2, 3)),  # over Tết 2025
        (D(2024, 2, 7), 1, D(2024, 2, 15)),  # over Tết 2024
        (D(2025, 4, 25), 1, D(2025, 4, 26)),  # the working Saturday
        (D(2025, 4, 29), 1, D(2025, 5, 5)),  # over 30/4, 1/5 and the swapped 2/5
        (D(2025, 8, 29), 1, D(2025, 9, 3)),  # over 2/9 2025
        (D(2025, 3, 3), 15, D(2025, 3, 24)),  # three plain weeks
        (D(2025, 3, 8), 0, D(2025, 3, 8)),  # zero days: the date itself
    ],
)
def test_add_working_days(con, start: dt.date, n: int, expected: dt.date) -> None:
    assert calendar.add_working_days(con, start, n) == expected


def test_calendar_covers_2015_to_2035_with_reasons(con) -> None:
    first, last, n = con.sql("SELECT min(day), max(day), count(*) FROM calendar_day").fetchall()[0]
    assert (first, last) == (D(2015, 1, 1), D(2035, 12, 31))
    assert n == (D(2035, 12, 31) - D(2015, 1, 1)).days + 1
    row = con.sql("SELECT kind, reason_vi FROM calendar_day WHERE day = DATE '2025-01-29'").fetchall()[0]
    assert row[0] == "holiday" and "Tết" in row[1]
    # the Saturday worked in exchange for 2/5/2025
    assert con.sql("SELECT is_working_day, kind FROM calendar_day WHERE day = DATE '2025-04-26'").fetchall() == [
        (True, "working_weekend")
    ]


def test_user_override_file_adds_a_declared_day_off(tmp_path: Path) -> None:
    overrides = tmp_path / "overrides.csv"
    overrides.write_text(
        "day,kind,reason_vi,reason_en,source\n"
        "# a province-wide day off decided locally (invented for the test)\n"
        "2025-03-05,declared_off,Nghỉ theo quyết định của tỉnh,Provincial day off,QĐ test\n",
        encoding="utf-8",
    )
    c = create_database(tmp_path / "c.duckdb")
    calendar.materialise(c, overrides)
    # Tue 4/3 → Thu 6/3 would be 2 working days; with Wed 5/3 off it is 1.
    assert calendar.working_days_between(c, D(2025, 3, 4), D(2025, 3, 6)) == 1
    c.close()


def test_broken_override_file_lists_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "day,kind,reason_vi,reason_en\n"
        "2025-13-01,declared_off,x,x\n"
        "2025-03-05,holiday_typo,x,x\n"
        "2025-03-05,working_weekend,x,x\n",
        encoding="utf-8",
    )
    with pytest.raises(CalendarError) as err:
        calendar.read_overrides(bad)
    text = str(err.value)
    assert f"{bad}:2: column 'day'" in text
    assert f"{bad}:3: column 'kind'" in text
    assert f"{bad}:4:" in text and "weekday" in text
    assert "Hint:" in text


dates = st.dates(min_value=D(2016, 1, 1), max_value=D(2034, 6, 30))


@settings(max_examples=150, deadline=None)
@given(a=dates, b=dates, c=dates)
def test_working_days_are_additive(con, a: dt.date, b: dt.date, c: dt.date) -> None:
    a, b, c = sorted((a, b, c))
    wd = calendar.working_days_between
    assert wd(con, a, b) + wd(con, b, c) == wd(con, a, c)


@settings(max_examples=150, deadline=None)
@given(d=dates, n=st.integers(min_value=1, max_value=120))
def test_add_then_count_returns_n(con, d: dt.date, n: int) -> None:
    later = calendar.add_working_days(con, d, n)
    assert calendar.working_days_between(con, d, later) == n
    assert con.sql("SELECT is_working_day(?::DATE)", params=[later]).fetchall()[0][0] is True
