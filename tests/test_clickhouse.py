"""The engine's SQL on ClickHouse (chDB): every rewrite, then the whole catalog against the golden oracle.

* Each rewrite is checked by running a small DuckDB statement in DuckDB and its translation in chDB: the two
  answers must be the same rows (an independent execution, not the translator's own output).
* `test_indicator_on_clickhouse_matches_golden_answer`: every catalog indicator and case of tests/test_golden.py
  computed on ClickHouse equals the independent oracle (tests/golden/oracle.py), as the DuckDB engine must.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from fixtures.tiny import build_tiny_db
from golden import oracle
from test_golden import CASES, PARAMS, UNIT_IDS, YEAR_2025, _cells, _differences, _golden

from egov_metrics.clickhouse import (
    ClickHouseError,
    ClickHouseSession,
    compare_answers,
    compute_clickhouse,
    inline_parameters,
    to_clickhouse,
)
from egov_metrics.engine import compute
from egov_metrics.schema import connect

# embedded ClickHouse (chDB) starts slowly; the whole catalog against the golden oracle
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[duckdb.DuckDBPyConnection, ClickHouseSession]]:
    folder = tmp_path_factory.mktemp("clickhouse")
    path = build_tiny_db(folder / "tiny.duckdb")
    con = connect(path, read_only=True)
    session = ClickHouseSession.from_duckdb(con, folder / "ch")
    yield con, session
    session.close()
    con.close()


def _both(session: ClickHouseSession, sql: str, params: dict[str, object] | None = None) -> tuple[list, list]:
    """Rows of `sql` run by DuckDB and of its translation run by ClickHouse, sorted, as Python values."""
    duck = duckdb.sql(inline_parameters(sql, params or {})).fetchall()
    ch = session.query(to_clickhouse(sql, params)).rows()
    norm = lambda rows: sorted(tuple(_plain(v) for v in r) for r in rows)  # noqa: E731
    return norm(duck), norm(ch)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, Decimal | float):
        number = round(float(value), 9)
        return int(number) if number == int(number) else number
    return value


# -- one rewrite at a time --------------------------------------------------------------------------------


REWRITE_CASES = {
    "monthly range, exclusive end": (
        "SELECT CAST(k AS DATE) AS d FROM range(CAST($a AS TIMESTAMP), CAST($b AS TIMESTAMP), "
        "INTERVAL 1 MONTH) AS r(k)",
        {"a": dt.date(2024, 11, 1), "b": dt.date(2025, 3, 15)},
    ),
    "monthly range ending on a month start": (
        "SELECT CAST(k AS DATE) AS d FROM range(CAST($a AS TIMESTAMP), CAST($b AS TIMESTAMP), "
        "INTERVAL 1 MONTH) AS r(k)",
        {"a": dt.date(2024, 11, 1), "b": dt.date(2025, 3, 1)},
    ),
    "quarterly range": (
        "SELECT CAST(k AS DATE) AS d FROM range(CAST($a AS TIMESTAMP), CAST($b AS TIMESTAMP), "
        "INTERVAL 3 MONTH) AS r(k)",
        {"a": dt.date(2023, 1, 1), "b": dt.date(2024, 12, 31)},
    ),
    "inclusive monthly series, unnested per row": (
        "SELECT id, CAST(unnest(generate_series(lo, hi, INTERVAL 1 MONTH)) AS DATE) AS k FROM "
        "(SELECT 1 AS id, DATE '2025-01-01' AS lo, DATE '2025-04-01' AS hi UNION ALL "
        "SELECT 2, DATE '2025-06-01', DATE '2025-06-01' UNION ALL "
        "SELECT 3, DATE '2025-06-01', DATE '2025-05-01')",
        {},
    ),
    "struct list unnested into columns": (
        "SELECT g, unnest([{'name': 'a', 'x': g * 1.0}, {'name': 'b', 'x': NULL}], recursive := true) "
        "FROM (SELECT 1 AS g UNION ALL SELECT 2)",
        {},
    ),
    "inclusive quantiles, NULL when nothing to rank": (
        "SELECT g, q[1] AS p50, q[2] AS p90 FROM (SELECT g, quantile_cont(CASE WHEN x > 0 THEN x END, [0.5, 0.9]) "
        "AS q FROM (SELECT 1 AS g, 1.0 AS x UNION ALL SELECT 1, 2.0 UNION ALL SELECT 1, 3.0 UNION ALL "
        "SELECT 1, 10.0 UNION ALL SELECT 2, -1.0) GROUP BY g)",
        {},
    ),
    "VALUES with column names in a CTE": (
        "WITH meta(name, decimals) AS (VALUES ('a', 2), ('b', 1)) SELECT name, decimals FROM meta",
        {},
    ),
    "join without an equality": (
        "SELECT a.x, b.y FROM (SELECT 1 AS x UNION ALL SELECT 5) a "
        "JOIN (SELECT 2 AS lo, 6 AS hi, 'in' AS y) b ON a.x BETWEEN b.lo AND b.hi",
        {},
    ),
    "left join keeps SQL NULLs": (
        "SELECT a.x, b.y FROM (SELECT 1 AS x UNION ALL SELECT 2) a LEFT JOIN (SELECT 1 AS x, 7 AS y) b "
        "ON b.x = a.x",
        {},
    ),
    "make_date": ("SELECT make_date(y, 1, 1) AS d FROM (SELECT 2025 AS y)", {}),
    "parameters inlined: dates, lists, quotes": (
        "SELECT $d AS d, list_contains($levels, 'commune') AS has, $name AS n",
        {"d": dt.date(2025, 2, 28), "levels": ["department", "commune"], "name": "O'Neil"},
    ),
    "qualified columns keep their plain names": (
        "SELECT t.x FROM (SELECT s.x FROM (SELECT 3 AS x) s) t",
        {},
    ),
}


@pytest.mark.parametrize("case", list(REWRITE_CASES))
def test_rewrite_gives_duckdbs_answer(case: str, tiny: tuple[Any, ClickHouseSession]) -> None:
    sql, params = REWRITE_CASES[case]
    duck, ch = _both(tiny[1], sql, params)
    assert duck, "the DuckDB statement returns rows (else the case tests nothing)"
    assert ch == duck


def test_quantiles_use_the_inclusive_definition(tiny: tuple[Any, ClickHouseSession]) -> None:
    """1, 2, 3, 10: inclusive p90 = 3 + 0.7 × 7 = 7.9 (ClickHouse's quantilesExact would say 10)."""
    text = to_clickhouse(
        "SELECT quantile_cont(x, [0.5, 0.9]) AS q FROM (SELECT unnest([1.0, 2.0, 3.0, 10.0]) AS x)"
    )
    assert "quantilesExactInclusive" in text
    assert tiny[1].query(text).item().to_list() == pytest.approx([2.5, 7.9])


def test_untranslatable_step_is_refused_with_a_hint() -> None:
    with pytest.raises(ClickHouseError, match="step") as info:
        to_clickhouse("SELECT k FROM range(DATE '2025-01-01', DATE '2025-02-01', INTERVAL 1 DAY) AS r(k)")
    assert "Hint:" in str(info.value)


def test_missing_parameter_is_named() -> None:
    with pytest.raises(ClickHouseError, match=r"\$end"):
        inline_parameters("SELECT $start, $end", {"start": dt.date(2025, 1, 1)})


# -- the whole catalog against the golden oracle ----------------------------------------------------------


@pytest.fixture(scope="module")
def clickhouse_answers(tiny: tuple[Any, ClickHouseSession]) -> dict[str, pl.DataFrame]:
    from test_golden import CATALOG

    out = {}
    for name, case in CASES.items():
        kwargs: dict[str, Any] = {}
        ids = CATALOG.ids
        if case.levels:
            kwargs = {"by": ["unit"], "level": list(case.levels), "unit_version": case.version}
            ids = UNIT_IDS
        out[name] = compute_clickhouse(
            ids, session=tiny[1], grain=case.grain, compare=False, **YEAR_2025, **kwargs
        )
    return out


@pytest.fixture(scope="module")
def golden_data(tiny: tuple[duckdb.DuckDBPyConnection, Any]) -> oracle.Data:
    return oracle.load(tiny[0])


@pytest.mark.parametrize(("indicator", "case_name"), PARAMS)
def test_indicator_on_clickhouse_matches_golden_answer(
    indicator: str, case_name: str, clickhouse_answers: dict[str, pl.DataFrame], golden_data: oracle.Data
) -> None:
    want = _golden(golden_data, indicator, CASES[case_name])
    problems = _differences(_cells(clickhouse_answers[case_name], indicator), want)
    assert not problems, (
        f"{indicator} [{case_name}] on ClickHouse differs from the golden answer:\n" + "\n".join(problems)
    )


def test_comparisons_agree_with_duckdb(tiny: tuple[duckdb.DuckDBPyConnection, ClickHouseSession]) -> None:
    """Previous-period and year-ago columns (compare=True) are the same on both engines, cell by cell."""
    con, session = tiny
    kwargs: dict[str, Any] = {
        "by": ["unit"],
        "level": ["department", "commune"],
        "grain": "quarter",
        **YEAR_2025,
    }
    ids = ["dossiers_on_time", "online_share", "processing_days_median"]
    duck = compute(ids, db=con, **kwargs)
    ch = compute_clickhouse(ids, session=session, **kwargs)
    agreement = compare_answers(duck, ch)
    assert agreement.same, str(agreement)
    assert any(c.startswith("previous_") for c in duck.columns)


def test_compare_answers_sees_a_difference(
    tiny: tuple[duckdb.DuckDBPyConnection, Any], tmp_path: Path
) -> None:
    """The differential check is not blind: one changed numerator is one differing cell."""
    duck = compute(["online_share"], db=tiny[0], grain="month", compare=False, **YEAR_2025)
    changed = duck.with_columns(
        pl.when(pl.col("period") == "2025-03").then(pl.col("numerator") + 1).otherwise(pl.col("numerator"))
    )
    agreement = compare_answers(duck, changed)
    assert not agreement.same
    assert agreement.differing == 1


def test_cli_prints_the_clickhouse_statement(tiny: tuple[Any, ClickHouseSession]) -> None:
    """`compute --show-sql --sql-dialect clickhouse` prints text that ClickHouse runs to the DuckDB answer."""
    from typer.testing import CliRunner

    from egov_metrics.cli import app

    con, session = tiny
    db = con.sql("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[
        0
    ][0]
    args = [
        "compute",
        "online_share",
        "--grain",
        "quarter",
        "--from",
        "2025-01",
        "--to",
        "2025-12",
        "--db",
        db,
    ]
    result = CliRunner().invoke(app, [*args, "--show-sql", "--sql-dialect", "clickhouse"])
    assert result.exit_code == 0, result.output
    statement = result.output.splitlines()[0]  # one line of SQL, then the DuckDB answer as a table
    ch = session.query(statement)
    duck = compute(["online_share"], db=con, grain="quarter", start="2025-01-01", end="2025-12-31")
    assert compare_answers(duck, ch).same
    bad = CliRunner().invoke(app, [*args, "--show-sql", "--sql-dialect", "oracle"])
    assert bad.exit_code != 0 and "clickhouse, duckdb" in bad.output
