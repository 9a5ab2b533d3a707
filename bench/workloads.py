"""The benchmark's workloads: the engine, one hand-written DuckDB query and pandas, on the same question.

The question (the "core" KPIs by unit × month over the whole demo, current unit version, the units of the
levels department, district and commune):

* `dossiers_on_time`: dossiers finished in the month early/on time plus those still open within their
  deadline at the month's end, over dossiers finished in the month plus those open at its end (withdrawn
  ones excluded; more than one supplement request = late; deadline = the due date's working-day index, or
  the received day's plus the statutory days, moved by the supplement working days);
* `online_share`, `data_reuse`, `dossiers_digitized`: shares of the dossiers received in the month;
* `processing_days_median`, `processing_days_p90`: exact quantiles (`quantile_cont`) of the working days
  from receipt to finish minus supplement days, of the finished/returned dossiers finished in the month.

`handwritten_sql()` and `pandas_core()` were written from that definition (sources.py and the YAML files),
not from the engine's SQL; `compare()` proves that they give the engine's numbers before anything is timed.
Every workload takes a database path and returns a frame; `WORKLOADS` names them for bench/run.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import polars as pl

CORE: tuple[str, ...] = (
    "dossiers_on_time",
    "online_share",
    "processing_days_median",
    "processing_days_p90",
    "data_reuse",
    "dossiers_digitized",
)
LEVELS: tuple[str, ...] = ("department", "district", "commune")
START = "2021-01-01"  # the demo's first month: "the full range"
THREADS = 2

#: The interactive call: one indicator, one department, the last 12 months (compare=True, the default).
INTERACTIVE_UNIT = "STP"
INTERACTIVE_MONTHS = 12


def _connect(db: str | Path) -> duckdb.DuckDBPyConnection:
    """Read-only, with the engine's own `connect()` settings on this machine: threads, and the memory limit
    and temporary directory when EGOV_MEMORY_LIMIT / EGOV_TEMP_DIR are set."""
    from egov_metrics.schema.connection import _config

    return duckdb.connect(str(db), read_only=True, config=_config())


# -- (1) and (2): the engine -----------------------------------------------------------------------------


def engine_core(db: str | Path) -> pl.DataFrame:
    from egov_metrics.engine import compute

    return compute(
        list(CORE), by=["unit"], level=list(LEVELS), grain="month", start=START, compare=False, db=db
    )


def unit_indicators() -> list[str]:
    """Every catalog indicator that can be split by unit (the full-catalog workload)."""
    from egov_metrics.catalog import load_catalog

    return [i.id for i in load_catalog().supporting(["unit"])]


def engine_full(db: str | Path) -> pl.DataFrame:
    from egov_metrics.engine import compute

    return compute(
        unit_indicators(), by=["unit"], level=list(LEVELS), grain="month", start=START, compare=False, db=db
    )


# -- (3): one hand-written DuckDB query --------------------------------------------------------------------

HANDWRITTEN_SQL = """
WITH
-- months from the start to the last day with data; the last one ends there
bounds AS (
    SELECT CAST(greatest(max(CAST(received_at AS DATE)), max(CAST(finished_at AS DATE))) + 1 AS DATE) AS end_excl
    FROM dossier
),
months AS (
    SELECT CAST(r.k AS DATE) AS month, CAST(least(r.k + INTERVAL 1 MONTH, b.end_excl) AS DATE) AS end_excl
    FROM bounds b, range(CAST($start AS TIMESTAMP), CAST(b.end_excl AS TIMESTAMP), INTERVAL 1 MONTH) AS r(k)
),
month_ends AS (
    SELECT m.month, c.wd_index AS end_idx FROM months m JOIN calendar_day c ON c.day = m.end_excl - 1
),
units AS (
    SELECT unit_id, ancestor_id FROM org_unit_closure
    WHERE version = 'current' AND list_contains($levels, ancestor_level)
),
-- one row per dossier and reporting unit, with its working-day positions
d AS MATERIALIZED (
    SELECT u.ancestor_id AS unit_id, d.received_at, d.finished_at, d.status, d.channel, d.reused_data,
           d.digitized, d.supplement_count > 1 AS late_by_supplement,
           CAST(date_trunc('month', d.received_at) AS DATE) AS received_month,
           CAST(date_trunc('month', d.finished_at) AS DATE) AS finished_month,
           cf.wd_index AS finished_idx,
           greatest(cf.wd_index - cr.wd_index - d.supplement_days, 0) AS elapsed_wd,
           coalesce(cd.wd_index, cr.wd_index + p.statutory_days) + d.supplement_days AS deadline_idx
    FROM dossier d
    JOIN procedure p ON p.code = d.procedure_code
    JOIN calendar_day cr ON cr.day = CAST(d.received_at AS DATE)
    LEFT JOIN calendar_day cf ON cf.day = CAST(d.finished_at AS DATE)
    LEFT JOIN calendar_day cd ON cd.day = CAST(d.due_at AS DATE)
    JOIN units u ON u.unit_id = d.unit_id
),
received AS (
    SELECT unit_id, received_month AS month, count(*) AS received, count_if(channel = 'online') AS online,
           count_if(reused_data) AS reused, count_if(digitized) AS digitized
    FROM d GROUP BY ALL
),
finished AS (
    SELECT unit_id, finished_month AS month,
           count_if(status <> 'withdrawn') AS finished_judged,
           count_if(status <> 'withdrawn' AND NOT late_by_supplement AND finished_idx <= deadline_idx)
               AS finished_on_time,
           count(*) FILTER (WHERE status IN ('finished', 'returned')) AS done,
           quantile_cont(elapsed_wd, [0.5, 0.9]) FILTER (WHERE status IN ('finished', 'returned')) AS q
    FROM d WHERE finished_at IS NOT NULL GROUP BY ALL
),
-- open at a month's end: the months from the received one up to (not including) the finished one;
-- on time while the month's last working-day index is within the deadline: a prefix of those months,
-- cut at the first month whose end index passes the deadline. A running sum of +1/-1 events per unit.
spans AS (
    SELECT d.unit_id, d.received_month AS first_month, d.finished_month AS stop_month,
           coalesce(NOT d.late_by_supplement AND d.deadline_idx IS NOT NULL, FALSE) AS judged_on_time,
           -- NULL: on time to the last month (least/greatest skip NULLs)
           CASE WHEN d.finished_month IS NOT NULL OR late.month IS NOT NULL
                THEN greatest(d.received_month, least(d.finished_month, late.month)) END AS on_time_stop
    FROM d
    ASOF LEFT JOIN month_ends late ON d.deadline_idx < late.end_idx
    WHERE d.status <> 'withdrawn' AND (d.finished_month IS NULL OR d.finished_month > d.received_month)
),
events AS (
    SELECT unit_id, month, sum(open_delta) AS open_delta, sum(on_time_delta) AS on_time_delta
    FROM (
        SELECT unit_id, first_month AS month, 1 AS open_delta, CAST(judged_on_time AS INTEGER) AS on_time_delta
        FROM spans
        UNION ALL
        SELECT unit_id, stop_month, -1, 0 FROM spans WHERE stop_month IS NOT NULL
        UNION ALL
        SELECT unit_id, on_time_stop, 0, -1 FROM spans WHERE judged_on_time AND on_time_stop IS NOT NULL
    ) GROUP BY ALL
),
open_at_end AS (
    SELECT u.unit_id, m.month,
           sum(coalesce(e.open_delta, 0)) OVER w AS open_judged,
           sum(coalesce(e.on_time_delta, 0)) OVER w AS open_on_time
    FROM (SELECT DISTINCT unit_id FROM events) u
    CROSS JOIN months m
    LEFT JOIN events e ON e.unit_id = u.unit_id AND e.month = m.month
    WINDOW w AS (PARTITION BY u.unit_id ORDER BY m.month)
)
SELECT unit_id, strftime(month, '%Y-%m') AS period,
       coalesce(f.finished_on_time, 0) + coalesce(o.open_on_time, 0) AS on_time_num,
       coalesce(f.finished_judged, 0) + coalesce(o.open_judged, 0) AS on_time_den,
       r.online AS online_num, r.reused AS reuse_num, r.digitized AS digitized_num, r.received,
       f.done, f.q[1] AS median_days, f.q[2] AS p90_days
