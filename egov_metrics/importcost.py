"""Imports a report does not need: jsonschema's optional IRI grammar.

Every report imports nbformat (papermill, nbconvert), which imports jsonschema to validate notebooks; at
import, `jsonschema._format` tries the optional package `rfc3987_syntax` (installed through
`jsonschema[format-nongpl]` by jupyter_events) to check the "iri" and "iri-reference" string formats, and
that package compiles an Earley grammar with lark when imported: 0.8 s on a quiet 2-core machine, 2.5–3 s
under load (`python -X importtime`), a third of a report's imports. No notebook schema uses those formats
and the library never checks them, so this finder makes that one import fail *when jsonschema's format
module asks for it*; jsonschema then skips those two checkers, as it does when the package is not installed.
Anyone else importing `rfc3987_syntax` gets it as usual.

`install()` is called by `import egov_metrics` (cheap: it adds a finder, imports nothing).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

__all__ = ["SKIPPED", "install"]

#: optional module -> the module whose import asks for it and can do without it.
SKIPPED = {"rfc3987_syntax": "jsonschema._format"}
#: How far up the stack the asking module's frame may be (the import machinery's own frames in between).
_DEPTH = 40


def _asked_by(importer: str) -> bool:
    frame = sys._getframe(2)
    for _ in range(_DEPTH):
        if frame is None:
            return False
        if frame.f_globals.get("__name__") == importer:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


class _SkipOptional(importlib.abc.MetaPathFinder):
    """Refuse a module in SKIPPED when the import comes from the module named there."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        importer = SKIPPED.get(fullname)
        if importer is not None and _asked_by(importer):
            raise ImportError(
                f"{fullname} is skipped for {importer} (egov_metrics.importcost)", name=fullname
            )
        return None  # every other import: the usual finders


_FINDER = _SkipOptional()


def install() -> None:
    """Put the finder first on `sys.meta_path` (once)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
