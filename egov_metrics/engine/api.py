"""The engine's entry points: `compute()`, `explain()` and `build_query()` (see the package docstring)."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Unpack, overload

import duckdb
import polars as pl

from egov_metrics import cache
from egov_metrics.catalog import Catalog
from egov_metrics.engine.assembly import (
    Layout,
    NotDense,
    Query,
    reshape,
    statements,
    unit_name_column,
)
from egov_metrics.engine.request import ComputeError, Request, Shape, resolve
from egov_metrics.schema import connect
from egov_metrics.sources import CLOCK_SOURCE, data_extent

if TYPE_CHECKING:
    import pandas as pd


def _data_end(con: duckdb.DuckDBPyConnection, version: tuple[object, ...] | bool | None = True) -> dt.date:
    """Where every request's periods end: the last day of the clock source's data (`sources.CLOCK_SOURCE`);
    `version`: the database's `cache.file_version`, when the caller has it."""
    return data_extent(con, CLOCK_SOURCE, version=version).last or dt.date.today()


def _data_days(con: duckdb.DuckDBPyConnection, version: tuple[object, ...] | None) -> dict[str, dt.date]:
    """The keywords `build_query` takes about the data: its last day and, when it has rows, its first."""
    extent = data_extent(con, CLOCK_SOURCE, version=version)
    out = {"data_end": extent.last or dt.date.today()}
    if extent.first is not None:
        out["data_start"] = extent.first
    return out


#: Statements built so far, per request shape (the indicators compared by identity: a reloaded catalog
#: builds again). A planner's session asks a few shapes many times; each is built once.
_STATEMENTS: dict[tuple[object, ...], tuple[Shape, str, frozenset[str]]] = {}
#: Per statement text: the wide statement DuckDB runs for it, the parameters that one binds, and how its rows
#: become the statement's answer (`assembly.reshape`).
_WIDE: dict[str, tuple[str, frozenset[str], Layout]] = {}
_STATEMENTS_MAX = 256


def _statement(shape: Shape) -> tuple[str, frozenset[str]]:
    """The statement of a shape and the names of the parameters it binds."""
    key = (tuple(i.id for i in shape.indicators), *(getattr(shape, f) for f in _SHAPE_FIELDS))
    hit = _STATEMENTS.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0].indicators, shape.indicators, strict=True)):
        return hit[1], hit[2]
    built = statements(shape)
    sql, wide = built.long, built.wide
    names = frozenset(re.findall(r"\$(\w+)", sql))
    if len(_STATEMENTS) >= _STATEMENTS_MAX:
        _STATEMENTS.clear()
        _WIDE.clear()
    _STATEMENTS[key] = (shape, sql, names)
    _WIDE[sql] = (wide, frozenset(re.findall(r"\$(\w+)", wide)), built.layout)
    return sql, names


_SHAPE_FIELDS = (
    "by",
    "levels",
    "grain",
    "unit_version",
    "scoped",
    "lang",
    "names",
    "compare",
    "scope_list",
    "narrow",
)


def build_query(
    indicators: Sequence[str] | None = None,
    *,
    data_end: dt.date,
    scope_units: Sequence[str] | None = None,
    data_start: dt.date | None = None,
    **request: Unpack[Request],
) -> Query:
    """Validate a request and return its SQL with bound parameters (no database work).

    `scope_units`: the ids of the units in the scope (`unit` and everything below it in `unit_version`), when
    the caller has looked them up; otherwise the statement finds them through the closure view.
    `data_start`: the data's first day, when the caller has it: a request whose periods cover a small part of
    the data then reads only the rows its periods can use (`request.NARROW`)."""
    shape, params = resolve(
        indicators, request, data_end=data_end, scope_units=scope_units, data_start=data_start
    )
    sql, bound = _statement(shape)
    return Query(sql, {k: v for k, v in params.items() if k in bound})


#: The units of a scope per database file version, unit and unit version (checked): warm calls skip the queries.
_SCOPES: dict[tuple[object, ...], list[str]] = {}
#: The unit id a caller's text (id, code or name) resolves to, per database file version: a warm call skips
#: reading every unit version and matching names in Python.
_UNIT_IDS: dict[tuple[object, ...], str] = {}


def _unit_id(con: duckdb.DuckDBPyConnection, text: str, version: tuple[object, ...] | None) -> str:
    """`orgunits.resolve_unit`, remembered per database file version (errors are not remembered)."""
    from egov_metrics.orgunits import resolve_unit

    key = (version, text)
    if version is not None and key in _UNIT_IDS:
        return _UNIT_IDS[key]
    unit_id = resolve_unit(con, text)
    if version is not None:
        if len(_UNIT_IDS) >= 1024:
            _UNIT_IDS.clear()
        _UNIT_IDS[key] = unit_id
    return unit_id


