"""All paths and tunables defined once."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

PACKAGE_DIR = Path(str(files("egov_metrics")))
REFERENCE_DIR = PACKAGE_DIR / "reference"
SCHEMA_DIR = PACKAGE_DIR / "schema"
MAPPINGS_DIR = PACKAGE_DIR / "mappings"

#: Project root when running from a checkout (where data/ and reports/ live); the current directory otherwise.
PROJECT_DIR = PACKAGE_DIR.parent if (PACKAGE_DIR.parent / "pyproject.toml").exists() else Path.cwd()
DATA_DIR = PROJECT_DIR / "data"
REPORTS_DIR = PROJECT_DIR / "reports"


def default_db_path() -> Path:
    """The database used when none is given: `$EGOV_DB` (relative to the current directory), else
    `data/egov.duckdb`; always absolute, so that a notebook kernel running elsewhere opens the same file."""
    return Path(os.environ.get("EGOV_DB", DATA_DIR / "egov.duckdb")).expanduser().absolute()


#: Calendar years materialised in `calendar_day`.
CALENDAR_FIRST_YEAR = 2015
CALENDAR_LAST_YEAR = 2035
