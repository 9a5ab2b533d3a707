"""Language-aware formatting: numbers (vi 1.234,5 · en 1,234.5), percentages, dates (dd/mm/yyyy); `Said` (a
message in both languages, from `egov_metrics.said`)."""

from __future__ import annotations

import datetime as dt
import math

from egov_metrics.errors import UnknownNameError
from egov_metrics.said import Said as Said  # re-exported: the formatting and the words in one place

LANGS = ("vi", "en")
_SEPARATORS = {"vi": (".", ","), "en": (",", ".")}  # (thousands, decimal)


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise UnknownNameError.from_choices("language", lang, LANGS)
    return lang


def fmt_number(value: float | int | None, decimals: int = 0, lang: str = "vi") -> str:
    """1234.5 → '1.234,5' (vi) or '1,234.5' (en); None/NaN → '–'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    thousands, decimal = _SEPARATORS[check_lang(lang)]
    text = f"{value:,.{decimals}f}"
    if text.startswith("-") and not text.strip("-0.,"):  # -0.04 rounds to "-0.0": a zero has no sign
        text = text[1:]
    return text.replace(",", "\x00").replace(".", decimal).replace("\x00", thousands)


def fmt_percent(value: float | None, decimals: int = 1, lang: str = "vi") -> str:
    """A value already in percent (62.3) → '62,3 %' (vi) / '62.3 %' (en)."""
    return "–" if value is None else f"{fmt_number(value, decimals, lang)} %"


def fmt_points(value: float | None, decimals: int = 1, lang: str = "vi") -> str:
    """A change in percentage points: '+4,1 điểm %' / '+4.1 pp'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    unit = "điểm %" if lang == "vi" else "pp"
    return f"{with_sign(value, fmt_number(value, decimals, lang))} {unit}"


def with_sign(value: float, text: str) -> str:
    """`text` (the formatted `value`) with a '+' for a rise, unless it shows a zero ('0,0': a change that rounds
    to nothing has no sign, as a fall that rounds to nothing has none)."""
    return f"+{text}" if value > 0 and any(c in "123456789" for c in text) else text


def fmt_value(value: float | None, unit: str, decimals: int, lang: str = "vi") -> str:
    """Format a catalog value by its unit (percent, working_days, count, ratio)."""
    if unit == "percent":
        return fmt_percent(value, min(decimals, 1), lang)
    if unit == "working_days":
        suffix = " ngày LV" if lang == "vi" else " working days"
        return "–" if value is None else fmt_number(value, decimals, lang) + suffix
    return fmt_number(value, decimals, lang)


def fmt_date(value: dt.date | dt.datetime | None, lang: str = "vi") -> str:
    """dd/mm/yyyy in both languages (as Vietnamese offices write dates)."""
    check_lang(lang)
    return "–" if value is None else value.strftime("%d/%m/%Y")


def fmt_period(period: str, lang: str = "vi") -> str:
    """'2025-03' → 'tháng 03/2025' / 'March 2025'; '2025-Q1' → 'quý 1/2025' / 'Q1 2025'; '2025' → 'năm 2025';
    '2025-03 YTD' (the engine's year to date) → 'lũy kế đến tháng 03/2025' / 'year to date, March 2025'."""
    check_lang(lang)
    if period.endswith(" YTD") and len(period) == 11:
        named = fmt_period(period[:7], lang)
        return f"lũy kế đến {named}" if lang == "vi" else f"year to date, {named}"
    if len(period) == 7 and period[4] == "-" and period[5:].isdigit():
        year, month = int(period[:4]), int(period[5:])
        return f"tháng {month:02d}/{year}" if lang == "vi" else dt.date(year, month, 1).strftime("%B %Y")
    if "-Q" in period:
        year_text, q = period.split("-Q")
        return f"quý {q}/{year_text}" if lang == "vi" else f"Q{q} {year_text}"
    if period.isdigit():
        return f"năm {period}" if lang == "vi" else period
    return period
