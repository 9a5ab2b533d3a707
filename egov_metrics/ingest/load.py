"""`ingest_file`: read an export, map and check it, quarantine bad rows and upsert the rest in one transaction."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from egov_metrics import calendar
from egov_metrics.errors import IngestError
from egov_metrics.export import write_csv
from egov_metrics.i18n import Said, check_lang, fmt_number
from egov_metrics.ingest import sql
from egov_metrics.ingest.kinds import Kind, get_kind
from egov_metrics.ingest.mapping import Mapping, normalise, resolve_mapping
from egov_metrics.ingest.readers import Source, read_source, sheets_with_headers
from egov_metrics.schema.connection import add_reason_columns, quarantine_table
from egov_metrics.schema.publish import DEFAULT_WRITER_WAIT, publishing

#: Rejected rows listed in the summary; the rest are in `quarantine`.
SUMMARY_REJECTS = 10

#: The ingest summary's words in both languages (`IngestResult.summary`, `Reject.describe`).
SUMMARY: dict[str, dict[str, str]] = {
    "en": {
        "loaded": "Loaded {kind} file {file} ({source}) with mapping {mapping!r} into {db}",
        "counts": "  read {read} · inserted {inserted} · updated {updated} · unchanged {unchanged} · "
        "rejected {rejected}   (run {run}, {seconds} s)",
        "empty": "  the file holds no rows below its header: nothing was loaded (an empty export?)",
        "blank": "  skipped {n} blank row(s)",
        "totals": "  skipped {n} total row(s), not {what}: {shown}",
        "crosswalked": "  {n} row(s) with unit {given!r} received {when} were attached to {used!r}, the unit "
        "that existed then (crosswalk)",
        "after_end": "after that unit had ended",
        "before_start": "before that unit existed",
        "ignored": "  columns not used by the mapping: {columns}",
        "outside": "  {n} {what} of unit {unit!r} were received on a day outside its validity as now loaded: "
        "load them again to attach them to the unit valid then",
        "rejected": "Rejected {rows} row(s) with {problems} problem(s)",
        "first": "; the first {n}:",
        "all_rejected": "All rejected rows are in the quarantine table: {query}",
        "and_in": "and in {file}",
        "row": "row",
        "column": "column",
        "whole_row": "whole row",
    },
    "vi": {
        "loaded": "Đã nạp tệp {kind} {file} ({source}) theo ánh xạ cột {mapping!r} vào {db}",
        "counts": "  đọc {read} · thêm mới {inserted} · cập nhật {updated} · không đổi {unchanged} · "
        "bị loại {rejected}   (lần nạp {run}, {seconds} giây)",
        "empty": "  tệp không có dòng nào dưới dòng tiêu đề: không nạp gì (tệp xuất ra bị trống?)",
        "blank": "  bỏ qua {n} dòng trống",
        "totals": "  bỏ qua {n} dòng tổng cộng, không phải {what}: {shown}",
        "crosswalked": "  {n} dòng có đơn vị {given!r} tiếp nhận {when} được gán cho {used!r}, đơn vị tồn tại "
        "vào ngày đó (theo bảng chuyển đổi đơn vị)",
        "after_end": "sau khi đơn vị đó đã kết thúc",
        "before_start": "trước khi đơn vị đó được thành lập",
        "ignored": "  các cột không dùng trong ánh xạ: {columns}",
        "outside": "  {n} {what} của đơn vị {unit!r} tiếp nhận vào ngày nằm ngoài thời gian hiệu lực vừa nạp của "
        "đơn vị: nạp lại các bản ghi đó để gán cho đơn vị có hiệu lực vào ngày đó",
        "rejected": "Đã loại {rows} dòng, {problems} lỗi",
        "first": "; {n} lỗi đầu tiên:",
        "all_rejected": "Mọi dòng bị loại nằm trong bảng quarantine: {query}",
        "and_in": "và trong {file}",
        "row": "dòng",
        "column": "cột",
        "whole_row": "cả dòng",
    },
}


@dataclass(frozen=True)
class Reject:
    row: int
    column: str | None
    value: str | None
    reason: str
    #: The reason in Vietnamese; None in rows quarantined by a version before it (then `reason` is shown).
    reason_vi: str | None = None

    def describe(self, lang: str = "en") -> str:
        words = SUMMARY[lang]
        where = f"{words['column']} {self.column!r}" if self.column else words["whole_row"]
        value = f" = {self.value!r}" if self.value is not None else ""
        reason = self.reason_vi if lang == "vi" and self.reason_vi else self.reason
        return f"{words['row']} {self.row}, {where}{value}: {reason}"


@dataclass(frozen=True)
class IngestResult:
    """What one ingest did. `rows_read == inserted + updated + unchanged + rejected`."""

    run_id: int
    kind: str
    file: Path
    db_path: Path
    mapping: str
    source: str
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    problems: int
    blank_rows: int
    ignored_columns: tuple[str, ...]
    rejects: tuple[Reject, ...]
    seconds: float
    rejects_file: Path | None = None
    #: `source` in Vietnamese ('csv (utf-8 có BOM, …)'), for the summary in Vietnamese.
    source_vi: str | None = None
    #: Total rows ("Tổng cộng") skipped: (row, label).
    total_rows: tuple[tuple[int, str], ...] = ()
    #: Rows whose unit did not exist (yet or any more) on the received day, attached to the unit that did:
    #: (unit given, unit attached, rows, 'crosswalk' or 'successor').
    crosswalked: tuple[tuple[str, str, int, str], ...] = ()
    #: After a unit list changed units: (table, unit, records) received on a day their unit was not valid.
    outside_validity: tuple[tuple[str, str, int], ...] = ()

    @property
    def rejects_query(self) -> str:
        return f"SELECT * FROM quarantine WHERE run_id = {self.run_id} ORDER BY row_number"

    def summary(self, limit: int = SUMMARY_REJECTS, markup: bool = True, lang: str = "en") -> str:
        """A few lines for the data officer in `lang`; with `markup`, safe to print with rich (values escaped)."""
        w = SUMMARY[check_lang(lang)]

        def n(value: int) -> str:
            return fmt_number(value, 0, lang)

        kind = get_kind(self.kind)
        lines = [
            w["loaded"].format(
                kind=(kind.name_vi or kind.name) if lang == "vi" else kind.name,
                file=self.file,
                source=(self.source_vi or self.source) if lang == "vi" else self.source,
                mapping=self.mapping,
                db=self.db_path,
            ),
            w["counts"].format(
                read=n(self.rows_read),
                inserted=n(self.inserted),
                updated=n(self.updated),
                unchanged=n(self.unchanged),
                rejected=n(self.rejected),
                run=self.run_id,
                seconds=fmt_number(self.seconds, 1, lang),
            ),
        ]
        if not self.rows_read:
            lines.append(w["empty"])
        if self.blank_rows:
            lines.append(w["blank"].format(n=n(self.blank_rows)))
        if self.total_rows:
            shown = ", ".join(f"{w['row']} {r} ({label!r})" for r, label in self.total_rows[:3])
            if lang == "vi":
                what = "hồ sơ" if kind.name == "dossier" else f"dòng {kind.name_vi or kind.name}"
            else:
                what = "dossiers" if kind.name == "dossier" else f"{kind.name} rows"
            lines.append(w["totals"].format(n=n(len(self.total_rows)), what=what, shown=shown))
        for given, used, count, how in self.crosswalked:
            when = w["after_end"] if how == "successor" else w["before_start"]
            lines.append(w["crosswalked"].format(n=n(count), given=given, when=when, used=used))
        for table, unit, count in self.outside_validity:
            what = UNIT_RECORDS[table](lang)
            lines.append(w["outside"].format(n=n(count), what=what, unit=unit))
        if self.ignored_columns:
            lines.append(w["ignored"].format(columns=", ".join(self.ignored_columns)))
        if self.rejected:
            first = self.rejects[:limit]
            lines.append(
                w["rejected"].format(rows=n(self.rejected), problems=n(self.problems))
                + (w["first"].format(n=len(first)) if self.problems > len(first) else ":")
            )
            lines += [f"  {r.describe(lang)}" for r in first]
            lines.append(w["all_rejected"].format(query=self.rejects_query))
            if self.rejects_file:
                lines.append(w["and_in"].format(file=self.rejects_file))
        text = "\n".join(lines)
        return escape(text) if markup else text

    def __str__(self) -> str:
        return self.summary(markup=False)


# --- progress ----------------------------------------------------------------------------------------------


class _Feedback:
    """A rich progress display on stderr (reading by bytes or rows, then the checking steps), or nothing."""

    STEPS = 8  # the `step()` calls of `_stage` and `_write`

    def __init__(self, progress: Progress | None = None, file: Path | None = None) -> None:
        self._progress = progress
        self._read = (
            progress.add_task(f"reading {file.name if file else ''}", total=None) if progress else None
        )
        self._check: TaskID | None = None

    def reading(self, done: int, total: int | None) -> None:
        if self._progress is not None and self._read is not None:
            self._progress.update(self._read, completed=done, total=total)

    def step(self, label: str) -> None:
        if self._progress is None or self._read is None:
            return
        if self._check is None:
            self._progress.update(self._read, completed=1, total=1)
            self._check = self._progress.add_task(label, total=self.STEPS)
        self._progress.update(self._check, advance=1, description=label)


@contextlib.contextmanager
def _feedback(enabled: bool, file: Path) -> Iterator[_Feedback]:
    if not enabled:
        yield _Feedback()
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        yield _Feedback(progress, file)


# --- the pipeline ------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _known_headers(mapping: Mapping) -> set[str]:
    return {normalise(h) for h, _ in mapping.rules()}


def _one(con: duckdb.DuckDBPyConnection, query: str, params: list[object] | None = None) -> int:
    """The integer in the first cell of `query`'s result (counts, sequence values, ids)."""
    return int(con.sql(query, params=params or []).fetchall()[0][0])


