"""The SQL of an ingest: parse the mapped columns, resolve references, find every rejected row, upsert the rest.

Everything row-level runs in DuckDB over temporary tables and views (no Python loop over rows):

    ingest_raw       __row, c0 … cN, __extra        the reader's frame, registered as a view (no copy)
    ingest_clean     __row, "<col>$in"              view: the mapped source text, pattern and default applied
    ingest_map_<c>   k, v                           enum and yes/no columns parsed once per distinct text
    ingest_parsed    __row, "<col>$in", "<col>"     parsed to the column's type (NULL when unparseable)
    ingest_ref_<c>   key, [day,] value              lookups for references (unit by id or code, procedure …)
    ingest_eff       __row, <col>, "old$<col>"      the row as it would be stored, and the stored row if any
    ingest_reject    __row, col, reason, reason_vi, problem   one line per problem (a row can have several)
    ingest_good      __row, <col>, __status         the rows to keep: insert | update | same

Per-type parsing is in `parsers.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from egov_metrics.errors import IngestError
from egov_metrics.i18n import Said, fmt_number
from egov_metrics.ingest.kinds import EARLIEST_RECEIVED, Column, Kind
from egov_metrics.ingest.mapping import ColumnRule, Mapping, normalise, suggest
from egov_metrics.ingest.parsers import CONTROL_CHARS, PARSERS, clean_cell, lit, norm_sql, q, value_key
from egov_metrics.ingest.problems import PROBLEMS as PROBLEMS  # re-exported: the problems the checks name

if TYPE_CHECKING:
    import duckdb

# --- the column plan -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A canonical column as this file provides it: from a source column, a default, or both."""

    column: Column
    header: str | None
    index: int | None
    rule: ColumnRule | None
    default: str | None


@dataclass(frozen=True)
class Plan:
    kind: Kind
    mapping: Mapping
    headers: tuple[str, ...]
    fields: dict[str, Field]
    ignored: tuple[str, ...]
    #: The file holds zero-width characters or no-break spaces somewhere (cells are cleaned of them).
    odd_spaces: bool = True
    #: The file holds control characters somewhere (cells are checked for them).
    control_chars: bool = True


def plan_columns(
    kind: Kind,
    mapping: Mapping,
    headers: tuple[str, ...],
    path: Path,
    *,
    odd_spaces: bool = True,
    control_chars: bool = True,
) -> Plan:
    """Match the file's headers to the mapping; raises IngestError naming every missing required column."""
    position: dict[str, int] = {}
    for i, header in enumerate(headers):
        position.setdefault(normalise(header), i)
    fields: dict[str, Field] = {}
    for header, rule in mapping.rules():
        index = position.get(normalise(header))
        if index is not None and rule.to not in fields:
            fields[rule.to] = Field(
                kind.column(rule.to), headers[index], index, rule, mapping.defaults.get(rule.to)
            )
    defaults = dict(mapping.defaults)
    if "source" in kind.column_names:
        defaults.setdefault("source", mapping.source_label)
    for column, value in defaults.items():
        if column not in fields:
            fields[column] = Field(kind.column(column), None, None, None, value)
    missing = [c for c in kind.required if c not in fields and kind.column(c).fallback not in fields]
    if missing:
        raise _missing_columns(kind, mapping, headers, missing, path)
    _refuse_duplicate_headers(headers, path)
    used = {f.index for f in fields.values()}
    ignored = tuple(h for i, h in enumerate(headers) if i not in used)
    _refuse_near_misses(kind, mapping, ignored, fields, path)
    return Plan(kind, mapping, headers, fields, ignored, odd_spaces, control_chars)


def _refuse_near_misses(
    kind: Kind, mapping: Mapping, ignored: tuple[str, ...], fields: dict[str, Field], path: Path
) -> None:
    """A header the mapping does not read that looks like one it reads for a column the file lacks ("Ket qua
    dien tu", "Có kết quả điện tử" for "Kết quả điện tử"): loaded as it is, every row would silently take the
    column's default (no electronic result at all), so the file is refused, naming both headers."""
    lines: list[Said] = []
    for column in kind.column_names:
        if column in fields:
            continue
        expected = [h for h, r in mapping.rules() if r.to == column]
        for header in ignored:
            close = suggest(header, expected, n=1)
            if close:
                default = kind.column(column).default
                effect = (
                    Said(
                        f"sẽ nhận giá trị mặc định của {column} ({default})",
                        f"would take {column}'s default ({default})",
                    )
                    if default
                    else Said(f"sẽ không có {column}", f"would have no {column}")
                )
                lines.append(
                    Said(
                        f"  {header!r} giống {close[0]!r} ({column}), cột mà tệp không có: mọi dòng {effect.vi}",
                        f"  {header!r} looks like {close[0]!r} ({column}), which the file does not have: every row "
                        f"{effect.en}",
                    )
                )
    if lines:
        raise IngestError(
            Said(
                f"{path}: (các) cột mà ánh xạ {mapping.name!r} không đọc nhưng giống một cột nó đọc:\n"
                + "\n".join(line.vi for line in lines),
                f"{path}: column(s) not read by mapping {mapping.name!r} that look like one it reads:\n"
                + "\n".join(line.en for line in lines),
            ),
            Said(
                "đổi tiêu đề trong tệp thành tiêu đề mà ánh xạ đọc, hoặc viết một ánh xạ cột với tiêu đề như tệp "
                "ghi (docs/ingest.md) rồi truyền --mapping my_mapping.yaml; một cột chứa nội dung khác: đổi tên "
                "để nó không giống một cột của ánh xạ",
                "rename the header in the file to the one the mapping reads, or write a mapping with the header as "
                "the file writes it (docs/ingest.md) and pass --mapping my_mapping.yaml; a column that holds "
                "something else: rename it so that it does not look like a column of the mapping",
            ),
        )


def _column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the column as a spreadsheet names it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _refuse_duplicate_headers(headers: tuple[str, ...], path: Path) -> None:
    """Two columns with the same header (case, spaces and Unicode form aside): which one holds the data is a
    guess, so the file is refused."""
    where: dict[str, list[int]] = {}
    for i, header in enumerate(headers):
        where.setdefault(normalise(header), []).append(i)
    twice = [(headers[ix[0]], ix) for ix in where.values() if len(ix) > 1]
    if twice:
        places = [(h, ", ".join(_column_letter(i) + f" ({i + 1})" for i in ix)) for h, ix in twice]
        raise IngestError(
            Said(
                f"{path}: một tiêu đề xuất hiện nhiều lần, nên không rõ cột nào chứa dữ liệu:\n"
                + "\n".join(f"  {h!r} ở các cột {where}" for h, where in places),
                f"{path}: the same header appears more than once, so which column holds the data is unclear:\n"
                + "\n".join(f"  {h!r} in columns {where}" for h, where in places),
            ),
            Said(
                "đổi tên hoặc xóa (các) cột thừa trong tệp để mỗi tiêu đề là duy nhất, rồi nạp lại",
                "rename or delete the extra column(s) in the file so that every header is unique, then load it "
                "again",
            ),
        )


