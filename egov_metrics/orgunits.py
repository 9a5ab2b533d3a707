"""The org-unit hierarchy of the province with its history: validity, successors, crosswalk, roll-up views.

Reference data lives in `reference/org_units.csv` and `reference/org_unit_crosswalk.csv` (lines starting
with `#` are comments). Validity intervals are half-open, `[valid_from, valid_to)`; `valid_to` empty means
still valid. A unit whose scope changes gets a new id (a new version) and the old one points to it with
`successor_id`; the crosswalk lists every old → new pair with the share of work that moved.

The 2025 reorganisation of Ninh Thuận is modelled as follows:

* 2025-03-01 (Decree 45/2025): Planning & Investment and Finance → new Sở Tài chính; Agriculture and Natural
  Resources → new Sở Nông nghiệp và Môi trường; Transport and Construction → new Sở Xây dựng; Information &
  Communications and Science & Technology → new Sở Khoa học và Công nghệ; Labour and Home Affairs → new
  Sở Nội vụ. Absorbing departments also get a new version, so that "the department as it was" and "the
  department as it is" stay distinguishable; the code is kept, the id changes (``STC`` → ``STC-2025``).
* 2025-07-01: the district level is abolished (districts end without successor) and the 65 communes are
  merged into 23 new communes whose parent is the province.

**One province root.** On 2025-07-01 Ninh Thuận itself merged into the new Khánh Hòa province. The database
holds the records of the former Ninh Thuận only, so it keeps ONE province root (``T58``, still valid): it
stands for "the provincial level whose records we hold" before and after the merger. Modelling the new
Khánh Hòa as a successor would make every current roll-up end at a province for which we hold a fraction of
the data and would compare it with targets set for another territory. A future multi-province database can
end ``T58`` on 2025-07-01 with a successor; the views below then follow it without change.

Roll-ups use two views (see `schema/views.sql`): ``org_unit_current`` maps every unit ever to the unit that
stands for it today, and ``org_unit_closure`` gives (unit_id, ancestor_id, ancestor_level, version) for the
versions ``current`` and ``historical``.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from egov_metrics.config import REFERENCE_DIR, SCHEMA_DIR
from egov_metrics.errors import OrgReferenceError, OrgUnitError, UnknownNameError
from egov_metrics.said import Said
from egov_metrics.vocab import LEVELS

DEFAULT_UNITS = REFERENCE_DIR / "org_units.csv"
DEFAULT_CROSSWALK = REFERENCE_DIR / "org_unit_crosswalk.csv"
VIEWS_SQL = SCHEMA_DIR / "views.sql"

#: Which levels a unit's parent may have.
PARENT_LEVELS: dict[str, tuple[str, ...]] = {
    "province": (),
    "department": ("province",),
    "district": ("province",),
    "commune": ("district", "province"),
}
UNIT_COLUMNS: tuple[str, ...] = (
    "id", "code", "name_vi", "name_en", "level", "parent_id", "valid_from", "valid_to", "successor_id",
)  # fmt: skip
CROSSWALK_COLUMNS: tuple[str, ...] = ("old_id", "new_id", "effective_on", "share", "note")
#: Words that name the kind of unit; a name may be given without them ("Bác Ái", "Tài chính").
NAME_PREFIXES: tuple[str, ...] = (
    "uy ban nhan dan", "ubnd", "thanh pho", "thi tran", "thi xa", "tinh", "huyen", "phuong", "xa", "so",
    "ban", "chi cuc",
)  # fmt: skip


@dataclass(frozen=True)
class OrgUnit:
    """One version of an org unit, as read from the reference file (`line` is its 1-based line number)."""

    id: str
    code: str
    name_vi: str
    name_en: str
    level: str
    parent_id: str | None
    valid_from: dt.date
    valid_to: dt.date | None
    successor_id: str | None
    line: int = 0

    def valid_on(self, day: dt.date) -> bool:
        """Is the unit valid on `day` (half-open interval)?"""
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class CrosswalkRow:
    """One old → new mapping of the crosswalk."""

    old_id: str
    new_id: str
    effective_on: dt.date
    share: float
    note: str | None
    line: int = 0


@dataclass(frozen=True)
class OrgReference:
    """The org units and their crosswalk, validated together."""

    units: tuple[OrgUnit, ...]
    crosswalk: tuple[CrosswalkRow, ...]
    units_path: Path
    crosswalk_path: Path


# Reading --------------------------------------------------------------------------------------------


def _csv_rows(path: Path, columns: Sequence[str], problems: list[str]) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for every data line; comment (#) and blank lines are skipped but counted."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise OrgUnitError(f"cannot read {path}: {exc}", "check the path of the reference file") from exc
    numbered = [
        (n, line)
        for n, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.startswith("#")
    ]
    if not numbered:
        problems.append(f"{path}: no header line")
        return []
    header = next(csv.reader([numbered[0][1]]))
    missing = [c for c in columns if c not in header]
    if missing:
        problems.append(f"{path}:{numbered[0][0]}: header lacks the column(s) {', '.join(missing)}")
        return []
    out = []
    for n, line in numbered[1:]:
        values = next(csv.reader([line]))
        if len(values) != len(header):
            problems.append(f"{path}:{n}: {len(values)} fields, the header has {len(header)}")
            continue
        out.append((n, {k: v.strip() for k, v in zip(header, values, strict=True)}))
    return out


def _date(value: str, where: str, column: str, problems: list[str], *, required: bool) -> dt.date | None:
    if not value:
        if required:
            problems.append(f"{where}: column '{column}' is empty (use YYYY-MM-DD)")
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append(f"{where}: column '{column}': {value!r} is not a date (use YYYY-MM-DD)")
        return None


def _parse_units(path: Path, problems: list[str]) -> list[OrgUnit]:
    units = []
    for n, row in _csv_rows(path, UNIT_COLUMNS, problems):
        where = f"{path}:{n}"
        before = len(problems)
        for column in ("id", "code", "name_vi", "name_en", "level"):
            if not row[column]:
                problems.append(f"{where}: column '{column}' is empty")
        if row["level"] and row["level"] not in LEVELS:
            problems.append(f"{where}: level {row['level']!r} must be one of {', '.join(LEVELS)}")
        valid_from = _date(row["valid_from"], where, "valid_from", problems, required=True)
        valid_to = _date(row["valid_to"], where, "valid_to", problems, required=False)
        if valid_from and valid_to and valid_to <= valid_from:
            problems.append(f"{where}: valid_to {valid_to} must be after valid_from {valid_from}")
        if len(problems) > before or valid_from is None:
            continue
        units.append(
            OrgUnit(
                row["id"],
                row["code"],
                row["name_vi"],
                row["name_en"],
                row["level"],
                row["parent_id"] or None,
                valid_from,
                valid_to,
                row["successor_id"] or None,
                n,
            )
        )
    return units


def _parse_crosswalk(path: Path, problems: list[str]) -> list[CrosswalkRow]:
    rows = []
    for n, row in _csv_rows(path, CROSSWALK_COLUMNS, problems):
        where = f"{path}:{n}"
        before = len(problems)
        for column in ("old_id", "new_id"):
            if not row[column]:
                problems.append(f"{where}: column '{column}' is empty")
        effective_on = _date(row["effective_on"], where, "effective_on", problems, required=True)
        try:
            share = float(row["share"] or "1")
        except ValueError:
            problems.append(f"{where}: share {row['share']!r} is not a number")
            share = 1.0
        if not 0 < share <= 1:
            problems.append(f"{where}: share {share} must be in (0, 1]")
        if len(problems) > before or effective_on is None:
            continue
        rows.append(CrosswalkRow(row["old_id"], row["new_id"], effective_on, share, row["note"] or None, n))
    return rows


# Validation: each check returns its problems; all of them run and every problem is reported ----------


def _check_ids(ref: OrgReference) -> list[str]:
    seen: dict[str, OrgUnit] = {}
    problems = []
    for u in ref.units:
        if u.id in seen:
            problems.append(
                f"{ref.units_path}:{u.line}: id {u.id!r} is listed again (first on line {seen[u.id].line})"
            )
        seen.setdefault(u.id, u)
    return problems


def _check_parents(ref: OrgReference) -> list[str]:
    by_id = {u.id: u for u in ref.units}
    problems = []
    for u in ref.units:
        where = f"{ref.units_path}:{u.line}"
        allowed = PARENT_LEVELS.get(u.level, ())
        if u.parent_id is None:
            if allowed:
                problems.append(f"{where}: {u.id} ({u.level}) needs a parent of level {' or '.join(allowed)}")
            continue
        parent = by_id.get(u.parent_id)
        if parent is None:
            problems.append(f"{where}: {u.id} has the unknown parent {u.parent_id!r}")
            continue
        if parent.level not in allowed:
            problems.append(
                f"{where}: {u.id} ({u.level}) cannot have the {parent.level} {parent.id} as parent"
            )
        ends_after = parent.valid_to is not None and (u.valid_to is None or u.valid_to > parent.valid_to)
        if u.valid_from < parent.valid_from or ends_after:
            problems.append(
                f"{where}: {u.id} is valid [{u.valid_from}, {u.valid_to or '…'}) outside its parent {parent.id} "
                f"[{parent.valid_from}, {parent.valid_to or '…'})"
            )
    return problems


def _cycles(units: Iterable[OrgUnit], link: Callable[[OrgUnit], str | None]) -> list[list[OrgUnit]]:
    """Cycles in the graph unit → link(unit), each reported once."""
    by_id = {u.id: u for u in units}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    found = []
    for start in by_id:
        path: list[str] = []
        node: str | None = start
        while node is not None and node in by_id and state.get(node) is None:
            state[node] = 1
            path.append(node)
            node = link(by_id[node])
        if node is not None and state.get(node) == 1:
            found.append([by_id[i] for i in path[path.index(node) :]])
        for i in path:
            state[i] = 2
    return found


def _check_cycles(ref: OrgReference) -> list[str]:
    problems = []
    links: dict[str, Callable[[OrgUnit], str | None]] = {
        "parent": lambda u: u.parent_id,
        "successor": lambda u: u.successor_id,
    }
    for name, link in links.items():
        for cycle in _cycles(ref.units, link):
            chain = " → ".join(u.id for u in [*cycle, cycle[0]])
            lines = ", ".join(str(u.line) for u in cycle)
            problems.append(f"{ref.units_path}:{cycle[0].line}: {name} cycle {chain} (lines {lines})")
    return problems


def _check_successors(ref: OrgReference) -> list[str]:
    by_id = {u.id: u for u in ref.units}
    mapped = {(c.old_id, c.new_id) for c in ref.crosswalk}
    problems = []
    for u in ref.units:
        if u.successor_id is None:
            continue
        where = f"{ref.units_path}:{u.line}"
        successor = by_id.get(u.successor_id)
        if successor is None:
            problems.append(f"{where}: {u.id} has the unknown successor {u.successor_id!r}")
            continue
        if u.valid_to is None:
            problems.append(f"{where}: {u.id} has a successor but no valid_to (when did it end?)")
            continue
        if not successor.valid_on(u.valid_to):
            problems.append(
                f"{where}: successor {successor.id} of {u.id} is not valid on {u.valid_to}, the day {u.id} ends"
            )
        if (u.id, successor.id) not in mapped:
            problems.append(f"{where}: {u.id} → {successor.id} is missing from {ref.crosswalk_path}")
    return problems


def _overlap(a: OrgUnit, b: OrgUnit) -> bool:
    return (a.valid_to is None or b.valid_from < a.valid_to) and (
        b.valid_to is None or a.valid_from < b.valid_to
    )


def _name_matcher(text: str, accents: bool, kind_word: bool) -> Callable[[tuple], bool]:
    """A test of a (id, code, name, …) row: its name equals `text` once both are normalised the same way."""
    wanted = normalise_name(text, accents=accents, kind_word=kind_word)
    return lambda r: normalise_name(r[2], accents=accents, kind_word=kind_word) == wanted


def _check_overlaps(ref: OrgReference) -> list[str]:
    """Two versions of one code must not be valid at the same time."""
    by_code: dict[tuple[str, str], list[OrgUnit]] = defaultdict(list)
    for u in ref.units:
        by_code[(u.level, u.code.casefold())].append(u)
    problems: list[str] = []
    for versions in by_code.values():
        for i, a in enumerate(versions):
            problems.extend(
                f"{ref.units_path}:{b.line}: {b.id} and {a.id} (line {a.line}) both carry code {a.code!r} "
                f"with overlapping validity [{b.valid_from}, {b.valid_to or '…'}) and "
                f"[{a.valid_from}, {a.valid_to or '…'})"
                for b in versions[i + 1 :]
                if a.id != b.id and _overlap(a, b)
            )
    return problems


def _check_crosswalk(ref: OrgReference) -> list[str]:
    by_id = {u.id: u for u in ref.units}
    problems = []
    seen: dict[tuple[str, str], int] = {}
    shares: dict[str, float] = defaultdict(float)
    for c in ref.crosswalk:
        where = f"{ref.crosswalk_path}:{c.line}"
        if (c.old_id, c.new_id) in seen:
            problems.append(
                f"{where}: {c.old_id} → {c.new_id} is listed again (first on line {seen[c.old_id, c.new_id]})"
            )
        seen.setdefault((c.old_id, c.new_id), c.line)
        shares[c.old_id] += c.share
        old, new = by_id.get(c.old_id), by_id.get(c.new_id)
        problems.extend(
            f"{where}: unknown unit {i!r}" for i, u in ((c.old_id, old), (c.new_id, new)) if u is None
        )
        if old is None or new is None:
            continue
        if old.valid_to != c.effective_on:
            problems.append(
                f"{where}: effective_on {c.effective_on} differs from {old.id}'s valid_to {old.valid_to}"
            )
        if not new.valid_on(c.effective_on):
            problems.append(f"{where}: {new.id} is not valid on {c.effective_on}")
    problems.extend(
        f"{ref.crosswalk_path}: the shares of {old_id} add up to {total:g}, not 1"
        for old_id, total in shares.items()
        if abs(total - 1.0) > 1e-6
    )
    return problems


#: Every check, run in this order; each returns all the problems it finds.
CHECKS: tuple[Callable[[OrgReference], list[str]], ...] = (
    _check_ids, _check_parents, _check_cycles, _check_successors, _check_overlaps, _check_crosswalk,
)  # fmt: skip


def read_reference(
    units_path: str | Path = DEFAULT_UNITS, crosswalk_path: str | Path = DEFAULT_CROSSWALK
) -> OrgReference:
    """Read and validate the org-unit and crosswalk files.

    Raises OrgUnitError listing every problem with its file and line: bad values, unknown parents or
    successors, parent/successor cycles, versions of one code with overlapping validity, crosswalk rows
    that do not agree with the units.
    """
    units_path, crosswalk_path = Path(units_path), Path(crosswalk_path)
    problems: list[str] = []
    units = _parse_units(units_path, problems)
    crosswalk = _parse_crosswalk(crosswalk_path, problems)
    ref = OrgReference(tuple(units), tuple(crosswalk), units_path, crosswalk_path)
    for check in CHECKS:
        problems.extend(check(ref))
    if problems:
        raise OrgReferenceError(problems)
    return ref


def load_reference_units(
    con: duckdb.DuckDBPyConnection,
    units_path: str | Path = DEFAULT_UNITS,
    crosswalk_path: str | Path = DEFAULT_CROSSWALK,
) -> int:
    """Replace `org_unit` and `org_unit_crosswalk` with the validated reference files; returns the unit count.

    Nothing is written when the files have problems (OrgUnitError lists them all).
    """
    ref = read_reference(units_path, crosswalk_path)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM org_unit_crosswalk")
        con.execute("DELETE FROM org_unit")
        con.executemany(
            f"INSERT INTO org_unit ({', '.join(UNIT_COLUMNS)}) VALUES ({', '.join('?' * len(UNIT_COLUMNS))})",
            [
                [
                    u.id,
                    u.code,
                    u.name_vi,
                    u.name_en,
                    u.level,
                    u.parent_id,
                    u.valid_from,
                    u.valid_to,
                    u.successor_id,
                ]
                for u in ref.units
            ],
        )
        con.executemany(
            f"INSERT INTO org_unit_crosswalk ({', '.join(CROSSWALK_COLUMNS)}) VALUES (?, ?, ?, ?, ?)",
            [[c.old_id, c.new_id, c.effective_on, c.share, c.note] for c in ref.crosswalk],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return len(ref.units)


# Roll-up views ----------------------------------------------------------------------------------------


def unit_closure_sql() -> str:
    """The SQL that creates the views `org_unit_current` and `org_unit_closure` (schema/views.sql)."""
    return VIEWS_SQL.read_text(encoding="utf-8")


def create_unit_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create (or replace) the roll-up views in a writable database.

    `org_unit_closure(unit_id, ancestor_id, ancestor_level, version)`: every unit ever, with itself and its
    ancestors in version 'historical' (as it was) and 'current' (mapped through successors to today's unit,
    an abolished district to the province, then up today's hierarchy).
    """
    con.execute(unit_closure_sql())


