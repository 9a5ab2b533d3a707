"""Synthetic portal responses for the demo province, so that import and reconciliation can be tried on it.

The demo database is synthetic and the real portal knows nothing of it. `write_demo_captures` scores the demo's
own counts for a period and writes, for each of the six groups, a JSON response in the portal's shape (as the
public capture tools save it), with the portal's habits: some units' dossiers not synchronised (a few per cent
fewer dossiers in the portal's counts), the certified-copy indicator published with null counts and rate 100.
Published points are those of the method on the written counts. Every file says it is synthetic
(``"synthetic": true``); never mix them with real captures.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from egov_metrics.portal.importer import portal_method
from egov_metrics.scoring import ScoringMethod, score, score_units

__all__ = ["write_demo_captures"]

_GRAIN = {"year": "year", "quarter": "quarter", "month": "month"}


def _unsynced(unit_id: str, share: float) -> float:
    """A stable, unit-dependent share of dossiers missing from the portal: 0 for most units."""
    h = sum(ord(c) * (i + 1) for i, c in enumerate(unit_id)) % 7
    return share * h / 6 if h >= 5 else 0.0


#: Groups whose counts are dossier counts (a share of the dossiers never reaches the portal), less the
#: indicators of those groups counted from other records.
_DOSSIER_GROUPS = ("progress", "digitization", "transparency", "satisfaction")
_NOT_DOSSIER_COUNTS = frozenset(
    {
        "procedures_published_on_time",
        "procedures_disclosed_on_time",
        "procedures_content_complete",
        "procedures_population_db",
        "feedback_on_time",
        "feedback_satisfaction",
    }
)
#: Published for every unit without counts, at full points (as the portal publishes it).
_CERTIFIED_COPY = "communes_e_certified_copy"


def write_demo_captures(
    con: duckdb.DuckDBPyConnection,
    out_dir: str | Path,
    *,
    end: str,
    period_type: str = "month",
    method: ScoringMethod | str | None = None,
    unsynced_share: float = 0.04,
) -> list[Path]:
    """Write `<endpoint>/<period_type>-all.json` for the demo units; return the files written."""
    method = portal_method(method, end)
    assert method.portal is not None
    local = score_units(con, end=end, grain=_GRAIN[period_type], method=method)
    units = con.sql("SELECT id, code, name_vi, level FROM org_unit").pl()
    codes = {r["id"]: r for r in units.iter_rows(named=True)}
    published = score(_portal_counts(local.indicators, method, unsynced_share), method)
    ind = published.indicators.filter(~pl.col("missing"))
    out = Path(out_dir)
    written = []
    for endpoint in method.portal.endpoints:
        group_max = float(next(g.max_points for g in method.groups if g.id == endpoint.group))
        objs: list[dict[str, Any]] = []
        for (unit_id,), rows in ind.filter(pl.col("group") == endpoint.group).group_by(
            "unit_id", maintain_order=True
        ):
            unit = codes.get(str(unit_id))
            if unit is None:
                continue
            gscore = published.groups.filter(
                (pl.col("unit_id") == unit_id) & (pl.col("group") == endpoint.group)
            )["score"]
            obj: dict[str, Any] = {
                "departmentId": f"demo-{unit_id}",
                "departmentCode": unit["code"],
                "departmentName": unit["name_vi"],
                "departmentLevel": "COMMUNE" if unit["level"] == "commune" else "PROVINCE",
                "totalScore": float(gscore[0]) if gscore.len() else 0.0,
                "totalMaxScore": group_max,
            }
            if endpoint.shape == "metrics":
                obj["metrics"] = _metrics_entries(
                    rows, method, with_certified_copy=endpoint.group == "digitization"
                )
            else:
                obj.update(_field_entries(rows, method))
            objs.append(obj)
        body = (
            {"overview": None, "evaluation": objs}
            if endpoint.shape == "metrics"
            else {"parent": None, "children": objs}
        )
        path = out / endpoint.endpoint / f"{period_type}-all.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps({"code": "OK", "synthetic": True, "data": body}, ensure_ascii=False), encoding="utf-8"
        )
        written.append(path)
    return written


def _portal_counts(indicators: pl.DataFrame, method: ScoringMethod, unsynced_share: float) -> pl.DataFrame:
    """The local counts as the portal would hold them: each unit's dossier counts shrunk by its unsynced share."""
    counts = indicators.filter(pl.col("basis") == "rate").select(
        "unit_id", "period", "indicator", "numerator", "denominator"
    )
    dossier_like = [
        i.id for i in method.indicators if i.group in _DOSSIER_GROUPS and i.id not in _NOT_DOSSIER_COUNTS
    ]
    shrink = pl.col("unit_id").map_elements(lambda u: _unsynced(u, unsynced_share), return_dtype=pl.Float64)

    def shrunk(column: str) -> pl.Expr:
        value = pl.col(column).cast(pl.Float64)
        return (
            pl.when(pl.col("indicator").is_in(dossier_like))
            .then((value * (1 - pl.col("_s"))).floor())
            .otherwise(value)
        )

    return (
        counts.with_columns(_s=shrink)
        .with_columns(denominator=shrunk("denominator"), numerator=shrunk("numerator"))
        .drop("_s")
    )


def _metrics_entries(
    rows: pl.DataFrame, method: ScoringMethod, *, with_certified_copy: bool
) -> list[dict[str, Any]]:
    """A unit's `metrics` list (the metrics-shaped endpoints)."""
    assert method.portal is not None
    metric_of = {m.indicator: m.code for m in method.portal.metrics}
    entries: list[dict[str, Any]] = [
        {
            "code": metric_of[r["indicator"]],
            "numerator": _int(r["numerator"]),
            "denominator": _int(r["denominator"]),
            "ratio": r["rate"],
            "score": r["points"],
            "maxScore": r["max_points"],
        }
        for r in rows.iter_rows(named=True)
        if r["indicator"] in metric_of and r["indicator"] != _CERTIFIED_COPY
    ]
    if with_certified_copy:  # as the portal publishes it, for every unit
        entries.append(
            {
                "code": metric_of[_CERTIFIED_COPY],
                "numerator": None,
                "denominator": None,
                "ratio": 100,
                "score": 2,
                "maxScore": 2,
            }
        )
    return entries


def _field_entries(rows: pl.DataFrame, method: ScoringMethod) -> dict[str, Any]:
    """A unit's count fields (the field-shaped endpoints): numerator and denominator of each field, extras 0."""
    assert method.portal is not None
    fields: dict[str, Any] = {}
    for spec in method.portal.fields:
        row = rows.filter(pl.col("indicator") == spec.indicator)
        if row.is_empty():  # province_only fields are written too; the import reads them only
            continue  # from the province's row, as the portal publishes them
        r = row.row(0, named=True)
        fields[spec.numerator[0]] = _int(r["numerator"])
        fields[spec.denominator[0]] = _int(r["denominator"])
        for extra in (*spec.numerator[1:], *spec.denominator[1:]):
            fields[extra] = 0
    return fields


def _int(value: object) -> int | float | None:
    if value is None:
        return None
    f = float(value)  # type: ignore[arg-type]
    return int(f) if math.isfinite(f) and f == int(f) else f