def _missing_columns(
    kind: Kind, mapping: Mapping, headers: tuple[str, ...], missing: list[str], path: Path
) -> IngestError:
    lines: list[Said] = []
    hints: list[Said] = []
    for column in missing:
        expected = [h for h, r in mapping.rules() if r.to == column]
        lines.append(
            Said(
                f"  {column}: cần một cột có tiêu đề {' hoặc '.join(repr(h) for h in expected)}",
                f"  {column}: expected a column headed {' or '.join(repr(h) for h in expected)}",
            )
        )
        hints += [
            Said(f"{c!r} thay cho {e!r}", f"{c!r} for {e!r}") for e in expected for c in suggest(e, headers)
        ]
    found = ", ".join(repr(h) for h in headers)
    guess = (
        Said(
            f"có phải là {'; '.join(h.vi for h in hints)}? ",
            f"did you mean {'; '.join(h.en for h in hints)}? ",
        )
        if hints
        else Said("", "")
    )
    return IngestError(
        Said(
            f"{path}: thiếu (các) cột bắt buộc cho {kind.name_vi or kind.name} với ánh xạ {mapping.name!r}:\n"
            + "\n".join(line.vi for line in lines)
            + f"\ncác cột tìm thấy: {found or 'không có'}",
            f"{path}: missing required column(s) for {kind.name} with mapping {mapping.name!r}:\n"
            + "\n".join(line.en for line in lines)
            + f"\ncolumns found: {found or 'none'}",
        ),
        guess
        + Said(
            "đổi tên cột trong tệp, hoặc viết một ánh xạ cột cho bố cục này (docs/ingest.md) rồi truyền "
            "--mapping my_mapping.yaml",
            "rename the column in the file, or write a mapping for this layout (docs/ingest.md) "
            "and pass --mapping my_mapping.yaml",
        ),
    )


def _input_expr(field: Field, odd: bool = True, blanks: tuple[str, ...] = ()) -> str:
    """The source text of a column (readers already trimmed it), its pattern applied, the texts the mapping
    maps to "" (`blanks`: "Chưa đánh giá", no rating) read as an empty cell, its default filled in."""
    # a pattern is matched against NFC text (Excel on a Mac writes NFD: "ngày" would not match "ngày")
    nfc = field.column.type in ("text", "tthc_code") or bool(field.rule and field.rule.pattern)
    text = (
        clean_cell(f"c{field.index}", nfc=nfc, odd=odd)
        if field.index is not None
        else "CAST(NULL AS VARCHAR)"
    )
    if field.rule and field.rule.pattern:
        # the group's match when the pattern matches, the text unchanged otherwise (a value map may know it)
        text = f"coalesce(nullif(regexp_extract({text}, {lit(field.rule.pattern)}, 1), ''), {text})"
    if blanks:
        keys = ", ".join(lit(value_key(b)) for b in blanks)
        text = f"CASE WHEN {norm_sql(text)} IN ({keys}) THEN NULL ELSE {text} END"
    if field.default is not None:
        text = f"coalesce({text}, {lit(field.default)})"
    return text


#: What the label of a total row says ("Tổng cộng: 1.234 hồ sơ" is one too), normalised (NFC, lower case).
TOTAL_WORDS = ("tổng cộng", "tổng", "cộng", "tổng số", "total", "grand total", "sum")
#: Columns looked at for a total row's label (it sits in the first columns, or in the key column).
TOTAL_LABEL_COLUMNS = 4


def _total_label(expr: str) -> str:
    words = "|".join(TOTAL_WORDS)
    # the word alone, or followed by what is not a word ("Tổng cộng: 12", "Tổng cộng (12 hồ sơ)", "Cộng 12")
    # or by what is counted or a platform ("Tổng số hồ sơ", "Cộng LGSP", "Tổng cộng ngày 10/03"); never by
    # another word ("Tổng đài 1022", "Tổng cục Thuế" are names)
    counted = "hồ sơ|giao dịch|yêu cầu|lgsp|ndxp|nền tảng|ngày|tháng"
    return (
        f"regexp_full_match(lower(nfc_normalize({expr})), "
        f"'\\s*({words})(\\s*[^\\pL\\s].*|\\s+({counted})([^\\pL].*)?)?\\s*')"
    )


def total_row_sql(plan: Plan) -> str:
    """SQL that is TRUE for a total row: its key cell is empty or a total label, and one of its first
    cells (or the key cell) is a total label ("Tổng cộng"). It is skipped and reported, not quarantined."""
    key = plan.fields.get(plan.kind.key[0])
    key_cell = f"c{key.index}" if key is not None and key.index is not None else "NULL"
    first = [f"c{i}" for i in range(min(TOTAL_LABEL_COLUMNS, len(plan.headers)))]
    labels = " OR ".join(_total_label(c) for c in dict.fromkeys([*first, key_cell]) if c != "NULL") or "false"
    by_key = (
        f"CASE WHEN {key_cell} IS NULL OR length({key_cell}) < 40 AND {_total_label(key_cell)} "
        f"THEN coalesce({labels}, false) ELSE false END"
    )
    # a subtotal whose key cell is filled in (the day of an exchange report's 'Cộng LGSP')
    cells = [
        f"c{f.index}"
        for c in plan.kind.total_label_columns
        if (f := plan.fields.get(c)) is not None and f.index is not None
    ]
    if not cells:
        return by_key
    labelled = " OR ".join(f"coalesce(length({c}) < 40 AND {_total_label(c)}, false)" for c in cells)
    return f"({by_key} OR {labelled})"


def _blanks(mapping: Mapping, column: str, field: Field) -> tuple[str, ...]:
    """The texts a mapping maps to "" for `column`: they mean no value (an unrated dossier's "Chưa đánh giá")."""
    return tuple(text for text, value in mapping.column_values(column, field.rule).items() if value == "")


def clean_sql(plan: Plan) -> str:
    """ingest_clean (a view): the mapped columns as text; blank rows and total rows left out."""
    inputs = ", ".join(
        f"{_input_expr(f, plan.odd_spaces, _blanks(plan.mapping, c, f))} AS {q(c + '$in')}"
        for c, f in plan.fields.items()
    )
    blank = " AND ".join(f"c{i} IS NULL" for i in range(len(plan.headers))) or "true"
    return (
        f"CREATE OR REPLACE TEMP VIEW ingest_clean AS SELECT __row, __extra, {inputs} "
        f"FROM ingest_raw WHERE NOT ({blank} AND __extra IS NULL) AND NOT ({total_row_sql(plan)})"
    )


def total_rows_sql(plan: Plan) -> str:
    """The total rows that `clean_sql` leaves out: (__row, label)."""
    first = [f"c{i}" for i in range(min(TOTAL_LABEL_COLUMNS, len(plan.headers)))]
    label = f"coalesce({', '.join(first)})" if first else "NULL"
    return f"SELECT __row, {label} AS label FROM ingest_raw WHERE {total_row_sql(plan)} ORDER BY __row"


