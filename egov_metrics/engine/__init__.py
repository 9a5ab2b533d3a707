"""The indicator engine: any set of catalog indicators × dimensions × periods, computed in DuckDB in one query.

    compute(["dossiers_on_time", "online_submission"], by=["unit"], level="department",
            grain="month", start="2025-01-01", end="2025-12-31", unit="NT")

returns one long polars frame: indicator, period, period_start, period_end, the dimension columns,
numerator, denominator, value, unit, and (with `compare=True`) the value of the previous period and of
the same period a year earlier. Ratios are pooled (Σnumerator ÷ Σdenominator) at whatever level is asked:
the rows below are aggregated directly, never averaged. `explain()` returns the SQL and its parameters.

The SQL is built in named steps, one module each, and each step is a named CTE of the statement:
0. `request`: the caller's keywords validated into a `Shape` (what the SQL text depends on) and the bound
   parameters (dates, scope);
1. `spine`: the periods of the grain (month, quarter, year, ytd) over the requested range (plus one year
   before it when comparisons are asked), each with its end and the working-day index of its end;
2. `placement`: per source, the rows are scoped to a unit and everything below it and mapped to the requested
   level through the `org_unit_closure` view, in the "current" unit version (old units through the crosswalk
   to their successors) or the "historical" one; a source read by several groups is materialised once; per
   group of indicators (one source, placements that can share rows: `finished` with `open_at_end` and
   `finished_or_open`), the rows are placed in periods: by an event date (the truncated date) and/or as a
   stock open at the period's end (each open record expanded to its candidate periods, then equi-joined);
3. `aggregation`: one GROUP BY per group computes the distinct aggregates its indicators need (boolean
   expressions counted with `count_if`, the others summed; quantiles once per value list), one column each;
4. `assembly`: every dimension value seen × every period (a dense grid) with the groups' rows joined, each
   indicator's figures zero-filled where it has no records; then, in SQL, each indicator's range and the
   comparisons with earlier periods, one long row per indicator (`statement`, what `explain()` shows and
   ClickHouse runs). DuckDB runs the same CTEs with a wide final SELECT, one row per period × dimensions
   (`wide_statement`), and `assembly.reshape` makes the same long rows in polars from array positions
   (19× fewer rows to order and transfer for 19 indicators; the tests check that both give the same frame).
   The statements are built once per request shape (`api.build_query`).
Every user value is a bound parameter; identifiers come only from the validated catalog and registries.

This package was the module `egov_metrics.compute`; `egov_metrics.compute` is now only the function.
"""

from __future__ import annotations

from egov_metrics.engine.api import build_query, compute, explain
from egov_metrics.engine.assembly import Query
from egov_metrics.engine.request import GRAINS, LEVELS, UNIT_VERSIONS, ComputeError, Request, Shape

__all__ = [
    "GRAINS",
    "LEVELS",
    "UNIT_VERSIONS",
    "ComputeError",
    "Query",
    "Request",
    "Shape",
    "build_query",
    "compute",
    "explain",
]
