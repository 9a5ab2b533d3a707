"""Conformance with the portal: recompute every published 766 figure from the published counts, compare to 0.01.

The published figures are plain facts transcribed into CSV files (``tests/conformance/data/``), one pair per
portal group: ``<endpoint>_units*.csv`` (one row per unit and period type: its group score, and for the
tree-shaped groups the count fields) and, for the metrics-shaped groups, ``<endpoint>_metrics*.csv`` (one row
per unit, period type and metric code). They are read into the same frames as `portal import` makes of the
saved JSON responses, then scored with the method.

    cases = check(load_published(data_dir))          # one row per unit × group × period
    match_table(cases)                               # reproduced / checkable per group × period type

Command line: ``egov-metrics portal conformance [--write-docs]`` (or ``python -m egov_metrics.portal.conformance``)
prints the match table and, with ``--write-docs``, rewrites it in docs/scoring.md.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import yaml

from egov_metrics.errors import EgovError
from egov_metrics.portal.importer import (
    INDICATOR_COLUMNS,
    PERIOD_TYPES,
    parse_units,
    portal_method,
)
from egov_metrics.scoring import ScoringMethod, score
from egov_metrics.scoring.arithmetic import _from_cents

__all__ = ["DEFAULT_DATA_DIR", "check", "load_deviations", "load_published", "match_table", "render_markdown"]

DEFAULT_DATA_DIR = Path("tests/conformance/data")
#: the periods the transcribed captures cover (tests/conformance/README.md)
DEFAULT_PERIODS = {"year": "2026", "quarter": "2026-Q3", "month": "2026-08"}
DOC_START = "<!-- conformance:start (egov-metrics portal conformance --write-docs) -->"
DOC_END = "<!-- conformance:end -->"
_TOLERANCE_CENTS = 0  # "to 0.01": the 2-decimal figures must be equal


class ConformanceError(EgovError):
    """The transcribed figures cannot be read."""


def _value(text: str | None) -> Any:
    """A CSV cell as the JSON value it was: empty → None, a number → int/float, else the text."""
    if text is None:
        return None
    text = text.strip()
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k: _value(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def _is_root(row: Mapping[str, Any]) -> bool:
    if row.get("department_type") is not None:
        return row["department_type"] == "PROVINCE"
    return row.get("level") in (None, "") or "." not in str(row.get("unit_code", "."))


def load_published(
    data_dir: str | Path = DEFAULT_DATA_DIR,
    method: ScoringMethod | str | None = None,
    periods: Mapping[str, str] = DEFAULT_PERIODS,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The transcribed figures as (indicators, groups) frames, in the shape `portal import` gives."""
    method = _reader(method)
    assert method.portal is not None
    data_dir = Path(data_dir)
    inds, groups = [], []
    for endpoint in method.portal.endpoints:
        unit_files = sorted(data_dir.glob(f"{endpoint.endpoint}_units*.csv"))
        metric_files = sorted(data_dir.glob(f"{endpoint.endpoint}_metrics*.csv"))
        units = [r for f in unit_files for r in _rows(f)]
        metrics = [r for f in metric_files for r in _rows(f)]
        for period_type in PERIOD_TYPES:
            objs = []
            for row in (r for r in units if r["period_type"] == period_type):
                obj = dict(row)
                obj.setdefault("departmentCode", row["unit_code"] if "." in str(row["unit_code"]) else None)
                if "departmentId" not in obj:
                    obj["departmentId"] = str(row["unit_code"])
                obj["departmentCode"] = (
                    row["unit_code"] if endpoint.shape == "tree" else obj["departmentCode"]
                )
                obj["departmentName"] = row.get("unit_name")
                obj["departmentLevel"] = row.get("level")
                if endpoint.shape == "metrics":
                    obj["totalScore"] = row.get("total_score")
                    obj["totalMaxScore"] = row.get("total_max_score")
                    obj["metrics"] = [
                        {
                            "code": m["metric"],
                            "numerator": m["numerator"],
                            "denominator": m["denominator"],
                            "ratio": m["ratio"],
                            "score": m["score"],
                            "maxScore": m["max_score"],
                        }
                        for m in metrics
                        if m["period_type"] == period_type and m["unit_code"] == row["unit_code"]
                    ]
                objs.append((obj, _is_root(row)))
            if not objs:
                continue
            roots = [o for o, root in objs if root]
            ind, grp = parse_units(
                roots[0] if roots else None,
                [o for o, root in objs if not root],
                endpoint,
                method,
                period=periods[period_type],
                period_type=period_type,
                source=str(unit_files[0]),
            )
            inds.append(ind)
            groups.append(grp)
    if not groups:
        raise ConformanceError(f"no transcribed figures in {data_dir}", "see tests/conformance/README.md")
    return (
        pl.concat(inds) if inds else pl.DataFrame(schema=INDICATOR_COLUMNS),
        pl.concat(groups),
    )


