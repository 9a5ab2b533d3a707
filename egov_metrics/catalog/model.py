"""Catalog models (pydantic, frozen, closed) and the loader that reports every problem with file and line."""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Literal

import duckdb
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from egov_metrics import config
from egov_metrics.errors import ProblemsError, UnknownNameError
from egov_metrics.model import FrozenModel as Frozen
from egov_metrics.sources import SOURCES
from egov_metrics.yamlutil import Problem, format_validation_error, id_matches_file, load_yaml_with_lines

CATALOG_DIR = Path(__file__).parent / "indicators"
#: The planner's own folder (outside the package): `$EGOV_USER_DIR/indicators/*.yaml` add indicators to the
#: shipped catalog.
USER_DIR_ENV = "EGOV_USER_DIR"
#: Where bound expressions are remembered (`_check_expressions`): `$EGOV_CACHE_DIR/catalog-checks`, default
#: the user's cache folder (`~/.cache/egov-metrics/catalog-checks` on Linux; `config.user_cache_dir`).
CACHE_DIR_ENV = config.CACHE_DIR_ENV


def user_catalog_dir() -> Path | None:
    """The planner's indicator folder, `$EGOV_USER_DIR/indicators`, or None when the variable is not set."""
    root = os.environ.get(USER_DIR_ENV, "").strip()
    return Path(root).expanduser() / "indicators" if root else None


Aggregation = Literal["ratio", "count", "sum", "mean", "median", "p90"]
UnitOfMeasure = Literal["percent", "working_days", "count", "ratio"]


#: The aggregations each unit of measure can show: a percent is a share of rows (or the mean of a yes/no),
#: never a count × 100; a count is never a ratio of two counts (0.35 shown as "0"); working days are never a
#: count of records.
UNIT_AGGREGATIONS: dict[str, tuple[str, ...]] = {
    "percent": ("ratio", "mean"),
    "count": ("count", "sum", "mean", "median", "p90"),
    "working_days": ("sum", "mean", "median", "p90", "ratio"),
}
UNIT_HINTS = {
    "percent": "a share: a ratio of the rows counted to all the rows, factor 100",
    "count": "a ratio of two counts is unit: ratio, or unit: percent with factor 100",
    "working_days": "a count of records is unit: count",
}


class Text(Frozen):
    vi: Annotated[str, Field(min_length=1)]
    en: Annotated[str, Field(min_length=1)]


class Measure(Frozen):
    """How rows become a number. `numerator`/`denominator` are SQL row expressions over the source.

    ratio: Σnumerator ÷ Σdenominator × factor (booleans count as 1/0); count: Σnumerator;
    sum: Σnumerator; mean: Σx ÷ count(x) with x = numerator; median/p90: exact quantile of numerator.
    """

    aggregation: Aggregation
    numerator: Annotated[str, Field(min_length=1)]
    denominator: str | None = None
    factor: float = 1.0

    @model_validator(mode="after")
    def _denominator_matches_aggregation(self) -> Measure:
        if self.aggregation == "ratio" and not self.denominator:
            raise ValueError("a ratio needs a denominator")
        if self.aggregation != "ratio" and self.denominator:
            raise ValueError(f"aggregation {self.aggregation!r} takes no denominator (only 'ratio' does)")
        return self


