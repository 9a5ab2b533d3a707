"""One error type that carries every problem (`errors.ProblemsError`): each "file with problems" error is one,
lists every problem under a headline, and keeps the `Hint:` line."""

from __future__ import annotations

from pathlib import Path

import pytest

from egov_metrics.catalog.model import CatalogError
from egov_metrics.errors import EgovError, IngestError, OrgReferenceError, OrgUnitError, ProblemsError
from egov_metrics.ingest.mapping import MappingError, MappingFileError, load_mapping_file
from egov_metrics.roadmap import RoadmapError
from egov_metrics.schedule import JobsFileError, ScheduleError
from egov_metrics.scoring import MethodError, ScoringError
from egov_metrics.yamlutil import Problem


@pytest.mark.parametrize(
    ("error", "also", "subject"),
    [
        (CatalogError, EgovError, "the indicator catalog"),
        (RoadmapError, EgovError, "the roadmap"),
        (MethodError, ScoringError, "the scoring method"),
        (JobsFileError, ScheduleError, "the jobs file"),
        (OrgReferenceError, OrgUnitError, "the org-unit reference data"),
    ],
)
def test_each_file_error_is_the_one_problems_error(
    error: type[ProblemsError], also: type, subject: str
) -> None:
    problems = [
        Problem(Path("a.yaml"), 3, "id", "must be lower case"),
        Problem(Path("a.yaml"), 0, "", "empty"),
    ]
    exc = error(problems)
    assert isinstance(exc, ProblemsError) and isinstance(exc, also)
    assert exc.problems == problems
    assert str(exc).splitlines()[:3] == [
        f"2 problem(s) in {subject}:",
        "a.yaml:3: id: must be lower case",
        "a.yaml: empty",
    ]
    assert str(exc).splitlines()[-1].startswith("Hint: ")
    assert "__init__" not in error.__dict__  # no plumbing of its own


def test_a_mapping_file_with_problems_is_a_mapping_error_and_a_problems_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("kind: dossier\ncolumns: [\n", encoding="utf-8")
    with pytest.raises(MappingFileError) as info:
        load_mapping_file(path)
    assert isinstance(info.value, MappingError) and isinstance(info.value, IngestError)
    assert isinstance(info.value, ProblemsError)
    lines = str(info.value).splitlines()
    assert lines[0] == f"mapping {path} has 1 problem(s):"
    assert lines[1].startswith(f"{path}:3: invalid YAML")
    assert lines[-1].startswith("Hint: see docs/ingest.md")
    assert len(info.value.problems) == 1 and info.value.problems[0].line == 3
