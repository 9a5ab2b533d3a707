"""What-if on the 766 index in one call: change counts or rates of one or more units, see the new scores.

    from egov_metrics import what_if
    result = what_if([{"unit": "Sở Tư pháp", "indicator": "dossiers_digitized", "rate_change": 20}])
    result.summary          # each changed unit: total, band and rank before and after
    result.indicators       # the changed indicators: rate and points before and after

Every unit at the scored levels is scored before and after (so a unit is ranked among all its peers, not
among itself), with scoring's own public functions: `score_units()` gives the current counts and scores,
the changes are applied to those counts, and `score()` scores them again.

A change names a unit (id, code or name; `None` = every scored unit) and an indicator of the scoring method,
and exactly one of:
- `rate`: the new rate in % (0–100): the numerator becomes rate × denominator;
- `rate_change`: percentage points added to the current rate (+20, −5), kept within 0–100 %;
- `numerator` and/or `denominator`: new counts (a count not given stays as it is).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import polars as pl
from pydantic import Field, ValidationError, model_validator

from egov_metrics.errors import EgovError, UnknownNameError
from egov_metrics.model import FrozenModel
from egov_metrics.scoring import ScoreResult, ScoringMethod, load_method, score, score_units


class WhatIfError(EgovError):
    """A what-if change that cannot be applied as asked."""


class Change(FrozenModel):
    """One change to the counts of a unit (or of every unit, `unit=None`) for one indicator."""

    unit: str | None = None
    indicator: str
    rate: Annotated[float, Field(ge=0, le=100)] | None = None
    rate_change: float | None = None
    numerator: Annotated[float, Field(ge=0)] | None = None
    denominator: Annotated[float, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Change:
        kinds = [self.rate is not None, self.rate_change is not None,
                 self.numerator is not None or self.denominator is not None]  # fmt: skip
        if sum(kinds) != 1:
            raise ValueError("give exactly one of rate, rate_change, or numerator/denominator")
        return self

    def describe(self) -> str:
        what = (
            f"rate {self.rate:g} %" if self.rate is not None
            else f"rate {self.rate_change:+g} points" if self.rate_change is not None
            else ", ".join(f"{k} {v:g}" for k, v in (("numerator", self.numerator),
                                                     ("denominator", self.denominator)) if v is not None)
        )  # fmt: skip
        return f"{self.unit or 'every unit'} · {self.indicator}: {what}"


@dataclass(frozen=True)
class WhatIfResult:
    """Scores before and after the changes.

    `summary`: one row per changed unit and period: unit_id, unit_name, unit_level, period, total_before,
    total_after, total_change, band_before, band_after (Vietnamese band names in band_vi_*), rank_before,
    rank_after, rank_among (peers: units of the same level, all of them scored).
    `groups`: the changed units' group scores before and after (score_before, score_after, change, max).
    `indicators`: the changed indicators of the changed units: counts, rate and points before and after.
    `before` / `after`: the full ScoreResults (every unit), for anything else.
    """

    summary: pl.DataFrame
    groups: pl.DataFrame
    indicators: pl.DataFrame
    before: ScoreResult
    after: ScoreResult
    changes: tuple[Change, ...]


def _changes(
    changes: Sequence[Change | Mapping[str, Any]] | Change | Mapping[str, Any],
) -> tuple[Change, ...]:
    items = [changes] if isinstance(changes, Change | Mapping) else list(changes)
    out = []
    for n, item in enumerate(items, start=1):
        try:
            out.append(item if isinstance(item, Change) else Change.model_validate(dict(item)))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'change'}: {e['msg']}" for e in exc.errors()
            )
            raise WhatIfError(
                f"change {n} is not valid: {problems}",
                "write e.g. {'unit': 'Sở Tư pháp', 'indicator': 'dossiers_digitized', 'rate_change': 20}",
            ) from None
    if not out:
        raise WhatIfError("no changes given", "pass at least one change")
    return tuple(out)


def _unit_ids(db: Any, changes: tuple[Change, ...], scored: pl.DataFrame) -> dict[str, str]:
    """Each change's unit text -> the id of a scored unit."""
    from egov_metrics.orgunits import resolve_unit
    from egov_metrics.schema import connect

    texts = sorted({c.unit for c in changes if c.unit is not None})
    if not texts:
        return {}
    ids = set(scored["unit_id"].to_list())
    con = db if hasattr(db, "sql") else connect(db, read_only=True)
    try:
        out = {}
        for text in texts:
            unit_id = text if text in ids else resolve_unit(con, text)
            if unit_id not in ids:
                raise WhatIfError(
                    f"unit {text!r} ({unit_id}) is not among the scored units",
                    "score its level too (levels=(...)), or name a department or commune valid today",
                )
            out[text] = unit_id
        return out
    finally:
        if con is not db:
            con.close()


