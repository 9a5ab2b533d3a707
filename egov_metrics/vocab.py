"""The shared vocabulary: every closed word list of the project and its Vietnamese and English labels.

One place for the words other modules validate against, store, and show to a reader:

- `UNIT_LEVELS` (province, department, district, commune) and `PROCEDURE_LEVELS`;
- `STATUSES`: a roadmap target's status (achieved, on_track, at_risk, off_track, no_data);
- `LIGHTS`: the traffic lights of legends (red, amber, green) and `STATUS_LIGHTS`, the light of each status;
- `CHANNELS` and the other dossier codes (applicant types, online levels, dossier statuses, ratings),
  exchange `PLATFORMS`, architecture `COMPONENT_STATUSES`;
- `groups_766()`: the groups of the 766 index, read from the scoring method (never copied here).

Each list is a dict code -> `Term` in its display order. Where a pydantic model needs a `Literal`, the `Literal`
is declared here next to its list and `tests/test_vocab.py` checks the two agree; other modules import both.
Message dicts of the report pages refer to these labels instead of spelling them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from egov_metrics.i18n import check_lang
from egov_metrics.model import FrozenModel

if TYPE_CHECKING:
    from egov_metrics.scoring import ScoringMethod

Label = Annotated[str, Field(min_length=1)]


class Term(FrozenModel):
    """One word of a list: its code and its labels (a short and a plural form where a page needs one)."""

    code: str
    vi: Label
    en: Label
    vi_short: Label | None = None
    en_short: Label | None = None
    vi_plural: Label | None = None
    en_plural: Label | None = None

    def name(self, lang: str) -> str:
        return self.vi if check_lang(lang) == "vi" else self.en

    def short(self, lang: str) -> str:
        """The short label (a chart legend), else the name."""
        short = self.vi_short if check_lang(lang) == "vi" else self.en_short
        return short or self.name(lang)

    def plural(self, lang: str) -> str:
        """The label of a group of such things (a peer group heading), else the name."""
        plural = self.vi_plural if check_lang(lang) == "vi" else self.en_plural
        return plural or self.name(lang)


def _terms(*items: tuple[str, str, str] | Term) -> dict[str, Term]:
    terms = [t if isinstance(t, Term) else Term(code=t[0], vi=t[1], en=t[2]) for t in items]
    return {t.code: t for t in terms}


def labels(terms: Mapping[str, Term]) -> dict[str, dict[str, str]]:
    """code -> {"vi": name, "en": name}."""
    return {code: {"vi": t.vi, "en": t.en} for code, t in terms.items()}


def names_by_lang(terms: Mapping[str, Term], form: str = "name") -> dict[str, dict[str, str]]:
    """lang -> {code: label}; `form` is "name", "short" or "plural"."""
    return {lang: {code: getattr(t, form)(lang) for code, t in terms.items()} for lang in ("vi", "en")}


# -- organisation ----------------------------------------------------------------------------------------

UnitLevel = Literal["province", "department", "district", "commune"]
UNIT_LEVELS = _terms(
    Term(code="province", vi="Tỉnh", en="Province", vi_plural="Tỉnh", en_plural="Province"),
    Term(code="department", vi="Sở, ban, ngành", en="Department", vi_plural="Sở, ban, ngành",
         en_plural="Departments"),
    Term(code="district", vi="Huyện", en="District", vi_plural="Huyện", en_plural="Districts"),
    Term(code="commune", vi="Xã", en="Commune", vi_plural="Xã, phường", en_plural="Communes and wards"),
)  # fmt: skip
#: Unit levels in order, top down.
LEVELS: tuple[str, ...] = tuple(UNIT_LEVELS)
#: A procedure is settled at the province, a district or a commune (a department acts for the province).
PROCEDURE_LEVELS = {k: v for k, v in UNIT_LEVELS.items() if k != "department"}
#: The levels a split by unit shows by default: every level under the province.
SPLIT_LEVELS: tuple[str, ...] = tuple(level for level in UNIT_LEVELS if level != "province")
#: The two peer groups of the 766 league and of unit reports: each ranked among its own.
PEER_LEVELS: tuple[str, ...] = ("department", "commune")

# -- roadmap ---------------------------------------------------------------------------------------------

TargetStatus = Literal["achieved", "on_track", "at_risk", "off_track", "no_data"]
STATUSES = _terms(
    ("achieved", "Đã đạt", "Achieved"),
    ("on_track", "Đúng tiến độ", "On track"),
    ("at_risk", "Có nguy cơ", "At risk"),
    ("off_track", "Chệch hướng", "Off track"),
    ("no_data", "Chưa có số liệu", "No data"),
)

Light = Literal["red", "amber", "green"]
LIGHTS = _terms(
    ("red", "Chưa đạt", "Below target"),
    ("amber", "Gần đạt", "Near target"),
    ("green", "Đạt", "On target"),
)
#: How good each light is (list order, worst first), to check that bands run the right way.
LIGHT_RANK: dict[str, int] = {code: n for n, code in enumerate(LIGHTS)}
#: The traffic light of each status: the one status language of every report (KPI cards, roadmap tables).
#: A target achieved or on track is green, at risk amber, off track red; no data (or no target) is grey.
STATUS_LIGHTS: dict[str, str | None] = {
    "achieved": "green",
    "on_track": "green",
    "at_risk": "amber",
    "off_track": "red",
    "no_data": None,
}

ComponentStatus = Literal["planned", "in_progress", "in_operation", "retired"]
COMPONENT_STATUSES = _terms(
    ("planned", "Kế hoạch", "Planned"),
    ("in_progress", "Đang triển khai", "In progress"),
    ("in_operation", "Đang vận hành", "In operation"),
    ("retired", "Đã ngừng", "Retired"),
)

# -- records ---------------------------------------------------------------------------------------------

Channel = Literal["online", "in_person", "post"]
CHANNELS = _terms(
    Term(code="online", vi="Trực tuyến", en="Online"),
    Term(code="in_person", vi="Trực tiếp", en="In person"),
    Term(
        code="post",
        vi="Bưu chính công ích",
        en="Public postal service",
        vi_short="Bưu chính",
        en_short="Post",
    ),
)
APPLICANT_TYPES = _terms(
    ("citizen", "Công dân", "Citizen"), ("business", "Tổ chức, doanh nghiệp", "Business")
)
ONLINE_LEVELS = _terms(
    ("full", "Trực tuyến toàn trình", "Fully online"),
    ("partial", "Trực tuyến một phần", "Partly online"),
    ("none", "Không trực tuyến", "Not online"),
)
DOSSIER_STATUSES = _terms(
    ("processing", "Đang xử lý", "Processing"),
    ("supplementing", "Chờ bổ sung", "Awaiting supplement"),
    ("finished", "Đã giải quyết", "Finished"),
    ("returned", "Đã trả kết quả", "Returned"),
    ("withdrawn", "Rút hồ sơ", "Withdrawn"),
    ("rejected", "Từ chối", "Rejected"),
)
RATINGS = _terms(
    ("very_satisfied", "Rất hài lòng", "Very satisfied"),
    ("satisfied", "Hài lòng", "Satisfied"),
    ("dissatisfied", "Không hài lòng", "Dissatisfied"),
)
PLATFORMS = _terms(
    ("LGSP", "Nền tảng tích hợp, chia sẻ dữ liệu cấp tỉnh (LGSP)", "Provincial integration platform (LGSP)"),
    ("NDXP", "Nền tảng tích hợp, chia sẻ dữ liệu quốc gia (NDXP)", "National data exchange platform (NDXP)"),
)

# -- the 766 index ---------------------------------------------------------------------------------------


def groups_766(method: ScoringMethod | str | None = None) -> dict[str, Term]:
    """The groups of the 766 index in the method's order, with its labels (default: the default method)."""
    from egov_metrics.scoring import method_groups

    return {g.id: Term(code=g.id, vi=g.name_vi, en=g.name_en) for g in method_groups(method)}


#: Every list above by name (for `tests/test_vocab.py` and help texts); the 766 groups are read on demand.
VOCABULARY: dict[str, Mapping[str, Term]] = {
    "unit_level": UNIT_LEVELS,
    "target_status": STATUSES,
    "light": LIGHTS,
    "component_status": COMPONENT_STATUSES,
    "channel": CHANNELS,
    "applicant_type": APPLICANT_TYPES,
    "online_level": ONLINE_LEVELS,
    "dossier_status": DOSSIER_STATUSES,
    "rating": RATINGS,
    "platform": PLATFORMS,
}


def one_of(value: str, terms: Iterable[str], what: str) -> str:
    """`value` when it is in `terms`, else a ValueError naming the choices (for pydantic validators)."""
    known = list(terms)
    if value not in known:
        raise ValueError(f"unknown {what} {value!r}; use one of: {', '.join(known)}")
    return value