def _scope_units(
    con: duckdb.DuckDBPyConnection, unit_id: str, unit_version: str, version: tuple[object, ...] | None
) -> list[str]:
    """The ids of `unit_id` and every unit below it in `unit_version`, after `_check_scope`."""
    key = (version, unit_id, unit_version)
    if version is not None and key in _SCOPES:
        return _SCOPES[key]
    _check_scope(con, unit_id, unit_version)
    rows = con.sql(
        "SELECT unit_id FROM org_unit_closure WHERE version = ? AND ancestor_id = ? ORDER BY unit_id",
        params=[unit_version, unit_id],
    ).fetchall()
    units = [r[0] for r in rows]
    if version is not None:
        if len(_SCOPES) >= 1024:
            _SCOPES.clear()
        _SCOPES[key] = units
    return units


def _check_scope(con: duckdb.DuckDBPyConnection, unit_id: str, unit_version: str) -> None:
    """In the current unit version only today's units can be a scope; say what to use instead."""
    if unit_version != "current":
        return
    row = con.sql(
        "SELECT u.valid_to, c.current_id FROM org_unit u LEFT JOIN org_unit_current c ON c.unit_id = u.id "
        "WHERE u.id = ?",
        params=[unit_id],
    ).fetchall()
    if row and row[0][0] is not None:
        raise ComputeError(
            f"unit {unit_id} ended on {row[0][0]} and has no figures of its own in the current unit version",
            f"use its successor ({row[0][1]}) to follow its work today, or unit_version='historical' "
            "(--unit-version historical) for the unit as it was",
        )


#: `_fetch` reads a DB-API result as Arrow on purpose (the result is a few thousand rows; see there).
warnings.filterwarnings(
    "ignore", message="Arrow output on a DB-API result", category=UserWarning, module=__name__
)


