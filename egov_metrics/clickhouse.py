"""The engine's SQL on ClickHouse: the same catalog, transpiled from DuckDB SQL with explicit rewrites.

A national roll-up (hundreds of millions of dossiers a year) belongs on a cluster engine, not on anything
home-made. This module takes the engine's statement for a request (`build_query`: the SQL that gives `compute()`'s
answer, long rows included; DuckDB runs its wide form and reshapes it in polars, tested equal), inlines its
parameters, parses it with sqlglot and rewrites the constructs that ClickHouse spells differently or not at all:

==========================================  ==============================================================
DuckDB                                      ClickHouse
==========================================  ==============================================================
``range(a, b, INTERVAL 1 MONTH) AS r(k)``   ``(SELECT arrayJoin(arrayFilter(… addMonths(a, i) …)) AS k)``
``unnest(generate_series(lo, hi, 1 MONTH))`` ``arrayJoin(arrayMap(i -> addMonths(lo, i), range(n)))``
``unnest([{'a': x, …}], recursive := true)`` ``arrayJoin([tuple(x, …)]) AS _u``, then ``_u.1 AS a, …``
``quantile_cont(x, [p, q])``                ``quantilesExactInclusive(p, q)(x)`` with NaN → NULL (DuckDB's
                                            ``quantile_cont`` is the *inclusive* definition; ClickHouse's
                                            ``quantilesExact`` is not and gives other answers)
``WITH t(a, b) AS (VALUES …)``              ``WITH t AS (SELECT … AS a, … AS b UNION ALL …)``
``AS MATERIALIZED`` CTE                     a plain CTE
``JOIN … ON`` without an equality           ``CROSS JOIN`` + ``WHERE`` (inner joins only)
==========================================  ==============================================================

and runs with ``join_use_nulls = 1`` (a LEFT JOIN's missing side is NULL, as in SQL, not a type default).
Every rewrite has a unit test, and `bench/clickhouse.py` compares the two engines cell by cell on the demo
province: a transpilation is only trusted after that differential check.

Locally the SQL runs on chDB (embedded ClickHouse from PyPI, the optional ``scale`` extra); the same text
serves a ClickHouse server or cluster whose tables hold the columns listed in `TABLES`.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from egov_metrics.errors import EgovError

if TYPE_CHECKING:
    import duckdb
    import polars as pl


__all__ = [
    "TABLES",
    "Agreement",
    "ClickHouseError",
    "ClickHouseSession",
    "compare_answers",
    "compute_clickhouse",
    "inline_parameters",
    "to_clickhouse",
]

#: The tables (or views, materialised on export) that the engine's dossier indicators read, with the
#: sort key each gets in ClickHouse (MergeTree), chosen like DuckDB's own storage order.
TABLES: dict[str, str] = {
    "dossier": "(unit_id, received_at)",
    "procedure": "code",
    "calendar_day": "day",
    "org_unit": "id",
    "org_unit_closure": "(version, unit_id)",
    "unit_procedure": "(unit_id, procedure_code)",
    "feedback": "tuple()",
    "data_exchange": "tuple()",
    "e_office": "tuple()",
    "workforce": "tuple()",
    "adoption": "tuple()",
    "arch_component": "tuple()",
}

#: Settings every statement runs with: SQL NULL semantics for outer joins.
SETTINGS = {"join_use_nulls": 1}


class ClickHouseError(EgovError):
    """A statement the ClickHouse translation cannot handle, or a chDB failure."""


# -- parameters -----------------------------------------------------------------------------------------


def _literal(value: object) -> str:
    """A DuckDB SQL literal for a bound parameter value."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    raise ClickHouseError(
        f"cannot inline a parameter of type {type(value).__name__}: {value!r}",
        "extend clickhouse._literal with this type",
    )