class Indicator(Frozen):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{2,63}$")]
    name: Text
    description: Text
    layer: Annotated[int, Field(ge=1, le=7)] | None = None
    unit: UnitOfMeasure
    direction: Literal["higher", "lower"]
    decimals: Annotated[int, Field(ge=0, le=4)] = 2
    source: str
    period_by: str
    measure: Measure
    filters: tuple[str, ...] = ()
    #: The legal basis or source, in Vietnamese and English ({vi: …, en: …}); a plain text is shown as it is in
    #: both languages (a citation without prose, e.g. "Nghị định 47/2020/NĐ-CP")
    legal_source: Text | Annotated[str, Field(min_length=3)]
    provisional: bool = False
    provisional_note: Text | None = None  # what is not confirmed, in Vietnamese and English

    @model_validator(mode="before")
    @classmethod
    def _no_group_766(cls, data: object) -> object:
        if isinstance(data, dict) and "group_766" in data:
            raise ValueError(
                "group_766 is not set in the catalog: the 766 method file (egov_metrics/methods/) lists the "
                "indicators it scores and their groups; delete the group_766 line"
            )
        return data

    @field_validator("source")
    @classmethod
    def _source_exists(cls, value: str) -> str:
        # a field validator, so that the problem is reported on the `source:` line
        if value not in SOURCES:
            raise ValueError(f"unknown source {value!r}; known: {', '.join(sorted(SOURCES))}")
        return value

    @field_validator("measure")
    @classmethod
    def _measure_fits_unit(cls, measure: Measure, info: ValidationInfo) -> Measure:
        # a field validator (after `unit`), so that the problem is reported on the `measure:` line
        unit = info.data.get("unit")
        fits = UNIT_AGGREGATIONS.get(unit or "")
        if fits is not None and measure.aggregation not in fits:
            raise ValueError(
                f"a {unit} indicator cannot be a {measure.aggregation} ({UNIT_HINTS[unit or '']}); "
                f"its aggregation is one of {', '.join(fits)}, or its unit another"
            )
        if unit == "percent" and measure.factor != 100:
            raise ValueError("a percent indicator needs measure.factor: 100")
        if (
            unit == "percent"
            and measure.aggregation == "ratio"
            and measure.numerator.strip().upper() == "TRUE"
            and (measure.denominator or "").strip().upper() != "TRUE"
        ):
            raise ValueError(
                "a share of every row over some of them is 100 % or more: the numerator is the rows counted "
                "(e.g. channel = 'online'), the denominator all the rows ('TRUE'); swap them"
            )
        return measure

    @model_validator(mode="after")
    def _provisional_has_a_note(self) -> Indicator:
        if self.provisional and not self.provisional_note:
            raise ValueError("a provisional indicator needs a provisional_note saying what is unconfirmed")
        return self

    @field_validator("filters", mode="before")
    @classmethod
    def _filters_are_a_list(cls, value: object) -> object:
        if isinstance(value, str):
            raise ValueError(f"filters is a list: write each condition on a line of its own, as '- {value}'")
        return value

    @field_validator("period_by")
    @classmethod
    def _placement_exists(cls, value: str, info: ValidationInfo) -> str:
        # a field validator (after `source`), so that the problem is reported on the `period_by:` line
        source = SOURCES.get(info.data.get("source", ""))
        if source is not None and value not in source.placements:
            close = difflib.get_close_matches(value, list(source.placements), n=1)
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"source {source.name!r} places records by {', '.join(source.placements)}, not {value!r}{guess}"
            )
        return value

    def name_in(self, lang: str) -> str:
        return self.name.vi if lang == "vi" else self.name.en

    def legal_source_in(self, lang: str) -> str:
        """The legal basis or source in `lang`."""
        source = self.legal_source
        return source if isinstance(source, str) else (source.vi if lang == "vi" else source.en)

    def provisional_note_in(self, lang: str) -> str | None:
        """What is not confirmed, in `lang` (None when nothing is provisional)."""
        if self.provisional_note is None:
            return None
        return self.provisional_note.vi if lang == "vi" else self.provisional_note.en

    @property
    def group_766(self) -> str | None:
        """The 766 group that scores this indicator, read from the newest scoring method (the method file is the
        one source of the groups, `scoring.indicator_groups`); None when the method does not score it."""
        from egov_metrics.scoring import indicator_groups

        return indicator_groups().get(self.id)

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(SOURCES[self.source].dimensions)


class CatalogError(ProblemsError):
    """The catalog has problems; `problems` holds every one with file and line."""

    subject = "the indicator catalog"
    fix = "fix the files named above; `egov-metrics catalog check` lists them again"