def _register_fields(con: duckdb.DuckDBPyConnection, plan: sql.Plan) -> None:
    """Add the fields procedures name that `field` does not know yet (code = names = the text of Lĩnh vực)."""
    con.execute(
        "INSERT INTO field (code, name_vi, name_en) SELECT DISTINCT field, field, field FROM ingest_good g "
        "WHERE NOT EXISTS (SELECT 1 FROM field f WHERE f.code = g.field)"
    )


#: Steps after the upsert, by the names listed in `Kind.after_load`.
AFTER_LOAD: dict[str, Callable[[duckdb.DuckDBPyConnection, sql.Plan], None]] = {
    "register_fields": _register_fields,
}


@dataclass(frozen=True)
class _Counts:
    rows_read: int
    blank_rows: int
    total_rows: tuple[tuple[int, str], ...]
    crosswalked: tuple[tuple[str, str, int, str], ...]
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    problems: int


def _stage(con: duckdb.DuckDBPyConnection, plan: sql.Plan, source: Source, feedback: _Feedback) -> _Counts:
    """Build the temp tables of `sql.py` and count what the upsert will do."""
    feedback.step("staging rows")
    con.register("ingest_raw", source.frame)  # a view on the Arrow data, no copy
    con.execute(sql.clean_sql(plan))
    feedback.step("mapping values")
    for create in sql.map_sql(plan).values():
        con.execute(create)
    feedback.step("parsing values")
    con.execute(sql.parsed_sql(plan))
    refs = sql.lookups(plan)
    feedback.step("resolving references")
    for column, ref in refs.items():
        con.execute(f"CREATE OR REPLACE TEMP TABLE ingest_ref_{column} AS {ref.create}")
    feedback.step("comparing with the database")
    con.execute(sql.eff_sql(plan, refs))
    feedback.step("checking rules")
    con.execute(sql.reject_sql(plan, refs))
    sql.reject_swapped_dates(con, plan)
    sql.reject_uncalculated(con, plan, source.uncalculated)
    for column in plan.kind.no_cycles:
        sql.reject_cycles(con, plan, column)
    sql.reject_invalid_successors(con, plan)
    con.execute(sql.good_sql(plan))
    crossed = sql.crosswalked(con, plan)
    for table in ("ingest_parsed", "ingest_eff", *(f"ingest_map_{c}" for c in sql.map_sql(plan))):
        con.execute(f"DROP TABLE IF EXISTS {table}")  # free memory before the write
    status = dict(con.sql("SELECT __status, count(*) FROM ingest_good GROUP BY ALL").fetchall())
    raw = _one(con, "SELECT count(*) FROM ingest_raw")
    read = _one(con, "SELECT count(*) FROM ingest_clean")
    totals = tuple((int(r), str(label)) for r, label in con.sql(sql.total_rows_sql(plan)).fetchall())
    rejected, problems = con.sql("SELECT count(DISTINCT __row), count(*) FROM ingest_reject").fetchall()[0]
    return _Counts(
        read,
        raw - read - len(totals),
        totals,
        crossed,
        status.get("insert", 0),
        status.get("update", 0),
        status.get("same", 0),
        rejected,
        problems,
    )


