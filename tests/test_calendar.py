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
        # New Year 2026 (Government Office letter 12729/VPCP-KGVX, 25/12/2025): Thu 1/1 and Fri 2/1 off,
        # Sat 10/1 worked. Wed 31/12/2025 → Mon 5/1/2026: only Mon 5/1 counts.
        (D(2025, 12, 31), D(2026, 1, 5), 1, "New Year 2026"),
        # Fri 9/1 → Mon 12/1/2026: Sat 10/1 worked, Sun 11/1 off, Mon 12/1: 2.
        (D(2026, 1, 9), D(2026, 1, 12), 2, "working Saturday 10/1/2026"),
        # January 2026: 22 weekdays, minus 1/1 and 2/1, plus Sat 10/1 = 21.
        (D(2025, 12, 31), D(2026, 1, 31), 21, "January 2026"),
        # Tết Bính Ngọ 2026: civil servants off Sat 14/2 – Sun 22/2; Fri 13/2 → Mon 23/2: only 23/2 counts.
        (D(2026, 2, 13), D(2026, 2, 23), 1, "Tết 2026"),
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
    assert con.sql(
        "SELECT is_working_day, kind FROM calendar_day WHERE day = DATE '2025-04-26'"
    ).fetchall() == [(True, "working_weekend")]


def test_shipped_overrides_cite_the_notices_and_mark_what_is_unconfirmed() -> None:
    by_day = {o.day: o for o in calendar.read_overrides()}
    assert by_day[D(2025, 5, 2)].source == by_day[D(2025, 4, 26)].source == "Thông báo 6150/TB-BLĐTBXH"
    assert (
        "12729/VPCP-KGVX" in by_day[D(2026, 1, 2)].source
        and "12729/VPCP-KGVX" in by_day[D(2026, 1, 10)].source
    )
    assert {d for d, o in by_day.items() if o.status == "unconfirmed"} == {
        D(2026, 8, 22),
        D(2026, 8, 31),
        D(2026, 11, 24),
    }
    shown = calendar.days_off_and_swaps(2026)
    status = dict(zip(shown["day"].to_list(), shown["status"].to_list(), strict=True))
    assert status[D(2026, 1, 2)] == status[D(2026, 2, 17)] == "official"
    assert status[D(2026, 11, 24)] == status[D(2026, 8, 31)] == "unconfirmed"


def test_calendar_load_applies_a_users_file_to_an_existing_database(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from egov_metrics.cli import app

    db = tmp_path / "c.duckdb"
    c = create_database(db)
    calendar.materialise(c)
    c.close()
    mine = tmp_path / "tinh.csv"  # a province's own file, outside the package (days invented for the test)
    mine.write_text(
        "day,kind,reason_vi,reason_en,source,status\n"
        "2026-03-04,declared_off,Nghỉ theo quyết định của tỉnh,Provincial day off,QĐ 1/QĐ-UBND (test),official\n"
        "2026-11-24,workday,Không nghỉ,Not a day off,,official\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(app, ["calendar", "load", str(mine), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "2 day(s) changed" in result.output
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        # Tue 3/3 → Thu 5/3/2026: 2 working days, 1 with Wed 4/3 off; 24/11 is a working day again
        assert calendar.working_days_between(con, D(2026, 3, 3), D(2026, 3, 5)) == 1
        assert calendar.working_days_between(con, D(2026, 11, 23), D(2026, 11, 24)) == 1
        # the indexes after the changed days moved: December 2026 is still 23 weekdays, minus nothing
        assert calendar.working_days_between(con, D(2026, 11, 30), D(2026, 12, 31)) == 23
        # a later rebuild keeps the user's days (stored in the database)
    with duckdb.connect(str(db)) as con:
        calendar.materialise(con)
        assert calendar.working_days_between(con, D(2026, 3, 3), D(2026, 3, 5)) == 1
    shown = runner.invoke(app, ["calendar", "show", "2026", "--db", str(db), "--lang", "en"])
    assert shown.exit_code == 0 and "QĐ 1/QĐ-UBND" in shown.output
    bad = tmp_path / "bad.csv"
    bad.write_text("day,kind,reason_vi,reason_en\n2026-03-07,declared_off,x,x\n2026-13-01,declared_off,x,x\n")
    failed = runner.invoke(app, ["calendar", "load", str(bad), "--db", str(db)])
    assert failed.exit_code == 2 and f"{bad}:3: column 'day'" in failed.output


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


def test_problems_name_the_files_own_line_after_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    """An officer's file with a blank line between two notices and a reason typed on two lines: every
    problem names the line the officer sees in an editor (the CSV reader skips blank lines and reads a quoted
    value over several lines, so counting the rows it yields was one or two lines short)."""
    bad = tmp_path / "tinh.csv"
    bad.write_text(
        "day,kind,reason_vi,reason_en,source,status\n"  # line 1
        "# Quyết định của UBND tỉnh\n"  # 2
        "2026-03-02,declared_off,Nghỉ,Day off,QĐ 1,official\n"  # 3
        "\n"  # 4
        "2026-03-09,declared_of,Nghỉ,Day off,QĐ 2,official\n"  # 5: kind misspelt
        '2026-03-10,declared_off,"Nghỉ\ntheo QĐ 3",Day off,QĐ 3,official\n'  # 6-7
        "2026-03-02,workday,Làm,Worked,QĐ 4,official\n",  # 8: listed again
        encoding="utf-8",
    )
    with pytest.raises(CalendarError) as err:
        calendar.read_overrides(bad)
    lines = str(err.value).splitlines()
    assert (
        lines[0]
        == f"{bad}:5: column 'kind': 'declared_of' must be one of declared_off, working_weekend, workday"
    )
    assert lines[1] == f"{bad}:8: 2026-03-02 is listed again (first on line 3)"


def test_a_day_outside_the_calendars_years_is_refused_not_ignored(tmp_path: Path) -> None:
    """2062-01-02 for 2026-01-02 (two digits swapped): the day lies outside the years `calendar_day` holds
    (2015–2035), so the line was accepted and changed nothing, silently."""
    typo = tmp_path / "tinh.csv"
    typo.write_text(
        "day,kind,reason_vi,reason_en,source,status\n2062-01-02,declared_off,Nghỉ,Day off,QĐ 1,official\n",
        encoding="utf-8",
    )
    with pytest.raises(CalendarError) as err:
        calendar.read_overrides(typo)
    assert str(err.value).splitlines()[0] == (
        f"{typo}:2: column 'day': 2062-01-02 is outside the calendar's years 2015–2035, so it would change "
        "nothing (a typo in the year?)"
    )


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
