"""Commands that make or fill a database: `demo`, `ingest`, `info`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from egov_metrics.cli.app import DbOption, _db, _fail, app, console, err_console
from egov_metrics.errors import EgovError


@app.command()
def demo(
    db: DbOption = None,  # type: ignore[assignment]
    dossiers: Annotated[int, typer.Option(min=1000, help="Number of dossiers to generate.")] = 2_000_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same database.")] = 58,
    until: Annotated[
        str | None, typer.Option(help="Last month to generate, YYYY-MM (default: the last full month).")
    ] = None,
) -> None:
    """Build the demo province database (Ninh Thuận-shaped, synthetic) from scratch."""
    from egov_metrics import demo as demo_mod

    path = _db(db)
    try:
        until_month = dt.date.fromisoformat(until + "-01") if until else None
    except ValueError:
        raise _fail(
            EgovError(f"--until {until!r} is not a month", "write it as YYYY-MM, e.g. 2026-10")
        ) from None
    try:
        counts = demo_mod.build_demo(
            path, dossiers=dossiers, seed=seed, until=until_month, progress=console.print
        )
    except EgovError as exc:
        raise _fail(exc) from None
    console.print(f"Demo database written to [bold]{path}[/] ({counts.get('dossier', 0):,} dossiers).")


class _KindArgument(typer.models.ArgumentInfo):
    """KIND's help lists the kinds registered in `ingest.kinds.KINDS`, read when the help is shown (so that the
    command line's start does not import the ingest machinery, and a newly registered kind is listed)."""

    @property
    def help(self) -> str:
        from egov_metrics.ingest.kinds import kind_names

        return f"What the file holds: {', '.join(kind_names())}."

    @help.setter
    def help(self, _value: str | None) -> None:
        pass


def _kind_argument() -> typer.models.ArgumentInfo:
    argument = typer.Argument()
    argument.__class__ = _KindArgument
    return argument


@app.command()
def ingest(
    kind: Annotated[str, _kind_argument()],
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8, UTF-8 BOM, UTF-16), XLSX or Parquet file.")],
    db: DbOption = None,  # type: ignore[assignment]
    mapping: Annotated[
        str | None,
        typer.Option(help="Column mapping: a built-in name or a YAML file (default: the built-in for KIND)."),
    ] = None,
    rejects: Annotated[Path | None, typer.Option(help="Also write the rejected rows to this CSV.")] = None,
    sheet: Annotated[
        str | None,
        typer.Option(help="XLSX: the sheet that holds the data (default: the mapping's or the first)."),
    ] = None,
    wait: Annotated[
        float, typer.Option("--wait", min=0, help="Seconds to wait for another ingest of the same database.")
    ] = 600.0,
    lang: Annotated[
        str,
        typer.Option(
            "--lang",
            envvar="EGOV_LANG",
            help="Language of the summary and the reasons of rejected rows: vi or en (both are kept).",
        ),
    ] = "vi",
) -> None:
    """Load an export into the database: validate, quarantine bad rows, upsert the rest in one transaction."""
    from egov_metrics import ingest as ingest_mod
    from egov_metrics.i18n import LANGS, Said

    if lang not in LANGS:
        raise _fail(
            EgovError(
                Said(
                    f"--lang {lang!r} không phải một ngôn ngữ của công cụ",
                    f"--lang {lang!r} is not a language of the workbench",
                ),
                Said("dùng vi hoặc en", "use vi or en"),
            )
        )
    try:
        result = ingest_mod.ingest_file(
            _db(db),
            kind,
            file,
            mapping=mapping,
            progress=True,
            rejects=rejects,
            sheet=sheet,
            wait_seconds=wait,
        )
    except EgovError as exc:
        raise _fail(exc, lang=lang) from None
    console.print(result.summary(lang=lang))
    if result.rejected:
        raise typer.Exit(1)


@app.command()
def info(
    db: DbOption = None,  # type: ignore[assignment]
    check: Annotated[bool, typer.Option("--check", help="Also check references between tables.")] = False,
) -> None:
    """What the database holds: tables, row counts, date range, schema version."""
    from egov_metrics import inspect as inspect_mod

    try:
        report = inspect_mod.describe(_db(db), check=check)
    except EgovError as exc:
        raise _fail(exc) from None
    table = Table(title=f"{report.path} · schema v{report.schema_version}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("from")
    table.add_column("to")
    for t in report.tables:
        table.add_row(t.name, f"{t.rows:,}", str(t.first or ""), str(t.last or ""))
    console.print(table)
    for key, value in report.meta.items():
        console.print(f"{key}: {value}")
    for problem in report.problems:
        err_console.print(f"[yellow]check:[/] {problem}")
    if report.problems:
        raise typer.Exit(1)
