"""The 766 scoring: portal examples, each conversion rule, rounding, sums, bands, ranking, method files.

Every golden value is worked out by hand in the comment beside it (exact decimal arithmetic, rounding half
up to 2 decimals), never copied from the code's output.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from egov_metrics.errors import UnknownNameError
from egov_metrics.scoring import (
    MethodError,
    ScoringError,
    ScoringMethod,
    conversions,
    known_methods,
    load_method,
    score,
    score_from_published,
)

PORTAL = load_method("portal_2026")
RAW = PORTAL.model_copy(update={"points_from": "raw_rate"})
BANDS = [b.model_dump() for b in PORTAL.bands]


def counts(
    rows: list[tuple[str, float, float]], unit: str = "U", period: str = "2026", **extra: Any
) -> pl.DataFrame:
    """A counts frame for one unit: rows of (indicator, numerator, denominator)."""
    return pl.DataFrame(
        {
            "unit_id": [unit] * len(rows),
            "period": [period] * len(rows),
            "indicator": [r[0] for r in rows],
            "numerator": [r[1] for r in rows],
            "denominator": [r[2] for r in rows],
            **{k: [v] * len(rows) for k, v in extra.items()},
        }
    )


def row(frame: pl.DataFrame, **where: Any) -> dict[str, Any]:
    hit = frame.filter(*(pl.col(k) == v for k, v in where.items()))
    assert hit.height == 1, f"{where}: {hit.height} rows"
    return hit.row(0, named=True)


def tiny_method(
    indicators: list[dict[str, Any]], group_max: float | None = None, **top: Any
) -> ScoringMethod:
    """A one-group method around the given indicators (total = their sum), with the portal's bands."""
    full = [
        {"group": "g", "name_vi": "x", "name_en": "x", "zero_denominator": "zero", **i} for i in indicators
    ]
    total = group_max if group_max is not None else sum(i["max_points"] for i in full)
    data = {
        "id": "tiny",
        "version": "1",
        "name_vi": "x",
        "name_en": "x",
        "valid_from": "2026-01-01",
        "source": "test",
        "total_points": total,
        "points_from": "rounded_rate",
        "groups": [{"id": "g", "name_vi": "x", "name_en": "x", "max_points": total}],
        "indicators": full,
        "bands": BANDS,
        **top,
    }
    return ScoringMethod.model_validate(data)


# --- the portal's published examples -------------------------------------------------------------


@pytest.mark.parametrize("method", [PORTAL, RAW], ids=["rounded_rate", "raw_rate"])
@pytest.mark.parametrize(
    ("numerator", "denominator", "rate", "points"),
    [
        # 528684 / 597918 = 0.884208202…  → 88.42 %
        # rounded rate: 20 × 0.8842 = 17.684 → 17.68;  raw rate: 20 × 0.884208202 = 17.68416… → 17.68
        (528_684, 597_918, 88.42, 17.68),
        # 1652 / 2270 = 0.727753303…  → 72.78 %
        # rounded rate: 20 × 0.7278 = 14.556 → 14.56;  raw rate: 20 × 0.727753303 = 14.55506… → 14.56
        (1_652, 2_270, 72.78, 14.56),
        # 3 / 5 = 0.6 → 60.00 % → 20 × 0.6 = 12.00
        (3, 5, 60.00, 12.00),
    ],
)
def test_portal_examples_reproduce(
    method: ScoringMethod, numerator: int, denominator: int, rate: float, points: float
):
    result = score(counts([("dossiers_on_time", numerator, denominator)]), method)
    got = row(result.indicators, indicator="dossiers_on_time")
    assert (got["rate"], got["points"], got["max_points"]) == (rate, points, 20.0)
    assert row(result.groups, group="progress")["score"] == points


def test_default_method_is_portal_2026_12_and_portal_2026_stays_loadable():
    assert {"portal_2026", "portal_2026_12"} <= set(known_methods())
    assert PORTAL.label == "portal_2026@2026.1"
    assert [(g.id, float(g.max_points)) for g in PORTAL.groups] == [
        ("transparency", 18),
        ("progress", 20),
        ("online", 12),
        ("payment", 10),
        ("digitization", 22),
        ("satisfaction", 18),
    ]
    assert len(PORTAL.indicators) == 21
    assert score(counts([("dossiers_on_time", 3, 5)]), PORTAL).method_version == "portal_2026@2026.1"
    assert score(counts([("dossiers_on_time", 3, 5)])).method_version == "portal_2026_12@2026.12"


# --- rounding: half up, and which rate the points come from ----------------------------------------


