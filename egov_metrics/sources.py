"""Row sources the indicator catalog draws from: SQL over the canonical tables, their dimensions and dates.

Each source is a SELECT that yields one row per record with the columns indicator expressions may use.
Working-day positions come from `calendar_day.wd_index`, so "working days between" is a subtraction and
deadlines are compared as indices (no per-row Python, no loops). A registry, keyed by name.

Each source also declares where its data runs (`extent`: a table and its date columns) and the activity
columns it joins per period; `data_extent(con, source)` is the one answer to "where does the data end"
(the engine, the scheduler and the reports all ask it).

`CLOCK_SOURCE` is the source whose extent ends the periods of every engine request and sets the reports'
default month: the dossiers. A request's periods are one spine for all its indicators, so a source that ends
earlier or later than the dossiers is still cut at the dossiers' last day; cutting each source at its own
end needs the engine's spine and placement steps to take one end per source (not done yet).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class Placement:
    """How a record is placed in a period: by an event date, or as a stock open at the period's end."""

    event: str | None = None  # column whose value falls in the period
    stock: tuple[str, str] | None = None  # (start, stop): open at the end when start < end and stop >= end


@dataclass(frozen=True)
class DateColumn:
    """A date column of a source's table; a `month` value (its first day) stands for the whole month."""

    column: str
    span: Literal["day", "month"] = "day"

    def bounds_sql(self) -> tuple[str, str]:
        """SQL aggregates: the first and the last day the column's values cover. The cast is applied to the
        aggregate (the same day, as casting to a date keeps the order), so DuckDB answers from the column's
        statistics instead of scanning it (2 ms against 0.1–0.2 CPU-seconds at 10 M dossiers)."""
        first, last = f"CAST(min({self.column}) AS DATE)", f"CAST(max({self.column}) AS DATE)"
        if self.span == "month":
            return f"CAST(date_trunc('month', {first}) AS DATE)", f"last_day({last})"
        return first, last


@dataclass(frozen=True)
class Extent:
    """The days a source's data covers (both None when it holds no rows)."""

    first: dt.date | None
    last: dt.date | None

    @property
    def last_full_month_end(self) -> dt.date | None:
        """The last day of the data's last complete month (the month before when `last` is not a month end)."""
        last = self.last
        if last is not None and (last + dt.timedelta(days=1)).month == last.month:
            last = last.replace(day=1) - dt.timedelta(days=1)
        return last


@dataclass(frozen=True)
class Lookup:
    """Columns of a source that need a join of their own (e.g. one more `calendar_day` look-up).

    The engine adds them to the source's rows only for a request whose expressions read one of them, so
    that a request which never reads e.g. `sync_wd` does not pay a join of every dossier with the calendar.
    `join` is joined to the source's SELECT, aliased `s`; `columns` are SQL over `s` and the joined table.
    """

    join: str
    columns: dict[str, str]


@dataclass(frozen=True)
class Source:
    name: str
    #: The SELECT of the source's rows, without its `lookups` (see `select`).
    sql: str
    dimensions: dict[str, str]  # dimension name -> column (unit is resolved through the unit hierarchy)
    placements: dict[str, Placement]
    unit_column: str | None = "unit_id"
    #: Optional per-period activity joined to each placed row: a SELECT with the source's key columns,
    #: a timestamp `at` placed like an event, and numeric columns summed per period (see unit_procedure).
    activity_sql: str | None = None
    activity_keys: tuple[str, ...] = field(default=())
    #: The numeric columns of `activity_sql`, summed per period (0 where a row has no activity).
    activity_columns: tuple[str, ...] = field(default=())
    #: Columns whose value depends on the period (SQL over a placed row, which has period_end_excl);
    #: they replace the source's column of the same name.
    period_columns: dict[str, str] = field(default_factory=dict)
    #: Where the source's data runs: a table and its date columns (none: the source has no end of its own,
    #: e.g. declared architecture components).
    extent_table: str | None = None
    extent_dates: tuple[DateColumn, ...] = field(default=())
    #: Columns added through joins of their own, only when read (see `Lookup`).
    lookups: tuple[Lookup, ...] = field(default=())

    def select(self, reads: Iterable[str] | None = None) -> str:
        """The source's SELECT with the lookups whose columns one of the SQL texts `reads` names (all: None)."""
        texts = None if reads is None else " ".join(reads)
        used = [
            lk
            for lk in self.lookups
            if texts is None or any(re.search(rf"\b{c}\b", texts, re.IGNORECASE) for c in lk.columns)
        ]
        if not used:
            return self.sql
        cols = ", ".join(f"{expr} AS {col}" for lk in used for col, expr in lk.columns.items())
        joins = "\n".join(lk.join for lk in used)
        return f"SELECT s.*, {cols}\nFROM ({self.sql}) s\n{joins}"


