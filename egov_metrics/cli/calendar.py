"""`egov-metrics calendar`: show and load the official working-day calendar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from egov_metrics.cli.app import DbOption, _db, _fail, app, console
from egov_metrics.errors import EgovError

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
    year: Annotated[int, typer.Argument(help="The year, e.g. 2026.", min=1900, max=2200)],
    file: Annotated[
        Path | None, typer.Option("--file", help="Your own overrides file (default: the one loaded in --db).")
    ] = None,
    lang: Annotated[str, typer.Option(help="vi or en.")] = "vi",
    db: DbOption = None,  # type: ignore[assignment]
) -> None:
    """The days off and swaps of YEAR with their reasons, sources and status (official or unconfirmed)."""
    from egov_metrics import calendar as cal
    from egov_metrics.schema import connect

    if lang not in ("vi", "en"):
        raise _fail(EgovError(f"--lang {lang!r} is not a language of the workbench", "use vi or en"))
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
