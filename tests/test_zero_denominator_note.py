"""The note on zero denominators under the 766 league (progress report) and in the unit scorecard.

The note must agree with the score table: it names the indicator whose denominator was zero (not the whole
group, whose other indicators may have scored points), the units, and the one outcome they got, read from the
same indicator points the group scores add up.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from egov_metrics.reports.kinds.progress_report.page import ZERO_WORDS, ProgressReport, zero_denominator_note
from egov_metrics.reports.kinds.unit_scorecard.page import T as CARD_T
from egov_metrics.scoring import ScoreResult, ScoringMethod, load_method, score
from egov_metrics.scoring.result import zero_outcome

BANDS = [b.model_dump() for b in load_method("portal_2026").bands]


def card_outcome(row: dict[str, Any]) -> str:
    """The outcome the scorecard's row note names (`zero_outcome` of the row's own points)."""
    return zero_outcome(row["basis"], row["points"], row["max_points"])


def method(groups: dict[str, list[dict[str, Any]]]) -> ScoringMethod:
    """A method of the given groups: {group id: [indicator, …]}, each group's maximum the sum of its indicators'."""
    maxima = {g: sum(i["max_points"] for i in inds) for g, inds in groups.items()}
    return ScoringMethod.model_validate(
        {
            "id": "note",
            "version": "1",
            "name_vi": "Phương pháp thử",
            "name_en": "Test method",
            "valid_from": "2026-01-01",
            "source": "test",
            "total_points": sum(maxima.values()),
            "points_from": "raw_rate",
            "groups": [
                {"id": g, "name_vi": f"Nhóm {g}", "name_en": f"Group {g}", "max_points": m}
                for g, m in maxima.items()
            ],
            "indicators": [
                {
                    "group": g,
                    "name_vi": f"Chỉ tiêu {i['id']}",
                    "name_en": f"Indicator {i['id']}",
                    "rule": "linear",
                    **i,
                }
                for g, inds in groups.items()
                for i in inds
            ],
            "bands": BANDS,
        }
    )


def counts(rows: list[tuple[str, str, float, float]]) -> pl.DataFrame:
    """Counts of (unit, indicator, numerator, denominator); a unit's name is 'Đơn vị <id>'."""
    return pl.DataFrame(
        {
            "unit_id": [r[0] for r in rows],
            "unit_name": [f"Đơn vị {r[0]}" for r in rows],
            "period": ["2026"] * len(rows),
            "indicator": [r[1] for r in rows],
            "numerator": [float(r[2]) for r in rows],
            "denominator": [float(r[3]) for r in rows],
        }
    )


#: Two groups. Transparency: a (6 points) and b (4), both 0 points with no data. Digitization: c (2) full points
#: with no data (like the portal's certified copy), d (4) 0 points with no data.
METHOD = method(
    {
        "t": [
            {"id": "a", "max_points": 6, "zero_denominator": "zero"},
            {"id": "b", "max_points": 4, "zero_denominator": "zero"},
        ],
        "s": [
            {"id": "c", "max_points": 2, "zero_denominator": "full"},
            {"id": "d", "max_points": 4, "zero_denominator": "zero"},
        ],
    }
)


@pytest.fixture(scope="module")
def scored() -> ScoreResult:
    # X: a has no data (0 of 6) but b scores 4 × 5/10 = 2.00, so the group "t" has 2.00, neither 0 nor full.
    #    c has no data (full 2), d has no data (0 of 4): one group, two outcomes.
    # Y: everything counted except c (full 2): the group "s" gets 2 + 4 × 0.5 = 4.00 of 6, not full points.
    # Z: everything counted except c.
    return score(
        counts(
            [
                ("X", "a", 0, 0),
                ("X", "b", 5, 10),
                ("X", "c", 0, 0),
                ("X", "d", 0, 0),
                ("Y", "a", 6, 10),
                ("Y", "b", 10, 10),
                ("Y", "c", 0, 0),
                ("Y", "d", 5, 10),
                ("Z", "a", 10, 10),
                ("Z", "b", 10, 10),
                ("Z", "c", 0, 0),
                ("Z", "d", 10, 10),
            ]
        ),
        METHOD,
    )