# Looking units up --------------------------------------------------------------------------------------


def _plain(text: str) -> str:
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def normalise_name(text: str, *, accents: bool = False, kind_word: bool = True) -> str:
    """Lower-case, punctuation-free form of a Vietnamese name, accent-free unless `accents`.

    "Sở Tư pháp" → "so tu phap"; with `kind_word=False` the leading word for the kind of unit is dropped
    ("Huyện Bác Ái" → "bac ai"), so that a name may be given without it.
    """
    tokens = re.findall(r"\w+", unicodedata.normalize("NFC", text).casefold())
    plain = [_plain(t) for t in tokens]
    if not kind_word:
        stripped = True
        while stripped:
            stripped = False
            for prefix in NAME_PREFIXES:
                words = prefix.split()
                if plain[: len(words)] == words and len(plain) > len(words):
                    tokens, plain, stripped = tokens[len(words) :], plain[len(words) :], True
                    break
    return " ".join(tokens if accents else plain)


def successor_today(con: duckdb.DuckDBPyConnection, unit_id: str) -> tuple[str, str] | None:
    """(id, Vietnamese name) of the unit of today that carries the work of `unit_id`, which ended; None when
    its work went to the province as a whole (a district abolished in 2025) or it has not ended."""
    rows = con.sql(
        "SELECT c.current_id, u.name_vi FROM org_unit_current c JOIN org_unit u ON u.id = c.current_id "
        "WHERE c.unit_id = ? AND c.current_id <> c.unit_id AND u.level <> 'province'",
        params=[unit_id],
    ).fetchall()
    return (str(rows[0][0]), str(rows[0][1])) if rows else None