def map_sql(plan: Plan) -> dict[str, str]:
    """Per column parsed over its distinct texts: ingest_map_<column>(k, v)."""
    out = {}
    for column, field in plan.fields.items():
        parser = PARSERS[field.column.type]
        if parser.distinct:
            parsed = parser.parse("k", field.column, plan.mapping, field.rule)
            out[column] = (
                f"CREATE OR REPLACE TEMP TABLE ingest_map_{column} AS SELECT k, {parsed} AS v "
                f"FROM (SELECT DISTINCT {q(column + '$in')} AS k FROM ingest_clean WHERE k IS NOT NULL)"
            )
    return out


def parsed_sql(plan: Plan) -> str:
    """ingest_parsed: each mapped column parsed to its type (NULL when the text is not a valid value)."""
    parts, joins = [], []
    for column, field in plan.fields.items():
        raw = q(column + "$in")
        parser = PARSERS[field.column.type]
        if parser.distinct:
            alias = q("map$" + column)
            joins.append(f"LEFT JOIN ingest_map_{column} {alias} ON {alias}.k = c.{raw}")
            parsed = f"{alias}.v"
        else:
            parsed = parser.parse(f"c.{raw}", field.column, plan.mapping, field.rule)
        parts.append(f"c.{raw}, {parsed} AS {q(column)}")
    return (
        f"CREATE OR REPLACE TEMP TABLE ingest_parsed AS SELECT c.__row, c.__extra, {', '.join(parts)} "
        f"FROM ingest_clean c {' '.join(joins)}"
    )


# --- references ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """A temp table of known keys for one column (`key`, `value`), and how ingest_parsed `p` joins it."""

    create: str
    on: Callable[[str], str]
    #: SQL of the reason when the value is not found (default: the Reference's fixed reason), and of its
    #: problem (`PROBLEMS`, default 'unknown').
    reason: Callable[[str], Said] | None = None
    problem: Callable[[str], str] | None = None

    def join(self, column: str) -> str:
        alias = q("ref$" + column)
        return f"LEFT JOIN ingest_ref_{column} {alias} ON {self.on(alias)}"


def _received_day(plan: Plan, prefix: str = "") -> str:
    """SQL: the received day a unit is looked up on; NULL when the file has none or when the date is outside
    the plausible window (the row is quarantined for its date: naming the unit too would only confuse)."""
    if "received_at" not in plan.fields:
        return "CAST(NULL AS DATE)"
    at = f"{prefix}received_at"
    margin = plan.mapping.future_margin_days
    return (
        f"CASE WHEN {at} >= TIMESTAMP '{EARLIEST_RECEIVED}' AND {at} <= localtimestamp + INTERVAL {margin} DAY "
        f"THEN CAST({at} AS DATE) END"
    )


def _unit_lookup(column: str, plan: Plan) -> Lookup:
    """A unit by its id or its code: the unit valid on the received day first (a code is reused by the new
    version of a merged unit, whose old version kept the code as its id), then an id before a code, then the
    latest version.

    A row received before any unit with that id or code existed (SNNMT-2025 in 2024) is attached to the
    unit's predecessor that was valid that day (crosswalk or successor links), reported in the summary; with
    no such predecessor, or several, the row is quarantined with the reason (`how`: crosswalk, none, several).
    Likewise a row received after every unit with that id or code had ended (STNMT, until 1/3/2025, on a
    dossier of 2026) is attached to the unit that succeeded it and was valid that day, or quarantined
    (`how`: successor, ended, ended_several).
    """
    day = _received_day(plan)
    valid = "(w.day >= c.valid_from AND (c.valid_to IS NULL OR w.day < c.valid_to))"
    create = f"""
        WITH wanted AS (SELECT DISTINCT {q(column)} AS key, {day} AS day FROM ingest_parsed
                         WHERE {q(column)} IS NOT NULL),
             candidate AS (SELECT id AS key, id, 0 AS pri, valid_from, valid_to FROM org_unit
                           UNION ALL SELECT code, id, 1, valid_from, valid_to FROM org_unit),
             direct AS (
                SELECT w.key, w.day,
                       first(c.id ORDER BY {valid} DESC NULLS LAST, c.pri, c.valid_from DESC) AS value,
                       min(c.valid_from) AS first_from,
                       CASE WHEN bool_or(c.valid_to IS NULL) THEN NULL ELSE max(c.valid_to) END AS last_to
                FROM wanted w JOIN candidate c ON c.key = w.key GROUP BY w.key, w.day),
             link AS (SELECT old_id, new_id FROM org_unit_crosswalk
                      UNION SELECT id, successor_id FROM org_unit WHERE successor_id IS NOT NULL),
             early AS (SELECT * FROM direct WHERE day < first_from),
             via AS (
                SELECT e.key, e.day, list(DISTINCT o.id ORDER BY o.id) AS ids
                FROM early e JOIN link l ON l.new_id = e.value JOIN org_unit o ON o.id = l.old_id
                WHERE e.day >= o.valid_from AND (o.valid_to IS NULL OR e.day < o.valid_to)
                GROUP BY ALL),
             late AS (SELECT * FROM direct WHERE day >= last_to),
             ahead AS (
                SELECT e.key, e.day, list(DISTINCT o.id ORDER BY o.id) AS ids
                FROM late e JOIN link l ON l.old_id = e.value JOIN org_unit o ON o.id = l.new_id
                WHERE e.day >= o.valid_from AND (o.valid_to IS NULL OR e.day < o.valid_to)
                GROUP BY ALL)
        SELECT d.key, d.day,
               CASE WHEN d.day IS NULL OR d.day >= d.first_from AND NOT coalesce(d.day >= d.last_to, false)
                    THEN d.value
                    WHEN d.day < d.first_from AND len(v.ids) = 1 THEN v.ids[1]
                    WHEN d.day >= d.last_to AND len(a.ids) = 1 THEN a.ids[1] END AS value,
               CASE WHEN d.day IS NULL OR d.day >= d.first_from AND NOT coalesce(d.day >= d.last_to, false)
                    THEN 'direct'
                    WHEN d.day < d.first_from THEN
                        CASE WHEN len(v.ids) = 1 THEN 'crosswalk' WHEN len(v.ids) > 1 THEN 'several' ELSE 'none' END
                    WHEN len(a.ids) = 1 THEN 'successor' WHEN len(a.ids) > 1 THEN 'ended_several' ELSE 'ended'
               END AS how,
               d.value AS given, d.first_from, d.last_to,
               array_to_string(coalesce(v.ids, a.ids), ', ') AS candidates
        FROM direct d LEFT JOIN via v ON v.key = d.key AND v.day IS NOT DISTINCT FROM d.day
             LEFT JOIN ahead a ON a.key = d.key AND a.day IS NOT DISTINCT FROM d.day
        UNION ALL  -- no unit has that id or code: the unit it probably means (case, accents, its name)
        SELECT w.key, w.day, NULL, 'unknown', NULL, NULL, NULL,
               (SELECT first(o.code || ' (' || o.name_vi || ')' ORDER BY o.valid_to DESC NULLS FIRST, o.id)
                FROM org_unit o
                WHERE lower(strip_accents(w.key)) IN (lower(strip_accents(o.code)), lower(strip_accents(o.id)),
                                                      lower(strip_accents(o.name_vi))))
        FROM wanted w WHERE NOT EXISTS (SELECT 1 FROM candidate c WHERE c.key = w.key)"""
    p_day = _received_day(plan, "p.")

    def reason(r: str) -> Said:
        first_vi, last_vi = (f"strftime({r}.{c}, '%d/%m/%Y')" for c in ("first_from", "last_to"))
        return Said(
            f"CASE {r}.how WHEN 'none' THEN 'đơn vị ' || {r}.given || ' chưa tồn tại vào ngày tiếp nhận (đơn vị có "
            f"từ ' || {first_vi} || ') và không đơn vị nào mà nó thay thế còn hiệu lực vào ngày đó: kiểm tra lại mã "
            "đơn vị hoặc ngày' WHEN 'several' THEN 'đơn vị ' || "
            f"{r}.given || ' chưa tồn tại vào ngày tiếp nhận (đơn vị có từ ' || {first_vi} || '); các đơn vị mà "
            f"nó thay thế là ' || {r}.candidates || ': ghi mã của đơn vị đã tiếp nhận hồ sơ' WHEN 'ended' THEN "
            f"'đơn vị ' || {r}.given || ' không còn tồn tại vào ngày tiếp nhận (đơn vị có đến ' || {last_vi} || ') "
            "và không đơn vị kế thừa nào còn hiệu lực vào ngày đó: kiểm tra lại mã đơn vị hoặc ngày' WHEN "
            f"'ended_several' THEN 'đơn vị ' || {r}.given || ' không còn tồn tại vào ngày tiếp nhận (đơn vị có "
            f"đến ' || {last_vi} || '); các đơn vị kế thừa là ' || {r}.candidates || ': ghi mã của đơn vị đã tiếp "
            "nhận hồ sơ' ELSE 'mã đơn vị không có trong danh mục đơn vị' || coalesce(': có phải là ' || "
            f"{r}.candidates || '? mã phải khớp đúng (chữ hoa, chữ thường và dấu đều được tính)', '') || "
            "': sửa mã trong tệp, hoặc nạp danh mục đơn vị trước (egov-metrics ingest unit TỆP)' END",
            f"CASE {r}.how WHEN 'none' THEN 'unit ' || {r}.given || ' did not exist yet on the received day (it "
            f"exists from ' || {r}.first_from || ') and no unit it replaced was valid that day: check the unit code or "
            "the date' WHEN 'several' THEN 'unit ' || "
            f"{r}.given || ' did not exist yet on the received day (it exists from ' || {r}.first_from || '); "
            f"the units it replaced were ' || {r}.candidates || ': give the code of the one that received the "
            "dossier' WHEN 'ended' THEN 'unit ' || "
            f"{r}.given || ' no longer existed on the received day (it existed until ' || {r}.last_to || ') and no "
            "unit that succeeded it was valid that day: check the unit code or the date' WHEN 'ended_several' THEN "
            f"'unit ' || {r}.given || ' no longer existed on the received day (it existed until ' || {r}.last_to || "
            f"'); the units that succeeded it were ' || {r}.candidates || ': give the code of the one that received "
            "the dossier' ELSE 'unknown unit code' || coalesce(': did you mean ' || "
            f"{r}.candidates || '? codes match exactly (upper/lower case and accents count)', '') || "
            "': correct the code in the file, or load the unit list first (egov-metrics ingest unit FILE)' END",
        )

    return Lookup(
        create,
        lambda r: f"{r}.key = p.{q(column)} AND {r}.day IS NOT DISTINCT FROM {p_day}",
        reason,
        lambda r: f"CASE {r}.how WHEN 'unknown' THEN 'unknown' ELSE 'unit_not_valid' END",
    )


