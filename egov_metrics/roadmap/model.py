"""The roadmap as validated data: phases, targets with their paths, legend bands, layers and components.

`load_roadmap()` reads `roadmap_data/default.yaml` (or a planner's own file) and returns a frozen `Roadmap`,
or raises `RoadmapError` listing every problem as `file:line: key: message`; `check_roadmap()` returns the
problems without raising. Each section's items are validated one by one, so a broken item does not hide the
problems of the others; then the cross-checks run on everything that passed (unknown indicators, milestones
that go the wrong way, bands with gaps or overlaps, unknown or circular dependencies, dates out of phase).
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import itertools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from egov_metrics.catalog import Catalog, load_catalog
from egov_metrics.config import PACKAGE_DIR
from egov_metrics.errors import ProblemsError, UnknownNameError
from egov_metrics.model import FrozenModel as Frozen
from egov_metrics.roadmap.status import Rules, meets, month_number
from egov_metrics.vocab import LIGHT_RANK, LIGHTS, ComponentStatus, Light, UnitLevel, labels
from egov_metrics.yamlutil import Problem, format_validation_error, line_of, load_yaml_with_lines

ROADMAP_DATA_DIR = PACKAGE_DIR / "roadmap_data"
DEFAULT_ROADMAP = ROADMAP_DATA_DIR / "default.yaml"


def user_roadmap() -> Path | None:
    """The planner's own roadmap and targets, `$EGOV_USER_DIR/roadmap.yaml`, when the variable is set and the
    file exists (a copy of the shipped file, edited): it replaces the shipped roadmap everywhere."""
    root = os.environ.get("EGOV_USER_DIR", "").strip()
    path = Path(root).expanduser() / "roadmap.yaml" if root else None
    return path if path is not None and path.is_file() else None


def default_roadmap() -> Path:
    """The roadmap used when none is named: the planner's (`user_roadmap()`) or the shipped one."""
    return user_roadmap() or DEFAULT_ROADMAP


Level = UnitLevel
LIGHT_LABELS = labels(LIGHTS)
#: The range each unit of measure covers (None: open-ended); legend bands must cover it exactly.
UNIT_RANGE: dict[str, tuple[float, float | None]] = {
    "percent": (0.0, 100.0),
    "working_days": (0.0, None),
    "count": (0.0, None),
    "ratio": (0.0, None),
}

PhaseId = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{1,31}$")]
ComponentId = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,63}$")]
Document = Annotated[str, Field(min_length=3)]


class Text(Frozen):
    vi: Annotated[str, Field(min_length=1)]
    en: Annotated[str, Field(min_length=1)]


class Phase(Frozen):
    """A roadmap phase; `end` is its last day (inclusive). Tables store it half-open (end + 1 day)."""

    id: PhaseId
    name: Text
    start: dt.date
    end: dt.date
    goals: tuple[Text, ...] = ()

    @model_validator(mode="after")
    def _ordered(self) -> Phase:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


class Baseline(Frozen):
    value: float
    date: dt.date
    source: Document
    verified: bool = False


class Milestone(Frozen):
    """A yearly milestone, due on 31 December of its year."""

    year: Annotated[int, Field(ge=2000, le=2100)]
    value: float
    source: Document
    verified: bool = False


class PhaseTarget(Frozen):
    """The target at the end of a phase, due on the phase's last day."""

    phase: PhaseId
    value: float
    source: Document
    verified: bool = False


class TargetSet(Frozen):
    """Baseline, milestones and phase targets of one indicator at one unit level."""

    indicator: str
    level: Level = "province"
    baseline: Baseline | None = None
    milestones: tuple[Milestone, ...] = ()
    targets: Annotated[tuple[PhaseTarget, ...], Field(min_length=1)]
    note: str | None = None
    #: The unit that leads the work towards the target (today's unit id, as a component's `owner`): the
    #: roadmap report names it beside every risk.
    owner: str | None = None


