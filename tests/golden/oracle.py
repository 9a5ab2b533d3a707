"""Golden answers: every catalog indicator re-implemented in plain Python, independently of the engine.

Rows are read with plain ``SELECT * FROM <table>``; no SQL source, no ``calendar_day.wd_index``, no view and
nothing of `egov_metrics.engine` is used. Working days are counted day by day with `datetime`, the
`holidays` package (Vietnam) and the project's override file (``calendar.read_overrides``), as DOMAIN.md
§3 describes them. Each indicator is written from its YAML description and DOMAIN.md:

* timeliness (§3): finished on or before the appointment date, supplement time not counted (the deadline
  moves by the supplement working days); asked to supplement more than once = late; no appointment date =
  elapsed working days minus supplement days against the statutory limit; open dossiers are judged on the
  last day of the period (open and not yet due = on time);
* pooled ratios: Σnumerator ÷ Σdenominator over every record of the unit and the units below it;
* a unit split maps each record to its unit in the requested version ('current': ended units move to their
  successor, or to their parent when abolished without one, then up today's hierarchy; 'historical': the
  hierarchy as it was) and keeps the ancestors of the requested levels.

`compute()` returns, per (period label, unit id or None), the numerator, the denominator, the value and how
many records of the indicator's source were placed in that period and unit before the indicator's own
filters (`placed`): the engine emits a row exactly for the (period, unit) cells with placed records.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import holidays

from egov_metrics.calendar import read_overrides

Record = dict[str, Any]
ONE_DAY = dt.timedelta(days=1)


# Working days ---------------------------------------------------------------------------------------------


class WorkCalendar:
    """Vietnamese working days: weekends and statutory holidays off, swaps and declared days from data."""

    def __init__(self, first_year: int = 2020, last_year: int = 2030) -> None:
        vn = holidays.country_holidays("VN", years=range(first_year, last_year + 1))
        self._holidays = set(vn)
        self._swapped_workdays = set(getattr(vn, "weekend_workdays", set()))
        self._overrides = {o.day: o.kind for o in read_overrides()}

    @functools.cache  # noqa: B019 - one calendar per test session
    def is_working(self, day: dt.date) -> bool:
        kind = self._overrides.get(day)
        if kind is not None:
            return kind == "working_weekend"
        if day in self._holidays:
            return False
        if day in self._swapped_workdays:
            return True
        return day.weekday() < 5

    def wd(self, a: dt.date, b: dt.date) -> int:
        """Working days in (a, b]; negative (minus the working days in (b, a]) when b is before a."""
        if b < a:
            return -self.wd(b, a)
        n, day = 0, a + ONE_DAY
        while day <= b:
            n += self.is_working(day)
            day += ONE_DAY
        return n


CAL = WorkCalendar()


# Data -----------------------------------------------------------------------------------------------------


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[Record]:
    cur = con.execute(f"SELECT * FROM {table}")
    names = [c[0] for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@dataclass(frozen=True)
class Data:
    units: dict[str, Record]
    procedures: dict[str, Record]
    unit_procedures: list[Record]
    dossiers: list[Record]
    feedback: list[Record]
    data_exchange: list[Record]
    e_office: list[Record]
    workforce: list[Record]
    adoption: list[Record]
    arch_components: list[Record]

    @property
    def data_end(self) -> dt.date:
        """The last day with dossier data (a receipt or a finish): later periods do not exist yet."""
        days = [d["received_at"].date() for d in self.dossiers]
        days += [d["finished_at"].date() for d in self.dossiers if d["finished_at"] is not None]
        return max(days)


def load(con: duckdb.DuckDBPyConnection) -> Data:
    procedures = {p["code"]: p for p in _rows(con, "procedure")}
    return Data(
        units={u["id"]: u for u in _rows(con, "org_unit")},
        procedures=procedures,
        unit_procedures=_rows(con, "unit_procedure"),
        dossiers=_rows(con, "dossier"),
        feedback=_rows(con, "feedback"),
        data_exchange=_rows(con, "data_exchange"),
        e_office=_rows(con, "e_office"),
        workforce=_rows(con, "workforce"),
        adoption=_rows(con, "adoption"),
        arch_components=_rows(con, "arch_component"),
    )


# Periods ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    label: str
    start: dt.date  # first day of the window (1 January for year-to-date)
    end_excl: dt.date  # first day after the window

    @property
    def last_day(self) -> dt.date:
        return self.end_excl - ONE_DAY

    def contains(self, day: dt.date | dt.datetime | None) -> bool:
        if day is None:
            return False
        day = day.date() if isinstance(day, dt.datetime) else day
        return self.start <= day < self.end_excl


def _add_months(day: dt.date, months: int) -> dt.date:
    n = day.year * 12 + day.month - 1 + months
    return dt.date(n // 12, n % 12 + 1, 1)


def periods(grain: str, first: dt.date, last: dt.date, data_end: dt.date) -> list[Period]:
    """The periods of `grain` from the one holding `first` to the one holding `last`, cut at the data end."""
    step = {"month": 1, "quarter": 3, "year": 12, "ytd": 1}[grain]
    if grain == "quarter":
        key = dt.date(first.year, (first.month - 1) // 3 * 3 + 1, 1)
    elif grain == "year":
        key = dt.date(first.year, 1, 1)
    else:
        key = dt.date(first.year, first.month, 1)
    out = []
    while key <= min(last, data_end):
        end_excl = min(_add_months(key, step), data_end + ONE_DAY)
        label = {
            "month": f"{key:%Y-%m}",
            "quarter": f"{key.year}-Q{(key.month - 1) // 3 + 1}",
            "year": f"{key.year}",
            "ytd": f"{key:%Y-%m} YTD",
        }[grain]
        start = dt.date(key.year, 1, 1) if grain == "ytd" else key
        out.append(Period(label, start, end_excl))
        key = _add_months(key, step)
    return out


# Units ------------------------------------------------------------------------------------------------------


def current_unit(data: Data, unit_id: str) -> str:
    """The unit standing for `unit_id` today: follow successors; an abolished unit without one goes to its parent."""
    seen = set()
    while unit_id not in seen:
        seen.add(unit_id)
        u = data.units[unit_id]
        if u["valid_to"] is None:
            return unit_id
        nxt = u["successor_id"] or u["parent_id"]
        if nxt is None:
            return unit_id
        unit_id = nxt
    raise AssertionError(f"successor/parent cycle at {unit_id}")


def ancestors(data: Data, unit_id: str, version: str) -> list[str]:
    """The unit and every unit above it, nearest first, in the given version."""
    at: str | None = current_unit(data, unit_id) if version == "current" else unit_id
    chain = []
    while at is not None:
        chain.append(at)
        at = data.units[at]["parent_id"]
    return chain


# Placement: which records of a source belong to a period ---------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One record placed in one period; `is_open` when placed as still open at the period's last day."""

    rec: Record
    period: Period
    is_open: bool

    def __getitem__(self, key: str) -> Any:
        return self.rec[key]


