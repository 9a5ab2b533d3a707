"""Report kinds as a registry: notebook, parameter contract (strict), output name."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator

from egov_metrics.errors import EgovError, UnknownNameError
from egov_metrics.model import FrozenModel

PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class ReportParameterError(EgovError):
    """Report parameters that are unknown or invalid; raised before any kernel starts."""


class Params(FrozenModel):
    lang: Literal["vi", "en"] = "vi"
    db_path: Annotated[str, Field(min_length=1)]


class ProgressParams(Params):
    period: str | None = None  # default: the last complete month of data
    unit: str | None = None  # default: the province

    @field_validator("period")
    @classmethod
    def _month(cls, v: str | None) -> str | None:
        if v is not None and not PERIOD_RE.match(v):
            raise ValueError("period must be a month written YYYY-MM, e.g. 2026-10")
        return v


class ScorecardParams(ProgressParams):
    unit: str  # required


class RoadmapParams(Params):
    as_of: dt.date | None = None  # default: the last day of data
    phase: str | None = None  # default: the roadmap phase containing as_of


@dataclass(frozen=True)
class ReportKind:
    name: str
    notebook: str
    params: type[Params]
    title_vi: str
    title_en: str
    #: The org-unit levels the `unit` parameter may name (None: any level).
    unit_levels: tuple[str, ...] | None = None

    def output_stem(self, p: Params) -> str:
        parts = [self.name]
        unit = getattr(p, "unit", None)
        if unit:
            parts.append(re.sub(r"[^A-Za-z0-9_-]", "_", unit))
        period = getattr(p, "period", None) or str(getattr(p, "as_of", ""))
        parts += [period, p.lang]
        return "_".join(x for x in parts if x)


REPORT_KINDS: dict[str, ReportKind] = {
    k.name: k
    for k in (
        ReportKind(
            "progress_report", "progress_report.ipynb", ProgressParams, "Báo cáo tiến độ", "Progress report"
        ),
        ReportKind(
            "roadmap_report", "roadmap_report.ipynb", RoadmapParams, "Báo cáo lộ trình", "Roadmap report"
        ),
        ReportKind(
            "unit_scorecard",
            "unit_scorecard.ipynb",
            ScorecardParams,
            "Phiếu điểm đơn vị",
            "Unit scorecard",
            unit_levels=("department", "commune"),
        ),
    )
}


def get_kind(name: str) -> ReportKind:
    try:
        return REPORT_KINDS[name]
    except KeyError:
        raise UnknownNameError.from_choices("report kind", name, REPORT_KINDS) from None


def validate_params(kind: ReportKind, raw: dict[str, object]) -> Params:
    """Strictly validate parameters: unknown names and bad values are errors with a hint."""
    known = list(kind.params.model_fields)
    try:
        return kind.params.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ".".join(str(x) for x in err["loc"])
            if err["type"] == "extra_forbidden":
                close = UnknownNameError.from_choices("parameter", name, known)
                lines.append(f"unknown parameter {name!r} ({close.hint})")
            elif err["type"] == "missing":
                lines.append(f"missing parameter {name!r}")
            else:
                lines.append(
                    f"parameter {name!r}: {err['msg'].removeprefix('Value error, ')} (got {err.get('input')!r})"
                )
        raise ReportParameterError(
            f"{kind.name}: " + "; ".join(lines),
            f"parameters of {kind.name}: {', '.join(known)}; pass them as --param name=value",
        ) from None