def _apply(counts: pl.DataFrame, change: Change, unit_id: str | None) -> pl.DataFrame:
    target = pl.col("indicator") == change.indicator
    if unit_id is not None:
        target = target & (pl.col("unit_id") == unit_id)
    n, d = pl.col("numerator"), pl.col("denominator")
    if change.rate is not None or change.rate_change is not None:
        empty = counts.filter(target & (d.fill_null(0) <= 0))
        if unit_id is not None and (empty.height or counts.filter(target).is_empty()):
            raise WhatIfError(
                f"{change.describe()}: the unit has nothing counted for this indicator (denominator 0)",
                "give counts instead: numerator=… and denominator=…",
            )
        if change.rate is not None:
            new_n = d * change.rate / 100
        else:
            new_n = (n + d * change.rate_change / 100).clip(pl.lit(0.0), d)
        return counts.with_columns(pl.when(target & (d > 0)).then(new_n).otherwise(n).alias("numerator"))
    new = counts.with_columns(
        pl.when(target).then(pl.lit(change.numerator) if change.numerator is not None else n).otherwise(n)
        .alias("numerator"),
        pl.when(target).then(pl.lit(change.denominator) if change.denominator is not None else d).otherwise(d)
        .alias("denominator"),
    )  # fmt: skip
    if unit_id is not None and counts.filter(target).is_empty():  # no row yet: add one
        if change.numerator is None or change.denominator is None:
            raise WhatIfError(
                f"{change.describe()}: the unit has no counts for this indicator yet",
                "give both numerator=… and denominator=…",
            )
        template = counts.filter(pl.col("unit_id") == unit_id).head(1)
        row = template.with_columns(
            indicator=pl.lit(change.indicator),
            numerator=pl.lit(float(change.numerator)),
            denominator=pl.lit(float(change.denominator)),
        )
        new = pl.concat([new, row])
    bad = new.filter(target & (pl.col("numerator") > pl.col("denominator")))
    if bad.height:
        raise WhatIfError(
            f"{change.describe()}: the numerator would exceed the denominator",
            "give a numerator no larger than the denominator",
        )
    return new


def what_if(
    changes: Sequence[Change | Mapping[str, Any]] | Change | Mapping[str, Any],
    *,
    end: str | None = None,
    grain: str = "ytd",
    levels: tuple[str, ...] = ("department", "commune"),
    method: ScoringMethod | str | Path | None = None,
    db: Any = None,
) -> WhatIfResult:
    """Score every unit at `levels` for the period ending `end` (default: the data's end; `grain` as in
    `score_units`), apply `changes` (see the module docstring) and score again; see `WhatIfResult`. `method`
    defaults to the method valid for the period scored (`scoring.method_for`)."""
    todo = _changes(changes)
    if method is not None:  # a named method: its indicators are checked before anything is computed
        method = method if isinstance(method, ScoringMethod) else load_method(method)
        _check_indicators(todo, method)
    before = score_units(db, end=end, grain=grain, levels=levels, method=method)
    method = before.method
    _check_indicators(todo, method)
    ids = _unit_ids(db, todo, before.totals)
    unit_cols = [
        c for c in before.indicators.columns if c.startswith(("unit_", "period_")) and c != "unit_id"
    ]
    counts = before.indicators.filter(~pl.col("missing")).select(
        "unit_id", "period", *unit_cols, "indicator",
        pl.col("numerator").cast(pl.Float64), pl.col("denominator").cast(pl.Float64),
    )  # fmt: skip
    for change in todo:
        counts = _apply(counts, change, ids.get(change.unit) if change.unit is not None else None)
    after = score(counts, method)
    return _compare(before, after, todo, ids)


def _check_indicators(changes: tuple[Change, ...], method: ScoringMethod) -> None:
    for change in changes:
        if change.indicator not in method.indicator_ids:
            raise UnknownNameError.from_choices("indicator of the scoring method", change.indicator,
                                                method.indicator_ids)  # fmt: skip


def _compare(
    before: ScoreResult, after: ScoreResult, changes: tuple[Change, ...], ids: dict[str, str]
) -> WhatIfResult:
    keys = ["unit_id", "period"]
    everyone = any(c.unit is None for c in changes)
    changed_units = pl.Series("unit_id", sorted(set(ids.values())), dtype=pl.String)
    pick = pl.lit(True) if everyone else pl.col("unit_id").is_in(changed_units.implode())
    names = [c for c in ("unit_name", "unit_level") if c in before.totals.columns]
    summary = (
        before.totals.filter(pick)
        .select(*keys, *names, total_before="total", band_before="band", band_vi_before="band_vi",
                rank_before="rank", rank_among="rank_among")
        .join(after.totals.select(*keys, total_after="total", band_after="band", band_vi_after="band_vi",
                                  rank_after="rank"), on=keys, how="left")
        .with_columns(total_change=(pl.col("total_after") - pl.col("total_before")).round(2))
        .select(*keys, *names, "total_before", "total_after", "total_change", "band_before", "band_after",
                "band_vi_before", "band_vi_after", "rank_before", "rank_after", "rank_among")
    )  # fmt: skip
    groups = (
        before.groups.filter(pick)
        .select(*keys, *names, "group", "max", score_before="score")
        .join(after.groups.select(*keys, "group", score_after="score"), on=[*keys, "group"], how="left")
        .with_columns(change=(pl.col("score_after") - pl.col("score_before")).round(2))
    )
    touched = sorted({c.indicator for c in changes})
    cols = ["numerator", "denominator", "rate", "points"]
    indicators = (
        before.indicators.filter(pick & pl.col("indicator").is_in(touched))
        .select(*keys, *names, "group", "indicator", "max_points", *[pl.col(c).alias(f"{c}_before") for c in cols])
        .join(after.indicators.select(*keys, "indicator", *[pl.col(c).alias(f"{c}_after") for c in cols]),
              on=[*keys, "indicator"], how="left")
    )  # fmt: skip
    return WhatIfResult(summary, groups, indicators, before, after, changes)