def inline_parameters(sql: str, params: dict[str, object]) -> str:
    """Replace ``$name`` placeholders by literals (ClickHouse has no positional DuckDB parameters)."""

    def swap(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            raise ClickHouseError(f"the statement uses ${name} but no value was bound", "pass it in params")
        return _literal(params[name])

    return re.sub(r"\$([A-Za-z_][A-Za-z0-9_]*)\b", swap, sql)


# -- rewrites -------------------------------------------------------------------------------------------


_MONTHS_PER_UNIT = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}


def _months_between_array(start: Any, stop: Any, step: int, *, inclusive: bool) -> Any:
    """An array expression of dates from `start` every `step` months up to `stop` (inclusive or not)."""
    from sqlglot import exp, parse_one

    lo = f"toDate({start.sql('clickhouse')})"
    hi = f"toDate({stop.sql('clickhouse')})"
    steps = f"range(0, toUInt32(greatest(dateDiff('month', {lo}, {hi}) + 1, 0)), {step})"
    dates = f"arrayMap(i -> addMonths({lo}, i), {steps})"
    text = f"arrayFilter(x -> x {'<=' if inclusive else '<'} {hi}, {dates})"
    node = parse_one(text, read="clickhouse")
    assert isinstance(node, exp.Expression)
    return node


def _step_months(series: Any) -> int:
    """The series step in months (1 MONTH, 3 MONTH, 1 QUARTER, 1 YEAR …); refuse anything else."""
    from sqlglot import exp

    step = series.args.get("step")
    if isinstance(step, exp.Interval) and step.args.get("unit") is not None:
        unit = str(step.args["unit"].this).upper().rstrip("S")
        count = str(step.this.this)
        if unit in _MONTHS_PER_UNIT and count.isdigit():
            return int(count) * _MONTHS_PER_UNIT[unit]
    raise ClickHouseError(
        f"cannot translate a series with step {step.sql('duckdb') if step is not None else '(none)'}",
        "only month, quarter and year steps have a ClickHouse rewrite; add one in clickhouse.py",
    )


def rewrite_series_tables(tree: Any) -> Any:
    """``FROM range(a, b, INTERVAL 1 MONTH) AS r(k)`` → ``FROM (SELECT arrayJoin(<months>) AS k) AS r``."""
    from sqlglot import exp

    for table in list(tree.find_all(exp.Table)):
        series = table.this
        if not isinstance(series, exp.GenerateSeries):
            continue
        alias = table.args.get("alias")
        column = alias.columns[0].name if alias is not None and alias.columns else "generate_series"
        months = _months_between_array(
            series.args["start"],
            series.args["end"],
            _step_months(series),
            inclusive=not series.args.get("is_end_exclusive"),
        )
        sub = exp.select(exp.alias_(exp.func("arrayJoin", months), column)).subquery(
            alias.name if alias is not None else "_series"
        )
        table.replace(sub)
    return tree


def rewrite_series_unnest(tree: Any) -> Any:
    """``unnest(generate_series(lo, hi, INTERVAL 1 MONTH))`` → ``arrayJoin(<months from lo to hi>)``."""
    from sqlglot import exp

    for node in list(tree.find_all(exp.Explode)):
        series = node.this
        if not isinstance(series, exp.GenerateSeries):
            continue
        months = _months_between_array(
            series.args["start"],
            series.args["end"],
            _step_months(series),
            inclusive=not series.args.get("is_end_exclusive"),
        )
        node.replace(exp.func("arrayJoin", months))
    return tree


