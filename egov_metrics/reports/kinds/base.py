"""What every report kind is made of: the parameter base, the kind record, strict parameter validation.

A kind lives in its own folder under `egov_metrics/reports/kinds/` (see `kinds/__init__.py`); the shared
parameters (unit, month, day, phase) and their database checks are in `kinds/params.py`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, Literal, Protocol, TypeVar

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
    """The parameters every kind takes, and the hooks through which the renderer, the index page and the
    scheduler ask a kind's parameters about a report (never by parameter name): the parts of its file name,
    the period it shows, the last day of data it reads, and how the footer shows the values.

    The hooks are class methods over the parameters as the manifest keeps them (`model_dump(mode="json")`:
    strings, numbers, None), so the index page asks them about reports made earlier. The shared mixins
    (`kinds/params.py`) implement them and call `super()`, so a model made of several mixins combines them
    (`class X(UnitParams, MonthParams)`: file name parts unit, then period). A kind with a time parameter of
    its own (a quarter, a year) overrides them in its model, as `tests/test_report_kind_plugin.py` does.
    """

    lang: Literal["vi", "en"] = "vi"
    db_path: Annotated[str, Field(min_length=1)]

    #: Footer labels of the parameters this model (mixin) declares, per language; merged along the classes.
    LABELS: ClassVar[Mapping[str, Mapping[str, str]]] = {}

    @classmethod
    def place_parts(cls, values: Mapping[str, Any]) -> list[str]:
        """The parts of the file name saying where (the unit), after the kind's name."""
        return []

    @classmethod
    def time_parts(cls, values: Mapping[str, Any]) -> list[str]:
        """The parts of the file name saying when (the month, the day), before the language."""
        return []

    @classmethod
    def period_text(cls, values: Mapping[str, Any], lang: str) -> str:
        """The report's period as the index page shows it ("tháng 03/2026", "đến 31/12/2025"); "" if none."""
        return ""

    @classmethod
    def horizon(cls, values: Mapping[str, Any]) -> dt.date | None:
        """The last day of data the report reads (None: all of it); its data fingerprint stops there."""
        return None

    @classmethod
    def shown(cls, values: Mapping[str, Any], lang: str) -> dict[str, Any]:
        """The values as the footer shows them (a unit's default as "the province", a phase by its name)."""
        return dict(values)

    @classmethod
    def labels_in(cls, lang: str) -> dict[str, str]:
        """Footer labels of every parameter of the model, from its classes' `LABELS` (the most derived wins)."""
        out: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            out.update(vars(klass).get("LABELS", {}).get(lang, {}))
        return out


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
    #: …}); the shared ones are labelled by their mixins (`Params.LABELS`), lang and db by the renderer.
    param_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def output_stem(self, p: Params) -> str:
        """The report's file name without `.html`: kind, place, time, language (`Params.place_parts`, …)."""
        values = p.model_dump(mode="json")
        parts = [self.name, *self.params.place_parts(values), *self.params.time_parts(values), p.lang]
        return "_".join(x for x in parts if x)

    def period_text(self, values: Mapping[str, Any], lang: str = "vi") -> str:
        """The period of a report with these (manifest) parameters, as the index page shows it."""
        return self.params.period_text(values, lang)

    def horizon(self, values: Mapping[str, Any]) -> dt.date | None:
        """The last day of data a report with these (manifest) parameters reads."""
        return self.params.horizon(values)

    def labels(self, lang: str) -> dict[str, str]:
        """Footer labels of the kind's parameters: its mixins', then its own (`param_labels`)."""
        return {**self.params.labels_in(lang), **self.param_labels.get(lang, {})}

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
