"""The project's packaging stays coherent: environment.yml mirrors pyproject.toml, the CLI is installed."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _normalise(requirement: str) -> str:
    name, _, rest = re.match(r"([A-Za-z0-9_.\-]+)(\[.*\])?(.*)", requirement.strip()).groups()
    return name.lower().replace("_", "-") + rest.replace(" ", "")


def test_environment_yml_lists_the_same_dependencies_as_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_normalise(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted |= {_normalise(r) for r in extra}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = {_normalise(r) for r in pip_section if not r.startswith("-e")}
    assert listed == wanted, (
        f"only in pyproject: {sorted(wanted - listed)}; only in environment.yml: {sorted(listed - wanted)}"
    )
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python.replace(" ", "") == "python" + project["requires-python"]


@pytest.mark.slow
def test_console_script_help_lists_the_commands() -> None:
    exe = Path(sys.executable).parent / "egov-metrics"
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("demo", "ingest", "info"):
        assert command in out


def test_generated_files_are_ignored() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8")
    for pattern in ("data/*.duckdb", "reports/*", ".venv/"):
        assert pattern in ignored


def _type_checking_imports() -> dict[str, str]:
    """name -> module of the imports under `if TYPE_CHECKING:` in egov_metrics/__init__.py."""
    tree = ast.parse((ROOT / "egov_metrics" / "__init__.py").read_text(encoding="utf-8"))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
    )
    return {
        alias.name: node.module or ""
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_the_public_api_is_explicit_and_the_same_for_type_checkers_and_at_run_time() -> None:
    import egov_metrics

    typed = _type_checking_imports()
    assert typed == egov_metrics._EXPORTS
    assert sorted(egov_metrics.__all__) == sorted(["__version__", *typed])
    for name, module in typed.items():
        value = getattr(egov_metrics, name)
        assert value is getattr(importlib.import_module(module), name), name
    with pytest.raises(AttributeError, match="no_such_function"):
        egov_metrics.no_such_function  # type: ignore[attr-defined]  # noqa: B018


@pytest.mark.slow
def test_a_fresh_process_gets_the_functions_by_their_public_names() -> None:
    code = "from egov_metrics import compute, explain, render_report; print(callable(compute), compute.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "egov_metrics.engine.api"]


def test_egov_metrics_compute_is_the_function_even_after_the_engine_is_imported() -> None:
    # the engine was the module egov_metrics.compute, which shadowed the function once imported
    code = (
        "import egov_metrics.engine, egov_metrics.engine.api; import egov_metrics; "
        "from egov_metrics import compute; import importlib.util as u; "
        "print(callable(compute), callable(egov_metrics.compute), compute is egov_metrics.engine.compute, "
        "u.find_spec('egov_metrics.compute') is None)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True", "True", "True"]


def test_importing_the_package_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, egov_metrics; "
        "print(sorted(m for m in ('altair', 'papermill', 'nbconvert', 'duckdb', 'polars', 'pandas') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
