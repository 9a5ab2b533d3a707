"""`egov-metrics report` and `egov-metrics compute`: one report, one engine request."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from egov_metrics.cli.app import DbOption, _db, _fail, app, console
from egov_metrics.errors import EgovError, UnknownNameError


@app.command()
def report(
    kind: Annotated[
        str,
        typer.Argument(
            help="A report kind, e.g. progress_report, roadmap_report, unit_scorecard (every folder of "
            "egov_metrics/reports/kinds/; an unknown name lists them)."
        ),
    ],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="A parameter as name=value (repeatable).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: reports/).")] = None,
    db: DbOption = None,  # type: ignore[assignment]
) -> None:
    """Render one report to a single offline HTML file and update reports/index.html."""
    from egov_metrics import svgworker

    # vl-convert's engine starts in a helper process while this one imports the report stack (svgworker.py)
    svgworker.start()
    from egov_metrics.config import REPORTS_DIR
    from egov_metrics.reports import render_report

    params: dict[str, object] = {}
    for item in param or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise _fail(EgovError(f"--param {item!r} is not name=value", "write e.g. --param period=2026-10"))
        params[name.strip()] = value
    if db is not None:
        params.setdefault("db_path", str(_db(db)))
    try:
        result = render_report(kind, params, out_dir=out or REPORTS_DIR)
    except EgovError as exc:
        raise _fail(exc) from None
    console.print(f"{result.path} ({result.size / 1024:,.0f} KB, {result.seconds:.1f} s)")


@app.command()
def compute(
    indicators: Annotated[
        list[str] | None, typer.Argument(help="Indicator ids (default: all that fit --by).")
    ] = None,
    by: Annotated[
        list[str] | None,
        typer.Option(
            "--by", help="Dimension(s): unit, procedure, field, channel, applicant_type, online_level, …"
        ),
    ] = None,
    level: Annotated[
        list[str] | None,
        typer.Option("--level", help="Unit level(s) for --by unit: department, district, commune."),
    ] = None,
    grain: Annotated[str, typer.Option(help="month, quarter, year or ytd.")] = "month",
    start: Annotated[
        str | None,
        typer.Option(
            "--from", help="First day, month, quarter or year (YYYY-MM-DD, YYYY-MM, 2026-Q3, 2026)."
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", help="Last day, month, quarter or year (YYYY-MM-DD, YYYY-MM, 2026-Q3, 2026)."),
    ] = None,
    unit: Annotated[
        str | None, typer.Option(help="Scope: a unit (id, code or name) and everything below it.")
    ] = None,
    unit_version: Annotated[
        str, typer.Option(help="current (crosswalked to today's units) or historical.")
    ] = "current",
    lang: Annotated[str, typer.Option(help="Language of unit names: vi or en.")] = "vi",
    out: Annotated[
        Path | None,
        typer.Option(help="Write to FILE.csv, FILE.parquet or FILE.xlsx (a formatted workbook for leaders)."),
    ] = None,
    wide: Annotated[
        bool, typer.Option("--wide", help="With --out FILE.xlsx: periods across, one row per unit/value.")
    ] = False,
    show_sql: Annotated[bool, typer.Option("--show-sql", help="Print the SQL and its parameters.")] = False,
    sql_dialect: Annotated[
        str,
        typer.Option(
            "--sql-dialect",
            help="With --show-sql: duckdb, or clickhouse (the same statement for a ClickHouse server).",
        ),
    ] = "duckdb",
    db: DbOption = None,  # type: ignore[assignment]
) -> None:
    """Compute indicators by dimensions and periods; print them or write CSV/XLSX/Parquet."""
    from egov_metrics.catalog import load_catalog
    from egov_metrics.engine import compute as compute_indicators
    from egov_metrics.engine import explain
    from egov_metrics.export import write_frame

    by = by or []
    try:
        ids = indicators or [i.id for i in load_catalog().supporting(by)]
        if unit is not None and not indicators:
            from egov_metrics.sources import SOURCES

            ids = [i for i in ids if SOURCES[load_catalog().get(i).source].unit_column]
        kwargs: dict[str, Any] = dict(
            by=by,
            level=level,
            grain=grain,
            start=start,
            end=end,
            unit=unit,
            unit_version=unit_version,
            lang=lang,
        )
        if show_sql:
            query = explain(ids, db=_db(db), **kwargs)
            if sql_dialect == "clickhouse":
                from egov_metrics.clickhouse import to_clickhouse

                typer.echo(to_clickhouse(query.sql, query.params))
            elif sql_dialect == "duckdb":
                typer.echo(str(query))
            else:
                raise UnknownNameError.from_choices("SQL dialect", sql_dialect, ("duckdb", "clickhouse"))
        excel = out is not None and out.suffix.lower() == ".xlsx"
        frame = compute_indicators(ids, db=_db(db), names=excel, **kwargs)
        if excel and out is not None:
            from egov_metrics.excel import write_excel

            write_excel(frame, out, lang=lang, layout="wide" if wide else "long")
            console.print(f"{frame.height:,} rows written to {out}")
        elif out is not None:
            write_frame(frame, out)
            console.print(f"{frame.height:,} rows written to {out}")
        else:
            console.print(frame)
    except EgovError as exc:
        raise _fail(exc) from None
