"""`egov-metrics score`: the 766 index from the province's data or from a published file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from egov_metrics.cli.app import DbOption, _db, _fail, app, console, err_console
from egov_metrics.errors import EgovError


@app.command()
def score(
    end: Annotated[
        str | None, typer.Option(help="Last month of the period, YYYY-MM (default: the data's end).")
    ] = None,
    grain: Annotated[str, typer.Option(help="ytd (portal 'real time'), month, quarter or year.")] = "ytd",
    level: Annotated[
        list[str] | None,
        typer.Option("--level", help="Unit levels to rank (default: department and commune)."),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(
            help="Scoring method: a built-in name or a YAML file (default: the method valid for the period "
            "scored, chosen by the method files' valid_from)."
        ),
    ] = None,
    published: Annotated[
        Path | None,
        typer.Option(
            help="Score published counts from a CSV/XLSX file instead of the database (see docs/scoring.md)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the totals (with --published or --reconcile: the per-indicator differences) to "
            "FILE.csv/.xlsx/.parquet."
        ),
    ] = None,
    reconcile: Annotated[
        bool,
        typer.Option(
            "--reconcile",
            help="Compare the province's own figures with the imported portal figures, per indicator.",
        ),
    ] = False,
    unit: Annotated[str | None, typer.Option(help="With --reconcile: one unit only.")] = None,
    db: DbOption = None,  # type: ignore[assignment]
) -> None:
    """The 766 index per unit: group scores, total, band and rank among peers."""
    from egov_metrics import scoring
    from egov_metrics.export import check_output, write_frame

    try:
        check_output(out)
    except EgovError as exc:
        raise _fail(exc) from None
    if reconcile:
        _score_reconcile(_db(db), method, unit, out)
        return
    try:
        if published is not None:
            result = scoring.score_from_published(published, method)
            _published_differences(result, out)
            if out is not None:
                return
        else:
            levels = tuple(level) if level else ("department", "commune")
            result = scoring.score_units(_db(db), end=end, grain=grain, levels=levels, method=method)
    except EgovError as exc:
        raise _fail(exc) from None
    totals = result.totals.sort("rank_all")
    if out is not None:
        write_frame(totals, out)
        console.print(f"{totals.height:,} units written to {out} ({result.method_version})")
        return
    table = Table("#", "unit", "level", "period", "total", "band", "rank", title=result.method_version)
    for row in totals.iter_rows(named=True):
        table.add_row(
            str(row["rank_all"]),
            str(row.get("unit_name") or row["unit_id"]),
            str(row.get("unit_level") or ""),
            str(row["period"]),
            f"{row['total']:.2f}",
            str(row["band_vi"] or "–"),
            f"{row['rank']}/{row['rank_among']}",
        )
    console.print(table)


def _published_differences(result: object, out: Path | None) -> None:
    """Per-indicator differences between the recomputed and the published figures (score --published)."""
    import polars as pl

    from egov_metrics.export import write_frame

    ind = result.indicators  # type: ignore[attr-defined]
    missing = result.missing_groups  # type: ignore[attr-defined]
    if missing:
        err_console.print(
            f"[yellow]not scored (no rows in the file):[/] {', '.join(missing)}; "
            "the totals cover the other groups only",
            highlight=False,
        )
    diff_cols = [c for c in ("rate_diff", "points_diff") if c in ind.columns]
    if out is not None:
        write_frame(ind, out)
        console.print(f"{ind.height:,} indicator rows written to {out} ({result.method_version})")  # type: ignore[attr-defined]
        return
    if not diff_cols:
        console.print("no published_rate / published_points column: nothing to compare, totals only")
        return
    compared = ind.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in diff_cols))
    differs = compared.filter(pl.any_horizontal(pl.col(c).fill_null(0) != 0 for c in diff_cols))
    table = Table(
        "unit",
        "period",
        "indicator",
        "rate",
        "published rate",
        "points",
        "published points",
        "diff",
        title=f"{result.method_version}: {differs.height} of {compared.height} published indicator rows differ",  # type: ignore[attr-defined]
    )
    for r in differs.iter_rows(named=True):
        table.add_row(
            str(r["unit_id"]),
            str(r["period"]),
            r["indicator"],
            _num(r["rate"]),
            _num(r.get("published_rate")),
            _num(r["points"]),
            _num(r.get("published_points")),
            _num(r.get("points_diff")),
        )
    console.print(table)


def _num(value: object) -> str:
    return "–" if value is None else f"{value:.2f}"


def _score_reconcile(db: Path, method: str | None, unit: str | None, out: Path | None) -> None:
    from egov_metrics.export import write_frame
    from egov_metrics.reconcile import reconcile

    try:
        table = reconcile(db, unit=unit, method=method)
    except EgovError as exc:
        raise _fail(exc) from None
    if out is not None:
        write_frame(table, out)
        console.print(f"{table.height:,} rows written to {out} ({table['method_version'][0]})")
        return
    shown = Table(
        "unit",
        "period",
        "indicator",
        "local n/d",
        "portal n/d",
        "local pts",
        "portal pts",
        "diff",
        "likely cause",
        title=f"{table['method_version'][0]}: local vs published",
    )
    for r in table.iter_rows(named=True):
        shown.add_row(
            r["unit_id"],
            r["period"],
            r["indicator"],
            f"{_count(r['local_numerator'])}/{_count(r['local_denominator'])}",
            f"{_count(r['published_numerator'])}/{_count(r['published_denominator'])}",
            _num(r["local_points"]),
            _num(r["published_points"]),
            _num(r["points_diff"]),
            r["cause_en"],
        )
    console.print(shown)


def _count(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


# -- schedule: scheduled report generation (egov_metrics.schedule) ----------------------------------------