class Band(Frozen):
    """A legend band [from, to); the top band includes its `to` (or is open when `to` is omitted)."""

    model_config = ConfigDict(populate_by_name=True)

    start: Annotated[float, Field(alias="from")]
    to: float | None = None
    light: Light
    label: Text | None = None

    def label_in(self, lang: str) -> str:
        text = self.label or Text(**LIGHT_LABELS[self.light])
        return text.vi if lang == "vi" else text.en


class Layer(Frozen):
    """One of the seven architecture layers and the indicators that show it is used."""

    layer: Annotated[int, Field(ge=1, le=7)]
    name: Text
    usage: tuple[str, ...] = ()


class Component(Frozen):
    """An architecture component: its layer, the phase it is planned for, status, dates, owner, dependencies."""

    id: ComponentId
    layer: Annotated[int, Field(ge=1, le=7)]
    name: Text
    phase: PhaseId
    status: ComponentStatus
    planned: dt.date
    live: dt.date | None = None
    owner: str | None = None
    depends_on: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _live_matches_status(self) -> Component:
        if self.status in ("in_operation", "retired") and self.live is None:
            raise ValueError(f"a component with status {self.status!r} needs its 'live' date")
        if self.status in ("planned", "in_progress") and self.live is not None:
            raise ValueError(f"a component with status {self.status!r} has no 'live' date yet; remove it")
        return self


@dataclass(frozen=True)
class PathPoint:
    """One point of a target path: the baseline, a milestone (given or derived) or a phase target."""

    kind: Literal["baseline", "milestone", "target"]
    date: dt.date
    value: float
    source: str
    verified: bool
    derived: bool
    phase: str | None

    @property
    def year(self) -> int:
        return self.date.year


# --- consistency checks --------------------------------------------------------------------------------

Issue = tuple[tuple[str | int, ...], str]


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def _phase_issues(phases: list[tuple[int, Phase]]) -> list[Issue]:
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for n, phase in phases:
        if phase.id in seen:
            issues.append((("phases", n, "id"), f"duplicate phase id (also phases.{seen[phase.id]})"))
        seen.setdefault(phase.id, n)
    ordered = sorted(phases, key=lambda p: p[1].start)
    for (_, a), (nb, b) in itertools.pairwise(ordered):
        if b.start <= a.end:
            issues.append((("phases", nb, "start"), f"phase {b.id} starts on {b.start}, inside phase {a.id}"))
        elif b.start > a.end + dt.timedelta(days=1):
            issues.append(
                (
                    ("phases", nb, "start"),
                    f"gap: nothing covers {a.end + dt.timedelta(days=1)} to {b.start - dt.timedelta(days=1)}",
                )
            )
    return issues


def _layer_issues(layers: list[tuple[int, Layer]], catalog: Catalog) -> list[Issue]:
    issues: list[Issue] = []
    seen: dict[int, int] = {}
    for n, layer in layers:
        if layer.layer in seen:
            issues.append(
                (
                    ("layers", n, "layer"),
                    f"layer {layer.layer} is listed twice (also layers.{seen[layer.layer]})",
                )
            )
        seen.setdefault(layer.layer, n)
        for k, ind in enumerate(layer.usage):
            if ind not in catalog:
                issues.append(
                    (("layers", n, "usage", k), f"unknown indicator {ind!r}{_did_you_mean(ind, catalog.ids)}")
                )
    missing = sorted(set(range(1, 8)) - set(seen))
    if layers and missing:
        issues.append(
            (("layers",), f"layers {', '.join(map(str, missing))} are missing (the framework has 1 to 7)")
        )
    return issues


