"""Parsing source text into typed values, in SQL: one parser per column type (a registry, keyed by type)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from egov_metrics.i18n import Said
from egov_metrics.ingest.kinds import Column
from egov_metrics.ingest.mapping import ColumnRule, Mapping


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


#: Characters that show as nothing (zero-width space, joiners, word joiner, BOM) and spaces that are not
#: ASCII spaces (no-break, figure, narrow no-break): removed / made plain spaces in every cell before matching.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
ODD_SPACES = "\u00a0\u2007\u202f"
#: Control characters that no export puts in a value (a NUL byte in a CSV is a damaged file).
CONTROL_CHARS = "[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]|\x00"


#: The same characters as UTF-8 bytes, to find out cheaply whether a file holds any of them at all.
ODD_BYTES: tuple[bytes, ...] = tuple(ch.encode("utf-8") for ch in ZERO_WIDTH + ODD_SPACES)


def clean_cell(expr: str, nfc: bool, odd: bool = True) -> str:
    """SQL: a cell in Unicode NFC (when `nfc`; keys and names) and, when the file holds any (`odd`), without
    zero-width characters and with no-break spaces as plain spaces, trimmed (NULL when empty). ASCII cells
    (bytes = characters) are left as they are, at no cost."""
    fixed = expr
    if odd:
        fixed = f"nullif(trim(regexp_replace(regexp_replace({fixed}, '[{ZERO_WIDTH}]', '', 'g'), '[{ODD_SPACES}]', ' ', 'g')), '')"
    if nfc:
        fixed = f"nfc_normalize({fixed})"
    if fixed == expr:
        return expr
    return f"CASE WHEN strlen({expr}) = length({expr}) THEN {expr} ELSE {fixed} END"


def value_key(text: str) -> str:
    """How a cell is compared with value-map keys; the SQL side is `_norm()` (NFC, lower case, single spaces)."""
    text = re.sub(f"[{ZERO_WIDTH}]", "", text)
    text = re.sub(f"[{ODD_SPACES}]", " ", text)
    return re.sub(r"[ \t\n\r\f\v]+", " ", unicodedata.normalize("NFC", text).strip()).lower()


@dataclass(frozen=True)
class TypeParser:
    """`parse(text_sql, column, mapping, rule)` → SQL of the typed value; `reason` explains a failure.

    With `distinct`, the parse runs once per distinct text (in `ingest_map_<column>`) and is joined back: the
    value-map lookups of enum and yes/no columns normalise Unicode, which is costly per row but cheap per value.
    """

    parse: Callable[[str, Column, Mapping, ColumnRule | None], str]
    reason: Callable[[Column, Mapping, ColumnRule | None], Said]
    distinct: bool = False


def _value_map(column: Column, mapping: Mapping, rule: ColumnRule | None) -> dict[str, str]:
    """The column's value map, without the texts mapped to "" (no value: read as an empty cell before parsing)."""
    return {text: value for text, value in mapping.column_values(column.name, rule).items() if value != ""}


def norm_sql(expr: str) -> str:
    """SQL: `expr` as value-map keys compare it (`value_key`)."""
    return _norm(expr)


def _norm(expr: str) -> str:
    """The SQL side of `value_key`: NFC, lower case, inner white space collapsed (cells reach it cleaned by
    `clean_cell`: no zero-width characters, no no-break spaces)."""
    return f"lower(nfc_normalize(regexp_replace({expr}, '\\s+', ' ', 'g')))"


def _case(expr: str, pairs: dict[str, str], otherwise: str) -> str:
    if not pairs:
        return otherwise
    whens = " ".join(f"WHEN {lit(k)} THEN {v}" for k, v in pairs.items())
    return f"CASE {_norm(expr)} {whens} ELSE {otherwise} END"


def _mapped_text(v: str, column: Column, mapping: Mapping, rule: ColumnRule | None) -> str:
    pairs = {value_key(k): lit(val) for k, val in _value_map(column, mapping, rule).items()}
    return _case(v, pairs, v)


def _parse_enum(v: str, column: Column, mapping: Mapping, rule: ColumnRule | None) -> str:
    pairs = {value_key(c): lit(c) for c in column.choices}
    pairs |= {value_key(k): lit(val) for k, val in _value_map(column, mapping, rule).items()}
    return _case(v, pairs, "NULL")


def _enum_reason(column: Column, mapping: Mapping, rule: ColumnRule | None) -> Said:
    sources = list(dict.fromkeys(_value_map(column, mapping, rule)))
    shown = ", ".join(sources[:8]) + (" …" if len(sources) > 8 else "")
    canonical = ", ".join(column.choices)
    return Said(
        f"giá trị không đọc được: cần một trong {shown + ' (hoặc mã chuẩn ' + canonical + ')' if shown else canonical}",
        f"unparseable value: expected one of {shown + ' (or ' + canonical + ')' if shown else canonical}",
    )


