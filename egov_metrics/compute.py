"""The indicator engine: any set of catalog indicators × dimensions × periods, computed in DuckDB in one query.

    compute(["dossiers_on_time", "online_submission"], by=["unit"], level="department",
            grain="month", start="2025-01-01", end="2025-12-31", unit="NT")

returns one long polars frame: indicator, period, period_start, period_end, the dimension columns,
numerator, denominator, value, unit, and (with `compare=True`) the value of the previous period and of
the same period a year earlier. Ratios are pooled (Σnumerator ÷ Σdenominator) at whatever level is asked:
the rows below are aggregated directly, never averaged. `explain()` returns the SQL and its parameters.

How the SQL is built:
1. a period spine for the grain (month, quarter, year, ytd) over the requested range (plus one year
   before it when comparisons are asked), each period with its end and the working-day index of its end;
2. per source, the rows are scoped to a unit and everything below it and mapped to the requested level
   through the `org_unit_closure` view, in the "current" unit version (old units through the crosswalk to
   their successors) or the "historical" one; a source read by several groups is materialised once;
3. per group of indicators (one source, placements that can share rows: `finished` with `open_at_end` and
   `finished_or_open`), the rows are placed in periods: by an event date (the truncated date) and/or as a
   stock open at the period's end (each open record expanded to its candidate periods, then equi-joined);
4. one GROUP BY computes every indicator of the group as conditional aggregates, unnested to long rows;
5. the groups are UNION ALL-ed and joined to themselves for the comparisons.
Every user value is a bound parameter; identifiers come only from the validated catalog and registries.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypedDict, Unpack, overload

import duckdb
import polars as pl

from egov_metrics import cache
from egov_metrics.catalog import Catalog, Indicator, load_catalog
from egov_metrics.errors import EgovError, UnknownNameError
from egov_metrics.schema import connect
from egov_metrics.sources import ALL_DIMENSIONS, CLOCK_SOURCE, SOURCES, Placement, Source, data_extent
from egov_metrics.vocab import LEVELS, SPLIT_LEVELS

if TYPE_CHECKING:
    import pandas as pd

GRAINS: tuple[str, ...] = ("month", "quarter", "year", "ytd")
UNIT_VERSIONS: tuple[str, ...] = ("current", "historical")

#: SQL interval of one period per grain (ytd periods are months whose window starts on 1 January).
_STEP = {"month": "1 MONTH", "quarter": "3 MONTH", "year": "1 YEAR", "ytd": "1 MONTH"}
_TRUNC = {"month": "month", "quarter": "quarter", "year": "year", "ytd": "month"}


class ComputeError(EgovError):
    """A request the engine cannot answer as asked."""


@dataclass(frozen=True)
class Query:
    """The SQL of one `compute` call and its bound parameters, for transparency."""

    sql: str
    params: dict[str, object]

    def __str__(self) -> str:
        shown = "\n".join(f"--   ${k} = {v!r}" for k, v in self.params.items())
        return f"-- parameters:\n{shown}\n{self.sql}"


_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


def _last_day(year: int, month: int) -> dt.date:
    return (dt.date(year, month, 28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _as_date(value: str | dt.date | None, name: str, *, month_end: bool = False) -> dt.date | None:
    """Parse a date or a period label: YYYY-MM-DD, YYYY-MM, YYYY-Qn (as the engine labels quarters) or YYYY.

    A month, quarter or year means its first day, or its last day with `month_end` (for `end`).
    """
    if value is None or isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        quarter = _QUARTER.match(text)
        if quarter:
            year, q = int(quarter[1]), int(quarter[2])
            return _last_day(year, 3 * q) if month_end else dt.date(year, 3 * q - 2, 1)
        if len(text) == 4 and text.isdigit():
            return dt.date(int(text), 12, 31) if month_end else dt.date(int(text), 1, 1)
        if len(text) == 7:
            first = dt.date.fromisoformat(text + "-01")
            return _last_day(first.year, first.month) if month_end else first
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ComputeError(
            f"{name}={value!r} is not a date or a period",
            "write YYYY-MM-DD, YYYY-MM, a quarter YYYY-Qn (e.g. 2026-Q3) or a year YYYY",
        ) from None


def _condition(ind: Indicator, placed: str = "TRUE") -> str:
    """SQL: the rows an indicator describes: its placement's rows of the group (`placed`), its filters."""
    return " AND ".join([*([placed] if placed != "TRUE" else []), *(f"({f})" for f in ind.filters)]) or "TRUE"


