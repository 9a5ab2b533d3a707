"""`egov-metrics roadmap`: check the roadmap, assess progress against its targets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from egov_metrics.cli.app import DbOption, _db, _fail, app, console, err_console
from egov_metrics.errors import EgovError

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
    from egov_metrics.export import check_output, write_frame
    from egov_metrics.roadmap import assess

    try:
        check_output(out)
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
