"""Step 2 of the engine: placement, which records fall in which cell (unit × period).

- `groups`: the indicators computed in one pass (one source; placements that can share placed rows);
- `rows_sql`: a source's rows in the unit scope, each with the unit of the split (`_split_unit_id`), through
  the `org_unit_closure` view in the requested unit version;
- `placed_sql`: those rows placed in the spine's periods, by an event date (the truncated date) and/or as a
  stock open at the period's end (each open record expanded to its candidate periods, then equi-joined),
  with the source's period-dependent columns and per-period activity.
Working days come from the source's `calendar_day` indices and the spine's `period_end_idx`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from egov_metrics.catalog import Indicator
from egov_metrics.engine.request import Shape
from egov_metrics.engine.spine import SPINE_COLUMNS, STEP, TRUNC, first_key, last_key
from egov_metrics.sources import SOURCES, Placement, Source


@dataclass(frozen=True)
class Group:
    """Indicators computed in one pass over one source's placed rows; `members` are (position, indicator)."""

    source: str
    placement: Placement
    members: tuple[tuple[int, Indicator], ...]


def compatible(a: Placement, b: Placement) -> bool:
    """Whether two placements' rows can be placed in one pass: no two different event dates or stocks."""
    return (a.event is None or b.event is None or a.event == b.event) and (
        a.stock is None or b.stock is None or a.stock == b.stock
    )


def groups(shape: Shape) -> list[Group]:
    """Indicators computed in one pass: same source, and placements that can share placed rows.

    Placements by the same event date and/or the same stock merge (e.g. `finished`, `open_at_end` and
    `finished_or_open` of dossiers): the rows are placed and aggregated once, not once per placement.
    """
    out: list[Group] = []
    for n, ind in enumerate(shape.indicators):
        own = SOURCES[ind.source].placements[ind.period_by]
        fits = [k for k, g in enumerate(out) if g.source == ind.source and compatible(g.placement, own)]
        # a group that already places these rows first (merging adds nothing to it): an indicator of the
        # stock alone joins the group of `finished_or_open`, not the one of `received`, whose rows would
        # otherwise be expanded to their open periods a second time
        covered = [k for k in fits if _merged(out[k].placement, own) == out[k].placement]
        if covered or fits:
            k = (covered or fits)[0]
            group = out[k]
            out[k] = Group(group.source, _merged(group.placement, own), (*group.members, (n, ind)))
        else:
            out.append(Group(ind.source, own, ((n, ind),)))
    return out


def _merged(a: Placement, b: Placement) -> Placement:
    """The placement of two compatible placements' rows together."""
    return Placement(event=a.event or b.event, stock=a.stock or b.stock)


def placed_condition(group: Placement, own: Placement) -> str:
    """SQL: which of a merged group's placed rows an indicator placed by `own` counts."""
    if group.event and group.stock and not (own.event and own.stock):
        return "is_open" if own.stock else "NOT is_open"
    return "TRUE"


def reach(grain: str, placement: Placement) -> str:
    """SQL: a condition on a source row that holds for every row the placement can place in the spine.

    Used as a filter before the rows are joined and placed, so that a request for a few recent periods reads
    only the rows it can use (the filter is pushed into the table scan). Implied by the placement's own
    conditions: an event date on or after the first period's window start (1 January of its year for ytd)
    and before the data end; a stock record starting before the data end and not stopped before the first
    key (it must still be open at the end of a period that ends after that key).
    """
    first = first_key(grain)
    if grain == "ytd":
        first = f"CAST(date_trunc('year', {first}) AS DATE)"
    out = []
    if placement.event:
        out.append(f"(s.{placement.event} >= {first} AND s.{placement.event} < $data_end_excl)")
    if placement.stock:
        start, stop = placement.stock
        out.append(f"(s.{start} < $data_end_excl AND (s.{stop} IS NULL OR s.{stop} >= {first}))")
    return " OR ".join(out)


def reads(shape: Shape, source: Source) -> tuple[str, ...]:
    """SQL texts and column names of the request that read the source's rows: which `lookups` it needs."""
    texts: list[str] = [source.dimensions[d] for d in shape.by if d in source.dimensions]
    for ind in shape.indicators:
        if SOURCES[ind.source] is source:
            texts += [ind.measure.numerator, ind.measure.denominator or "", *ind.filters]
            placement = source.placements[ind.period_by]
            texts += [placement.event or "", *(placement.stock or ())]
    return (*texts, *source.period_columns.values())


