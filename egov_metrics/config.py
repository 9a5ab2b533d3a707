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


#: The folder where egov-metrics keeps what it can recompute (the catalog's check files, compiled report
#: templates): `$EGOV_CACHE_DIR`, default the user's cache folder (`~/.cache/egov-metrics` on Linux).
CACHE_DIR_ENV = "EGOV_CACHE_DIR"


def user_cache_dir() -> Path:
    """`$EGOV_CACHE_DIR`, or the user's cache folder for egov-metrics (not created here)."""
    root = os.environ.get(CACHE_DIR_ENV, "").strip()
    if root:
        return Path(root).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("egov-metrics"))


def default_db_path() -> Path:
    """The database used when none is given: `$EGOV_DB` (relative to the current directory), else
    `data/egov.duckdb`; always absolute, so that a notebook kernel running elsewhere opens the same file."""
    return Path(os.environ.get("EGOV_DB", DATA_DIR / "egov.duckdb")).expanduser().absolute()


#: Calendar years materialised in `calendar_day`.
CALENDAR_FIRST_YEAR = 2015
CALENDAR_LAST_YEAR = 2035
