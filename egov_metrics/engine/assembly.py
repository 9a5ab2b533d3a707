"""Step 4 of the engine: assembly, one statement from the steps, as named CTEs (readable with `--show-sql`).

    spine                      the periods (step 1, `spine.py`)
    rows_<source>              a source's rows in the unit scope, when several groups read it (materialised)
    placed_<k>                 group k's rows placed in periods (step 2, `placement.py`)
    aggregated_<k>             group k's indicators, one long row per cell (step 3, `aggregation.py`)
    raw                        every group's rows
    meta, keys                 the indicators' units, decimals, directions and order; their observed range
    res                        empty periods inside an indicator's observed range zero-filled
    final SELECT               names, comparisons with the previous period and a year earlier, order

The text depends only on the request's `Shape`; it is built once per shape and process (`statement`).
"""

from __future__ import annotations

from dataclasses import dataclass

from egov_metrics.engine.aggregation import aggregated_sql
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


def _names(shape: Shape) -> tuple[str, str, str]:
    """SQL: the indicator's name, then `<dimension>_name` for field, procedure, layer, phase and the coded
    dimensions (channel, applicant type, online level, platform), in the request's language."""
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


def _describe(k: int, group: Group) -> str:
    """SQL comment: what group k places and computes."""
    placement = group.placement
    how = [f"by {placement.event}"] if placement.event else []
    if placement.stock:
        how.append(f"open at the period's end ({placement.stock[0]} .. {placement.stock[1]})")
    ids = ", ".join(i.id for _, i in group.members)
    return f"-- group {k}: {group.source} {' and '.join(how)}: {ids}\n"


def _group_ctes(shape: Shape) -> str:
    """SQL: the CTEs of steps 2 and 3 for every group, and `raw`, the union of their rows."""
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
    for k, group in enumerate(found, 1):
        ctes.append(
            f"{_describe(k, group)}placed_{k} AS (\n{placed_sql(shape, group, rows[group.source])}\n)"
        )
        ctes.append(f"aggregated_{k} AS (\n    {aggregated_sql(shape, group, f'placed_{k}')}\n)")
    union = "\nUNION ALL ".join(f"SELECT * FROM aggregated_{k}" for k in range(1, len(found) + 1))
    ctes.append(f"raw AS (\n{union}\n)")
    return ",\n".join(ctes)


def statement(shape: Shape) -> str:
    """The whole statement for a request of this shape (its dates, scope and names are parameters)."""
    dims = shape.dims
    meta = ", ".join(
        f"('{i.id}', '{i.unit}', {i.decimals}, '{i.direction}', '{i.measure.aggregation}', {n})"
        for n, i in enumerate(shape.indicators, 1)
    )
    unit_name = ""
    unit_join = ""
    if "unit" in shape.by:
        unit_name = f", u.{unit_name_column(shape.lang)} AS unit_name, u.level AS unit_level"
        unit_join = "LEFT JOIN org_unit u ON u.id = r.unit_id"
    ind_name, name_cols, name_joins = _names(shape) if shape.names else ("", "", "")
    cmp_cols = cmp_joins = ""
    if shape.compare:
        key = " AND ".join(
            ["p.indicator = r.indicator", *[f"p.{d} IS NOT DISTINCT FROM r.{d}" for d in dims]]
        )
        prev_step = STEP[shape.grain]
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
    key_dims = "".join(f", {d}" for d in dims)
    k_dims = "".join(f", k.{d}" for d in dims)
    match = "".join(f" AND raw.{d} IS NOT DISTINCT FROM k.{d}" for d in dims)
    return f"""WITH {spine_cte(shape)},
{_group_ctes(shape)},
meta(indicator, unit, decimals, direction, aggregation, ord) AS (VALUES {meta}),
-- Empty periods inside an indicator's observed range get a row: counts and sums 0, ratios 0/0 (no value).
-- keys: every indicator × dimensions seen, with the indicator's first and last period seen (one pass).
keys AS (
    SELECT indicator{key_dims}, min(min(period_key)) OVER (PARTITION BY indicator) AS first_key,
           max(max(period_key)) OVER (PARTITION BY indicator) AS last_key
    FROM raw GROUP BY indicator{key_dims}
),
res AS (
    SELECT k.indicator, sp.period_key, sp.period, sp.period_start, sp.period_end_excl{k_dims},
           CASE WHEN raw.indicator IS NOT NULL THEN raw.numerator
                WHEN m.aggregation IN ('ratio', 'count', 'sum') THEN 0 END AS numerator,
           CASE WHEN raw.indicator IS NOT NULL THEN raw.denominator
                WHEN m.aggregation <> 'count' AND m.aggregation <> 'sum' THEN 0 END AS denominator,
           CASE WHEN raw.indicator IS NOT NULL THEN raw.value
                WHEN m.aggregation IN ('count', 'sum') THEN 0 END AS value
    FROM keys k
    JOIN spine sp ON sp.period_key BETWEEN k.first_key AND k.last_key
    JOIN meta m ON m.indicator = k.indicator
    LEFT JOIN raw ON raw.indicator = k.indicator AND raw.period_key = sp.period_key{match}
)
SELECT r.indicator{ind_name}, r.period, r.period_start, CAST(r.period_end_excl - 1 AS DATE) AS period_end{dim_select}{name_cols}{unit_name},
       r.numerator, r.denominator, r.value, m.unit, m.decimals, m.direction,
       $unit_version AS unit_version{cmp_cols}
FROM res r
JOIN meta m ON m.indicator = r.indicator
{unit_join}
{name_joins}
{cmp_joins}
WHERE r.period_key >= {first_shown_key(shape.grain)}
ORDER BY {order}"""
