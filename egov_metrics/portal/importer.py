"""Load the national portal's published 766 figures (saved JSON responses of its evaluation API) into tables.

    snapshot = read_response("dossier-digitized/year-all.json", period="2026", captured_on=date(2026, 9, 26))
    report = import_files(db, ["transparency/year-all.json", ...], periods={"year": "2026"}, captured_on=...)

Each response is one group of the index for one period, as the public capture tools save it (see
`egov_metrics.portal.mapping` for the two shapes). The group is recognised from the content (a metric code or a
field only that group has, declared in the method file's `portal:` section). Every response becomes rows of

* ``portal_indicator``: group, period, unit, indicator (and the portal's metric code or field), numerator,
  denominator, rate and points as published — a null stays null, never 0;
* ``portal_group_score``: the unit's published group score and maximum;

stamped with the capture date, the source file and its SHA-256, and the method version whose mapping was used.
Everything is parsed and checked before anything is written, in one transaction: a malformed or truncated
file raises `PortalImportError` naming the file and the place (line and column, or the JSON path), and
nothing is loaded. Importing the same file again changes nothing.

Portal unit codes (H44.07) are matched to the province's units through `portal_unit_map` (an editable
mapping, loaded from a CSV `portal_code,unit_id`), else through `org_unit.code`; unmatched codes are listed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from egov_metrics.errors import EgovError
from egov_metrics.portal.mapping import PortalEndpoint, PortalFields, PortalMapping
from egov_metrics.scoring import ScoringMethod, current_methods, latest_method, load_method, method_for

__all__ = [
    "GROUP_COLUMNS",
    "INDICATOR_COLUMNS",
    "PERIOD_TYPES",
    "ImportReport",
    "PortalImportError",
    "PortalSnapshot",
    "ensure_tables",
    "import_files",
    "load_unit_map",
    "parse_units",
    "portal_method",
    "read_response",
]


def portal_method(method: ScoringMethod | str | None = None, period: str | None = None) -> ScoringMethod:
    """The method whose portal mapping reads saved responses: `method` when given; else the method valid for
    `period` (`scoring.method_for`; no period: the newest), or, when that one has no `portal:` mapping, the
    newest method that has one."""
    if method is not None:
        return method if isinstance(method, ScoringMethod) else load_method(method)
    chosen = method_for(period) if period is not None else latest_method()
    if chosen.portal is not None:
        return chosen
    mapped = [m for m in current_methods() if m.portal is not None]
    if not mapped:
        raise PortalImportError(
            f"no scoring method has a portal mapping (the one for the period is {chosen.label})",
            "add a `portal:` section to the method file (see egov_metrics/methods/portal_2026_12.yaml)",
        )
    return mapped[-1]


PERIOD_TYPES = ("year", "quarter", "month")
_PERIOD_RE = {
    "year": re.compile(r"^\d{4}$"),
    "quarter": re.compile(r"^\d{4}-Q[1-4]$"),
    "month": re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"),
}

INDICATOR_COLUMNS: dict[str, pl.DataType] = {
    "group": pl.String(),
    "period_type": pl.String(),
    "period": pl.String(),
    "portal_id": pl.String(),
    "unit_code": pl.String(),
    "unit_name": pl.String(),
    "unit_level": pl.String(),
    "is_root": pl.Boolean(),
    "indicator": pl.String(),
    "metric": pl.String(),
    "numerator": pl.Float64(),
    "denominator": pl.Float64(),
    "rate": pl.Float64(),
    "points": pl.Float64(),
    "max_points": pl.Float64(),
}
GROUP_COLUMNS: dict[str, pl.DataType] = {
    "group": pl.String(),
    "period_type": pl.String(),
    "period": pl.String(),
    "portal_id": pl.String(),
    "unit_code": pl.String(),
    "unit_name": pl.String(),
    "unit_level": pl.String(),
    "is_root": pl.Boolean(),
    "score": pl.Float64(),
    "max_score": pl.Float64(),
}
_STAMP = ("captured_on", "method_version", "source", "sha256")

DDL = """
CREATE TABLE IF NOT EXISTS portal_capture (
    source         VARCHAR NOT NULL,
    sha256         VARCHAR NOT NULL,
    endpoint       VARCHAR NOT NULL,
    "group"        VARCHAR NOT NULL,
    period_type    VARCHAR NOT NULL,
    period         VARCHAR NOT NULL,
    captured_on    DATE NOT NULL,
    method_version VARCHAR NOT NULL,
    units          INTEGER NOT NULL,
    imported_at    TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY ("group", period, captured_on)
);
CREATE TABLE IF NOT EXISTS portal_group_score (
    "group" VARCHAR NOT NULL, period_type VARCHAR NOT NULL, period VARCHAR NOT NULL,
    portal_id VARCHAR NOT NULL, unit_code VARCHAR, unit_name VARCHAR, unit_level VARCHAR, is_root BOOLEAN NOT NULL,
    score DOUBLE, max_score DOUBLE,
    captured_on DATE NOT NULL, method_version VARCHAR NOT NULL, source VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
    PRIMARY KEY ("group", period, captured_on, portal_id)
);
CREATE TABLE IF NOT EXISTS portal_indicator (
    "group" VARCHAR NOT NULL, period_type VARCHAR NOT NULL, period VARCHAR NOT NULL,
    portal_id VARCHAR NOT NULL, unit_code VARCHAR, unit_name VARCHAR, unit_level VARCHAR, is_root BOOLEAN NOT NULL,
    indicator VARCHAR, metric VARCHAR NOT NULL,
    numerator DOUBLE, denominator DOUBLE, rate DOUBLE, points DOUBLE, max_points DOUBLE,
    captured_on DATE NOT NULL, method_version VARCHAR NOT NULL, source VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
    PRIMARY KEY ("group", period, captured_on, portal_id, metric)
);
CREATE TABLE IF NOT EXISTS portal_unit (
    portal_id VARCHAR PRIMARY KEY,   -- the portal's departmentId
    unit_code VARCHAR,               -- its departmentCode (H44.07), when a response gave it
    unit_name VARCHAR,
    unit_level VARCHAR
);
CREATE TABLE IF NOT EXISTS portal_unit_map (
    portal_code VARCHAR PRIMARY KEY,
    unit_id     VARCHAR NOT NULL,
    note        VARCHAR
);
"""


class PortalImportError(EgovError):
    """A saved portal response cannot be read as the portal publishes it; nothing was loaded."""


@dataclass(frozen=True)
class PortalSnapshot:
    """One response (or several, concatenated): `indicators` and `groups` frames (INDICATOR_COLUMNS, GROUP_COLUMNS
    plus captured_on, method_version, source, sha256)."""

    indicators: pl.DataFrame
    groups: pl.DataFrame
    endpoint: str = ""
    group: str = ""
    period: str = ""
    period_type: str = ""
    captured_on: dt.date | None = None
    source: str = ""
    sha256: str = ""


@dataclass
class ImportReport:
    loaded: list[PortalSnapshot] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # files already imported with the same content
    skipped: list[str] = field(default_factory=list)  # responses filtered to one procedure (…-formality.json)
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (portal code, name) with no local unit
    method_version: str = ""

    @property
    def rows(self) -> int:
        return sum(s.indicators.height + s.groups.height for s in self.loaded)


# --- reading one response ----------------------------------------------------------------------------------


def _where(source: str, path: Sequence[str | int]) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    return f"{source}: at {text or 'the top level'}"


def _fail(source: str, path: Sequence[str | int], message: str, hint: str | None = None) -> PortalImportError:
    return PortalImportError(
        f"{_where(source, path)}: {message}",
        hint or "give the portal's response as saved (the whole JSON, not edited); nothing was loaded",
    )


def _number(obj: Mapping[str, Any], key: str, source: str, path: Sequence[str | int]) -> float | None:
    """A published number: null (or absent) stays None; anything else must be a finite number."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(source, [*path, key], f"expected a number or null, found {value!r}")
    if value < 0:
        raise _fail(
            source,
            [*path, key],
            f"a published count, rate or score cannot be negative, found {value!r}",
        )
    return float(value)