def test_rate_rounds_half_up():
    result = score(
        counts(
            [
                (
                    "procedures_published_on_time",
                    1,
                    32,
                ),  # 3.125 %  → 3.13 (banker's rounding would give 3.12)
                ("procedures_disclosed_on_time", 1, 160),  # 0.625 % → 0.63 (banker's: 0.62)
                ("procedures_content_complete", 1, 8),  # 12.5 % exactly → 12.50
            ]
        )
    )
    rates = dict(result.indicators.select("indicator", "rate").iter_rows())
    assert rates["procedures_published_on_time"] == 3.13
    assert rates["procedures_disclosed_on_time"] == 0.63
    assert rates["procedures_content_complete"] == 12.50


def test_points_round_half_up_at_the_boundary():
    # procedures_content_complete (max 2, linear): 49 / 400 = 12.25 % → 2 × 0.1225 = 0.245 exactly → 0.25
    # (binary floats give round(0.245, 2) == 0.24; banker's rounding too)
    result = score(counts([("procedures_content_complete", 49, 400)]))
    assert row(result.indicators, indicator="procedures_content_complete")["points"] == 0.25


def test_points_from_rounded_or_raw_rate():
    # paid_online (max 6, linear), 1 of 1200 = 0.08333… % → rate 0.08
    # rounded_rate: 6 × 0.0008 = 0.0048 → 0.00
    # raw_rate:     6 × 1/1200 = 0.005 exactly → 0.01 (half up)
    rows = [("paid_online", 1, 1200)]
    assert row(score(counts(rows), PORTAL).indicators, indicator="paid_online")["points"] == 0.00
    assert row(score(counts(rows), RAW).indicators, indicator="paid_online")["points"] == 0.01
    assert row(score(counts(rows), RAW).indicators, indicator="paid_online")["rate"] == 0.08


# --- each conversion rule ----------------------------------------------------------------------


def points_of(
    method: ScoringMethod, numerator: float, denominator: float, indicator: str = "a"
) -> dict[str, Any]:
    return row(score(counts([(indicator, numerator, denominator)]), method).indicators, indicator=indicator)


LINEAR4 = tiny_method([{"id": "a", "max_points": 4, "rule": "linear"}])
FULL_AT_08 = tiny_method([{"id": "a", "max_points": 2, "rule": {"kind": "full_at", "threshold": 0.8}}])
FULL_AT_05 = tiny_method([{"id": "a", "max_points": 4, "rule": {"kind": "full_at", "threshold": 0.5}}])
COMPLEMENT_09 = tiny_method(
    [{"id": "a", "max_points": 6, "rule": {"kind": "complement_full_at", "threshold": 0.9}}]
)


@pytest.mark.parametrize(
    ("method", "numerator", "denominator", "rate", "points"),
    [
        (LINEAR4, 3, 8, 37.50, 1.50),  # 4 × 0.375 = 1.50
        (LINEAR4, 8, 8, 100.00, 4.00),  # 4 × 1 = 4.00
        (LINEAR4, 9, 8, 112.50, 4.00),  # rate above 100 %: points stop at the maximum
        (LINEAR4, 0, 8, 0.00, 0.00),
        (FULL_AT_08, 3, 5, 60.00, 1.50),  # 2 × 0.6 ÷ 0.8 = 1.50
        (FULL_AT_08, 4, 5, 80.00, 2.00),  # at the threshold: 2 × 0.8 ÷ 0.8 = 2.00
        (FULL_AT_08, 9, 10, 90.00, 2.00),  # past it: min(2, 2.25) = 2.00
        (FULL_AT_08, 7_999, 10_000, 79.99, 2.00),  # 2 × 0.7999 ÷ 0.8 = 1.99975 → 2.00
        (FULL_AT_08, 7_980, 10_000, 79.80, 2.00),  # 2 × 0.798 ÷ 0.8 = 1.995 exactly → 2.00 (half up)
        (FULL_AT_08, 7_979, 10_000, 79.79, 1.99),  # 2 × 0.7979 ÷ 0.8 = 1.99475 → 1.99
        (FULL_AT_08, 794, 1_000, 79.40, 1.99),  # 2 × 0.794 ÷ 0.8 = 1.985 exactly → 1.99 (banker's: 1.98)
        (FULL_AT_05, 1, 4, 25.00, 2.00),  # 4 × 0.25 ÷ 0.5 = 2.00
        (FULL_AT_05, 1, 2, 50.00, 4.00),  # 4 × 0.5 ÷ 0.5 = 4.00
        (FULL_AT_05, 3, 4, 75.00, 4.00),  # min(4, 6) = 4.00
        # complement: numerator = overdue + complaints; rate = 100 % − share
        (COMPLEMENT_09, 5, 100, 95.00, 6.00),  # 95 % ≥ 90 % → full
        (COMPLEMENT_09, 10, 100, 90.00, 6.00),  # 6 × 0.9 ÷ 0.9 = 6.00
        (COMPLEMENT_09, 15, 100, 85.00, 5.67),  # 6 × 0.85 ÷ 0.9 = 5.6667 → 5.67
        (COMPLEMENT_09, 20, 100, 80.00, 5.33),  # 6 × 0.8 ÷ 0.9 = 5.3333 → 5.33
        (COMPLEMENT_09, 120, 100, 0.00, 0.00),  # more against than dossiers: rate stops at 0
    ],
)
def test_conversion_rules(
    method: ScoringMethod, numerator: int, denominator: int, rate: float, points: float
):
    got = points_of(method, numerator, denominator)
    assert (got["rate"], got["points"], got["basis"]) == (rate, points, "rate")
    assert got["points_lost"] == pytest.approx(float(method.indicators[0].max_points) - points)