def _aggregates(ind: Indicator, placed: str = "TRUE") -> tuple[str, str, str]:
    """SQL for numerator, denominator and value of one indicator (the caller names the columns)."""
    cond = _condition(ind, placed)
    m = ind.measure
    num_expr = f"CAST(({m.numerator}) AS DOUBLE)"
    if m.aggregation in ("ratio", "count", "sum"):
        num = f"coalesce(sum(CASE WHEN {cond} THEN {num_expr} END), 0)"
        if m.aggregation == "ratio":
            den = f"coalesce(sum(CASE WHEN {cond} THEN CAST(({m.denominator}) AS DOUBLE) END), 0)"
            value = f"CASE WHEN {den} > 0 THEN {num} / {den} * {m.factor} END"
        else:
            den = "CAST(NULL AS DOUBLE)"
            value = f"{num} * {m.factor}"
    elif m.aggregation == "mean":
        num = f"sum(CASE WHEN {cond} THEN {num_expr} END)"
        den = f"CAST(count(CASE WHEN {cond} THEN {num_expr} END) AS DOUBLE)"
        value = f"CASE WHEN {den} > 0 THEN {num} / {den} * {m.factor} END"
    else:  # median, p90: exact quantiles; the denominator says how many records they describe
        num = "CAST(NULL AS DOUBLE)"
        den = f"CAST(count(CASE WHEN {cond} THEN {num_expr} END) AS DOUBLE)"
        value = f"quantile_cont({_quantile_argument(ind, placed)}, {_QUANTILES[m.aggregation]}) * {m.factor}"
    return num, den, value


#: Columns of the spine that a placed row carries (besides is_open) and an expression may read.
_SPINE_COLUMNS = ("period_key", "period", "period_start", "period_end_excl", "period_end_idx")

#: Quantile aggregations and the fraction each asks for.
_QUANTILES = {"median": 0.5, "p90": 0.9}


def _quantile_argument(ind: Indicator, placed: str = "TRUE") -> str:
    """The values a quantile indicator describes: its numerator where its rows are, else NULL."""
    return f"CASE WHEN {_condition(ind, placed)} THEN CAST(({ind.measure.numerator}) AS DOUBLE) END"


def _compatible(a: Placement, b: Placement) -> bool:
    """Whether two placements' rows can be placed in one pass: no two different event dates or stocks."""
    return (a.event is None or b.event is None or a.event == b.event) and (
        a.stock is None or b.stock is None or a.stock == b.stock
    )


def _placed_condition(group: Placement, own: Placement) -> str:
    """SQL: which of a merged group's placed rows an indicator placed by `own` counts."""
    if group.event and group.stock and not (own.event and own.stock):
        return "is_open" if own.stock else "NOT is_open"
    return "TRUE"


