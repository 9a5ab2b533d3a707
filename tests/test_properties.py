"""Property-based tests (hypothesis) for the ingest parsers and the working-day calendar.

The parsers of `egov_metrics.ingest.parsers` produce SQL; each property evaluates that SQL in DuckDB on a
generated value, exactly as an ingest does, and checks what comes back: formatted dates read back as the same
instant, and arbitrary text never raises, it gives NULL (which the ingest reports with the parser's reason).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import duckdb
import holidays
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from egov_metrics import calendar
from egov_metrics.config import CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR
from egov_metrics.ingest import get_kind, resolve_mapping
from egov_metrics.ingest.kinds import Column
from egov_metrics.ingest.parsers import PARSERS
from egov_metrics.schema import create_database

pytestmark = pytest.mark.slow  # hypothesis runs each property on 120-150 generated examples

DOSSIER = get_kind("dossier")
MAPPING = resolve_mapping(DOSSIER)  # one_stop_vi: dd/mm/yyyy dates, Vietnamese yes/no words and value maps
RULES = {rule.to: rule for _, rule in MAPPING.rules()}
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_CON = duckdb.connect()


def parse(column: Column, text: str | None) -> object:
    """The typed value the ingest gets for one cell (NULL → None); raises if the SQL fails."""
    parser = PARSERS[column.type]
    expr = parser.parse("v", column, MAPPING, RULES.get(column.name))
    return _CON.sql(f"SELECT {expr} FROM (SELECT CAST(? AS VARCHAR) AS v)", params=[text]).fetchall()[0][0]


def reason(column: Column) -> str:
    """The English reason of an unparseable value; its Vietnamese one is checked beside it."""
    said = PARSERS[column.type].reason(column, MAPPING, RULES.get(column.name))
    assert said.vi and said.vi != said.en
    return said.en


COLUMNS = {
    "timestamp": DOSSIER.column("received_at"),
    "date": get_kind("procedure").column("published_on"),
    "int": DOSSIER.column("supplement_count"),
    "double": Column("amount", "double"),
    "bool": DOSSIER.column("e_result"),
    "enum": DOSSIER.column("channel"),
    "tthc_code": DOSSIER.column("procedure_code"),
    "text": DOSSIER.column("id"),
}

# --- dates --------------------------------------------------------------------------------------------------

moments = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2199, 12, 31, 23, 59, 59))


def _unpadded(day: dt.datetime) -> str:
    return f"{day.day}/{day.month}/{day.year}"


@SETTINGS
@given(moment=moments, style=st.sampled_from(["seconds", "minutes", "date", "unpadded", "iso", "iso_date"]))
def test_formatted_dates_read_back_as_the_same_instant(moment: dt.datetime, style: str) -> None:
    moment = moment.replace(microsecond=0)
    text, expected = {
        "seconds": (f"{moment:%d/%m/%Y %H:%M:%S}", moment),
        "minutes": (f"{moment:%d/%m/%Y %H:%M}", moment.replace(second=0)),
        "date": (f"{moment:%d/%m/%Y}", moment.replace(hour=0, minute=0, second=0)),
        "unpadded": (_unpadded(moment), moment.replace(hour=0, minute=0, second=0)),
        "iso": (moment.isoformat(sep=" "), moment),
        "iso_date": (moment.date().isoformat(), moment.replace(hour=0, minute=0, second=0)),
    }[style]
    assert parse(COLUMNS["timestamp"], text) == expected
    assert parse(COLUMNS["date"], text) == expected.date()
    # surrounding spaces are trimmed by the readers; inner text is read exactly
    assert parse(COLUMNS["timestamp"], text + "x") is None


@SETTINGS
@given(day=st.integers(1, 31), month=st.integers(13, 99), year=st.integers(2000, 2099))
def test_a_month_above_12_is_rejected_never_swapped(day: int, month: int, year: int) -> None:
    assert parse(COLUMNS["timestamp"], f"{day:02d}/{month}/{year}") is None
    assert "dd/mm/yyyy" in reason(COLUMNS["timestamp"])


@SETTINGS
@given(day=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_day_first_is_the_declared_reading_of_ambiguous_dates(day: dt.date) -> None:
    assume(day.day <= 12)
    assert parse(COLUMNS["date"], f"{day:%d/%m/%Y}") == day
    assert parse(COLUMNS["date"], f"{day:%m/%d/%Y}") == day.replace(month=day.day, day=day.month)


# --- never raise --------------------------------------------------------------------------------------------

texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789/:-. ,eE+", max_size=25),
    st.sampled_from(["", " ", "'", "''", "\\", "%", "_", "NULL", "nan", "inf", "-0", "1e400", "9" * 40,
                     "31/02/2025", "29/02/2023", "00/00/0000", "10/03/2025 25:61", "'); DROP TABLE x; --"]),
)  # fmt: skip


@SETTINGS
@given(text=texts, type_=st.sampled_from(sorted(COLUMNS)))
def test_parsers_never_raise_on_arbitrary_text(text: str, type_: str) -> None:
    column = COLUMNS[type_]
    value = parse(column, text)  # must not raise
    if value is None:
        assert reason(column)  # the ingest names the reason of every NULL it rejects
    assert parse(column, None) is None


@SETTINGS
@given(n=st.integers(-(10**15), 10**15))
def test_whole_numbers_round_trip(n: int) -> None:
    assert parse(COLUMNS["int"], str(n)) == n
    assert parse(COLUMNS["int"], f"{n}.0") == n
    assert parse(COLUMNS["int"], f"{n}.5") is None


@SETTINGS
@given(x=st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_decimal_numbers_round_trip(x: float) -> None:
    assert parse(COLUMNS["double"], repr(x)) == x


def _variants(word: str) -> st.SearchStrategy[str]:
    """The same word as exports write it: any case, either Unicode form, inner spaces doubled."""
    return st.tuples(
        st.sampled_from(["lower", "upper", "title"]), st.sampled_from(["NFC", "NFD"]), st.booleans()
    ).map(lambda t: unicodedata.normalize(t[1], getattr(word, t[0])()).replace(" ", "  " if t[2] else " "))


@SETTINGS
@given(data=st.data())
def test_yes_no_words_parse_whatever_their_case_and_unicode_form(data: st.DataObject) -> None:
    truth = data.draw(st.booleans())
    word = data.draw(st.sampled_from(MAPPING.true_values if truth else MAPPING.false_values))
    assert parse(COLUMNS["bool"], data.draw(_variants(word))) is truth


@SETTINGS
@given(data=st.data())
def test_enum_value_maps_parse_whatever_their_case_and_unicode_form(data: st.DataObject) -> None:
    column = COLUMNS["enum"]
    pairs = {**MAPPING.values.get("channel", {}), **RULES["channel"].values, **{c: c for c in column.choices}}
    source = data.draw(st.sampled_from(sorted(pairs)))
    assert parse(column, data.draw(_variants(source))) == pairs[source]


@SETTINGS
@given(text=st.text(max_size=20))
def test_enum_gives_a_choice_or_null(text: str) -> None:
    assert parse(COLUMNS["enum"], text) in (None, *COLUMNS["enum"].choices)


# --- working days ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cal(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    con = create_database(Path(tmp_path_factory.mktemp("prop")) / "cal.duckdb")
    calendar.materialise(con)
    yield con
    con.close()


def _working_days_one_by_one(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end], day by day from the `holidays` package and the overrides file."""
    years = range(start.year, end.year + 1)
    vn = holidays.country_holidays("VN", years=years)
    swapped = set(getattr(vn, "weekend_workdays", set()))
    overrides = {o.day: o.kind == "working_weekend" for o in calendar.read_overrides()}
    count, day = 0, start + dt.timedelta(days=1)
    while day <= end:
        if day in overrides:
            working = overrides[day]
        else:
            working = day in swapped or (day not in vn and day.weekday() < 5)
        count += working
        day += dt.timedelta(days=1)
    return count


calendar_days = st.dates(
    min_value=dt.date(CALENDAR_FIRST_YEAR, 1, 1), max_value=dt.date(CALENDAR_LAST_YEAR, 12, 31)
)


@settings(max_examples=120, deadline=None)
@given(a=calendar_days, span=st.integers(0, 800))
def test_wd_between_counts_day_by_day_and_never_exceeds_calendar_days(cal, a: dt.date, span: int) -> None:
    b = min(a + dt.timedelta(days=span), dt.date(CALENDAR_LAST_YEAR, 12, 31))
    counted = calendar.working_days_between(cal, a, b)
    assert 0 <= counted <= (b - a).days
    assert counted == _working_days_one_by_one(a, b)
    assert calendar.working_days_between(cal, b, a) == -counted