def _open_at_end(p: Period, start: dt.datetime | dt.date, stop: dt.datetime | dt.date | None) -> bool:
    start_day = start.date() if isinstance(start, dt.datetime) else start
    stop_day = stop.date() if isinstance(stop, dt.datetime) else stop
    return start_day <= p.last_day and (stop_day is None or stop_day > p.last_day)


def _dossier_rows(data: Data, placement: str, p: Period) -> Iterator[Row]:
    for d in data.dossiers:
        rec = {**data.procedures[d["procedure_code"]], **d}
        since = rec.get("full_online_since")
        if rec["online_level"] == "full" and since is not None and d["received_at"].date() < since:
            rec["online_level"] = "partial"  # a full service was partial before its upgrade day
        if placement == "received" and p.contains(d["received_at"]):
            yield Row(rec, p, False)
        if placement in ("finished", "finished_or_open") and p.contains(d["finished_at"]):
            yield Row(rec, p, False)
        if placement in ("open_at_end", "finished_or_open") and _open_at_end(
            p, d["received_at"], d["finished_at"]
        ):
            yield Row(rec, p, True)


def _feedback_rows(data: Data, placement: str, p: Period) -> Iterator[Row]:
    for f in data.feedback:
        if placement == "received" and p.contains(f["received_at"]):
            yield Row(f, p, False)
        if placement in ("handled", "handled_or_open") and p.contains(f["handled_at"]):
            yield Row(f, p, False)
        if placement == "handled_or_open" and _open_at_end(p, f["received_at"], f["handled_at"]):
            yield Row(f, p, True)


def _valid_on(day: dt.date, start: dt.date | None, stop: dt.date | None) -> bool:
    return (start is None or start <= day) and (stop is None or day < stop)


