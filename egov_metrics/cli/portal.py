"""`egov-metrics portal`: import the national portal's figures, map its units, check conformance."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from egov_metrics.cli.app import DbOption, _db, _fail, app, console
from egov_metrics.errors import EgovError

portal_app = typer.Typer(
    help="The national portal's published 766 figures: import saved responses, conformance, unit matching.",
    no_args_is_help=True,
)
app.add_typer(portal_app, name="portal")


def _periods(values: list[str] | None) -> dict[str, str]:
    out = {}
    for value in values or []:
        kind, sep, label = value.partition("=")
        if not sep or not label:
            raise _fail(
                EgovError(
                    f"--period {value!r} is not TYPE=LABEL", "e.g. --period year=2026 --period month=2026-08"
                )
            )
        out[kind.strip()] = label.strip()
    return out


def _capture_day(text: str) -> dt.date | None:
    """--captured-on as a date (empty: None, the capture manifest says it)."""
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        raise EgovError(
            f"--captured-on {text!r} is not a date", "give the day the responses were saved, YYYY-MM-DD"
        ) from None


@portal_app.command("import")
def portal_import(
    files: Annotated[
        list[Path], typer.Argument(help="Saved JSON responses of the portal's 766 evaluation API.")
    ],
    period: Annotated[
        list[str] | None,
        typer.Option(
            "--period",
            help="TYPE=LABEL for each period type: year=2026, quarter=2026-Q3, month=2026-08 "
            "(default: from the capture manifest).",
        ),
    ] = None,
    captured_on: Annotated[
        str,
        typer.Option("--captured-on", help="Capture date, YYYY-MM-DD (default: from the capture manifest)."),
    ] = "",
    period_type: Annotated[
        str | None,
        typer.Option("--period-type", help="year, quarter or month (default: from the file name)."),
    ] = None,
    units: Annotated[
        Path | None,
        typer.Option("--units", help="Unit mapping CSV: portal_code,unit_id (replaces the mapping)."),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(
            help="Method whose portal mapping reads the files (default: the method valid for the files' "
            "period, or the newest one with a portal mapping)."
        ),
    ] = None,
    db: DbOption = None,  # type: ignore[assignment]
) -> None:
    """Load saved portal responses into portal_indicator / portal_group_score (all or nothing)."""
    from egov_metrics.portal import importer

    try:
        day = _capture_day(captured_on)
        from egov_metrics.schema.publish import publishing

        with publishing(_db(db), "portal import", create=False) as con:
            if units is not None:
                importer.ensure_tables(con)
                n = importer.load_unit_map(con, units)
                console.print(f"unit mapping: {n} portal codes from {units}")
            report = importer.import_files(
                con, files, periods=_periods(period), captured_on=day, period_type=period_type, method=method
            )
    except EgovError as exc:
        raise _fail(exc) from None
    for snap in report.loaded:
        console.print(
            f"{snap.source}: {snap.group} {snap.period}: {snap.groups.height} units, "
            f"{snap.indicators.height} indicator rows ({report.method_version})",
            highlight=False,
        )
    for source in report.unchanged:
        console.print(f"{source}: already imported, unchanged", highlight=False)
    for source in report.skipped:
        console.print(f"{source}: filtered to one procedure, not a unit's score: skipped", highlight=False)
    if report.unmatched:
        console.print(
            f"[yellow]{len(report.unmatched)} portal unit(s) not matched to a unit of the database:[/]"
        )
        for code, name in report.unmatched:
            console.print(f"  {code}  {name}", highlight=False, markup=False)
        console.print(
            "Hint: map them with --units map.csv, or egov-metrics portal units --map map.csv (columns portal_code,unit_id)",
            highlight=False,
        )


@portal_app.command("units")
def portal_units(
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--map", help="Replace the unit mapping with this CSV (portal_code,unit_id[,note]) first."
        ),
    ] = None,
    db: DbOption = None,  # type: ignore[assignment]
) -> None:
    """The imported portal units and the local unit each is matched to (blank: unmatched)."""
    from egov_metrics.portal import importer
    from egov_metrics.schema.connection import connect

    try:
        if mapping is not None:
            from egov_metrics.schema.publish import publishing

            with publishing(_db(db), "portal units --map", create=False) as con:
                importer.ensure_tables(con)
                n = importer.load_unit_map(con, mapping)
                console.print(f"unit mapping: {n} portal codes from {mapping}")
        with connect(_db(db), read_only=True) as con:
            frame = importer.unit_matches(con)
    except EgovError as exc:
        raise _fail(exc) from None
    table = Table("portal id", "code", "name", "unit", "matched by")
    for r in frame.iter_rows(named=True):
        table.add_row(
            r["portal_id"],
            r["unit_code"] or "",
            r["unit_name"] or "",
            r["unit_id"] or "–",
            r["matched_by"] or "",
        )
    console.print(table)


@portal_app.command("conformance")
def portal_conformance(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Saved portal responses to check (default: the transcribed figures in --data)."),
    ] = None,
    data: Annotated[Path, typer.Option(help="Folder of transcribed figures (CSV).")] = Path(
        "tests/conformance/data"
    ),
    imported: Annotated[
        bool,
        typer.Option("--imported", help="Check the figures imported into --db (egov-metrics portal import)."),
    ] = False,
    period: Annotated[
        list[str] | None, typer.Option("--period", help="With FILES: TYPE=LABEL (default: the manifest).")
    ] = None,
    captured_on: Annotated[
        str, typer.Option("--captured-on", help="With FILES: capture date (default: the manifest).")
    ] = "",
    method: Annotated[
        str | None,
        typer.Option(help="Scoring method (default: the newest method with a portal mapping)."),
    ] = None,
    write_docs: Annotated[
        bool, typer.Option("--write-docs", help="Rewrite the table in docs/scoring.md.")
    ] = False,
    differences: Annotated[
        Path | None, typer.Option("--out", help="Write every case (published, recomputed, status) to FILE.")
    ] = None,
    db: DbOption = None,  # type: ignore[assignment]
) -> None:
    """Recompute every published figure from its published counts; print the match rate per group × period type."""
    from egov_metrics.export import check_output, write_frame
    from egov_metrics.portal import conformance
    from egov_metrics.portal.importer import portal_method

    try:
        check_output(differences)
        m = portal_method(method)
        if files:
            day = _capture_day(captured_on)
            figures = conformance.load_responses(files, m, periods=_periods(period), captured_on=day)
        elif imported:
            from egov_metrics.portal.importer import published as imported_figures
            from egov_metrics.schema.connection import connect

            with connect(_db(db), read_only=True) as con:
                figures = imported_figures(con)
        else:
            figures = conformance.load_published(data, m)
        cases = conformance.check(figures, m)
        table = conformance.match_table(cases, m)
        out = Table("group", "period", "published", "recomputable", "reproduced", title=m.label)
        for r in table.iter_rows(named=True):
            out.add_row(
                r["group"],
                r["period_type"],
                str(r["published"]),
                str(r["checkable"]),
                f"{r['reproduced']}/{r['checkable']}",
            )
        console.print(out)
        total, ok = int(table["checkable"].sum()), int(table["reproduced"].sum())
        console.print(f"reproduced {ok} of {total} recomputable published figures to 0.01", highlight=False)
        if differences is not None:
            write_frame(cases, differences)
            console.print(f"{cases.height:,} cases written to {differences}")
        if write_docs:
            conformance.write_docs(conformance.render_markdown(table, m, "captured 2026-09-26"))
            console.print("docs/scoring.md updated")
    except EgovError as exc:
        raise _fail(exc) from None


@portal_app.command("demo-capture")
def portal_demo_capture(
    out: Annotated[Path, typer.Option(help="Folder for the synthetic responses.")],
    end: Annotated[str, typer.Option(help="Last month of the period, YYYY-MM.")],
    period_type: Annotated[str, typer.Option("--period-type", help="year, quarter or month.")] = "month",
    db: DbOption = None,  # type: ignore[assignment]
) -> None:
    """Write synthetic portal responses for the demo database (to try import and reconciliation)."""
    from egov_metrics.portal.synthetic import write_demo_captures
    from egov_metrics.schema.connection import connect

    try:
        with connect(_db(db), read_only=True) as con:
            files = write_demo_captures(con, out, end=end, period_type=period_type)
    except EgovError as exc:
        raise _fail(exc) from None
    for f in files:
        console.print(str(f), highlight=False)