def _write(
    con: duckdb.DuckDBPyConnection, plan: sql.Plan, counts: _Counts, file: Path, feedback: _Feedback
) -> int:
    """Upsert, quarantine and record the run; returns the run id."""
    run_id = _one(con, "SELECT nextval('ingest_run_seq')")
    feedback.step(f"writing {counts.inserted + counts.updated:,} rows")
    if counts.inserted or counts.updated:
        con.execute(sql.merge_sql(plan))
    for name in plan.kind.after_load:
        AFTER_LOAD[name](con, plan)
    feedback.step("quarantining rejected rows")
    add_reason_columns(con)
    con.execute(
        'INSERT INTO quarantine (run_id, kind, file, row_number, "column", value, reason, record, reason_vi, '
        f"problem) {sql.quarantine_sql(plan)}",
        [run_id, plan.kind.name, str(file)],
    )
    return run_id


def _record_run(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    plan: sql.Plan,
    file: Path,
    sha256: str,
    started: dt.datetime,
    counts: _Counts,
) -> None:
    con.execute(
        "INSERT INTO ingest_run (id, kind, file, sha256, mapping, started_at, finished_at, rows_read, inserted, "
        "updated, unchanged, rejected) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            plan.kind.name,
            str(file),
            sha256,
            plan.mapping.name,
            started,
            dt.datetime.now(),
            counts.rows_read,
            counts.inserted,
            counts.updated,
            counts.unchanged,
            counts.rejected,
        ],
    )


