"""The `egov-metrics` command: thin wrappers over the library modules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from egov_metrics.config import default_db_path
from egov_metrics.errors import EgovError, UnknownNameError

app = typer.Typer(
    name="egov-metrics",
    help="E-government indicators, the 766 index and phased-roadmap reports for a Vietnamese province.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    Path,
    typer.Option(
        "--db", help="DuckDB database file (default: $EGOV_DB or data/egov.duckdb).", show_default=False
    ),
]


def _db(path: Path | None) -> Path:
    """The database path, absolute (a relative --db is relative to the current directory, wherever a report's
    kernel later runs)."""
    return (path if path is not None else default_db_path()).expanduser().absolute()


def _fail(exc: EgovError, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)


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
) -> None:
    """Load an export into the database: validate, quarantine bad rows, upsert the rest in one transaction."""
    from egov_metrics import ingest as ingest_mod

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
        raise _fail(exc) from None
    console.print(result.summary())
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


catalog_app = typer.Typer(help="The indicator catalog: check it, list it.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


@catalog_app.command("check")
def catalog_check(
    directory: Annotated[
        Path | None, typer.Argument(help="A folder of indicator YAML files (default: the built-in catalog).")
    ] = None,
) -> None:
    """Validate every indicator file; report every problem with file and line; exit 1 if any."""
    from egov_metrics.catalog import check_catalog

    catalog, problems = check_catalog(directory)
    for problem in problems:
        err_console.print(str(problem), highlight=False, markup=False, soft_wrap=True)
    if problems:
        err_console.print(f"{len(problems)} problem(s); {len(catalog)} indicator(s) valid.")
        raise typer.Exit(1)
    console.print(f"{len(catalog)} indicators, no problems.")


@catalog_app.command("list")
def catalog_list(
    lang: Annotated[str, typer.Option(help="vi or en.")] = "vi",
    group: Annotated[str | None, typer.Option(help="Only this 766 group (e.g. progress).")] = None,
) -> None:
    """Show the catalog: id, name, unit, direction, 766 group, layer, provisional flag."""
    from egov_metrics.catalog import load_catalog

    try:
        catalog = load_catalog()
    except EgovError as exc:
        raise _fail(exc) from None
    heads = {
        "vi": ("mã", "tên chỉ tiêu", "đơn vị", "hướng", "nhóm 766", "tầng", "tạm tính"),
        "en": ("id", "indicator", "unit", "better", "766 group", "layer", "provisional"),
    }[lang if lang in ("vi", "en") else "vi"]
    rows = [
        (ind.id, ind.name_in(lang), ind.unit, ind.direction, ind.group_766 or "", str(ind.layer or ""),
         "✓" if ind.provisional else "")
        for ind in catalog
        if not group or ind.group_766 == group
    ]  # fmt: skip
    if console.is_terminal:
        table = Table(*heads)
        for row in rows:
            table.add_row(*row)
        console.print(table)
    else:  # piped or redirected: tab-separated lines, never cut or wrapped at a terminal's width
        typer.echo("\n".join("\t".join(r) for r in [heads, *rows]))


roadmap_app = typer.Typer(
    help="The phased roadmap: check the file, assess the targets.", no_args_is_help=True
)
app.add_typer(roadmap_app, name="roadmap")


@roadmap_app.command("check")
def roadmap_check(
    path: Annotated[
        Path | None, typer.Argument(help="A roadmap YAML file (default: the shipped roadmap).")
    ] = None,
) -> None:
    """Validate a roadmap file; report every problem with file and line; exit 1 if any."""
    from egov_metrics.roadmap import check_roadmap

    problems = check_roadmap(path)
    for problem in problems:
        err_console.print(str(problem), highlight=False, markup=False, soft_wrap=True)
    if problems:
        raise typer.Exit(1)
    console.print("roadmap: no problems.")


@roadmap_app.command("assess")
def roadmap_assess(
    as_of: Annotated[str, typer.Option(help="Assess as of this date (YYYY-MM-DD).")],
    unit: Annotated[str | None, typer.Option(help="A unit (default: the province).")] = None,
    lang: Annotated[str, typer.Option(help="vi or en.")] = "vi",
    out: Annotated[Path | None, typer.Option(help="Write to FILE.csv/.xlsx/.parquet.")] = None,
    db: DbOption = None,  # type: ignore[assignment]
) -> None:
    """Each target's current value, gap, pace needed vs achieved, projection and status with the reason."""
    from egov_metrics.export import write_frame
    from egov_metrics.roadmap import assess

    try:
        frame = assess(as_of=as_of, unit=unit, db=_db(db))
    except EgovError as exc:
        raise _fail(exc) from None
    if out is not None:
        write_frame(frame, out)
        console.print(f"{frame.height} targets written to {out}")
        return
    reason = "reason_vi" if lang == "vi" else "reason_en"
    table = Table("indicator", "deadline", "target", "current", "status", "reason")
    for row in frame.iter_rows(named=True):
        table.add_row(
            row["indicator"],
            str(row.get("deadline") or ""),
            f"{row['target']}",
            "–" if row.get("current") is None else f"{row['current']:.1f}",
            row["status"],
            row[reason],
        )
    console.print(table)


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
    from egov_metrics.export import write_frame

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