class _Builder:
    def __init__(
        self,
        indicators: list[Indicator],
        by: tuple[str, ...],
        levels: tuple[str, ...],
        grain: str,
        unit_version: str,
        scoped: bool,
        lang: str,
        names: bool = False,
    ) -> None:
        self.indicators = indicators
        self.by = by
        self.levels = levels
        self.grain = grain
        self.unit_version = unit_version
        self.scoped = scoped
        self.lang = lang
        self.names = names

    # -- periods -------------------------------------------------------------------------------
    def spine(self) -> str:
        step, trunc = _STEP[self.grain], _TRUNC[self.grain]
        window_start = "date_trunc('year', k)" if self.grain == "ytd" else "k"
        label = {
            "month": "strftime(k, '%Y-%m')",
            "quarter": "strftime(k, '%Y') || '-Q' || quarter(k)",
            "year": "strftime(k, '%Y')",
            "ytd": "strftime(k, '%Y-%m') || ' YTD'",
        }[self.grain]
        return f"""spine AS (
    SELECT s.*, c.wd_index AS period_end_idx
    FROM (
        SELECT CAST(k AS DATE) AS period_key,
               CAST({window_start} AS DATE) AS period_start,
               CAST(least(k + INTERVAL {step}, $data_end_excl) AS DATE) AS period_end_excl,
               {label} AS period
        FROM range(CAST(date_trunc('{trunc}', CAST($spine_start AS DATE)) AS TIMESTAMP),
                   CAST($spine_end_excl AS TIMESTAMP), INTERVAL {step}) AS r(k)
    ) s
    JOIN calendar_day c ON c.day = s.period_end_excl - 1
)"""

    def _event_join(self, column: str) -> str:
        if self.grain == "ytd":
            return (
                f"year(src.{column}) = year(sp.period_key) AND src.{column} >= sp.period_start "
                f"AND src.{column} < sp.period_end_excl"
            )
        # In the period of its truncated date, a value is before the period's end exactly when it is before
        # the data end (only the last period is cut short): a pure equi-join plus a filter on the rows.
        return (
            f"CAST(date_trunc('{_TRUNC[self.grain]}', src.{column}) AS DATE) = sp.period_key "
            f"AND src.{column} < $data_end_excl"
        )

    def _first_key(self) -> str:
        """SQL: the spine's first period key."""
        return f"CAST(date_trunc('{_TRUNC[self.grain]}', CAST($spine_start AS DATE)) AS DATE)"

    def _last_key(self) -> str:
        """SQL: the spine's last period key (the one holding the day before the spine's end)."""
        return f"CAST(date_trunc('{_TRUNC[self.grain]}', CAST($spine_end_excl AS DATE) - 1) AS DATE)"

    def _stock_candidates(self, rows: str, start: str, stop: str) -> str:
        """Source rows, each repeated for the period keys where it may be open at the period's end.

        Open at the end of period k means start < end(k) <= stop (or no stop), end(k) = least(k + step, data
        end): from the period holding `start` to the last one ending by `stop`, i.e. up to trunc(stop) - step
        when stop is before the data end (period keys are aligned); none when no period boundary (an aligned
        date or the data end) lies in (start, stop], which most records fail at the cost of one date_trunc.
        The keys are clamped to the spine, and the exact condition is still checked after the equi-join, so
        these bounds only need to include every match. An equi-join on a few rows per open record replaces
        a range join of every record with every period (~10× cheaper on millions of rows).
        """
        step, trunc = _STEP[self.grain], _TRUNC[self.grain]
        first_key, last_key = self._first_key(), self._last_key()
        low = f"greatest(CAST(date_trunc('{trunc}', s.{start}) AS DATE), {first_key})"
        high = (
            f"least(CASE WHEN s.{stop} IS NULL OR s.{stop} >= $data_end_excl THEN {last_key} "
            f"ELSE CAST(date_trunc('{trunc}', s.{stop}) - INTERVAL {step} AS DATE) END, {last_key})"
        )
        # cheap first test: some period boundary lies in (start, stop], or the record is open at the data end
        may_be_open = (
            f"s.{stop} IS NULL OR s.{stop} >= $data_end_excl OR date_trunc('{trunc}', s.{stop}) > s.{start}"
        )
        return (
            f"SELECT c.* EXCLUDE (_low, _high), "
            f"CAST(unnest(generate_series(c._low, c._high, INTERVAL {step})) AS DATE) AS _key "
            f"FROM (SELECT s.*, {low} AS _low, {high} AS _high FROM ({rows}) s WHERE {may_be_open}) c"
        )

    def placed(self, source: Source, placement: Placement, rows: str, spine_columns: bool = True) -> str:
        """The rows (the source's SQL, maybe joined to the units) placed in the periods of the spine.

        Without `spine_columns` (no expression of the group reads the spine's columns) a placed row has
        only its period_key, and a row placed by an event date in a month, quarter or year gets it from its
        own date, without a join to the spine: the date is in the spine's range exactly when its truncation
        is a spine key.
        """
        parts = []
        cols = "src.*, sp.period_key" + (
            ", sp.period, sp.period_start, sp.period_end_excl, sp.period_end_idx" if spine_columns else ""
        )
        if placement.event and not spine_columns and self.grain != "ytd":
            column = placement.event
            parts.append(
                f"SELECT src.*, CAST(date_trunc('{_TRUNC[self.grain]}', src.{column}) AS DATE) AS period_key, "
                f"FALSE AS is_open FROM ({rows}) src "
                f"WHERE src.{column} >= {self._first_key()} AND src.{column} < $data_end_excl"
            )
        elif placement.event:
            parts.append(
                f"SELECT {cols}, FALSE AS is_open FROM ({rows}) src "
                f"JOIN spine sp ON {self._event_join(placement.event)}"
            )
        if placement.stock:
            start, stop = placement.stock
            parts.append(
                f"SELECT {cols.replace('src.*', 'src.* EXCLUDE (_key)')}, TRUE AS is_open "
                f"FROM ({self._stock_candidates(rows, start, stop)}) src JOIN spine sp "
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
                f"FROM ({source.activity_sql}) src JOIN spine sp ON {self._event_join('at')} GROUP BY ALL"
            )
            using = ", ".join((*keys, "period_key"))
            totals = ", ".join(f"coalesce(a.{c}, 0) AS {c}" for c in source.activity_columns)
            sql = f"SELECT p.*, {totals} FROM ({sql}) p LEFT JOIN ({activity}) a USING ({using})"
        return sql

    # -- the rows of a source ----------------------------------------------------------------------
    def rows_sql(self, source: Source) -> str:
        """The source's rows in the unit scope, each with its unit of the split (`_split_unit_id`).

        The unit scope and the unit split join the source rows themselves, before they are placed in
        periods: so the small closure is the join's build side (placed rows have no useful cardinality
        estimate, and DuckDB would otherwise build a hash table of millions of wide rows).
        """
        joins = []
        if source.unit_column and (self.scoped or "unit" in self.by):
            if self.scoped:
                joins.append(
                    f"JOIN org_unit_closure ua ON ua.unit_id = s.{source.unit_column} "
                    "AND ua.version = $unit_version AND ua.ancestor_id = $scope"
                )
            if "unit" in self.by:
                joins.append(
                    f"JOIN org_unit_closure ub ON ub.unit_id = s.{source.unit_column} "
                    "AND ub.version = $unit_version AND list_contains($levels, ub.ancestor_level)"
                )
        unit_split = "ub.ancestor_id AS _split_unit_id" if "unit" in self.by and source.unit_column else ""
        if not joins:
            return source.sql
        return f"SELECT s.*{', ' + unit_split if unit_split else ''} FROM ({source.sql}) s {' '.join(joins)}"

    # -- one group of indicators sharing source and placement -----------------------------------
    @staticmethod
    def _reads_period_columns(source: Source, inds: list[tuple[int, Indicator]]) -> bool:
        """Whether an expression of the group (or of the source) may read a column of the spine."""
        if source.period_columns:
            return True
        texts = [t for _, i in inds for t in (i.measure.numerator, i.measure.denominator or "", *i.filters)]
        return any(re.search(rf"\b{c}\b", t, re.IGNORECASE) for t in texts for c in _SPINE_COLUMNS)

    def group_sql(
        self, source: Source, placement: Placement, inds: list[tuple[int, Indicator]], rows: str
    ) -> str:
        """One pass over the group's placed rows: every indicator as conditional aggregates, unnested.

        In a merged group (event rows and open rows, e.g. `finished` with `finished_or_open`), an indicator
        counts only its own placement's rows, and gets a row only where its placement placed any.
        """
        own_rows = {
            n: _placed_condition(placement, SOURCES[i.source].placements[i.period_by]) for n, i in inds
        }
        merged = any(c != "TRUE" for c in own_rows.values())
        dim_cols = []
        for dim in self.by:
            if dim == "unit":
                dim_cols.append("pl._split_unit_id AS unit_id")
            else:
                dim_cols.append(f"CAST(pl.{source.dimensions[dim]} AS VARCHAR) AS {dim}")
        aggs = []
        structs = []
        # Quantiles of the same values (median and p90 of one column) are computed once, in the list form
        # quantile_cont(x, [0.5, 0.9]): one pass and one sort instead of one per quantile.
        quantiles: dict[str, list[float]] = {}
        for n, ind in inds:
            num, den, value = _aggregates(ind, own_rows[n])
            if ind.measure.aggregation in _QUANTILES:
                argument = _quantile_argument(ind, own_rows[n])
                fractions = quantiles.setdefault(argument, [])
                fractions.append(_QUANTILES[ind.measure.aggregation])
                k = list(quantiles).index(argument)
                aggs.append(f"{num} AS i{n}_num, {den} AS i{n}_den")
                value_ref = f"q{k}[{len(fractions)}] * {ind.measure.factor}"
            else:
                aggs.append(f"{num} AS i{n}_num, {den} AS i{n}_den, {value} AS i{n}_val")
                value_ref = f"i{n}_val"
            placed_field = ""
            if merged:
                aggs.append(f"count_if({own_rows[n]}) AS i{n}_placed")
                placed_field = f", 'placed': i{n}_placed"
            structs.append(
                f"{{'indicator': '{ind.id}', 'numerator': i{n}_num, 'denominator': i{n}_den, "
                f"'value': {value_ref}{placed_field}}}"
            )
        aggs += [
            f"quantile_cont({arg}, [{', '.join(map(str, fractions))}]) AS q{k}"
            for k, (arg, fractions) in enumerate(quantiles.items())
        ]
        # Grouped by the period key alone; the spine's other period columns are joined to the few result rows.
        dims_out = ", ".join(
            [
                "sp.period_key",
                "sp.period",
                "sp.period_start",
                "sp.period_end_excl",
                *[f"g.{c.split(' AS ')[-1]}" for c in dim_cols],
            ]
        )
        select_dims = ", ".join(["pl.period_key", *dim_cols])
        where = ""
        sql = f"""SELECT {dims_out}, unnest([{", ".join(structs)}], recursive := true)
FROM (
    SELECT {select_dims}, {", ".join(aggs)}
    FROM ({self.placed(source, placement, rows, self._reads_period_columns(source, inds))}) pl
    {where}
    GROUP BY ALL
) g
JOIN spine sp ON sp.period_key = g.period_key"""
        return f"SELECT * EXCLUDE (placed) FROM ({sql}) WHERE placed > 0" if merged else sql

    def groups(self) -> list[tuple[str, Placement, list[tuple[int, Indicator]]]]:
        """Indicators computed in one pass: same source, and placements that can share placed rows.

        Placements by the same event date and/or the same stock merge (e.g. `finished`, `open_at_end` and
        `finished_or_open` of dossiers): the rows are placed and aggregated once, not once per placement.
        """
        out: list[tuple[str, Placement, list[tuple[int, Indicator]]]] = []
        for n, ind in enumerate(self.indicators):
            own = SOURCES[ind.source].placements[ind.period_by]
            for k, (name, placement, members) in enumerate(out):
                if name == ind.source and _compatible(placement, own):
                    merged = Placement(event=placement.event or own.event, stock=placement.stock or own.stock)
                    out[k] = (name, merged, [*members, (n, ind)])
                    break
            else:
                out.append((ind.source, own, [(n, ind)]))
        return out

    def _names(self, dims: list[str]) -> tuple[str, str, str]:
        """SQL: the indicator's name, then `<dimension>_name` for field, procedure, layer, phase and the coded
        dimensions (channel, applicant type, online level, platform), in the request's language."""
        from egov_metrics.codes import DIMENSION_CODES

        lang = self.lang
        cols = []
        joins = []
        tables = {
            "field": ("field", "code"),
            "procedure": ("procedure", "code"),
            "layer": ("arch_layer", "layer"),
            "phase": ("roadmap_phase", "id"),
        }
        for d in dims:
            if d in tables:
                table, key = tables[d]
                name = f"coalesce(n_{d}.name_{lang}, n_{d}.name_vi)" if lang == "en" else f"n_{d}.name_vi"
                cols.append(f", {name} AS {d}_name")
                joins.append(f"LEFT JOIN {table} n_{d} ON CAST(n_{d}.{key} AS VARCHAR) = r.{d}")
            elif d in DIMENSION_CODES:
                cases = " ".join(
                    f"WHEN '{c.code}' THEN '{c.name(lang).replace(chr(39), chr(39) * 2)}'"
                    for c in DIMENSION_CODES[d].values()
                )
                cols.append(f", CASE r.{d} {cases} ELSE r.{d} END AS {d}_name")
        return (
            ", CAST($indicator_names AS VARCHAR[])[m.ord] AS indicator_name",
            "".join(cols),
            "\n".join(joins),
        )

    def sql(self, compare: bool) -> str:
        groups = self.groups()
        # A source read by several groups (e.g. dossiers placed by received and by finished date) is read,
        # joined to the calendar and the units once, into a materialised CTE that every group scans.
        rows: dict[str, str] = {}
        shared = []
        for name in dict.fromkeys(s for s, _, _ in groups):
            rows[name] = self.rows_sql(SOURCES[name])
            if sum(1 for s, _, _ in groups if s == name) > 1:
                shared.append(f"rows_{name} AS MATERIALIZED (\n{rows[name]}\n),\n")
                rows[name] = f"SELECT * FROM rows_{name}"
        parts = [self.group_sql(SOURCES[s], p, inds, rows[s]) for s, p, inds in groups]
        dims = [("unit_id" if d == "unit" else d) for d in self.by]
        meta = ", ".join(
            f"('{i.id}', '{i.unit}', {i.decimals}, '{i.direction}', '{i.measure.aggregation}')"
            for i in self.indicators
        )
        unit_name = ""
        unit_join = ""
        if "unit" in self.by:
            name_col = "name_vi" if self.lang == "vi" else "name_en"
            unit_name = f", u.{name_col} AS unit_name, u.level AS unit_level"
            unit_join = "LEFT JOIN org_unit u ON u.id = r.unit_id"
        ind_name, name_cols, name_joins = self._names(dims) if self.names else ("", "", "")
        cmp_cols = cmp_joins = ""
        if compare:
            key = " AND ".join(
                ["p.indicator = r.indicator", *[f"p.{d} IS NOT DISTINCT FROM r.{d}" for d in dims]]
            )
            prev_step = _STEP[self.grain]
            cmp_cols = (
                ", p.value AS previous_value, y.value AS year_ago_value, "
                "r.value - p.value AS change_previous, r.value - y.value AS change_year_ago"
            )
            cmp_joins = (
                f"LEFT JOIN res p ON {key} AND p.period_key = CAST(r.period_key - INTERVAL {prev_step} AS DATE)\n"
                f"LEFT JOIN res y ON {key.replace('p.', 'y.')} "
                "AND y.period_key = CAST(r.period_key - INTERVAL 1 YEAR AS DATE)"
            )
        dim_select = "".join(f", r.{d}" for d in dims)
        order = ", ".join(["m.ord", *[f"r.{d}" for d in dims], "r.period_key"])
        union = "\nUNION ALL\n".join(parts)
        key_dims = "".join(f", {d}" for d in dims)
        k_dims = "".join(f", k.{d}" for d in dims)
        match = "".join(f" AND raw.{d} IS NOT DISTINCT FROM k.{d}" for d in dims)
        return f"""WITH {self.spine()},
{"".join(shared)}raw AS (
{union}
),
meta(indicator, unit, decimals, direction, aggregation) AS (VALUES {meta}),
ordered AS (SELECT *, row_number() OVER () AS ord FROM meta),
-- Empty periods inside an indicator's observed range get a row: counts and sums 0, ratios 0/0 (no value).
span AS (SELECT indicator, min(period_key) AS first_key, max(period_key) AS last_key FROM raw GROUP BY ALL),
keys AS (SELECT DISTINCT indicator{key_dims} FROM raw),
res AS (
    SELECT k.indicator, sp.period_key, sp.period, sp.period_start, sp.period_end_excl{k_dims},
           CASE WHEN raw.indicator IS NOT NULL THEN raw.numerator
                WHEN m.aggregation IN ('ratio', 'count', 'sum') THEN 0 END AS numerator,
           CASE WHEN raw.indicator IS NOT NULL THEN raw.denominator
                WHEN m.aggregation <> 'count' AND m.aggregation <> 'sum' THEN 0 END AS denominator,
           CASE WHEN raw.indicator IS NOT NULL THEN raw.value
                WHEN m.aggregation IN ('count', 'sum') THEN 0 END AS value
    FROM keys k
    JOIN span ON span.indicator = k.indicator
    JOIN spine sp ON sp.period_key BETWEEN span.first_key AND span.last_key
    JOIN meta m ON m.indicator = k.indicator
    LEFT JOIN raw ON raw.indicator = k.indicator AND raw.period_key = sp.period_key{match}
)
SELECT r.indicator{ind_name}, r.period, r.period_start, CAST(r.period_end_excl - 1 AS DATE) AS period_end{dim_select}{name_cols}{unit_name},
       r.numerator, r.denominator, r.value, m.unit, m.decimals, m.direction,
       $unit_version AS unit_version{cmp_cols}
FROM res r
JOIN ordered m ON m.indicator = r.indicator
{unit_join}
{name_joins}
{cmp_joins}
WHERE r.period_key >= CAST(date_trunc('{_TRUNC[self.grain]}', CAST($start AS DATE)) AS DATE)
ORDER BY {order}"""