def sentences(note: str, lang: str = "vi") -> list[str]:
    """The note's sentences after its lead (indicator names in the tests hold no full stop)."""
    lead = ZERO_WORDS[lang]["lead"]
    assert note.startswith(lead), note
    return [s for s in note[len(lead) :].rstrip(".").split(". ")]


def test_the_hand_built_scores_are_what_the_note_is_checked_against(scored: ScoreResult):
    groups = {(r["unit_id"], r["group"]): r["score"] for r in scored.groups.iter_rows(named=True)}
    assert groups[("X", "t")] == 2.00  # a: 0 of 6 (no data), b: 2 of 4
    assert groups[("X", "s")] == 2.00  # c: 2 of 2 (no data), d: 0 of 4 (no data)
    assert groups[("Y", "s")] == 4.00  # c: 2 of 2 (no data), d: 2 of 4


def test_the_note_names_the_indicator_not_the_group(scored: ScoreResult):
    note = zero_denominator_note(scored, ["X", "Y", "Z"], "vi")
    # X's group "t" has 2.00 and Y's group "s" 4.00: no group got full or zero points, the indicators a, c, d did
    assert "“Chỉ tiêu a”" in note and "“Chỉ tiêu c”" in note and "“Chỉ tiêu d”" in note
    parts = sentences(note)
    # one sentence per indicator and outcome; each names its indicator (with the group) and nothing else
    assert parts == [
        "Chỉ tiêu “Chỉ tiêu a” (nhóm “Nhóm t”) — Đơn vị X: được 0/6 điểm",
        "Chỉ tiêu “Chỉ tiêu c” (nhóm “Nhóm s”) — tất cả 3 đơn vị: được tính đủ điểm, 2/2 điểm",
        "Chỉ tiêu “Chỉ tiêu d” (nhóm “Nhóm s”) — Đơn vị X: được 0/4 điểm",
    ]
    # indicator b scored from its counts: it is not in the note
    assert "Chỉ tiêu b" not in note


def outcome_kinds(sentence: str, lang: str) -> list[str]:
    """Which of the note's outcomes the end of a sentence (after its last ': ') is: exactly one, or a mix."""
    outcome = sentence.rsplit(": ", 1)[1]
    kinds = []
    for kind in ("full", "zero", "split", "exclude", "lost"):
        pattern = (
            re.escape(ZERO_WORDS[lang][kind])
            .replace(r"\{points\}", r"[\d.,]+")
            .replace(r"\{max\}", r"[\d.,]+")
        )
        if re.fullmatch(pattern, outcome):
            kinds.append(kind)
    return kinds


def test_one_sentence_has_one_outcome(scored: ScoreResult):
    """The group "s" of X has a full-points indicator and a zero-points one: two sentences, never 'được 0 điểm;
    được tính đủ điểm' for one list of units."""
    for lang in ("vi", "en"):
        assert ";" not in zero_denominator_note(scored, ["X", "Y", "Z"], lang)
        parts = sentences(zero_denominator_note(scored, ["X", "Y", "Z"], lang), lang)
        assert [outcome_kinds(s, lang) for s in parts] == [["zero"], ["full"], ["zero"]], parts


