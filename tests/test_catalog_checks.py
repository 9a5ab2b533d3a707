"""The catalog's expression check remembers statements that bound (`EGOV_CACHE_DIR`), and only those."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from egov_metrics.catalog import model
from egov_metrics.catalog.model import CATALOG_DIR, check_catalog


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(model.CACHE_DIR_ENV, str(folder))
    return folder


def _folder(tmp_path: Path, *names: str) -> Path:
    """A folder holding copies of the shipped indicator files `names`."""
    folder = tmp_path / "indicators"
    folder.mkdir()
    for name in names:
        shutil.copy(CATALOG_DIR / f"{name}.yaml", folder / f"{name}.yaml")
    return folder


def _no_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, binding a statement fails the test."""

    def refuse() -> duckdb.DuckDBPyConnection:
        raise AssertionError("a statement was bound again")

    monkeypatch.setattr(model, "_probe_connection", refuse)


def _markers(cache_dir: Path) -> list[Path]:
    folder = cache_dir / "catalog-checks"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_statements_that_bound_are_not_bound_again(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path, "online_share", "dossiers_on_time", "processing_days_median")
    first, problems = check_catalog(folder)
    assert problems == [] and len(first) == 3
    assert len(_markers(cache_dir)) == 3  # three indicators, three different sets of statements
    _no_binding(monkeypatch)
    again, problems = check_catalog(folder)
    assert problems == []
    assert [i.model_dump() for i in again] == [i.model_dump() for i in first]


def test_a_changed_expression_is_bound_and_a_broken_one_is_reported_every_time(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path, "online_share")
    assert check_catalog(folder)[1] == []
    path = folder / "online_share.yaml"
    text = path.read_text(encoding="utf-8")
    assert "channel = 'online'" in text
    path.write_text(text.replace("channel = 'online'", "chanel = 'online'", 1), encoding="utf-8")
    for _ in range(2):
        catalog, problems = check_catalog(folder)
        assert len(catalog) == 0
        assert [(p.path, p.key) for p in problems] == [(path, "measure.numerator")]
        assert "chanel" in problems[0].message
    assert len(_markers(cache_dir)) == 1  # the good statements' marker only
    path.write_text(text.replace("channel = 'online'", "channel IN ('online')", 1), encoding="utf-8")
    assert check_catalog(folder)[1] == []
    assert len(_markers(cache_dir)) == 2
    _no_binding(monkeypatch)
    assert check_catalog(folder)[1] == []


def test_another_schema_or_duckdb_binds_again(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path, "online_share")
    assert check_catalog(folder)[1] == []
    monkeypatch.setattr(model, "_schema_digest", lambda: "another schema or DuckDB version")
    bound: list[str] = []
    real = model._probe_connection

    def counting() -> duckdb.DuckDBPyConnection:
        bound.append("bound")
        return real()

    monkeypatch.setattr(model, "_probe_connection", counting)
    assert check_catalog(folder)[1] == []
    assert bound == ["bound"]
    assert len(_markers(cache_dir)) == 2


def test_a_cache_folder_that_cannot_be_written_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(model.CACHE_DIR_ENV, str(blocked))
    folder = _folder(tmp_path, "online_share", "data_reuse")
    for _ in range(2):
        catalog, problems = check_catalog(folder)
        assert problems == [] and catalog.ids == ["data_reuse", "online_share"]


def test_the_types_found_by_binding_are_kept_and_read_back(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine counts boolean expressions (`count_if`): the check records each expression's type, in the
    check file too, so that a process that binds nothing still knows it."""
    folder = _folder(tmp_path, "online_share", "processing_days_mean")
    monkeypatch.setattr(model, "_TYPES", {})
    assert check_catalog(folder)[1] == []
    assert model.expression_type("dossier", "channel = 'online'") == "BOOLEAN"
    assert model.expression_type("dossier", "TRUE") == "BOOLEAN"
    assert model.expression_type("dossier", "elapsed_wd") in {"INTEGER", "BIGINT"}
    assert model.expression_type("dossier", "no such expression") is None
    found = dict(model._TYPES)
    monkeypatch.setattr(model, "_TYPES", {})
    _no_binding(monkeypatch)
    assert check_catalog(folder)[1] == []
    assert found == model._TYPES


def test_a_check_file_without_types_is_bound_again_once(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check files of earlier versions were empty: their statements are bound again, and the file then holds
    the types."""
    folder = _folder(tmp_path, "online_share")
    assert check_catalog(folder)[1] == []
    (marker,) = _markers(cache_dir)
    marker.write_text("", encoding="utf-8")
    monkeypatch.setattr(model, "_TYPES", {})
    assert check_catalog(folder)[1] == []
    assert model.expression_type("dossier", "channel = 'online'") == "BOOLEAN"
    assert marker.read_text(encoding="utf-8").startswith("[")
    _no_binding(monkeypatch)
    assert check_catalog(folder)[1] == []