def rewrite_struct_unnest(tree: Any) -> Any:
    """``unnest([{'a': x, 'b': y}, …], recursive := true)`` in a select list → an ``ARRAY JOIN`` of
    positional tuples and one column per struct field (ClickHouse does not expand tuples into columns)."""
    from sqlglot import exp

    for select in list(tree.find_all(exp.Select)):
        new: list[Any] = []
        arrays: list[Any] = []
        for projection in select.expressions:
            array = projection.this if isinstance(projection, exp.Explode) else None
            if not isinstance(array, exp.Array) or not all(
                isinstance(e, exp.Struct) for e in array.expressions
            ):
                new.append(projection)
                continue
            structs = array.expressions
            names = [p.this.name for p in structs[0].expressions]
            for struct in structs:
                if [p.this.name for p in struct.expressions] != names:
                    raise ClickHouseError(
                        "structs in one unnest must have the same fields in the same order",
                        "make the engine emit the same field list for every indicator",
                    )
            alias = f"_u{len(arrays)}"
            tuples = [exp.Tuple(expressions=[p.expression for p in s.expressions]) for s in structs]
            arrays.append(exp.alias_(exp.Array(expressions=tuples), alias))
            for position, name in enumerate(names, start=1):
                new.append(
                    exp.alias_(
                        exp.func("tupleElement", exp.column(alias), exp.Literal.number(position)), name
                    )
                )
        if arrays:
            select.set("expressions", new)
            for array_alias in arrays:
                select.append("joins", exp.Join(this=array_alias, kind="ARRAY"))
    return tree


def rewrite_projection_names(tree: Any) -> Any:
    """``SELECT t.col`` is named ``col`` in DuckDB but ``t.col`` in ClickHouse: alias it explicitly."""
    from sqlglot import exp

    for select in list(tree.find_all(exp.Select)):
        projections = []
        for projection in select.expressions:
            if (
                isinstance(projection, exp.Column)
                and projection.table
                and not isinstance(projection.this, exp.Star)
            ):
                projection = exp.alias_(projection, projection.name)
            projections.append(projection)
        select.set("expressions", projections)
    return tree


def rewrite_quantiles(tree: Any) -> Any:
    """``quantile_cont(x, [p, …])`` → ``quantilesExactInclusive(p, …)(x)``, NaN (no values) → NULL."""
    from sqlglot import exp, parse_one

    for node in list(tree.find_all(exp.PercentileCont)):
        levels = node.expression
        if isinstance(levels, exp.Array):
            params = levels.expressions
            many = True
        else:
            params = [levels]
            many = False
        agg = exp.ParameterizedAgg(
            this="quantilesExactInclusive", expressions=[p.copy() for p in params], params=[node.this.copy()]
        )
        text = "arrayMap(v -> if(isNaN(v), NULL, v), _quantiles_)"
        if not many:
            text = f"({text})[1]"
        wrapped = parse_one(text, read="clickhouse")
        placeholder = next(c for c in wrapped.find_all(exp.Column) if c.name == "_quantiles_")
        placeholder.replace(agg)
        node.replace(wrapped)
    return tree


def rewrite_values_ctes(tree: Any) -> Any:
    """``WITH t(a, b) AS (VALUES (…), …)`` → ``WITH t AS (SELECT … AS a, … AS b UNION ALL …)``."""
    from sqlglot import exp

    for cte in list(tree.find_all(exp.CTE)):
        alias = cte.args.get("alias")
        columns = [c.name for c in alias.columns] if alias is not None and alias.columns else []
        values = cte.this.find(exp.Values)
        if not columns or values is None:
            continue
        selects = [
            exp.select(*(exp.alias_(v.copy(), c) for v, c in zip(row.expressions, columns, strict=True)))
            for row in values.expressions
        ]
        union: exp.Expression = selects[0]
        for s in selects[1:]:
            union = exp.union(union, s, distinct=False)
        cte.set("this", union)
        alias.set("columns", None)
    return tree


def rewrite_make_date(tree: Any) -> Any:
    """``make_date(y, m, d)`` → ``makeDate(y, m, d)`` (sqlglot has no ClickHouse spelling for it)."""
    from sqlglot import exp

    for node in list(tree.find_all(exp.DateFromParts)):
        parts = [node.args.get(k) for k in ("year", "month", "day")]
        node.replace(exp.Anonymous(this="makeDate", expressions=[p.copy() for p in parts if p is not None]))
    return tree


def rewrite_materialized(tree: Any) -> Any:
    """DuckDB's ``AS MATERIALIZED`` hint has no ClickHouse spelling: drop it."""
    from sqlglot import exp

    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", None)
    return tree