def rows_sql(shape: Shape, source: Source, placements: tuple[Placement, ...] = ()) -> str:
    """The source's rows in the unit scope, each with its unit of the split (`_split_unit_id`).

    The unit scope and the unit split join the source rows themselves, before they are placed in
    periods: so the small closure is the join's build side (placed rows have no useful cardinality
    estimate, and DuckDB would otherwise build a hash table of millions of wide rows). Only rows that one of
    the `placements` can place in the spine are kept (`reach`).
    """
    split = "unit" in shape.by and source.unit_column is not None
    join = (
        f" JOIN org_unit_closure ub ON ub.unit_id = s.{source.unit_column} "
        "AND ub.version = $unit_version AND list_contains($levels, ub.ancestor_level)"
        if split
        else ""
    )
    conditions = []
    if shape.scoped and source.unit_column and shape.scope_list:
        # a plain filter on a column of the source's table: pushed into its scan, before the source's joins
        conditions.append(f"list_contains(CAST($scope_units AS VARCHAR[]), s.{source.unit_column})")
    elif shape.scoped and source.unit_column:
        # the same as a semi-join (a unit is below the scope once), for callers without a connection
        conditions.append(
            f"s.{source.unit_column} IN (SELECT ua.unit_id FROM org_unit_closure ua "
            "WHERE ua.version = $unit_version AND ua.ancestor_id = $scope)"
        )
    if placements and (shape.scoped or shape.narrow):
        # only with a unit scope or over a small part of the data (`Shape.narrow`): there the rows left are
        # few whatever the optimiser does; over most of the data the filter's lower estimate turns the
        # calendar joins' build side to the dossier rows (3× the CPU at 1 M on the unit split, measured)
        conditions.append(f"({' OR '.join(reach(shape.grain, p) for p in placements)})")
    select = source.select(reads(shape, source))
    keys = "".join(f", {sql} AS {key_column(c)}" for c, sql in period_keys(shape.grain, placements).items())
    if not split and not conditions and not keys:
        return select
    where = f"\nWHERE {' AND '.join(conditions)}" if conditions else ""
    unit = ", ub.ancestor_id AS _split_unit_id" if split else ""
    return f"SELECT s.*{unit}{keys} FROM ({select}) s{join}{where}"


def key_column(column: str) -> str:
    """The name of a row's column holding `column` truncated to the grain's period (see `period_keys`)."""
    return f"_key_{column}"


def period_keys(grain: str, placements: tuple[Placement, ...]) -> dict[str, str]:
    """SQL per date column the placements read: the column truncated to the grain's period (a period key).

    Computed once per row with the source's rows (`rows_sql`), not once per use: a dossier's finished date
    places it by its event, tells whether it may be open at a period's end and where its open periods
    stop; its received date places it and starts them. A date_trunc costs ~15 ms per million rows.
    """
    columns = [c for p in placements for c in (p.event, *(p.stock or ())) if c]
    return {c: f"CAST(date_trunc('{TRUNC[grain]}', s.{c}) AS DATE)" for c in dict.fromkeys(columns)}


def reads_period_columns(source: Source, members: tuple[tuple[int, Indicator], ...]) -> bool:
    """Whether an expression of the group (or of the source) may read a column of the spine."""
    if source.period_columns:
        return True
    texts = [t for _, i in members for t in (i.measure.numerator, i.measure.denominator or "", *i.filters)]
    return any(re.search(rf"\b{c}\b", t, re.IGNORECASE) for t in texts for c in SPINE_COLUMNS)


def _event_join(grain: str, column: str, *, keyed: bool = True) -> str:
    """SQL: the join condition of a row placed by the event date `column` with the spine (`keyed`: the row
    has the column's period key, see `period_keys`)."""
    if grain == "ytd":
        return (
            f"year(src.{column}) = year(sp.period_key) AND src.{column} >= sp.period_start "
            f"AND src.{column} < sp.period_end_excl"
        )
    # In the period of its truncated date, a value is before the period's end exactly when it is before
    # the data end (only the last period is cut short): a pure equi-join plus a filter on the rows.
    key = (
        f"src.{key_column(column)}" if keyed else f"CAST(date_trunc('{TRUNC[grain]}', src.{column}) AS DATE)"
    )
    return f"{key} = sp.period_key AND src.{column} < $data_end_excl"