def _procedure_lookup(column: str, plan: Plan) -> Lookup:
    return Lookup("SELECT code AS key, code AS value FROM procedure", lambda r: f"{r}.key = p.{q(column)}")


def _unit_in_file_lookup(column: str, plan: Plan) -> Lookup:
    """A unit that exists already or is in the same file (parents and successors)."""
    return Lookup(
        "SELECT id AS key, id AS value FROM org_unit UNION SELECT id, id FROM ingest_parsed WHERE id IS NOT NULL",
        lambda r: f"{r}.key = p.{q(column)}",
    )


def _field_lookup(column: str, plan: Plan) -> Lookup:
    """A procedure field by its code or its Vietnamese name (case and Unicode form ignored)."""
    key = "lower(nfc_normalize({}))"
    create = f"""
        SELECT key, first(value ORDER BY pri) AS value FROM (
            SELECT {key.format("code")} AS key, code AS value, 0 AS pri FROM field
            UNION ALL SELECT {key.format("name_vi")}, code, 1 FROM field) GROUP BY key"""
    return Lookup(create, lambda r: f"{r}.key = {key.format('p.' + q(column))}")


RESOLVERS: dict[str, Callable[[str, Plan], Lookup]] = {
    "field": _field_lookup,
    "unit": _unit_lookup,
    "procedure": _procedure_lookup,
    "unit_in_file": _unit_in_file_lookup,
}


def lookups(plan: Plan) -> dict[str, Lookup]:
    """The lookups of the kind's references whose column this file provides."""
    return {
        ref.column: RESOLVERS[ref.resolver](ref.column, plan)
        for ref in plan.kind.references
        if ref.column in plan.fields
    }


# --- the effective rows ----------------------------------------------------------------------------------


def _day_end(expr: str) -> str:
    return f"CASE WHEN {expr} = date_trunc('day', {expr}) THEN {expr} + INTERVAL 86399 SECOND ELSE {expr} END"


def _new_value(plan: Plan, column: Column) -> str:
    """The value of a column the file does not provide, for a new row."""
    parts = []
    if column.fallback and column.fallback in plan.fields:
        parts.append(f"p.{q(column.fallback)}")
    if column.default is not None:
        parts.append(column.default)
    if len(parts) > 1:
        return f"coalesce({', '.join(parts)})"
    return parts[0] if parts else "NULL"


def _effective(plan: Plan, column: Column, refs: dict[str, Lookup], exists: str) -> str:
    if column.name not in plan.fields:
        return f"CASE WHEN {exists} THEN t.{q(column.name)} ELSE {_new_value(plan, column)} END"
    value = f"p.{q(column.name)}"
    if column.name in refs:
        found = f"{q('ref$' + column.name)}.value"
        keep = any(r.column == column.name and r.keep_unknown for r in plan.kind.references)
        value = f"coalesce({found}, {value})" if keep else found
    if column.day_end:
        value = _day_end(value)
    if column.fallback and column.fallback in plan.fields:
        value = f"coalesce({value}, p.{q(column.fallback)})"
    if column.default is not None:
        value = f"coalesce({value}, {column.default})"
    return value