schedule_app = typer.Typer(
    help="Scheduled reports: render every due report once, catch up after downtime.", no_args_is_help=True
)
app.add_typer(schedule_app, name="schedule")

JobsOption = Annotated[
    Path | None, typer.Option("--jobs", help="Jobs file (default: the shipped schedule_data/default.yaml).")
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Plan as of this date, YYYY-MM-DD (default: today).")
]
SinceOption = Annotated[
    str | None, typer.Option("--since", help="Backfill: every job starts at this month, YYYY-MM.")
]
OutOption = Annotated[Path | None, typer.Option("--out", help="Reports folder (default: reports/).")]


@schedule_app.command("run")
def schedule_run(
    as_of: AsOfOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be rendered; render nothing.")
    ] = False,
    jobs: JobsOption = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Reports rendered at once (default: the cores).")
    ] = None,
    since: SinceOption = None,
    wait: Annotated[
        float, typer.Option("--wait", min=0, help="Seconds to wait for another active run (default: 0).")
    ] = 0.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
    alert_command: Annotated[
        str | None,
        typer.Option(
            "--alert-command",
            help="Shell command that receives the digest of changes on stdin (default: $EGOV_ALERT_COMMAND).",
        ),
    ] = None,
    notebooks: Annotated[
        Path | None, typer.Option("--notebooks", help="Report notebooks folder (default: notebooks/).")
    ] = None,
    db: DbOption = None,  # type: ignore[assignment]
    out: OutOption = None,
) -> None:
    """Render every due report that is missing, oldest first, in parallel; exit 1 if any failed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from egov_metrics import schedule
    from egov_metrics.config import REPORTS_DIR

    progress = Progress(
        TextColumn("[bold]schedule"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err_console, disable=quiet or not err_console.is_terminal, transient=True,
    )  # fmt: skip
    task = progress.add_task("", total=None)

    def on_plan(plan: schedule.Plan) -> None:
        progress.update(task, total=len(plan.todo))

    def on_result(outcome: schedule.Outcome) -> None:
        progress.update(task, advance=1, description=outcome.instance.describe())
        if not outcome.ok:
            progress.console.print(
                f"failed: {outcome.instance.describe()}: {outcome.error}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )

    try:
        with progress:
            result = schedule.run(
                as_of, jobs=jobs, db=_db(db), out_dir=out or REPORTS_DIR, notebooks_dir=notebooks,
                workers=workers, dry_run=dry_run, since=since, wait=wait, on_plan=on_plan, on_result=on_result,
                alert_command=alert_command,
            )  # fmt: skip
    except EgovError as exc:
        raise _fail(exc) from None
    if result.busy:
        (err_console if result.hung else console).print(
            f"{result.busy}{' and looks hung' if result.hung else ''}; nothing done.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(result.exit_code)
    assert result.plan is not None
    plan = result.plan
    if dry_run:
        for inst in plan.todo:
            console.print(
                f"would render: {inst.describe()}  [{inst.job}]",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
        console.print(
            f"{len(plan.todo)} to render, {len(plan.by_status('done'))} done, "
            f"{len(plan.by_status('waiting'))} waiting for data (data through {plan.data_through}).",
            soft_wrap=True,
        )
        for line in result.failure_lines:
            err_console.print(f"failed: {line}", highlight=False, markup=False, soft_wrap=True)
    else:  # the end-of-run summary on stdout (also in schedule.log): one line per failure
        console.print(
            f"{len(result.rendered)} rendered, {len(result.failed)} failed, "
            + (f"{len(plan.failures)} job(s) or unit(s) not planned, " if plan.failures else "")
            + f"{len(plan.by_status('done'))} already done, {len(plan.by_status('waiting'))} waiting for data "
            f"(through {plan.data_through}); {result.seconds:.1f} s with {result.workers} worker(s).",
            soft_wrap=True,
        )
        for line in result.summary()[1:]:
            console.print(line, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(result.exit_code)


@schedule_app.command("list")
def schedule_list(
    as_of: AsOfOption = None,
    jobs: JobsOption = None,
    since: SinceOption = None,
    db: DbOption = None,  # type: ignore[assignment]
    out: OutOption = None,
) -> None:
    """The jobs and, per job, how many reports are done, to do and waiting for data; the next due date."""
    from egov_metrics import schedule
    from egov_metrics.config import REPORTS_DIR

    try:
        job_list = schedule.load_jobs(jobs)
        plan = schedule.plan(as_of, jobs=job_list, db=_db(db), out_dir=out or REPORTS_DIR, since=since)
    except EgovError as exc:
        raise _fail(exc) from None
    counts = {(i.job, i.status): 0 for i in plan.instances}
    for inst in plan.instances:
        counts[inst.job, inst.status] += 1
    heads = ("job", "kind", "cadence", "units", "languages", "since", "done", "todo", "waiting", "next due")
    rows = [
        (
            job.id, job.kind, job.cadence.describe(), ", ".join(job.unit_entries()) or "–",
            ", ".join(job.languages), since or job.since or f"last {schedule.DEFAULT_LOOKBACK}",
            *(str(counts.get((job.id, s), 0)) for s in ("done", "todo", "waiting")),
            str(schedule.next_due(job, plan.as_of)),
        )
        for job in job_list
    ]  # fmt: skip
    title = f"as of {plan.as_of} · data through {plan.data_through}"
    if console.is_terminal:
        table = Table(*heads, title=title)
        for row in rows:
            table.add_row(*row)
        console.print(table)
    else:  # piped or logged: tab-separated lines, never cut at the terminal's width
        typer.echo(f"# {title}\n" + "\n".join("\t".join(r) for r in [heads, *rows]))
    for failure in plan.failures:
        err_console.print(
            f"failed: job {failure.job}: {failure.error}", highlight=False, markup=False, soft_wrap=True
        )
    raise typer.Exit(1 if plan.failures else 0)


@schedule_app.command("check")
def schedule_check(
    path: Annotated[Path | None, typer.Argument(help="A jobs file (default: the shipped one).")] = None,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="Also check every unit the jobs name against this database."),
    ] = None,
) -> None:
    """Validate a jobs file (and, with --db, its units); report every problem with file and line; exit 1 if any."""
    from egov_metrics.schedule import SELECTORS, check_jobs, check_units

    jobs, problems = check_jobs(path)
    if db is not None and not problems:
        try:
            problems = check_units(jobs, db, path)
        except EgovError as exc:
            raise _fail(exc) from None
    for problem in problems:
        err_console.print(str(problem), highlight=False, markup=False, soft_wrap=True)
    if problems:
        raise typer.Exit(1)
    unchecked = any(u not in SELECTORS for j in jobs for u in j.units or ())
    note = " (units not checked against a database: add --db PATH)" if unchecked and db is None else ""
    console.print(f"{len(jobs)} job(s), no problems{note}.")


# -- portal: the national portal's published 766 figures (egov_metrics.portal) ------------------------------

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
        try:
            day = dt.date.fromisoformat(captured_on) if captured_on else None
        except ValueError:
            raise EgovError(
                f"--captured-on {captured_on!r} is not a date",
                "give the day the responses were saved, YYYY-MM-DD",
            ) from None
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
    from egov_metrics.export import write_frame
    from egov_metrics.portal import conformance
    from egov_metrics.portal.importer import portal_method

    try:
        m = portal_method(method)
        if files:
            day = dt.date.fromisoformat(captured_on) if captured_on else None
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
    except ValueError:
        raise _fail(
            EgovError(f"--captured-on {captured_on!r} is not a date", "write it YYYY-MM-DD")
        ) from None
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


@app.command()
def plan(
    unit: Annotated[str, typer.Argument(help="A department or commune: id, code or name.")],
    end: Annotated[str | None, typer.Option(help="Last month of the period, YYYY-MM.")] = None,
    grain: Annotated[str, typer.Option(help="ytd, month, quarter or year.")] = "ytd",
    method: Annotated[
        str | None,
        typer.Option(
            help="Scoring method (default: the method valid for the period scored, chosen by the method files' "
            "valid_from)."
        ),
    ] = None,
    lang: Annotated[str, typer.Option(help="vi or en.")] = "vi",
    out: Annotated[Path | None, typer.Option(help="Write the actions to FILE.csv/.xlsx/.parquet.")] = None,
    db: DbOption = None,  # type: ignore[assignment]
) -> None:
    """The points planner: actions ranked by 766 points gained per dossier or procedure changed."""
    from egov_metrics.export import write_frame
    from egov_metrics.planner import action_text, plan_unit

    try:
        actions = plan_unit(_db(db), unit, end=end, grain=grain, method=method)
    except EgovError as exc:
        raise _fail(exc) from None
    if out is not None:
        write_frame(actions, out)
        console.print(f"{actions.height} actions written to {out}")
        return
    label = actions["method_version"][0] if actions.height else (method or "")
    from egov_metrics.i18n import fmt_number

    heads = ("action", "points per item") if lang == "en" else ("việc cần làm", "điểm trên mỗi hồ sơ/thủ tục")
    table = Table("#", *heads, title=f"{unit} · {label}")
    for n, row in enumerate(actions.iter_rows(named=True), 1):
        table.add_row(str(n), action_text(row, lang), fmt_number(row["points_per_item"], 4, lang))
    console.print(table)


# -- calendar: the working-day calendar (egov_metrics.calendar) ------------------------------------------

calendar_app = typer.Typer(
    help="The working-day calendar: show a year's days off and swaps, load a province's own.",
    no_args_is_help=True,
)
app.add_typer(calendar_app, name="calendar")

_CALENDAR_HEADS = {
    "vi": ("ngày", "thứ", "loại", "lý do", "nguồn", "tình trạng"),
    "en": ("day", "weekday", "kind", "reason", "source", "status"),
}
_CALENDAR_WORDS = {
    "vi": {
        "holiday": "nghỉ lễ, Tết", "declared_off": "nghỉ (công bố)", "working_weekend": "làm bù",
        "workday": "ngày làm việc", "official": "chính thức", "unconfirmed": "chưa xác nhận",
    },
    "en": {
        "holiday": "public holiday", "declared_off": "declared day off", "working_weekend": "working weekend day",
        "workday": "working day", "official": "official", "unconfirmed": "unconfirmed",
    },
}  # fmt: skip
_WEEKDAYS = {
    "vi": ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


@calendar_app.command("show")
def calendar_show(
    year: Annotated[int, typer.Argument(help="The year, e.g. 2026.")],
    file: Annotated[
        Path | None, typer.Option("--file", help="Your own overrides file (default: the one loaded in --db).")
    ] = None,
    lang: Annotated[str, typer.Option(help="vi or en.")] = "vi",
    db: DbOption = None,  # type: ignore[assignment]
) -> None:
    """The days off and swaps of YEAR with their reasons, sources and status (official or unconfirmed)."""
    from egov_metrics import calendar as cal
    from egov_metrics.schema import connect

    lang = lang if lang in ("vi", "en") else "vi"
    path = _db(db)
    try:
        if file is None and path.exists():
            with connect(path, read_only=True) as con:
                overrides = cal.effective_overrides(con)
        else:
            overrides = cal.effective_overrides(None, file)
        frame = cal.days_off_and_swaps(year, overrides)
    except EgovError as exc:
        raise _fail(exc) from None
    words = _CALENDAR_WORDS[lang]
    rows = [
        (
            row["day"].strftime("%d/%m/%Y"),
            _WEEKDAYS[lang][row["day"].weekday()],
            words.get(row["kind"], row["kind"]),
            str(row["reason_vi" if lang == "vi" else "reason_en"] or ""),
            (cal.SOURCES_EN.get(row["source"], row["source"]) if lang == "en" else row["source"]) or "–",
            words.get(row["status"] or "", ""),
        )
        for row in frame.iter_rows(named=True)
    ]
    if console.is_terminal:
        table = Table(*_CALENDAR_HEADS[lang], title=f"{year}")
        for r in rows:
            table.add_row(*r)
        console.print(table)
    else:  # piped or logged: tab-separated lines, never cut at the terminal's width
        typer.echo("\n".join("\t".join(r) for r in [_CALENDAR_HEADS[lang], *rows]))


@calendar_app.command("load")
def calendar_load(
    file: Annotated[Path, typer.Argument(help="CSV: day,kind,reason_vi,reason_en,source,status.")],
    db: DbOption = None,  # type: ignore[assignment]
    wait: Annotated[
        float, typer.Option("--wait", min=0, help="Seconds to wait for another writer of the database.")
    ] = 600.0,
) -> None:
    """Apply your own days off and swaps to an existing database and recompute the working-day indexes."""
    from egov_metrics import calendar as cal
    from egov_metrics.schema.publish import publishing

    try:
        cal.read_overrides(file)  # every problem with its line, before the database is touched
        with publishing(_db(db), f"calendar load {file.name}", create=False, wait_seconds=wait) as con:
            con.execute("BEGIN TRANSACTION")
            changed = cal.load_user_overrides(con, file.absolute())
            con.execute("COMMIT")
    except EgovError as exc:
        raise _fail(exc) from None
    console.print(
        f"Calendar of {_db(db)} recomputed with {file}: {len(changed)} day(s) changed.", soft_wrap=True
    )
    for day, old, new in changed:
        console.print(f"  {day:%d/%m/%Y}: {old} → {new}", highlight=False)