def test_dossier_satisfaction_as_the_catalog_counts_it():
    # catalog numerator = dossiers − overdue − complaints: 100 − 12 − 3 = 85 of 100 → 85.00 %
    # → 6 × 0.85 ÷ 0.9 = 5.6667 → 5.67
    got = row(score(counts([("dossier_satisfaction", 85, 100)])).indicators, indicator="dossier_satisfaction")
    assert (got["rate"], got["points"]) == (85.00, 5.67)
    # overdue and complaints add up past the dossiers: the numerator goes negative, the rate counts as 0
    got = row(score(counts([("dossier_satisfaction", -5, 100)])).indicators, indicator="dossier_satisfaction")
    assert (got["rate"], got["points"]) == (0.00, 0.00)


def test_registry_lists_the_rules():
    assert {"linear", "full_at", "complement_full_at"} <= set(conversions())


# --- zero denominators --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    ["linear", {"kind": "full_at", "threshold": 0.8}, {"kind": "complement_full_at", "threshold": 0.9}],
)
@pytest.mark.parametrize(("zero_rule", "points"), [("full", 6.00), ("zero", 0.00)])
def test_zero_denominator_for_each_rule(rule: Any, zero_rule: str, points: float):
    method = tiny_method([{"id": "a", "max_points": 6, "rule": rule, "zero_denominator": zero_rule}])
    got = points_of(method, 0, 0)
    assert (got["rate"], got["points"], got["max_points"], got["basis"]) == (None, points, 6.00, zero_rule)


def test_portal_zero_denominators():
    # no feedback → full points on both feedback indicators (observed behaviour, provisional); no dossiers →
    # dossier satisfaction 0: 6 + 6 + 0 = 12.00
    result = score(
        counts([("feedback_on_time", 0, 0), ("feedback_satisfaction", 0, 0), ("dossier_satisfaction", 0, 0)])
    )
    assert row(result.groups, group="satisfaction")["score"] == 12.00
    feedback = row(result.indicators, indicator="feedback_on_time")
    assert feedback["provisional"] and feedback["basis"] == "full"
    assert row(result.indicators, indicator="dossier_satisfaction")["basis"] == "zero"


def three(zero_rule: str) -> ScoringMethod:
    return tiny_method(
        [
            {"id": "a", "max_points": 6, "rule": "linear"},
            {"id": "b", "max_points": 4, "rule": "linear"},
            {"id": "c", "max_points": 2, "rule": "linear", "zero_denominator": zero_rule},
        ]
    )


def test_split_gives_the_points_in_equal_parts():
    # c has no data: its 2 points go 1 + 1 to a and b → a max 7, b max 5
    # a 10/10 → 7 × 1 = 7.00; b 0/10 → 0.00; group 7.00 of 12
    result = score(counts([("a", 10, 10), ("b", 0, 10), ("c", 0, 0)]), three("split"))
    ind = {r["indicator"]: r for r in result.indicators.iter_rows(named=True)}
    assert (ind["a"]["max_points"], ind["a"]["points"]) == (7.00, 7.00)
    assert (ind["b"]["max_points"], ind["b"]["points"]) == (5.00, 0.00)
    assert (ind["c"]["max_points"], ind["c"]["points"], ind["c"]["basis"]) == (0.00, 0.00, "split")
    assert row(result.groups, group="g")["score"] == 7.00