class Catalog:
    """The validated indicators, by id, in file-name order."""

    def __init__(self, indicators: dict[str, Indicator], files: dict[str, Path]) -> None:
        self._indicators = indicators
        self.files = files

    def __iter__(self) -> Iterator[Indicator]:
        return iter(self._indicators.values())

    def __len__(self) -> int:
        return len(self._indicators)

    def __contains__(self, indicator_id: object) -> bool:
        return indicator_id in self._indicators

    @property
    def ids(self) -> list[str]:
        return list(self._indicators)

    def get(self, indicator_id: str) -> Indicator:
        try:
            return self._indicators[indicator_id]
        except KeyError:
            raise UnknownNameError.from_choices("indicator", indicator_id, self._indicators) from None

    def select(self, ids: list[str] | tuple[str, ...] | None) -> list[Indicator]:
        return list(self) if not ids else [self.get(i) for i in ids]

    def supporting(self, dimensions: list[str] | tuple[str, ...]) -> list[Indicator]:
        """Indicators whose source can be split by all of `dimensions`."""
        return [i for i in self if set(dimensions) <= set(i.dimensions)]


@functools.cache
def _probe_connection() -> duckdb.DuckDBPyConnection:
    from egov_metrics.schema.connection import schema_sql

    con = duckdb.connect(":memory:")
    con.execute(schema_sql())
    return con


@functools.cache
def _schema_digest() -> str:
    from egov_metrics.schema.connection import schema_sql

    return hashlib.sha256(f"{duckdb.__version__}\0{schema_sql()}".encode()).hexdigest()


@functools.cache
def _parser() -> duckdb.DuckDBPyConnection:
    """A bare in-memory connection, for parsing only (nothing is ever executed on it but the parser's own
    `json_serialize_sql`)."""
    return duckdb.connect(":memory:")


#: The checks an expression passed when its check file was written (`_check_expressions`): a file written
#: before an expression had to be one expression (`_not_one_expression`) does not spare the check.
_CHECKS = "bound; one expression"


def _parsed(con: duckdb.DuckDBPyConnection, sql: str) -> dict:
    """DuckDB's parse tree of one SELECT statement (`json_serialize_sql`; {"error": true, …} if it fails)."""
    row = con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()
    return json.loads(row[0]) if row else {"error": True}


@functools.cache
def _bare_select() -> dict:
    """The parse tree of `SELECT 1`: a select item and no FROM, WHERE, LIMIT, …"""
    return _parsed(_parser().cursor(), "SELECT 1")["statements"][0]["node"]


def _not_one_expression(expr: str) -> str | None:
    """Why `expr` is not one SQL expression over the source's row: several statements (`…; COPY … TO …`),
    a comment that hides the rest of the engine's line, a FROM/LIMIT/alias, a subquery (which could read any
    table or file). None when it is one, or when it does not parse at all (binding reports the parser's
    message). Checked before anything is bound: the check statement is executed, so a second statement in
    an expression would otherwise run."""
    try:
        tokens = duckdb.tokenize(expr)
    except duckdb.Error:
        return None
    if any(kind == duckdb.token_type.comment for _, kind in tokens):
        return "a comment (-- or /* */) is not allowed in an expression; delete it (notes go in description)"
    con = _parser().cursor()
    try:
        if len(con.extract_statements(f"SELECT {expr}")) != 1:
            return "one SQL expression, not several statements; delete the ';' and what follows it"
        tree = _parsed(con, f"SELECT {expr}")
    except duckdb.Error:
        return None
    if tree.get("error"):
        return None
    node, reference = tree["statements"][0]["node"], _bare_select()
    items = node.get("select_list", [])
    # FROM, WHERE, LIMIT, …: none, as in SELECT 1
    clauses = {k: v for k, v in node.items() if k != "select_list"}
    if (
        len(items) != 1
        or items[0].get("alias")
        or clauses != {k: v for k, v in reference.items() if k != "select_list"}
    ):
        return (
            "not one SQL expression over the source's row (no FROM, WHERE, LIMIT, UNION, AS or ',' of a "
            "query); write a condition such as channel = 'online', or a column such as elapsed_wd"
        )
    if '"class": "SUBQUERY"' in json.dumps(items[0]):
        return (
            "a subquery (SELECT …) is not allowed: an expression reads the columns of its source's row only; "
            "use a column of the source, or a source that has the column (egov_metrics/sources.py)"
        )
    return None