def _unit_procedure_rows(data: Data, placement: str, p: Period) -> Iterator[Row]:
    """A unit's procedure counts while both the procedure is in force and the unit exists (period's last day)."""
    assert placement == "in_force"
    for up in data.unit_procedures:
        proc = data.procedures[up["procedure_code"]]
        unit = data.units[up["unit_id"]]
        if not _valid_on(p.last_day, proc["legal_effective_on"], proc["valid_to"]):
            continue
        if not _valid_on(p.last_day, unit["valid_from"], unit["valid_to"]):
            continue
        mine = [
            d
            for d in data.dossiers
            if d["unit_id"] == up["unit_id"]
            and d["procedure_code"] == up["procedure_code"]
            and p.contains(d["received_at"])
        ]
        level = proc["online_level"]
        since = proc.get("full_online_since")
        if level == "full" and since is not None and since > p.last_day:
            level = "partial"  # the level at the period's end
        rec = {
            **proc,
            "online_level": level,
            "unit_id": up["unit_id"],
            "unit_level": unit["level"],
            "dossiers": len(mine),
            "paid_online_dossiers": sum(d["paid_online"] for d in mine),
            "e_result_dossiers": sum(d["e_result"] for d in mine),
        }
        yield Row(rec, p, True)


def _simple_rows(
    table: str, when: Callable[[Record, Period], bool]
) -> Callable[[Data, str, Period], Iterator[Row]]:
    """Records of `table` (a Data attribute) placed in a period when `when(record, period)`."""

    def rows(data: Data, placement: str, p: Period) -> Iterator[Row]:
        for r in getattr(data, table):
            if when(r, p):
                yield Row(r, p, False)

    return rows


def _month_holding(day: dt.date) -> dt.date:
    return dt.date(day.year, day.month, 1)


PLACERS: dict[str, Callable[[Data, str, Period], Iterator[Row]]] = {
    "dossier": _dossier_rows,
    "feedback": _feedback_rows,
    "unit_procedure": _unit_procedure_rows,
    "data_exchange": _simple_rows("data_exchange", lambda r, p: p.contains(r["day"])),
    "e_office": _simple_rows("e_office", lambda r, p: p.contains(r["month"])),
    # yearly figures hold for every day of their year: the year holding the period's last day
    "workforce": _simple_rows("workforce", lambda r, p: r["year"] == p.last_day.year),
    # monthly stocks: the figure of the month holding the period's last day
    "adoption": _simple_rows("adoption", lambda r, p: r["month"] == _month_holding(p.last_day)),
    # the components' status today, whatever the period
    "arch_component": _simple_rows("arch_components", lambda r, p: True),
}
UNIT_COLUMN: dict[str, str | None] = {
    "dossier": "unit_id",
    "feedback": "unit_id",
    "unit_procedure": "unit_id",
    "e_office": "unit_id",
    "workforce": "unit_id",
    "data_exchange": None,
    "adoption": None,
    "arch_component": None,
}


# The rules --------------------------------------------------------------------------------------------------


def on_time(r: Row) -> bool:
    """DOMAIN.md §3 for one dossier: finished ones at their finish, open ones on the period's last day."""
    if r["supplement_count"] > 1:
        return False
    moment = r.period.last_day if r.is_open else r["finished_at"].date()
    if r["due_at"] is not None:
        # the appointment date moves by the supplement working days
        return CAL.wd(r["due_at"].date(), moment) <= r["supplement_days"]
    return CAL.wd(r["received_at"].date(), moment) - r["supplement_days"] <= r["statutory_days"]


def elapsed_working_days(r: Row) -> int:
    """Processing time of a finished dossier in working days, supplement time excluded."""
    return max(CAL.wd(r["received_at"].date(), r["finished_at"].date()) - r["supplement_days"], 0)


def feedback_on_time(r: Row) -> bool:
    """Feedback (PAKN) within its deadline: its own due date, else 15 working days from receipt."""
    moment = r.period.last_day if r.is_open else r["handled_at"].date()
    if r["due_at"] is not None:
        return CAL.wd(r["due_at"].date(), moment) <= 0
    return CAL.wd(r["received_at"].date(), moment) <= 15


def synced_on_time(r: Row) -> bool:
    """Status synchronised to the national portal by the next working day (an unknown time is given the benefit)."""
    if not r["synced_to_national"]:
        return False
    return r["synced_at"] is None or CAL.wd(r["received_at"].date(), r["synced_at"].date()) <= 1