def eff_sql(plan: Plan, refs: dict[str, Lookup]) -> str:
    """ingest_eff: the row as it would be stored (columns the file lacks keep their stored value), and
    the stored row (`old$…`) when the key exists already."""
    kind = plan.kind
    exists = f"t.{q(kind.key[0])} IS NOT NULL"
    cols = [f"{_effective(plan, c, refs, exists)} AS {q(c.name)}" for c in kind.columns]
    olds = [f"t.{q(c.name)} AS {q('old$' + c.name)}" for c in kind.columns]
    joins = [ref.join(column) for column, ref in refs.items()]
    on = " AND ".join(f"t.{q(k)} = p.{q(k)}" for k in kind.key)
    return (
        f"CREATE OR REPLACE TEMP TABLE ingest_eff AS SELECT p.__row, {', '.join(cols)}, {', '.join(olds)}, "
        f"{exists} AS __exists FROM ingest_parsed p {' '.join(joins)} LEFT JOIN {kind.table} t ON {on}"
    )


# --- rejections ------------------------------------------------------------------------------------------


def _reject(select_from: str, column: str | None, reason: Said, where: str, problem: str) -> str:
    """A SELECT of rejected rows; `reason` holds SQL in both languages, `problem` is SQL of a `PROBLEMS` key
    (or 'rule')."""
    col = lit(column) if column else "NULL"
    return (
        f"SELECT __row, {col} AS col, {reason.en} AS reason, {reason.vi} AS reason_vi, {problem} AS problem "
        f"FROM {select_from} WHERE {where}"
    )


def _said_sql(said: Said) -> Said:
    """`said` as two SQL string literals."""
    return said.map(lit)


TOO_MANY_FIELDS = Said(
    "thừa trường: có lẽ một giá trị chứa dấu phân cách mà không nằm trong dấu ngoặc kép",
    "too many fields: a value probably contains the delimiter without quotes",
)
#: Excel's longest cell; a longer value is a damaged file (a quote that never closes swallowed the rest).
MAX_CELL_CHARS = 32_767
DAMAGED = Said(
    "giá trị có ký tự điều khiển (như byte NUL): tệp bị hỏng; xuất lại tệp hoặc xóa ký tự đó",
    "control character (such as a NUL byte) in the value: the file is damaged; export it again or delete "
    "the character",
)
TOO_LONG = Said(
    f"giá trị dài hơn {fmt_number(MAX_CELL_CHARS, 0, 'vi')} ký tự (nhiều nhất một ô bảng tính chứa được): thường "
    "do một dấu ngoặc kép không được đóng; kiểm tra dòng này trong tệp gốc",
    f"value longer than {MAX_CELL_CHARS:,} characters (the most a spreadsheet cell holds): usually a quote "
    "that never closes; check the row in the source file",
)
#: Upper bounds of the integer columns stored in narrower types than BIGINT.
INT_LIMITS = {"supplement_count": 32767, "supplement_days": 2**31 - 1, "statutory_days": 2**31 - 1}


def _shape_problems(plan: Plan, refs: dict[str, Lookup]) -> list[str]:
    return [
        _reject("ingest_parsed", None, _said_sql(TOO_MANY_FIELDS), "__extra IS NOT NULL", "'too_many_fields'")
    ]


#: Added to an unparseable date that looks like an Excel day number (five digits, maybe a time fraction).
EXCEL_SERIAL_HINT = Said(
    "; giá trị này giống số ngày của Excel (ô đã mất định dạng ngày): định dạng cột là ngày (dd/mm/yyyy "
    "hh:mm) trong Excel rồi xuất lại",
    "; this looks like an Excel date serial number (the cell lost its date format): format the column as a "
    "date (dd/mm/yyyy hh:mm) in Excel and export again",
)


def _value_problems(plan: Plan, refs: dict[str, Lookup]) -> list[str]:
    """Values that do not parse, or parse outside the column's range."""
    parts = []
    for column, field in plan.fields.items():
        c, raw, col = q(column), q(column + "$in"), field.column
        reason = PARSERS[col.type].reason(col, plan.mapping, field.rule)
        damaged = f"regexp_matches({raw}, {lit(CONTROL_CHARS)})" if plan.control_chars else "false"
        too_long = f"length({raw}) > {MAX_CELL_CHARS}"
        if plan.control_chars:
            parts.append(_reject("ingest_parsed", column, _said_sql(DAMAGED), damaged, "'damaged'"))
        parts.append(
            _reject(
                "ingest_parsed", column, _said_sql(TOO_LONG), f"{too_long} AND NOT {damaged}", "'too_long'"
            )
        )
        unparsed = (
            f"CASE WHEN {raw} IS NOT NULL AND {c} IS NULL THEN NOT ({damaged} OR {too_long}) ELSE false END"
        )
        reason_sql = _said_sql(reason)
        if col.type in ("timestamp", "date"):
            # a date cell that lost its date format in Excel shows the day's serial number (45722.342…)
            serial = f"regexp_full_match({raw}, '[1-9][0-9]{{4}}([.,][0-9]+)?')"
            hinted = _said_sql(reason + EXCEL_SERIAL_HINT)
            reason_sql = Said(
                f"CASE WHEN {serial} THEN {hinted.vi} ELSE {reason_sql.vi} END",
                f"CASE WHEN {serial} THEN {hinted.en} ELSE {reason_sql.en} END",
            )
        parts.append(_reject("ingest_parsed", column, reason_sql, unparsed, "'unparseable'"))
        if col.minimum is not None:
            below = Said(f"số nhỏ hơn {col.minimum}", f"number below {col.minimum}")
            parts.append(
                _reject("ingest_parsed", column, _said_sql(below), f"{c} < {col.minimum}", "'out_of_range'")
            )
        if column in INT_LIMITS:
            large = Said("số quá lớn", "number too large")
            parts.append(
                _reject(
                    "ingest_parsed", column, _said_sql(large), f"{c} > {INT_LIMITS[column]}", "'out_of_range'"
                )
            )
    return parts


#: A day and a month written with a year after them (four digits or two), anywhere in a value: after a time
#: ("08:20 03/10/2025") as well as before one; not part of a longer number or of an ISO date (2025-03-10).
_DAY_MONTH = "(?:^|[^0-9])([0-9]{1,2})[/.-]([0-9]{1,2})[/.-](?:[0-9]{4}|[0-9]{2})(?:$|[^0-9])"
_FORMAT_ORDER = {"d": "dmy", "m": "mdy"}
#: A format's day and month followed by its year (%d/%m/%Y, %H:%M %m-%d-%y, …), wherever the time is.
_FORMAT_DAY_MONTH = re.compile(r"%([dm])[/.-]%([dm])[/.-]%[Yy]")


def _date_order(formats: tuple[str, ...]) -> tuple[str, str] | None:
    """The order of day and month ('dmy' or 'mdy') in the first format that writes both before a year, and
    that format with the two swapped (what a file written the other way round needs)."""
    for fmt in formats:
        found = _FORMAT_DAY_MONTH.search(fmt)
        if found and found.group(1) != found.group(2):
            swapped = re.sub("%[dm]", lambda m: "%m" if m.group(0) == "%d" else "%d", fmt)
            return _FORMAT_ORDER[found.group(1)], swapped
    return None