def _data_end(con: duckdb.DuckDBPyConnection) -> dt.date:
    """Where every request's periods end: the last day of the clock source's data (sources.CLOCK_SOURCE)."""
    return data_extent(con, CLOCK_SOURCE).last or dt.date.today()


def build_query(
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
    data_end: dt.date,
    catalog: Catalog | None = None,
) -> Query:
    """Validate a request and return its SQL with bound parameters (no database work)."""
    catalog = catalog or load_catalog()
    chosen = catalog.select(list(indicators) if indicators else None)
    by = tuple(dict.fromkeys(by))
    for dim in by:
        if dim not in ALL_DIMENSIONS:
            raise UnknownNameError.from_choices("dimension", dim, ALL_DIMENSIONS)
    if grain not in GRAINS:
        raise UnknownNameError.from_choices("grain", grain, GRAINS)
    if unit_version not in UNIT_VERSIONS:
        raise UnknownNameError.from_choices("unit version", unit_version, UNIT_VERSIONS)
    if lang not in ("vi", "en"):
        raise UnknownNameError.from_choices("language", lang, ("vi", "en"))
    levels = (level,) if isinstance(level, str) else tuple(level or ())
    for lv in levels:
        if lv not in LEVELS:
            raise UnknownNameError.from_choices("unit level", lv, LEVELS)
    if "unit" in by and not levels:
        levels = SPLIT_LEVELS
    unsupported = [i.id for i in chosen if not set(by) <= set(SOURCES[i.source].dimensions)]
    if unsupported:
        raise ComputeError(
            f"these indicators cannot be split by {', '.join(by)}: {', '.join(unsupported)}",
            "drop them from the request, or use catalog.supporting(by) to pick the ones that can",
        )
    if unit is not None and any(SOURCES[i.source].unit_column is None for i in chosen):
        province_only = [i.id for i in chosen if SOURCES[i.source].unit_column is None]
        raise ComputeError(
            f"these indicators are province-wide and have no unit scope: {', '.join(province_only)}",
            "compute them without --unit",
        )
    end_date = _as_date(end, "end", month_end=True) or data_end
    end_date = min(end_date, data_end)
    start_date = _as_date(start, "start") or dt.date(end_date.year, 1, 1)
    if start_date > end_date:
        raise ComputeError(f"start {start_date} is after end {end_date}", "swap --from and --to")
    spine_start = dt.date(start_date.year - 1, start_date.month, 1) if compare else start_date
    builder = _Builder(chosen, by, levels, grain, unit_version, unit is not None, lang, names)
    params: dict[str, object] = {
        "start": start_date,
        "spine_start": spine_start,
        "spine_end_excl": end_date + dt.timedelta(days=1),
        # periods end at the requested end (an as-of date) or where the data ends, whichever is first
        "data_end_excl": end_date + dt.timedelta(days=1),
        "unit_version": unit_version,
        "indicator_names": [i.name_in(lang) for i in chosen],
    }
    if "unit" in by:
        params["levels"] = list(levels)
    if unit is not None:
        params["scope"] = unit
    sql = builder.sql(compare)
    return Query(sql, {k: v for k, v in params.items() if f"${k}" in sql})


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