def published_on_time(r: Row) -> bool:
    """Published no later than the legal basis took effect (no effective date: publishing is on time)."""
    if r["published_on"] is None:
        return False
    return r["legal_effective_on"] is None or r["published_on"] <= r["legal_effective_on"]


def disclosed_on_time(r: Row) -> bool:
    """Disclosed in the national database within 5 working days of publication."""
    if r["published_on"] is None or r["disclosed_on"] is None:
        return False
    return CAL.wd(r["published_on"], r["disclosed_on"]) <= 5


def _handled(r: Row) -> bool:
    return r["status"] in ("finished", "returned")


def _not_withdrawn(r: Row) -> bool:
    return r["status"] != "withdrawn"


def _always(r: Row) -> bool:
    return True


@dataclass(frozen=True)
class Spec:
    source: str
    placement: str
    aggregation: str  # ratio, count, sum, mean, median, p90
    num: Callable[[Row], float]
    den: Callable[[Row], float] | None = None
    where: Callable[[Row], bool] = _always
    factor: float = 1.0


def pct(source: str, placement: str, num: Callable[[Row], float], den: Callable[[Row], float] | None = None,
        where: Callable[[Row], bool] = _always) -> Spec:  # fmt: skip
    return Spec(source, placement, "ratio", num, den or (lambda r: 1), where, 100.0)


ORACLES: dict[str, Spec] = {
    # -- dossiers by receipt
    "dossiers_received": Spec("dossier", "received", "count", lambda r: 1),
    "online_share": pct("dossier", "received", lambda r: r["channel"] == "online"),
    "online_submission": pct(
        "dossier", "received", lambda r: r["channel"] == "online", where=lambda r: r["online_level"] != "none"
    ),
    "fully_online_dossiers": pct(
        "dossier",
        "received",
        lambda r: r["channel"] == "online" and r["online_level"] == "full",
        where=lambda r: r["eligible_full_online"],
    ),
    "paid_online": pct(
        "dossier", "received", lambda r: r["paid_online"], where=lambda r: r["has_financial_obligation"]
    ),
    "dossiers_digitized": pct("dossier", "received", lambda r: r["digitized"]),
    "data_reuse": pct("dossier", "received", lambda r: r["reused_data"]),
    "linked_citizen_store": pct(
        "dossier", "received", lambda r: r["linked_to_citizen_store"], where=lambda r: r["digitized"]
    ),
    "population_data_use": pct("dossier", "received", lambda r: r["used_population_data"]),
    "dossiers_synced_on_time": pct("dossier", "received", synced_on_time),
    # -- dossiers by finish
    "dossiers_finished": Spec("dossier", "finished", "count", lambda r: 1, where=_handled),
    "e_results": pct("dossier", "finished", lambda r: r["e_result"], where=_handled),
    "processing_days_mean": Spec("dossier", "finished", "mean", elapsed_working_days, where=_handled),
    "processing_days_median": Spec("dossier", "finished", "median", elapsed_working_days, where=_handled),
    "processing_days_p90": Spec("dossier", "finished", "p90", elapsed_working_days, where=_handled),
    # -- dossiers handled in the period or open at its end
    "dossiers_on_time": pct("dossier", "finished_or_open", on_time, where=_not_withdrawn),
    # 100 % − (overdue share + share with a complaint or a 'dissatisfied' rating)
    "dossier_satisfaction": pct(
        "dossier",
        "finished_or_open",
        lambda r: 1 - (not on_time(r)) - (r["complaint"] or r["rating"] == "dissatisfied"),
        where=_not_withdrawn,
    ),
    "open_backlog": Spec("dossier", "open_at_end", "count", lambda r: 1, where=_not_withdrawn),
    "overdue_backlog": Spec(
        "dossier", "open_at_end", "count", lambda r: not on_time(r), where=_not_withdrawn
    ),
    # -- feedback
    "feedback_on_time": pct("feedback", "handled_or_open", feedback_on_time),
    "feedback_satisfaction": pct(
        "feedback", "handled", lambda r: bool(r["satisfied"]), lambda r: r["satisfied"] is not None
    ),
    # -- unit catalogues (unit × procedure pairs in force at the period's end)
    "procedures_in_force": Spec("unit_procedure", "in_force", "count", lambda r: 1),
    "procedures_online": pct("unit_procedure", "in_force", lambda r: r["online_level"] in ("full", "partial")),
    "procedures_full_online": pct("unit_procedure", "in_force", lambda r: r["online_level"] == "full"),
    "procedures_population_db": pct("unit_procedure", "in_force", lambda r: r["connected_population_db"]),
    "procedures_content_complete": pct("unit_procedure", "in_force", lambda r: r["content_complete"]),
    "procedures_published_on_time": pct("unit_procedure", "in_force", published_on_time),
    "procedures_disclosed_on_time": pct("unit_procedure", "in_force", disclosed_on_time),
    "fee_procedures_used": pct(
        "unit_procedure", "in_force", lambda r: r["dossiers"] > 0, where=lambda r: r["has_fee"]
    ),
    "fee_procedures_paid_online": pct(
        "unit_procedure", "in_force", lambda r: r["paid_online_dossiers"] > 0, where=lambda r: r["has_fee"]
    ),
    "communes_e_certified_copy": pct(
        "unit_procedure",
        "in_force",
        lambda r: r["e_result_dossiers"] > 0,
        where=lambda r: r["unit_level"] == "commune" and r["field"] == "chung_thuc",
    ),
    # -- other sources
    "exchange_requests": Spec("data_exchange", "day", "sum", lambda r: r["requests"]),
    "exchange_success_rate": pct("data_exchange", "day", lambda r: r["requests"] - r["failures"], lambda r: r["requests"]),
    "e_office_share": pct(
        "e_office", "month", lambda r: r["documents_electronic"], lambda r: r["documents_total"]
    ),
    "staff_trained": pct("workforce", "year", lambda r: r["staff_trained"], lambda r: r["staff"]),
    "training_plan_done": pct(
        "workforce",
        "year",
        lambda r: r["staff_trained"],
        lambda r: r["training_planned"],
        where=lambda r: r["training_planned"] is not None,
    ),
    "online_users": Spec("adoption", "month", "sum", lambda r: r["users"]),
    "vneid_users": pct("adoption", "month", lambda r: r["users_vneid"], lambda r: r["users"]),
    "arch_readiness": pct(
        "arch_component", "current", lambda r: r["status"] == "in_operation", where=lambda r: r["status"] != "retired"
    ),
}  # fmt: skip


