"""Step 4 of the engine: assembly, one statement from the steps, as named CTEs (readable with `--show-sql`).

    spine                      the periods (step 1, `spine.py`)
    rows_<source>              a source's rows in the unit scope, when several groups read it (materialised)
    placed_<k>                 group k's rows placed in periods (step 2, `placement.py`)
    grouped_<k>                group k's aggregates, one row per period × dimensions (step 3, `aggregation.py`)
    seen_dims, grid            every dimension value seen × every period, with the groups' rows joined and
                               each indicator's numerator, denominator and value (empty periods zero-filled)
    cells                      (long) `keep_<n>`: the row is inside the indicator's range (its first to its
                               last period with records) on a dimension value it has records for (windows)
    compared                   (long, with comparisons) the figures one period and one year earlier (windows)
    final SELECT               one row per period × dimensions (`wide`), or one per indicator too (`long`)

The answer `compute()` returns is the long one: one row per indicator, period and dimensions, ordered by
the indicator, then the dimensions, then the period. The statement (`statement`, what `explain()` shows
and ClickHouse runs) makes it in SQL; DuckDB runs the same CTEs with the wide final SELECT
(`wide_statement`), a row per period × dimensions, and `reshape` turns those rows into the long answer in
polars: 19 times fewer rows to order and transfer for 19 indicators. The tests check that the two agree.

The texts depend only on the request's `Shape`; they are built once per shape and process.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from egov_metrics.catalog import Indicator
from egov_metrics.engine.aggregation import NULL, Cell, grouped_sql
from egov_metrics.engine.placement import Group, groups, placed_sql, rows_sql
from egov_metrics.engine.request import Shape
from egov_metrics.engine.spine import STEP, first_shown_key, spine_cte
from egov_metrics.sources import SOURCES


@dataclass(frozen=True)
class Query:
    """The SQL of one `compute` call and its bound parameters, for transparency."""

    sql: str
    params: dict[str, object]

    def __str__(self) -> str:
        shown = "\n".join(f"--   ${k} = {v!r}" for k, v in self.params.items())
        return f"-- parameters:\n{shown}\n{self.sql}"


def unit_name_column(lang: str) -> str:
    """The `org_unit` column that names units in `lang` (the statement's `unit_name`)."""
    return "name_vi" if lang == "vi" else "name_en"


def _names(shape: Shape) -> tuple[list[str], str]:
    """SQL: `<dimension>_name` for field, procedure, layer, phase and the coded dimensions (channel,
    applicant type, online level, platform), in the request's language, and the joins they need."""
    from egov_metrics.codes import DIMENSION_CODES

    lang = shape.lang
    cols = []
    joins = []
    tables = {
        "field": ("field", "code"),
        "procedure": ("procedure", "code"),
        "layer": ("arch_layer", "layer"),
        "phase": ("roadmap_phase", "id"),
    }
    for d in shape.dims:
        if d in tables:
            table, key = tables[d]
            name = f"coalesce(n_{d}.name_{lang}, n_{d}.name_vi)" if lang == "en" else f"n_{d}.name_vi"
            cols.append(f"{name} AS {d}_name")
            joins.append(f"LEFT JOIN {table} n_{d} ON CAST(n_{d}.{key} AS VARCHAR) = r.{d}")
        elif d in DIMENSION_CODES:
            cases = " ".join(
                f"WHEN '{c.code}' THEN '{c.name(lang).replace(chr(39), chr(39) * 2)}'"
                for c in DIMENSION_CODES[d].values()
            )
            cols.append(f"CASE r.{d} {cases} ELSE r.{d} END AS {d}_name")
    return cols, "\n".join(joins)


def _describe(k: int, group: Group) -> str:
    """SQL comment: what group k places and computes."""
    placement = group.placement
    how = [f"by {placement.event}"] if placement.event else []
    if placement.stock:
        how.append(f"open at the period's end ({placement.stock[0]} .. {placement.stock[1]})")
    ids = ", ".join(i.id for _, i in group.members)
    return f"-- group {k}: {group.source} {' and '.join(how)}: {ids}\n"


def _group_ctes(shape: Shape) -> tuple[list[str], list[tuple[str, ...]], list[Cell]]:
    """SQL: the CTEs of steps 2 and 3 for every group; each group's grouped columns; every indicator's cell."""
    found = groups(shape)
    # A source read by several groups (e.g. dossiers placed by received and by finished date) is read,
    # joined to the calendar and the units once, into a materialised CTE that every group scans.
    rows: dict[str, str] = {}
    ctes = []
    for name in dict.fromkeys(g.source for g in found):
        placements = tuple(g.placement for g in found if g.source == name)
        rows[name] = rows_sql(shape, SOURCES[name], placements)
        # read more than once: by several groups, or by one group placing by an event date and as a stock
        if sum(bool(p.event) + bool(p.stock) for p in placements) > 1:
            ctes.append(f"rows_{name} AS MATERIALIZED (\n{rows[name]}\n)")
            rows[name] = f"SELECT * FROM rows_{name}"
    columns = []
    cells: list[Cell] = []
    for k, group in enumerate(found, 1):
        ctes.append(
            f"{_describe(k, group)}placed_{k} AS (\n{placed_sql(shape, group, rows[group.source])}\n)"
        )
        sql, names, group_cells = grouped_sql(shape, group, f"placed_{k}", f"g{k}_")
        ctes.append(f"grouped_{k} AS (\n    {sql}\n)")
        columns.append(names)
        cells += group_cells
    return ctes, columns, sorted(cells, key=lambda c: c.position)


def _fill(aggregation: str) -> tuple[str, str, str]:
    """SQL: an empty period's numerator, denominator and value: counts and sums 0, ratios 0/0 (no value)."""
    counted = aggregation in ("count", "sum")
    return (
        "0" if counted or aggregation == "ratio" else "NULL",
        "NULL" if counted else "0",
        "0" if counted else "NULL",
    )


#: Periods of the spine a year apart, per grain (the spine is contiguous: a period's predecessor is one step
#: back, the same period a year earlier this many steps back).
YEAR_STEPS = {"month": 12, "quarter": 4, "year": 1, "ytd": 12}


@dataclass(frozen=True)
class Layout:
    """How `reshape` makes the long answer from the wide rows: the columns every indicator's rows share, in
    order; per indicator (in order) its id, unit, decimals and direction, and its columns in the wide rows
    (present, numerator, denominator, value); names and comparisons asked; how many periods back the same
    period a year earlier lies."""

    shared: tuple[str, ...]
    indicators: tuple[tuple[str, str, int, str], ...]
    columns: tuple[tuple[str, str, str, str], ...]
    names: bool
    compare: bool
    year_steps: int
    #: per indicator: its figure grows with its period's length (`by_length`): compared only with a period
    #: of the same span (the wide rows' `compare_previous`, `compare_year`)
    by_length: tuple[bool, ...] = ()


@dataclass(frozen=True)
class _Grid:
    """The statement up to `grid` (see `_grid`)."""

    ctes: tuple[str, ...]
    select: str  # the grid's SELECT, to be wrapped in its CTE
    cells: tuple[Cell, ...]
    columns: tuple[tuple[str, str, str, str], ...]  # per cell: its present, numerator, denominator, value
    distinct: tuple[str, ...]  # the grid's figure columns, each once


def _grid(shape: Shape) -> _Grid:
    """SQL: every CTE up to `grid`: every dimension value seen × every period of the spine (dense, so that
    an indicator's empty periods, its previous period and a year earlier are rows of it), with whether each
    indicator has records there and its numerator, denominator and value (an empty cell's: counts and sums
    0, ratios 0/0, no value). Indicators often share such a column (the group's row is there; the dossiers
    received as a denominator): each distinct one is a column once (`present_<k>`, `f<k>`)."""
    dims = shape.dims
    group_ctes, columns, cells = _group_ctes(shape)
    ctes = [spine_cte(shape), *group_ctes]
    joins = "\n    ".join(
        f"LEFT JOIN grouped_{k} g{k} ON g{k}.period_key = sp.period_key"
        + "".join(f" AND g{k}.{d} IS NOT DISTINCT FROM sd.{d}" for d in dims)
        for k in range(1, len(columns) + 1)
    )
    if dims:
        union = "\n    UNION ".join(
            f"SELECT DISTINCT {', '.join(dims)} FROM grouped_{k}" for k in range(1, len(columns) + 1)
        )
        ctes.append(f"seen_dims AS (\n    {union}\n)")
        source = "seen_dims sd CROSS JOIN spine sp"
    else:
        source = "spine sp"
    named: dict[str, str] = {}

    def column(expr: str, prefix: str) -> str:
        return named.setdefault(expr, f"{prefix}{sum(n.startswith(prefix) for n in named.values())}")

    def figure(c: Cell, expr: str, empty: str) -> str:  # zero-filled where the indicator has no records
        both_null = expr == NULL and empty == "NULL"
        return column(
            NULL if both_null else f"CAST(CASE WHEN {c.present} THEN {expr} ELSE {empty} END AS DOUBLE)", "f"
        )

    per_cell: list[tuple[str, str, str, str]] = []
    for c in cells:
        num, den, val = _fill(c.indicator.measure.aggregation)
        per_cell.append(
            (
                column(c.present, "present_"),
                figure(c, c.numerator, num),
                figure(c, c.denominator, den),
                figure(c, c.value, val),
            )
        )
    sd_cols = "".join(f", sd.{d}" for d in dims)
    outs = ",\n           ".join(f"{expr} AS {name}" for expr, name in named.items())
    select = (
        f"    SELECT sp.period_key, sp.period, sp.period_start, sp.period_end_excl{sd_cols},\n           {outs}\n"
        f"    FROM {source}\n    {joins}"
    )
    return _Grid(tuple(ctes), select, tuple(cells), tuple(per_cell), tuple(named.values()))


def _grid_ctes(shape: Shape, grid: _Grid | None) -> tuple[list[str], _Grid]:
    """SQL: the CTEs up to `grid` (see `_grid`; `grid`: already built for this shape). The grid is read once
    by either statement, so it is not materialised."""
    grid = grid or _grid(shape)
    comment = (
        "-- every dimension value seen × every period, each indicator's figures there (empty: zero-filled)\n"
    )
    return [*grid.ctes, f"{comment}grid AS (\n{grid.select}\n)"], grid


def _shared(shape: Shape) -> tuple[list[str], list[str]]:
    """SQL: the columns every indicator's rows share (period, dimensions, their names; `r` is the grid)
    and the joins the names need."""
    shared = ["r.period", "r.period_start", "CAST(r.period_end_excl - 1 AS DATE) AS period_end"]
    shared += [f"r.{d}" for d in shape.dims]
    name_cols, name_joins = _names(shape) if shape.names else ([], "")
    shared += name_cols
    joins = [name_joins] if name_joins else []
    if "unit" in shape.by:
        shared += [f"u.{unit_name_column(shape.lang)} AS unit_name", "u.level AS unit_level"]
        joins.append("LEFT JOIN org_unit u ON u.id = r.unit_id")
    return shared, joins


def _alias(column: str) -> str:
    """The output name of a SELECT item."""
    return column.split(" AS ")[-1].split(".")[-1]


def layout(shape: Shape, grid: _Grid | None = None) -> Layout:
    """The long answer's layout for `reshape` (see `Layout`)."""
    shared, _ = _shared(shape)
    return Layout(
        tuple(_alias(c) for c in shared),
        tuple((i.id, i.unit, i.decimals, i.direction) for i in shape.indicators),
        (grid or _grid(shape)).columns,
        shape.names,
        shape.compare,
        YEAR_STEPS[shape.grain],
        tuple(by_length(i) for i in shape.indicators),
    )


def wide_statement(shape: Shape, grid: _Grid | None = None) -> str:
    """The statement DuckDB runs: the grid's rows with their shared columns, ordered by the dimensions and
    the period (`shown`: the period is in the requested range; earlier ones are there for comparisons)."""
    ctes, grid = _grid_ctes(shape, grid)
    shared, joins = _shared(shape)
    per = ", ".join(f"r.{c}" for c in grid.distinct)
    order = ", ".join([*(f"r.{d}" for d in shape.dims), "r.period_key"])
    return (
        "WITH " + ",\n".join(ctes) + "\n"
        f"SELECT r.period_key >= {first_shown_key(shape.grain)} AS shown, "
        f"{_comparable('r', shape.grain, 'p')} AS compare_previous, {_comparable('r', shape.grain, 'y')} AS compare_year, "
        f"{', '.join(shared)},\n       {per}\n"
        "FROM grid r\n" + "".join(j + "\n" for j in joins) + f"ORDER BY {order}"
    )


def by_length(indicator: Indicator) -> bool:
    """Whether an indicator's figure grows with the length of its period: a count or a sum of events (dossiers
    received, payments). A share, a mean, a quantile or a stock at the period's end does not."""
    placement = SOURCES[indicator.source].placements[indicator.period_by]
    return indicator.measure.aggregation in ("count", "sum") and placement.event is not None


def _comparable(alias: str, grain: str, prefix: str) -> str:
    """SQL: the row's period covers as long a span as the period before (`prefix` "p") or a year earlier ("y"),
    which a figure that grows with its period's length (`by_length`) needs to be compared with it.

    Not when the period is cut short by the data's end or the requested end: part of a quarter's dossiers set
    against a whole quarter's would read as a fall (October–November against a whole fourth quarter). Nor,
    year to date, January against the December before: that is the whole previous year. A share or a median
    of part of a period is still compared."""
    whole = f"{alias}.period_end_excl >= CAST({alias}.period_key + INTERVAL {STEP[grain]} AS DATE)"
    if grain == "ytd" and prefix == "p":
        return f"({whole} AND month({alias}.period_key) > 1)"
    return whole


def _compared(shape: Shape, grid: _Grid, presences: list[str]) -> str:
    """SQL: the CTE `compared`: `cells` with, per row, the figures of the row one period and one year earlier
    of the same dimension value (`p_<k>`, `y_<k>`; their `keep_<k>` as `p_keep_<k>`, `y_keep_<k>`). The grid
    is dense (every dimension value × every period of the spine), so those rows are 1 and `YEAR_STEPS` rows
    back in the dimension value's periods: windows, reading `cells` once (a self-join would read it three
    times, and an engine that inlines CTEs, such as ClickHouse, would compute the groups three times).
    `p_ok` and `y_ok` check that the row found is that period (as `reshape` counts positions, the same
    answer); `p_same` and `y_same` that the row's period covers as long a span as the one compared
    (`_comparable`), which an indicator whose figure grows with its period's length needs (`by_length`)."""
    dims = shape.dims
    partition = "PARTITION BY " + ", ".join(f"c.{d}" for d in dims) + " " if dims else ""
    window = f"OVER ({partition}ORDER BY c.period_key)"
    values = list(dict.fromkeys(c[3] for c in grid.columns))
    lags = []
    for prefix, rows, back in (("p", 1, STEP[shape.grain]), ("y", YEAR_STEPS[shape.grain], "1 YEAR")):
        lags.append(
            f"coalesce(lag(c.period_key, {rows}) {window} = CAST(c.period_key - INTERVAL {back} AS DATE), FALSE)"
            f" AS {prefix}_ok, {_comparable('c', shape.grain, prefix)} AS {prefix}_same"
        )
        lags += [f"lag(c.keep_{k}, {rows}) {window} AS {prefix}_keep_{k}" for k in range(len(presences))]
        lags += [f"lag(c.{v}, {rows}) {window} AS {prefix}_{v}" for v in values]
    columns = ",\n           ".join(lags)
    return (
        "-- p_<k>, y_<k>: the row one period and one year earlier (the same dimension value)\n"
        f"compared AS (\n    SELECT c.*,\n           {columns}\n    FROM cells c\n)"
    )


def statement(shape: Shape, grid: _Grid | None = None) -> str:
    """The whole statement for a request of this shape (its dates, scope and names are parameters): the long
    answer in SQL, as `compute()` returns it (`wide_statement` and `reshape` make the same rows)."""
    dims = shape.dims
    ctes, grid = _grid_ctes(shape, grid)
    presences = list(dict.fromkeys(c[0] for c in grid.columns))  # present_<k>: keep_<k> follows from it
    grid_cols = ", ".join(
        f"g.{c}" for c in ("period_key", "period", "period_start", "period_end_excl", *dims, *grid.distinct)
    )
    # windows over the grid, which is read once (an engine that inlines CTEs, such as ClickHouse, would
    # otherwise compute the groups again for every reference)
    same_dims = f"PARTITION BY {', '.join(f'g.{d}' for d in dims)}" if dims else ""
    keep = ",\n           ".join(
        f"coalesce(count_if({p}) OVER ({same_dims}) > 0 AND g.period_key BETWEEN "
        f"min(CASE WHEN {p} THEN g.period_key END) OVER () AND max(CASE WHEN {p} THEN g.period_key END) OVER (), "
        f"FALSE) AS keep_{k}"
        for k, p in enumerate(presences)
    )
    ctes.append(
        "-- keep_<k>: the row is inside the indicator's range (its first to its last period with records), on a\n"
        "-- dimension value it has records for\n"
        f"cells AS (\n    SELECT {grid_cols},\n           {keep}\n    FROM grid g\n)"
    )
    source = "cells r"
    if shape.compare:  # the previous period and a year earlier: rows of the same dimension value, by window
        ctes.append(_compared(shape, grid, presences))
        source = "compared r"
    shared, joins = _shared(shape)
    structs = []
    for c, (present, num, den, val) in zip(grid.cells, grid.columns, strict=True):
        n, ind = c.position, c.indicator
        k = presences.index(present)
        fields = [f"'ord': {n + 1}", f"'indicator': '{ind.id}'"]
        if shape.names:
            fields.append(f"'indicator_name': CAST($indicator_names AS VARCHAR[])[{n + 1}]")
        fields += [
            f"'keep': r.keep_{k}",
            f"'numerator': r.{num}",
            f"'denominator': r.{den}",
            f"'value': r.{val}",
            f"'unit': '{ind.unit}'",
            f"'decimals': {ind.decimals}",
            f"'direction': '{ind.direction}'",
        ]
        if shape.compare:
            # a figure that grows with its period's length: only over the same span (`_comparable`)
            p_same, y_same = (" AND r.p_same", " AND r.y_same") if by_length(ind) else ("", "")
            fields += [
                f"'previous_value': CASE WHEN r.p_ok AND r.p_keep_{k}{p_same} THEN r.p_{val} END",
                f"'year_ago_value': CASE WHEN r.y_ok AND r.y_keep_{k}{y_same} THEN r.y_{val} END",
            ]
        structs.append("{" + ", ".join(fields) + "}")
    names = [_alias(c) for c in shared]
    head = ["x.indicator", *(["x.indicator_name"] if shape.names else []), *(f"x.{c}" for c in names)]
    tail = ["x.numerator", "x.denominator", "x.value", "x.unit", "x.decimals", "x.direction"]
    tail.append("$unit_version AS unit_version")
    if shape.compare:
        tail += [
            "x.previous_value",
            "x.year_ago_value",
            "x.value - x.previous_value AS change_previous",
            "x.value - x.year_ago_value AS change_year_ago",
        ]
    unnest = ",\n        ".join(structs)
    order = ", ".join(["x.ord", *(f"x.{d}" for d in dims), "x.period_key"])
    return (
        "WITH " + ",\n".join(ctes) + "\n"
        "-- one row per indicator, period and dimensions (from the requested first period on)\n"
        f"SELECT {', '.join([*head, *tail])}\n"
        f"FROM (\n    SELECT r.period_key, {', '.join(shared)}, unnest([\n        {unnest}\n    ], recursive := true)\n"
        f"    FROM {source}\n    " + "\n    ".join(joins) + "\n"
        f"    WHERE r.period_key >= {first_shown_key(shape.grain)}\n) x\n"
        f"WHERE x.keep\nORDER BY {order}"
    )


@dataclass(frozen=True)
class Statements:
    """Everything `compute()` needs for a request shape: the statement (`statement`), the wide statement
    DuckDB runs (`wide_statement`) and how its rows become the statement's answer (`layout`, `reshape`)."""

    long: str
    wide: str
    layout: Layout


def statements(shape: Shape) -> Statements:
    """The statements and layout of a shape, from one build of its groups and grid."""
    grid = _grid(shape)
    return Statements(statement(shape, grid), wide_statement(shape, grid), layout(shape, grid))


class NotDense(Exception):
    """The wide rows are not one block of the same periods per dimension value (`reshape` cannot use them)."""


def reshape(wide: pl.DataFrame, layout: Layout, params: dict[str, object]) -> pl.DataFrame:
    """The long answer from `wide_statement`'s rows, as `statement` makes it in SQL.

    The grid is dense and ordered (each dimension value's periods in turn, the same periods for each), so an
    indicator's range, the dimension values it has records for, its previous period and a year earlier are
    array positions: an indicator's rows are those inside its first and last period with records, on a
    dimension value with records, in the requested range (`shown`), in the grid's order. Raises `NotDense`
    when the rows are not such a grid (the caller then runs `statement`).
    """
    m = len(layout.indicators)
    height = wide.height
    ends = wide["period_end"].to_numpy()
    periods = int(wide["period_end"].n_unique()) if height else 1
    blocks = height // periods
    if blocks * periods != height or not (ends.reshape(blocks, periods) == ends[:periods]).all():
        raise NotDense(f"{height} rows are not blocks of {periods} periods")
    flags = {name: wide.get_column(name).to_numpy() for name in dict.fromkeys(c[0] for c in layout.columns)}
    present = np.column_stack([flags[c[0]] for c in layout.columns]).reshape(blocks, periods, m)
    seen = np.asarray(present.any(axis=1))  # (dimension value, indicator)
    in_period = np.asarray(present.any(axis=0))  # (period, indicator)
    has = in_period.any(axis=0)
    first = np.where(has, in_period.argmax(axis=0), periods)
    last = np.where(has, periods - 1 - in_period[::-1].argmax(axis=0), -1)
    steps = np.arange(periods)[:, None]
    keep = seen[:, None, :] & ((steps >= first) & (steps <= last))[None, :, :]  # (value, period, indicator)
    chosen = keep.reshape(height, m) & wide.get_column("shown").to_numpy()[:, None]
    rows = [np.flatnonzero(chosen[:, n]) for n in range(m)]
    # positions in the indicators' columns stacked one after the other (indicator n's row r: n × height + r)
    flat = np.concatenate([r + n * height for n, r in enumerate(rows)]).astype(np.int64)
    # per indicator (one row each), then one row per answer row: a DataFrame gather each, one chunk first
    # (DuckDB's Arrow result comes in a chunk per thread, and a gather across chunks is slow)
    meta = {"indicator": pl.Series([i[0] for i in layout.indicators], dtype=pl.String)}
    if layout.names:
        meta["indicator_name"] = pl.Series(list(params["indicator_names"]), dtype=pl.String)  # type: ignore[call-overload]
    meta["unit"] = pl.Series([i[1] for i in layout.indicators], dtype=pl.String)
    meta["decimals"] = pl.Series([i[2] for i in layout.indicators], dtype=pl.Int32)
    meta["direction"] = pl.Series([i[3] for i in layout.indicators], dtype=pl.String)
    named = pl.DataFrame(meta)[pl.Series(np.repeat(np.arange(m, dtype=np.uint32), [len(r) for r in rows]))]
    figures = pl.DataFrame(
        {
            name: pl.concat([wide.get_column(c[j]) for c in layout.columns])
            for j, name in enumerate(("numerator", "denominator", "value"), 1)
        }
    ).rechunk()
    picked = figures[pl.Series(flat)]
    shared = pl.DataFrame([wide.get_column(c) for c in layout.shared]).rechunk()[
        pl.Series(flat % max(height, 1))
    ]
    columns = [
        *(named.get_column(c) for c in ("indicator", *(["indicator_name"] if layout.names else []))),
        *shared.get_columns(),
        *picked.get_columns(),
        *(named.get_column(c) for c in ("unit", "decimals", "direction")),
        pl.Series("unit_version", [str(params["unit_version"])], pl.String).new_from_index(0, len(flat)),
    ]
    out = pl.DataFrame(columns)
    if not layout.compare:
        return out
    earlier_values = []
    # per answer row: its indicator's figure grows with its period's length (compared over the same span only)
    lengthy = np.repeat(np.array(layout.by_length or (False,) * m, dtype=bool), [len(r) for r in rows])
    for steps_back, comparable in ((1, "compare_previous"), (layout.year_steps, "compare_year")):
        earlier = np.zeros_like(keep)  # the row `steps_back` periods earlier is the indicator's
        if steps_back < periods:
            earlier[:, steps_back:, :] = keep[:, :-steps_back, :]
        same_span = wide.get_column(comparable).to_numpy()[flat % max(height, 1)]  # `_comparable`
        ok = earlier.reshape(height, m).T.reshape(-1)[flat] & (same_span | ~lengthy)
        found = figures.get_column("value")[pl.Series(np.where(ok, flat - steps_back, 0))]
        nothing = pl.Series([None], dtype=pl.Float64).new_from_index(0, len(ok))
        earlier_values.append(found.zip_with(pl.Series(ok), nothing))
    previous, year_ago = earlier_values
    return out.with_columns(
        previous.alias("previous_value"),
        year_ago.alias("year_ago_value"),
        (out["value"] - previous).alias("change_previous"),
        (out["value"] - year_ago).alias("change_year_ago"),
    )