class Request(TypedDict, total=False):
    """The options of one `compute()` / `explain()` call, passed on to `build_query` as they are."""

    by: Sequence[str]
    level: str | Sequence[str] | None
    grain: str
    start: str | dt.date | None
    end: str | dt.date | None
    unit: str | None
    unit_version: str
    compare: bool
    lang: str
    names: bool
    catalog: Catalog | None


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
        unit = kwargs.get("unit")
        if unit is not None:
            from egov_metrics.orgunits import resolve_unit

            unit_id = resolve_unit(con, str(unit))
            _check_scope(con, unit_id, str(kwargs.get("unit_version", "current")))
            kwargs = {**kwargs, "unit": unit_id}
        if not execute:
            return build_query(indicators, data_end=_data_end(con), **kwargs), None
        queries: list[Query] = []

        def produce() -> pl.DataFrame:
            queries.append(build_query(indicators, data_end=_data_end(con), **kwargs))
            return con.sql(queries[0].sql, params=queries[0].params).pl()

        # compute once, render many: with EGOV_COMPUTE_CACHE set, the same request on the same data is
        # answered from a file (egov_metrics/cache.py); otherwise produce() runs as always
        frame = cache.cached(con, list(indicators) if indicators else None, dict(kwargs), produce)
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
    """The SQL and bound parameters `compute` runs for the same arguments (nothing is computed)."""
    query, _ = _run(db, indicators, kwargs, execute=False)
    return query