def test_exclude_rescales_the_group():
    # c dropped: a and b rescaled by 12 ÷ 10 → a max 7.2, b max 4.8
    # a 10/10 → 7.20; b 1/2 → 4.8 × 0.5 = 2.40; group 9.60 of 12
    result = score(counts([("a", 10, 10), ("b", 1, 2), ("c", 0, 0)]), three("exclude"))
    ind = {r["indicator"]: r for r in result.indicators.iter_rows(named=True)}
    assert (ind["a"]["max_points"], ind["a"]["points"]) == (7.20, 7.20)
    assert (ind["b"]["max_points"], ind["b"]["points"]) == (4.80, 2.40)
    assert ind["c"]["max_points"] == 0.00
    assert row(result.groups, group="g")["score"] == 9.60


def test_split_with_nobody_to_take_the_points_loses_them():
    method = tiny_method([{"id": "a", "max_points": 5, "rule": "linear", "zero_denominator": "split"}])
    got = points_of(method, 0, 0)
    assert (got["points"], got["max_points"], got["points_lost"]) == (0.00, 5.00, 5.00)


def test_missing_indicator_is_a_zero_denominator_and_flagged():
    result = score(counts([("dossiers_on_time", 3, 5)]), PORTAL)
    assert result.indicators.height == 21  # every indicator of the method, for the one unit
    fb = row(result.indicators, indicator="feedback_on_time")
    assert (fb["missing"], fb["points"], fb["numerator"], fb["denominator"]) == (True, 6.00, None, None)
    assert row(result.indicators, indicator="dossiers_on_time")["missing"] is False
    # 12.00 (progress) + 12.00 (feedback: full points for no data) = 24.00
    assert row(result.totals, unit_id="U")["total"] == 24.00


# --- the payment formula, group and total sums --------------------------------------------------------


def test_payment_formula():
    # 6A + min(2, 2.5B) + min(2, 2.5C)
    # A = 450/1000 = 45 %  → 6 × 0.45 = 2.70
    # B = 30/50 = 60 %     → min(2, 2.5 × 0.6 = 1.5) = 1.50
    # C = 45/50 = 90 %     → min(2, 2.25) = 2.00           payment = 6.20
    result = score(
        counts(
            [
                ("paid_online", 450, 1000),
                ("fee_procedures_paid_online", 30, 50),
                ("fee_procedures_used", 45, 50),
            ]
        )
    )
    assert row(result.groups, group="payment")["score"] == 6.20
    # A = 1/3 = 33.33 % → 6 × 0.3333 = 1.9998 → 2.00;  B = 7/25 = 28 % → 2.5 × 0.28 = 0.70;  C: no fee-bearing
    # procedures → 0                                      payment = 2.70
    result = score(
        counts([("paid_online", 1, 3), ("fee_procedures_paid_online", 7, 25), ("fee_procedures_used", 0, 0)])
    )
    assert row(result.groups, group="payment")["score"] == 2.70


def test_group_is_the_sum_of_rounded_points():
    # every rate 1/32 = 3.125 % → 3.13
    # 6 × 0.0313 = 0.1878 → 0.19;  4 × 0.0313 = 0.1252 → 0.13;  2 × 0.0313 = 0.0626 → 0.06;  6 → 0.19
    # sum of rounded points 0.19 + 0.13 + 0.06 + 0.19 = 0.57
    # (rounding the unrounded sum 0.5634 would give 0.56)
    result = score(
        counts(
            [
                ("procedures_published_on_time", 1, 32),
                ("procedures_disclosed_on_time", 1, 32),
                ("procedures_content_complete", 1, 32),
                ("dossiers_synced_on_time", 1, 32),
            ]
        )
    )
    assert row(result.groups, group="transparency")["score"] == 0.57


