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
    counts = local.indicators.filter(pl.col("basis") == "rate").select(
        "unit_id", "period", "indicator", "numerator", "denominator", "group"
    )
    dossier_like = {
        i.id
        for i in method.indicators
        if i.group in ("progress", "digitization", "transparency", "satisfaction")
    } - {
        "procedures_published_on_time",
        "procedures_disclosed_on_time",
        "procedures_content_complete",
        "procedures_population_db",
        "feedback_on_time",
        "feedback_satisfaction",
    }
    shrink = pl.col("unit_id").map_elements(lambda u: _unsynced(u, unsynced_share), return_dtype=pl.Float64)
    portal_counts = (
        counts.with_columns(_s=shrink)
        .with_columns(
            denominator=pl.when(pl.col("indicator").is_in(list(dossier_like)))
            .then((pl.col("denominator").cast(pl.Float64) * (1 - pl.col("_s"))).floor())
            .otherwise(pl.col("denominator").cast(pl.Float64)),
            numerator=pl.when(pl.col("indicator").is_in(list(dossier_like)))
            .then((pl.col("numerator").cast(pl.Float64) * (1 - pl.col("_s"))).floor())
            .otherwise(pl.col("numerator").cast(pl.Float64)),
        )
        .drop("_s")
    )
    published = score(portal_counts.drop("group"), method)
    ind = published.indicators.filter(~pl.col("missing"))
    groups = published.groups
    metric_of = {m.indicator: m.code for m in method.portal.metrics}
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
            gscore = groups.filter((pl.col("unit_id") == unit_id) & (pl.col("group") == endpoint.group))[
                "score"
            ]
            obj: dict[str, Any] = {
                "departmentId": f"demo-{unit_id}",
                "departmentCode": unit["code"],
                "departmentName": unit["name_vi"],
                "departmentLevel": "COMMUNE" if unit["level"] == "commune" else "PROVINCE",
                "totalScore": float(gscore[0]) if gscore.len() else 0.0,
                "totalMaxScore": group_max,
            }
            if endpoint.shape == "metrics":
                obj["metrics"] = [
                    {
                        "code": metric_of[r["indicator"]],
                        "numerator": None
                        if r["indicator"] == "communes_e_certified_copy"
                        else _int(r["numerator"]),
                        "denominator": None
                        if r["indicator"] == "communes_e_certified_copy"
                        else _int(r["denominator"]),
                        "ratio": 100.0 if r["indicator"] == "communes_e_certified_copy" else r["rate"],
                        "score": r["points"],
                        "maxScore": r["max_points"],
                    }
                    for r in rows.iter_rows(named=True)
                    if r["indicator"] in metric_of and r["indicator"] != "communes_e_certified_copy"
                ]
                if endpoint.group == "digitization":  # as the portal publishes it, for every unit
                    obj["metrics"].append(
                        {
                            "code": metric_of["communes_e_certified_copy"],
                            "numerator": None,
                            "denominator": None,
                            "ratio": 100,
                            "score": 2,
                            "maxScore": 2,
                        }
                    )
            else:
                for spec in method.portal.fields:
                    row = rows.filter(pl.col("indicator") == spec.indicator)
                    if row.is_empty():  # province_only fields are written too; the import reads them only
                        continue  # from the province's row, as the portal publishes them
                    r = row.row(0, named=True)
                    obj[spec.numerator[0]] = _int(r["numerator"])
                    obj[spec.denominator[0]] = _int(r["denominator"])
                    for extra in (*spec.numerator[1:], *spec.denominator[1:]):
                        obj[extra] = 0
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


def _int(value: object) -> int | float | None:
    if value is None:
        return None
    f = float(value)  # type: ignore[arg-type]
    return int(f) if math.isfinite(f) and f == int(f) else f