def _has_equality_between(condition: Any, left: set[str], right: str) -> bool:
    from sqlglot import exp

    for eq in condition.find_all(exp.EQ):
        tables = {c.table for c in eq.find_all(exp.Column)}
        if right in tables and tables & left:
            return True
    return False


def rewrite_theta_joins(tree: Any) -> Any:
    """An inner ``JOIN … ON`` with no equality between the two sides → ``CROSS JOIN`` and a ``WHERE``."""
    from sqlglot import exp

    for select in list(tree.find_all(exp.Select)):
        joins = select.args.get("joins") or []
        seen: set[str] = set()
        source = select.args.get("from_") or select.args.get("from")
        if source is not None:
            seen.add(source.this.alias_or_name)
        for join in joins:
            right = join.this.alias_or_name
            on = join.args.get("on")
            inner = not join.side and (join.kind or "").upper() in ("", "INNER")
            if on is not None and inner and not _has_equality_between(on, seen, right):
                join.set("on", None)
                join.set("kind", "CROSS")
                select.where(on.copy(), append=True, copy=False)
            seen.add(right)
    return tree


REWRITES = (
    rewrite_materialized,
    rewrite_make_date,
    rewrite_values_ctes,
    rewrite_series_tables,
    rewrite_series_unnest,
    rewrite_struct_unnest,
    rewrite_quantiles,
    rewrite_theta_joins,
    rewrite_projection_names,
)


def to_clickhouse(sql: str, params: dict[str, object] | None = None) -> str:
    """The ClickHouse text of one DuckDB statement of the engine (parameters inlined)."""
    import sqlglot

    text = inline_parameters(sql, params or {})
    tree = sqlglot.parse_one(text, read="duckdb")
    for rewrite in REWRITES:
        tree = rewrite(tree)
    return tree.sql("clickhouse")


# -- running on chDB ------------------------------------------------------------------------------------


@dataclass
class ClickHouseSession:
    """An embedded ClickHouse (chDB) session holding the engine's tables, exported from a DuckDB file."""

    session: Any
    folder: Path
    data_end: dt.date

    @classmethod
    def from_duckdb(
        cls, con: duckdb.DuckDBPyConnection, folder: str | Path | None = None
    ) -> ClickHouseSession:
        """Export `TABLES` to Parquet and load them into a new chDB session (MergeTree tables)."""
        try:
            from chdb import session as chsession
        except ImportError as exc:  # pragma: no cover - depends on the optional extra
            raise ClickHouseError(
                "chDB is not installed", "install the scale extra: pip install -e '.[scale]'"
            ) from exc
        from egov_metrics.engine.api import _data_end

        base = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="egov-ch-"))
        base.mkdir(parents=True, exist_ok=True)
        sess = chsession.Session(str(base / "chdb"))
        for table, key in TABLES.items():
            path = base / f"{table}.parquet"
            con.sql(f"COPY (SELECT * FROM {table}) TO '{path}' (FORMAT parquet)")
            sess.query(f"DROP TABLE IF EXISTS {table}")
            sess.query(
                f"CREATE TABLE {table} ENGINE = MergeTree ORDER BY {key} "
                f"SETTINGS allow_nullable_key = 1 AS SELECT * FROM file('{path}', Parquet)"
            )
        return cls(sess, base, _data_end(con))

    @classmethod
    def attach(cls, folder: str | Path, con: duckdb.DuckDBPyConnection) -> ClickHouseSession:
        """Reopen the tables that `from_duckdb` loaded into `folder` earlier (nothing is exported again)."""
        from chdb import session as chsession

        from egov_metrics.engine.api import _data_end

        base = Path(folder)
        if not (base / "chdb").is_dir():
            raise ClickHouseError(
                f"no chDB tables in {base}", "load them first with ClickHouseSession.from_duckdb"
            )
        return cls(chsession.Session(str(base / "chdb")), base, _data_end(con))

    def query(self, sql: str) -> pl.DataFrame:
        """Run ClickHouse SQL; the answer as polars (through Arrow)."""
        import polars as pl

        settings = " ".join(f"SET {k} = {v};" for k, v in SETTINGS.items())
        try:
            for statement in settings.split(";"):
                if statement.strip():
                    self.session.query(statement)
            result = self.session.query(sql, "ArrowTable")
        except Exception as exc:
            raise ClickHouseError(
                f"ClickHouse refused the statement: {str(exc).splitlines()[0][:300]}",
                "run to_clickhouse(...) and try the text in clickhouse-local to see the full message",
            ) from exc
        frame = pl.from_arrow(result)
        assert isinstance(frame, pl.DataFrame)
        return frame

    def close(self) -> None:
        self.session.close()


