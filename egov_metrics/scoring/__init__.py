"""The 766 index: score units from indicator counts with a versioned method kept as data.

A method (`egov_metrics/methods/<id>.yaml`; by default the one valid for the period scored, see `method_for`) lists the groups, each indicator with its
maximum points, its conversion rule, its zero-denominator rule and a provisional flag, the rounding order
(`points_from`) and the bands. `score()` turns the long counts frame of the engine into points::

    result = score(counts)                      # counts: unit_id, period, indicator, numerator, denominator
    result.indicators / result.groups / result.totals

How a score is computed (exact integer arithmetic, never floats):

1. rate = numerator ÷ denominator (the `complement_*` rules use (denominator − numerator) ÷ denominator),
   shown in percent, rounded half up to 2 decimals (88.42);
2. points = max × share, where the conversion rule turns the rate into a share of the maximum in [0, 1]
   (`linear`: share = rate; `full_at` t: share = min(1, rate ÷ t)). The share is taken from the rounded
   rate or from the exact one, as the method's `points_from` says; points are rounded half up to 2 decimals;
3. group score = sum of the rounded indicator points; total = sum of the group scores.

Rounding is ROUND_HALF_UP (0.125 → 0.13), never banker's rounding. Counts may be integers, floats or
decimals; they are taken to 6 decimals (fractional counts can come from org-unit crosswalk shares).

Published counts (`score_from_published`): a CSV or XLSX file (first sheet unless `sheet_name` is given)
with one row per unit, period and indicator, and a header naming these columns:

======================  ==========================================================================
``unit_id``             the unit's id (any text; keep it as in the portal's report)
``period``              the period label (text, e.g. ``2026``, ``2026-Q1``, ``2026-01..2026-06``)
``indicator``           an indicator id of the method, e.g. ``dossiers_on_time``
``numerator``           the published numerator (plain number: 528684, not 528.684 or 528,684)
``denominator``         the published denominator
``unit_level``          optional: department, commune, ... (peers for the ranking)
``unit_name``           optional, passed through
``published_rate``      optional: the rate the portal shows, in percent; adds ``rate_diff``
``published_points``    optional: the points the portal shows; adds ``points_diff``
======================  ==========================================================================

Extra columns pass through: those named ``unit_*`` or ``period_*`` (unit_name, unit_level, period_start, ...)
describe the unit or the period and are carried to every frame; the others stay on the indicators frame.
A negative numerator (possible for `dossier_satisfaction`, whose numerator is dossiers − overdue −
complaints as the catalog computes it) counts as a rate of 0. See docs/scoring.md.

The package, one module per step: `method` (the method as validated data), `loading` (method files),
`selection` (which method is valid for a period: `method_for`), `conversions` (the rule registry),
`arithmetic` (exact integers and half-up rounding), `checks` (the counts), `points` (indicator points),
`totals` (groups, totals, bands, ranks), `scorer` (`score`), `published` (`score_from_published`), `units`
(`score_units`), `display` (a method's name for readers), `result` and `errors`.
"""

from __future__ import annotations

from egov_metrics.scoring.arithmetic import (
    _from_cents as _from_cents,  # re-exported: older callers import it here
)
from egov_metrics.scoring.conversions import Conversion, conversions, register_conversion
from egov_metrics.scoring.display import method_display
from egov_metrics.scoring.errors import MethodError, ScoringError
from egov_metrics.scoring.loading import (
    METHODS_DIR,
    METHODS_PATH_ENV,
    known_methods,
    load_method,
    method_dirs,
    resolve_method,
)
from egov_metrics.scoring.method import Band, MethodGroup, MethodIndicator, Rule, ScoringMethod
from egov_metrics.scoring.published import score_from_published
from egov_metrics.scoring.result import ScoreResult
from egov_metrics.scoring.scorer import method_for_counts, score
from egov_metrics.scoring.selection import (
    current_methods,
    indicator_groups,
    latest_method,
    method_for,
    method_groups,
    period_end,
)
from egov_metrics.scoring.units import score_units

__all__ = [
    "METHODS_DIR",
    "METHODS_PATH_ENV",
    "Band",
    "Conversion",
    "MethodError",
    "MethodGroup",
    "MethodIndicator",
    "Rule",
    "ScoreResult",
    "ScoringError",
    "ScoringMethod",
    "conversions",
    "current_methods",
    "indicator_groups",
    "known_methods",
    "latest_method",
    "load_method",
    "method_dirs",
    "method_display",
    "method_for",
    "method_for_counts",
    "method_groups",
    "period_end",
    "register_conversion",
    "resolve_method",
    "score",
    "score_from_published",
    "score_units",
]
