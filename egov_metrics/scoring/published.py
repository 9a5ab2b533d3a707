"""Scores from counts published by the national portal: a CSV/XLSX file or a frame, every bad cell named.

The expected columns are listed in the package docstring (`egov_metrics.scoring`) and in docs/scoring.md.
"""

from __future__ import annotations

import difflib
from decimal import Decimal
from pathlib import Path

import polars as pl

from egov_metrics.scoring.arithmetic import _from_cents, _to_cents
from egov_metrics.scoring.checks import KEY_COLUMNS, _check_counts, _row_listing
from egov_metrics.scoring.errors import ScoringError
from egov_metrics.scoring.loading import resolve_method
from egov_metrics.scoring.method import ScoringMethod
from egov_metrics.scoring.result import ScoreResult
from egov_metrics.scoring.scorer import method_for_counts, score
from egov_metrics.scoring.selection import latest_method

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
    method: ScoringMethod | str | Path | None = None,
    *,
    peers: pl.DataFrame | None = None,
    sheet_name: str | None = None,
) -> ScoreResult:
    """Recompute scores from counts published by the national portal (a CSV/XLSX file or a frame).

    The expected columns are listed in the package docstring and in docs/scoring.md. Numbers may be typed
    as text; every cell that is not a plain number is reported with its line. Unlike `score()`, an indicator
    name the method does not know is an error (a typo would otherwise silently cost the unit its points).
    When `published_rate` / `published_points` are given, the indicators frame gains `rate_diff` /
    `points_diff` (recomputed − published), so the portal's own figures can be checked.
    The method defaults to the one valid for the file's latest period (`method_for`).
    """
    chosen = None if method is None else resolve_method(method)
    from_file = not isinstance(source, pl.DataFrame)
    frame = source if isinstance(source, pl.DataFrame) else _read_published(source, sheet_name)
    first_line = 2 if from_file else None  # a file's first data row is on line 2, under the header
    frame = frame.rename({c: c.strip() for c in frame.columns})
    frame = frame.with_columns(
        pl.col(c).cast(pl.String).str.strip_chars() for c in KEY_COLUMNS if c in frame.columns
    )
    frame, problems = _parse_numbers(frame, first_line)
    method = chosen if chosen is not None else _method_of_file(frame)
    problems += _unknown_indicators(frame, method, first_line)
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
    return _with_differences(result, frame)


def _method_of_file(frame: pl.DataFrame) -> ScoringMethod:
    """The method valid for the file's latest period; the newest method when the file names no period (its
    missing column is then reported by the checks)."""
    if "period" not in frame.columns or not frame["period"].drop_nulls().len():
        return latest_method()
    return method_for_counts(frame.select("period"))


def _parse_numbers(frame: pl.DataFrame, first_line: int | None) -> tuple[pl.DataFrame, list[str]]:
    """The number columns parsed from text (6 decimals); every cell that is not a plain number is a problem."""
    framed = frame.with_row_index("_row")
    problems = []
    for col in (c for c in _PUBLISHED_NUMBERS if c in frame.columns):
        if frame.schema[col].is_numeric():
            continue
        text = pl.col(col).cast(pl.String).str.strip_chars()
        parsed = text.cast(pl.Decimal(38, 6), strict=False)
        bad = framed.filter(text.is_not_null() & (text != "") & parsed.is_null())
        if bad.height:
            problems.append(f"column {col!r} is not a plain number: {_row_listing(bad, first_line)}")
        frame = frame.with_columns(parsed.alias(col))
    return frame, problems


def _unknown_indicators(frame: pl.DataFrame, method: ScoringMethod, first_line: int | None) -> list[str]:
    """Indicator names the method does not know, each with its rows and the closest known name."""
    if "indicator" not in frame.columns:
        return []
    unknown = frame.with_row_index("_row").filter(
        pl.col("indicator").is_not_null() & ~pl.col("indicator").is_in(method.indicator_ids)
    )
    problems = []
    for (name,), rows in unknown.group_by("indicator", maintain_order=True):
        close = difflib.get_close_matches(str(name), method.indicator_ids, n=1)
        guess = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(f"unknown indicator {name!r}{guess}: {_row_listing(rows, first_line)}")
    return problems


def _with_differences(result: ScoreResult, frame: pl.DataFrame) -> ScoreResult:
    """`rate_diff` / `points_diff` (recomputed − published) where the file gives the portal's own figures."""
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
