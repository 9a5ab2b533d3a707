"""Column mappings as data: which source header feeds which canonical column, value maps, date formats, defaults.

A mapping is a YAML file validated by the pydantic model `Mapping` (frozen, unknown keys rejected) and then by
`check_mapping` against its kind. Every problem is reported at once with its file and line.
Built-in mappings live in `egov_metrics/mappings/<name>.yaml`; a user passes the path of their own file.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, field_validator

from egov_metrics.config import MAPPINGS_DIR
from egov_metrics.errors import IngestError, ProblemsError, UnknownNameError
from egov_metrics.ingest.kinds import KINDS, Kind, get_kind
from egov_metrics.model import FrozenModel
from egov_metrics.said import Said
from egov_metrics.yamlutil import Problem, duplicate_keys, read_yaml

DEFAULT_DATE_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")
DEFAULT_TRUE = ("có", "x", "1", "true", "yes", "đã", "đúng", "c", "y")
DEFAULT_FALSE = ("không", "0", "false", "no", "chưa", "sai", "k", "n")
#: strftime directives DuckDB's strptime understands and that make sense in an export.
_DIRECTIVES = set("dmYyHMSfzpIbBjaAeZ%")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class MappingError(IngestError):
    """A mapping cannot be used (a mapping file with problems raises the subclass `MappingFileError`)."""


class MappingFileError(MappingError, ProblemsError):
    """A mapping file is invalid; `problems` lists every problem with file and line."""

    headline = "{subject} has {n} problem(s)"
    fix = "see docs/ingest.md (writing your own mapping) or a built-in mapping in egov_metrics/mappings/"


class ColumnRule(FrozenModel):
    """How one source header feeds a canonical column (the short form `Header: column` means `to: column`)."""

    to: str
    values: dict[str, str] = Field(default_factory=dict)
    date_formats: tuple[str, ...] | None = None
    #: A regular expression with one group: where it matches, the value is what the group matched
    #: (e.g. '(\\d+)' turns "15 ngày làm việc" into 15); elsewhere the text is kept as it is.
    pattern: str | None = None


class Mapping(FrozenModel):
    """A column mapping for one kind of file."""

    name: str = Field(pattern=_NAME.pattern)
    #: a registered kind (`ingest.kinds.KINDS`), by name
    kind: str
    description: str = ""
    #: Written to the `source` column of dossiers, feedback and exchange rows (default: the mapping's name).
    source: str | None = None
    #: 1-based row of the header; "auto" finds it among the first rows (exports often start with a title).
    header_row: int | Literal["auto"] = "auto"
    #: XLSX sheet name (default: the first sheet).
    sheet: str | None = None
    columns: dict[str, str | ColumnRule]
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS
    true_values: tuple[str, ...] = DEFAULT_TRUE
    false_values: tuple[str, ...] = DEFAULT_FALSE
    defaults: dict[str, str] = Field(default_factory=dict)
    thousands_separator: str | None = None
    #: How many days after the ingest a received/finished/returned/handled/synced date may lie (clock skew).
    future_margin_days: int = Field(default=1, ge=0, le=3660)

    @field_validator("kind")
    @classmethod
    def _registered_kind(cls, kind: str) -> str:
        if kind not in KINDS:
            close = difflib.get_close_matches(kind, list(KINDS), n=1)
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown kind {kind!r}{guess}; kinds: {', '.join(KINDS)}")
        return kind

    def rules(self) -> list[tuple[str, ColumnRule]]:
        """(source header, rule) pairs in file order, the short form expanded."""
        return [(h, r if isinstance(r, ColumnRule) else ColumnRule(to=r)) for h, r in self.columns.items()]

    def value_map(self, rule: ColumnRule) -> dict[str, str]:
        """The value map of one source column: the mapping's map for its canonical column, then the rule's own."""
        return {**self.values.get(rule.to, {}), **rule.values}

    def column_values(self, column: str, rule: ColumnRule | None) -> dict[str, str]:
        """The value map a canonical column is read with: its source column's (`value_map`) when the file has
        one, else the mapping's own for the column."""
        return self.value_map(rule) if rule else dict(self.values.get(column, {}))

    @property
    def source_label(self) -> str:
        return self.source or self.name


# --- text normalisation shared by headers and values ------------------------------------------------------


def normalise(text: str) -> str:
    """Case-, space- and Unicode-form-insensitive form of a header or value (NFC, casefold, single spaces)."""
    text = re.sub("[\u200b\u200c\u200d\u2060\ufeff]", "", text)  # zero-width characters
    text = unicodedata.normalize("NFC", re.sub("[\u00a0\u2007\u202f]", " ", text))  # no-break spaces
    return " ".join(text.casefold().split())


