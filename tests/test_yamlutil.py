"""YAML with line numbers: the key-path → line map, YAML errors and pydantic errors as file:line problems."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from egov_metrics.yamlutil import Problem, format_validation_error, line_of, load_yaml_with_lines

DOC = textwrap.dedent(
    """\
    id: example
    measure:
      numerator: a
      denominator: b
    items:
      - name: first
        size: 1
      - {name: second, size: x}
    """
)


def write(tmp_path: Path, text: str, name: str = "doc.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_lines_map_key_paths(tmp_path: Path):
    data, lines, problems = load_yaml_with_lines(write(tmp_path, DOC))
    assert problems == []
    assert data["items"][1] == {"name": "second", "size": "x"}
    assert lines[("id",)] == 1
    assert lines[("measure",)] == 2  # a key's own line, not its value's
    assert lines[("measure", "denominator")] == 4
    assert lines[("items", 0)] == 6
    assert lines[("items", 0, "size")] == 7
    assert lines[("items", 1, "size")] == 8


def test_line_of_falls_back_to_the_nearest_ancestor(tmp_path: Path):
    _, lines, _ = load_yaml_with_lines(write(tmp_path, DOC))
    assert line_of(lines, ("items", 1, "colour")) == 8  # a key that is absent: its item's line
    assert line_of(lines, ("nowhere",)) == 1


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: 1\nb: [\n", 3, "invalid YAML"),
        ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a' (first on line 1)"),
        ("", 1, "the file is empty"),
        # impossible dates (a planner's 30 February) were a ValueError from inside the YAML library
        (
            "phases:\n  - start: 2021-01-01\n    end: 2025-02-30\n",
            3,
            "2025-02-30 is not a date (day is out of",
        ),
        ("a: 1\nb: {when: 2026-13-01}\n", 2, "2026-13-01 is not a date (month must be in 1..12)"),
        # a tab indent: YAML's own words ("found character that cannot start any token") did not say what to do
        ("a:\n\tb: 1\n", 2, "the line holds a tab: YAML indents with spaces only"),
    ],
)
def test_unreadable_documents_are_problems(tmp_path: Path, text: str, line: int, message: str):
    path = write(tmp_path, text)
    data, _, problems = load_yaml_with_lines(path)
    assert data is None and len(problems) == 1
    assert problems[0].line == line and message in problems[0].message
    assert str(problems[0]).startswith(f"{path}:{line}: ")


def test_missing_file_is_a_problem(tmp_path: Path):
    _, _, problems = load_yaml_with_lines(tmp_path / "absent.yaml")
    assert "cannot read the file" in problems[0].message


class Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    size: int


class Doc(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    items: list[Item]


def test_validation_errors_become_problems_with_lines(tmp_path: Path):
    path = write(tmp_path, DOC)
    data, lines, _ = load_yaml_with_lines(path)
    with pytest.raises(ValidationError) as err:
        Doc.model_validate(data)
    problems = format_validation_error(err.value, path, lines)
    assert all(isinstance(p, Problem) for p in problems)
    by_key = {p.key: (p.line, p.message) for p in problems}
    assert by_key["measure"] == (2, "unknown key (not part of the schema)")
    assert by_key["items.1.size"][0] == 8
    assert str(problems[0]).startswith(f"{path}:")


def test_an_impossible_date_in_a_roadmap_is_a_problem_with_its_line(tmp_path: Path):
    """`egov-metrics roadmap check` on a roadmap whose phase ends on 31 June printed a traceback."""
    from egov_metrics.roadmap import check_roadmap

    path = write(tmp_path, "version: 1\nphases:\n  - id: P1\n    start: 2021-01-01\n    end: 2025-06-31\n")
    assert [str(p) for p in check_roadmap(path)] == [
        f"{path}:5: invalid YAML: 2025-06-31 is not a date (day is out of range for month); "
        "write an existing day as YYYY-MM-DD"
    ]
