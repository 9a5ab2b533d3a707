"""Method files: where they are found, their names, and loading one with every problem named by file and line.

Methods are found in the directories of `$EGOV_METHODS_PATH` (separated like PATH; e.g. a province's own or a
draft method), then in the shipped `egov_metrics/methods/`; the first file of a name wins.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from pydantic import ValidationError

from egov_metrics.errors import UnknownNameError
from egov_metrics.scoring.errors import MethodError, ScoringError
from egov_metrics.scoring.method import ScoringMethod
from egov_metrics.yamlutil import format_validation_error, id_matches_file, load_yaml_with_lines

METHODS_DIR = Path(__file__).parent.parent / "methods"
#: Extra directories searched for method files before the shipped ones (os.pathsep-separated).
METHODS_PATH_ENV = "EGOV_METHODS_PATH"


def method_dirs() -> tuple[Path, ...]:
    """Where method files are found, in order: the directories of `$EGOV_METHODS_PATH`, then the shipped ones."""
    extra = os.environ.get(METHODS_PATH_ENV, "")
    return (*(Path(p).expanduser() for p in extra.split(os.pathsep) if p.strip()), METHODS_DIR)


def method_files() -> dict[str, Path]:
    """Every method file by name (the file's stem); a name in an earlier directory hides a shipped one."""
    found: dict[str, Path] = {}
    for directory in method_dirs():
        for path in sorted(directory.glob("*.yaml")):
            found.setdefault(path.stem, path)
    return found


def known_methods() -> list[str]:
    """Names of the methods found (the shipped ones in egov_metrics/methods/ and those of $EGOV_METHODS_PATH)."""
    return sorted(method_files())


def load_method(name_or_path: str | Path) -> ScoringMethod:
    """A shipped method by name (`portal_2026`), or a method file by path (`my/method.yaml`).

    A file with problems raises `MethodError` listing every problem as `file:line: key: message`.
    """
    if isinstance(name_or_path, Path) or name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        path = Path(name_or_path)
        if not path.is_file():
            raise ScoringError(f"no method file {path}", f"shipped methods: {', '.join(known_methods())}")
    else:
        files = method_files()
        if name_or_path not in files:
            raise UnknownNameError.from_choices("scoring method", name_or_path, sorted(files))
        path = files[name_or_path]
    path = path.resolve()
    return _load_method_file(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _load_method_file(path: Path, mtime_ns: int) -> ScoringMethod:
    data, lines, problems = load_yaml_with_lines(path)
    if problems:
        raise MethodError(problems)
    try:
        method = ScoringMethod.model_validate(data)
    except ValidationError as exc:
        raise MethodError(format_validation_error(exc, path, lines)) from None
    if wrong_id := id_matches_file(method.id, path, lines):
        raise MethodError(wrong_id)
    return method


def resolve_method(method: ScoringMethod | str | Path) -> ScoringMethod:
    """A method given as itself, by name or by file."""
    return method if isinstance(method, ScoringMethod) else load_method(method)