def _text(
    obj: Mapping[str, Any], key: str, source: str, path: Sequence[str | int], required: bool = True
) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, [*path, key], f"expected a non-empty text, found {value!r}")
    return value.strip()


def _detect(data: Mapping[str, Any], mapping: PortalMapping, source: str) -> PortalEndpoint:
    """The group of a response: the endpoint whose `detect` code or field appears in it (any unit)."""
    probe: set[str] = set()
    nodes = [data.get("overview"), data.get("parent")]
    for key in ("evaluation", "children"):
        items = data.get(key)
        nodes += items if isinstance(items, list) else []
    for node in nodes:
        if isinstance(node, Mapping):
            probe |= set(node)
            metrics = node.get("metrics")
            if isinstance(metrics, list):
                probe |= {str(m.get("code")) for m in metrics if isinstance(m, Mapping)}
    found = [e for e in mapping.endpoints if e.detect in probe]
    if len(found) != 1:
        known = ", ".join(e.endpoint for e in mapping.endpoints)
        raise _fail(
            source,
            ["data"],
            "not a response of a known 766 group" if not found else "matches several groups",
            f"the known groups are {known}; save the response of the portal's evaluation API unchanged",
        )
    return found[0]


def parse_units(
    root: Mapping[str, Any] | None,
    units: Sequence[Mapping[str, Any]],
    endpoint: PortalEndpoint,
    method: ScoringMethod,
    *,
    period: str,
    period_type: str,
    source: str,
    paths: tuple[Sequence[str | int], Sequence[str | int]] = (("data", "overview"), ("data", "evaluation")),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows of portal_indicator and portal_group_score from the province's object and its units' objects."""
    mapping = method.portal
    assert mapping is not None
    group_ids = {i.id for i in method.indicators if i.group == endpoint.group}
    fields = [f for f in mapping.fields if f.indicator in group_ids]
    ind_rows: list[dict[str, Any]] = []
    group_rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    entries: list[tuple[Mapping[str, Any], list[str | int], bool]] = []
    if root is not None:
        entries.append((root, list(paths[0]), True))
    entries += [(u, [*paths[1], n], False) for n, u in enumerate(units)]
    for obj, path, is_root in entries:
        if not isinstance(obj, Mapping):
            raise _fail(source, path, f"expected an object for a unit, found {type(obj).__name__}")
        code = _text(obj, "departmentCode", source, path, required=False)
        portal_id = _text(obj, "departmentId", source, path, required=code is None) or code
        assert portal_id is not None
        if portal_id in seen:
            raise _fail(source, [*path, "departmentId"], f"unit {portal_id} appears twice")
        seen.add(portal_id)
        base = {
            "group": endpoint.group,
            "period_type": period_type,
            "period": period,
            "portal_id": portal_id,
            "unit_code": code,
            "unit_name": _text(obj, "departmentName", source, path, required=False),
            "unit_level": obj.get("departmentLevel") or obj.get("level") or ("PROVINCE" if is_root else None),
            "is_root": is_root,
        }
        score = next(
            (_number(obj, k, source, path) for k in endpoint.score_fields if obj.get(k) is not None), None
        )
        max_score = _number(obj, "totalMaxScore", source, path)
        if max_score is None:
            max_score = _number(obj, "maxScore", source, path)
        group_rows.append({**base, "score": score, "max_score": max_score})
        if endpoint.shape == "metrics":
            ind_rows += _metric_rows(obj, path, base, endpoint, method, source)
        else:
            ind_rows += _field_rows(obj, path, base, fields, is_root, method, source)
    if endpoint.shape == "tree":
        _check_fields_present(entries, fields, method, source)
    return (
        pl.DataFrame(ind_rows, schema=INDICATOR_COLUMNS),
        pl.DataFrame(group_rows, schema=GROUP_COLUMNS),
    )


def _metric_rows(
    obj: Mapping[str, Any],
    path: list[str | int],
    base: dict[str, Any],
    endpoint: PortalEndpoint,
    method: ScoringMethod,
    source: str,
) -> list[dict[str, Any]]:
    """One unit's indicator rows from a response of the "metrics" shape: its list of coded metrics, each
    mapped to an indicator by the method's `portal.metrics` (or listed in `portal.ignored_metrics`)."""
    mapping = method.portal
    assert mapping is not None
    codes = {m.code: m.indicator for m in mapping.metrics}
    metrics = obj.get("metrics")
    if not isinstance(metrics, list):
        raise _fail(source, [*path, "metrics"], f"expected a list of metrics, found {metrics!r}"[:200])
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for k, metric in enumerate(metrics):
        mpath = [*path, "metrics", k]
        if not isinstance(metric, Mapping):
            raise _fail(source, mpath, "expected an object for a metric")
        mcode = _text(metric, "code", source, mpath)
        assert mcode is not None
        if mcode in seen:
            # one figure per unit and metric: a second one (a capture tool joining pages or responses) would be
            # counted twice or crash the load on the table's key
            raise _fail(
                source,
                [*mpath, "code"],
                f"metric {mcode} appears twice for unit {base['portal_id']} (also at metrics[{seen[mcode]}])",
            )
        seen[mcode] = k
        if mcode not in codes and mcode not in mapping.ignored_metrics:
            raise _fail(
                source,
                [*mpath, "code"],
                f"unknown metric code {mcode!r} for group {endpoint.group}",
                f"map it to an indicator in the method file's portal.metrics ({method.label}), "
                "or list it in portal.ignored_metrics",
            )
        rows.append(
            {
                **base,
                "indicator": codes.get(mcode),
                "metric": mcode,
                "numerator": _number(metric, "numerator", source, mpath),
                "denominator": _number(metric, "denominator", source, mpath),
                "rate": _number(metric, "ratio", source, mpath),
                "points": _number(metric, "score", source, mpath),
                "max_points": _number(metric, "maxScore", source, mpath),
            }
        )
    return rows


def _field_rows(
    obj: Mapping[str, Any],
    path: list[str | int],
    base: dict[str, Any],
    fields: Sequence[PortalFields],
    is_root: bool,
    method: ScoringMethod,
    source: str,
) -> list[dict[str, Any]]:
    """One unit's indicator rows from a response of the "fields" shape: named fields of the unit's object,
    summed into numerator and denominator as the method's `portal.fields` say."""
    rows: list[dict[str, Any]] = []
    for spec in fields:
        if spec.province_only and not is_root:
            continue
        parts = {
            "numerator": [_number(obj, f, source, path) for f in spec.numerator],
            "denominator": [_number(obj, f, source, path) for f in spec.denominator],
        }
        values = {
            k: None if any(v is None for v in vs) else sum(v for v in vs if v is not None)
            for k, vs in parts.items()
        }
        rows.append(
            {
                **base,
                "indicator": spec.indicator,
                "metric": "+".join(spec.numerator) + "/" + "+".join(spec.denominator),
                **values,
                "rate": _number(obj, spec.rate, source, path) if spec.rate else None,
                "points": _number(obj, spec.points, source, path) if spec.points else None,
                "max_points": float(method.indicator(spec.indicator).max_points),
            }
        )
    return rows


def _check_fields_present(
    entries: Sequence[tuple[Mapping[str, Any], list[str | int], bool]],
    fields: Sequence[PortalFields],
    method: ScoringMethod,
    source: str,
) -> None:
    """Every field the mapping reads counts from is in the response (in one unit at least, the province's row for
    `province_only` fields): a field no unit has was renamed or dropped by the portal, and reading it as null
    would silently drop the indicator (its points then recomputed from no counts)."""
    for spec in fields:
        holders = [(obj, path) for obj, path, is_root in entries if is_root or not spec.province_only]
        if not holders:
            continue
        for name in (*spec.numerator, *spec.denominator):
            if not any(name in obj for obj, _ in holders):
                where = holders[0][1] if spec.province_only else holders[0][1][:-1]
                raise _fail(
                    source,
                    where,
                    f"no unit has the field {name!r}, which {spec.indicator} is read from "
                    "(renamed or dropped by the portal?)",
                    f"give the response as the portal saved it, or map the new field in the method file's "
                    f"portal.fields ({method.label}); nothing was loaded",
                )


def _check_period(period: str, period_type: str) -> None:
    if period_type not in _PERIOD_RE:
        raise PortalImportError(
            f"unknown period type {period_type!r}", f"period types: {', '.join(PERIOD_TYPES)}"
        )
    if not _PERIOD_RE[period_type].match(period):
        examples = {"year": "2026", "quarter": "2026-Q3", "month": "2026-08"}
        raise PortalImportError(
            f"period {period!r} is not a {period_type}", f"write a {period_type} as {examples[period_type]}"
        )


def read_response(
    path: str | Path,
    *,
    period: str,
    period_type: str,
    captured_on: dt.date,
    method: ScoringMethod | str | None = None,
) -> PortalSnapshot:
    """Parse one saved response; raise `PortalImportError` naming the file and the place on any problem.
    `method` defaults to `portal_method(period=period)`."""
    method = portal_method(method, period)
    if method.portal is None:
        raise PortalImportError(
            f"method {method.label} has no portal mapping", f"use {portal_method().id}, which has one"
        )
    _check_period(period, period_type)
    path = Path(path)
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PortalImportError(f"cannot read {path}: {exc.strerror or exc}", "check the path") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PortalImportError(
            f"{source}: byte {exc.start} is not UTF-8", "save the response as UTF-8 JSON; nothing was loaded"
        ) from None
    if not text.strip():
        raise PortalImportError(
            f"{source}: the file is empty (the capture saved nothing)",
            "save the portal's response again; nothing was loaded",
        )
    if text.lstrip().startswith("<"):
        raise PortalImportError(
            f"{source}: line 1, column 1: an HTML or XML page, not JSON (an error page of the portal or a proxy?)",
            "save the response of the portal's evaluation API again when it answers with JSON; nothing was loaded",
        )
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        # cut off: the error is at the end, or objects, arrays or a string are left open (cut in a number, a key…)
        truncated = exc.pos >= len(text.rstrip()) or _left_open(text)
        what = "the file ends in the middle of the JSON (truncated?)" if truncated else "invalid JSON"
        raise PortalImportError(
            f"{source}: line {exc.lineno}, column {exc.colno}: {what}: {exc.msg}",
            "save the whole response again; nothing was loaded",
        ) from None
    if not isinstance(doc, Mapping):
        raise _fail(source, [], f"expected a JSON object, found {type(doc).__name__}")
    if doc.get("code") not in (None, "OK"):
        raise _fail(source, ["code"], f"the portal answered {doc.get('code')!r}, not OK")
    data = doc.get("data")
    if not isinstance(data, Mapping):
        raise _fail(source, ["data"], "no 'data' object: not a response of the portal's evaluation API")
    endpoint = _detect(data, method.portal, source)
    if endpoint.shape == "metrics":
        keys, root_key = ("overview", "evaluation"), "overview"
    else:
        keys, root_key = ("parent", "children"), "parent"
    units = data.get(keys[1])
    if not isinstance(units, list):
        raise _fail(source, ["data", keys[1]], f"expected a list of units, found {type(units).__name__}")
    root = data.get(root_key)
    if root is not None and not isinstance(root, Mapping):
        raise _fail(source, ["data", root_key], "expected an object for the province")
    _check_complete(data, len(units), source)
    indicators, groups = parse_units(
        root,
        units,
        endpoint,
        method,
        period=period,
        period_type=period_type,
        source=source,
        paths=(("data", keys[0]), ("data", keys[1])),
    )
    digest = hashlib.sha256(raw).hexdigest()
    stamp = [
        pl.lit(captured_on, pl.Date).alias("captured_on"),
        pl.lit(method.label).alias("method_version"),
        pl.lit(source).alias("source"),
        pl.lit(digest).alias("sha256"),
    ]
    return PortalSnapshot(
        indicators.with_columns(stamp),
        groups.with_columns(stamp),
        endpoint=endpoint.endpoint,
        group=endpoint.group,
        period=period,
        period_type=period_type,
        captured_on=captured_on,
        source=source,
        sha256=digest,
    )


def _left_open(text: str) -> bool:
    """Whether the JSON text ends with an object, an array or a string still open (a file cut off)."""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
    return in_string or depth > 0


def _check_complete(data: Mapping[str, Any], held: int, source: str) -> None:
    """A paged response must hold every unit its `pagination` announces: one page of several is not a province."""
    paging = data.get("pagination")
    if not isinstance(paging, Mapping):
        return
    total, pages = paging.get("total"), paging.get("totalPages")
    if isinstance(total, int) and not isinstance(total, bool) and total != held:
        page = paging.get("currentPage")
        of = f" (page {page} of {pages})" if page is not None and pages is not None else ""
        raise _fail(
            source,
            ["data", "pagination", "total"],
            f"the portal announces {total} units, the response holds {held}{of}: an incomplete capture",
            f"save the response with a pageSize of at least {total} (one page with every unit); nothing was loaded",
        )


def period_type_of(path: str | Path) -> str | None:
    """The period type in a capture tool's file name (`year-all.json` → year), else None."""
    stem = Path(path).stem.lower()
    return next((t for t in PERIOD_TYPES if stem == t or stem.startswith(t + "-")), None)


# --- writing -------------------------------------------------------------------------------------------------


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.sql(DDL)


def load_unit_map(con: duckdb.DuckDBPyConnection, path: str | Path) -> int:
    """Replace the editable mapping of portal unit codes to local unit ids with a CSV `portal_code,unit_id[,note]`."""
    path = Path(path)
    try:
        frame = pl.read_csv(path, infer_schema=False, comment_prefix="#")
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise PortalImportError(f"cannot read the unit mapping {path}: {exc}") from None
    lacking = {"portal_code", "unit_id"} - set(frame.columns)
    if lacking:
        raise PortalImportError(
            f"{path}: the unit mapping lacks the column(s) {', '.join(sorted(lacking))}",
            "write a CSV with the header portal_code,unit_id (and optionally note)",
        )
    frame = frame.with_columns(pl.col("portal_code", "unit_id").str.strip_chars())
    if "note" not in frame.columns:
        frame = frame.with_columns(note=pl.lit(None, pl.String))
    framed = frame.with_row_index("_row")
    bad = framed.filter(
        pl.col("portal_code").is_null()
        | pl.col("unit_id").is_null()
        | (pl.col("portal_code") == "")
        | (pl.col("unit_id") == "")
        | pl.col("portal_code").is_duplicated()
    )
    if bad.height:
        lines = ", ".join(str(r + 2) for r in bad["_row"].head(10))
        raise PortalImportError(
            f"{path}: line(s) {lines}: empty or repeated portal_code, or empty unit_id",
            "one line per portal unit code, each with the local unit id",
        )
    known = (
        {r[0] for r in con.sql("SELECT id FROM org_unit").fetchall()} if _has_table(con, "org_unit") else None
    )
    if known is not None:
        unknown = framed.filter(~pl.col("unit_id").is_in(list(known)))
        if unknown.height:
            first = unknown.row(0, named=True)
            raise PortalImportError(
                f"{path}: line {first['_row'] + 2}: unit_id {first['unit_id']!r} is not a unit of the database"
                + (f" (and {unknown.height - 1} more)" if unknown.height > 1 else ""),
                "egov-metrics info lists the units; correct the unit_id column",
            )
    ensure_tables(con)
    data = frame.select("portal_code", "unit_id", "note")
    con.sql("BEGIN TRANSACTION")
    try:
        con.sql("DELETE FROM portal_unit_map")
        con.register("_portal_map_in", data)
        con.sql("INSERT INTO portal_unit_map SELECT * FROM _portal_map_in")
        con.unregister("_portal_map_in")
        con.sql("COMMIT")
    except Exception:
        con.sql("ROLLBACK")
        raise
    return data.height


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.sql(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", params=[name]
        ).fetchall()[0][0]
    )


