"""Import real exports: CSV (UTF-8, UTF-8 with BOM, UTF-16), XLSX and Parquet into the canonical tables.

    result = ingest_file(Path("data/egov.duckdb"), "dossier", Path("export.csv"))
    print(result.summary())

Modules: `kinds` (what each kind loads into and its rules), `mapping` (column mappings as validated YAML),
`readers` (format/encoding detection and a reader registry), `sql` (parsing, checks and upsert in DuckDB SQL),
`load` (the transaction and the result). The data-officer guide is docs/ingest.md.
"""

from __future__ import annotations

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
