"""The codes that records carry (channels, statuses, levels, fields, …) and their names in Vietnamese and English.

One registry serves three purposes:
- names instead of codes wherever a person reads (`compute(..., names=True)`, chart legends, Excel);
- `catalog check` validates the literal values an indicator compares a column with (`channel = 'postal'`
  is an error with "did you mean 'post'?"), per source, because the same column name can mean different
  things in two sources (a dossier's `status` is not a component's);
- help texts.

The codes are those the schema's CHECK constraints allow (`egov_metrics/schema/schema.sql`); procedure fields
are reference data (`demo_data/fields.csv`, plus a database's own `field` table when one is given).
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Mapping

from egov_metrics.config import PACKAGE_DIR
from egov_metrics.i18n import check_lang
from egov_metrics.model import FrozenModel

FIELDS_CSV = PACKAGE_DIR / "demo_data" / "fields.csv"


class Code(FrozenModel):
    """One code and its names."""

    code: str
    vi: str
    en: str

    def name(self, lang: str) -> str:
        return self.vi if check_lang(lang) == "vi" else self.en


def _codes(*items: tuple[str, str, str]) -> dict[str, Code]:
    return {c: Code(code=c, vi=vi, en=en) for c, vi, en in items}


CHANNELS = _codes(
    ("online", "Trực tuyến", "Online"),
    ("in_person", "Trực tiếp", "In person"),
    ("post", "Bưu chính công ích", "Public postal service"),
)
APPLICANT_TYPES = _codes(
    ("citizen", "Công dân", "Citizen"), ("business", "Tổ chức, doanh nghiệp", "Business")
)
ONLINE_LEVELS = _codes(
    ("full", "Trực tuyến toàn trình", "Fully online"),
    ("partial", "Trực tuyến một phần", "Partly online"),
    ("none", "Không trực tuyến", "Not online"),
)
DOSSIER_STATUSES = _codes(
    ("processing", "Đang xử lý", "Processing"),
    ("supplementing", "Chờ bổ sung", "Awaiting supplement"),
    ("finished", "Đã giải quyết", "Finished"),
    ("returned", "Đã trả kết quả", "Returned"),
    ("withdrawn", "Rút hồ sơ", "Withdrawn"),
    ("rejected", "Từ chối", "Rejected"),
)
RATINGS = _codes(
    ("very_satisfied", "Rất hài lòng", "Very satisfied"),
    ("satisfied", "Hài lòng", "Satisfied"),
    ("dissatisfied", "Không hài lòng", "Dissatisfied"),
)
UNIT_LEVELS = _codes(
    ("province", "Tỉnh", "Province"),
    ("department", "Sở, ban, ngành", "Department"),
    ("district", "Huyện", "District"),
    ("commune", "Xã", "Commune"),
)
PROCEDURE_LEVELS = {k: v for k, v in UNIT_LEVELS.items() if k != "department"}
PLATFORMS = _codes(
    ("LGSP", "Nền tảng tích hợp, chia sẻ dữ liệu cấp tỉnh (LGSP)", "Provincial integration platform (LGSP)"),
    ("NDXP", "Nền tảng tích hợp, chia sẻ dữ liệu quốc gia (NDXP)", "National data exchange platform (NDXP)"),
)
COMPONENT_STATUSES = _codes(
    ("planned", "Kế hoạch", "Planned"),
    ("in_progress", "Đang triển khai", "In progress"),
    ("in_operation", "Đang vận hành", "In operation"),
    ("retired", "Đã ngừng", "Retired"),
)


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
