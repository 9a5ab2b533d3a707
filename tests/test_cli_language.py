"""The command line's errors in the reader's language: Vietnamese by default, English with EGOV_LANG=en; an
error worded in both is printed wholly in one (its label, message and hint), one worded only in English is
printed in English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from egov_metrics.cli import app
from egov_metrics.errors import EgovError
from egov_metrics.said import Said

ENGLISH = re.compile(r"\b(error|hint|parameter|unknown|outside|ended|pick|the|of|is|a|give|did you mean)\b")


@pytest.mark.parametrize(
    ("params", "vi", "en"),
    [
        (["progress_report", "-p", "period=2019-01"], "tham số 'period': 2019-01 nằm ngoài dữ liệu",
         "parameter 'period': 2019-01 is outside the data"),
        (["progress_report", "-p", "unit=SKHDT"], "đã kết thúc hoạt động ngày 01/03/2025", "ended on 01/03/2025"),
        (["unit_scorecard", "-p", "unit=XYZW"], "không có đơn vị 'XYZW'", "unknown org unit 'XYZW'"),
        (["roadmap_report", "-p", "phase=P9"], "không có giai đoạn lộ trình 'P9'", "unknown roadmap phase 'P9'"),
    ],
)  # fmt: skip
def test_a_reports_parameter_is_refused_in_the_readers_language(
    small_demo_db: Path, tmp_path: Path, params: list[str], vi: str, en: str
) -> None:
    args = ["report", *params, "--db", str(small_demo_db), "--out", str(tmp_path / "r")]
    said_vi = CliRunner().invoke(app, args)
    said_en = CliRunner().invoke(app, args, env={"EGOV_LANG": "en"})
    assert said_vi.exit_code == said_en.exit_code == 2
    text_vi, text_en = (" ".join(r.output.split()) for r in (said_vi, said_en))
    assert text_vi.startswith("lỗi: ") and vi in text_vi and "Gợi ý:" in text_vi, text_vi
    assert text_en.startswith("error: ") and en in text_en and "Hint:" in text_en, text_en
    # the Vietnamese message holds no English words (ids, names and the report's own name aside)
    words = re.sub(r"'[^']*'|\([^)]*\)|\b[a-z]+_[a-z_]+\b", "", text_vi)
    assert not ENGLISH.findall(words.lower()), (ENGLISH.findall(words.lower()), text_vi)
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").glob("*.html"))


def test_an_error_worded_only_in_english_is_printed_wholly_in_english() -> None:
    both = EgovError(
        Said("tệp không tồn tại", "file does not exist"), Said("kiểm tra đường dẫn", "check the path")
    )
    english = EgovError("unknown indicator 'x'", "known: a, b")
    assert both.in_language("vi") == "tệp không tồn tại\nGợi ý: kiểm tra đường dẫn"
    assert both.in_language("en") == "file does not exist\nHint: check the path"
    assert english.in_language("vi") == "unknown indicator 'x'\nHint: known: a, b"
    assert (both.language("vi"), english.language("vi"), both.language("en")) == ("vi", "en", "en")
    assert str(both) == both.in_language("en")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_scorecards_bands_say_which_band_holds_their_edge(small_demo_db: Path, lang: str) -> None:
    """The legend said 'tốt: 80,00–90,00' and 'khá: 70,00–80,00': 80 in both. A band holds its lower bound."""
    from egov_metrics.reports.kinds.unit_scorecard.page import UnitScorecard

    card = UnitScorecard(small_demo_db, "STP", lang=lang)
    items = re.findall(r"<li>(.*?)</li>", str(card.bands()))
    bands = sorted(card.method.bands, key=lambda b: float(b.min))
    assert len(items) == len(bands) >= 2
    for band, item in zip(card.method.bands, items, strict=True):
        low = f"{float(band.min):.2f}".replace(".", "," if lang == "vi" else ".")
        if band.below is None:
            tail = f"từ {low} trở lên" if lang == "vi" else f"{low} or more"
        else:
            high = f"{float(band.below):.2f}".replace(".", "," if lang == "vi" else ".")
            tail = f"từ {low} đến dưới {high}" if lang == "vi" else f"{low} to under {high}"
        assert item.endswith(": " + tail), item
