"""Import real exports: CSV (UTF-8, UTF-8 with BOM, UTF-16), XLSX and Parquet into the canonical tables.

    result = ingest_file(Path("data/egov.duckdb"), "dossier", Path("export.csv"))
    print(result.summary())

Modules: `kinds` (what each kind loads into and its rules), `mapping` (column mappings as validated YAML),
`readers` (format/encoding detection and a reader registry), `sql` (parsing, checks and upsert in DuckDB SQL),
`load` (the transaction and the result). The data-officer guide is docs/ingest.md.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from egov_metrics.ingest.kinds import KINDS, Kind, get_kind, kind_names, register_kind
    from egov_metrics.ingest.load import IngestResult, Reject, export_rejects, ingest_file, read_rejects
    from egov_metrics.ingest.mapping import (
        Mapping,
        MappingError,
        MappingFileError,
        builtin_mappings,
        load_mapping_file,
        resolve_mapping,
    )
    from egov_metrics.ingest.readers import READERS, detect_format, register_reader

#: Where each public name lives. The package imports a module when one of its names is first used (PEP 562), so
#: that `import egov_metrics.ingest.kinds` (the command line's help lists the kinds) does not import the
#: readers, the loader and openpyxl.
_HOMES = {
    "kinds": ("KINDS", "Kind", "get_kind", "kind_names", "register_kind"),
    "load": ("IngestResult", "Reject", "export_rejects", "ingest_file", "read_rejects"),
    "mapping": (
        "Mapping",
        "MappingError",
        "MappingFileError",
        "builtin_mappings",
        "load_mapping_file",
        "resolve_mapping",
    ),
    "readers": ("READERS", "detect_format", "register_reader"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "KINDS",
    "READERS",
    "IngestResult",
    "Kind",
    "Mapping",
    "MappingError",
    "MappingFileError",
    "Reject",
    "builtin_mappings",
    "detect_format",
    "export_rejects",
    "get_kind",
    "ingest_file",
    "kind_names",
    "load_mapping_file",
    "read_rejects",
    "register_kind",
    "register_reader",
    "resolve_mapping",
]