def compute_clickhouse(
    indicators: Sequence[str] | None,
    *,
    session: ClickHouseSession,
    **kwargs: Any,
) -> pl.DataFrame:
    """`compute()` on ClickHouse: the same request, the same catalog, the transpiled statement."""
    from egov_metrics.engine import build_query

    query = build_query(indicators, data_end=session.data_end, **kwargs)
    return session.query(to_clickhouse(query.sql, query.params))


@dataclass(frozen=True)
class Agreement:
    """How two answers to the same request compare, cell by cell."""

    cells: int  # rows on either side (outer join on the key columns)
    only_left: int
    only_right: int
    differing: int  # common rows where numerator, denominator or value differ (NULL vs value counts)
    max_abs_diff: float

    @property
    def same(self) -> bool:
        return self.cells > 0 and not (self.only_left or self.only_right or self.differing)

    def __str__(self) -> str:
        verdict = "same answer" if self.same else "DIFFERENT ANSWER"
        return (
            f"{verdict}: {self.cells:,} cells, {self.differing} differing (max abs diff "
            f"{self.max_abs_diff:.3g}), {self.only_left} only in the first, {self.only_right} only in the second"
        )


def compare_answers(left: pl.DataFrame, right: pl.DataFrame, *, tolerance: float = 1e-9) -> Agreement:
    """Compare two `compute`-shaped frames on (indicator, period, dimensions…): numerator, denominator, value."""
    import polars as pl

    values = ("numerator", "denominator", "value")
    skip = {*values, "period_start", "period_end", "unit", "decimals", "direction", "unit_version"}
    keys = [c for c in left.columns if c not in skip and not c.endswith("_name") and c != "unit_level"]
    keys = [c for c in keys if c in right.columns and not c.startswith(("previous_", "year_ago_", "change"))]
    extra = [c for c in left.columns if c.startswith(("previous_", "year_ago_")) and c in right.columns]
    cols = [*values, *extra]

    def prepared(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select(*keys, *(pl.col(c).cast(pl.Float64).fill_nan(None).alias(c) for c in cols))

    joined = prepared(left).join(
        prepared(right), on=keys, how="full", suffix="_r", coalesce=True, nulls_equal=True
    )
    only_left = joined.filter(
        pl.all_horizontal(pl.col(f"{c}_r").is_null() for c in values)
        & pl.any_horizontal(pl.col(c).is_not_null() for c in values)
    ).height
    only_right = joined.filter(
        pl.all_horizontal(pl.col(c).is_null() for c in values)
        & pl.any_horizontal(pl.col(f"{c}_r").is_not_null() for c in values)
    ).height
    mismatch = pl.any_horizontal(
        (pl.col(c).is_null() != pl.col(f"{c}_r").is_null())
        | ((pl.col(c) - pl.col(f"{c}_r")).abs() > tolerance).fill_null(False)
        for c in cols
    )
    differing = joined.filter(mismatch).height - only_left - only_right
    worst = joined.select(pl.max_horizontal((pl.col(c) - pl.col(f"{c}_r")).abs().max() for c in cols)).item()
    return Agreement(joined.height, only_left, only_right, max(differing, 0), float(worst or 0.0))