FULL_UNIT = [
    # transparency: 5.40 + 3.20 + 2.00 + 4.37 = 14.97
    ("procedures_published_on_time", 45, 50),  # 90 %    → 6 × 0.9 = 5.40
    ("procedures_disclosed_on_time", 40, 50),  # 80 %    → 4 × 0.8 = 3.20
    ("procedures_content_complete", 50, 50),  # 100 %    → 2.00
    ("dossiers_synced_on_time", 1_652, 2_270),  # 72.78 % → 6 × 0.7278 = 4.3668 → 4.37
    # progress: 17.68
    ("dossiers_on_time", 528_684, 597_918),  # 88.42 % → 17.68
    # online: 1.20 + 3.50 + 3.20 = 7.90
    ("fully_online_dossiers", 300, 1_000),  # 30 %    → 4 × 0.3 = 1.20
    ("procedures_online", 70, 100),  # 70 %    → 4 × 0.7 ÷ 0.8 = 3.50
    ("online_submission", 400, 1_000),  # 40 %    → 4 × 0.4 ÷ 0.5 = 3.20
    # payment: 2.70 + 1.50 + 2.00 = 6.20
    ("paid_online", 450, 1_000),
    ("fee_procedures_paid_online", 30, 50),
    ("fee_procedures_used", 45, 50),
    # digitization: 3.60 + 1.33 + 2.00 + 1.50 + 0.50 + 1.80 + 1.33 = 12.06
    ("e_results", 3, 5),  # 60 %    → 6 × 0.6 = 3.60
    ("dossiers_digitized", 1, 3),  # 33.33 % → 4 × 0.3333 = 1.3332 → 1.33
    ("communes_e_certified_copy", 10, 10),  # 100 %   → 2.00
    ("data_reuse", 3, 5),  # 60 %    → 2 × 0.6 ÷ 0.8 = 1.50
    ("linked_citizen_store", 1, 8),  # 12.5 %  → 4 × 0.125 = 0.50
    ("procedures_population_db", 9, 10),  # 90 %    → 2 × 0.9 = 1.80
    ("population_data_use", 2, 3),  # 66.67 % → 2 × 0.6667 = 1.3334 → 1.33
    # satisfaction: 6.00 + 6.00 + 5.67 = 17.67
    ("feedback_on_time", 0, 0),  # no feedback → full
    ("feedback_satisfaction", 0, 0),  # no feedback → full
    ("dossier_satisfaction", 85, 100),  # 85 %    → 6 × 0.85 ÷ 0.9 = 5.6667 → 5.67
]
# total = 14.97 + 17.68 + 7.90 + 6.20 + 12.06 + 17.67 = 76.48 → fair (khá)


def test_a_whole_unit_groups_and_total():
    result = score(counts(FULL_UNIT, unit_name="Sở Ví dụ", unit_level="department"), PORTAL)
    assert dict(result.groups.select("group", "score").iter_rows()) == {
        "transparency": 14.97,
        "progress": 17.68,
        "online": 7.90,
        "payment": 6.20,
        "digitization": 12.06,
        "satisfaction": 17.67,
    }
    total = row(result.totals, unit_id="U")
    assert (total["total"], total["max"], total["band"], total["band_vi"]) == (76.48, 100.0, "fair", "khá")
    assert total["unit_name"] == "Sở Ví dụ"  # unit_* columns reach every frame
    assert result.indicators.filter(pl.col("missing")).height == 0
    assert result.indicators["points_lost"].sum() == pytest.approx(100 - 76.48)
    for frame in (result.indicators, result.groups, result.totals):
        assert frame["method_version"].unique().to_list() == ["portal_2026@2026.1"]


def test_counts_may_be_floats_or_fractional():
    # 1.5 of 2 (crosswalk shares) = 75 % → 20 × 0.75 = 15.00
    assert points_of(PORTAL, 1.5, 2.0, "dossiers_on_time")["points"] == 15.00


# --- bands and ranking --------------------------------------------------------------------------

HUNDRED = tiny_method([{"id": "a", "max_points": 100, "rule": "linear"}])


@pytest.mark.parametrize(
    ("numerator", "total", "band", "band_vi"),
    [
        (10_000, 100.00, "excellent", "xuất sắc"),
        (9_000, 90.00, "excellent", "xuất sắc"),  # 100 × 0.9000 = 90.00
        (8_999, 89.99, "good", "tốt"),  # 100 × 0.8999 = 89.99
        (8_000, 80.00, "good", "tốt"),
        (7_999, 79.99, "fair", "khá"),
        (7_000, 70.00, "fair", "khá"),
        (6_999, 69.99, "average", "trung bình"),
        (5_000, 50.00, "average", "trung bình"),
        (4_999, 49.99, "weak", "yếu"),
        (0, 0.00, "weak", "yếu"),
    ],
)
def test_bands_at_their_edges(numerator: int, total: float, band: str, band_vi: str):
    got = row(score(counts([("a", numerator, 10_000)]), HUNDRED).totals, unit_id="U")
    assert (got["total"], got["band"], got["band_vi"]) == (total, band, band_vi)


def many(scores: dict[str, int], level: dict[str, str] | None = None, period: str = "2026") -> pl.DataFrame:
    """Units scoring `points` of 100 on HUNDRED: numerator = points, denominator = 100."""
    frames = [
        counts([("a", pts, 100)], unit=u, period=period, **({"unit_level": level[u]} if level else {}))
        for u, pts in scores.items()
    ]
    return pl.concat(frames)