def _parse_bool(v: str, column: Column, mapping: Mapping, rule: ColumnRule | None) -> str:
    pairs = {value_key(k): "true" for k in (*mapping.true_values, "true")}
    pairs |= {value_key(k): "false" for k in (*mapping.false_values, "false")}
    pairs |= {value_key(k): val for k, val in _value_map(column, mapping, rule).items()}
    return _case(v, pairs, "NULL")


def _bool_reason(column: Column, mapping: Mapping, rule: ColumnRule | None) -> Said:
    yes = "/".join(mapping.true_values[:3])
    no = "/".join(mapping.false_values[:3])
    return Said(
        f"giá trị có/không không đọc được: cần {yes} hoặc {no}",
        f"unparseable yes/no value: expected {yes} or {no}",
    )


def _number_text(v: str, mapping: Mapping) -> str:
    text = f"replace({v}, ' ', '')"
    if mapping.thousands_separator:
        text = f"replace({text}, {lit(mapping.thousands_separator)}, '')"
    return text


#: A whole number written with the Vietnamese thousands separator: 12.000, 1.234.567 (groups of three).
VI_THOUSANDS = "[0-9]{1,3}(\\.[0-9]{3})+"
#: A number with a separator that could be read two ways (12,5 · 1,000 · 12.50): quarantined, not guessed.
AMBIGUOUS_NUMBER = "[0-9]+([.,][0-9]+)+"


def _parse_int(v: str, column: Column, mapping: Mapping, rule: ColumnRule | None) -> str:
    """Whole numbers: plain digits; 12.000 (the Vietnamese thousands separator) is twelve thousand; a value
    with another separator (12,5 · 1,000 · 2.5) is ambiguous and left unparsed (quarantined). A mapping's
    own `thousands_separator` replaces this rule."""
    text = _mapped_text(v, column, mapping, rule)
    if mapping.thousands_separator:
        x = f"TRY_CAST({_number_text(text, mapping)} AS DOUBLE)"
        return f"CASE WHEN {x} = floor({x}) AND abs({x}) < 9.0e15 THEN CAST({x} AS BIGINT) END"
    plain = f"replace({text}, ' ', '')"
    return (
        f"CASE WHEN regexp_full_match({plain}, '[+-]?[0-9]{{1,18}}') THEN TRY_CAST({plain} AS BIGINT) "
        # 12.0: a whole number that went through a floating-point column (Parquet, a database export)
        f"WHEN regexp_full_match({plain}, '[+-]?[0-9]{{1,18}}\\.0') THEN TRY_CAST(left({plain}, -2) AS BIGINT) "
        f"WHEN regexp_full_match({plain}, '[+-]?{VI_THOUSANDS}') AND length({plain}) < 20 "
        f"THEN TRY_CAST(replace({plain}, '.', '') AS BIGINT) END"
    )


def _int_reason(column: Column, mapping: Mapping, rule: ColumnRule | None) -> Said:
    if column.expected:
        return Said("số không đọc được: cần ", "unparseable number: expected ") + column.expected
    if mapping.thousands_separator:
        return Said("số không đọc được: cần một số nguyên", "unparseable number: expected a whole number")
    return Said(
        "số không đọc được: cần một số nguyên như 12 hoặc 12.000 (mười hai nghìn); giá trị như 12,5, 2.5 hoặc "
        "1,000 có thể hiểu hai cách: ghi số không có dấu phân cách (hoặc đặt thousands_separator trong tệp ánh "
        "xạ cột)",
        "unparseable number: expected a whole number such as 12 or 12.000 (twelve thousand); a value such as "
        "12,5, 2.5 or 1,000 is ambiguous: write it without separators (or set thousands_separator in a mapping)",
    )


def _parse_double(v: str, column: Column, mapping: Mapping, rule: ColumnRule | None) -> str:
    return f"TRY_CAST({_number_text(_mapped_text(v, column, mapping, rule), mapping)} AS DOUBLE)"


def _formats(mapping: Mapping, rule: ColumnRule | None) -> tuple[str, ...]:
    return (rule.date_formats if rule and rule.date_formats else None) or mapping.date_formats


def _strptime(text: str, formats: tuple[str, ...]) -> str:
    """try_strptime over `formats` in order, dispatched on the number of ':' in the text.

    A format that fails costs much more than one that matches, so each text is only tried with the formats
    that have as many literal ':' as it has (no other format can match it; the result is the same).
    """
    listed = "[" + ", ".join(lit(f) for f in formats) + "]"
    if any("%z" in f or "%Z" in f for f in formats):
        return f"try_strptime({text}, {listed})"
    groups: dict[int, list[str]] = {}
    for f in formats:
        groups.setdefault(f.replace("%%", "").count(":"), []).append(f)
    whens = " ".join(
        f"WHEN {n} THEN try_strptime({text}, [{', '.join(lit(f) for f in fs)}])" for n, fs in groups.items()
    )
    return f"CASE length({text}) - length(replace({text}, ':', '')) {whens} END"


