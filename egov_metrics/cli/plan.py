"""`egov-metrics plan`: the fastest way to raise a unit's 766 score."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from egov_metrics.cli.app import DbOption, _db, _fail, app, console
from egov_metrics.errors import EgovError


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
    from egov_metrics.export import check_output, write_frame
    from egov_metrics.planner import action_text, plan_unit, with_action_texts

    try:
        check_output(out)
        actions = plan_unit(_db(db), unit, end=end, grain=grain, method=method)
    except EgovError as exc:
        raise _fail(exc) from None
    if out is not None:
        write_frame(with_action_texts(actions), out)  # the texts with their numbers, not '{n}'
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
