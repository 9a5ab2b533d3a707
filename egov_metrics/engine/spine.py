"""Step 1 of the engine: the spine, the periods of the grain over the requested range (CTE `spine`).

Each period has a key (its first day for month/quarter/year; the month for ytd), a label, its window
(`period_start` to `period_end_excl`, cut at the data end or the requested as-of date) and the working-day
index of its last day (`period_end_idx`, from `calendar_day`).
"""

from __future__ import annotations

from egov_metrics.engine.request import Shape

#: SQL interval of one period per grain (ytd periods are months whose window starts on 1 January).
STEP = {"month": "1 MONTH", "quarter": "3 MONTH", "year": "1 YEAR", "ytd": "1 MONTH"}
TRUNC = {"month": "month", "quarter": "quarter", "year": "year", "ytd": "month"}
_LABEL = {
    "month": "strftime(k, '%Y-%m')",
    "quarter": "strftime(k, '%Y') || '-Q' || quarter(k)",
    "year": "strftime(k, '%Y')",
    "ytd": "strftime(k, '%Y-%m') || ' YTD'",
}

#: Columns of the spine that a placed row carries (besides is_open) and an expression may read.
SPINE_COLUMNS = ("period_key", "period", "period_start", "period_end_excl", "period_end_idx")


def spine_cte(shape: Shape) -> str:
    """SQL: the CTE `spine`."""
    step, trunc = STEP[shape.grain], TRUNC[shape.grain]
    window_start = "date_trunc('year', k)" if shape.grain == "ytd" else "k"
    return f"""spine AS (
    SELECT s.*, c.wd_index AS period_end_idx
    FROM (
        SELECT CAST(k AS DATE) AS period_key,
               CAST({window_start} AS DATE) AS period_start,
               CAST(least(k + INTERVAL {step}, $data_end_excl) AS DATE) AS period_end_excl,
               {_LABEL[shape.grain]} AS period
        FROM range(CAST(date_trunc('{trunc}', CAST($spine_start AS DATE)) AS TIMESTAMP),
                   CAST($spine_end_excl AS TIMESTAMP), INTERVAL {step}) AS r(k)
    ) s
    JOIN calendar_day c ON c.day = s.period_end_excl - 1
)"""


def first_key(grain: str) -> str:
    """SQL: the spine's first period key."""
    return f"CAST(date_trunc('{TRUNC[grain]}', CAST($spine_start AS DATE)) AS DATE)"


def last_key(grain: str) -> str:
    """SQL: the spine's last period key (the one holding the day before the spine's end)."""
    return f"CAST(date_trunc('{TRUNC[grain]}', CAST($spine_end_excl AS DATE) - 1) AS DATE)"


def first_shown_key(grain: str) -> str:
    """SQL: the first period key shown (the periods before it are there for the comparisons)."""
    return f"CAST(date_trunc('{TRUNC[grain]}', CAST($start AS DATE)) AS DATE)"
