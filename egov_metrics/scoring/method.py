"""A scoring method as validated data: groups, indicators with their rules, rounding order, bands, validity.

`ScoringMethod` checks itself whole (sums of points, bands without gaps or overlaps, the portal mapping) and
reports every problem at once; `loading.load_method()` turns its problems into `file:line` messages.
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

import polars as pl
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from egov_metrics.errors import UnknownNameError
from egov_metrics.model import FrozenModel as _Frozen
from egov_metrics.portal.mapping import PortalMapping
from egov_metrics.scoring.conversions import _CONVERSIONS

# --- the method, as validated data --------------------------------------------------------------------

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
Text = Annotated[str, Field(min_length=1)]
Points = Annotated[Decimal, Field(gt=0, decimal_places=2)]


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
    valid_to: date | None = (
        None  # the first day it no longer applies ([valid_from, valid_to)); none: open-ended
    )
    #: methods this one supersedes: they stay loadable by name but are never selected by date
    replaces: tuple[Id, ...] = ()
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
        if self.id in self.replaces:
            issues.append(_issue(("replaces",), "a method cannot replace itself", self.id))
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

    def valid_on(self, day: date) -> bool:
        """Whether `day` lies in the method's validity [valid_from, valid_to)."""
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)

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
