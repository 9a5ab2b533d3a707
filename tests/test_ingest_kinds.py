"""The ingest kinds registry is the one place a kind is declared: mapping validation and the command line read it."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from egov_metrics.cli import app
from egov_metrics.ingest import KINDS, MappingError, load_mapping_file
from egov_metrics.ingest.kinds import Column, Kind, kind_names, register_kind

SURVEY = Kind(
    name="survey_answer",
    table="survey_answer",
    key=("answer_id",),
    columns=(Column("answer_id", "text", required=True), Column("score", "int")),
    default_mapping="survey_answer",
)


@pytest.fixture
def survey_kind() -> Iterator[Kind]:
    """A kind registered for the test only: the registry is left as it was afterwards."""
    before = dict(KINDS)
    register_kind(SURVEY)
    yield SURVEY
    KINDS.clear()
    KINDS.update(before)


def _mapping(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "survey.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            name: survey
            kind: {kind}
            columns:
              Mã câu trả lời: answer_id
              Điểm: score
            """
        ),
        encoding="utf-8",
    )
    return path


def test_the_shipped_kinds_are_registered_in_order() -> None:
    assert kind_names() == ("dossier", "procedure", "unit", "feedback", "data_exchange")


def test_a_kind_registered_once_is_accepted_by_mapping_validation(tmp_path: Path, survey_kind: Kind) -> None:
    mapping = load_mapping_file(_mapping(tmp_path, "survey_answer"))
    assert mapping.kind == "survey_answer"
    assert [rule.to for _, rule in mapping.rules()] == ["answer_id", "score"]


def test_an_unregistered_kind_is_rejected_with_the_registered_ones(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as err:
        load_mapping_file(_mapping(tmp_path, "survey_answer"))
    message = str(err.value)
    assert "survey.yaml:2" in message  # the file and the line of `kind:`
    assert "unknown kind 'survey_answer'" in message
    assert "dossier, procedure, unit, feedback, data_exchange" in message


def test_a_typo_in_kind_gets_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="did you mean 'feedback'"):
        load_mapping_file(_mapping(tmp_path, "feedbak"))


def test_the_command_line_help_lists_the_registered_kinds(survey_kind: Kind) -> None:
    out = CliRunner().invoke(app, ["ingest", "--help"], env={"COLUMNS": "200"}).output
    assert "dossier, procedure, unit, feedback, data_exchange, survey_answer" in out


def test_the_command_line_help_without_the_extra_kind() -> None:
    out = CliRunner().invoke(app, ["ingest", "--help"], env={"COLUMNS": "200"}).output
    assert "dossier, procedure, unit, feedback, data_exchange." in out
    assert "survey_answer" not in out