def unaccent(text: str) -> str:
    """`normalise` without diacritics (đ → d), for 'did you mean' suggestions only."""
    decomposed = unicodedata.normalize("NFD", normalise(text).replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def suggest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Candidates that look like `name`, ignoring case, spaces and accents: the ones that differ from it only
    by those when there are any (then 'Ma thu tuc' suggests 'Mã thủ tục' alone, not also 'Tên thủ tục'),
    else the closest."""
    by_plain = {unaccent(c): c for c in candidates}
    plain = unaccent(name)
    if plain in by_plain:
        return [by_plain[plain]]
    return [by_plain[m] for m in difflib.get_close_matches(plain, list(by_plain), n=n, cutoff=0.75)]


# --- loading with line numbers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    loc: tuple[str | int, ...]
    message: str
    #: The line when it is known better than by following `loc` (e.g. the second of two duplicate keys).
    line: int | None = None


def _node_at(root: yaml.Node, loc: Sequence[str | int]) -> yaml.Node:
    node = root
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            # pydantic adds union-member tags (e.g. 'ColumnRule') to a loc; they match no key and are skipped
            child = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            continue
        node = child
    return node


def _problems(path: Path, root: yaml.Node, issues: list[Issue]) -> list[Problem]:
    located = []
    for issue in issues:
        line = issue.line or _node_at(root, issue.loc).start_mark.line + 1
        located.append(Problem(path, line, ".".join(str(p) for p in issue.loc), issue.message))
    return sorted(located, key=lambda p: p.line)


def load_mapping_file(path: str | Path) -> Mapping:
    """Read and check a mapping YAML file; raises MappingFileError listing every problem with file:line."""
    path = Path(path)
    data, root, problems = read_yaml(path, strings=True, duplicates=True)
    subject = f"mapping {path}"
    if problems:
        raise MappingFileError(problems, subject=subject)
    if not isinstance(data, dict) or root is None:
        message = "a mapping file is a YAML mapping with at least 'kind' and 'columns'"
        raise MappingFileError([Problem(path, 1, "", message)], subject=subject)
    data.setdefault("name", re.sub(r"[^a-z0-9_]", "_", path.stem.lower()) or "custom")
    issues = [
        Issue(loc, "key listed twice (YAML keeps only the last one)", line)
        for loc, line in duplicate_keys(root)
    ]
    try:
        mapping: Mapping | None = Mapping.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        issues += [Issue(tuple(e["loc"]), e["msg"]) for e in errors]
        mapping = _partial(data, {e["loc"][0] for e in errors if e["loc"]})
    if mapping is not None:
        issues += check_mapping(mapping)
    if issues or mapping is None:
        raise MappingFileError(_problems(path, root, issues), subject=subject)
    return mapping


def _partial(data: dict[str, object], broken: set[str | int]) -> Mapping | None:
    """The mapping without its broken top-level keys, to find the remaining problems too (None if impossible)."""
    try:
        return Mapping.model_validate({k: v for k, v in data.items() if k not in broken})
    except ValidationError:
        return None


# --- checks against the kind ----------------------------------------------------------------------------


def _check_target(kind: Kind, column: str, loc: tuple[str | int, ...]) -> list[Issue]:
    if column in kind.column_names:
        return []
    close = difflib.get_close_matches(column, kind.column_names, n=3)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    return [
        Issue(
            loc, f"{column!r} is not a column of {kind.name}{hint}; columns: {', '.join(kind.column_names)}"
        )
    ]


def _check_value(kind: Kind, column: str, value: str, loc: tuple[str | int, ...]) -> list[Issue]:
    if column not in kind.column_names:
        return []
    col = kind.column(column)
    allowed = {"enum": col.choices, "bool": ("true", "false")}.get(col.type)
    if allowed is None or value in allowed or value == "":  # "": the text means no value
        return []
    return [Issue(loc, f"{value!r} is not a value of {column}; use one of: {', '.join(allowed)}")]


def _check_formats(formats: Iterable[str], loc: tuple[str | int, ...]) -> list[Issue]:
    issues = []
    for i, fmt in enumerate(formats):
        bad = sorted({d for d in re.findall(r"%(.)", fmt) if d not in _DIRECTIVES})
        if bad or "%" not in fmt:
            what = f"unknown directive(s) {', '.join('%' + b for b in bad)}" if bad else "no % directive"
            issues.append(Issue((*loc, i), f"date format {fmt!r}: {what} (example: '%d/%m/%Y %H:%M')"))
    return issues


def _check_pattern(pattern: str | None, loc: tuple[str | int, ...]) -> list[Issue]:
    if pattern is None:
        return []
    try:
        groups = re.compile(pattern).groups
    except re.error as exc:
        return [Issue(loc, f"pattern {pattern!r} is not a regular expression: {exc}")]
    return (
        []
        if groups == 1
        else [Issue(loc, f"pattern {pattern!r} must have exactly one (group), it has {groups}")]
    )


def _check_rule(kind: Kind, header: str, rule: ColumnRule) -> list[Issue]:
    loc: tuple[str | int, ...] = ("columns", header)
    issues = _check_target(kind, rule.to, (*loc, "to") if rule.values or rule.pattern else loc)
    for source, value in rule.values.items():
        issues += _check_value(kind, rule.to, value, (*loc, "values", source))
    issues += _check_formats(rule.date_formats or (), (*loc, "date_formats"))
    return issues + _check_pattern(rule.pattern, (*loc, "pattern"))


def _check_default(mapping: Mapping, kind: Kind, column: str, value: str) -> list[Issue]:
    """A default goes through the same parsing as a cell; catch the ones that would reject every row."""
    if column not in kind.column_names:
        return []
    col = kind.column(column)
    accepted: dict[str, tuple[str, ...]] = {
        "enum": (*col.choices, *mapping.values.get(column, {})),
        "bool": (
            *mapping.true_values,
            *mapping.false_values,
            "true",
            "false",
            *mapping.values.get(column, {}),
        ),
    }
    allowed = accepted.get(col.type)
    if allowed is None or normalise(value) in {normalise(a) for a in allowed}:
        return []
    return [
        Issue(
            ("defaults", column),
            f"default {value!r} is not a value of {column}; use one of: {', '.join(allowed)}",
        )
    ]


def check_mapping(mapping: Mapping) -> list[Issue]:
    """Every inconsistency between a mapping and its kind (the pydantic model checks the shape)."""
    kind = KINDS[mapping.kind]
    issues: list[Issue] = []
    seen: dict[str, str] = {}
    for header, rule in mapping.rules():
        if normalise(header) in seen:
            issues.append(
                Issue(("columns", header), f"same header as {seen[normalise(header)]!r} (case/spaces)")
            )
        seen.setdefault(normalise(header), header)
        issues += _check_rule(kind, header, rule)
    for column, value_map in mapping.values.items():
        issues += _check_target(kind, column, ("values", column))
        for source, value in value_map.items():
            issues += _check_value(kind, column, value, ("values", column, source))
    for column, value in mapping.defaults.items():
        issues += _check_target(kind, column, ("defaults", column))
        issues += _check_default(mapping, kind, column, value)
    issues += _check_formats(mapping.date_formats, ("date_formats",))
    overlap = {normalise(v) for v in mapping.true_values} & {normalise(v) for v in mapping.false_values}
    if overlap:
        issues.append(Issue(("true_values",), f"listed as both true and false: {', '.join(sorted(overlap))}"))
    mapped = {rule.to for _, rule in mapping.rules()} | set(mapping.defaults)
    for column in kind.required:
        if column not in mapped and kind.column(column).fallback not in mapped:
            issues.append(
                Issue(("columns",), f"required column {column!r} has no source header and no default")
            )
    return issues


# --- built-ins and resolution -----------------------------------------------------------------------------


def builtin_mappings() -> dict[str, Path]:
    """Built-in mapping names and their files."""
    return {p.stem: p for p in sorted(MAPPINGS_DIR.glob("*.yaml"))}


def resolve_mapping(kind: str | Kind, mapping: str | Path | None = None) -> Mapping:
    """The mapping to use for `kind`: the kind's built-in by default, a built-in by name, or a YAML file."""
    kind = get_kind(kind) if isinstance(kind, str) else kind
    builtins = builtin_mappings()
    name = str(mapping) if mapping is not None else kind.default_mapping
    if name in builtins:
        loaded = load_mapping_file(builtins[name])
    elif Path(name).suffix.lower() in (".yaml", ".yml") or Path(name).exists():
        loaded = load_mapping_file(name)
    else:
        raise UnknownNameError.from_choices(Said("ánh xạ cột", "mapping"), name, builtins)
    if loaded.kind != kind.name:
        same_kind = [n for n, p in builtins.items() if load_mapping_file(p).kind == kind.name]
        loaded_kind = get_kind(loaded.kind)
        raise MappingError(
            Said(
                f"ánh xạ {loaded.name!r} dành cho tệp {loaded_kind.name_vi or loaded.kind}, không phải "
                f"{kind.name_vi or kind.name}",
                f"mapping {loaded.name!r} is for {loaded.kind} files, not {kind.name}",
            ),
            Said(
                f"dùng một ánh xạ {kind.name_vi or kind.name} ({', '.join(same_kind)}) hoặc kiểm tra tham số KIND",
                f"use a {kind.name} mapping ({', '.join(same_kind)}) or check the KIND argument",
            ),
        )
    return loaded
