"""The progress report and the landing page ask for their months and the year's target statuses in one engine
call (`reports.common.months_and_status`), and the province report for the units' month and their statuses in
another (`unit_months_and_status`): the answers must be those of the separate questions they replace,
`compute(…)` for the values and `roadmap.assess(targets="year")` / `assess_units` for the statuses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from egov_metrics.engine import api, compute
from egov_metrics.reports.common import (
    latest_period,
    month_bounds,
    months_and_status,
    months_before,
    scores_and_previous,
    unit_months_and_status,
)
from egov_metrics.reports.kinds.progress_report.page import KPI_IDS, PROVINCE_IDS, TREND_IDS
from egov_metrics.roadmap import assess, load_roadmap
from egov_metrics.roadmap.assessment import assess_units
from egov_metrics.schema import connect
from egov_metrics.scoring import score_units

KEY = ["indicator", "period"]


@contextmanager
def engine_statements(monkeypatch: pytest.MonkeyPatch, cache: Path) -> Iterator[list[str]]:
    """The statements the engine runs inside the block, with an empty compute cache (every one runs)."""
    monkeypatch.setenv("EGOV_COMPUTE_CACHE", str(cache))
    statements: list[str] = []
    real_fetch = api._fetch

    def counted(con: object, query: api.Query) -> pl.DataFrame:
        statements.append(query.sql)
        return real_fetch(con, query)  # type: ignore[arg-type]

    monkeypatch.setattr(api, "_fetch", counted)
    try:
        yield statements
    finally:
        monkeypatch.setattr(api, "_fetch", real_fetch)


def _scopes(con: object, every: bool) -> list[str | None]:
    """The province, and every department and commune of today (`every`) or three of them (a unit's scope
    leaves the province-only indicators out)."""
    rows = con.sql(  # type: ignore[attr-defined]
        "SELECT id FROM org_unit WHERE level IN ('department', 'commune') AND valid_to IS NULL ORDER BY id"
    ).fetchall()
    units = [r[0] for r in rows]
    return [None, *(units if every else units[:: max(len(units) // 3, 1)][:3])]


def assert_same_months(months: pl.DataFrame, expected: pl.DataFrame, key: list[str]) -> None:
    """The merged question's rows against the short question's, as `months_and_status` says they relate:
    every row of the short question, with the same figures; its comparisons the same, or, where the short
    question had none (its range began after the month compared with), the longer range's zero row (0, or
    no value); and extra rows only as zero rows (a unit-month with no record inside the longer range)."""
    assert expected.height > 0
    same = months.join(expected.select(key), on=key, how="semi").sort(key)
    old = expected.sort(key)
    assert same.height == old.height
    assert_frame_equal(same.drop(COMPARISONS), old.drop(COMPARISONS))
    for column in COMPARISONS:
        new, was = same[column], old[column]
        agree = (new == was).fill_null(False) | (new.is_null() & was.is_null())
        filled = was.is_null() & (new.is_null() | (new == 0) | column.startswith("change_"))
        assert (agree | filled).all(), column
    extra = months.join(expected.select(key), on=key, how="anti")
    for column in ("numerator", "denominator", "value"):
        assert extra.filter(pl.col(column).is_not_null() & (pl.col(column) != 0)).is_empty(), column


COMPARISONS = ["previous_value", "year_ago_value", "change_previous", "change_year_ago"]
#: Answers asked without comparisons get empty ones, so that `assert_same_months` reads both kinds.
_no_comparisons = [pl.lit(None, dtype=pl.Float64).alias(c) for c in COMPARISONS]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_one_call_gives_the_answers_of_the_two_questions(
    small_demo_db: Path, lang: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with connect(small_demo_db, read_only=True) as con:
        first, last = month_bounds(latest_period(con))
        start = months_before(first, 23)
        for unit in _scopes(con, every=lang == "vi"):
            ids = [*KPI_IDS, *TREND_IDS] + ([*PROVINCE_IDS] if unit is None else [])
            with engine_statements(monkeypatch, tmp_path / f"cache-{unit}") as statements:
                months, status = months_and_status(con, ids, start=start, end=last, unit=unit, lang=lang)
            assert len(statements) == 1, f"{unit}: {len(statements)} engine statements"
            assert set(months["indicator"]) <= set(ids)
            assert months["period_start"].min() >= start  # type: ignore[operator]

            expected = compute(ids, start=start, end=last, unit=unit, lang=lang, db=con)
            assert_same_months(months, expected, KEY)
            # the month the report is about: the same rows, the same figures, comparisons included
            this_month = pl.col("period_start") == first
            assert_frame_equal(months.filter(this_month).sort(KEY), expected.filter(this_month).sort(KEY))

            expected_status = assess(load_roadmap(), as_of=last, unit=unit, db=con, targets="year")
            assert status.height == expected_status.height > 0
            assert_frame_equal(status, expected_status)
            assert status["status"].null_count() == 0


def test_months_before_the_roadmap_do_not_enter_the_status(
    small_demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window that starts before the roadmap's series still judges the targets on the roadmap's own months
    only. Here the roadmap's series starts 6 months before the end (a late first phase): with the window's 24
    months the paces and trends would differ; the status must equal `assess`'s."""
    from egov_metrics.reports import common
    from egov_metrics.roadmap import assessment

    with connect(small_demo_db, read_only=True) as con:
        first, last = month_bounds(latest_period(con))
        late = months_before(first, 5)
        monkeypatch.setattr(assessment, "series_start", lambda roadmap: late)
        monkeypatch.setattr(common, "series_start", lambda roadmap: late)
        months, status = months_and_status(
            con, ["dossiers_received"], start=months_before(first, 23), end=last, lang="vi"
        )
        assert months.height == 24
        expected = assess(load_roadmap(), as_of=last, db=con, targets="year")
        assert_frame_equal(status, expected)


