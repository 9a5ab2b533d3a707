"""Where the national portal publishes each indicator of a method: its API groups, metric codes and fields.

Kept as data in the method file (`portal:`), validated here (pydantic, frozen, closed). This module imports
nothing from the scoring code, so that `egov_metrics.scoring` can use it in `ScoringMethod`.

Two response shapes exist (as the public capture tools save them):

* ``metrics`` — ``data.overview`` (the province) and ``data.evaluation`` (its units), each with
  ``totalScore`` and a ``metrics`` list of ``{code, numerator, denominator, ratio, score, maxScore}``;
* ``tree`` — ``data.parent`` (the province) and ``data.children`` (its units), each a flat object whose
  fields hold the counts (``totalOnTime``, ``totalReceived``, …) and the group's ``totalScore`` or ``score``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from egov_metrics.model import FrozenModel as _Frozen

Code = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]
IndicatorId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class PortalEndpoint(_Frozen):
    """One group of the portal's evaluation API (`endpoint` is the last part of its URL)."""

    endpoint: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
    group: IndicatorId
    shape: Literal["metrics", "tree"]
    #: a metric code (metrics shape) or a field name (tree shape) found only in this group's responses
    detect: Code
    #: where a unit's group score is: `totalScore` or `score`, first one present
    score_fields: tuple[Code, ...] = ("totalScore", "score")


class PortalMetric(_Frozen):
    """A metric code of a `metrics`-shaped response and the method's indicator it is."""

    code: Code
    indicator: IndicatorId


class PortalFields(_Frozen):
    """An indicator of a `tree`-shaped response: its counts are fields (summed when several are named)."""

    indicator: IndicatorId
    numerator: tuple[Code, ...] = Field(min_length=1)
    denominator: tuple[Code, ...] = Field(min_length=1)
    rate: Code | None = None
    points: Code | None = None
    #: only the province's row carries these fields (the units publish the group score alone)
    province_only: bool = False
    note: str = ""


class PortalMapping(_Frozen):
    endpoints: tuple[PortalEndpoint, ...] = Field(min_length=1)
    metrics: tuple[PortalMetric, ...] = ()
    #: metric codes the portal publishes without points (maxScore 0): kept, never scored
    ignored_metrics: tuple[Code, ...] = ()
    fields: tuple[PortalFields, ...] = ()

    def indicator_ids(self) -> list[str]:
        return [m.indicator for m in self.metrics] + [f.indicator for f in self.fields]

    def endpoint_of_group(self, group: str) -> PortalEndpoint | None:
        return next((e for e in self.endpoints if e.group == group), None)