def resolve_unit(con: duckdb.DuckDBPyConnection, code_or_name: str, *, as_of: dt.date | None = None) -> str:
    """The id of the unit named by an id, a code or a Vietnamese name (accents and case do not matter).

    Tried in order: exact id; code; name (with accents, then without); the name without its kind word
    ("Bác Ái" for "Huyện Bác Ái", again with accents first). When several versions match, the one valid on
    `as_of` wins (default: a current one; if none is current, the latest). Raises UnknownNameError with the
    closest names when nothing matches, or with the candidates when the text stays ambiguous.
    """
    rows = con.sql(
        "SELECT id, code, name_vi, valid_from, valid_to FROM org_unit ORDER BY valid_from, id"
    ).fetchall()
    text = code_or_name.strip()
    if any(r[0] == text for r in rows):
        return text
    forms = [(accents, kind) for kind in (True, False) for accents in (True, False)]
    matchers: list[Callable[[tuple], bool]] = [lambda r: r[1].casefold() == text.casefold()]
    matchers += [_name_matcher(text, accents=a, kind_word=k) for a, k in forms]
    for matches in matchers:
        found = [r for r in rows if matches(r)]
        if found:
            return _pick(found, code_or_name, as_of)
    names = {normalise_name(r[2], kind_word=k): r for r in rows for k in (True, False)}
    close = difflib.get_close_matches(normalise_name(text), list(names), n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys(f"{names[c][2]!r} ({names[c][0]})" for c in close))
    shown = ", ".join(suggestions)
    guess = Said(f"có phải là {shown}? ", f"did you mean {shown}? ") if suggestions else Said("", "")
    raise UnknownNameError(
        Said(f"không có đơn vị {code_or_name!r}", f"unknown org unit {code_or_name!r}"),
        guess
        + Said(
            "ghi mã định danh (vd. STC-2025), mã (vd. 582) hoặc tên tiếng Việt của đơn vị; có dấu hay không "
            "dấu đều được",
            "give an id (e.g. STC-2025), a code (e.g. 582) or a Vietnamese name; accents are optional",
        ),
    )


def _pick(found: list[tuple], asked: str, as_of: dt.date | None) -> str:
    """One id among matching rows (id, code, name_vi, valid_from, valid_to), preferring valid versions."""

    def valid(r: tuple) -> bool:
        return r[4] is None if as_of is None else r[3] <= as_of and (r[4] is None or as_of < r[4])

    preferred = [r for r in found if valid(r)]
    if not preferred:  # nothing valid then: the latest versions
        latest = max(r[3] for r in found)
        preferred = [r for r in found if r[3] == latest]
    if len({r[0] for r in preferred}) == 1:
        return preferred[0][0]
    candidates = ", ".join(f"{r[2]!r} ({r[0]}, [{r[3]}, {r[4] or '…'}))" for r in preferred)
    raise UnknownNameError(
        f"org unit {asked!r} is ambiguous: {candidates}", "give the id, the code or the name with its accents"
    )
