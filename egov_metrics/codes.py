"""The codes that records carry (channels, statuses, levels, fields, …) and their names in Vietnamese and English.

One registry serves three purposes:
- names instead of codes wherever a person reads (`compute(..., names=True)`, chart legends, Excel);
- `catalog check` validates the literal values an indicator compares a column with (`channel = 'postal'`
  is an error with "did you mean 'post'?"), per source, because the same column name can mean different
  things in two sources (a dossier's `status` is not a component's);
- help texts.

The code lists and their names live in the vocabulary (`egov_metrics.vocab`); this module maps them to the
columns of each row source. The codes are those the schema's CHECK constraints allow
(`egov_metrics/schema/schema.sql`); procedure fields are reference data (`demo_data/fields.csv`, plus a database's own `field` table when one is given).
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Mapping

from egov_metrics.config import PACKAGE_DIR
from egov_metrics.vocab import (
    APPLICANT_TYPES,
    CHANNELS,
    COMPONENT_STATUSES,
    DOSSIER_STATUSES,
    ONLINE_LEVELS,
    PLATFORMS,
    PROCEDURE_LEVELS,
    RATINGS,
    UNIT_LEVELS,
    Term,
)

FIELDS_CSV = PACKAGE_DIR / "demo_data" / "fields.csv"


#: A code and its names (the vocabulary's `Term`).
Code = Term


@functools.cache
def shipped_fields() -> dict[str, Code]:
    """Procedure fields (lĩnh vực) of the shipped reference list."""
    with FIELDS_CSV.open(encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return {r["code"]: Code(code=r["code"], vi=r["name_vi"], en=r["name_en"]) for r in rows}


def _column_codes(fields: Mapping[str, Code]) -> dict[str, dict[str, Mapping[str, Code]]]:
    return {
        "dossier": {
            "channel": CHANNELS,
            "applicant_type": APPLICANT_TYPES,
            "online_level": ONLINE_LEVELS,
            "status": DOSSIER_STATUSES,
            "rating": RATINGS,
            "procedure_level": PROCEDURE_LEVELS,
            "field": fields,
        },
        "unit_procedure": {
            "online_level": ONLINE_LEVELS,
            "procedure_level": PROCEDURE_LEVELS,
            "unit_level": UNIT_LEVELS,
            "field": fields,
        },
        "e_office": {"unit_level": UNIT_LEVELS},
        "data_exchange": {"platform": PLATFORMS},
        "arch_component": {"status": COMPONENT_STATUSES},
    }


def column_codes(source: str, fields: Mapping[str, Code] | None = None) -> dict[str, Mapping[str, Code]]:
    """For one row source: each column with a closed set of codes -> those codes (empty for other sources)."""
    return _column_codes(fields if fields is not None else shipped_fields()).get(source, {})


#: Dimensions of `compute` whose values are codes with fixed names (fields and procedures come from the database).
DIMENSION_CODES: dict[str, Mapping[str, Code]] = {
    "channel": CHANNELS,
    "applicant_type": APPLICANT_TYPES,
    "online_level": ONLINE_LEVELS,
    "platform": PLATFORMS,
}