# Aggregation ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    numerator: float | None
    denominator: float | None
    value: float | None
    placed: int  # records of the source placed in this period and unit, before the indicator's filters


def quantile(values: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks (position (n − 1)·q)."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _aggregate(spec: Spec, rows: list[Row]) -> Cell:
    chosen = [r for r in rows if spec.where(r)]
    nums = [float(spec.num(r)) for r in chosen]
    if spec.aggregation == "ratio":
        assert spec.den is not None
        num, den = sum(nums), sum(float(spec.den(r)) for r in chosen)
        return Cell(num, den, num / den * spec.factor if den > 0 else None, len(rows))
    if spec.aggregation in ("count", "sum"):
        return Cell(sum(nums), None, sum(nums) * spec.factor, len(rows))
    if spec.aggregation == "mean":
        if not nums:
            return Cell(None, 0.0, None, len(rows))
        return Cell(sum(nums), float(len(nums)), sum(nums) / len(nums) * spec.factor, len(rows))
    q = {"median": 0.5, "p90": 0.9}[spec.aggregation]
    return Cell(None, float(len(nums)), quantile(nums, q) * spec.factor if nums else None, len(rows))


def compute(
    data: Data,
    indicator: str,
    *,
    grain: str = "month",
    first: dt.date,
    last: dt.date,
    levels: tuple[str, ...] | None = None,
    version: str = "current",
    scope: str | None = None,
) -> dict[tuple[str, str | None], Cell]:
    """Golden cells keyed by (period label, unit id); unit id None without a unit split (`levels`)."""
    spec = ORACLES[indicator]
    unit_col = UNIT_COLUMN[spec.source]
    cells: dict[tuple[str, str | None], list[Row]] = defaultdict(list)
    for p in periods(grain, first, last, data.data_end):
        for row in PLACERS[spec.source](data, spec.placement, p):
            chain = ancestors(data, row[unit_col], version) if unit_col else []
            if scope is not None and scope not in chain:
                continue
            if levels is None:
                cells[p.label, None].append(row)
            else:
                for unit in chain:
                    if data.units[unit]["level"] in levels:
                        cells[p.label, unit].append(row)
    return {key: _aggregate(spec, rows) for key, rows in cells.items()}