def test_competition_ranking_with_ties():
    result = score(many({"A": 80, "B": 90, "C": 80, "D": 70}), HUNDRED)
    ranks = {r["unit_id"]: (r["rank"], r["rank_among"]) for r in result.totals.iter_rows(named=True)}
    assert ranks == {"B": (1, 4), "A": (2, 4), "C": (2, 4), "D": (4, 4)}  # 1, 2, 2, 4


def test_peers_by_level():
    levels = {"D1": "department", "D2": "department", "C1": "commune", "C2": "commune", "C3": "commune"}
    result = score(many({"D1": 90, "D2": 80, "C1": 85, "C2": 85, "C3": 60}, levels), HUNDRED)
    got = {
        r["unit_id"]: (r["peer_group"], r["rank"], r["rank_among"], r["rank_all"], r["rank_all_among"])
        for r in result.totals.iter_rows(named=True)
    }
    assert got == {
        "D1": ("department", 1, 2, 1, 5),
        "D2": ("department", 2, 2, 4, 5),
        "C1": ("commune", 1, 3, 2, 5),
        "C2": ("commune", 1, 3, 2, 5),
        "C3": ("commune", 3, 3, 5, 5),
    }


def test_peers_frame_and_periods():
    frame = pl.concat(
        [many({"A": 50, "B": 60}, period="2026-01"), many({"A": 70, "B": 60}, period="2026-02")]
    )
    peers = pl.DataFrame({"unit_id": ["A", "B"], "peer_group": ["x", "x"]})
    result = score(frame, HUNDRED, peers=peers)
    ranks = {(r["unit_id"], r["period"]): r["rank"] for r in result.totals.iter_rows(named=True)}
    assert ranks == {("A", "2026-01"): 2, ("B", "2026-01"): 1, ("A", "2026-02"): 1, ("B", "2026-02"): 2}
    with pytest.raises(ScoringError, match="no peer_group for unit"):
        score(frame, HUNDRED, peers=peers.head(1))


# --- bad counts ------------------------------------------------------------------------------------


def test_bad_counts_are_reported_with_their_rows():
    bad = pl.DataFrame(
        {
            "unit_id": ["U", "U", "U", "U"],
            "period": ["2026"] * 4,
            "indicator": ["a", "a", "b", "c"],
            "numerator": [1, 1, None, 1],
            "denominator": [2, 2, 3, -1],
        }
    )
    with pytest.raises(ScoringError) as err:
        score(bad, HUNDRED)
    message = str(err.value)
    assert "empty unit_id, period, indicator, numerator or denominator: row 3 (U, 2026, b)" in message
    assert "negative denominator: row 4 (U, 2026, c)" in message
    assert "more than once: row 1 (U, 2026, a); row 2 (U, 2026, a)" in message
    with pytest.raises(ScoringError, match="lack the column"):
        score(bad.drop("denominator"), HUNDRED)


def test_unknown_indicators_are_ignored_by_score():
    frame = counts([("a", 1, 2), ("processing_days_median", 7, 1)])
    assert score(frame, HUNDRED).indicators["indicator"].to_list() == ["a"]


# --- published counts ------------------------------------------------------------------------------


def test_score_from_published_csv(tmp_path: Path):
    path = tmp_path / "published.csv"
    path.write_text(
        "unit_id,period,indicator,numerator,denominator,unit_level,published_rate,published_points\n"
        "P,2026,dossiers_on_time,528684,597918,province,88.42,17.68\n"
        "D1,2026,dossiers_on_time,1652,2270,department,72.78,14.56\n"
        "D2,2026,dossiers_on_time,3,5,department,60,12.01\n",
        encoding="utf-8",
    )
    result = score_from_published(path)
    got = {
        r["unit_id"]: (r["points"], r["points_diff"], r["rate_diff"])
        for r in result.indicators.iter_rows(named=True)
        if r["indicator"] == "dossiers_on_time"
    }
    assert got == {"P": (17.68, 0.0, 0.0), "D1": (14.56, 0.0, 0.0), "D2": (12.00, -0.01, 0.0)}
    ranks = {r["unit_id"]: (r["peer_group"], r["rank"]) for r in result.totals.iter_rows(named=True)}
    # D1: 14.56 + 12 (feedback: full points) = 26.56; D2: 12 + 12 = 24.00
    assert ranks == {"P": ("province", 1), "D1": ("department", 1), "D2": ("department", 2)}


