"""`egov-metrics schedule`: run, list and check the report schedule."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from egov_metrics.cli.app import DbOption, _db, _fail, app, console, err_console
from egov_metrics.errors import EgovError

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