#: The columns of the period an expression may read beside its source's (`engine.spine.SPINE_COLUMNS` and the
#: stock's `is_open`), with the engine's types: an expression reading `period_end_excl` binds in the check as
#: it does in `compute`.
PERIOD_COLUMNS = (
    "FALSE AS is_open, 0 AS period_end_idx, DATE '2000-01-01' AS period_key, DATE '2000-01-01' AS period_start, "
    "DATE '2000-02-01' AS period_end_excl, '2000-01' AS period"
)


def _check_expressions(indicator: Indicator, path: Path, lines: dict[tuple, int]) -> list[Problem]:
    """Bind every SQL expression of the indicator against its source (an empty database), and remember each
    expression's result type (`expression_type`).

    Statements that bound once are not bound again: a file named by the digest of the DuckDB version, the
    schema and the statements themselves says they did, and holds their types (`CACHE_DIR_ENV`). Binding
    the 39 shipped indicators takes ~0.25 s, in every process that loads the catalog; reading 39 files,
    ~1 ms. Statements that fail are bound every time, so their message is always today's. Before binding,
    each expression must be one expression (`_not_one_expression`): binding executes the statement."""
    source = SOURCES[indicator.source]
    from_sql = f"({source.select()}) AS src"
    if source.activity_sql:
        cols = ", ".join(f"0 AS {c}" for c in source.activity_columns)
        from_sql = f"(SELECT *, {cols} FROM ({source.select()})) AS src"
    probes: list[tuple[tuple, str]] = [(("measure", "numerator"), indicator.measure.numerator)]
    if indicator.measure.denominator:
        probes.append((("measure", "denominator"), indicator.measure.denominator))
    probes += [(("filters", n), f) for n, f in enumerate(indicator.filters)]
    statements = [
        (
            key,
            f"SELECT {expr} FROM (SELECT *, {PERIOD_COLUMNS} FROM {from_sql}) LIMIT 0",
        )
        for key, expr in probes
    ]
    digest = hashlib.sha256("\0".join([_schema_digest(), _CHECKS, *(sql for _, sql in statements)]).encode())
    marker = config.user_cache_dir() / "catalog-checks" / digest.hexdigest()
    known = _read_types(marker, len(statements))
    if known is not None:
        _remember_types(indicator.source, [expr for _, expr in probes], known)
        return _type_problems(probes, known, path, lines)
    refused = [
        Problem(path, lines.get(key, lines.get(key[:1], 1)), ".".join(map(str, key)), why)
        for key, expr in probes
        if (why := _not_one_expression(expr)) is not None
    ]
    if refused:  # never bound: binding runs the statement
        return refused
    con = _probe_connection().cursor()
    problems = []
    types: list[str] = []
    for key, sql in statements:
        try:
            result = con.execute(sql)
            types.append(str(result.description[0][1]) if result.description else "")
            result.fetchall()
        except duckdb.Error as exc:
            message = str(exc).splitlines()[0]
            problems.append(
                Problem(path, lines.get(key, lines.get(key[:1], 1)), ".".join(map(str, key)), message)
            )
    if not problems:
        _remember_types(indicator.source, [expr for _, expr in probes], types)
        problems = _type_problems(probes, types, path, lines)
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(json.dumps(types))
        except OSError:  # a read-only home: the statements are bound again next time, nothing else changes
            pass
    return problems


#: The DuckDB types the engine can count or sum (it casts numerators and denominators to DOUBLE): numbers,
#: yes/no, and NULL.
_NUMERIC_TYPE = re.compile(
    r'^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\)|BOOLEAN|"NULL")$'
)


def _type_problems(
    probes: list[tuple[tuple, str]], types: list[str], path: Path, lines: dict[tuple, int]
) -> list[Problem]:
    """A filter must be a yes/no condition and a numerator or denominator a number or a condition: anything
    else (a text, a date, an interval) binds but fails in `compute`, where the engine casts it to a number
    or uses it as a condition."""
    problems = []
    for (key, expr), type_name in zip(probes, types, strict=True):
        if key[0] == "filters" and type_name not in ("BOOLEAN", '"NULL"'):
            why = (
                f"a filter is a yes/no condition, and {expr!r} is {type_name}; compare it with a value, "
                "e.g. field = 'dat_dai', or a column with another"
            )
        elif key[0] == "measure" and not _NUMERIC_TYPE.match(type_name):
            why = (
                f"{key[1]} {expr!r} is {type_name}, which cannot be counted or summed: write a number (e.g. "
                "elapsed_wd, date_diff('day', received_at, finished_at)) or a condition (e.g. channel = 'online')"
            )
        else:
            continue
        problems.append(Problem(path, lines.get(key, lines.get(key[:1], 1)), ".".join(map(str, key)), why))
    return problems