def test_score_from_published_reports_bad_cells_with_lines(tmp_path: Path):
    path = tmp_path / "published.csv"
    path.write_text(
        "unit_id,period,indicator,numerator,denominator\n"
        'P,2026,dossiers_on_time,"528,684",597918\n'
        "P,2026,dossier_on_time,3,5\n",
        encoding="utf-8",
    )
    with pytest.raises(ScoringError) as err:
        score_from_published(path)
    message = str(err.value)
    assert "column 'numerator' is not a plain number: line 2 (P, 2026, dossiers_on_time)" in message
    assert "unknown indicator 'dossier_on_time' (did you mean 'dossiers_on_time'?): line 3" in message


def test_score_from_published_xlsx(tmp_path: Path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["unit_id", "period", "indicator", "numerator", "denominator"])
    sheet.append(["D1", "2026", "dossiers_on_time", 1652, 2270])
    path = tmp_path / "published.xlsx"
    book.save(path)
    result = score_from_published(path)
    assert row(result.indicators, indicator="dossiers_on_time")["points"] == 14.56


# --- method files ----------------------------------------------------------------------------------


def test_unknown_method_name():
    with pytest.raises(UnknownNameError) as err:
        load_method("portal_2025")
    assert "unknown scoring method 'portal_2025'" in str(err.value)
    # a close name is suggested, whichever other method files ship beside it
    assert re.search(r"did you mean [^?]*'portal_2026'", str(err.value)), str(err.value)
    assert "known: " in str(err.value) and "portal_2026" in str(err.value)


BROKEN = textwrap.dedent(
    """\
    id: broken
    version: 2026.1
    name_vi: x
    name_en: x
    valid_from: 2026-01-01
    source: test
    total_points: 100
    points_from: rounded
    groups:
      - {id: progress, name_vi: a, name_en: a, max_points: 100}
    indicators:
      - id: dossiers_on_time
        group: progress
        name_vi: a
        name_en: a
        max_points: 100
        rule: {kind: full_at}
        zero_denominator: none
        colour: red
      - id: feedback_on_time
        group: progress
        name_vi: a
        name_en: a
        max_points: 6
        rule: stepwise
        zero_denominator: full
      - id: feedback_satisfaction
        group: progress
        name_vi: a
        name_en: a
        max_points: 6
        rule: linear
        zero_denominator: full
        provisional: true
    bands:
      - {id: weak, name_vi: y, name_en: w, min: 0}
    """
)