def unit_matches(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every imported portal unit with the local unit it maps to (null when none): portal_id, unit_code,
    unit_name, is_root, unit_id, matched_by (`mapping`: portal_unit_map names its departmentId or code;
    `code`: an org_unit has its code)."""
    if not _has_table(con, "portal_unit"):
        return pl.DataFrame(
            schema={
                "portal_id": pl.String,
                "unit_code": pl.String,
                "unit_name": pl.String,
                "unit_level": pl.String,
                "unit_id": pl.String,
                "matched_by": pl.String,
            }
        )
    by_code = (
        # a code shared by several versions of a unit (the 2025 mergers kept codes): the current version, else
        # the one that lasted longest, never an arbitrary one
        "LEFT JOIN (SELECT code, arg_max(id, coalesce(valid_to, DATE '9999-12-31')) AS id FROM org_unit "
        "GROUP BY code) o ON o.code = u.unit_code"
        if _has_table(con, "org_unit")
        else "LEFT JOIN (SELECT NULL::VARCHAR AS code, NULL::VARCHAR AS id) o ON false"
    )
    return con.sql(
        f"""
        SELECT u.portal_id, any_value(u.unit_code) AS unit_code, any_value(u.unit_name) AS unit_name,
               any_value(u.unit_level) AS unit_level,
               coalesce(any_value(m.unit_id), any_value(o.id)) AS unit_id,
               CASE WHEN any_value(m.unit_id) IS NOT NULL THEN 'mapping'
                    WHEN any_value(o.id) IS NOT NULL THEN 'code' END AS matched_by
        FROM portal_unit u
        LEFT JOIN portal_unit_map m ON m.portal_code IN (u.portal_id, u.unit_code)
        {by_code}
        GROUP BY u.portal_id ORDER BY any_value(u.unit_code) NULLS LAST, u.portal_id
        """
    ).pl()


def scope_of(path: str | Path) -> str:
    """`formality` for a capture tool's response filtered to one procedure (`year-formality.json`), else `all`."""
    return "formality" if Path(path).stem.lower().endswith("-formality") else "all"


@dataclass(frozen=True)
class ManifestEntry:
    captured_on: dt.date | None
    period_type: str | None
    period: str | None
    #: the manifest names the file, but only with another capture's SHA-256 (nothing of it is used)
    other_capture: bool = False


def _whole(value: Any, low: int, high: int) -> int | None:
    """A year, quarter or month of a request as the integer it names (2026, "2026", 3.0), else None."""
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        return None
    return number if low <= number <= high else None


def _period_from_payload(payload: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The period a capture's request asked for; (None, None) when the request does not say it plainly (a value
    that is not a whole year, quarter or month is not guessed at)."""
    kind = payload.get("timeType")
    year = _whole(payload.get("year"), 1900, 2200)
    if kind == "year" and year:
        return "year", f"{year}"
    if kind == "quarter" and year and (quarter := _whole(payload.get("quarter"), 1, 4)):
        return "quarter", f"{year}-Q{quarter}"
    if kind == "month" and year and (month := _whole(payload.get("month"), 1, 12)):
        return "month", f"{year}-{month:02d}"
    try:  # handling-satisfaction asks by dates
        start = dt.date.fromisoformat(str(payload["fromDate"]))
        end = dt.date.fromisoformat(str(payload["toDate"]))
    except (KeyError, ValueError):
        return None, None
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if start.day != 1 or (end + dt.timedelta(days=1)).day != 1:
        return None, None
    if months == 12 and start.month == 1:
        return "year", f"{start.year}"
    if months == 3 and start.month % 3 == 1:
        return "quarter", f"{start.year}-Q{(start.month + 2) // 3}"
    if months == 1:
        return "month", f"{start.year}-{start.month:02d}"
    return None, None


def manifest_entry(path: str | Path) -> ManifestEntry | None:
    """What a capture tool's manifest (`manifest*.json` next to the group folders) says about `path`. An entry
    whose `sha256` is not the file's describes another capture saved under the same name (a recapture, an older
    manifest): it is passed over, never applied to this file."""
    path = Path(path)
    rel = f"{path.parent.name}/{path.name}"
    try:
        digest: str | None = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        digest = None  # read_response says why the file cannot be read
    stale = False
    for folder in (path.parent, path.parent.parent):
        for manifest in sorted(folder.glob("manifest*.json")):
            try:
                doc = json.loads(manifest.read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise PortalImportError(
                    f"{manifest}: cannot read the capture manifest: {exc}",
                    "fix or remove the manifest, or pass --captured-on and --period",
                ) from None
            captures = doc.get("captures") if isinstance(doc, Mapping) else None
            for cap in captures if isinstance(captures, list) else []:
                if not isinstance(cap, Mapping) or cap.get("file") not in (rel, path.name):
                    continue
                sha = cap.get("sha256")
                if isinstance(sha, str) and digest is not None and sha.strip().lower() != digest:
                    stale = True
                    continue
                try:
                    day = dt.datetime.fromisoformat(str(cap.get("capturedAt"))).date()
                except ValueError:
                    day = None
                payload = cap.get("payload")
                kind, label = _period_from_payload(payload) if isinstance(payload, Mapping) else (None, None)
                return ManifestEntry(day, kind, label)
    return ManifestEntry(None, None, None, other_capture=True) if stale else None


def import_files(
    con: duckdb.DuckDBPyConnection,
    files: Iterable[str | Path],
    *,
    periods: Mapping[str, str] | None = None,
    captured_on: dt.date | None = None,
    period_type: str | None = None,
    method: ScoringMethod | str | None = None,
) -> ImportReport:
    """Parse every file, then load them all in one transaction (or none, on the first problem).

    `periods` maps a period type to its label ({"year": "2026", "quarter": "2026-Q3", "month": "2026-08"});
    a file's period type is `period_type`, else read from its name (`year-all.json`). What is not given is taken
    from the capture tool's manifest (`manifest*.json` beside the group folders: capturedAt and the request's
    period), when there is one. Responses filtered to one procedure (`…-formality.json`) are not a unit's score:
    they are skipped and listed. `method` defaults to `portal_method()` (the newest method with a portal mapping).
    """
    method = portal_method(method)
    snapshots, skipped = _read_all(files, dict(periods or {}), captured_on, period_type, method)
    ensure_tables(con)
    report = ImportReport(method_version=method.label, skipped=skipped)
    con.sql("BEGIN TRANSACTION")
    try:
        for snap in snapshots:
            if _load_snapshot(con, snap, method):
                report.loaded.append(snap)
            else:
                report.unchanged.append(snap.source)
        _merge_units(con, snapshots)
        con.sql("COMMIT")
    except Exception:
        con.sql("ROLLBACK")
        raise
    matches = unit_matches(con)
    report.unmatched = [
        (r["unit_code"] or r["portal_id"], r["unit_name"] or "")
        for r in matches.filter(pl.col("unit_id").is_null()).iter_rows(named=True)
    ]
    return report


def _read_all(
    files: Iterable[str | Path],
    periods: dict[str, str],
    captured_on: dt.date | None,
    period_type: str | None,
    method: ScoringMethod,
) -> tuple[list[PortalSnapshot], list[str]]:
    """Step 1: every file parsed (its period and capture day from the arguments, else its capture manifest),
    before anything is written; the per-procedure responses are skipped; two files of one group and period
    are an error."""
    snapshots: list[PortalSnapshot] = []
    seen: dict[tuple[str, str], str] = {}
    skipped: list[str] = []
    for file in files:
        if scope_of(file) != "all":
            skipped.append(str(file))
            continue
        entry = manifest_entry(file)
        kind = period_type or period_type_of(file) or (entry.period_type if entry else None)
        if kind is None:
            raise PortalImportError(
                f"{file}: cannot tell the period type from the file name",
                "name the file year-….json, quarter-….json or month-….json, or pass --period-type",
            )
        label = periods.get(kind) or (entry.period if entry and entry.period_type == kind else None)
        if (
            entry is not None
            and entry.period is not None
            and (entry.period_type, entry.period) != (kind, label)
        ):
            # the manifest of this very capture (same SHA-256) names its request: another label is a misread
            raise PortalImportError(
                f"{file}: the capture manifest says this response is for the {entry.period_type} {entry.period}, "
                f"not {f'the {kind} {label}' if label else f'a {kind}'}",
                "leave out --period/--period-type for it (the manifest's period is taken), or correct them; "
                "nothing was loaded",
            )
        if label is None:
            raise PortalImportError(
                f"{file}: no period given for the period type {kind!r} (and no capture manifest names it{_stale(entry)})",
                f"pass --period {kind}=<label>, e.g. --period year=2026 --period quarter=2026-Q3",
            )
        day = captured_on or (entry.captured_on if entry else None)
        if day is None:
            raise PortalImportError(
                f"{file}: no capture date (and no capture manifest names it{_stale(entry)})",
                "pass --captured-on YYYY-MM-DD, the day the response was saved",
            )
        snap = read_response(file, period=label, period_type=kind, captured_on=day, method=method)
        key = (snap.group, snap.period)
        if key in seen:
            raise PortalImportError(
                f"{file} and {seen[key]} both hold group {snap.group}, period {snap.period}",
                "import one response per group and period at a time",
            )
        seen[key] = str(file)
        snapshots.append(snap)
    return snapshots, skipped


def _stale(entry: ManifestEntry | None) -> str:
    return (
        ": its entry for the file has another SHA-256, another capture"
        if entry and entry.other_capture
        else ""
    )


def _load_snapshot(con: duckdb.DuckDBPyConnection, snap: PortalSnapshot, method: ScoringMethod) -> bool:
    """Step 2 (inside the import's transaction): one response replaces the group's capture of that period and
    day; False (nothing written) when the same file was already imported under the same method."""
    same = con.sql(
        'SELECT sha256, method_version FROM portal_capture WHERE "group" = ? AND period = ? AND captured_on = ?',
        params=[snap.group, snap.period, snap.captured_on],
    ).fetchall()
    if same and same[0] == (snap.sha256, method.label):
        return False
    args = [snap.group, snap.period, snap.captured_on]
    for table in ("portal_capture", "portal_group_score", "portal_indicator"):
        con.sql(f'DELETE FROM {table} WHERE "group" = ? AND period = ? AND captured_on = ?', params=args)
    con.sql(
        'INSERT INTO portal_capture (source, sha256, endpoint, "group", period_type, period, captured_on, '
        "method_version, units) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params=[
            snap.source,
            snap.sha256,
            snap.endpoint,
            snap.group,
            snap.period_type,
            snap.period,
            snap.captured_on,
            method.label,
            snap.groups.height,
        ],
    )
    for table, frame in (("portal_group_score", snap.groups), ("portal_indicator", snap.indicators)):
        con.register("_portal_in", frame)
        cols = ", ".join(f'"{c}"' for c in frame.columns)
        con.sql(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _portal_in")
        con.unregister("_portal_in")
    return True


def _merge_units(con: duckdb.DuckDBPyConnection, snapshots: list[PortalSnapshot]) -> None:
    """Step 3 (inside the transaction): the portal's units named by the responses, merged into
    `portal_unit` (a known unit keeps the code, name and level a response leaves out)."""
    units = pl.concat([s.groups for s in snapshots], how="vertical") if snapshots else None
    if units is None or not units.height:
        return
    units = units.group_by("portal_id").agg(
        pl.col("unit_code").drop_nulls().first(),
        pl.col("unit_name").drop_nulls().first(),
        pl.col("unit_level").drop_nulls().first(),
    )
    con.register("_portal_units", units)
    con.sql(
        """
        INSERT INTO portal_unit SELECT portal_id, unit_code, unit_name, unit_level FROM _portal_units
        ON CONFLICT (portal_id) DO UPDATE SET
            unit_code = coalesce(excluded.unit_code, portal_unit.unit_code),
            unit_name = coalesce(excluded.unit_name, portal_unit.unit_name),
            unit_level = coalesce(excluded.unit_level, portal_unit.unit_level)
        """
    )
    con.unregister("_portal_units")


def published(
    con: duckdb.DuckDBPyConnection, *, period: str | None = None, latest: bool = True
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The imported figures (latest capture per group and period unless `latest` is False), with the local
    unit id of each portal unit (null when unmatched): (indicators, groups). Read-only: without an import, both
    frames are empty."""
    if not _has_table(con, "portal_indicator"):
        return (
            pl.DataFrame(schema={**INDICATOR_COLUMNS, "captured_on": pl.Date, "unit_id": pl.String}),
            pl.DataFrame(schema={**GROUP_COLUMNS, "captured_on": pl.Date, "unit_id": pl.String}),
        )
    matches = unit_matches(con).select("portal_id", "unit_id", "matched_by")
    out = []
    for table in ("portal_indicator", "portal_group_score"):
        where = "WHERE period = ?" if period else ""
        frame = con.sql(f"SELECT * FROM {table} {where}", params=[period] if period else None).pl()
        if latest and frame.height:
            frame = frame.filter(pl.col("captured_on") == pl.col("captured_on").max().over("group", "period"))
        out.append(frame.join(matches, on="portal_id", how="left"))
    return out[0], out[1]
