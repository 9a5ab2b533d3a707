"""`egov-metrics catalog`: check and list the indicator catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from egov_metrics.cli.app import _fail, app, console, err_console
from egov_metrics.errors import EgovError, UnknownNameError

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

    if lang not in ("vi", "en"):
        raise _fail(EgovError(f"--lang {lang!r} is not a language of the workbench", "use vi or en"))
    try:
        catalog = load_catalog()
    except EgovError as exc:
        raise _fail(exc) from None
    groups = sorted({ind.group_766 for ind in catalog if ind.group_766})
    if group and group not in groups:
        raise _fail(UnknownNameError.from_choices("766 group", group, groups))
    heads = {
        "vi": ("mã", "tên chỉ tiêu", "đơn vị", "hướng", "nhóm 766", "tầng", "tạm tính"),
        "en": ("id", "indicator", "unit", "better", "766 group", "layer", "provisional"),
    }[lang]
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