def _date_order_problems(plan: Plan) -> list[tuple[str, str]]:
    """Dates whose day and month could be swapped, in a file that looks written the other way round.

    A day-first file (dd/mm/yyyy) that holds dates which only read month-first (12/25/2025), at least as
    many as dates that only read day-first (25/12/2025), is probably a month-first export: every date whose
    day and month are both 12 or less (03/10/2025) would be misread without a word, so those rows are
    quarantined (the month-first-only dates are unparseable anyway). Likewise for a month-first mapping.
    The evidence is pooled over the file's date columns of the same order.

    Returns (evidence, rejects) per order: `evidence` counts the unparsed values that only read the other
    way round (cheap: only unparsed cells are looked at); `rejects` is run only when it finds any.
    """
    by_order: dict[str, list[tuple[str, str]]] = {}
    swapped_formats: dict[str, str] = {}  # per order: the first such format, day and month swapped (the fix)
    for column, field in plan.fields.items():
        if field.column.type not in ("timestamp", "date") or field.index is None:
            continue
        formats = (field.rule.date_formats if field.rule and field.rule.date_formats else None) or (
            plan.mapping.date_formats
        )
        found = _date_order(formats)
        if found:
            order, swapped_format = found
            by_order.setdefault(order, []).append((column, q(column + "$in")))
            swapped_formats.setdefault(order, swapped_format)
    parts: list[tuple[str, str]] = []
    for order, columns in by_order.items():
        first, second = ("a", "b") if order == "dmy" else ("b", "a")  # (day, month) as the mapping reads
        other = f"{first} BETWEEN 1 AND 12 AND {second} BETWEEN 13 AND 31"  # only readable the other way
        own = f"{second} BETWEEN 1 AND 12 AND {first} BETWEEN 13 AND 31"
        expected, seen, seen_vi = (
            ("dd/mm/yyyy", "month/day", "tháng/ngày")
            if order == "dmy"
            else ("mm/dd/yyyy", "day/month", "ngày/tháng")
        )
        fix = f'"{swapped_formats[order]}"'.replace("'", "''")  # inside a SQL string
        reason = Said(
            f"'ngày có thể bị đảo ngày và tháng; tệp còn có những ngày chỉ đọc được theo kiểu {seen_vi} (dòng ' || "
            f"e.ex_row || ': ' || e.ex_value || ') và không nhiều hơn những ngày chỉ đọc được theo kiểu {expected}, "
            f"nên tệp có lẽ ghi ngày theo kiểu {seen_vi}: xuất lại ngày theo dạng {expected}, hoặc nạp tệp với tệp "
            f"ánh xạ cột có date_formats là {fix}'",
            f"'ambiguous date: day and month could be swapped; the file also holds dates that only read as "
            f"{seen} (row ' || e.ex_row || ': ' || e.ex_value || ') and no more that only read as {expected}, so "
            f"the export is probably written {seen}: export the dates as {expected} again, or load the file with "
            f"a mapping whose date_formats are {fix}'",
        )
        texts = " UNION ALL ".join(
            f"SELECT __row, {lit(c)} AS col, {raw} AS raw FROM ingest_parsed WHERE {raw} IS NOT NULL"
            for c, raw in columns
        )
        small, large = "(0?[1-9]|1[0-2])", "(1[3-9]|2[0-9]|3[01])"
        pair = f"{small}[/.-]{large}" if order == "dmy" else f"{large}[/.-]{small}"
        swapped = f"(?:^|[^0-9]){pair}[/.-](?:[0-9]{{4}}|[0-9]{{2}})(?:$|[^0-9])"
        unparsed = " UNION ALL ".join(
            f"SELECT {raw} AS raw FROM ingest_parsed WHERE {q(c)} IS NULL AND {raw} IS NOT NULL"
            for c, raw in columns
        )
        evidence = f"SELECT count(*) FROM ({unparsed}) WHERE regexp_matches(raw, '{swapped}')"
        parts.append(
            (
                evidence,
                f"SELECT __row, col, reason, reason_vi, problem FROM (WITH t AS ({texts}), "
                f"d AS (SELECT __row, col, raw, TRY_CAST(regexp_extract(raw, '{_DAY_MONTH}', 1) AS INTEGER) AS a, "
                f"TRY_CAST(regexp_extract(raw, '{_DAY_MONTH}', 2) AS INTEGER) AS b FROM t), "
                f"e AS (SELECT count(*) FILTER (WHERE {other}) AS other_n, count(*) FILTER (WHERE {own}) AS own_n, "
                f"min(__row) FILTER (WHERE {other}) AS ex_row, arg_min(raw, __row) FILTER (WHERE {other}) AS ex_value "
                f"FROM d) "
                f"SELECT d.__row, d.col, {reason.en} AS reason, {reason.vi} AS reason_vi, 'ambiguous_date' AS problem "
                "FROM d, e WHERE e.other_n > 0 AND e.other_n >= e.own_n "
                "AND d.a BETWEEN 1 AND 12 AND d.b BETWEEN 1 AND 12 AND d.a <> d.b)",
            )
        )
    return parts


def reject_swapped_dates(con: object, plan: Plan) -> None:
    """Add to ingest_reject the dates whose day and month could be swapped in a file that looks written the
    other way round (`_date_order_problems`); nothing to do, at the cost of one look at the unparsed dates,
    when no date only reads the other way round."""
    for evidence, rejects in _date_order_problems(plan):
        if con.sql(evidence).fetchall()[0][0]:  # type: ignore[attr-defined]
            con.execute(f"INSERT INTO ingest_reject {rejects}")  # type: ignore[attr-defined]


def _required_problems(plan: Plan, refs: dict[str, Lookup]) -> list[str]:
    """Required columns left empty (after defaults and fallbacks); an unparseable value is reported as such."""
    parts = []
    for column in plan.kind.required:
        raw = f"p.{q(column + '$in')}" if column in plan.fields else "NULL"
        where = f"e.{q(column)} IS NULL AND {raw} IS NULL"
        parts.append(
            _reject(
                "ingest_eff e JOIN ingest_parsed p USING (__row)",
                column,
                _said_sql(Said("thiếu giá trị bắt buộc", "missing required value")),
                where,
                "'missing'",
            )
        )
    return parts


def _reference_problems(plan: Plan, refs: dict[str, Lookup]) -> list[str]:
    parts = []
    for ref in plan.kind.references:
        if ref.column in refs and not ref.keep_unknown:
            alias = q("ref$" + ref.column)
            where = f"p.{q(ref.column)} IS NOT NULL AND {alias}.value IS NULL"
            lookup = refs[ref.column]
            source = f"ingest_parsed p {lookup.join(ref.column)}"
            reason = lookup.reason(alias) if lookup.reason else _said_sql(ref.reason)
            problem = lookup.problem(alias) if lookup.problem else "'unknown'"
            parts.append(_reject(source, ref.column, reason, where, problem))
    return parts