def test_the_note_agrees_with_the_indicator_points(scored: ScoreResult):
    """Every unit named with 'full points' got the indicator's maximum, every unit with '0 of N' got 0 of N,
    in the very points the table's group scores add up."""
    note = zero_denominator_note(scored, ["X", "Y"], "en")  # c is then "all 2 units"; Z is not in this table
    points = {
        (r["unit_id"], r["indicator"]): (r["points"], r["max_points"])
        for r in scored.indicators.iter_rows(named=True)
    }
    checked = 0
    for sentence in sentences(note, "en"):
        m = re.fullmatch(r"Indicator “Indicator (\w)” \(group “Group (\w)”\) — (.+): (.+)", sentence)
        assert m, sentence
        ind, _, units, outcome = m.groups()
        ids = ["X", "Y"] if units == "all 2 units" else [u.removeprefix("Đơn vị ") for u in units.split(", ")]
        for unit in ids:
            got, most = points[(unit, ind)]
            if outcome.startswith("full points"):
                assert got == most > 0 and outcome == f"full points, {most:g} of {most:g}"
            else:
                assert outcome == f"{got:g} of {most:g} points" and got == 0
            checked += 1
    assert checked == 4  # a: X; c: X and Y; d: X


def test_units_with_different_points_are_listed_apart():
    """One indicator, two outcomes: the full-points indicator c grows to 3 of 3 for the unit whose indicator a is
    split (its 2 points shared by b and c), and stays 2 of 2 for the other unit: two sentences, not one."""
    m = method(
        {
            "g": [
                {"id": "a", "max_points": 2, "zero_denominator": "split"},
                {"id": "b", "max_points": 2, "zero_denominator": "zero"},
                {"id": "c", "max_points": 2, "zero_denominator": "full"},
            ]
        }
    )
    # U: a no data → split: b and c each 3 of 3; c has no data → full 3 of 3. V: only c without data: 2 of 2.
    result = score(
        counts(
            [
                ("U", "a", 0, 0),
                ("U", "b", 1, 2),
                ("U", "c", 0, 0),
                ("V", "a", 1, 1),
                ("V", "b", 1, 1),
                ("V", "c", 0, 0),
            ]
        ),
        m,
    )
    note = zero_denominator_note(result, ["U", "V"], "vi")
    assert "3/3" in note and "2/2" in note
    parts = sentences(note)
    assert parts == [
        "Chỉ tiêu “Chỉ tiêu a” (nhóm “Nhóm g”) — Đơn vị U: không tính, 2 điểm của chỉ tiêu được chia đều cho các "
        "chỉ tiêu khác của nhóm",
        "Chỉ tiêu “Chỉ tiêu c” (nhóm “Nhóm g”) — Đơn vị U: được tính đủ điểm, 3/3 điểm",
        "Chỉ tiêu “Chỉ tiêu c” (nhóm “Nhóm g”) — Đơn vị V: được tính đủ điểm, 2/2 điểm",
    ]


def test_split_or_exclude_with_nobody_to_take_the_points_says_they_are_lost():
    m = method({"g": [{"id": "a", "max_points": 5, "zero_denominator": "exclude"}]})
    result = score(counts([("U", "a", 0, 0)]), m)
    vi = zero_denominator_note(result, ["U"], "vi")
    en = zero_denominator_note(result, ["U"], "en")
    assert "0/5" in vi and "0 of 5" in en  # the points stayed on the indicator, lost: nothing was rescaled
    assert sentences(vi) == [
        "Chỉ tiêu “Chỉ tiêu a” (nhóm “Nhóm g”) — Đơn vị U: được 0/5 điểm (nhóm không còn chỉ tiêu nào có số "
        "liệu để nhận số điểm này)"
    ]
    assert sentences(en, "en") == [
        "Indicator “Indicator a” (group “Group g”) — Đơn vị U: 0 of 5 points (no other indicator of the group "
        "has data to take them)"
    ]


