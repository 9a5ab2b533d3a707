"""Repository-root pytest configuration, loaded for `pytest --nbval-lax notebooks` as well as for tests/.

nbval runs the notebooks with their `parameters` cell as written, so the notebooks read their database from
`$EGOV_DB`. When nbval collection is active, a small demo database is built once per run (~2 s) and
`EGOV_DB` points the notebooks' kernels at it. Plain test runs are untouched.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

#: Executed copies and checkpoints are outputs, never notebooks to test.
collect_ignore_glob = ["*.executed.ipynb", "*.ipynb_checkpoints*"]


def _nbval_active(config: pytest.Config) -> bool:
    return bool(config.getoption("nbval_lax", default=False) or config.getoption("nbval", default=False))


def pytest_configure(config: pytest.Config) -> None:
    if not _nbval_active(config):
        return
    from fixtures.demo import SMALL_DEMO  # tests/ is on pythonpath (pyproject)

    from egov_metrics.demo import build_demo

    folder = (
        config.cache.mkdir("egov-nbval") if config.cache else Path(tempfile.mkdtemp(prefix="egov-nbval-"))
    )
    path = Path(folder) / "small.duckdb"
    build_demo(path, **SMALL_DEMO)
    os.environ["EGOV_DB"] = str(path.resolve())
