"""YAML with line numbers, for definitions whose every problem must be reported with file and line.

The one YAML reader of the package (the catalog, the scoring methods, the roadmap, the jobs files and the
ingest mappings):
- `read_yaml(path, strings=..., duplicates=...)` -> (data, root node, problems): the parsed file and its node
  tree; `strings=True` keeps every scalar a string (mappings: no yes/no -> bool, no 1.10 -> 1.1);
- `load_yaml_with_lines(path)` -> (data, lines, problems): `lines` maps a key path such as
  ("measure", "numerator") or ("milestones", 2) to the 1-based line where that node starts;
- `format_validation_error(exc, path, lines)` turns a pydantic ValidationError into `Problem`s that point
  at the nearest line known for each error's location;
- `id_matches_file(value, path, lines)`: the check that a definition's `id` equals its file name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError


@dataclass(frozen=True)
class Problem:
    """One problem in a definition file."""

    path: Path
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        return f"{where}: {self.key + ': ' if self.key else ''}{self.message}"


def _walk(node: yaml.Node, prefix: tuple, lines: dict[tuple, int]) -> None:
    lines[prefix] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*prefix, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*prefix, key), lines)
            lines[(*prefix, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*prefix, index), lines)


if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:  # the C parser when libyaml is there
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DateLoader(_SafeLoader):
    """SafeLoader whose impossible dates (2025-02-30, 2025-13-01: YAML dates by their form) are a problem with
    a line, not a ValueError from deep inside the YAML library."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value} is not a date ({exc}); write an existing day as YYYY-MM-DD",
                node.start_mark,
            ) from None  # fmt: skip


_DateLoader.add_constructor("tag:yaml.org,2002:timestamp", _DateLoader.construct_yaml_timestamp)


class _UniqueKeyLoader(_DateLoader):
    """SafeLoader that rejects duplicate keys instead of silently keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key]})", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


class _StringLoader(yaml.SafeLoader):
    """Safe YAML where every scalar stays a string (no yes/no -> bool, no 1.10 -> 1.1 surprises)."""


_StringLoader.yaml_implicit_resolvers = {}


class _UniqueStringLoader(_StringLoader):
    construct_mapping = _UniqueKeyLoader.construct_mapping


#: (strings, reject duplicate keys) -> the loader
_LOADERS: dict[tuple[bool, bool], type[yaml.SafeLoader]] = {
    (False, True): _UniqueKeyLoader,
    (False, False): _DateLoader,
    (True, True): _UniqueStringLoader,
    (True, False): _StringLoader,
}


def read_yaml(
    path: str | Path, *, strings: bool = False, duplicates: bool = False
) -> tuple[Any, yaml.Node | None, list[Problem]]:
    """Parse one YAML file into (data, root node, problems); on failure no data and the problem's line.

    `strings=True` keeps every scalar a string; `duplicates=True` lets a key appear twice (the caller
    reports it, see `duplicate_keys`) instead of making it a syntax problem. A UTF-8 byte-order mark is skipped.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, None, [Problem(path, 0, "", f"cannot read the file: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        message = f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
        return None, None, [Problem(path, line, "", message)]
    loader = _LOADERS[(strings, not duplicates)]
    try:
        node = yaml.compose(text, Loader=loader)
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        reason = getattr(exc, "problem", None) or str(exc)
        lines = text.splitlines()
        if mark is not None and mark.line < len(lines) and "\t" in lines[mark.line]:
            reason += "; the line holds a tab: YAML indents with spaces only, replace the tab by spaces"
        return None, None, [Problem(path, line, "", f"invalid YAML: {reason}")]
    return data, node, []


def duplicate_keys(
    node: yaml.Node, loc: tuple[str | int, ...] = ()
) -> list[tuple[tuple[str | int, ...], int]]:
    """Every key that appears a second time in its mapping: (key path, line of the repeat)."""
    found: list[tuple[tuple[str | int, ...], int]] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if key.value in seen:
                found.append(((*loc, key.value), line))
            seen.setdefault(key.value, line)
            found += duplicate_keys(value, (*loc, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            found += duplicate_keys(value, (*loc, i))
    return found


def load_yaml_with_lines(path: str | Path) -> tuple[Any, dict[tuple, int], list[Problem]]:
    """Parse one YAML file; on failure return no data and a problem with the line of the syntax error."""
    path = Path(path)
    data, node, problems = read_yaml(path)
    if problems:
        return None, {}, problems
    lines: dict[tuple, int] = {}
    if node is not None:
        _walk(node, (), lines)
    if data is None:
        return None, lines, [Problem(path, 1, "", "the file is empty")]
    return data, lines, []


def line_of(lines: dict[tuple, int], location: tuple) -> int:
    """The line of `location`, or of its nearest ancestor that has one."""
    loc = tuple(location)
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get((), 1)


#: pydantic's errors for a value that is not a date (31/12/2025, 2025, 2025-12, an empty value).
DATE_ERRORS = frozenset(
    {"date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"}
)


def _date_message(value: object, message: str) -> str:
    """'31/12/2025' is not a date …: write YYYY-MM-DD, with pydantic's own detail when it says more."""
    detail = message.removeprefix("Input should be a valid date or datetime").lstrip(", ")
    what = "an empty value" if value is None else repr(value)
    why = f" ({detail})" if "range" in detail else ""  # "month value is outside expected range of 1-12"
    return f"{what} is not a date{why}: write YYYY-MM-DD, e.g. 2025-12-31 for 31/12/2025"


def format_validation_error(exc: ValidationError, path: Path, lines: dict[tuple, int]) -> list[Problem]:
    """One Problem per pydantic error, at the line of the offending key (or its parent)."""
    problems = []
    for error in exc.errors():
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-after")))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (not part of the schema)"
        elif error["type"] in DATE_ERRORS:
            message = _date_message(error["input"], message)
        problems.append(Problem(path, line_of(lines, loc), ".".join(str(p) for p in loc), message))
    return problems


def id_matches_file(value: str, path: Path, lines: dict[tuple, int]) -> list[Problem]:
    """A definition's `id` must equal its file's name (without .yaml): one problem at the `id` line if not."""
    if value == path.stem:
        return []
    return [
        Problem(path, lines.get(("id",), 1), "id", f"id {value!r} must equal the file name {path.stem!r}")
    ]
