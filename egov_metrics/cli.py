"""The `egov-metrics` command: thin wrappers over the library modules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from egov_metrics.config import default_db_path
from egov_metrics.errors import EgovError

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
    return path if path is not None else default_db_path()


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


@app.command()
def ingest(
    kind: Annotated[
        str, typer.Argument(help="What the file holds: dossier, procedure, unit, feedback, data_exchange.")
    ],
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8, UTF-8 BOM, UTF-16), XLSX or Parquet file.")],
    db: DbOption = None,  # type: ignore[assignment]
    mapping: Annotated[
        str | None,
        typer.Option(help="Column mapping: a built-in name or a YAML file (default: the built-in for KIND)."),
    ] = None,
    rejects: Annotated[Path | None, typer.Option(help="Also write the rejected rows to this CSV.")] = None,
) -> None:
    """Load an export into the database: validate, quarantine bad rows, upsert the rest in one transaction."""
    from egov_metrics import ingest as ingest_mod

    try:
        result = ingest_mod.ingest_file(_db(db), kind, file, mapping=mapping, progress=True, rejects=rejects)
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


def main() -> None:  # pragma: no cover - console entry
    app()


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
    table = Table(*heads)
    for ind in catalog:
        if group and ind.group_766 != group:
            continue
        table.add_row(
            ind.id,
            ind.name_in(lang),
            ind.unit,
            ind.direction,
            ind.group_766 or "",
            str(ind.layer or ""),
            "✓" if ind.provisional else "",
        )
    console.print(table)


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
    kind: Annotated[str, typer.Argument(help="progress_report, roadmap_report or unit_scorecard.")],
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
        params.setdefault("db_path", str(db))
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
    start: Annotated[str | None, typer.Option("--from", help="First day or month (YYYY-MM[-DD]).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day or month (YYYY-MM[-DD]).")] = None,
    unit: Annotated[
        str | None, typer.Option(help="Scope: a unit (id, code or name) and everything below it.")
    ] = None,
    unit_version: Annotated[
        str, typer.Option(help="current (crosswalked to today's units) or historical.")
    ] = "current",
    lang: Annotated[str, typer.Option(help="Language of unit names: vi or en.")] = "vi",
    out: Annotated[Path | None, typer.Option(help="Write to FILE.csv, FILE.xlsx or FILE.parquet.")] = None,
    show_sql: Annotated[bool, typer.Option("--show-sql", help="Print the SQL and its parameters.")] = False,
    db: DbOption = None,  # type: ignore[assignment]
) -> None:
    """Compute indicators by dimensions and periods; print them or write CSV/XLSX/Parquet."""
    from egov_metrics import compute as compute_mod
    from egov_metrics.catalog import load_catalog
    from egov_metrics.export import write_frame

    by = by or []
    try:
        ids = indicators or [i.id for i in load_catalog().supporting(by)]
        if unit is not None and not indicators:
            from egov_metrics.sources import SOURCES

            ids = [i for i in ids if SOURCES[load_catalog().get(i).source].unit_column]
        kwargs = dict(
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
            typer.echo(str(compute_mod.explain(ids, db=_db(db), **kwargs)))
        frame = compute_mod.compute(ids, db=_db(db), **kwargs)
        if out is not None:
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
        str, typer.Option(help="Scoring method: a built-in name or a YAML file.")
    ] = "portal_2026",
    published: Annotated[
        Path | None,
        typer.Option(
            help="Score published counts from a CSV/XLSX file instead of the database (see docs/scoring.md)."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the totals to FILE.csv/.xlsx/.parquet.")] = None,
    db: DbOption = None,  # type: ignore[assignment]
) -> None:
    """The 766 index per unit: group scores, total, band and rank among peers."""
    from egov_metrics import scoring
    from egov_metrics.export import write_frame

    try:
        if published is not None:
            result = scoring.score_from_published(published, method)
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
            str(row["band_vi"]),
            f"{row['rank']}/{row['rank_among']}",
        )
    console.print(table)


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
