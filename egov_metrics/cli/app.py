"""The `egov-metrics` application, its consoles and the helpers every command group shares."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

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
    """The database path, absolute (a relative --db is relative to the current directory, wherever a report's
    kernel later runs)."""
    return (path if path is not None else default_db_path()).expanduser().absolute()


def _fail(exc: EgovError, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)