def _rule_problems(plan: Plan, refs: dict[str, Lookup]) -> list[str]:
    """The schema's CHECK rules across columns and the plausible-date windows, on the row as it would be
    stored (`{margin}` is the mapping's future_margin_days)."""
    margin = str(plan.mapping.future_margin_days)
    parts = []
    for r in plan.kind.rules:
        where = f"({r.violation.replace('{margin}', margin)}) IS TRUE"
        field = plan.fields.get(r.column)
        if field is not None and field.index is not None:
            # a value that did not parse is reported as such; the rule would only say it is missing
            unparsed = f"SELECT __row FROM ingest_parsed WHERE {q(r.column + '$in')} IS NOT NULL AND {q(r.column)} IS NULL"
            where += f" AND __row NOT IN ({unparsed})"
        reason = r.reason.map(lambda text: lit(text.replace("{margin}", margin)))
        parts.append(_reject("ingest_eff", r.column, reason, where, "'rule'"))
    return parts


def _duplicate_problems(plan: Plan, refs: dict[str, Lookup]) -> list[str]:
    return [_duplicates(plan)]


#: Families of problems; each returns SELECTs of (__row, col, reason, reason_vi, problem).
CHECKS: tuple[Callable[[Plan, dict[str, Lookup]], list[str]], ...] = (
    _shape_problems,
    _value_problems,
    _required_problems,
    _reference_problems,
    _duplicate_problems,
    _rule_problems,
)


def reject_sql(plan: Plan, refs: dict[str, Lookup]) -> str:
    """ingest_reject: one line per problem found in a row (__row, canonical column, reason in English and in
    Vietnamese, problem)."""
    parts = [part for check in CHECKS for part in check(plan, refs)]
    return "CREATE OR REPLACE TEMP TABLE ingest_reject AS " + "\nUNION ALL ".join(parts)


def _duplicates(plan: Plan) -> str:
    """Later rows with the key of an earlier row; the first row with a key is the one that counts."""
    key = plan.kind.key
    what = (
        Said("mã", "id") if key == ("id",) else Said("khóa", "key").map(lambda w: f"{w} ({', '.join(key)})")
    )
    cols = ", ".join(q(k) for k in key)
    not_null = " AND ".join(f"{q(k)} IS NOT NULL" for k in key)
    said = Said(f"trùng {what.vi}: đã có ở dòng ", f"duplicate {what.en}: first on row ").map(lit)
    return (
        f"SELECT __row, {lit(key[0])} AS col, {said.en} || first_row AS reason, {said.vi} || first_row AS reason_vi, "
        "'duplicate' AS problem "
        f"FROM (SELECT __row, min(__row) OVER (PARTITION BY {cols}) AS first_row FROM ingest_parsed "
        f"WHERE {not_null}) WHERE __row > first_row"
    )