FROM received r
FULL JOIN finished f USING (unit_id, month)
FULL JOIN open_at_end o USING (unit_id, month)
SEMI JOIN months USING (month)
ORDER BY unit_id, month
"""


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> pl.DataFrame:
    """The hand-written queries are read as the engine reads its statements (`engine.api._fetch`: bound once by
    `con.execute`, read as Arrow), so that neither side pays `con.sql(...).pl()`'s second bind."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)
        con.execute(sql, params)
        frame = pl.from_arrow(con.to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def handwritten_sql() -> tuple[str, dict[str, object]]:
    return HANDWRITTEN_SQL, {"start": dt.date.fromisoformat(START), "levels": list(LEVELS)}


def handwritten(db: str | Path) -> pl.DataFrame:
    sql, params = handwritten_sql()
    con = _connect(db)
    try:
        return _fetch(con, sql, params)
    finally:
        con.close()


# -- (3b): one hand-written DuckDB query for a wide set: every dossier indicator by unit (19 of the 34) -----------

#: The dossier indicators that can be split by unit: the wide set (`engine_wide` and `handwritten_wide`).
WIDE: tuple[str, ...] = (
    "dossiers_received",
    "data_reuse",
    "dossiers_digitized",
    "dossiers_synced_on_time",
    "fully_online_dossiers",
    "linked_citizen_store",
    "online_share",
    "online_submission",
    "paid_online",
    "population_data_use",
    "dossiers_finished",
    "e_results",
    "processing_days_mean",
    "processing_days_median",
    "processing_days_p90",
    "dossiers_on_time",
    "dossier_satisfaction",
    "open_backlog",
    "overdue_backlog",
)

# Written from the YAML definitions and sources.py like HANDWRITTEN_SQL (whose open-dossier method it extends):
# received-month shares over the dossiers received (within each indicator's own base: eligible, digitized,
# online level not 'none', with a financial obligation); finished-month counts, e-results, mean and exact
# quantiles of the working days of finished/returned dossiers; on time and satisfaction (on time minus
# complaint or dissatisfied) over the dossiers finished in the month plus those open at its end; open and
# overdue (late by supplements or past the deadline at the month's end) dossiers at the month's end.
# Rows whose on-time state or complaint is unknown (NULL) count in the denominator only, as SQL sums do.
HANDWRITTEN_WIDE_SQL = """
WITH
bounds AS (
    SELECT CAST(greatest(max(CAST(received_at AS DATE)), max(CAST(finished_at AS DATE))) + 1 AS DATE) AS end_excl
    FROM dossier
),
months AS (
    SELECT CAST(r.k AS DATE) AS month, CAST(least(r.k + INTERVAL 1 MONTH, b.end_excl) AS DATE) AS end_excl
    FROM bounds b, range(CAST($start AS TIMESTAMP), CAST(b.end_excl AS TIMESTAMP), INTERVAL 1 MONTH) AS r(k)
),
month_ends AS (
    SELECT m.month, c.wd_index AS end_idx FROM months m JOIN calendar_day c ON c.day = m.end_excl - 1
),
units AS (
    SELECT unit_id, ancestor_id FROM org_unit_closure
    WHERE version = 'current' AND list_contains($levels, ancestor_level)
),
d AS MATERIALIZED (
    SELECT u.ancestor_id AS unit_id, d.finished_at, d.status, d.channel, d.reused_data, d.digitized,
           d.e_result, d.paid_online, d.linked_to_citizen_store, d.used_population_data,
           d.has_financial_obligation, p.eligible_full_online,
           d.synced_to_national AND coalesce(cs.wd_index - cr.wd_index, 0) <= 1 AS synced_on_time,
           CASE WHEN p.online_level = 'full' AND p.full_online_since IS NOT NULL
                     AND CAST(d.received_at AS DATE) < p.full_online_since THEN 'partial'
                ELSE p.online_level END AS online_level,
           d.complaint OR coalesce(d.rating = 'dissatisfied', FALSE) AS complained,
           d.supplement_count > 1 AS late_by_supplement,
           CAST(date_trunc('month', d.received_at) AS DATE) AS received_month,
           CAST(date_trunc('month', d.finished_at) AS DATE) AS finished_month,
           cf.wd_index AS finished_idx,
           greatest(cf.wd_index - cr.wd_index - d.supplement_days, 0) AS elapsed_wd,
           coalesce(cd.wd_index, cr.wd_index + p.statutory_days) + d.supplement_days AS deadline_idx
    FROM dossier d
    JOIN procedure p ON p.code = d.procedure_code
    JOIN calendar_day cr ON cr.day = CAST(d.received_at AS DATE)
    LEFT JOIN calendar_day cf ON cf.day = CAST(d.finished_at AS DATE)
    LEFT JOIN calendar_day cd ON cd.day = CAST(d.due_at AS DATE)
    LEFT JOIN calendar_day cs ON cs.day = CAST(d.synced_at AS DATE)
    JOIN units u ON u.unit_id = d.unit_id
),
received AS (
    SELECT unit_id, received_month AS month, count(*) AS received,
           count_if(channel = 'online') AS online, count_if(reused_data) AS reused,
           count_if(digitized) AS digitized, count_if(synced_on_time) AS synced_on_time,
           count_if(eligible_full_online) AS eligible,
           count_if(eligible_full_online AND channel = 'online' AND online_level = 'full') AS fully_online,
           count_if(digitized AND linked_to_citizen_store) AS linked,
           count_if(online_level <> 'none') AS offered_online,
           count_if(online_level <> 'none' AND channel = 'online') AS submitted_online,
           count_if(has_financial_obligation) AS with_fee, count_if(has_financial_obligation AND paid_online) AS paid,
           count_if(used_population_data) AS population
    FROM d GROUP BY ALL
),
finished AS (
    SELECT unit_id, finished_month AS month,
           count_if(status <> 'withdrawn') AS finished_judged,
           count_if(status <> 'withdrawn' AND NOT late_by_supplement AND finished_idx <= deadline_idx)
               AS finished_on_time,
           sum(1 - CAST(NOT (NOT late_by_supplement AND finished_idx <= deadline_idx) AS INTEGER)
                 - CAST(complained AS INTEGER)) FILTER (WHERE status <> 'withdrawn') AS finished_satisfied,
           count(*) FILTER (WHERE status IN ('finished', 'returned')) AS done,
           count_if(status IN ('finished', 'returned') AND e_result) AS e_results,
           sum(elapsed_wd) FILTER (WHERE status IN ('finished', 'returned')) AS days_sum,
           count(elapsed_wd) FILTER (WHERE status IN ('finished', 'returned')) AS days_n,
           quantile_cont(elapsed_wd, [0.5, 0.9]) FILTER (WHERE status IN ('finished', 'returned')) AS q
    FROM d WHERE finished_at IS NOT NULL GROUP BY ALL
),
-- open at a month's end: from the received month up to the month before the finished one. On time while
-- the month's last working-day index is within the deadline (a prefix of those months, cut at the first
-- month whose end passes it); unknown when the deadline is unknown and supplements did not make it late.
spans AS (
    SELECT d.unit_id, d.received_month AS first_month, d.finished_month AS stop_month, d.complained,
           coalesce(NOT d.late_by_supplement AND d.deadline_idx IS NOT NULL, FALSE) AS judged_on_time,
           NOT d.late_by_supplement AND d.deadline_idx IS NULL AS unknown,
           CASE WHEN d.finished_month IS NOT NULL OR late.month IS NOT NULL
                THEN greatest(d.received_month, least(d.finished_month, late.month)) END AS on_time_stop
    FROM d
    ASOF LEFT JOIN month_ends late ON d.deadline_idx < late.end_idx
    WHERE d.status <> 'withdrawn' AND (d.finished_month IS NULL OR d.finished_month > d.received_month)
),
-- +1/-1 events per unit and month, summed in order: open, open on time, open with an unknown state, and
-- satisfaction (on time minus complained, for the rows where both are known)
events AS (
    SELECT unit_id, month, sum(open_d) AS open_d, sum(on_time_d) AS on_time_d, sum(unknown_d) AS unknown_d,
           sum(satisfied_d) AS satisfied_d
    FROM (
        SELECT unit_id, first_month AS month, 1 AS open_d, CAST(judged_on_time AS INTEGER) AS on_time_d,
               CAST(unknown AS INTEGER) AS unknown_d,
               CASE WHEN NOT unknown THEN CAST(judged_on_time AS INTEGER) - CAST(complained AS INTEGER) END
                   AS satisfied_d
        FROM spans
        UNION ALL
        SELECT unit_id, stop_month, -1, 0, -CAST(unknown AS INTEGER),
               CASE WHEN NOT unknown THEN CAST(complained AS INTEGER) END
        FROM spans WHERE stop_month IS NOT NULL
        UNION ALL
        SELECT unit_id, on_time_stop, 0, -1, 0, CASE WHEN complained IS NOT NULL THEN -1 END
        FROM spans WHERE judged_on_time AND on_time_stop IS NOT NULL
    ) GROUP BY ALL
),
open_at_end AS (
    SELECT u.unit_id, m.month,
           sum(coalesce(e.open_d, 0)) OVER w AS open_n,
           sum(coalesce(e.on_time_d, 0)) OVER w AS open_on_time,
           sum(coalesce(e.unknown_d, 0)) OVER w AS open_unknown,
           sum(coalesce(e.satisfied_d, 0)) OVER w AS open_satisfied
    FROM (SELECT DISTINCT unit_id FROM events) u
    CROSS JOIN months m
    LEFT JOIN events e ON e.unit_id = u.unit_id AND e.month = m.month
    WINDOW w AS (PARTITION BY u.unit_id ORDER BY m.month)
)
SELECT unit_id, strftime(month, '%Y-%m') AS period, r.*  EXCLUDE (unit_id, month), f.* EXCLUDE (unit_id, month),
       o.* EXCLUDE (unit_id, month)
FROM received r
FULL JOIN finished f USING (unit_id, month)
FULL JOIN open_at_end o USING (unit_id, month)
SEMI JOIN months USING (month)
ORDER BY unit_id, month
"""


def handwritten_wide(db: str | Path) -> pl.DataFrame:
    con = _connect(db)
    try:
        return _fetch(con, HANDWRITTEN_WIDE_SQL, handwritten_sql()[1])
    finally:
        con.close()


def _share(num: str, den: str) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    n, d = pl.col(num).cast(pl.Float64).fill_null(0), pl.col(den).cast(pl.Float64).fill_null(0)
    return n, d, pl.when(d > 0).then(100 * n / d)


def wide_to_long(wide: pl.DataFrame) -> pl.DataFrame:
    """`handwritten_wide`'s answer as long rows (indicator, period, unit_id, numerator, denominator, value)."""

    def col(name: str) -> pl.Expr:
        return pl.col(name).cast(pl.Float64).fill_null(0)

    none = pl.lit(None, pl.Float64)
    on_time_den = col("finished_judged") + col("open_n")
    rows: dict[str, tuple[pl.Expr, pl.Expr, pl.Expr]] = {
        "dossiers_received": (col("received"), none, col("received")),
        "data_reuse": _share("reused", "received"),
        "dossiers_digitized": _share("digitized", "received"),
        "dossiers_synced_on_time": _share("synced_on_time", "received"),
        "fully_online_dossiers": _share("fully_online", "eligible"),
        "linked_citizen_store": _share("linked", "digitized"),
        "online_share": _share("online", "received"),
        "online_submission": _share("submitted_online", "offered_online"),
        "paid_online": _share("paid", "with_fee"),
        "population_data_use": _share("population", "received"),
        "dossiers_finished": (col("done"), none, col("done")),
        "e_results": _share("e_results", "done"),
        "processing_days_mean": (
            pl.col("days_sum").cast(pl.Float64),
            col("days_n"),
            pl.when(col("days_n") > 0).then(pl.col("days_sum") / col("days_n")),
        ),
        "processing_days_median": (none, col("days_n"), pl.col("q").list.get(0, null_on_oob=True)),
        "processing_days_p90": (none, col("days_n"), pl.col("q").list.get(1, null_on_oob=True)),
        "dossiers_on_time": (
            n := col("finished_on_time") + col("open_on_time"),
            on_time_den,
            pl.when(on_time_den > 0).then(100 * n / on_time_den),
        ),
        "dossier_satisfaction": (
            s := col("finished_satisfied") + col("open_satisfied"),
            on_time_den,
            pl.when(on_time_den > 0).then(100 * s / on_time_den),
        ),
        "open_backlog": (col("open_n"), none, col("open_n")),
        "overdue_backlog": (
            late := col("open_n") - col("open_on_time") - col("open_unknown"),
            none,
            late,
        ),
    }
    return pl.concat(
        wide.select(
            pl.lit(ind).alias("indicator"),
            "period",
            "unit_id",
            num.alias("numerator"),
            den.alias("denominator"),
            value.cast(pl.Float64).alias("value"),
        )
        for ind, (num, den, value) in rows.items()
    )


def compare_wide(engine: pl.DataFrame, other: pl.DataFrame) -> Agreement:
    """Compare the engine's answer with `handwritten_wide`'s on the WIDE indicators, cell by cell: the cells
    with something to say (a denominator > 0, or a count > 0) on either side."""
    keys = ["indicator", "period", "unit_id"]
    cells = pl.coalesce("denominator", "numerator") > 0
    e = engine.filter(pl.col("indicator").is_in(list(WIDE))).select(
        *keys, "numerator", "denominator", "value"
    )
    e = e.with_columns(pl.col(c).cast(pl.Float64) for c in ("numerator", "denominator", "value")).filter(
        cells
    )
    o = wide_to_long(other).filter(cells)
    joined = e.join(o, on=keys, how="full", suffix="_o", coalesce=True)
    present_e = pl.any_horizontal(pl.col(c).is_not_null() for c in ("numerator", "denominator", "value"))
    present_o = pl.any_horizontal(
        pl.col(f"{c}_o").is_not_null() for c in ("numerator", "denominator", "value")
    )
    only_engine = joined.filter(present_e & ~present_o).height
    only_other = joined.filter(present_o & ~present_e).height
    both = joined.filter(present_e & present_o)
    diffs = [
        (pl.col(c) - pl.col(f"{c}_o")).abs().fill_null(0).max() for c in ("numerator", "denominator", "value")
    ]
    nulls = both.filter(
        pl.any_horizontal(
            pl.col(c).is_null() != pl.col(f"{c}_o").is_null() for c in ("numerator", "denominator", "value")
        )
    ).height
    worst = max((x or 0.0) for x in both.select(diffs).row(0)) if both.height else 0.0
    return Agreement(joined.height, only_engine, only_other, float("inf") if nulls else worst)


def engine_wide(db: str | Path) -> pl.DataFrame:
    from egov_metrics.engine import compute

    return compute(
        list(WIDE), by=["unit"], level=list(LEVELS), grain="month", start=START, compare=False, db=db
    )


# -- (4): pandas ----------------------------------------------------------------------------------------------


def _month_number(ts: pd.Series) -> np.ndarray:
    """Months since year 0 (NaN for missing timestamps) as float, so that gaps survive."""
    return (ts.dt.year * 12 + ts.dt.month - 1).to_numpy(dtype="float64", na_value=np.nan)


def pandas_core(db: str | Path) -> pd.DataFrame:
    """The same answer in pandas: rows leave DuckDB once (`.df()`), everything after is pandas/numpy."""
    con = _connect(db)
    try:
        d = con.sql(
            "SELECT unit_id, procedure_code, channel, received_at, due_at, finished_at, status, "
            "supplement_count, supplement_days, reused_data, digitized FROM dossier"
        ).df()
        proc = con.sql("SELECT code, statutory_days FROM procedure").df()
        cal = con.sql("SELECT day, wd_index FROM calendar_day ORDER BY day").df()
        closure = con.sql("SELECT unit_id, ancestor_id, ancestor_level, version FROM org_unit_closure").df()
    finally:
        con.close()

    # working-day index of a date (an inner or left join on calendar_day by position)
    cal_days = pd.DatetimeIndex(cal["day"]).as_unit("us")
    cal_idx = cal["wd_index"].to_numpy()

    def wd(ts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        pos = cal_days.get_indexer(ts.dt.floor("D").astype("datetime64[us]"))
        found = pos >= 0
        return np.where(found, cal_idx[pos], 0).astype("float64"), found

    received_idx, has_received = wd(d["received_at"])
    finished_idx, has_finished = wd(d["finished_at"])
    due_idx, has_due = wd(d["due_at"])
    proc_pos = pd.Index(proc["code"]).get_indexer(d["procedure_code"])
    keep = has_received & (proc_pos >= 0)  # inner joins: procedure and the received day
    statutory = proc["statutory_days"].to_numpy(dtype="float64")[proc_pos]
    finished_idx[~has_finished] = np.nan
    supplement_days = d["supplement_days"].to_numpy(dtype="float64")
    deadline = np.where(has_due, due_idx, received_idx + statutory) + supplement_days

    end = max(d["received_at"].max().normalize(), d["finished_at"].max().normalize()) + pd.Timedelta(days=1)
    start = pd.Timestamp(START)
    first_month = start.year * 12 + start.month - 1
    last_month = (end - pd.Timedelta(days=1)).year * 12 + (end - pd.Timedelta(days=1)).month - 1
    n_months = last_month - first_month + 1
    month_starts = pd.date_range(start, periods=n_months, freq="MS")
    month_ends = np.minimum(month_starts + pd.offsets.MonthBegin(1), end) - pd.Timedelta(days=1)
    end_idx = cal_idx[cal_days.get_indexer(month_ends.as_unit("us"))]

    rows = pd.DataFrame(
        {
            "unit_id": d["unit_id"],
            "rm": _month_number(d["received_at"]) - first_month,
            "fm": _month_number(d["finished_at"]) - first_month,
            "status": d["status"],
            "online": (d["channel"] == "online").to_numpy(),
            "reused": d["reused_data"].to_numpy(),
            "digitized": d["digitized"].to_numpy(),
            "late_sup": (d["supplement_count"] > 1).to_numpy(),
            "finished_idx": finished_idx,
            "deadline": deadline,
            "elapsed": np.maximum(finished_idx - received_idx - supplement_days, 0),
        }
    )[keep]
    del d
    units = closure[(closure["version"] == "current") & closure["ancestor_level"].isin(LEVELS)]
    rows = rows.merge(units[["unit_id", "ancestor_id"]], on="unit_id").drop(columns="unit_id")
    rows = rows.rename(columns={"ancestor_id": "unit_id"})

    received = (
        rows.assign(n=1)
        .groupby(["unit_id", "rm"], sort=False)[["n", "online", "reused", "digitized"]]
        .sum()
        .rename(columns={"n": "received"})
    )
    received.index.names = ["unit_id", "m"]

    fin = rows[rows["fm"].notna()]
    judged = fin["status"] != "withdrawn"
    fin = fin.assign(
        judged=judged,
        on_time=judged & ~fin["late_sup"] & (fin["finished_idx"] <= fin["deadline"]),
        done=fin["status"].isin(["finished", "returned"]),
    )
    finished = fin.groupby(["unit_id", "fm"], sort=False)[["judged", "on_time"]].sum()
    done = fin[fin["done"]].groupby(["unit_id", "fm"], sort=False)["elapsed"]
    finished["done"] = done.size()
    quantiles = done.quantile([0.5, 0.9]).unstack()
    finished["median_days"] = quantiles[0.5]
    finished["p90_days"] = quantiles[0.9]
    finished.index.names = ["unit_id", "m"]

    # open at month ends: +1 from the received month, -1 from the finished month; on time until the first
    # month whose last working-day index passes the deadline
    open_rows = rows[(rows["status"] != "withdrawn") & ~(rows["fm"] <= rows["rm"])]
    stop = open_rows["fm"].to_numpy()
    late = np.searchsorted(end_idx, open_rows["deadline"].to_numpy(), side="right").astype("float64")
    ok = ~open_rows["late_sup"].to_numpy() & ~np.isnan(open_rows["deadline"].to_numpy())
    on_time_stop = np.maximum(open_rows["rm"].to_numpy(), np.fmin(stop, late))
    unit_codes, unit_names = pd.factorize(open_rows["unit_id"])
    grid_open = np.zeros((len(unit_names), n_months + 1))
    grid_on_time = np.zeros((len(unit_names), n_months + 1))
    rm = open_rows["rm"].to_numpy().astype(int)
    np.add.at(grid_open, (unit_codes, rm), 1)
    has_stop = ~np.isnan(stop)
    np.add.at(grid_open, (unit_codes[has_stop], stop[has_stop].astype(int)), -1)
    np.add.at(grid_on_time, (unit_codes[ok], rm[ok]), 1)
    ots = np.where(np.isnan(on_time_stop), n_months, on_time_stop)[ok].astype(int)
    np.add.at(grid_on_time, (unit_codes[ok], np.minimum(ots, n_months)), -1)
    index = pd.MultiIndex.from_product(
        [unit_names, np.arange(n_months, dtype="float64")], names=["unit_id", "m"]
    )
    open_at_end = pd.DataFrame(
        {
            "open_judged": np.cumsum(grid_open, axis=1)[:, :n_months].ravel(),
            "open_on_time": np.cumsum(grid_on_time, axis=1)[:, :n_months].ravel(),
        },
        index=index,
    )

    out = received.join(finished, how="outer").join(open_at_end, how="outer").reset_index()
    out = out[(out["m"] >= 0) & (out["m"] < n_months)]
    out["on_time_num"] = out["on_time"].fillna(0) + out["open_on_time"].fillna(0)
    out["on_time_den"] = out["judged"].fillna(0) + out["open_judged"].fillna(0)
    out["period"] = month_starts[out["m"].astype(int)].strftime("%Y-%m")
    return out.rename(columns={"online": "online_num", "reused": "reuse_num", "digitized": "digitized_num"})[
        [
            "unit_id",
            "period",
            "on_time_num",
            "on_time_den",
            "online_num",
            "reuse_num",
            "digitized_num",
            "received",
            "done",
            "median_days",
            "p90_days",
        ]
    ].sort_values(["unit_id", "period"], ignore_index=True)


# -- (5): the interactive call ---------------------------------------------------------------------------------


def interactive_start(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The first day of the month twelve months before the last month with data."""
    last = con.sql("SELECT max(CAST(received_at AS DATE)) FROM dossier").fetchall()[0][0]
    months = last.year * 12 + last.month - 1 - (INTERACTIVE_MONTHS - 1)
    return dt.date(months // 12, months % 12 + 1, 1)


def interactive(db: str | Path | duckdb.DuckDBPyConnection, start: dt.date) -> pl.DataFrame:
    from egov_metrics.engine import compute

    return compute(["dossiers_on_time"], unit=INTERACTIVE_UNIT, grain="month", start=start, db=db)


# -- checking that the answers are the same --------------------------------------------------------------------

#: wide column -> (indicator, numerator column or None, denominator column, value expression)
_LONG = {
    "dossiers_on_time": ("on_time_num", "on_time_den", lambda n, d: 100 * n / d),
    "online_share": ("online_num", "received", lambda n, d: 100 * n / d),
    "data_reuse": ("reuse_num", "received", lambda n, d: 100 * n / d),
    "dossiers_digitized": ("digitized_num", "received", lambda n, d: 100 * n / d),
    "processing_days_median": (None, "done", "median_days"),
    "processing_days_p90": (None, "done", "p90_days"),
}


def to_long(wide: pl.DataFrame | pd.DataFrame) -> pl.DataFrame:
    """A wide (unit, period) answer as the engine's long rows: indicator, period, unit_id, num, den, value."""
    frame = wide if isinstance(wide, pl.DataFrame) else pl.from_pandas(wide)
    parts = []
    for indicator, (num, den, value) in _LONG.items():
        d = pl.col(den).cast(pl.Float64).fill_null(0)
        n = pl.col(num).cast(pl.Float64).fill_null(0) if num else pl.lit(None, pl.Float64)
        v = pl.when(d > 0).then(value(n, d) if callable(value) else pl.col(value).cast(pl.Float64))
        parts.append(
            frame.select(
                pl.lit(indicator).alias("indicator"),
                "period",
                "unit_id",
                n.alias("numerator"),
                d.alias("denominator"),
                v.alias("value"),
            )
        )
    return pl.concat(parts)


@dataclass(frozen=True)
class Agreement:
    compared: int  # (indicator, unit, month) cells with a denominator > 0 on either side
    only_engine: int  # such cells missing on the other side
    only_other: int
    max_abs_diff: float  # over numerator, denominator and value of the common cells

    @property
    def ok(self) -> bool:
        return (
            self.compared > 0 and self.only_engine == 0 and self.only_other == 0 and self.max_abs_diff < 1e-9
        )

    def __str__(self) -> str:
        verdict = "same answer" if self.ok else "DIFFERENT ANSWER"
        return (
            f"{verdict}: {self.compared:,} cells, max abs diff {self.max_abs_diff:.3g}, "
            f"{self.only_engine} only in the engine, {self.only_other} only in the other"
        )


def compare(engine: pl.DataFrame, other: pl.DataFrame | pd.DataFrame) -> Agreement:
    """Compare the engine's long frame with a wide hand-written/pandas answer, cell by cell."""
    keys = ["indicator", "period", "unit_id"]
    e = engine.filter(pl.col("indicator").is_in(list(CORE)) & (pl.col("denominator") > 0)).select(
        *keys, "numerator", "denominator", "value"
    )
    o = to_long(other).filter(pl.col("denominator") > 0)
    joined = e.join(o, on=keys, how="full", suffix="_o", coalesce=True)
    only_engine = joined.filter(pl.col("denominator_o").is_null()).height
    only_other = joined.filter(pl.col("denominator").is_null()).height
    both = joined.filter(pl.col("denominator").is_not_null() & pl.col("denominator_o").is_not_null())
    diffs = [
        (pl.col(c).cast(pl.Float64) - pl.col(f"{c}_o")).abs().fill_null(0).max()
        for c in ("numerator", "denominator", "value")
    ]
    nulls = both.filter(pl.col("value").is_null() != pl.col("value_o").is_null()).height
    worst = max((x or 0.0) for x in both.select(diffs).row(0)) if both.height else 0.0
    return Agreement(joined.height, only_engine, only_other, float("inf") if nulls else worst)


@dataclass(frozen=True)
class Workload:
    name: str
    run: Callable[[str | Path], object]
    label: str


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload("engine_core", engine_core, "engine, 6 core KPIs"),
        Workload("handwritten", handwritten, "hand-written DuckDB SQL, same KPIs"),
        Workload("pandas", pandas_core, "pandas, same KPIs"),
        Workload("engine_full", engine_full, "engine, full catalog by unit"),
        Workload("engine_wide", engine_wide, "engine, the 19 dossier indicators by unit"),
        Workload("handwritten_wide", handwritten_wide, "hand-written DuckDB SQL, the same 19 indicators"),
    )
}