def test_broken_method_file_lists_every_problem_with_its_line(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(MethodError) as err:
        load_method(path)
    lines = str(err.value).splitlines()
    expected = [
        f"{path}:2: version:",  # a float, not a quoted string
        f"{path}:8: points_from:",  # 'rounded' is not rounded_rate / raw_rate
        f"{path}:17: indicators.0.rule:",  # full_at needs a threshold
        f"{path}:18: indicators.0.zero_denominator:",  # 'none' is not a zero-denominator rule
        f"{path}:19: indicators.0.colour:",  # unknown key
        f"{path}:25: indicators.1.rule.kind:",  # unknown conversion rule
        f"{path}:27: indicators.2:",  # provisional without a note (reported at the item's first line)
    ]
    for start in expected:
        assert any(line.startswith(start) for line in lines), f"{start!r} not in:\n{err.value}"
    assert len(err.value.problems) == len(expected)


INCONSISTENT = textwrap.dedent(
    """\
    id: inconsistent
    version: "1"
    name_vi: x
    name_en: x
    valid_from: 2026-01-01
    source: test
    total_points: 100
    points_from: rounded_rate
    groups:
      - {id: progress, name_vi: a, name_en: a, max_points: 20}
      - {id: payment, name_vi: a, name_en: a, max_points: 10}
    indicators:
      - {id: dossiers_on_time, group: progress, name_vi: a, name_en: a, max_points: 18, rule: linear,
         zero_denominator: zero}
      - {id: dossiers_on_time, group: progres, name_vi: a, name_en: a, max_points: 2, rule: linear,
         zero_denominator: zero}
    bands:
      - {id: good, name_vi: t, name_en: g, min: 50}
      - {id: weak, name_vi: y, name_en: w, min: 0, below: 40}
    """
)


def test_inconsistent_method_file_lists_every_problem_with_its_line(tmp_path: Path):
    path = tmp_path / "inconsistent.yaml"
    path.write_text(INCONSISTENT, encoding="utf-8")
    with pytest.raises(MethodError) as err:
        load_method(str(path))
    message = str(err.value)
    for expected in [
        f"{path}:15: indicators.1.id: duplicate indicator id",
        f"{path}:15: indicators.1.group: unknown group 'progres'",
        f"{path}:10: groups.0.max_points: group 'progress' has max_points 20 but its indicators add up to 18",
        f"{path}:11: groups.1.id: group 'payment' has no indicators",
        f"{path}:7: total_points: total_points is 100 but the groups add up to 30",
        f"{path}:19: bands.1.below: gap: nothing covers [40, 50)",
    ]:
        assert expected in message, f"{expected!r} not in:\n{message}"
    assert len(err.value.problems) == 6


def test_method_file_name_must_be_its_id(tmp_path: Path):
    text = (Path(__file__).parents[1] / "egov_metrics" / "methods" / "portal_2026.yaml").read_text(
        encoding="utf-8"
    )
    path = tmp_path / "copy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MethodError, match="id 'portal_2026' must equal the file name 'copy'"):
        load_method(path)


def test_yaml_syntax_error_has_its_line(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: bad\ngroups: [\n", encoding="utf-8")
    with pytest.raises(MethodError, match=r"bad\.yaml:\d+: invalid YAML"):
        load_method(path)


def test_bands_must_not_overlap():
    bands = [*BANDS[:-1], {**BANDS[-1], "below": 55}]  # weak [0, 55) overlaps average [50, 70)
    with pytest.raises(ValueError, match="overlaps band 'average'"):
        tiny_method([{"id": "a", "max_points": 100, "rule": "linear"}], bands=bands)


def test_method_models_are_frozen_and_closed():
    with pytest.raises(ValueError):
        PORTAL.id = "other"  # type: ignore[misc]
    with pytest.raises(ValueError, match="Extra inputs"):
        tiny_method([{"id": "a", "max_points": 100, "rule": "linear", "weight": 1}])
    with pytest.raises(ValueError, match="decimal places"):
        tiny_method([{"id": "a", "max_points": 99.999, "rule": "linear"}], group_max=99.999)


def test_agrees_with_exact_fractions_on_many_counts():
    # An independent oracle: exact fractions, rounded half up, on seeded random counts for every rule and
    # both rounding orders (the golden values above are by hand; this guards the arithmetic at scale).
    # Decimal division is not exact enough for an oracle: 116/1200 × 6 ÷ 0.8 is 0.725 exactly (→ 0.73),
    # but Decimal's 28-digit quotients can land just below it (→ 0.72).
    import math
    import random
    from fractions import Fraction

    def half_up(q: Fraction) -> float:
        return math.floor(q * 100 + Fraction(1, 2)) / 100

    rng = random.Random(766)
    rules = {
        "l": ("linear", None),
        "f": ("full_at", "0.8"),
        "h": ("full_at", "0.5"),
        "c": ("complement_full_at", "0.9"),
    }
    indicators = [
        {"id": i, "max_points": 6, "rule": kind if t is None else {"kind": kind, "threshold": t}}
        for i, (kind, t) in rules.items()
    ]
    frame_rows = []
    for u in range(500):
        for i in rules:
            d = rng.choice([1, 3, 7, 8, 32, 160, 400, 1200, 2270, 597_918, rng.randint(1, 10**7)])
            frame_rows.append((f"u{u}", i, rng.randint(0, d), d))
    frame = pl.DataFrame(
        frame_rows, schema=["unit_id", "indicator", "numerator", "denominator"], orient="row"
    )
    frame = frame.with_columns(period=pl.lit("2026"))
    for points_from in ("rounded_rate", "raw_rate"):
        result = score(frame, tiny_method(indicators, points_from=points_from))
        for r in result.indicators.iter_rows(named=True):
            kind, t = rules[r["indicator"]]
            n, d = r["numerator"], r["denominator"]
            exact = Fraction(d - n, d) if kind == "complement_full_at" else Fraction(n, d)
            rate = half_up(exact * 100)
            base = Fraction(str(rate)) / 100 if points_from == "rounded_rate" else exact
            points = half_up(6 * min(Fraction(1), base / Fraction(t or "1")))
            assert (r["rate"], r["points"]) == (rate, points), (points_from, r)


def test_unit_columns_must_be_constant_and_extras_must_not_clash():
    frame = pl.concat([counts([("a", 1, 2)], unit_name="X"), counts([("a", 1, 2)], unit_name="Y")])
    with pytest.raises(ScoringError, match="unit_name vary within a unit and period"):
        score(frame.with_columns(indicator=pl.Series(["a", "b"])), HUNDRED)
    with pytest.raises(ScoringError, match="named like score columns: points"):
        score(counts([("a", 1, 2)], points=3), HUNDRED)
    # other extras stay on the indicators frame only
    result = score(counts([("a", 1, 2)], value=50.0, unit_level="commune"), HUNDRED)
    assert "value" in result.indicators.columns and "value" not in result.totals.columns
    assert row(result.totals, unit_id="U")["unit_level"] == "commune"