def _stock_candidates(grain: str, rows: str, start: str, stop: str) -> str:
    """Source rows, each repeated for the period keys where it may be open at the period's end.

    Open at the end of period k means start < end(k) <= stop (or no stop), end(k) = least(k + step, data
    end): from the period holding `start` to the last one ending by `stop`, i.e. up to trunc(stop) - step
    when stop is before the data end (period keys are aligned); none when no period boundary (an aligned
    date or the data end) lies in (start, stop], which most records fail at the cost of one date_trunc.
    The keys are clamped to the spine, and the exact condition is still checked after the equi-join, so
    these bounds only need to include every match. An equi-join on a few rows per open record replaces
    a range join of every record with every period (~10× cheaper on millions of rows).
    """
    step = STEP[grain]
    first, last = first_key(grain), last_key(grain)
    start_key, stop_key = key_column(start), key_column(stop)  # truncated to the grain (`period_keys`)
    low = f"greatest(s.{start_key}, {first})"
    high = (
        f"least(CASE WHEN s.{stop} IS NULL OR s.{stop} >= $data_end_excl THEN {last} "
        f"ELSE CAST(s.{stop_key} - INTERVAL {step} AS DATE) END, {last})"
    )
    # cheap first test: some period boundary lies in (start, stop], or the record is open at the data end
    may_be_open = f"s.{stop} IS NULL OR s.{stop} >= $data_end_excl OR s.{stop_key} > s.{start}"
    return (
        f"SELECT c.* EXCLUDE (_low, _high), "
        f"CAST(unnest(generate_series(c._low, c._high, INTERVAL {step})) AS DATE) AS _key "
        f"FROM (SELECT s.*, {low} AS _low, {high} AS _high FROM ({rows}) s WHERE {may_be_open}) c"
    )


def placed_sql(shape: Shape, group: Group, rows: str) -> str:
    """The rows (the source's SQL, maybe joined to the units) placed in the periods of the spine.

    When no expression of the group reads the spine's columns, a placed row has only its period_key, and a
    row placed by an event date in a month, quarter or year gets it from its own date, without a join to the
    spine: the date is in the spine's range exactly when its truncation is a spine key.
    """
    source, placement, grain = SOURCES[group.source], group.placement, shape.grain
    spine_columns = reads_period_columns(source, group.members)
    parts = []
    cols = "src.*, sp.period_key" + (
        ", sp.period, sp.period_start, sp.period_end_excl, sp.period_end_idx" if spine_columns else ""
    )
    if placement.event and not spine_columns and grain != "ytd":
        column = placement.event
        parts.append(
            f"SELECT src.*, src.{key_column(column)} AS period_key, "
            f"FALSE AS is_open FROM ({rows}) src "
            f"WHERE src.{column} >= {first_key(grain)} AND src.{column} < $data_end_excl"
        )
    elif placement.event:
        parts.append(
            f"SELECT {cols}, FALSE AS is_open FROM ({rows}) src JOIN spine sp ON {_event_join(grain, placement.event)}"
        )
    if placement.stock:
        start, stop = placement.stock
        parts.append(
            f"SELECT {cols.replace('src.*', 'src.* EXCLUDE (_key)')}, TRUE AS is_open "
            f"FROM ({_stock_candidates(grain, rows, start, stop)}) src JOIN spine sp "
            f"ON sp.period_key = src._key AND src.{start} < sp.period_end_excl "
            f"AND (src.{stop} IS NULL OR src.{stop} >= sp.period_end_excl)"
        )
    sql = "\nUNION ALL\n".join(parts)
    if source.period_columns:
        replaced = ", ".join(f"{expr} AS {col}" for col, expr in source.period_columns.items())
        sql = f"SELECT * REPLACE ({replaced}) FROM ({sql})"
    if source.activity_sql:
        keys = source.activity_keys
        sums = ", ".join(f"sum({c}) AS {c}" for c in source.activity_columns)
        activity = (
            f"SELECT {', '.join('src.' + k for k in keys)}, sp.period_key, {sums} "
            f"FROM ({source.activity_sql}) src JOIN spine sp ON {_event_join(grain, 'at', keyed=False)} GROUP BY ALL"
        )
        using = ", ".join((*keys, "period_key"))
        totals = ", ".join(f"coalesce(a.{c}, 0) AS {c}" for c in source.activity_columns)
        sql = f"SELECT p.*, {totals} FROM ({sql}) p LEFT JOIN ({activity}) a USING ({using})"
    return sql