def _path_issues(n: int, ts: TargetSet, phases: dict[str, Phase], unit: str, direction: str,
                 invalid: frozenset[str] = frozenset()) -> list[Issue]:  # fmt: skip
    issues: list[Issue] = []
    where: tuple[str | int, ...] = ("targets", n)
    ends = {p.end.year: p for p in phases.values()}
    points: list[tuple[dt.date, float, tuple[str | int, ...], str]] = []
    if ts.baseline is not None:
        points.append((ts.baseline.date, ts.baseline.value, (*where, "baseline", "value"), "the baseline"))
    seen_years: dict[int, int] = {}
    for k, ms in enumerate(ts.milestones):
        loc = (*where, "milestones", k)
        if ms.year in seen_years:
            issues.append(
                ((*loc, "year"), f"year {ms.year} is given twice (also milestones.{seen_years[ms.year]})")
            )
            continue
        seen_years[ms.year] = k
        day = dt.date(ms.year, 12, 31)
        if not any(p.contains(day) for p in phases.values()):
            issues.append(((*loc, "year"), f"year {ms.year} is outside every phase"))
        elif ms.year in ends and ends[ms.year].end == day:
            issues.append(
                (
                    (*loc, "year"),
                    f"{ms.year} ends phase {ends[ms.year].id}: give its value under targets, not milestones",
                )
            )
            continue
        points.append((day, ms.value, (*loc, "value"), f"milestone {ms.year}"))
    seen_phases: dict[str, int] = {}
    for k, pt in enumerate(ts.targets):
        loc = (*where, "targets", k)
        if pt.phase not in phases and pt.phase in invalid:
            continue
        if pt.phase not in phases:
            issues.append(((*loc, "phase"), f"unknown phase {pt.phase!r}{_did_you_mean(pt.phase, phases)}"))
            continue
        if pt.phase in seen_phases:
            issues.append(
                ((*loc, "phase"), f"phase {pt.phase} has two targets (also targets.{seen_phases[pt.phase]})")
            )
            continue
        seen_phases[pt.phase] = k
        points.append((phases[pt.phase].end, pt.value, (*loc, "value"), f"the {pt.phase} target"))
    low, high = UNIT_RANGE[unit]
    for _, value, loc, what in points:
        if value < low or (high is not None and value > high):
            top = f"{high:g}" if high is not None else "∞"
            issues.append(
                (loc, f"{what} ({value:g}) is outside the range of a {unit} indicator [{low:g}, {top}]")
            )
    values = [v for _, v, _, _ in points]
    if unit == "percent" and values and max(values) <= 1 and any(v > 0 for v in values):
        issues.append(
            (
                (*where, "indicator"),
                "every value is ≤ 1: these look like shares; write percent (0–100), e.g. 80 for 80 %",
            )
        )
    points.sort(key=lambda p: p[0])
    if ts.baseline is not None and len(points) > 1 and points[0][2][-2] != "baseline":
        issues.append(
            (
                (*where, "baseline", "date"),
                f"the baseline ({ts.baseline.date}) must come before every milestone and target",
            )
        )
    word = {"higher": "fall", "lower": "rise"}[direction]
    for (_, a, _, what_a), (_, b, loc, what_b) in itertools.pairwise(points):
        if not meets(b, a, direction):
            issues.append(
                (loc, f"{what_b} ({b:g}) goes the wrong way after {what_a} ({a:g}): {ts.indicator} is "
                 f"{direction}-is-better, its path must not {word}")
            )  # fmt: skip
    return issues


def _target_issues(
    targets: list[tuple[int, TargetSet]],
    phases: dict[str, Phase],
    catalog: Catalog,
    invalid: frozenset[str] = frozenset(),
) -> list[Issue]:
    issues: list[Issue] = []
    seen: dict[tuple[str, str], int] = {}
    for n, ts in targets:
        if ts.indicator not in catalog:
            issues.append(
                (
                    ("targets", n, "indicator"),
                    f"unknown indicator {ts.indicator!r}{_did_you_mean(ts.indicator, catalog.ids)}",
                )
            )
            continue
        key = (ts.indicator, ts.level)
        if key in seen:
            issues.append(
                (
                    ("targets", n, "level"),
                    f"{ts.indicator} at level {ts.level} is set twice (also targets.{seen[key]})",
                )
            )
            continue
        seen[key] = n
        ind = catalog.get(ts.indicator)
        issues += _path_issues(n, ts, phases, ind.unit, ind.direction, invalid)
    return issues