#: The result type of every expression bound so far, per (source, expression text): what `_check_expressions`
#: learnt (e.g. BOOLEAN, INTEGER), for `expression_type`.
_TYPES: dict[tuple[str, str], str] = {}


def expression_type(source: str, expression: str) -> str | None:
    """The DuckDB type of an indicator expression over `source` (e.g. "BOOLEAN"), as found when a loaded
    catalog bound it; None for an expression no loaded catalog has bound."""
    return _TYPES.get((source, expression))


def _remember_types(source: str, expressions: list[str], types: list[str]) -> None:
    for expression, type_name in zip(expressions, types, strict=True):
        _TYPES[(source, expression)] = type_name


def _read_types(marker: Path, count: int) -> list[str] | None:
    """The types a check file holds, or None when it is missing or holds none (e.g. written by a version
    before types were kept): the statements are bound again."""
    try:
        types = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(types, list) or len(types) != count or not all(isinstance(t, str) for t in types):
        return None
    return types


#: `column = 'x'`, `column == 'x'`, `column <> 'x'`, `column != 'x'` (and the literal first); `column [NOT] IN ('x', 'y')`.
_COMPARISON = re.compile(r"(?<![\w.'])([A-Za-z_]\w*)\s*(?:==|=|<>|!=)\s*'((?:[^']|'')*)'")
_COMPARISON_REVERSED = re.compile(r"'((?:[^']|'')*)'\s*(?:==|=|<>|!=)\s*([A-Za-z_]\w*)(?![\w(])")
_IN_LIST = re.compile(r"(?<![\w.'])([A-Za-z_]\w*)\s+(?:NOT\s+)?IN\s*\(([^()]*)\)", re.IGNORECASE)
_LITERAL = re.compile(r"'((?:[^']|'')*)'")


def literal_comparisons(expression: str) -> list[tuple[str, str]]:
    """(column, literal) for every comparison of a column with a text literal in a SQL expression."""
    found = [(c, v) for c, v in _COMPARISON.findall(expression)]
    found += [(c, v) for v, c in _COMPARISON_REVERSED.findall(expression)]
    for column, items in _IN_LIST.findall(expression):
        found += [(column, v) for v in _LITERAL.findall(items)]
    return [(c.lower(), v.replace("''", "'")) for c, v in found]


def _check_literals(
    indicator: Indicator, path: Path, lines: dict[tuple, int], fields: Mapping[str, object] | None
) -> list[Problem]:
    """Every literal an expression compares a coded column with must be one of the column's codes: a wrong
    value (`channel = 'postal'`) would otherwise match nothing and silently give 0 %."""
    from egov_metrics.codes import column_codes

    codes = column_codes(indicator.source, fields)  # type: ignore[arg-type]
    if not codes:
        return []
    exprs: list[tuple[tuple, str]] = [(("measure", "numerator"), indicator.measure.numerator)]
    if indicator.measure.denominator:
        exprs.append((("measure", "denominator"), indicator.measure.denominator))
    exprs += [(("filters", n), f) for n, f in enumerate(indicator.filters)]
    problems = []
    for key, expr in exprs:
        for column, value in literal_comparisons(expr):
            known = codes.get(column)
            if known is None or value in known:
                continue
            close = difflib.get_close_matches(value, list(known), n=2, cutoff=0.5)
            guess = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
            message = (
                f"{column} is compared with {value!r}, which is not a {column} code{guess}; "
                f"known: {', '.join(sorted(known))}"
            )
            problems.append(
                Problem(path, lines.get(key, lines.get(key[:1], 1)), ".".join(map(str, key)), message)
            )
    return problems