DOSSIER_SQL = """
SELECT d.id, d.unit_id, d.procedure_code AS procedure, p.field, d.channel, d.applicant_type,
       d.received_at, d.due_at, d.finished_at, d.returned_at, d.status,
       d.supplement_count, d.supplement_days, d.e_result, d.digitized, d.reused_data,
       d.linked_to_citizen_store, d.used_population_data, d.synced_to_national, d.synced_at,
       d.has_financial_obligation, d.paid_online, d.complaint, d.rating,
       CASE WHEN p.online_level = 'full' AND p.full_online_since IS NOT NULL
                 AND CAST(d.received_at AS DATE) < p.full_online_since THEN 'partial'
            ELSE p.online_level END AS online_level,
       p.eligible_full_online, p.has_fee, p.statutory_days, p.level AS procedure_level,
       cr.wd_index AS received_idx,
       d.supplement_count > 1 AS late_by_supplement,
       d.complaint OR coalesce(d.rating = 'dissatisfied', FALSE) AS complained
FROM dossier d
JOIN procedure p ON p.code = d.procedure_code
JOIN calendar_day cr ON cr.day = CAST(d.received_at AS DATE)
"""

#: The working-day index of a dossier's finish, and its working days from receipt to finish less the time
#: paused for the applicant: a join of every dossier with the calendar, read by the timeliness and
#: processing-time indicators only, so added only when read (13 of the catalog's 19 dossier indicators read
#: neither this join nor the deadline's: 4-5x less time per call on their own, measured on the 2 M demo).
DOSSIER_FINISH_LOOKUP = Lookup(
    join="LEFT JOIN calendar_day cf ON cf.day = CAST(s.finished_at AS DATE)",
    columns={
        "finished_idx": "cf.wd_index",
        "elapsed_wd": "greatest(cf.wd_index - s.received_idx - s.supplement_days, 0)",
    },
)
#: The working-day index of a dossier's deadline: its appointment date's, or the statutory working days
#: from receipt; the paused days added. Another calendar join, only when read.
DOSSIER_DUE_LOOKUP = Lookup(
    join="LEFT JOIN calendar_day cd ON cd.day = CAST(s.due_at AS DATE)",
    columns={"deadline_idx": "coalesce(cd.wd_index, s.received_idx + s.statutory_days) + s.supplement_days"},
)

#: Working days from receipt to the sync with the national portal: one more calendar join, read by few
#: indicators (`dossiers_synced_on_time`), so added only when read.
DOSSIER_SYNC_LOOKUP = Lookup(
    join="LEFT JOIN calendar_day cs ON cs.day = CAST(s.synced_at AS DATE)",
    columns={"sync_wd": "cs.wd_index - s.received_idx"},
)

FEEDBACK_SQL = """
SELECT f.id, f.unit_id, f.received_at, f.handled_at, f.satisfied, f.topic,
       cr.wd_index AS received_idx, ch.wd_index AS handled_idx,
       coalesce(cd.wd_index, cr.wd_index + 15) AS deadline_idx
FROM feedback f
JOIN calendar_day cr ON cr.day = CAST(f.received_at AS DATE)
LEFT JOIN calendar_day ch ON ch.day = CAST(f.handled_at AS DATE)
LEFT JOIN calendar_day cd ON cd.day = CAST(f.due_at AS DATE)
"""