def _legend_issues(legends: dict[str, list[tuple[int, Band]]], catalog: Catalog) -> list[Issue]:
    issues: list[Issue] = []
    for indicator, bands in legends.items():
        where = ("legends", indicator)
        if indicator not in catalog:
            issues.append((where, f"unknown indicator {indicator!r}{_did_you_mean(indicator, catalog.ids)}"))
            continue
        if not bands:
            continue
        ind = catalog.get(indicator)
        low, high = UNIT_RANGE[ind.unit]
        for n, band in bands:
            if band.to is not None and band.to <= band.start:
                issues.append(((*where, n, "to"), f"to ({band.to:g}) must be above from ({band.start:g})"))
        ordered = sorted(bands, key=lambda b: b[1].start)
        first_n, first = ordered[0]
        if first.start != low:
            issues.append(
                (
                    (*where, first_n, "from"),
                    f"the lowest band must start at {low:g} (gap below {first.start:g})",
                )
            )
        for (na, a), (nb, b) in itertools.pairwise(ordered):
            if a.to is None or a.to > b.start:
                issues.append(
                    ((*where, na, "to"), f"overlaps the band from {b.start:g} (legends.{indicator}.{nb})")
                )
            elif a.to < b.start:
                issues.append(((*where, na, "to"), f"gap: nothing covers [{a.to:g}, {b.start:g})"))
        last_n, last = ordered[-1]
        if last.to is not None and (high is None or last.to != high):
            top = f"up to {high:g}" if high is not None else "open-ended (omit 'to')"
            issues.append(
                (
                    (*where, last_n, "to"),
                    f"the top band must be {top}: nothing covers values above {last.to:g}",
                )
            )
        ranks = [LIGHT_RANK[b.light] for _, b in ordered]
        good_way = (
            ranks == sorted(ranks) if ind.direction == "higher" else ranks == sorted(ranks, reverse=True)
        )
        if not good_way:
            issues.append(
                ((*where, last_n, "light"), f"the lights run the wrong way for a {ind.direction}-is-better indicator "
                 f"(from low to high values: {', '.join(b.light for _, b in ordered)})")
            )  # fmt: skip
    return issues


def _cycles(edges: dict[str, tuple[str, ...]]) -> list[list[str]]:
    """Every elementary cycle found by a depth-first walk, each reported once (smallest id first)."""
    found: dict[tuple[str, ...], list[str]] = {}
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in edges:
                continue
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :]
                start = cycle.index(min(cycle))
                canon = cycle[start:] + cycle[:start]
                found.setdefault(tuple(canon), canon)
            elif state.get(nxt) is None:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            walk(node)
    return list(found.values())


def _component_issues(
    components: list[tuple[int, Component]],
    phases: dict[str, Phase],
    layer_numbers: set[int],
    invalid: frozenset[str] = frozenset(),
) -> list[Issue]:
    issues: list[Issue] = []
    index: dict[str, int] = {}
    for n, c in components:
        if c.id in index:
            issues.append(
                (("components", n, "id"), f"duplicate component id (also components.{index[c.id]})")
            )
            continue
        index[c.id] = n
    by_id = {c.id: c for _, c in components}
    for n, c in components:
        where = ("components", n)
        if layer_numbers and c.layer not in layer_numbers:
            issues.append(((*where, "layer"), f"layer {c.layer} is not among the layers"))
        phase = phases.get(c.phase)
        if phase is None and c.phase in invalid:
            pass
        elif phase is None:
            issues.append(((*where, "phase"), f"unknown phase {c.phase!r}{_did_you_mean(c.phase, phases)}"))
        elif not phase.contains(c.planned):
            issues.append(
                (
                    (*where, "planned"),
                    f"planned date {c.planned} is outside its phase {phase.id} ({phase.start} to {phase.end})",
                )
            )
        for k, dep in enumerate(c.depends_on):
            if dep == c.id:
                issues.append(((*where, "depends_on", k), "a component cannot depend on itself"))
            elif dep in invalid:
                continue  # the component exists but has problems of its own
            elif dep not in by_id:
                issues.append(
                    ((*where, "depends_on", k), f"unknown component {dep!r}{_did_you_mean(dep, by_id)}")
                )
            elif c.status == "in_operation" and by_id[dep].status in ("planned", "in_progress"):
                issues.append(
                    (
                        (*where, "depends_on", k),
                        f"{c.id} is in operation but depends on {dep}, which is {by_id[dep].status}",
                    )
                )
    edges = {c.id: tuple(d for d in c.depends_on if d != c.id) for _, c in components}
    for cycle in _cycles(edges):
        issues.append(
            (
                ("components", index[cycle[0]], "depends_on"),
                f"circular dependency: {' → '.join([*cycle, cycle[0]])}",
            )
        )
    return issues


