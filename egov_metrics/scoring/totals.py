"""Group scores, totals, bands and ranks among peers, from the indicator points (hundredths, exact)."""

from __future__ import annotations

import polars as pl

from egov_metrics.scoring.arithmetic import _from_cents
from egov_metrics.scoring.errors import ScoringError
from egov_metrics.scoring.method import ScoringMethod


def _group_scores(
    indicators: pl.DataFrame, method: ScoringMethod, unit_keys: list[str], unit_extras: list[str]
) -> pl.DataFrame:
    groups = pl.DataFrame(
        {
            "group": [g.id for g in method.groups],
            "max": [float(g.max_points) for g in method.groups],
            "_gorder": list(range(len(method.groups))),
        }
    )
    return (
        indicators.group_by([*unit_keys, "group"])
        .agg(
            *(pl.col(c).first() for c in unit_extras),
            pl.col("_unit_order").first(),
            _score_c=pl.col("_points_c").sum(),
        )
        .join(groups, on="group")
        .sort(["_unit_order", "_gorder"])
        .select(
            *unit_keys,
            *unit_extras,
            "group",
            _from_cents(pl.col("_score_c")).alias("score"),
            "max",
            "_score_c",
            "_unit_order",
            method_version=pl.lit(method.label),
        )
    )


def _peer_groups(units: pl.DataFrame, unit_extras: list[str], peers: pl.DataFrame | None) -> pl.DataFrame:
    if peers is not None:
        lacking = {"unit_id", "peer_group"} - set(peers.columns)
        if lacking:
            raise ScoringError(
                f"peers lacks the column(s) {', '.join(sorted(lacking))}",
                "peers has one row per unit: unit_id, peer_group (e.g. org_unit's id and level)",
            )
        peers = peers.select("unit_id", pl.col("peer_group").cast(pl.String)).unique()
        doubled = peers.filter(pl.col("unit_id").is_duplicated())["unit_id"].unique().sort()
        if doubled.len():
            raise ScoringError(f"peers gives several peer groups to unit(s) {', '.join(map(str, doubled))}")
        out = units.join(peers, on="unit_id", how="left")
        absent = out.filter(pl.col("peer_group").is_null())["unit_id"].unique().sort()
        if absent.len():
            raise ScoringError(
                f"peers has no peer_group for unit(s) {', '.join(map(str, absent.head(10)))}",
                "give every scored unit a row in peers, or leave peers out to use the unit_level column",
            )
        return out
    if "unit_level" in unit_extras:
        return units.with_columns(peer_group=pl.col("unit_level").cast(pl.String).fill_null("all"))
    return units.with_columns(peer_group=pl.lit("all"))


def _totals(
    groups: pl.DataFrame,
    method: ScoringMethod,
    unit_keys: list[str],
    unit_extras: list[str],
    peers: pl.DataFrame | None,
) -> pl.DataFrame:
    totals = groups.group_by(unit_keys, maintain_order=True).agg(
        *(pl.col(c).first() for c in unit_extras),
        pl.col("_unit_order").first(),
        _total_c=pl.col("_score_c").sum(),
    )
    # the highest band whose minimum the total reaches: nested from the lowest band outwards
    band_en: pl.Expr = pl.lit(None, pl.String)
    band_vi: pl.Expr = pl.lit(None, pl.String)
    for band in sorted(method.bands, key=lambda b: b.min):
        at_least = pl.col("_total_c") >= int(band.min * 100)
        band_en = pl.when(at_least).then(pl.lit(band.id)).otherwise(band_en)
        band_vi = pl.when(at_least).then(pl.lit(band.name_vi)).otherwise(band_vi)
    peer_keys = ["period", "peer_group"]
    return (
        _peer_groups(totals, unit_extras, peers)
        .with_columns(
            total=_from_cents(pl.col("_total_c")),
            max=pl.lit(float(method.total_points)),
            band=band_en,
            band_vi=band_vi,
            rank=pl.col("_total_c").rank("min", descending=True).over(peer_keys).cast(pl.Int64),
            rank_among=pl.len().over(peer_keys).cast(pl.Int64),
            rank_all=pl.col("_total_c").rank("min", descending=True).over("period").cast(pl.Int64),
            rank_all_among=pl.len().over("period").cast(pl.Int64),
            method_version=pl.lit(method.label),
        )
        .sort("_unit_order")
        .select(
            *unit_keys,
            *unit_extras,
            "total",
            "max",
            "band",
            "band_vi",
            "peer_group",
            "rank",
            "rank_among",
            "rank_all",
            "rank_all_among",
            "method_version",
        )
    )
