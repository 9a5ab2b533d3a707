"""Numbers written in Vietnamese and English (egov_metrics/i18n.py): the separators of each language, and
no sign on a value that rounds to zero ("-0,0 ngày LV/năm" was printed for a pace of -0.04)."""

from __future__ import annotations

import pytest

from egov_metrics.i18n import fmt_number, fmt_period, fmt_points, fmt_value, with_sign


@pytest.mark.parametrize(
    ("value", "decimals", "vi", "en"),
    [
        (1234.5, 1, "1.234,5", "1,234.5"),
        (-1234.5, 1, "-1.234,5", "-1,234.5"),
        (-0.04, 1, "0,0", "0.0"),  # rounds to zero: no sign
        (-0.06, 1, "-0,1", "-0.1"),
        (-0.4, 0, "0", "0"),
        (-1000, 0, "-1.000", "-1,000"),
        (-0.0, 2, "0,00", "0.00"),
        (None, 1, "–", "–"),
    ],
)
def test_numbers_in_each_language(value: float | None, decimals: int, vi: str, en: str) -> None:
    assert fmt_number(value, decimals, "vi") == vi
    assert fmt_number(value, decimals, "en") == en


def test_a_change_that_rounds_to_zero_has_no_sign() -> None:
    assert fmt_points(-0.01, 1, "vi") == "0,0 điểm %"
    assert fmt_points(0.26, 1, "en") == "+0.3 pp"


@pytest.mark.parametrize(
    ("period", "vi", "en"),
    [
        ("2026-03", "tháng 03/2026", "March 2026"),
        ("2026-Q1", "quý 1/2026", "Q1 2026"),
        ("2026", "năm 2026", "2026"),
        # the engine's year-to-date label was printed as it is ("2026-11 YTD") on Vietnamese sheets
        ("2026-11 YTD", "lũy kế đến tháng 11/2026", "year to date, November 2026"),
    ],
)
def test_periods_in_each_language(period: str, vi: str, en: str) -> None:
    assert fmt_period(period, "vi") == vi
    assert fmt_period(period, "en") == en


@pytest.mark.parametrize(
    ("value", "decimals", "vi", "en"),
    [
        (
            0.04,
            1,
            "0,0 điểm %",
            "0.0 pp",
        ),  # printed "+0,0 điểm %" on one card beside "0,0 ngày LV" on another
        (0.05001, 1, "+0,1 điểm %", "+0.1 pp"),
        (-0.04, 1, "0,0 điểm %", "0.0 pp"),
        (2.0, 0, "+2 điểm %", "+2 pp"),
    ],
)
def test_a_rise_that_rounds_to_zero_has_no_plus_sign(value: float, decimals: int, vi: str, en: str) -> None:
    assert fmt_points(value, decimals, "vi") == vi
    assert fmt_points(value, decimals, "en") == en
    assert with_sign(0.004, fmt_value(0.004, "working_days", 1, "vi")) == "0,0 ngày LV"
    assert with_sign(1.26, fmt_value(1.26, "working_days", 1, "vi")) == "+1,3 ngày LV"
