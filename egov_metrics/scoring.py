"""The 766 index: score units from indicator counts with a versioned method kept as data.

A method (`egov_metrics/methods/<id>.yaml`, default `portal_2026`) lists the groups, each indicator with its
maximum points, its conversion rule, its zero-denominator rule and a provisional flag, the rounding order
(`points_from`) and the bands. `score()` turns the long counts frame of the engine into points::

    result = score(counts)                      # counts: unit_id, period, indicator, numerator, denominator
    result.indicators / result.groups / result.totals

How a score is computed (exact integer arithmetic, never floats):

1. rate = numerator ÷ denominator (the `complement_*` rules use (denominator − numerator) ÷ denominator),
   shown in percent, rounded half up to 2 decimals (88.42);
2. points = max × share, where the conversion rule turns the rate into a share of the maximum in [0, 1]
   (`linear`: share = rate; `full_at` t: share = min(1, rate ÷ t)). The share is taken from the rounded
   rate or from the exact one, as the method's `points_from` says; points are rounded half up to 2 decimals;
3. group score = sum of the rounded indicator points; total = sum of the group scores.

Rounding is ROUND_HALF_UP (0.125 → 0.13), never banker's rounding. Counts may be integers, floats or
decimals; they are taken to 6 decimals (fractional counts can come from org-unit crosswalk shares).

Published counts (`score_from_published`): a CSV or XLSX file (first sheet unless `sheet_name` is given)
with one row per unit, period and indicator, and a header naming these columns:

======================  ==========================================================================
``unit_id``             the unit's id (any text; keep it as in the portal's report)
``period``              the period label (text, e.g. ``2026``, ``2026-Q1``, ``2026-01..2026-06``)
``indicator``           an indicator id of the method, e.g. ``dossiers_on_time``
``numerator``           the published numerator (plain number: 528684, not 528.684 or 528,684)
``denominator``         the published denominator
``unit_level``          optional: department, commune, ... (peers for the ranking)
``unit_name``           optional, passed through
``published_rate``      optional: the rate the portal shows, in percent; adds ``rate_diff``
``published_points``    optional: the points the portal shows; adds ``points_diff``
======================  ==========================================================================

Extra columns pass through: those named ``unit_*`` or ``period_*`` (unit_name, unit_level, period_start, ...)
describe the unit or the period and are carried to every frame; the others stay on the indicators frame.
A negative numerator (possible for `dossier_satisfaction`, whose numerator is dossiers − overdue −
complaints as the catalog computes it) counts as a rate of 0. See docs/scoring.md.
"""

from __future__ import annotations

import difflib
import functools
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from egov_metrics.config import DEFAULT_METHOD
from egov_metrics.errors import EgovError, UnknownNameError
from egov_metrics.portal.mapping import PortalMapping
from egov_metrics.yamlutil import Problem, format_validation_error, load_yaml_with_lines

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "DEFAULT_METHOD",
    "METHODS_DIR",
    "Conversion",
    "MethodError",
    "ScoreResult",
    "ScoringError",
    "ScoringMethod",
    "conversions",
    "known_methods",
    "load_method",
    "register_conversion",
    "score",
    "score_from_published",
]

METHODS_DIR = Path(__file__).parent / "methods"

KEY_COLUMNS = ("unit_id", "period", "indicator")
COUNT_COLUMNS = ("numerator", "denominator")

_UNIT_PREFIXES = ("unit_", "period_")  # extra columns that describe the unit or the period
_COUNT_SCALE = 10**6  # counts are taken to 6 decimals
_ONE = 10_000  # rates and thresholds as integers: a fraction × 10 000 (= hundredths of a percent)
_I = pl.Int128


class ScoringError(EgovError):
    """Counts, peers or a published file cannot be scored as given."""