def _issue(loc: tuple[str | int, ...], message: str) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("roadmap", message), loc=loc, input=None)


# --- the roadmap ---------------------------------------------------------------------------------------


class Roadmap(Frozen):
    """A validated roadmap (see docs/roadmap.md for the file format)."""

    version: Literal[1] = 1
    name: Text
    rules: Rules = Rules()
    phases: Annotated[tuple[Phase, ...], Field(min_length=1)]
    layers: tuple[Layer, ...] = ()
    targets: tuple[TargetSet, ...] = ()
    legends: dict[str, tuple[Band, ...]] = Field(default_factory=dict)
    components: tuple[Component, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Roadmap:
        issues = consistency_issues(
            list(enumerate(self.phases)),
            list(enumerate(self.layers)),
            list(enumerate(self.targets)),
            {k: list(enumerate(v)) for k, v in self.legends.items()},
            list(enumerate(self.components)),
            load_catalog(),
        )
        if issues:
            raise ValidationError.from_exception_data("Roadmap", [_issue(loc, msg) for loc, msg in issues])
        return self

    # -- look-ups ---------------------------------------------------------------------------------------
    def phase(self, phase_id: str) -> Phase:
        for p in self.phases:
            if p.id == phase_id:
                return p
        raise UnknownNameError.from_choices("phase", phase_id, [p.id for p in self.phases])

    def phase_at(self, day: dt.date) -> Phase | None:
        """The phase containing `day`; before the first phase None, after the last the last one."""
        for p in self.phases:
            if p.contains(day):
                return p
        ordered = sorted(self.phases, key=lambda p: p.start)
        return ordered[-1] if day > ordered[-1].end else None

    def layer(self, number: int) -> Layer:
        for layer in self.layers:
            if layer.layer == number:
                return layer
        raise UnknownNameError.from_choices("layer", str(number), [str(x.layer) for x in self.layers])

    @property
    def indicator_ids(self) -> list[str]:
        """Indicators with targets, in file order."""
        return list(dict.fromkeys(ts.indicator for ts in self.targets))

    def target_set(self, indicator: str, level: str = "province") -> TargetSet | None:
        for ts in self.targets:
            if ts.indicator == indicator and ts.level == level:
                return ts
        return None

    def path(self, ts: TargetSet) -> list[PathPoint]:
        """Baseline, yearly milestones and phase targets in date order.

        Years of a phase without a given milestone get a derived one on the straight line between the points
        around them (`derived=True`, with the source of the point they lead to).
        """
        given: list[PathPoint] = []
        if ts.baseline is not None:
            base = ts.baseline
            given.append(
                PathPoint("baseline", base.date, base.value, base.source, base.verified, False, None)
            )
        for ms in ts.milestones:
            day = dt.date(ms.year, 12, 31)
            phase = self.phase_at(day)
            given.append(
                PathPoint(
                    "milestone", day, ms.value, ms.source, ms.verified, False, phase.id if phase else None
                )
            )
        for pt in ts.targets:
            p = self.phase(pt.phase)
            given.append(PathPoint("target", p.end, pt.value, pt.source, pt.verified, False, p.id))
        given.sort(key=lambda x: x.date)
        out: list[PathPoint] = []
        for a, b in itertools.pairwise(given):
            out.append(a)
            # every 31 December strictly between the two points: a point on a phase's last day in the
            # middle of a year (30 June) leaves that year's end to derive too
            for year in range(a.date.year, b.date.year + 1):
                day = dt.date(year, 12, 31)
                phase = self.phase_at(day)
                if not a.date < day < b.date or phase is None or day == phase.end:
                    continue
                share = (month_number(day) - month_number(a.date)) / (
                    month_number(b.date) - month_number(a.date)
                )
                value = round(a.value + (b.value - a.value) * share, 2)
                out.append(PathPoint("milestone", day, value, b.source, False, True, phase.id))
        out.extend(given[-1:])
        return [p for p in out if p.kind == "baseline" or p.phase is not None]

    def legend(self, indicator: str) -> tuple[Band, ...]:
        return tuple(sorted(self.legends.get(indicator, ()), key=lambda b: b.start))

    def band_of(self, indicator: str, value: float | None) -> Band | None:
        """The legend band that holds `value` ([from, to); the top band includes its end)."""
        if value is None:
            return None
        bands = self.legend(indicator)
        for n, band in enumerate(bands):
            top = n == len(bands) - 1
            if value >= band.start and (band.to is None or value < band.to or (top and value <= band.to)):
                return band
        return None

    def components_by_id(self) -> dict[str, Component]:
        return {c.id: c for c in self.components}


def consistency_issues(
    phases: list[tuple[int, Phase]],
    layers: list[tuple[int, Layer]],
    targets: list[tuple[int, TargetSet]],
    legends: dict[str, list[tuple[int, Band]]],
    components: list[tuple[int, Component]],
    catalog: Catalog,
    invalid: frozenset[str] = frozenset(),
) -> list[Issue]:
    """Every cross-item problem of a roadmap's (already schema-valid) parts, with its location.

    `invalid`: ids of phases and components that exist in the file but failed their own validation; a
    reference to them is not reported again as unknown.
    """
    by_id = {p.id: p for _, p in phases}
    return [
        *_phase_issues(phases),
        *_layer_issues(layers, catalog),
        *_target_issues(targets, by_id, catalog, invalid),
        *_legend_issues(legends, catalog),
        *_component_issues(components, by_id, {layer.layer for _, layer in layers}, invalid),
    ]


# --- loading -------------------------------------------------------------------------------------------


class RoadmapError(ProblemsError):
    """The roadmap file has problems; `problems` holds every one with file and line."""

    subject = "the roadmap"
    fix = "fix the lines named above; `egov_metrics.roadmap.check_roadmap(path)` lists them again"


#: The list sections of a roadmap file and the model of their items.
_SECTIONS: dict[str, type[BaseModel]] = {
    "phases": Phase,
    "layers": Layer,
    "targets": TargetSet,
    "components": Component,
}


def _items(raw: object, prefix: tuple[str, ...], model: type[BaseModel], path: Path, lines: dict[tuple, int],
           problems: list[Problem]) -> list[tuple[int, Any]]:  # fmt: skip
    """Validate the items of one list one by one; problems get the item's own lines and keys."""
    if not isinstance(raw, list):
        problems.append(Problem(path, line_of(lines, prefix), ".".join(prefix), "must be a list"))
        return []
    valid = []
    for n, item in enumerate(raw):
        where = (*prefix, n)
        try:
            valid.append((n, model.model_validate(item)))
        except ValidationError as exc:
            shifted = {k[len(where) :]: v for k, v in lines.items() if k[: len(where)] == where}
            for p in format_validation_error(exc, path, shifted):
                key = ".".join(str(x) for x in (*where, *([p.key] if p.key else [])))
                problems.append(Problem(path, p.line or line_of(lines, where), key, p.message))
    return valid


def _legends(
    raw: object, path: Path, lines: dict[tuple, int], problems: list[Problem]
) -> dict[str, list[tuple[int, Band]]]:
    if not isinstance(raw, dict):
        problems.append(
            Problem(path, line_of(lines, ("legends",)), "legends", "must map indicator ids to lists of bands")
        )
        return {}
    out: dict[str, list[tuple[int, Band]]] = {}
    for indicator, bands in raw.items():
        prefix = ("legends", str(indicator))
        if not isinstance(bands, list) or not bands:
            problems.append(
                Problem(path, line_of(lines, prefix), ".".join(prefix), "must be a non-empty list of bands")
            )
            continue
        good = _items(bands, prefix, Band, path, lines, problems)
        if len(good) == len(bands):
            out[str(indicator)] = good
    return out


def check_roadmap(path: str | Path | None = None, *, catalog: Catalog | None = None) -> list[Problem]:
    """Every problem of a roadmap file (the shipped one by default), each with file and line."""
    _, problems = _check(Path(path) if path else default_roadmap(), catalog)
    return problems


def _check(path: Path, catalog: Catalog | None) -> tuple[Roadmap | None, list[Problem]]:
    data, lines, problems = load_yaml_with_lines(path)
    if problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [Problem(path, 1, "", "a roadmap file is a mapping (phases:, targets:, components: …)")]
    catalog = catalog or load_catalog()
    allowed = set(Roadmap.model_fields)
    for key in data:
        if key not in allowed:
            hint = _did_you_mean(str(key), allowed)
            problems.append(
                Problem(path, line_of(lines, (key,)), str(key), f"unknown key (not part of the schema){hint}")
            )
    for key, model in (("name", Text), ("rules", Rules)):
        if key in data or key == "name":
            try:
                model.model_validate(data.get(key))
            except ValidationError as exc:
                shifted = {k[1:]: v for k, v in lines.items() if k[:1] == (key,)}
                for p in format_validation_error(exc, path, shifted):
                    problems.append(
                        Problem(
                            path,
                            p.line or line_of(lines, (key,)),
                            f"{key}{'.' + p.key if p.key else ''}",
                            p.message,
                        )
                    )
    if data.get("version", 1) != 1:
        problems.append(Problem(path, line_of(lines, ("version",)), "version", "only version 1 is known"))
    parts = {
        section: _items(data.get(section, []), (section,), model, path, lines, problems)
        for section, model in _SECTIONS.items()
    }
    if not data.get("phases"):
        problems.append(Problem(path, line_of(lines, ("phases",)), "phases", "at least one phase is needed"))
    legends = _legends(data.get("legends", {}), path, lines, problems)
    invalid = frozenset(
        str(item["id"])
        for section in ("phases", "components")
        for n, item in enumerate(data.get(section) or [])
        if isinstance(item, dict) and "id" in item and n not in {k for k, _ in parts[section]}
    )
    issues = consistency_issues(
        parts["phases"], parts["layers"], parts["targets"], legends, parts["components"], catalog, invalid
    )
    problems += [Problem(path, line_of(lines, loc), ".".join(map(str, loc)), msg) for loc, msg in issues]
    if problems:
        return None, sorted(problems, key=lambda p: p.line)
    return Roadmap.model_validate(data), []


@functools.lru_cache(maxsize=16)
def _load(path: Path, mtime_ns: int) -> Roadmap:
    roadmap, problems = _check(path, None)
    if problems or roadmap is None:
        raise RoadmapError(problems)
    return roadmap


def load_roadmap(path: str | Path | None = None) -> Roadmap:
    """The validated roadmap (the province's shipped one by default); raises RoadmapError with every problem."""
    path = Path(path) if path else default_roadmap()
    if not path.is_file():
        raise RoadmapError([Problem(path, 0, "", "no such file")])
    path = path.resolve()
    return _load(path, path.stat().st_mtime_ns)