def _fetch(con: duckdb.DuckDBPyConnection, query: Query) -> pl.DataFrame:
    """Run a statement and return its rows. `con.execute` binds and plans the statement once;
    `con.sql(...).pl()` binds it twice (once to describe the lazy relation, once to run it): 8 ms of 49 ms of
    CPU in a warm interactive call, measured. The DB-API result is copied once more into Arrow, which costs
    nothing measurable for the engine's few thousand result rows."""
    con.execute(query.sql, query.params)
    frame = pl.from_arrow(con.to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def _answer(con: duckdb.DuckDBPyConnection, query: Query) -> pl.DataFrame:
    """The answer of a statement of `build_query`: its wide form run on DuckDB (one row per period ×
    dimensions) and reshaped to the long rows in polars (`assembly.reshape`), the same rows as the statement
    itself gives (tested), with far fewer rows to order and transfer."""
    wide, bound, shape_layout = _WIDE.get(query.sql) or (None, frozenset(), None)
    if wide is None or shape_layout is None:  # a statement this process did not build: run it as it is
        return _fetch(con, query)
    rows = _fetch(con, Query(wide, {k: v for k, v in query.params.items() if k in bound}))
    try:
        return reshape(rows, shape_layout, query.params)
    except NotDense:  # never seen: a dimension's names joined twice would do it; the statement is still right
        return _fetch(con, query)


#: Unit names per database file version and language (`_named_units`).
_UNIT_NAMES: dict[tuple[object, ...], dict[str, str]] = {}


def _named_units(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, lang: str, version: tuple[object, ...] | None
) -> pl.DataFrame:
    """`frame` with `unit_name` in `lang`, as the statement names them (`org_unit.name_vi` / `name_en` of
    `unit_id`): a cached answer computed for the other language's edition then reads as this one's."""
    key = (version, lang)
    names = _UNIT_NAMES.get(key) if version is not None else None
    if names is None:
        names = dict(con.execute(f"SELECT id, {unit_name_column(lang)} FROM org_unit").fetchall())
        if version is not None:
            if len(_UNIT_NAMES) >= 64:
                _UNIT_NAMES.clear()
            _UNIT_NAMES[key] = names
    named = pl.col("unit_id").replace_strict(names, default=None, return_dtype=pl.String)
    return frame.with_columns(named.alias("unit_name"))


def _run(
    db: str | Path | duckdb.DuckDBPyConnection | None,
    indicators: Sequence[str] | None,
    kwargs: Request,
    execute: bool,
) -> tuple[Query, pl.DataFrame | None]:
    con = db if isinstance(db, duckdb.DuckDBPyConnection) else connect(db, read_only=True)
    try:
        if con is db:  # a caller's connection: no progress bar with meaningless estimates in scripts either
            con.execute("SET enable_progress_bar = false")
        version = cache.file_version(con)  # once per call: the memos below are per database version
        unit = kwargs.get("unit")
        scope_units: list[str] | None = None
        if unit is not None:
            unit_id = _unit_id(con, str(unit), version)
            scope_units = _scope_units(con, unit_id, str(kwargs.get("unit_version", "current")), version)
            kwargs = {**kwargs, "unit": unit_id}
        if not execute:
            return build_query(
                indicators, **_data_days(con, version), scope_units=scope_units, **kwargs
            ), None
        queries: list[Query] = []

        def produce() -> pl.DataFrame:
            queries.append(
                build_query(indicators, **_data_days(con, version), scope_units=scope_units, **kwargs)
            )
            return _answer(con, queries[0])

        # compute once, render many: with EGOV_COMPUTE_CACHE set, the same request on the same data is
        # answered from a file (egov_metrics/cache.py); otherwise produce() runs as always
        frame = cache.cached(con, list(indicators) if indicators else None, dict(kwargs), produce)
        if cache.cache_root() is not None and cache.language_free(kwargs) and "unit_name" in frame.columns:
            # a cached answer may come from the other language's edition: name the units in this one
            frame = _named_units(con, frame, str(kwargs.get("lang", "vi")), version)
        query = queries[0] if queries else Query("-- answered from the compute cache", {})
    finally:
        if con is not db:
            con.close()
    return query, frame


@overload
def compute(
    indicators: Sequence[str] | None = None,
    *,
    by: Sequence[str] = (),
    level: str | Sequence[str] | None = None,
    grain: str = "month",
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    unit: str | None = None,
    unit_version: str = "current",
    compare: bool = True,
    lang: str = "vi",
    names: bool = False,
    db: str | Path | duckdb.DuckDBPyConnection | None = None,
    catalog: Catalog | None = None,
    pandas: Literal[False] = False,
) -> pl.DataFrame: ...


@overload
def compute(
    indicators: Sequence[str] | None = None,
    *,
    by: Sequence[str] = (),
    level: str | Sequence[str] | None = None,
    grain: str = "month",
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    unit: str | None = None,
    unit_version: str = "current",
    compare: bool = True,
    lang: str = "vi",
    names: bool = False,
    db: str | Path | duckdb.DuckDBPyConnection | None = None,
    catalog: Catalog | None = None,
    pandas: Literal[True],
) -> pd.DataFrame: ...


def compute(
    indicators: Sequence[str] | None = None,
    *,
    by: Sequence[str] = (),
    level: str | Sequence[str] | None = None,
    grain: str = "month",
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    unit: str | None = None,
    unit_version: str = "current",
    compare: bool = True,
    lang: str = "vi",
    names: bool = False,
    db: str | Path | duckdb.DuckDBPyConnection | None = None,
    catalog: Catalog | None = None,
    pandas: bool = False,
) -> pl.DataFrame | pd.DataFrame:
    """Compute indicators; see the module docstring. Returns polars (or pandas with `pandas=True`).

    `start`/`end` take a day (2026-07-15), a month (2026-07), a quarter (2026-Q3) or a year (2026); an end
    month, quarter or year means its last day. With `names=True`, people's names sit beside the codes, in
    `lang`: `indicator_name` after `indicator`, and `field_name`, `procedure_name`, `channel_name`,
    `applicant_type_name`, `online_level_name`, … after the dimension they name (`unit_name` is always
    there when split by unit).
    """
    request = Request(
        by=by,
        level=level,
        grain=grain,
        start=start,
        end=end,
        unit=unit,
        unit_version=unit_version,
        compare=compare,
        lang=lang,
        names=names,
        catalog=catalog,
    )
    _, frame = _run(db, indicators, request, execute=True)
    assert frame is not None
    return frame.to_pandas() if pandas else frame


def explain(
    indicators: Sequence[str] | None = None,
    *,
    db: str | Path | duckdb.DuckDBPyConnection | None = None,
    **kwargs: Unpack[Request],
) -> Query:
    """The SQL and bound parameters whose answer `compute` returns for the same arguments (nothing is
    computed). Run on DuckDB it gives `compute`'s frame; `compute` itself runs the same CTEs with a wide final
    SELECT and makes the long rows in polars (`engine.assembly`; the tests check that the two agree)."""
    query, _ = _run(db, indicators, kwargs, execute=False)
    return query