def check_catalog(
    directory: str | Path | None = None,
    *,
    user_dir: str | Path | None = None,
    fields: Mapping[str, object] | None = None,
) -> tuple[Catalog, list[Problem]]:
    """Validate the catalog; return what loaded and every problem (file:line).

    Default: the built-in catalog plus the planner's folder `$EGOV_USER_DIR/indicators` when that variable is
    set (or `user_dir`, a folder of indicator files). With `directory`, only that folder. Besides the schema and
    the SQL, literal codes are checked against the known ones (channels, statuses, levels, fields, …; fields
    against `fields`, default the shipped list). A planner's indicator may not reuse a shipped id.
    """
    if directory is not None:
        return _check_folders([Path(directory)], fields)
    extra = Path(user_dir) if user_dir is not None else user_catalog_dir()
    return _check_folders([CATALOG_DIR, *([extra] if extra is not None else [])], fields)


def _check_folders(folders: list[Path], fields: Mapping[str, object] | None) -> tuple[Catalog, list[Problem]]:
    problems: list[Problem] = []
    files: list[Path] = []
    for n, directory in enumerate(folders):
        if n > 0 and not directory.is_dir():
            if (
                not directory.parent.is_dir()
            ):  # a mistyped $EGOV_USER_DIR; a planner folder without indicators is fine
                problems.append(
                    Problem(directory.parent, 0, "", f"the planner's folder (${USER_DIR_ENV}) does not exist")
                )
            continue
        found = sorted(directory.glob("*.yaml"))
        if not found and n == 0:
            problems.append(Problem(directory, 0, "", "no indicator files (*.yaml) found"))
        files += found
    indicators: dict[str, Indicator] = {}
    paths: dict[str, Path] = {}
    for path in files:
        data, lines, load_problems = load_yaml_with_lines(path)
        if load_problems:
            problems += load_problems
            continue
        try:
            indicator = Indicator.model_validate(data)
        except ValidationError as exc:
            problems += format_validation_error(exc, path, lines)
            continue
        if wrong_id := id_matches_file(indicator.id, path, lines):
            problems += wrong_id
            continue
        if indicator.id in indicators:
            problems.append(
                Problem(
                    path,
                    lines.get(("id",), 1),
                    "id",
                    f"duplicate id, also in {paths[indicator.id]}",
                )
            )
            continue
        expr_problems = _check_expressions(indicator, path, lines) + _check_literals(
            indicator, path, lines, fields
        )
        problems += expr_problems
        if not expr_problems:
            indicators[indicator.id] = indicator
            paths[indicator.id] = path
    return Catalog(indicators, paths), problems


def planner_problems() -> list[Problem]:
    """Every problem of the planner's indicator folder (`$EGOV_USER_DIR/indicators`); [] when none is set."""
    folder = user_catalog_dir()
    if folder is None:
        return []
    _, problems = check_catalog(user_dir=folder)
    return [p for p in problems if not str(p.path).startswith(str(CATALOG_DIR))]


@functools.cache
def _builtin_catalog() -> Catalog:
    catalog, problems = check_catalog(CATALOG_DIR)
    if problems:
        raise CatalogError(problems)
    return catalog


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """What identifies a folder's content cheaply: each file's name, size and modification time."""
    if not folder.is_dir():
        return ()
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.yaml")))


@functools.lru_cache(maxsize=8)
def _catalog_with(folder: str, signature: tuple[tuple[str, int, int], ...]) -> Catalog:
    catalog, problems = check_catalog(user_dir=folder)
    if problems:
        raise CatalogError(problems)
    return catalog


def load_catalog(directory: str | Path | None = None) -> Catalog:
    """The validated catalog; raises CatalogError with every problem (file:line).

    Default: the built-in catalog, plus the planner's own indicators in `$EGOV_USER_DIR/indicators` when that
    variable is set (re-read when a file there changes). With `directory`, only the files of that folder.
    """
    if directory is None:
        extra = user_catalog_dir()
        if extra is None:
            return _builtin_catalog()
        return _catalog_with(str(extra), _signature(extra))
    catalog, problems = check_catalog(directory)
    if problems:
        raise CatalogError(problems)
    return catalog