class MethodError(ScoringError):
    """A method file has problems; `problems` holds every one with its file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        listing = "\n".join(str(p) for p in problems)
        super().__init__(
            f"{len(problems)} problem(s) in the scoring method:\n{listing}",
            "fix the lines named above; egov_metrics/methods/portal_2026.yaml is a complete example",
        )


# --- conversion rules: a registry --------------------------------------------------------------------

Ratio = tuple[pl.Expr, pl.Expr]


@dataclass(frozen=True)
class Conversion:
    """A conversion rule: how counts become a rate, and how a rate becomes a share of the maximum points.

    Both functions take and return exact ratios (numerator, denominator) of integer (Int128) expressions:
    `rate(n, d)` gives the rate shown for the indicator; `share(rate_num, rate_den, threshold)` gives the
    share of the maximum in [0, 1], where `threshold` is the rule's threshold × 10 000 (0.8 → 8000), or
    null for rules without one.
    """

    name: str
    summary: str
    takes_threshold: bool
    rate: Callable[[pl.Expr, pl.Expr], Ratio]
    share: Callable[[pl.Expr, pl.Expr, pl.Expr], Ratio]


_CONVERSIONS: dict[str, Conversion] = {}


def register_conversion(conversion: Conversion) -> Conversion:
    """Add (or replace) a conversion rule; method files refer to it by `conversion.name`."""
    _CONVERSIONS[conversion.name] = conversion
    return conversion


def conversions() -> Mapping[str, Conversion]:
    """The registered conversion rules by name (read-only)."""
    return MappingProxyType(_CONVERSIONS)


def _get_conversion(name: str) -> Conversion:
    try:
        return _CONVERSIONS[name]
    except KeyError:
        raise UnknownNameError.from_choices("conversion rule", name, _CONVERSIONS) from None


def _rate_as_is(n: pl.Expr, d: pl.Expr) -> Ratio:
    return n, d


def _rate_complement(n: pl.Expr, d: pl.Expr) -> Ratio:
    return pl.max_horizontal(d - n, pl.lit(0, _I)), d


def _share_linear(rn: pl.Expr, rd: pl.Expr, threshold: pl.Expr) -> Ratio:
    return pl.min_horizontal(rn, rd), rd


def _share_full_at(rn: pl.Expr, rd: pl.Expr, threshold: pl.Expr) -> Ratio:
    return pl.min_horizontal(rn * _ONE, rd * threshold), rd * threshold


register_conversion(
    Conversion("linear", "points = max × rate (at most max)", False, _rate_as_is, _share_linear)
)
register_conversion(
    Conversion(
        "full_at",
        "points = min(max, max × rate ÷ threshold): full points from the threshold rate up",
        True,
        _rate_as_is,
        _share_full_at,
    )
)


def _rate_awarded(n: pl.Expr, d: pl.Expr) -> Ratio:
    return pl.lit(1, _I), pl.lit(1, _I)


register_conversion(
    Conversion(
        "awarded",
        "the portal awards full points whatever the counts (rate shown 100 %)",
        False,
        _rate_awarded,
        _share_linear,
    )
)
register_conversion(
    Conversion(
        "complement_full_at",
        "rate = 100 % − numerator ÷ denominator; points = min(max, max × rate ÷ threshold)",
        True,
        _rate_complement,
        _share_full_at,
    )
)


# --- the method, as validated data --------------------------------------------------------------------

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
Text = Annotated[str, Field(min_length=1)]
Points = Annotated[Decimal, Field(gt=0, decimal_places=2)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Rule(_Frozen):
    """A conversion rule with its parameters; `rule: linear` is short for `rule: {kind: linear}`."""

    kind: str
    threshold: Annotated[Decimal, Field(gt=0, le=1, decimal_places=4)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        return {"kind": data} if isinstance(data, str) else data

    @field_validator("kind")
    @classmethod
    def _registered(cls, kind: str) -> str:
        if kind not in _CONVERSIONS:
            raise ValueError(f"unknown conversion rule {kind!r}; known: {', '.join(sorted(_CONVERSIONS))}")
        return kind

    @model_validator(mode="after")
    def _threshold_matches_kind(self) -> Rule:
        takes = _CONVERSIONS[self.kind].takes_threshold
        if takes and self.threshold is None:
            raise ValueError(
                f"rule {self.kind!r} needs a threshold (the rate that earns full points, e.g. 0.8)"
            )
        if not takes and self.threshold is not None:
            raise ValueError(f"rule {self.kind!r} takes no threshold")
        return self


PointsFrom = Literal["rounded_rate", "raw_rate"]
Arithmetic = Literal["exact", "binary_float"]


class MethodGroup(_Frozen):
    """A group; `points_from` / `arithmetic` override the method's rounding model for its indicators.

    `arithmetic: binary_float` computes max × rate ÷ threshold in IEEE binary floating point and rounds the
    binary value half up to 2 decimals (JavaScript's `toFixed(2)`): 6 × 0.9325 is 5.59499… in binary, so 5.59.
    """

    id: Id
    name_vi: Text
    name_en: Text
    max_points: Points
    points_from: PointsFrom | None = None
    arithmetic: Arithmetic | None = None


class MethodIndicator(_Frozen):
    id: Id
    group: Id
    name_vi: Text
    name_en: Text
    max_points: Points
    rule: Rule
    zero_denominator: Literal["full", "zero", "split", "exclude"]
    provisional: bool = False
    note: str = ""  # in English
    note_vi: str = ""  # the same note in Vietnamese (the reports show it in the reader's language)

    @model_validator(mode="after")
    def _provisional_has_note(self) -> MethodIndicator:
        if self.provisional and not (self.note.strip() and self.note_vi.strip()):
            raise ValueError(
                "a provisional indicator needs a note and a note_vi saying what is not confirmed"
            )
        if bool(self.note.strip()) != bool(self.note_vi.strip()):
            raise ValueError("write the note in both languages: note (English) and note_vi (Vietnamese)")
        return self

    def note_in(self, lang: str) -> str:
        return self.note_vi if lang == "vi" else self.note


class Band(_Frozen):
    """A band [min, below); the top band has no `below`."""

    id: Id
    name_vi: Text
    name_en: Text
    min: Annotated[Decimal, Field(ge=0, decimal_places=2)]
    below: Annotated[Decimal, Field(gt=0, decimal_places=2)] | None = None


def _issue(loc: tuple[str | int, ...], message: str, value: object) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("inconsistent", message), loc=loc, input=value)


class ScoringMethod(_Frozen):
    """A versioned scoring method: groups, indicators with their rules, rounding order and bands."""

    id: Id
    version: Text
    name_vi: Text
    name_en: Text
    valid_from: date
    valid_to: date | None = None
    source: Text
    total_points: Points
    points_from: PointsFrom
    arithmetic: Arithmetic = "exact"
    notes: tuple[str, ...] = ()  # method-wide caveats, in English
    notes_vi: tuple[str, ...] = ()  # the same caveats in Vietnamese, in the same order
    #: where the portal publishes each indicator (metric codes, fields of its API responses); see portal/
    portal: PortalMapping | None = None
    groups: tuple[MethodGroup, ...]
    indicators: tuple[MethodIndicator, ...]
    bands: tuple[Band, ...]

    @model_validator(mode="after")
    def _consistent(self) -> ScoringMethod:
        issues = [*self._group_issues(), *self._band_issues(), *self._portal_issues()]
        if len(self.notes_vi) != len(self.notes):
            issues.append(
                _issue(("notes_vi",), "write every method note in both languages: notes and notes_vi, same order",
                       len(self.notes_vi))
            )  # fmt: skip
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            issues.append(_issue(("valid_to",), "valid_to must be after valid_from", str(self.valid_to)))
        if issues:
            raise ValidationError.from_exception_data(type(self).__name__, issues)
        return self

    def _group_issues(self) -> list[InitErrorDetails]:
        issues = [] if self.groups else [_issue(("groups",), "at least one group is needed", [])]
        groups: dict[str, int] = {}
        for n, group in enumerate(self.groups):
            if group.id in groups:
                issues.append(
                    _issue(
                        ("groups", n, "id"), f"duplicate group id (also groups.{groups[group.id]})", group.id
                    )
                )
            groups.setdefault(group.id, n)
        seen: dict[str, int] = {}
        sums: dict[str, Decimal] = {g: Decimal(0) for g in groups}
        for n, ind in enumerate(self.indicators):
            if ind.id in seen:
                issues.append(
                    _issue(
                        ("indicators", n, "id"),
                        f"duplicate indicator id (also indicators.{seen[ind.id]})",
                        ind.id,
                    )
                )
            seen.setdefault(ind.id, n)
            if ind.group not in groups:
                known = ", ".join(groups)
                issues.append(
                    _issue(
                        ("indicators", n, "group"), f"unknown group {ind.group!r}; groups: {known}", ind.group
                    )
                )
            else:
                sums[ind.group] += ind.max_points
        for group_id, n in groups.items():
            group = self.groups[n]
            if sums[group_id] == 0:
                issues.append(_issue(("groups", n, "id"), f"group {group_id!r} has no indicators", group_id))
            elif sums[group_id] != group.max_points:
                issues.append(
                    _issue(
                        ("groups", n, "max_points"),
                        f"group {group_id!r} has max_points {group.max_points} "
                        f"but its indicators add up to {sums[group_id]}",
                        str(group.max_points),
                    )
                )
        total = sum((g.max_points for g in self.groups), Decimal(0))
        if total != self.total_points:
            issues.append(
                _issue(
                    ("total_points",),
                    f"total_points is {self.total_points} but the groups add up to {total}",
                    str(total),
                )
            )
        return issues

    def _portal_issues(self) -> list[InitErrorDetails]:
        if self.portal is None:
            return []
        known = {i.id for i in self.indicators}
        groups = {g.id for g in self.groups}
        issues = [
            _issue(("portal", "endpoints", n, "group"), f"unknown group {e.group!r}", e.group)
            for n, e in enumerate(self.portal.endpoints)
            if e.group not in groups
        ]
        for part in ("metrics", "fields"):
            for n, entry in enumerate(getattr(self.portal, part)):
                if entry.indicator not in known:
                    issues.append(
                        _issue(
                            ("portal", part, n, "indicator"),
                            f"unknown indicator {entry.indicator!r}",
                            entry.indicator,
                        )
                    )
        seen = self.portal.indicator_ids()
        doubled = sorted({i for i in seen if seen.count(i) > 1})
        if doubled:
            issues.append(_issue(("portal",), f"indicator(s) mapped twice: {', '.join(doubled)}", doubled))
        return issues

    def _band_issues(self) -> list[InitErrorDetails]:
        if not self.bands:
            return [_issue(("bands",), "at least one band is needed (the lowest starting at 0)", [])]
        issues = []
        ids = [b.id for b in self.bands]
        for n, band in enumerate(self.bands):
            if ids.index(band.id) != n:
                issues.append(_issue(("bands", n, "id"), f"duplicate band id {band.id!r}", band.id))
            if band.below is not None and band.below <= band.min:
                issues.append(
                    _issue(
                        ("bands", n, "below"),
                        f"below ({band.below}) must be above min ({band.min})",
                        str(band.below),
                    )
                )
        order = sorted(range(len(self.bands)), key=lambda i: self.bands[i].min)
        if self.bands[order[0]].min != 0:
            issues.append(
                _issue(
                    ("bands", order[0], "min"),
                    "the lowest band must start at 0 (a gap below it)",
                    str(self.bands[order[0]].min),
                )
            )
        for lower, upper in itertools.pairwise(order):
            below, start = self.bands[lower].below, self.bands[upper].min
            if below is None or below > start:
                issues.append(
                    _issue(
                        ("bands", lower, "below"),
                        f"overlaps band {self.bands[upper].id!r}, which starts at {start}",
                        str(below),
                    )
                )
            elif below < start:
                issues.append(
                    _issue(("bands", lower, "below"), f"gap: nothing covers [{below}, {start})", str(below))
                )
        if self.bands[order[-1]].below is not None:
            issues.append(
                _issue(
                    ("bands", order[-1], "below"),
                    "the top band must have no 'below' (it includes the maximum)",
                    str(self.bands[order[-1]].below),
                )
            )
        return issues

    @property
    def label(self) -> str:
        """The method version stamped on every score: `<id>@<version>`."""
        return f"{self.id}@{self.version}"

    def display(self, lang: str = "vi") -> str:
        """How a reader sees this method: 'Phương pháp 2026.12' / 'Method 2026.12' (the version, never a code)."""
        return f"{'Phương pháp' if lang == 'vi' else 'Method'} {self.version}"

    def indicator(self, indicator_id: str) -> MethodIndicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise UnknownNameError.from_choices(
            f"indicator of method {self.label}", indicator_id, self.indicator_ids
        )

    @property
    def indicator_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.indicators)

    def indicator_frame(self) -> pl.DataFrame:
        """One row per indicator, in method order: group, names, max points, rule, threshold, flags."""
        group_order = {g.id: n for n, g in enumerate(self.groups)}
        return pl.DataFrame(
            {
                "group": [i.group for i in self.indicators],
                "indicator": [i.id for i in self.indicators],
                "name_vi": [i.name_vi for i in self.indicators],
                "name_en": [i.name_en for i in self.indicators],
                "max_points": [float(i.max_points) for i in self.indicators],
                "rule": [i.rule.kind for i in self.indicators],
                "threshold": [float(i.rule.threshold) if i.rule.threshold else None for i in self.indicators],
                "zero_denominator": [i.zero_denominator for i in self.indicators],
                "provisional": [i.provisional for i in self.indicators],
                "note": [i.note for i in self.indicators],
                "group_order": [group_order.get(i.group, -1) for i in self.indicators],
                "indicator_order": list(range(len(self.indicators))),
            },
            schema_overrides={"threshold": pl.Float64, "group_order": pl.Int64, "indicator_order": pl.Int64},
        )


def known_methods() -> list[str]:
    """Names of the methods shipped in egov_metrics/methods/."""
    return sorted(p.stem for p in METHODS_DIR.glob("*.yaml"))


def method_display(label: str, lang: str = "vi") -> str:
    """The reader's name of a method stamp `<id>@<version>` (as scores carry it): 'Phương pháp <version>'."""
    _, _, version = label.partition("@")
    return f"{'Phương pháp' if lang == 'vi' else 'Method'} {version or label}"


def load_method(name_or_path: str | Path = DEFAULT_METHOD) -> ScoringMethod:
    """A shipped method by name (`portal_2026`), or a method file by path (`my/method.yaml`).

    A file with problems raises `MethodError` listing every problem as `file:line: key: message`.
    """
    if isinstance(name_or_path, Path) or name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        path = Path(name_or_path)
        if not path.is_file():
            raise ScoringError(f"no method file {path}", f"shipped methods: {', '.join(known_methods())}")
    else:
        path = METHODS_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            raise UnknownNameError.from_choices("scoring method", name_or_path, known_methods())
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
    if method.id != path.stem:
        raise MethodError(
            [
                Problem(
                    path,
                    lines.get(("id",), 1),
                    "id",
                    f"id {method.id!r} must equal the file name {path.stem!r}",
                )
            ]
        )
    return method


# --- scoring ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreResult:
    """Scores of one method for every unit and period in the counts.

    `indicators`: unit_id, period, group, indicator, numerator, denominator, rate (%, 2 dp), points,
    max_points (after any split/exclude), points_lost, provisional, basis (`rate` or the zero-denominator
    rule applied), missing (the indicator was absent from the counts), method_version.
    `groups`: unit_id, period, group, score, max, method_version.
    `totals`: unit_id, period, total, max, band, band_vi, peer_group, rank, rank_among (units in the peer
    group), rank_all, rank_all_among (all units of the period), method_version.
    Columns of the counts that are constant for a unit and period are carried to every frame.
    """

    indicators: pl.DataFrame
    groups: pl.DataFrame
    totals: pl.DataFrame
    method: ScoringMethod
    #: groups of the method with no row at all in a published file: not scored (the total covers the others)
    missing_groups: tuple[str, ...] = ()

    @property
    def method_version(self) -> str:
        return self.method.label


def _resolve(method: ScoringMethod | str | Path) -> ScoringMethod:
    return method if isinstance(method, ScoringMethod) else load_method(method)


def _row_listing(frame: pl.DataFrame, first_line: int | None, limit: int = 5) -> str:
    """Up to `limit` offending rows as 'row N (unit_id, period, indicator)'."""
    rows = frame.head(limit).iter_rows(named=True)
    where = "line" if first_line is not None else "row"
    offset = first_line if first_line is not None else 1
    shown = [
        f"{where} {r['_row'] + offset} ({r.get('unit_id')}, {r.get('period')}, {r.get('indicator')})"
        for r in rows
    ]
    more = f" and {frame.height - limit} more" if frame.height > limit else ""
    return "; ".join(shown) + more


def _check_counts(counts: pl.DataFrame, first_line: int | None = None) -> None:
    """Reject what cannot be scored, listing every kind of problem at once."""
    missing = [c for c in (*KEY_COLUMNS, *COUNT_COLUMNS) if c not in counts.columns]
    if missing:
        raise ScoringError(
            f"the counts lack the column(s) {', '.join(missing)} (they have: {', '.join(counts.columns)})",
            "counts are long: one row per unit_id, period and indicator with numerator and denominator",
        )
    for col in COUNT_COLUMNS:
        dtype = counts.schema[col]
        if not (dtype.is_numeric() or dtype == pl.Null):
            raise ScoringError(
                f"column {col!r} is {dtype}, not a number",
                "give plain numbers (528684, not '528.684'); score_from_published parses text columns",
            )
    framed = counts.with_row_index("_row")
    checks = {
        "empty unit_id, period, indicator, numerator or denominator": pl.any_horizontal(
            pl.col(*KEY_COLUMNS, *COUNT_COLUMNS).is_null()
        ),
        "negative denominator": pl.col("denominator") < 0,
        "the same unit_id, period and indicator more than once": pl.struct(*KEY_COLUMNS).is_duplicated(),
    }
    problems = []
    for what, condition in checks.items():
        bad = framed.filter(condition)
        if bad.height:
            problems.append(f"{what}: {_row_listing(bad, first_line)}")
    if problems:
        raise ScoringError(
            "cannot score these counts:\n" + "\n".join(problems),
            "give one row per unit, period and indicator; "
            "leave a row out to apply the indicator's zero-denominator rule",
        )


_OUTPUT_COLUMNS = frozenset(
    {
        "group",
        "rate",
        "points",
        "max_points",
        "points_lost",
        "provisional",
        "basis",
        "missing",
        "method_version",
        "score",
        "max",
        "total",
        "band",
        "band_vi",
        "peer_group",
        "rank",
        "rank_among",
        "rank_all",
        "rank_all_among",
        "rate_diff",
        "points_diff",
    }
)


def _check_extras(counts: pl.DataFrame, extras: list[str]) -> None:
    """Extras must not shadow output columns; `unit_*`, `period_*` ones must be constant per unit, period."""
    clash = sorted(c for c in extras if c in _OUTPUT_COLUMNS or c.startswith("_"))
    if clash:
        raise ScoringError(
            f"the counts have column(s) named like score columns: {', '.join(clash)}",
            "rename or drop them before scoring",
        )
    unit_extras = [c for c in extras if c.startswith(_UNIT_PREFIXES)]
    if not unit_extras or not counts.height:
        return
    spread = counts.group_by("unit_id", "period").agg(pl.col(c).n_unique() for c in unit_extras)
    varying = [c for c in unit_extras if spread[c].max() > 1]  # type: ignore[operator]
    if varying:
        example = spread.filter(pl.col(varying[0]) > 1).row(0, named=True)
        raise ScoringError(
            f"column(s) {', '.join(varying)} vary within a unit and period "
            f"(e.g. unit {example['unit_id']!r}, period {example['period']!r})",
            "columns named unit_* or period_* describe the unit or the period and are carried to every frame",
        )


def _scaled(column: str, dtype: pl.DataType) -> pl.Expr:
    """A count as an exact integer: the value × 10⁶ (fractional counts are kept to 6 decimals)."""
    if dtype.is_integer():
        return pl.col(column).cast(_I) * _COUNT_SCALE
    return (pl.col(column) * _COUNT_SCALE).round(0).cast(_I)


def _half_up(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """round(num ÷ den) half up, for num ≥ 0 and den > 0, exactly on integers."""
    return (2 * num + den) // (2 * den)


def _dispatch(kinds: list[str], build: Callable[[Conversion], Ratio]) -> Ratio:
    """One when/then expression per ratio part, over the conversion rules the method uses (null otherwise)."""
    num: pl.Expr = pl.lit(None)
    den: pl.Expr = pl.lit(None)
    for kind in reversed(kinds):  # the rules are disjoint; nested from the last one outwards
        a, b = build(_get_conversion(kind))
        is_kind = pl.col("_rule") == kind
        num = pl.when(is_kind).then(a).otherwise(num)
        den = pl.when(is_kind).then(b).otherwise(den)
    return num, den


def _method_table(method: ScoringMethod) -> pl.DataFrame:
    """The per-indicator parameters as exact integers (points in hundredths, thresholds × 10 000)."""
    ind = method.indicators
    groups = {g.id: g for g in method.groups}
    return pl.DataFrame(
        {
            "indicator": [i.id for i in ind],
            "_pf": [groups[i.group].points_from or method.points_from for i in ind],
            "_arith": [groups[i.group].arithmetic or method.arithmetic for i in ind],
            "group": [i.group for i in ind],
            "provisional": [i.provisional for i in ind],
            "_rule": [i.rule.kind for i in ind],
            "_zero": [i.zero_denominator for i in ind],
            "_max": [int(i.max_points * 100) for i in ind],
            "_threshold": [
                int(i.rule.threshold * _ONE) if i.rule.threshold is not None else None for i in ind
            ],
            "_order": list(range(len(ind))),
        },
        schema_overrides={"_max": _I, "_threshold": _I, "_order": pl.Int64},
    )


def _binary_float_points(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Points of the `binary_float` indicators: min(max, rate% × max ÷ threshold ÷ 100) in IEEE doubles, left
    to right, the binary value rounded half up to 2 decimals (as JavaScript's toFixed(2) does: 93.25 × 6 ÷ 1
    ÷ 100 is 5.59499… in binary → 5.59; 45 × 2 ÷ 0.8 ÷ 100 is 1.125 exactly → 1.13).

    Exact rounding of a binary value needs its exact decimal expansion (`Decimal(float)`), so the points are
    computed once per distinct (max, rate, threshold) and joined back: a few hundred values, not one per row.
    """
    # the rate in percent as a double (93.25), correctly rounded from the exact ratio
    rate_f = ((pl.col("_pn") * 100).cast(pl.Float64) / pl.col("_pd").cast(pl.Float64)).alias("_rate_f")
    target = (
        (pl.col("_arith") == "binary_float")
        & (pl.col("basis") == "rate")
        & (pl.col("_md") == 1)
        & (pl.col("_rule") != "awarded")
    )
    frame = frame.with_columns(rate_f, _target=target)
    keys = ["_max", "_threshold", "_rate_f"]
    distinct = frame.filter("_target").select(keys).unique().collect()
    cents = [
        _to_fixed_cents(int(m), t, r) for m, t, r in distinct.iter_rows()
    ]  # one value per distinct key, not per row
    lookup = distinct.with_columns(pl.Series("_float_c", cents, dtype=_I)).lazy()
    return (
        frame.join(lookup, on=keys, how="left", nulls_equal=True)
        .with_columns(_points_c=pl.when("_target").then(pl.col("_float_c")).otherwise(pl.col("_points_c")))
        .drop("_float_c", "_target", "_rate_f")
    )


def _to_fixed_cents(max_cents: int, threshold: int | None, percent: float) -> int:
    """min(max, percent × max ÷ threshold ÷ 100) in doubles, left to right, then the binary value half up."""
    mx = max_cents / 100
    points = min(mx, max(percent, 0.0) * mx / (threshold / _ONE if threshold else 1.0) / 100)
    return int((Decimal(points) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _from_cents(cents: pl.Expr) -> pl.Expr:
    """Hundredths as the Float64 nearest to the 2-decimal value (17.68, not 17.680000000000001).

    Polars divides by a constant through its reciprocal (57 / 100 → 0.5700000000000001), so the value is
    written as text ('57e-2') and parsed, which rounds correctly.
    """
    return pl.format("{}e-2", cents).cast(pl.Float64)


def _to_cents(value: pl.Expr) -> pl.Expr:
    return (value.cast(pl.Float64) * 100).round(0).cast(pl.Int64)


def _cents(col: str) -> pl.Expr:
    return _from_cents(pl.col(col)).alias(col.removeprefix("_").removesuffix("_c"))


def score(
    counts: pl.DataFrame,
    method: ScoringMethod | str | Path = DEFAULT_METHOD,
    *,
    peers: pl.DataFrame | None = None,
) -> ScoreResult:
    """Score every unit and period in `counts` with `method`.

    `counts` is long: unit_id, period, indicator, numerator, denominator (the engine's output, or counts
    published by the portal); other columns pass through. Rows of indicators the method does not know are
    ignored. An indicator of the method that has no row for a unit and period is scored as a zero
    denominator (its zero-denominator rule applies) and marked `missing`.

    Peers for the ranking: `peers` (columns unit_id, peer_group), else the counts' `unit_level` column,
    else all units together. `rank` is the competition rank (1, 2, 2, 4) among peers in the same period.
    """
    method = _resolve(method)
    _check_counts(counts)
    label = method.label
    table = _method_table(method)
    extras = [c for c in counts.columns if c not in (*KEY_COLUMNS, *COUNT_COLUMNS)]
    _check_extras(counts, extras)
    unit_keys = ["unit_id", "period"]
    unit_extras = [c for c in extras if c.startswith(_UNIT_PREFIXES)]
    row_extras = [c for c in extras if c not in unit_extras]

    known = counts.filter(pl.col("indicator").is_in(method.indicator_ids))
    units = (
        known.group_by(unit_keys, maintain_order=True)
        .agg(pl.col(c).first() for c in unit_extras)
        .with_row_index("_unit_order")
    )
    grid = units.join(table, how="cross").join(
        known.select(*KEY_COLUMNS, *COUNT_COLUMNS, *row_extras), on=list(KEY_COLUMNS), how="left"
    )
    dtypes = counts.schema
    kinds = sorted(set(table["_rule"]))
    group_keys = ["unit_id", "period", "group"]

    frame = (
        grid.lazy()
        .with_columns(
            _n=_scaled("numerator", dtypes["numerator"]),
            _d=_scaled("denominator", dtypes["denominator"]),
            missing=pl.col("numerator").is_null(),
        )
        .with_columns(_has=pl.col("_d").fill_null(0) > 0)
    )
    rn, rd = _dispatch(kinds, lambda c: c.rate(pl.col("_n"), pl.col("_d")))
    frame = frame.with_columns(_rn=pl.max_horizontal(rn, pl.lit(0, _I)), _rd=rd).with_columns(
        _rate=pl.when("_has").then(_half_up(_ONE * pl.col("_rn"), pl.col("_rd")))
    )
    from_rounded = pl.col("_pf") == "rounded_rate"
    pn = pl.when(from_rounded).then(pl.col("_rate")).otherwise(pl.col("_rn"))
    pd = pl.when(from_rounded).then(pl.lit(_ONE, _I)).otherwise(pl.col("_rd"))
    frame = frame.with_columns(_pn=pn, _pd=pd)
    pn, pd = pl.col("_pn"), pl.col("_pd")
    sn, sd = _dispatch(kinds, lambda c: c.share(pn, pd, pl.col("_threshold")))
    frame = frame.with_columns(
        basis=pl.when("_has").then(pl.lit("rate")).otherwise(pl.col("_zero")),
        _sn=pl.when("_has")
        .then(sn)
        .when(pl.col("_zero") == "full")
        .then(pl.lit(1, _I))
        .otherwise(pl.lit(0, _I)),
        _sd=pl.when("_has").then(sd).otherwise(pl.lit(1, _I)),
    )
    # split / exclude: the indicator drops out and the other indicators of its group share its points
    # (split: equally; exclude: in proportion to their maxima). With nobody left to share them, they are lost.
    candidate = pl.col("basis").is_in(["split", "exclude"])
    frame = frame.with_columns(
        _k=(~candidate).cast(_I).sum().over(group_keys),
        _kept_max=pl.when(~candidate).then(pl.col("_max")).otherwise(0).sum().over(group_keys),
        _split=pl.when(pl.col("basis") == "split").then(pl.col("_max")).otherwise(0).sum().over(group_keys),
        _excl=pl.when(pl.col("basis") == "exclude").then(pl.col("_max")).otherwise(0).sum().over(group_keys),
    )
    dropped = candidate & (pl.col("_k") > 0)
    shared = (pl.col("_split") + pl.col("_excl") > 0) & ~candidate
    k, kept, mx = pl.col("_k"), pl.col("_kept_max"), pl.col("_max")
    frame = frame.with_columns(
        # effective maximum (hundredths of a point) as an exact ratio _mn / _md
        _mn=pl.when(dropped)
        .then(pl.lit(0, _I))
        .when(shared)
        .then(mx * k * kept + pl.col("_split") * kept + mx * pl.col("_excl") * k)
        .otherwise(mx),
        _md=pl.when(shared).then(k * kept).otherwise(pl.lit(1, _I)),
    ).with_columns(
        _points_c=_half_up(pl.col("_mn") * pl.col("_sn"), pl.col("_md") * pl.col("_sd")),
        _max_points_c=_half_up(pl.col("_mn"), pl.col("_md")),
    )
    if "binary_float" in set(table["_arith"]):
        frame = _binary_float_points(frame)
    frame = frame.with_columns(_points_lost_c=pl.col("_max_points_c") - pl.col("_points_c"))
    indicators = (
        frame.sort(["_unit_order", "_order"])
        .select(
            *unit_keys,
            *unit_extras,
            "group",
            "indicator",
            "numerator",
            "denominator",
            _cents("_rate"),
            _cents("_points_c"),
            _cents("_max_points_c"),
            _cents("_points_lost_c"),
            "provisional",
            "basis",
            "missing",
            *row_extras,
            "_points_c",
            "_unit_order",
            method_version=pl.lit(label),
        )
        .collect()
    )
    groups = _group_scores(indicators, method, unit_keys, unit_extras)
    totals = _totals(groups, method, unit_keys, unit_extras, peers)
    return ScoreResult(
        indicators.drop("_points_c", "_unit_order"), groups.drop("_score_c", "_unit_order"), totals, method
    )


def _group_scores(
    indicators: pl.DataFrame, method: ScoringMethod, unit_keys: list[str], unit_extras: list[str]
) -> pl.DataFrame:
    groups = pl.DataFrame(
        {
            "group": [g.id for g in method.groups],
            "max": [float(g.max_points) for g in method.groups],
            "_gorder": list(range(len(method.groups))),
        }
    )
    return (
        indicators.group_by([*unit_keys, "group"])
        .agg(
            *(pl.col(c).first() for c in unit_extras),
            pl.col("_unit_order").first(),
            _score_c=pl.col("_points_c").sum(),
        )
        .join(groups, on="group")
        .sort(["_unit_order", "_gorder"])
        .select(
            *unit_keys,
            *unit_extras,
            "group",
            _from_cents(pl.col("_score_c")).alias("score"),
            "max",
            "_score_c",
            "_unit_order",
            method_version=pl.lit(method.label),
        )
    )


def _peer_groups(units: pl.DataFrame, unit_extras: list[str], peers: pl.DataFrame | None) -> pl.DataFrame:
    if peers is not None:
        lacking = {"unit_id", "peer_group"} - set(peers.columns)
        if lacking:
            raise ScoringError(
                f"peers lacks the column(s) {', '.join(sorted(lacking))}",
                "peers has one row per unit: unit_id, peer_group (e.g. org_unit's id and level)",
            )
        peers = peers.select("unit_id", pl.col("peer_group").cast(pl.String)).unique()
        doubled = peers.filter(pl.col("unit_id").is_duplicated())["unit_id"].unique().sort()
        if doubled.len():
            raise ScoringError(f"peers gives several peer groups to unit(s) {', '.join(map(str, doubled))}")
        out = units.join(peers, on="unit_id", how="left")
        absent = out.filter(pl.col("peer_group").is_null())["unit_id"].unique().sort()
        if absent.len():
            raise ScoringError(
                f"peers has no peer_group for unit(s) {', '.join(map(str, absent.head(10)))}",
                "give every scored unit a row in peers, or leave peers out to use the unit_level column",
            )
        return out
    if "unit_level" in unit_extras:
        return units.with_columns(peer_group=pl.col("unit_level").cast(pl.String).fill_null("all"))
    return units.with_columns(peer_group=pl.lit("all"))


def _totals(
    groups: pl.DataFrame,
    method: ScoringMethod,
    unit_keys: list[str],
    unit_extras: list[str],
    peers: pl.DataFrame | None,
) -> pl.DataFrame:
    totals = groups.group_by(unit_keys, maintain_order=True).agg(
        *(pl.col(c).first() for c in unit_extras),
        pl.col("_unit_order").first(),
        _total_c=pl.col("_score_c").sum(),
    )
    # the highest band whose minimum the total reaches: nested from the lowest band outwards
    band_en: pl.Expr = pl.lit(None, pl.String)
    band_vi: pl.Expr = pl.lit(None, pl.String)
    for band in sorted(method.bands, key=lambda b: b.min):
        at_least = pl.col("_total_c") >= int(band.min * 100)
        band_en = pl.when(at_least).then(pl.lit(band.id)).otherwise(band_en)
        band_vi = pl.when(at_least).then(pl.lit(band.name_vi)).otherwise(band_vi)
    peer_keys = ["period", "peer_group"]
    return (
        _peer_groups(totals, unit_extras, peers)
        .with_columns(
            total=_from_cents(pl.col("_total_c")),
            max=pl.lit(float(method.total_points)),
            band=band_en,
            band_vi=band_vi,
            rank=pl.col("_total_c").rank("min", descending=True).over(peer_keys).cast(pl.Int64),
            rank_among=pl.len().over(peer_keys).cast(pl.Int64),
            rank_all=pl.col("_total_c").rank("min", descending=True).over("period").cast(pl.Int64),
            rank_all_among=pl.len().over("period").cast(pl.Int64),
            method_version=pl.lit(method.label),
        )
        .sort("_unit_order")
        .select(
            *unit_keys,
            *unit_extras,
            "total",
            "max",
            "band",
            "band_vi",
            "peer_group",
            "rank",
            "rank_among",
            "rank_all",
            "rank_all_among",
            "method_version",
        )
    )


# --- published counts ------------------------------------------------------------------------------

_PUBLISHED_NUMBERS = ("numerator", "denominator", "published_rate", "published_points")


def _read_published(source: str | Path, sheet_name: str | None) -> pl.DataFrame:
    path = Path(source)
    if not path.is_file():
        raise ScoringError(f"no file {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pl.read_csv(path, infer_schema=False)
        if suffix in (".xlsx", ".xlsm", ".xls"):
            return pl.read_excel(path, sheet_name=sheet_name, infer_schema_length=0)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise ScoringError(f"cannot read {path}: {exc}") from exc
    raise ScoringError(f"cannot read {path}: unknown file type {suffix!r}", "give a .csv or .xlsx file")


def score_from_published(
    source: str | Path | pl.DataFrame,
    method: ScoringMethod | str | Path = DEFAULT_METHOD,
    *,
    peers: pl.DataFrame | None = None,
    sheet_name: str | None = None,
) -> ScoreResult:
    """Recompute scores from counts published by the national portal (a CSV/XLSX file or a frame).

    The expected columns are listed in this module's docstring and in docs/scoring.md. Numbers may be typed
    as text; every cell that is not a plain number is reported with its line. Unlike `score()`, an indicator
    name the method does not know is an error (a typo would otherwise silently cost the unit its points).
    When `published_rate` / `published_points` are given, the indicators frame gains `rate_diff` /
    `points_diff` (recomputed − published), so the portal's own figures can be checked.
    """
    method = _resolve(method)
    from_file = not isinstance(source, pl.DataFrame)
    frame = source if isinstance(source, pl.DataFrame) else _read_published(source, sheet_name)
    first_line = 2 if from_file else None  # a file's first data row is on line 2, under the header
    frame = frame.rename({c: c.strip() for c in frame.columns})
    frame = frame.with_columns(
        pl.col(c).cast(pl.String).str.strip_chars() for c in KEY_COLUMNS if c in frame.columns
    )
    numbers = [c for c in _PUBLISHED_NUMBERS if c in frame.columns]
    framed = frame.with_row_index("_row")
    problems = []
    for col in numbers:
        if frame.schema[col].is_numeric():
            continue
        text = pl.col(col).cast(pl.String).str.strip_chars()
        parsed = text.cast(pl.Decimal(38, 6), strict=False)
        bad = framed.filter(text.is_not_null() & (text != "") & parsed.is_null())
        if bad.height:
            problems.append(f"column {col!r} is not a plain number: {_row_listing(bad, first_line)}")
        frame = frame.with_columns(parsed.alias(col))
    if "indicator" in frame.columns:
        unknown = framed.with_columns(frame["indicator"]).filter(
            pl.col("indicator").is_not_null() & ~pl.col("indicator").is_in(method.indicator_ids)
        )
        for (name,), rows in unknown.group_by("indicator", maintain_order=True):
            close = difflib.get_close_matches(str(name), method.indicator_ids, n=1)
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"unknown indicator {name!r}{guess}: {_row_listing(rows, first_line)}")
    if problems:
        where = f" in {source}" if from_file else ""
        raise ScoringError(
            f"cannot read the published counts{where}:\n" + "\n".join(problems),
            f"write numbers without thousands separators; indicator ids: {', '.join(method.indicator_ids)}",
        )
    _check_counts(frame, first_line)
    present = set(frame["indicator"].unique().to_list())
    missing = tuple(
        g.id for g in method.groups if not any(i.id in present for i in method.indicators if i.group == g.id)
    )
    if len(missing) == len(method.groups):
        raise ScoringError("the published counts have no rows", "give one row per unit, period and indicator")
    _check_groups_per_unit(frame, method, missing, None if isinstance(source, pl.DataFrame) else source)
    result = score(frame, _only_groups(method, missing), peers=peers)
    if missing:
        result = ScoreResult(
            result.indicators,
            result.groups,
            result.totals.with_columns(band=pl.lit(None, pl.String), band_vi=pl.lit(None, pl.String)),
            method,
            missing,
        )

    diffs = [
        _from_cents(_to_cents(pl.col(c.removeprefix("published_"))) - _to_cents(pl.col(c))).alias(
            c.removeprefix("published_") + "_diff"
        )
        for c in ("published_rate", "published_points")
        if c in frame.columns
    ]
    if not diffs:
        return result
    indicators = result.indicators.with_columns(diffs)
    return ScoreResult(indicators, result.groups, result.totals, result.method, result.missing_groups)


def _check_groups_per_unit(
    frame: pl.DataFrame, method: ScoringMethod, missing: tuple[str, ...], source: str | Path | None
) -> None:
    """Every unit and period has rows for every group the file publishes: a unit without any row of a group
    would otherwise be scored by that group's zero-denominator rule (12 of 18 satisfaction points for nothing)."""
    group_of = {i.id: i.group for i in method.indicators}
    have = frame.select(
        pl.col("unit_id").cast(pl.String),
        pl.col("period").cast(pl.String),
        pl.col("indicator").replace_strict(group_of, default=None).alias("group"),
    ).unique()
    kept = pl.DataFrame({"group": [g.id for g in method.groups if g.id not in missing]})
    absent = (
        have.select("unit_id", "period")
        .unique()
        .join(kept, how="cross")
        .join(have, on=["unit_id", "period", "group"], how="anti")
        .sort("unit_id", "period", "group")
    )
    if absent.is_empty():
        return
    listing = "; ".join(
        f"unit {r['unit_id']}, period {r['period']}: group {r['group']}"
        for r in absent.head(5).iter_rows(named=True)
    )
    more = f" (and {absent.height - 5} more)" if absent.height > 5 else ""
    where = f" in {source}" if source is not None else ""
    raise ScoringError(
        f"the published counts{where} have no row of a group that other units have: {listing}{more}",
        "give those units their rows of the group (denominator 0 when the portal shows no data), "
        "or leave the group out for every unit; nothing was scored",
    )


def _only_groups(method: ScoringMethod, missing: tuple[str, ...]) -> ScoringMethod:
    """The method without the `missing` groups (a file that publishes only some groups is scored on those:
    the others are not scored by their zero-denominator rule). The label stays the method's; the total's
    maximum is the sum of the groups kept, and no band is given for such a partial total."""
    if not missing:
        return method
    groups = tuple(g for g in method.groups if g.id not in missing)
    return method.model_copy(
        update={
            "groups": groups,
            "indicators": tuple(i for i in method.indicators if i.group not in missing),
            "total_points": sum((g.max_points for g in groups), Decimal(0)),
        }
    )


def score_units(
    db: str | Path | duckdb.DuckDBPyConnection | None = None,
    *,
    end: str | date | None = None,
    grain: str = "ytd",
    levels: tuple[str, ...] = ("department", "commune"),
    unit: str | None = None,
    method: ScoringMethod | str | Path = DEFAULT_METHOD,
    start: str | date | None = None,
) -> ScoreResult:
    """Score the units at `levels` for the period of `grain` that ends at `end` (default: the data's end),
    from the province's own dossiers: one engine call for all the method's indicators, then `score()`.
    With `start`, every period from `start` to `end` is scored (for trends)."""
    from egov_metrics.engine import compute

    method = _resolve(method)
    frame = compute(
        method.indicator_ids,
        by=["unit"],
        level=levels,
        grain=grain,
        start=start if start is not None else end,
        end=end,
        unit=unit,
        compare=False,
        db=db,
    )
    if frame.is_empty():
        raise ScoringError(f"no data to score for the period ending {end}", "check --end and the database")
    if start is None:
        frame = frame.filter(pl.col("period_end") == frame["period_end"].max())
    counts = frame.select(
        "unit_id",
        "unit_name",
        "unit_level",
        "period",
        "period_start",
        "period_end",
        "indicator",
        "numerator",
        "denominator",
    )
    return score(counts, method)