def _reader(method: ScoringMethod | str | None) -> ScoringMethod:
    """The method whose portal mapping reads the figures: `method`, or the newest one when it has none (an older
    method, e.g. portal_2026, can still score the figures read with the newest mapping)."""
    method = portal_method(method)
    return method if method.portal is not None else portal_method()


def load_responses(
    files: list[Path] | list[str],
    method: ScoringMethod | str | None = None,
    *,
    periods: Mapping[str, str] | None = None,
    captured_on: dt.date | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Saved portal responses (JSON) as (indicators, groups) frames, read as `portal import` reads them (the
    period and the capture date from the options, else the capture manifest), without a database."""
    from egov_metrics.portal.importer import import_files

    con = duckdb.connect()
    try:
        report = import_files(con, files, periods=periods, captured_on=captured_on, method=_reader(method))
        if not report.loaded:
            raise ConformanceError("no response to check among the files", "give …-all.json responses")
        return (
            pl.concat([s.indicators for s in report.loaded], how="vertical_relaxed"),
            pl.concat([s.groups for s in report.loaded], how="vertical_relaxed"),
        )
    finally:
        con.close()


def load_deviations(path: str | Path) -> dict[tuple[str, str, str], str]:
    """Known deviations (group, period_type, portal unit id or code) → reason, from a YAML list."""
    path = Path(path)
    if not path.is_file():
        return {}
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    out = {}
    for n, e in enumerate(entries):
        try:
            out[(str(e["group"]), str(e["period_type"]), str(e["unit"]))] = str(e["reason"])
        except (KeyError, TypeError):
            raise ConformanceError(
                f"{path}: entry {n + 1} needs group, period_type, unit and reason", None
            ) from None
    return out


def check(
    published: tuple[pl.DataFrame, pl.DataFrame], method: ScoringMethod | str | None = None
) -> pl.DataFrame:
    """One row per published unit × group × period: published and recomputed group score, the indicators whose
    published points differ, and a status: `match`, `differs`, or `no_counts` (the portal publishes the
    group score without the counts it comes from, so it cannot be recomputed)."""
    method = portal_method(method)
    indicators, groups = published
    counts = indicators.filter(
        pl.col("indicator").is_not_null()
        & pl.col("numerator").is_not_null()
        & pl.col("denominator").is_not_null()
    ).select(
        pl.col("portal_id").alias("unit_id"),
        pl.concat_str("group", "period", separator="|").alias("period"),
        "indicator",
        "numerator",
        "denominator",
    )
    result = score(counts, method)
    # each unit and period was scored with its own group's counts only: keep that group's indicators
    own = (
        result.indicators.with_columns(pl.col("period").str.split("|").alias("_key"))
        .filter(pl.col("_key").list.get(0) == pl.col("group"))
        .select(
            pl.col("unit_id").alias("portal_id"),
            pl.col("_key").list.get(1).alias("period"),
            "group",
            "indicator",
            pl.col("points").alias("recomputed_points"),
        )
    )
    group_scores = own.group_by("portal_id", "period", "group").agg(
        (pl.col("recomputed_points") * 100).round(0).sum().alias("_c")
    )
    ind_cmp = (
        indicators.filter(pl.col("indicator").is_not_null() & pl.col("points").is_not_null())
        .join(own, on=["portal_id", "period", "group", "indicator"], how="left")
        .with_columns(_diff=(pl.col("recomputed_points") * 100).round(0) - (pl.col("points") * 100).round(0))
        .filter(pl.col("_diff").is_null() | (pl.col("_diff").abs() > _TOLERANCE_CENTS))
        .group_by("portal_id", "period", "group")
        .agg(
            pl.format("{}: {} published, {} recomputed", "indicator", "points", "recomputed_points")
            .str.join("; ")
            .alias("indicator_diffs")
        )
    )
    cases = (
        groups.join(group_scores, on=["portal_id", "period", "group"], how="left")
        .join(ind_cmp, on=["portal_id", "period", "group"], how="left")
        .with_columns(
            # hundredths written as the nearest double (6.35, not 635 × 0.01 = 6.3500000000000005)
            recomputed=_from_cents(pl.col("_c").cast(pl.Int64)),
            published=pl.col("score"),
        )
        .with_columns(
            diff=((pl.col("_c") - (pl.col("published") * 100).round(0)) / 100).round(2),
            status=pl.when(pl.col("_c").is_null())
            .then(pl.lit("no_counts"))
            .when(
                ((pl.col("_c") - (pl.col("published") * 100).round(0)).abs() <= _TOLERANCE_CENTS)
                & pl.col("indicator_diffs").is_null()
            )
            .then(pl.lit("match"))
            .otherwise(pl.lit("differs")),
            method_version=pl.lit(method.label),
        )
        .select(
            "group",
            "period_type",
            "period",
            "portal_id",
            "unit_code",
            "unit_name",
            "is_root",
            "published",
            "recomputed",
            "diff",
            "indicator_diffs",
            "status",
            "method_version",
        )
        .sort("group", "period_type", "unit_code", "portal_id")
    )
    return cases


def match_table(cases: pl.DataFrame, method: ScoringMethod | str | None = None) -> pl.DataFrame:
    """Per group × period type: published group scores, how many can be recomputed, how many are reproduced."""
    method = portal_method(method)
    order = {g.id: n for n, g in enumerate(method.groups)}
    ptype = {t: n for n, t in enumerate(PERIOD_TYPES)}
    return (
        cases.group_by("group", "period_type")
        .agg(
            pl.len().alias("published"),
            (pl.col("status") != "no_counts").sum().alias("checkable"),
            (pl.col("status") == "match").sum().alias("reproduced"),
            (pl.col("status") == "no_counts").sum().alias("no_counts"),
        )
        .with_columns(
            pl.col("group").replace_strict(order, return_dtype=pl.Int64).alias("_g"),
            pl.col("period_type").replace_strict(ptype, return_dtype=pl.Int64).alias("_p"),
        )
        .sort("_g", "_p")
        .drop("_g", "_p")
    )


def render_markdown(table: pl.DataFrame, method: ScoringMethod, captured: str) -> str:
    names = {g.id: g.name_en for g in method.groups}
    lines = [
        DOC_START,
        "",
        f"Method `{method.label}`; the portal's figures for Phú Thọ ({captured}); a figure is reproduced when the "
        "recomputed group score and every published indicator point equal the published ones to 0.01.",
        "",
        "| Group | Period | Published group scores | Recomputable (counts published) | Reproduced |",
        "|---|---|---|---|---|",
    ]
    for r in table.iter_rows(named=True):
        lines.append(
            f"| {names.get(r['group'], r['group'])} | {r['period_type']} | {r['published']} | {r['checkable']} | "
            f"{r['reproduced']} of {r['checkable']} |"
        )
    lines += ["", DOC_END]
    return "\n".join(lines)


def write_docs(markdown: str, doc: str | Path = Path("docs/scoring.md")) -> None:
    doc = Path(doc)
    text = doc.read_text(encoding="utf-8")
    if DOC_START not in text or DOC_END not in text:
        raise ConformanceError(
            f"{doc} has no conformance markers", f"add the lines {DOC_START} and {DOC_END}"
        )
    head, rest = text.split(DOC_START, 1)
    _, tail = rest.split(DOC_END, 1)
    doc.write_text(head + markdown + tail, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - thin wrapper, tested through the CLI
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--method", default=None)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    method = portal_method(args.method)
    table = match_table(check(load_published(args.data, method), method), method)
    with pl.Config(tbl_rows=50):
        print(table)
    if args.write_docs:
        write_docs(render_markdown(table, method, f"captured {dt.date(2026, 9, 26).isoformat()}"))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