def test_unit_months_and_status_give_the_answers_of_the_two_questions(
    small_demo_db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    levels = ("department", "commune")
    with connect(small_demo_db, read_only=True) as con:
        first, last = month_bounds(latest_period(con))
        with engine_statements(monkeypatch, tmp_path / "cache") as statements:
            month, status = unit_months_and_status(
                con, list(KPI_IDS), period_start=first, end=last, lang="en"
            )
        assert len(statements) == 1

        key = ["indicator", "unit_id", "period"]
        expected = compute(
            list(KPI_IDS), by=["unit"], level=levels, start=first, end=last, compare=False, lang="en", db=con
        )
        assert set(month["period"]) == {first.strftime("%Y-%m")}
        assert_same_months(month.with_columns(_no_comparisons), expected.with_columns(_no_comparisons), key)

        expected_status = assess_units(as_of=last, levels=levels, db=con, lang="en")
        assert status.height == expected_status.height > 0
        assert_frame_equal(status, expected_status)


def test_scores_and_previous_give_the_two_months_scores(
    small_demo_db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """One engine call for this month's and last month's 766 scores (year to date): the same frames as two
    `score_units` calls (one method serves both months in the demo's years)."""
    with connect(small_demo_db, read_only=True) as con:
        period = latest_period(con)
        previous = f"{months_before(month_bounds(period)[0], 1):%Y-%m}"
        with engine_statements(monkeypatch, tmp_path / "cache") as statements:
            now, before = scores_and_previous(con, period)
        assert len(statements) == 1
        assert now is not None and before is not None
        for got, month in ((now, period), (before, previous)):
            expected = score_units(con, end=month, grain="ytd", levels=("department", "commune"))
            assert got.totals.height == expected.totals.height > 0
            assert set(got.totals["period"]) == set(expected.totals["period"])
            for frame in ("groups", "totals"):
                assert_frame_equal(getattr(got, frame), getattr(expected, frame), check_row_order=False)
            # an indicator with no record in a unit's year to date: the month-only question marks it missing
            # (no row), the two-month one counts 0 of 0 where the other month has records; both score it as
            # a zero denominator, so the points above agree
            same = pl.col("numerator", "denominator").fill_null(0)
            assert_frame_equal(
                got.indicators.with_columns(same).drop("missing"),
                expected.indicators.with_columns(same).drop("missing"),
                check_row_order=False,
            )
            assert got.method == expected.method


def test_an_english_progress_report_names_the_units_in_english(small_demo_db: Path) -> None:
    """The scores, the units' statuses and the backlog came named in Vietnamese ("Sở Tư pháp") on English
    pages, whose roadmap report names them in English: every unit name of the English page is the unit's
    `name_en`, and the Vietnamese page keeps `name_vi`."""
    import re

    from egov_metrics.reports.kinds.progress_report.page import ProgressReport

    with connect(small_demo_db, read_only=True) as con:
        english = dict(con.sql("SELECT id, name_en FROM org_unit").fetchall())
        vietnamese = dict(con.sql("SELECT id, name_vi FROM org_unit").fetchall())
    for lang, names in (("en", english), ("vi", vietnamese)):
        page = ProgressReport(small_demo_db, "2026-03", None, lang)
        assert page.scores is not None and page.unit_status is not None
        frames = [page.scores.totals, page.scores.indicators, page.unit_status, page.backlog_units]
        for frame in frames:
            shown = dict(zip(frame["unit_id"], frame["unit_name"], strict=True))
            assert shown and all(shown[u] == names[u] for u in shown), lang
        if lang == "en":
            text = re.sub(
                r"<[^>]+>", " ", page.league().text + page.unit_targets().text + page.backlog().text
            )
            assert not re.search(r"\b(Sở|Phường|Ban Dân tộc)\b", text)