def _rejects(con: duckdb.DuckDBPyConnection, run_id: int, limit: int) -> tuple[Reject, ...]:
    rows = con.sql(
        f'SELECT row_number, "column", value, reason, reason_vi FROM {quarantine_table(con)} q '
        "WHERE run_id = ? ORDER BY row_number LIMIT ?",
        params=[run_id, limit],
    ).fetchall()
    return tuple(Reject(*r) for r in rows)


def _other_sheet(exc: IngestError, source: Source, mapping: Mapping) -> IngestError:
    """A workbook whose headers are on another sheet than the one read: say which sheet and how to pick it."""
    if source.format != "xlsx" or "missing required column" not in exc.message:
        return exc
    others = sheets_with_headers(source.path, _known_headers(mapping), source.sheet)
    if not others:
        return exc
    message, _ = exc.said()
    return IngestError(
        message
        + Said(
            f"\nđây là trang tính {source.sheet!r}; trang tính {others[0]!r} mới chứa các tiêu đề mà ánh xạ cần",
            f"\nthis was sheet {source.sheet!r}; the sheet {others[0]!r} holds the headers the mapping expects",
        ),
        Said(
            f"truyền --sheet {others[0]!r} (hoặc đặt `sheet: {others[0]}` trong tệp ánh xạ cột) để nạp trang tính đó",
            f"pass --sheet {others[0]!r} (or set `sheet: {others[0]}` in a mapping file) to load that sheet",
        ),
    )


def _ensure_calendar(con: duckdb.DuckDBPyConnection) -> None:
    if not _one(con, "SELECT count(*) FROM calendar_day"):
        con.execute("BEGIN TRANSACTION")
        calendar.materialise(con)
        con.execute("COMMIT")


def _load(
    con: duckdb.DuckDBPyConnection, plan: sql.Plan, source: Source, sha256: str, feedback: _Feedback
) -> tuple[int, _Counts, tuple[Reject, ...]]:
    """Everything that writes, in one transaction: all of it is committed or none of it."""
    started = dt.datetime.now()
    con.execute("BEGIN TRANSACTION")
    try:
        counts = _stage(con, plan, source, feedback)
        run_id = _write(con, plan, counts, source.path.resolve(), feedback)
        _record_run(con, run_id, plan, source.path.resolve(), sha256, started, counts)
        rejects = _rejects(con, run_id, SUMMARY_REJECTS)
        con.execute("COMMIT")
    except duckdb.Error as exc:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise IngestError(
            f"{source.path}: the database refused the load, nothing was written: {str(exc).splitlines()[0]}",
            "this is a bug in egov-metrics' checks; please report it with the file (the database is unchanged)",
        ) from exc
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    return run_id, counts, rejects


