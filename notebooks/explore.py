# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Khám phá chỉ tiêu · Explore the indicators
#
# The planner's starting point, built from the recipes of the cookbook (`docs/planner.md`: ten real questions,
# each in a few lines). Change a cell and re-run it. Everything works without network: the explorer and the
# charts are interactive (hover for values, drag or wheel on the time axis, click the legend), tables are polars
# frames with names beside the codes.

# %% tags=["parameters"]
import os

lang = "vi"
db_path = os.environ.get("EGOV_DB", "../data/egov.duckdb")

# %% [markdown]
# ## The explorer
#
# Pick indicators, a split, a grain, a period range (2025-01, 2025-Q1 or 2025) and a unit scope; the chart, the
# table, the definition and the SQL follow. The button writes the table to an Excel workbook for leaders.

# %%
from egov_metrics.explorer import explore

explorer = explore(db_path, lang=lang, indicators=["online_share", "fully_online_dossiers"], grain="quarter",
                   start="2025-Q1")
explorer

# %% [markdown]
# ## Recipe 1 · The five communes with the lowest fully-online share this quarter, and their change since last year

# %%
from egov_metrics.engine import compute

q = compute(["fully_online_dossiers"], by=["unit"], level="commune", grain="quarter", names=True, lang=lang,
            db=db_path)
latest = q.filter(q["period"] == q["period"].max()).drop_nulls("value")
latest.sort("value").head(5).select("unit_name", "period", "value", "year_ago_value", "change_year_ago")

# %% [markdown]
# ## Recipe 2 · p90 processing time by field for one department

# %%
compute(["processing_days_p90"], by=["field"], unit="Sở Tư pháp", grain="year", names=True, lang=lang,
        db=db_path).select("period", "field_name", "value", "denominator")

# %% [markdown]
# ## Recipe 8 · Departments' monthly on-time rate, interactive

# %%
from egov_metrics.charts import chart_trend
from egov_metrics.interactive import interactive

monthly = compute(["dossiers_on_time"], by=["unit"], level="department", start="2025-07", names=True,
                  lang=lang, db=db_path)
interactive(chart_trend(monthly, color="unit", title=monthly["indicator_name"][0], lang=lang), lang=lang)

# %% [markdown]
# ## Recipe 4 · What if digitization rose 20 points?

# %%
from egov_metrics.whatif import what_if

result = what_if({"indicator": "dossiers_digitized", "rate_change": 20}, levels=("department",), db=db_path)
result.summary.sort("total_change", descending=True)

# %% [markdown]
# ## Recipe 9 · The SQL behind a number

# %%
from egov_metrics.engine import explain

print(explain(["fully_online_dossiers"], by=["unit"], level="commune", grain="quarter", db=db_path))

# %% [markdown]
# ## The catalog

# %%
from egov_metrics.present import catalog_table

catalog_table(lang)
