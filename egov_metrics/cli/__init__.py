"""The `egov-metrics` command: thin wrappers over the library modules, one module per command group.

The commands register themselves on `app` (`egov_metrics/cli/app.py`) when their module is imported; the
modules are imported in the order of `GROUPS`. A new command group is a new module here and one name in
`GROUPS`.
"""

from __future__ import annotations

import importlib

from egov_metrics.cli.app import app

#: The command groups, in the order `egov-metrics --help` lists their commands.
GROUPS = ("data", "catalog", "roadmap", "reports", "score", "schedule", "portal", "plan", "calendar")
for _group in GROUPS:
    importlib.import_module(f"egov_metrics.cli.{_group}")

__all__ = ["GROUPS", "app"]
