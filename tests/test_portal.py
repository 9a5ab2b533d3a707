"""The portal's published figures as a source: import, unit matching, bad files, and the fitted method.

The JSON files are built here in the shapes the portal's evaluation API returns (as the public capture tools save
them), with a few units each; their numbers are facts taken from the Phú Thọ captures (tests/conformance/).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from egov_metrics.cli import app
from egov_metrics.portal.importer import (
    PortalImportError,
    import_files,
    load_unit_map,
    published,
    read_response,
    unit_matches,
)
from egov_metrics.scoring import ScoringError, load_method, score, score_from_published

DAY = dt.date(2026, 9, 26)
PERIODS = {"year": "2026", "quarter": "2026-Q3", "month": "2026-08"}


def metric(code: str, n: int | None, d: int | None, ratio: float, score_: float | None, mx: float) -> dict:
    return {
        "code": code,
        "name": code,
        "numerator": n,
        "denominator": d,
        "ratio": ratio,
        "score": score_,
        "maxScore": mx,
    }


DIGITIZED = {
    "code": "OK",
    "data": {
        "overview": {
            "departmentId": "p-root",
            "departmentName": "UBND tỉnh Phú Thọ",
            "departmentCode": "H44",
            "departmentLevel": "PROVINCE",
            "totalScore": 9.59,
            "totalMaxScore": 22,
            "metrics": [metric("ORIGINAL_RESULT_AVAILABLE", 433356, 597918, 72.48, 4.35, 6)],
        },
        "evaluation": [
            {
                "departmentId": "p-ct",
                "departmentName": "Sở Công Thương - Tỉnh Phú Thọ",
                "departmentCode": "H44.07",
                "departmentLevel": "PROVINCE",
                "totalScore": 9.59,
                "totalMaxScore": 22,
                "metrics": [
                    metric("ORIGINAL_RESULT_AVAILABLE", 1645, 2270, 72.47, 4.35, 6),
                    metric("SO_HOA_GIAY_TO_GIAI_QUYET", 470, 2270, 20.7, 0.83, 4),
                    metric("REUSED_DIGITIZED_DATA", 0, 2270, 0, 0, 2),
                    metric("SYNCED_WITH_DVCQG_PERSONAL_STORAGE", 0, 2270, 0, 0, 4),
                    metric("CITIZEN_DATA_CONNECTED_DOSSIER", 2270, 2270, 100, 2, 2),
                    metric("CITIZEN_DATA_CONNECTED_FORMALITY", 15, 74, 20.27, 0.41, 2),
                    metric("ELECTRONIC_CERTIFIED_COPY", None, None, 100, 2, 2),
                ],
            },
            {
                "departmentId": "p-vt",
                "departmentName": "UBND Phường Việt Trì",
                "departmentCode": "H44.100",
                "departmentLevel": "COMMUNE",
                "totalScore": 9.31,
                "totalMaxScore": 22,
                "metrics": [
                    metric("ORIGINAL_RESULT_AVAILABLE", 6722, 8253, 81.45, 4.89, 6),
                    metric("SO_HOA_GIAY_TO_GIAI_QUYET", 1662, 8253, 20.14, 0.81, 4),
                    metric("REUSED_DIGITIZED_DATA", 984, 8253, 11.92, 0.3, 2),
                    metric("SYNCED_WITH_DVCQG_PERSONAL_STORAGE", 0, 8253, 0, 0, 4),
                    metric("CITIZEN_DATA_CONNECTED_DOSSIER", 4032, 8253, 48.85, 0.98, 2),
                    metric("CITIZEN_DATA_CONNECTED_FORMALITY", 63, 385, 16.36, 0.33, 2),
                    metric("ELECTRONIC_CERTIFIED_COPY", None, None, 100, 2, 2),
                ],
            },
        ],
    },
}

PAYMENT = {
    "code": "OK",
    "data": {
        "parent": {
            "departmentId": "p-root",
            "departmentName": "UBND tỉnh Phú Thọ",
            "departmentCode": "H44",
            "totalMaxScore": 10,
            "totalScore": 6.67,
            "totalDossierOnlinePaymentSuccess": 309542,
            "totalDossierFinancialObligation": 358625,
            "totalDossierOnlineFormalityPaymentSuccess": 119,
            "totalFeeDossierFormalityDistinct": 313,
            "totalFeeDossierFormality": 68,
            "totalFeeFormality": 313,
        },
        "children": [
            {
                "departmentId": "p-cm",
                "departmentName": "UBND xã Chân Mộng",
                "departmentCode": "H44.125",
                "level": "COMMUNE",
                "totalMaxScore": 10,
                "totalScore": 7.22,
                "totalDossierOnlinePaymentSuccess": 1437,
                "totalDossierFinancialObligation": 1541,
                "totalDossierOnlineFormalityPaymentSuccess": 18,
                "totalFeeDossierFormalityDistinct": 40,
                "totalFeeDossierFormality": 8,
                "totalFeeFormality": 40,
            },
            {
                "departmentId": "p-ct",
                "departmentName": "Sở Công Thương - Tỉnh Phú Thọ",
                "departmentCode": "H44.07",
                "level": "PROVINCE",
                "totalMaxScore": 10,
                "totalScore": 8,
                "totalDossierOnlinePaymentSuccess": 118,
                "totalDossierFinancialObligation": 118,
                "totalDossierOnlineFormalityPaymentSuccess": 12,
                "totalFeeDossierFormalityDistinct": 13,
                "totalFeeDossierFormality": 0,
                "totalFeeFormality": 13,
            },
        ],
    },
}


def write(folder: Path, endpoint: str, name: str, doc: object) -> Path:
    path = folder / endpoint / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(doc, ensure_ascii=False) if not isinstance(doc, str) else doc, encoding="utf-8"
    )
    return path


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    return [
        write(tmp_path, "dossier-digitized", "year-all.json", DIGITIZED),
        write(tmp_path, "formality-online-payment-tree", "year-all.json", PAYMENT),
    ]


def counts_of(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    return tuple(
        con.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0]
        for t in ("portal_capture", "portal_group_score", "portal_indicator")
    )  # type: ignore[return-value]


# --- reading ---------------------------------------------------------------------------------------------------


def test_metrics_shape_rows_keep_nulls_and_map_codes(files: list[Path]) -> None:
    snap = read_response(files[0], period="2026", period_type="year", captured_on=DAY)
    assert snap.group == "digitization" and snap.endpoint == "dossier-digitized"
    ind = snap.indicators
    copy = ind.filter(
        (pl.col("unit_code") == "H44.07") & (pl.col("metric") == "ELECTRONIC_CERTIFIED_COPY")
    ).row(0, named=True)
    # null stays null, never 0
    assert (copy["numerator"], copy["denominator"], copy["rate"], copy["points"]) == (None, None, 100.0, 2.0)
    assert copy["indicator"] == "communes_e_certified_copy"
    assert set(ind["indicator"]) >= {"e_results", "dossiers_digitized", "procedures_population_db"}
    assert ind["method_version"].unique().to_list() == ["portal_2026_12@2026.12"]
    assert ind["captured_on"].unique().to_list() == [DAY]
    assert snap.groups.filter(pl.col("is_root"))["unit_code"].to_list() == ["H44"]


def test_tree_shape_counts_come_from_fields(files: list[Path]) -> None:
    snap = read_response(files[1], period="2026", period_type="year", captured_on=DAY)
    assert snap.group == "payment"
    c = snap.indicators.filter(pl.col("unit_code") == "H44.125")
    got = {r["indicator"]: (r["numerator"], r["denominator"]) for r in c.iter_rows(named=True)}
    assert got == {
        "paid_online": (1437, 1541),
        "fee_procedures_paid_online": (18, 40),
        "fee_procedures_used": (8, 40),
    }
    assert snap.groups.filter(pl.col("unit_code") == "H44.125")["score"].to_list() == [7.22]


# --- the fitted method on published facts (golden answers: the portal's own figures) ----------------------


def test_payment_total_reproduced_including_the_binary_tie(files: list[Path]) -> None:
    # 1437/1541 → 93.25 %: 93.25 × 6 ÷ 100 is 5.59499… in binary → 5.59; 45 × 2 ÷ 0.8 ÷ 100 = 1.125 → 1.13;
    # 20 × 2 ÷ 0.8 ÷ 100 = 0.5 → 5.59 + 1.13 + 0.50 = 7.22 as published (exact arithmetic would give 7.23).
    snap = read_response(files[1], period="2026", period_type="year", captured_on=DAY)
    counts = snap.indicators.select(
        pl.col("unit_code").alias("unit_id"), "period", "indicator", "numerator", "denominator"
    )
    res = score(counts, "portal_2026_12")
    pts = {
        (r["unit_id"], r["indicator"]): r["points"]
        for r in res.indicators.filter(pl.col("group") == "payment").iter_rows(named=True)
    }
    assert (pts[("H44.125", "paid_online")], pts[("H44.125", "fee_procedures_paid_online")]) == (5.59, 1.13)
    groups = {
        r["unit_id"]: r["score"]
        for r in res.groups.filter(pl.col("group") == "payment").iter_rows(named=True)
    }
    # H44.07: 118/118 → 6; 12/13 = 92.31 % → 2.31, capped at 2; 0/13 → 0: 8 as published
    assert groups == {"H44": 6.67, "H44.125": 7.22, "H44.07": 8.0}
    old = score(counts, "portal_2026").groups.filter(
        (pl.col("unit_id") == "H44.125") & (pl.col("group") == "payment")
    )
    assert old["score"].to_list() != [7.22]  # the old method missed it


def test_certified_copy_awarded_and_digitization_from_the_raw_rate() -> None:
    # 51/385 population-db procedures: 2 × 0.13246… = 0.26 (the portal), the rounded rate 13.25 % would give 0.27
    frame = pl.DataFrame(
        {
            "unit_id": ["U", "U"],
            "period": ["2026", "2026"],
            "indicator": ["procedures_population_db", "e_results"],
            "numerator": [51, 1645],
            "denominator": [385, 2270],
        }
    )
    new = score(frame, "portal_2026_12").indicators
    row = {r["indicator"]: r for r in new.iter_rows(named=True)}
    assert row["procedures_population_db"]["points"] == 0.26
    assert row["communes_e_certified_copy"]["points"] == 2.0  # awarded, though the unit has no counts
    rounded = load_method("portal_2026_12").model_copy(update={"points_from": "rounded_rate"})
    other = score(frame, rounded).indicators  # 13.25 % → 2 × 0.1325 = 0.265 → 0.27: not what the portal shows
    assert other.filter(pl.col("indicator") == "procedures_population_db")["points"].to_list() == [0.27]


def test_online_split_reproduces_the_province_scores() -> None:
    # province year: 516/1884 fully online, 589496/597894 submitted online, 52/89 procedures online → 8.56
    # province quarter: 449/1884, 435258/440558, 52/89 → 8.41 (the portal's figures)
    rows = []
    for period, fo, sub, tot in (("2026", 516, 589496, 597894), ("2026-Q3", 449, 435258, 440558)):
        rows += [
            ("H44", period, "fully_online_dossiers", fo, 1884),
            ("H44", period, "online_submission", sub, tot),
            ("H44", period, "procedures_online", 31 + 21, 89),
        ]
    frame = pl.DataFrame(
        rows, schema=["unit_id", "period", "indicator", "numerator", "denominator"], orient="row"
    )
    groups = score(frame, "portal_2026_12").groups.filter(pl.col("group") == "online")
    assert dict(zip(groups["period"], groups["score"], strict=True)) == {"2026": 8.56, "2026-Q3": 8.41}


def test_portal_metric_codes_map_to_indicators_as_data() -> None:
    method = load_method("portal_2026_12")
    assert method.portal is not None
    codes = {m.code: m.indicator for m in method.portal.metrics}
    assert codes["PUBLISH_ON_TIME"] == "procedures_published_on_time"
    assert codes["ORIGINAL_RESULT_AVAILABLE"] == "e_results"
    assert codes["DOSSIER_RECEIVING_SATISFACTION"] == "dossier_satisfaction"
    assert load_method("portal_2026").portal is None  # the old version stays loadable, unchanged


def test_a_published_file_with_some_groups_says_which_are_missing(tmp_path: Path) -> None:
    path = tmp_path / "pub.csv"
    path.write_text(
        "unit_id,period,indicator,numerator,denominator,published_points\n"
        "SNV,2026,dossiers_on_time,1652,2270,14.56\n",
        encoding="utf-8",
    )
    result = score_from_published(path)
    assert set(result.missing_groups) == {"transparency", "online", "payment", "digitization", "satisfaction"}
    assert set(result.groups["group"]) == {"progress"}  # the missing groups are not scored by a default rule
    total = result.totals.row(0, named=True)
    assert (total["total"], total["max"], total["band"]) == (14.56, 20.0, None)


def test_a_unit_without_a_group_the_others_publish_is_an_error_not_a_free_score(tmp_path: Path) -> None:
    # B has no satisfaction row: by the zero-denominator rules it would get 6 + 6 points for nothing
    path = tmp_path / "pub.csv"
    path.write_text(
        "unit_id,period,indicator,numerator,denominator\n"
        "A,2026,dossiers_on_time,1652,2270\n"
        "A,2026,feedback_on_time,0,0\n"
        "B,2026,dossiers_on_time,10,10\n",
        encoding="utf-8",
    )
    with pytest.raises(ScoringError) as err:
        score_from_published(path)
    msg = str(err.value)
    assert str(path) in msg and "unit B, period 2026: group satisfaction" in msg and "Hint:" in msg
    # with the group's row given (no feedback, no dossiers), B is scored by the rules on purpose
    with path.open("a", encoding="utf-8") as f:
        f.write("B,2026,feedback_on_time,0,0\n")
    result = score_from_published(path)
    b = result.groups.filter(pl.col("unit_id") == "B").sort("group")
    assert b["score"].to_list() == [20.0, 12.0]  # progress 10/10; satisfaction 6 + 6 (no feedback) + 0


# --- importing -----------------------------------------------------------------------------------------------


def test_import_loads_all_and_reimport_changes_nothing(files: list[Path], tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "p.duckdb"))
    report = import_files(con, files, periods=PERIODS, captured_on=DAY)
    assert {s.group for s in report.loaded} == {"digitization", "payment"}
    before = counts_of(con)
    assert before == (2, 6, 3 * 7 - 6 + 3 * 3)  # root has 1 metric; 2 units × 7; 3 payment units × 3
    snapshot = con.sql("SELECT * FROM portal_indicator ORDER BY ALL").fetchall()
    again = import_files(con, files, periods=PERIODS, captured_on=DAY)
    assert again.loaded == [] and len(again.unchanged) == 2
    assert counts_of(con) == before
    assert con.sql("SELECT * FROM portal_indicator ORDER BY ALL").fetchall() == snapshot
    nulls = con.sql(
        "SELECT count(*) FROM portal_indicator WHERE metric = 'ELECTRONIC_CERTIFIED_COPY' AND numerator IS NULL"
    ).fetchall()[0][0]
    assert nulls == 2


def test_unmatched_units_are_listed_and_the_mapping_is_editable(files: list[Path], tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "p.duckdb"))
    report = import_files(con, files, periods=PERIODS, captured_on=DAY)
    assert {code for code, _ in report.unmatched} == {
        "H44",
        "H44.07",
        "H44.100",
        "H44.125",
    }  # no org_unit table
    mapping = tmp_path / "map.csv"
    mapping.write_text("portal_code,unit_id\nH44.07,SCT\np-cm,XCM\n", encoding="utf-8")
    assert load_unit_map(con, mapping) == 2
    matched = {r["unit_code"]: r["unit_id"] for r in unit_matches(con).iter_rows(named=True)}
    assert matched["H44.07"] == "SCT" and matched["H44.125"] == "XCM"  # by code or by the portal's id
    _, groups = published(con)
    assert set(groups.filter(pl.col("unit_id") == "SCT")["group"]) == {"digitization", "payment"}


def test_a_code_kept_by_a_merged_unit_matches_its_current_version() -> None:
    from egov_metrics.portal.importer import ensure_tables

    con = duckdb.connect()
    con.sql("CREATE TABLE org_unit (id VARCHAR, code VARCHAR, valid_to DATE)")
    # the old ward (until 2025-07-01) and the new one share code 22738; the old one is inserted last on purpose
    con.sql("INSERT INTO org_unit VALUES ('X2501', '22738', NULL), ('X22738', '22738', DATE '2025-07-01')")
    con.sql(
        "INSERT INTO org_unit VALUES ('SKHCN-2025', 'SKHCN', NULL), ('SKHCN', 'SKHCN', DATE '2025-03-01')"
    )
    ensure_tables(con)
    con.sql(
        "INSERT INTO portal_unit VALUES ('p1', '22738', 'Phường Đô Vinh', 'COMMUNE'), ('p2', 'SKHCN', NULL, NULL)"
    )
    got = dict(unit_matches(con).select("unit_code", "unit_id").iter_rows())
    assert got == {"22738": "X2501", "SKHCN": "SKHCN-2025"}


def test_truncated_json_names_file_and_place_and_loads_nothing(files: list[Path], tmp_path: Path) -> None:
    text = json.dumps(PAYMENT)
    bad = write(tmp_path, "bad", "year-all.json", text[: len(text) // 2])
    con = duckdb.connect(str(tmp_path / "p.duckdb"))
    with pytest.raises(PortalImportError) as err:
        import_files(con, [files[0], bad], periods=PERIODS, captured_on=DAY)
    msg = str(err.value)
    assert str(bad) in msg and "line 1, column" in msg and "truncated" in msg and "Hint:" in msg
    tables = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "portal_indicator" not in tables  # the good file was not loaded either


@pytest.mark.parametrize(
    ("change", "place"),
    [
        (
            lambda d: d["data"]["evaluation"][1]["metrics"][2].update(numerator="984"),
            "data.evaluation[1].metrics[2].numerator",
        ),
        (
            lambda d: d["data"]["evaluation"][0]["metrics"][0].update(code="NEW_METRIC"),
            "data.evaluation[0].metrics[0].code",
        ),
        (lambda d: d["data"].update(evaluation={"x": 1}), "data.evaluation"),
        (lambda d: d["data"]["evaluation"][1].update(departmentId="p-ct"), "data.evaluation[1].departmentId"),
        (lambda d: d["data"]["evaluation"][0].update(metrics=None), "data.evaluation[0].metrics"),
    ],
)
def test_malformed_responses_name_the_json_path(tmp_path: Path, change, place: str) -> None:
    doc = json.loads(json.dumps(DIGITIZED))
    change(doc)
    path = write(tmp_path, "dossier-digitized", "year-all.json", doc)
    with pytest.raises(PortalImportError) as err:
        read_response(path, period="2026", period_type="year", captured_on=DAY)
    assert f"{path}: at {place}" in str(err.value)


def _paged(doc: dict) -> dict:
    """DIGITIZED as the portal pages it: 2 units announced, only the first one saved (page 1 of 2)."""
    doc["data"]["pagination"] = {"total": 2, "currentPage": 1, "pageSize": 1, "totalPages": 2}
    doc["data"]["evaluation"] = doc["data"]["evaluation"][:1]
    return doc


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "the file is empty"),
        ("  \n", "the file is empty"),
        ("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "an HTML or XML page, not JSON"),
        # cut inside a string near the end: still recognised as truncated
        (json.dumps(DIGITIZED)[:-40], "the file ends in the middle of the JSON (truncated?)"),
        # cut inside a number ("ratio": 16.| ): still truncated, not "invalid JSON"
        (
            json.dumps(DIGITIZED)[: json.dumps(DIGITIZED).rindex('"ratio": 16.36') + 12],
            "the file ends in the middle of the JSON (truncated?)",
        ),
        ('{"code": "OK", "data": {"overview": {"a": 1}},, "x": 2}', "invalid JSON"),
        (_paged(json.loads(json.dumps(DIGITIZED))), "the portal announces 2 units, the response holds 1"),
        (
            json.loads(
                json.dumps(DIGITIZED).replace(
                    '"numerator": 470, "denominator": 2270', '"numerator": 470, "denominator": -2270'
                )
            ),
            "data.evaluation[0].metrics[1].denominator: a published count, rate or score cannot be negative",
        ),
    ],
    ids=[
        "empty",
        "blank",
        "html",
        "cut-in-string",
        "cut-in-number",
        "broken-inside",
        "one-page-of-two",
        "negative",
    ],
)
def test_unusable_captures_are_refused_with_a_plain_reason(
    tmp_path: Path, files: list[Path], content: object, expected: str
) -> None:
    bad = write(tmp_path, "dossier-digitized", "quarter-all.json", content)
    con = duckdb.connect(str(tmp_path / "p.duckdb"))
    with pytest.raises(PortalImportError) as err:
        import_files(con, [files[1], bad], periods=PERIODS, captured_on=DAY)
    msg = str(err.value)
    assert str(bad) in msg and expected in msg and "Hint:" in msg and "nothing was loaded" in msg
    tables = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "portal_indicator" not in tables  # the good payment file was not loaded either


def test_a_complete_single_page_capture_is_accepted(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(DIGITIZED))
    doc["data"]["pagination"] = {"total": 2, "currentPage": 1, "pageSize": 200, "totalPages": 1}
    path = write(tmp_path, "dossier-digitized", "year-all.json", doc)
    snap = read_response(path, period="2026", period_type="year", captured_on=DAY)
    assert snap.groups.height == 3  # the province and its 2 units


def test_not_a_portal_response_and_bad_periods(tmp_path: Path) -> None:
    other = write(tmp_path, "x", "year-all.json", {"code": "OK", "data": {"items": []}})
    with pytest.raises(PortalImportError, match="not a response of a known 766 group"):
        read_response(other, period="2026", period_type="year", captured_on=DAY)
    with pytest.raises(PortalImportError, match="is not a quarter"):
        read_response(other, period="2026-03", period_type="quarter", captured_on=DAY)
    odd = write(tmp_path, "x", "capture.json", DIGITIZED)
    con = duckdb.connect()
    with pytest.raises(PortalImportError, match="cannot tell the period type"):
        import_files(con, [odd], periods=PERIODS, captured_on=DAY)


def test_cli_import_reports_and_fails_cleanly(files: list[Path], tmp_path: Path) -> None:
    from egov_metrics.schema.connection import create_database

    db = tmp_path / "cli.duckdb"
    create_database(db).close()
    runner = CliRunner()
    args = [
        "portal",
        "import",
        *map(str, files),
        "--period",
        "year=2026",
        "--captured-on",
        "2026-09-26",
        "--db",
        str(db),
    ]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "payment 2026: 3 units" in res.output and "not matched" in res.output
    res = runner.invoke(app, args)
    assert "already imported, unchanged" in res.output
    broken = write(tmp_path, "b", "year-all.json", '{"code": "OK", "data": {')
    res = runner.invoke(
        app,
        [
            "portal",
            "import",
            str(broken),
            "--period",
            "year=2026",
            "--captured-on",
            "2026-09-26",
            "--db",
            str(db),
        ],
    )
    assert res.exit_code == 2 and str(broken) in res.output


def test_capture_manifest_gives_dates_and_periods_and_procedure_files_are_skipped(tmp_path: Path) -> None:
    # the capture tools' manifest (as in ChippedTopaz/qd766 tests/fixtures/manifest.m0.json): file, payload, capturedAt
    digitized = write(tmp_path, "dossier-digitized", "quarter-all.json", DIGITIZED)
    payment = write(tmp_path, "formality-online-payment-tree", "month-all.json", PAYMENT)
    scoped = write(tmp_path, "formality-online-payment-tree", "month-formality.json", PAYMENT)
    manifest = {
        "schemaVersion": 1,
        "captures": [
            {
                "file": "dossier-digitized/quarter-all.json",
                "payload": {"timeType": "quarter", "year": 2026, "quarter": 3},
                "capturedAt": "2026-09-26T11:21:25.156311+00:00",
            },
            {
                "file": "formality-online-payment-tree/month-all.json",
                "payload": {"fromDate": "2026-08-01", "toDate": "2026-08-31"},
                "capturedAt": "2026-09-26T18:14:48.404267+00:00",
            },
        ],
    }
    (tmp_path / "manifest.m0.json").write_text(json.dumps(manifest), encoding="utf-8")
    con = duckdb.connect()
    report = import_files(con, [digitized, payment, scoped])
    assert {(s.group, s.period, s.captured_on) for s in report.loaded} == {
        ("digitization", "2026-Q3", DAY),
        ("payment", "2026-08", DAY),
    }
    assert report.skipped == [str(scoped)]
    assert con.sql("SELECT DISTINCT captured_on FROM portal_indicator").fetchall() == [(DAY,)]


def test_cli_conformance_on_saved_responses(files: list[Path]) -> None:
    res = CliRunner().invoke(
        app,
        ["portal", "conformance", *map(str, files), "--period", "year=2026", "--captured-on", "2026-09-26"],
        env={"COLUMNS": "200"},
    )
    assert res.exit_code == 0, res.output
    # payment: 3 of 3; digitization: the 2 units with all seven metrics; the province's row of this fixture
    # lists one metric of seven, so its published group score (9.59) cannot come out of it: reported, not hidden
    assert "reproduced 5 of 6 recomputable published figures to 0.01" in res.output


def test_a_portal_mapping_naming_an_unknown_indicator_is_reported_with_its_line(tmp_path: Path) -> None:
    from egov_metrics.scoring import MethodError

    src = Path(__file__).parents[1] / "egov_metrics" / "methods" / "portal_2026_12.yaml"
    text = src.read_text(encoding="utf-8").replace(
        "{code: PUBLISH_ON_TIME, indicator: procedures_published_on_time}",
        "{code: PUBLISH_ON_TIME, indicator: procedures_publishd_on_time}",
    )
    path = tmp_path / "portal_2026_12.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MethodError) as err:
        load_method(path)
    line = next(n for n, x in enumerate(text.splitlines(), 1) if "procedures_publishd_on_time" in x)
    assert f"{path}:{line}" in str(err.value) and "unknown indicator 'procedures_publishd_on_time'" in str(
        err.value
    )


def test_cli_conformance_with_the_old_method_reads_with_the_newest_mapping() -> None:
    res = CliRunner().invoke(
        app, ["portal", "conformance", "--method", "portal_2026"], env={"COLUMNS": "200"}
    )
    assert res.exit_code == 0, res.output
    assert "portal_2026@2026.1" in res.output and "reproduced" in res.output
