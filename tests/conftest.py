"""Shared fixtures: a small demo database built once per test session, and the reports rendered from it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.demo import SMALL_DEMO
from fixtures.reports import REPORT_CASES, Rendered

from egov_metrics.demo import build_demo

#: Fixtures whose users are slow by construction: they render every report through papermill.
SLOW_FIXTURES = frozenset({"rendered_reports"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `slow` every test that uses a slow fixture, so `make test-fast` (`-m "not slow"`) skips it."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def small_demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a 40,000-dossier demo database (Jan 2021 – Jun 2026). Open it read-only."""
    path = tmp_path_factory.mktemp("demo") / "small.duckdb"
    build_demo(path, **SMALL_DEMO)
    return path


@pytest.fixture(scope="session")
def rendered_reports(small_demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    """Every REPORT_CASES report rendered once into one folder, with its index.html and manifest.json."""
    from egov_metrics.reports import render_report

    out_dir = tmp_path_factory.mktemp("reports")
    rendered = {}
    for case, (kind, params) in REPORT_CASES.items():
        result = render_report(kind, {**params, "db_path": str(small_demo_db)}, out_dir=out_dir)
        rendered[case] = Rendered(case, kind, params, result, result.path.read_text(encoding="utf-8"))
    return rendered