# One row per unit × procedure in the unit's catalogue, with the procedure's attributes and the unit's
# dossier activity on it per month (joined by the engine to the period, see `activity` below).
# A pair is in force while the procedure is in force AND the unit exists: the catalogue of a unit that was
# merged or abolished (valid_to) stops counting then (least()/greatest() skip NULLs).
UNIT_PROCEDURE_SQL = """
SELECT up.unit_id, up.procedure_code AS procedure, p.field, p.online_level, p.full_online_since,
       p.eligible_full_online,
       p.has_fee, p.connected_population_db, p.content_complete, p.level AS procedure_level,
       p.legal_effective_on, p.published_on, p.disclosed_on,
       greatest(coalesce(p.legal_effective_on, DATE '2000-01-01'), u.valid_from) AS in_force_from,
       least(p.valid_to, u.valid_to) AS in_force_to,
       u.level AS unit_level,
       p.published_on IS NOT NULL AND p.published_on <= coalesce(p.legal_effective_on, p.published_on)
           AS published_on_time,
       p.disclosed_on IS NOT NULL AND p.published_on IS NOT NULL
           AND cdisc.wd_index - cpub.wd_index <= 5 AS disclosed_on_time
FROM unit_procedure up
JOIN procedure p ON p.code = up.procedure_code
JOIN org_unit u ON u.id = up.unit_id
LEFT JOIN calendar_day cpub ON cpub.day = p.published_on
LEFT JOIN calendar_day cdisc ON cdisc.day = p.disclosed_on
"""

UNIT_PROCEDURE_ACTIVITY_SQL = """
SELECT d.unit_id, d.procedure_code AS procedure, d.received_at AS at,
       1 AS dossiers,
       CAST(d.paid_online AS INTEGER) AS paid_online_dossiers,
       CAST(d.e_result AS INTEGER) AS e_result_dossiers,
       CAST(d.channel = 'online' AS INTEGER) AS online_dossiers
FROM dossier d
"""

EXCHANGE_SQL = """
SELECT day, platform, source_system, target_system, requests, failures
FROM data_exchange
"""

E_OFFICE_SQL = """
SELECT unit_id, month, documents_total, documents_electronic, u.level AS unit_level
FROM e_office JOIN org_unit u ON u.id = e_office.unit_id
"""

WORKFORCE_SQL = """
SELECT unit_id, year, staff, staff_trained, training_planned,
       make_date(year, 1, 1) AS valid_from, make_date(year + 1, 1, 1) AS valid_to
FROM workforce
"""

ADOPTION_SQL = """
SELECT month, users, users_vneid, month + INTERVAL 1 MONTH AS valid_to FROM adoption
"""

COMPONENT_SQL = """
SELECT c.id, c.layer, c.phase_id, c.status, c.planned_at, c.live_at, c.owner_unit AS unit_id,
       DATE '2000-01-01' AS valid_from, CAST(NULL AS DATE) AS valid_to
FROM arch_component c
"""

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "dossier",
            DOSSIER_SQL,
            dimensions={
                "unit": "unit_id",
                "procedure": "procedure",
                "field": "field",
                "channel": "channel",
                "applicant_type": "applicant_type",
                "online_level": "online_level",
            },
            placements={
                "received": Placement(event="received_at"),
                "finished": Placement(event="finished_at"),
                "open_at_end": Placement(stock=("received_at", "finished_at")),
                "finished_or_open": Placement(event="finished_at", stock=("received_at", "finished_at")),
            },
            extent_table="dossier",
            extent_dates=(DateColumn("received_at"), DateColumn("finished_at")),
            lookups=(DOSSIER_FINISH_LOOKUP, DOSSIER_DUE_LOOKUP, DOSSIER_SYNC_LOOKUP),
        ),
        Source(
            "feedback",
            FEEDBACK_SQL,
            dimensions={"unit": "unit_id"},
            placements={
                "received": Placement(event="received_at"),
                "handled": Placement(event="handled_at"),
                "handled_or_open": Placement(event="handled_at", stock=("received_at", "handled_at")),
            },
            extent_table="feedback",
            extent_dates=(DateColumn("received_at"), DateColumn("handled_at")),
        ),
        Source(
            "unit_procedure",
            UNIT_PROCEDURE_SQL,
            dimensions={
                "unit": "unit_id",
                "procedure": "procedure",
                "field": "field",
                "online_level": "online_level",
            },
            placements={"in_force": Placement(stock=("in_force_from", "in_force_to"))},
            activity_sql=UNIT_PROCEDURE_ACTIVITY_SQL,
            activity_keys=("unit_id", "procedure"),
            activity_columns=("dossiers", "paid_online_dossiers", "e_result_dossiers", "online_dossiers"),
            # the level at the period's end: a 'full' service was partial before its upgrade date
            period_columns={
                "online_level": "CASE WHEN online_level = 'full' AND full_online_since IS NOT NULL "
                "AND full_online_since >= period_end_excl THEN 'partial' ELSE online_level END"
            },
            # the catalogue is a stock; its figures per period are its dossier activity: the dossiers' extent
            extent_table="dossier",
            extent_dates=(DateColumn("received_at"), DateColumn("finished_at")),
        ),
        Source(
            "data_exchange",
            EXCHANGE_SQL,
            dimensions={"platform": "platform", "system": "source_system"},
            placements={"day": Placement(event="day")},
            unit_column=None,
            extent_table="data_exchange",
            extent_dates=(DateColumn("day"),),
        ),
        Source(
            "e_office",
            E_OFFICE_SQL,
            dimensions={"unit": "unit_id"},
            placements={"month": Placement(event="month")},
            extent_table="e_office",
            extent_dates=(DateColumn("month", "month"),),
        ),
        Source(
            "workforce",
            WORKFORCE_SQL,
            dimensions={"unit": "unit_id"},
            placements={"year": Placement(stock=("valid_from", "valid_to"))},
            # a year's staff plan holds for the whole year: it says nothing about where the data ends
        ),
        Source(
            "adoption",
            ADOPTION_SQL,
            dimensions={},
            placements={"month": Placement(stock=("month", "valid_to"))},
            unit_column=None,
            extent_table="adoption",
            extent_dates=(DateColumn("month", "month"),),
        ),
        Source(
            "arch_component",
            COMPONENT_SQL,
            dimensions={"layer": "layer", "phase": "phase_id"},
            placements={"current": Placement(stock=("valid_from", "valid_to"))},
            unit_column=None,
        ),
    )
}

