"""The `egov-metrics` application, its consoles and the helpers every command group shares."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from egov_metrics.config import default_db_path
from egov_metrics.errors import EgovError
from egov_metrics.said import Said

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


def cli_lang() -> str:
    """The language of the command line's messages: $EGOV_LANG when it names one ('vi' or 'en'), else
    Vietnamese. Errors worded in both languages are printed in it; the others, label and hint included, in
    English."""
    lang = os.environ.get("EGOV_LANG", "").strip().lower()
    return lang if lang in ("vi", "en") else "vi"


#: The label of an error line.
ERROR = Said("lỗi", "error")


def error_lines(exc: EgovError, lang: str | None = None) -> tuple[str, str]:
    """(label, message and hint) of `exc` in `lang` (default `cli_lang()`); an error not yet worded in
    Vietnamese is printed in English, label included."""
    lang = exc.language(lang or cli_lang())
    return ERROR(lang), exc.in_language(lang)


def _fail(exc: EgovError, code: int = 2, lang: str | None = None) -> typer.Exit:
    label, text = error_lines(exc, lang)
    err_console.print(f"[bold red]{label}:[/] {escape(text)}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)