def ingest_file(
    db_path: Path,
    kind: str,
    file: Path,
    mapping: str | None = None,
    progress: bool = True,
    *,
    rejects: Path | None = None,
    wait_seconds: float = DEFAULT_WRITER_WAIT,
    sheet: str | None = None,
) -> IngestResult:
    """Load an export (CSV, XLSX or Parquet) of `kind` into the database at `db_path`.

    The file is read with the mapping (a built-in name or a YAML file; default: the kind's built-in), every row
    is parsed and checked in DuckDB, rows with problems go to `quarantine` (one line per problem), and the rest
    are upserted by primary key, all in one transaction. Loading the same file again changes nothing.
    A database that does not exist yet is created (schema and calendar). With `rejects`, the rejected rows are
    also written to that CSV file.

    The load is written into a copy of the database that replaces it atomically at the end (`schema.publish`):
    reports and notebooks started meanwhile read the previous state at once. Another writer of the same
    database is waited for, up to `wait_seconds`.
    """
    t0 = time.perf_counter()
    spec: Kind = get_kind(kind)
    chosen = resolve_mapping(spec, mapping)
    file = Path(file)
    with _feedback(progress, file) as feedback:
        source = read_source(
            file, _known_headers(chosen), chosen.header_row, sheet or chosen.sheet, feedback.reading
        )
        try:
            plan = sql.plan_columns(
                spec,
                chosen,
                source.headers,
                file,
                odd_spaces=source.odd_spaces,
                control_chars=source.control_chars,
            )
        except IngestError as exc:
            raise _other_sheet(exc, source, chosen) from None
        sha256 = _sha256(file)
        with publishing(db_path, f"ingest {spec.name} {file.name}", wait_seconds=wait_seconds) as con:
            _ensure_calendar(con)
            run_id, counts, sample = _load(con, plan, source, sha256, feedback)
            if rejects is not None and counts.rejected:
                export_rejects(con, run_id, rejects)
            outside = outside_validity(con) if spec.table == "org_unit" and counts.updated else ()
    return IngestResult(
        run_id=run_id,
        kind=spec.name,
        file=file,
        db_path=Path(db_path),
        mapping=chosen.name,
        source=source.describe(),
        source_vi=source.describe("vi"),
        rows_read=counts.rows_read,
        inserted=counts.inserted,
        updated=counts.updated,
        unchanged=counts.unchanged,
        rejected=counts.rejected,
        problems=counts.problems,
        blank_rows=counts.blank_rows,
        ignored_columns=plan.ignored,
        rejects=sample,
        seconds=time.perf_counter() - t0,
        rejects_file=rejects if rejects is not None and counts.rejected else None,
        total_rows=counts.total_rows,
        crosswalked=counts.crosswalked,
        outside_validity=outside,
    )


#: The tables whose records belong to a unit on their received day (what a change of validity can strand).
UNIT_RECORDS = {
    "dossier": Said("hồ sơ", "dossier(s)"),
    "feedback": Said("phản ánh, kiến nghị", "feedback item(s)"),
}


def outside_validity(con: duckdb.DuckDBPyConnection) -> tuple[tuple[str, str, int], ...]:
    """(table, unit, records) for the records received on a day their unit was not valid: what a unit list
    that moved a unit's dates leaves behind (a load of records attaches each to the unit valid that day)."""
    records = " UNION ALL ".join(f"SELECT '{t}' AS t, unit_id, received_at FROM {t}" for t in UNIT_RECORDS)
    found = con.sql(
        f"SELECT r.t, r.unit_id, count(*) FROM ({records}) r JOIN org_unit u ON u.id = r.unit_id "
        "WHERE CAST(r.received_at AS DATE) < u.valid_from OR CAST(r.received_at AS DATE) >= u.valid_to "
        "GROUP BY ALL ORDER BY 1, 2"
    ).fetchall()
    return tuple((str(t), str(u), int(n)) for t, u, n in found)


def read_rejects(con: duckdb.DuckDBPyConnection, run_id: int | None = None) -> pl.DataFrame:
    """The quarantined rows of one run (default: the latest run) as a polars frame: the reason in English and
    in Vietnamese (`reason_vi`), and the kind of problem (`sql.PROBLEMS`, or 'rule')."""
    if run_id is None:
        run_id = _one(con, "SELECT coalesce(max(id), 0) FROM ingest_run")
    return con.sql(
        'SELECT run_id, kind, file, row_number, "column", value, reason, reason_vi, problem, record '
        f"FROM {quarantine_table(con)} q WHERE run_id = ? ORDER BY row_number",
        params=[run_id],
    ).pl()


def export_rejects(con: duckdb.DuckDBPyConnection, run_id: int, path: Path) -> int:
    """Write one run's quarantined rows to a CSV that Excel opens with Vietnamese intact (UTF-8 with BOM);
    values that a spreadsheet would read as formulas are written with a leading single quote."""
    frame = read_rejects(con, run_id)
    write_csv(frame, path)  # text cells made safe: a rejected value may be a formula
    return frame.height
