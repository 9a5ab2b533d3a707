"""Shared fixtures: a small demo database built once per test session."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from egov_metrics.demo import build_demo

#: The small demo every test can read: fixed month range so that results do not depend on today's date.
SMALL_DEMO = {"dossiers": 40_000, "seed": 58, "until": dt.date(2026, 6, 1)}


@pytest.fixture(scope="session")
def small_demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a 40,000-dossier demo database (Jan 2021 – Jun 2026). Open it read-only."""
    path = tmp_path_factory.mktemp("demo") / "small.duckdb"
    build_demo(path, **SMALL_DEMO)
    return path