def _find_cycles(links: dict[str, str | None]) -> list[list[str]]:
    """Cycles in the graph id → links[id], each once, in the order the links follow."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    found = []
    for start in links:
        path: list[str] = []
        node: str | None = start
        while node is not None and node in links and state.get(node) is None:
            state[node] = 1
            path.append(node)
            node = links[node]
        if node is not None and state.get(node) == 1:
            found.append(path[path.index(node) :])
        for i in path:
            state[i] = 2
    return found


def reject_cycles(con: object, plan: Plan, column: str) -> int:
    """Add to ingest_reject the rows of the file that close a cycle through `column` (units that are each
    other's parent), over the table as it would be after the load; returns the number of rows rejected.
    A cycle would count every dossier below it again and again in roll-ups."""
    if column not in plan.fields:
        return 0
    key = plan.kind.key[0]
    table = plan.kind.table
    rows = con.sql(  # type: ignore[attr-defined]
        f"SELECT {q(key)}, {q(column)}, __row FROM ingest_eff "
        f"WHERE __row NOT IN (SELECT __row FROM ingest_reject) AND {q(key)} IS NOT NULL"
    ).fetchall()
    stored = con.sql(f"SELECT {q(key)}, {q(column)} FROM {table}").fetchall()  # type: ignore[attr-defined]
    links: dict[str, str | None] = dict(stored)
    in_file: dict[str, int] = {}
    for ident, link, row in rows:
        links[ident] = link
        in_file.setdefault(ident, row)
    what = column.removesuffix("_id")
    what_vi = {"parent": "cấp trên", "successor": "kế thừa"}.get(what, what)
    found = []
    for cycle in _find_cycles(links):
        chain = " → ".join([*cycle, cycle[0]])
        in_cycle = sorted(in_file[i] for i in cycle if i in in_file)
        rows_in = ", ".join(map(str, in_cycle))
        reason = Said(
            f"vòng lặp đơn vị {what_vi} {chain}: một đơn vị không thể đứng trên chính nó; sửa đơn vị {what_vi} của "
            f"một trong số đó (dòng {rows_in})",
            f"{what} cycle {chain}: a unit cannot be above itself; fix the {what} of one of them (rows {rows_in})",
        )
        found += [(row, column, reason.en, reason.vi, "cycle") for row in in_cycle]
    if found:
        con.executemany("INSERT INTO ingest_reject VALUES (?, ?, ?, ?, ?)", found)  # type: ignore[attr-defined]
    return len(found)


def reject_invalid_successors(con: object, plan: Plan) -> None:
    """Add to ingest_reject the rows of the file whose successor does not exist on the day they end (their
    `valid_to`), over the table as it would be after the load. Validity is half-open, [valid_from, valid_to):
    a file that gives the last day of validity (28/02/2025, the successor from 01/03/2025) would leave a day
    on which neither unit existed; that case is named with the day to write."""
    column = plan.kind.successor
    if column is None or column not in plan.fields:
        return
    key = q(plan.kind.key[0])
    link = q(column)
    day = "strftime({}, '%d/%m/%Y')"
    u_to, s_from, s_to = "f.valid_to", "s.valid_from", "s.valid_to"
    next_day = Said(
        f"'ngày hết hiệu lực ' || {day.format(u_to)} || ' là ngày đầu tiên đơn vị không còn tồn tại (hiệu lực "
        "tính từ ngày bắt đầu đến trước ngày hết hiệu lực), nhưng đơn vị kế thừa ' || s.id || ' chỉ bắt đầu từ ' "
        f"|| {day.format(s_from)} || ': ngày ' || {day.format(u_to)} || ' không đơn vị nào tồn tại. Có lẽ tệp ghi "
        f"ngày cuối cùng còn hiệu lực: ghi ' || {day.format(s_from)} || ', ngày đơn vị kế thừa bắt đầu'",
        f"'valid_to ' || {u_to} || ' is the first day the unit no longer exists (validity runs from valid_from up "
        f"to, not including, valid_to), but its successor ' || s.id || ' only starts on ' || {s_from} || ': on ' "
        f"|| {u_to} || ' neither exists. The file probably gives the last day of validity: write ' || {s_from} "
        "|| ', the day the successor starts'",
    )
    other = Said(
        f"'đơn vị kế thừa ' || s.id || ' không tồn tại vào ngày ' || {day.format(u_to)} || ', ngày đơn vị này "
        f"hết hiệu lực (đơn vị kế thừa có hiệu lực từ ' || {day.format(s_from)} || coalesce(' đến trước ' || "
        f"{day.format(s_to)}, '') || '): sửa đơn vị kế thừa hoặc các ngày hiệu lực'",
        f"'successor ' || s.id || ' does not exist on ' || {u_to} || ', the day this unit ends (it is valid from ' "
        f"|| {s_from} || coalesce(' up to ' || {s_to}, '') || '): correct the successor or the validity dates'",
    )
    gap = f"{s_from} = {u_to} + INTERVAL 1 DAY"
    con.execute(  # type: ignore[attr-defined]
        f"""INSERT INTO ingest_reject
        WITH f AS (SELECT __row, {key} AS id, valid_to, {link} AS successor FROM ingest_eff
                   WHERE __row NOT IN (SELECT __row FROM ingest_reject) AND {key} IS NOT NULL),
             known AS (SELECT {key} AS id, valid_from, valid_to, 0 AS pri FROM ingest_eff
                       WHERE __row NOT IN (SELECT __row FROM ingest_reject) AND {key} IS NOT NULL
                       UNION ALL SELECT {key}, valid_from, valid_to, 1 FROM {plan.kind.table}),
             s AS (SELECT id, valid_from, valid_to FROM known
                   QUALIFY row_number() OVER (PARTITION BY id ORDER BY pri) = 1)
        SELECT f.__row, CASE WHEN {gap} THEN 'valid_to' ELSE {lit(column)} END,
               CASE WHEN {gap} THEN {next_day.en} ELSE {other.en} END,
               CASE WHEN {gap} THEN {next_day.vi} ELSE {other.vi} END, 'successor_not_valid'
        FROM f JOIN s ON s.id = f.successor
        WHERE f.valid_to IS NOT NULL
          AND NOT ({s_from} <= {u_to} AND ({s_to} IS NULL OR {u_to} < {s_to}))"""
    )


UNCALCULATED = Said(
    "công thức không có giá trị đã lưu (tệp được ghi bởi một chương trình không tính toán, nên ô được đọc là "
    "trống): mở tệp trong Excel và lưu lại, hoặc thay công thức bằng giá trị của nó",
    "formula without a saved value (the workbook was written by a program that does not calculate, so the "
    "cell reads as empty): open the file in Excel and save it again, or replace the formula by its value",
)


def reject_uncalculated(
    con: duckdb.DuckDBPyConnection, plan: Plan, cells: tuple[tuple[int, int], ...]
) -> None:
    """Add to ingest_reject the mapped cells that hold a formula without a saved value (XLSX), unless the cell
    has a problem already (an empty required cell stays 'missing required value')."""
    columns = {f.index: c for c, f in plan.fields.items() if f.index is not None}
    found = [
        (row, columns[index], UNCALCULATED.en, UNCALCULATED.vi, "uncalculated")
        for row, index in cells
        if index in columns
    ]
    if found:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE ingest_uncalculated "
            "(__row BIGINT, col VARCHAR, reason VARCHAR, reason_vi VARCHAR, problem VARCHAR)"
        )
        con.executemany("INSERT INTO ingest_uncalculated VALUES (?, ?, ?, ?, ?)", found)
        con.execute(
            "INSERT INTO ingest_reject SELECT * FROM ingest_uncalculated u WHERE __row IN (SELECT __row FROM ingest_parsed) "
            "AND NOT EXISTS (SELECT 1 FROM ingest_reject r WHERE r.__row = u.__row AND r.col = u.col)"
        )


def crosswalked(con: object, plan: Plan) -> tuple[tuple[str, str, int, str], ...]:
    """(unit as given, unit attached, rows, how) for kept rows whose unit did not exist yet (how =
    'crosswalk') or no longer (how = 'successor') on the received day.
    Needs ingest_parsed, the unit lookups and ingest_good (call before they are dropped)."""
    found: list[tuple[str, str, int, str]] = []
    for ref in plan.kind.references:
        if ref.resolver != "unit" or ref.column not in plan.fields:
            continue
        day = _received_day(plan, "p.")
        found += con.sql(  # type: ignore[attr-defined]
            f"SELECT r.key, r.value, count(*), r.how FROM ingest_parsed p JOIN ingest_ref_{ref.column} r "
            f"ON r.key = p.{q(ref.column)} AND r.day IS NOT DISTINCT FROM {day} "
            "WHERE r.how IN ('crosswalk', 'successor') AND p.__row IN (SELECT __row FROM ingest_good) GROUP BY ALL ORDER BY 1"
        ).fetchall()
    return tuple((str(a), str(b), int(n), str(how)) for a, b, n, how in found)


def good_sql(plan: Plan) -> str:
    """ingest_good: the rows without any problem, each marked insert, update or same."""
    cols = [q(c) for c in plan.kind.column_names]
    olds = [q("old$" + c) for c in plan.kind.column_names]
    return (
        f"CREATE OR REPLACE TEMP TABLE ingest_good AS SELECT __row, {', '.join(cols)}, "
        "CASE WHEN NOT __exists THEN 'insert' "
        f"WHEN row({', '.join(cols)}) IS DISTINCT FROM row({', '.join(olds)}) THEN 'update' ELSE 'same' END "
        "AS __status FROM ingest_eff e WHERE __row NOT IN (SELECT __row FROM ingest_reject)"
    )


def merge_sql(plan: Plan) -> str:
    """Upsert the new and changed rows by primary key (standard MERGE)."""
    kind = plan.kind
    cols = kind.column_names
    on = " AND ".join(f"t.{q(k)} = s.{q(k)}" for k in kind.key)
    sets = ", ".join(f"{q(c)} = s.{q(c)}" for c in cols if c not in kind.key)
    return (
        f"MERGE INTO {kind.table} AS t USING (SELECT {', '.join(q(c) for c in cols)} FROM ingest_good "
        f"WHERE __status <> 'same') AS s ON {on} "
        f"WHEN MATCHED THEN UPDATE SET {sets} "
        f"WHEN NOT MATCHED THEN INSERT ({', '.join(q(c) for c in cols)}) VALUES ({', '.join('s.' + q(c) for c in cols)})"
    )


def quarantine_sql(plan: Plan) -> str:
    """Rows for `quarantine`: the source header, the offending cell and the whole source row as JSON.
    Parameters: run_id, kind, file."""
    headers = " ".join(f"WHEN {lit(c)} THEN {lit(f.header)}" for c, f in plan.fields.items() if f.header)
    values = " ".join(
        f"WHEN {lit(c)} THEN " + (f"w.c{f.index}" if f.index is not None else lit(f.default or ""))
        for c, f in plan.fields.items()
    )
    record = ", ".join(f"{lit(k)}, w.c{i}" for i, k in enumerate(_json_keys(plan.headers)))
    header_sql = f"CASE r.col {headers} ELSE r.col END" if headers else "r.col"
    value_sql = f"CASE r.col {values} END" if values else "NULL"
    return (
        f"SELECT ?, ?, ?, r.__row, {header_sql}, CASE WHEN r.col IS NULL THEN w.__extra ELSE {value_sql} END, "
        f"r.reason, CAST(json_object({record}) AS VARCHAR), r.reason_vi, r.problem "
        "FROM ingest_reject r JOIN ingest_raw w USING (__row) ORDER BY r.__row, r.col"
    )


def _json_keys(headers: tuple[str, ...]) -> list[str]:
    seen: dict[str, int] = {}
    keys = []
    for h in headers:
        seen[h] = seen.get(h, 0) + 1
        keys.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return keys
