"""What every report kind is made of: the parameter base, the kind record, strict parameter validation.

A kind lives in its own folder under `egov_metrics/reports/kinds/` (see `kinds/__init__.py`); the shared
parameters (unit, month, day, phase) and their database checks are in `kinds/params.py`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, Protocol, TypeVar

from pydantic import Field, ValidationError

from egov_metrics.errors import EgovError, UnknownNameError
from egov_metrics.model import FrozenModel

if TYPE_CHECKING:
    import duckdb

PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class ReportParameterError(EgovError):
    """Report parameters that are unknown or invalid; raised before any kernel starts."""


class ReportError(EgovError):
    """A report could not be rendered; the message is one line: cell, error, message."""


class Params(FrozenModel):
    lang: Literal["vi", "en"] = "vi"
    db_path: Annotated[str, Field(min_length=1)]


class SchedulePeriod(Protocol):
    """A reporting period as the scheduler passes it to a kind (`egov_metrics.schedule.Period`)."""

    @property
    def start(self) -> dt.date: ...

    @property
    def end(self) -> dt.date: ...

    @property
    def label(self) -> str: ...


P = TypeVar("P", bound=Params)

#: Check a kind's validated parameters against the database and fill its defaults, before any kernel starts.
Resolve = Callable[["ReportKind[P]", P, "duckdb.DuckDBPyConnection"], P]
#: The parameters that place one report of a kind in a schedule period (e.g. {"period": "2026-03"}).
ScheduleTime = Callable[[SchedulePeriod, "duckdb.DuckDBPyConnection"], dict[str, Any]]


@dataclass(frozen=True)
class ReportKind(Generic[P]):
    """One report kind: its notebook (in the top-level `notebooks/`), parameter contract and titles, how its
    parameters are checked and defaulted from the database (`resolve`), and which parameters place it in a
    schedule period (`schedule_time`)."""

    name: str
    notebook: str
    params: type[P]
    title_vi: str
    title_en: str
    resolve: Resolve[P]
    schedule_time: ScheduleTime
    #: The org-unit levels the `unit` parameter may name (None: any level).
    unit_levels: tuple[str, ...] | None = None
    #: Labels of the kind's own parameters in the technical footer, per language ({"vi": {name: label}, "en":
    #: …}); the shared ones (lang, period, unit, as_of, phase) are labelled by the renderer.
    param_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def output_stem(self, p: Params) -> str:
        parts = [self.name]
        unit = getattr(p, "unit", None)
        if unit:
            parts.append(re.sub(r"[^A-Za-z0-9_-]", "_", unit))
        period = getattr(p, "period", None) or str(getattr(p, "as_of", ""))
        parts += [period, p.lang]
        return "_".join(x for x in parts if x)

    def resolve_in(self, params: P) -> P:
        """`resolve` against the parameters' own database, opened read-only."""
        from egov_metrics.schema import connect

        with connect(params.db_path, read_only=True) as con:
            return self.resolve(self, params, con)


def validate_params(kind: ReportKind[Any], raw: dict[str, object]) -> Params:
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
