"""Every text of the indicator catalog exists in Vietnamese and English, and each language's text is in that
language: report appendices and workbooks print them (an English report showed "Hệ thống thông tin giải quyết
TTHC tỉnh" as a source, a Vietnamese one "chia theo online_level")."""

from __future__ import annotations

import re

import pytest

from egov_metrics.catalog import load_catalog

#: Proper names and the document codes of Vietnamese law, which stay as written in English text.
NAMES = ("Ninh Thuận", "QĐ-TTg", "NĐ-CP", "NQ-CP")
#: English words that are not Vietnamese words too.
ENGLISH = re.compile(
    r"\b(the|of|and|is|for|with|by|from|split|unit|units|source|table|formula|portal|service|services|"
    r"decision|decree|resolution|dossiers?|procedures?|online_level)\b",
    re.IGNORECASE,
)
CATALOG = load_catalog()


def _texts(lang: str) -> dict[str, list[str]]:
    out = {}
    for ind in CATALOG:
        note = ind.provisional_note_in(lang)
        texts = [ind.name_in(lang), getattr(ind.description, lang), ind.legal_source_in(lang)]
        out[ind.id] = texts + ([note] if note else [])
    return out


def _vietnamese_letters(text: str) -> list[str]:
    for name in NAMES:
        text = text.replace(name, "")
    return [ch for ch in text if ch.isalpha() and not ch.isascii()]


@pytest.mark.parametrize("indicator", sorted(i.id for i in CATALOG))
def test_vietnamese_texts_hold_no_english(indicator: str) -> None:
    for text in _texts("vi")[indicator]:
        found = [m.group(0) for m in ENGLISH.finditer(text)]
        assert not found, f"{indicator}: English in a Vietnamese text: {found} in {text!r}"


@pytest.mark.parametrize("indicator", sorted(i.id for i in CATALOG))
def test_english_texts_hold_no_vietnamese(indicator: str) -> None:
    for text in _texts("en")[indicator]:
        assert not _vietnamese_letters(text), f"{indicator}: Vietnamese in an English text: {text!r}"


def test_the_checks_find_what_they_look_for() -> None:
    assert [m.group(0) for m in ENGLISH.finditer("chia theo online_level để xem")] == ["online_level"]
    assert _vietnamese_letters("Hệ thống thông tin giải quyết TTHC tỉnh")
    assert not _vietnamese_letters("Decision 766/QĐ-TTg; Ninh Thuận e-government architecture framework")