def test_long_lists_are_cut_with_a_count_and_no_zero_denominator_means_no_note():
    m = method(
        {
            "g": [
                {"id": "a", "max_points": 2, "zero_denominator": "zero"},
                {"id": "b", "max_points": 2, "zero_denominator": "zero"},
            ]
        }
    )
    units = [f"U{n}" for n in range(9)]  # eight of them named in the note, the ninth scored from its counts
    # U0…U7 have no data for a; U8 has: the list is 8 units of 9, cut after 6
    rows = [(u, "a", 0, 0) for u in units[:8]] + [("U8", "a", 1, 1)] + [(u, "b", 1, 1) for u in units]
    result = score(counts(rows), m)
    assert "2 đơn vị khác" in zero_denominator_note(result, units, "vi")
    (vi,) = sentences(zero_denominator_note(result, units, "vi"))
    assert vi.endswith("Đơn vị U5 và 2 đơn vị khác: được 0/2 điểm")
    (en,) = sentences(zero_denominator_note(result, units, "en"), "en")
    assert en.endswith("Đơn vị U5 and 2 more: 0 of 2 points")
    assert zero_denominator_note(result, ["U8"], "vi") == ""


def test_both_languages_have_every_word_and_a_vietnamese_note_shows_no_english(scored: ScoreResult):
    assert ZERO_WORDS["vi"].keys() == ZERO_WORDS["en"].keys()
    vi = zero_denominator_note(scored, ["X", "Y", "Z"], "vi")
    en = zero_denominator_note(scored, ["X", "Y", "Z"], "en")
    for word in ("Indicator", "group", "points", "full", "units", "of "):
        assert word not in vi
    assert "điểm" not in en and "Chỉ tiêu" not in en


def test_unit_scorecard_says_what_the_unit_got():
    """The scorecard's row note comes from the row's points, not the rule alone: a split with nobody to take the
    points says they are lost (0 of the maximum), not that they went to the group's other indicators."""
    assert CARD_T["vi"]["zero"].keys() == CARD_T["en"]["zero"].keys()
    m = method({"g": [{"id": "a", "max_points": 5, "zero_denominator": "split"}]})
    (row,) = score(counts([("U", "a", 0, 0)]), m).indicators.iter_rows(named=True)
    assert card_outcome(row) == "lost"
    m = method(
        {
            "g": [
                {"id": "a", "max_points": 5, "zero_denominator": "split"},
                {"id": "b", "max_points": 5, "zero_denominator": "zero"},
            ]
        }
    )
    rows = {
        r["indicator"]: r
        for r in score(counts([("U", "a", 0, 0), ("U", "b", 0, 0)]), m).indicators.iter_rows(named=True)
    }
    assert (card_outcome(rows["a"]), card_outcome(rows["b"])) == ("split", "zero")


def test_progress_report_note_matches_its_table(small_demo_db: Path):
    """On the demo: the note under each peer table names indicators only, one outcome per sentence, and the
    units named with 'full points' got the indicator's maximum (those with '0 of' got 0)."""
    report = ProgressReport(small_demo_db, "2021-01", None, "vi")
    assert report.scores is not None
    indicators, totals = report.scores.indicators, report.scores.totals
    names = dict(zip(totals["unit_id"], totals["unit_name"], strict=True))
    by_name = {i.name_vi: i.id for i in report.scores.method.indicators}
    seen = 0
    for level in totals["unit_level"].unique().to_list():
        ids = totals.filter(pl.col("unit_level") == level)["unit_id"].to_list()
        note = report._zero_denominator_note(ids)
        if not note:
            continue
        for sentence in sentences(note):
            m = re.fullmatch(r"Chỉ tiêu “(.+?)” \(nhóm “(.+?)”\) — (.+): ([^:]+)", sentence)
            assert m, sentence
            ind = by_name[m.group(1)]
            units = m.group(3)
            (kind,) = outcome_kinds(sentence, "vi")
            full = kind == "full"
            rows = indicators.filter(pl.col("indicator") == ind, pl.col("unit_id").is_in(ids))
            for r in rows.iter_rows(named=True):
                named = units.startswith("tất cả") or f", {names[r['unit_id']]}, " in f", {units}, "
                if named and " đơn vị khác" not in units:
                    assert r["basis"] != "rate", (sentence, r)
                    seen += 1
                    assert (r["points"] == r["max_points"] > 0) == full, (sentence, r)
                    assert full or r["points"] == 0, (sentence, r)
    assert seen > 0