#: Every dimension any source offers, for validation and help texts.
ALL_DIMENSIONS = sorted({d for s in SOURCES.values() for d in s.dimensions})


# -- where the data runs ----------------------------------------------------------------------------------

#: The source whose data end closes every engine request and sets the reports' and the scheduler's periods.
CLOCK_SOURCE = "dossier"

#: Extents per (database file version, source): warm calls skip the query (see cache.file_version).
_EXTENTS: dict[tuple[object, ...], Extent] = {}


def _source_extent(
    con: duckdb.DuckDBPyConnection, source: Source, version: tuple[object, ...] | bool | None = True
) -> Extent:
    if source.extent_table is None or not source.extent_dates:
        return Extent(None, None)
    if version is True:
        from egov_metrics.cache import file_version

        version = file_version(con)
    key = (*version, source.name) if isinstance(version, tuple) else None
    if key is not None and key in _EXTENTS:
        return _EXTENTS[key]
    bounds = [d.bounds_sql() for d in source.extent_dates]
    first = f"least({', '.join(b[0] for b in bounds)})"
    last = f"greatest({', '.join(b[1] for b in bounds)})"
    row = con.sql(f"SELECT {first}, {last} FROM {source.extent_table}").fetchall()[0]
    extent = Extent(row[0], row[1])
    if key is not None and extent.last is not None:
        _EXTENTS[key] = extent
    return extent


def data_extent(
    con: duckdb.DuckDBPyConnection,
    source: str | None = None,
    *,
    version: tuple[object, ...] | bool | None = True,
) -> Extent:
    """The first and last day of one source's data (`source="dossier"`), or of all sources (the earliest
    first day and the latest last day of any source with dates).

    The one place that says where data ends: a source's date columns are declared with it (`extent_dates`),
    so a dossier source ends at its last receipt or decision, feedback at its last receipt or reply, the
    monthly e-office counts at the end of their last month. `version` is the database's `cache.file_version`
    when the caller already has it (True: look it up; None: do not cache).
    """
    if source is not None:
        if source not in SOURCES:
            from egov_metrics.errors import UnknownNameError

            raise UnknownNameError.from_choices("source", source, SOURCES)
        return _source_extent(con, SOURCES[source], version)
    extents = [_source_extent(con, s, version) for s in SOURCES.values()]
    firsts = [e.first for e in extents if e.first is not None]
    lasts = [e.last for e in extents if e.last is not None]
    return Extent(min(firsts, default=None), max(lasts, default=None))