#: An ISO time with a UTC offset: 2025-03-10T23:30:00+00:00, …Z, …+0700, …+07, also after a space and as
#: UTC / GMT (what some exports and databases write).
_OFFSET = "([+-])([0-9]{2}):?([0-9]{2})?$"
_ZONE = "\\s?(Z|UTC|GMT|[+-][0-9]{2}(:?[0-9]{2})?)"
_ISO_TIME = "[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}[T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?"
_ISO_WITH_OFFSET = _ISO_TIME + _ZONE
#: An ISO date or time without an offset: the only other text read as ISO. Anything else that starts like
#: one (`… GMT+7`, `… EST`) is left unparsed (quarantined): a cast would drop the zone without a word.
_ISO_NAIVE = "[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?)?"
#: Vietnam time (UTC+7, no daylight saving time since 1975): every stored time is local time.
VIETNAM_UTC_OFFSET_MINUTES = 7 * 60


def _iso(text: str) -> str:
    """ISO 8601 text → TIMESTAMP in Vietnam time: a time with a UTC offset (or Z, UTC, GMT) is converted to
    UTC+7; text with any other suffix is not an ISO time (NULL)."""
    sign = f"CASE regexp_extract({text}, '{_OFFSET}', 1) WHEN '-' THEN -1 ELSE 1 END"
    hours = f"TRY_CAST(regexp_extract({text}, '{_OFFSET}', 2) AS INTEGER)"
    minutes = f"coalesce(TRY_CAST(nullif(regexp_extract({text}, '{_OFFSET}', 3), '') AS INTEGER), 0)"
    offset = f"CASE WHEN regexp_matches({text}, '(Z|UTC|GMT)$') THEN 0 ELSE {sign} * ({hours} * 60 + {minutes}) END"
    bare = f"regexp_replace({text}, '{_ZONE}$', '')"
    shifted = f"TRY_CAST({bare} AS TIMESTAMP) + to_minutes({VIETNAM_UTC_OFFSET_MINUTES} - {offset})"
    return (
        f"CASE WHEN regexp_full_match({text}, '{_ISO_WITH_OFFSET}') THEN {shifted} "
        f"WHEN regexp_full_match({text}, '{_ISO_NAIVE}') THEN TRY_CAST({text} AS TIMESTAMP) END"
    )


def _parse_timestamp(v: str, column: Column, mapping: Mapping, rule: ColumnRule | None) -> str:
    """The mapping's formats, then ISO 8601 (what XLSX and Parquet cells become as text); a time with a UTC
    offset is converted to Vietnam time."""
    formats = _formats(mapping, rule)
    text = _mapped_text(v, column, mapping, rule)
    iso = _iso(text)
    if any(
        f.startswith("%Y") for f in formats
    ):  # the mapping has its own year-first formats: they come first
        return f"coalesce({_strptime(text, formats)}, {iso})"
    return f"CASE WHEN regexp_full_match(left({text}, 5), '[0-9]{{4}}-') THEN {iso} ELSE {_strptime(text, formats)} END"


def _parse_date(v: str, column: Column, mapping: Mapping, rule: ColumnRule | None) -> str:
    return f"CAST({_parse_timestamp(v, column, mapping, rule)} AS DATE)"


_READABLE = {
    "%d": "dd",
    "%m": "mm",
    "%Y": "yyyy",
    "%y": "yy",
    "%H": "HH",
    "%M": "MM",
    "%S": "SS",
    "%f": "ffffff",
}


def _readable(fmt: str) -> str:
    """'%d/%m/%Y %H:%M' → 'dd/mm/yyyy HH:MM', as a data officer reads a date format."""
    for directive, text in _READABLE.items():
        fmt = fmt.replace(directive, text)
    return fmt


def _date_reason(column: Column, mapping: Mapping, rule: ColumnRule | None) -> Said:
    shown = ", ".join(_readable(f) for f in _formats(mapping, rule))
    return Said(
        f"ngày không đọc được: cần {shown} hoặc yyyy-mm-dd",
        f"unparseable date: expected {shown} or yyyy-mm-dd",
    )


def _tthc_code(v: str, column: Column, mapping: Mapping, rule: ColumnRule | None) -> str:
    # Excel turns the code 1.000150 into the number 1.00015: put the trailing zeros back.
    text = _mapped_text(v, column, mapping, rule)
    return f"CASE WHEN regexp_full_match({text}, '[0-9]\\.[0-9]{{1,5}}') THEN rpad({text}, 8, '0') ELSE {text} END"


PARSERS: dict[str, TypeParser] = {
    "text": TypeParser(_mapped_text, lambda c, m, r: Said("giá trị không đọc được", "unparseable value")),
    "tthc_code": TypeParser(
        _tthc_code, lambda c, m, r: Said("mã thủ tục không đọc được", "unparseable procedure code")
    ),
    "enum": TypeParser(_parse_enum, _enum_reason, distinct=True),
    "bool": TypeParser(_parse_bool, _bool_reason, distinct=True),
    "int": TypeParser(_parse_int, _int_reason),
    "double": TypeParser(_parse_double, lambda c, m, r: Said("số không đọc được", "unparseable number")),
    "timestamp": TypeParser(_parse_timestamp, _date_reason),
    "date": TypeParser(_parse_date, _date_reason),
}
