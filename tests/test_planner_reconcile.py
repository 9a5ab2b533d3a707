"""The points planner, reconciliation with the portal's figures, and method-version boundaries in trends."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from egov_metrics.cli import app
from egov_metrics.method_trend import segments
from egov_metrics.planner import action_text, plan
from egov_metrics.portal.importer import import_files
from egov_metrics.portal.synthetic import write_demo_captures
from egov_metrics.reconcile import reconcile
from egov_metrics.schema.connection import connect
from egov_metrics.scoring import load_method, score

# --- planner: golden answers by hand --------------------------------------------------------------------------


def counts(rows: list[tuple[str, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [("U", "2026", i, n, d) for i, n, d in rows],
        schema=["unit_id", "period", "indicator", "numerator", "denominator"],
        orient="row",
    )


def test_planner_ranks_by_points_per_item_with_caps_and_thresholds() -> None:
    result = score(
        counts(
            [
                (
                    "dossiers_digitized",
                    100,
                    400,
                ),  # 4 × 0.25 = 1.00; full at 400: +300 dossiers → +3.00, 0.01 each
                ("data_reuse", 40, 100),  # full at 80 %: 2 × 0.4 ÷ 0.8 = 1.00; +40 → 2.00: +1.00, 0.025 each
                ("procedures_population_db", 5, 10),  # 2 × 0.5 = 1.00; +5 procedures → +1.00, 0.2 each
                ("dossiers_on_time", 50, 50),  # already full: no action
            ]
        )
    )
    actions = plan(result, "U")
    got = [(r["indicator"], r["changed"], r["points_gain"]) for r in actions.iter_rows(named=True)]
    assert got == [
        ("procedures_population_db", 5, 1.0),
        ("data_reuse", 40, 1.0),
        ("dossiers_digitized", 300, 3.0),
    ]
    assert actions["points_per_item"].to_list() == pytest.approx([0.2, 0.025, 0.01])
    assert actions["reaches_max"].all()
    assert "communes_e_certified_copy" not in actions["indicator"].to_list()  # awarded: nothing to do
    first = actions.row(2, named=True)
    assert action_text(first, "vi") == "số hóa thêm 300 hồ sơ → +3,00 điểm"
    assert action_text(first, "en") == "digitise 300 more dossiers → +3.00 points"
    assert actions["method_version"].unique().to_list() == ["portal_2026_12@2026.12"]


def test_points_per_item_of_a_large_unit_is_not_shown_as_zero() -> None:
    from egov_metrics.reports.portal_sections import _per_item, planner_section

    # 4 points over 8 253 dossiers (a Phú Thọ ward's year): 0.000485 per dossier
    assert _per_item(4 / 8253, "vi") == "0,00048"
    assert _per_item(0.665, "vi") == "0,665" and _per_item(0.0714, "en") == "0.071"
    assert _per_item(20 / 597918, "en") == "0.000033"
    counts = pl.DataFrame(
        {
            "unit_id": ["W"],
            "period": ["2026"],
            "indicator": ["dossiers_digitized"],
            "numerator": [1662],
            "denominator": [8253],
        }
    )
    actions = plan(score(counts, "portal_2026_12"), "W")
    html = str(planner_section(actions, load_method("portal_2026_12"), "vi"))
    assert "số hóa thêm 6.591 hồ sơ → +3,19 điểm" in html  # 4 − 4 × 1662/8253 = 3.194… → 4.00 − 0.81
    assert "0,00048" in html and ">0,000<" not in html


def test_payment_c_action_invents_no_meaning_the_portal_does_not_publish() -> None:
    from egov_metrics.planner import ACTIONS

    c = ACTIONS["fee_procedures_used"]
    assert "toàn trình" not in c.vi and "fully-online" not in c.en  # C is not "fully-online payments"
    assert "chỉ số C" in c.vi and "indicator C" in c.en
    # nor does the indicator's name: C is above B's numerator in 3 of 492 published rows, so not a subset of B
    ind = load_method("portal_2026_12").indicator("fee_procedures_used")
    assert "một phần" not in ind.name_vi and "subset" not in ind.name_en


def test_planner_payment_uses_the_methods_rounding() -> None:
    # 1437/1541 paid online: 5.59 now (binary rounding); to full 6 points: +104 dossiers → 6.00, +0.41
    actions = plan(score(counts([("paid_online", 1437, 1541)])), "U")
    row = actions.filter(pl.col("indicator") == "paid_online").row(0, named=True)
    assert (row["changed"], row["points_now"], row["points_after"], row["points_gain"]) == (
        104,
        5.59,
        6.0,
        0.41,
    )


# --- method-version boundaries -------------------------------------------------------------------------------


def test_segments_break_at_a_method_change_and_outside_validity() -> None:
    old, new = load_method("portal_2026"), load_method("portal_2026_12")
    old = old.model_copy(update={"valid_from": dt.date(2025, 1, 1), "valid_to": dt.date(2026, 3, 1)})
    frame = pl.DataFrame(
        {
            "period_start": [
                dt.date(2024, 12, 1),
                dt.date(2026, 1, 1),
                dt.date(2026, 2, 1),
                dt.date(2026, 3, 1),
            ],
            "total": [80.0, 81.0, 82.0, 83.0],
            "method_version": [old.label, old.label, old.label, new.label],
        }
    )
    out = segments(frame, {old.label: old, new.label: new}, lang="en")
    assert out["segment"].to_list() == [1, 2, 2, 3]
    assert out["method_label"].to_list() == [
        "Method 2026.1 (applied retroactively)",
        "Method 2026.1",
        "Method 2026.1",
        "Method 2026.12",
    ]
    vi = segments(frame, {old.label: old, new.label: new}, lang="vi")
    assert vi["method_label"].to_list()[0] == "Phương pháp 2026.1 (áp dụng hồi tố)"


# --- reconciliation on the demo database ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def reconciled_db(small_demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("portal")
    db = folder / "demo.duckdb"
    shutil.copy(small_demo_db, db)
    with connect(db, read_only=False) as con:
        files = write_demo_captures(con, folder / "captures", end="2026-05", period_type="month")
        import_files(con, files, periods={"month": "2026-05"}, captured_on=dt.date(2026, 6, 10))
    return db


def test_portal_units_match_the_current_version_of_a_merged_unit(reconciled_db: Path) -> None:
    """The 2025 mergers kept codes (Phường Đô Vinh: 22738 before and after): the current unit is the match."""
    from egov_metrics.portal.importer import unit_matches

    with connect(reconciled_db) as con:
        matches = unit_matches(con)
        ended = {r[0] for r in con.sql("SELECT id FROM org_unit WHERE valid_to IS NOT NULL").fetchall()}
    assert matches.height and matches["unit_id"].null_count() == 0
    assert not set(matches["unit_id"]) & ended
    assert all(f"demo-{u}" == p for p, u in matches.select("portal_id", "unit_id").iter_rows())


def test_reconciliation_names_likely_causes(reconciled_db: Path) -> None:
    table = reconcile(reconciled_db)
    assert table.height > 0
    assert set(table["cause"]) <= {
        "match",
        "not_synced",
        "capture_timing",
        "provisional_rule",
        "counts_differ",
        "points_differ",
        "not_published",
    }
    synced = table.filter(pl.col("cause") == "not_synced")
    assert synced.height > 0  # the synthetic portal misses a few per cent of some units' dossiers
    assert (synced["published_denominator"] < synced["local_denominator"]).all()
    matched = table.filter(pl.col("cause") == "match")
    assert matched.height > 0
    assert (matched["points_diff"].abs() < 0.005).all()
    # every difference is local − published
    r = table.filter(pl.col("points_diff").is_not_null()).row(0, named=True)
    assert r["points_diff"] == pytest.approx(r["local_points"] - r["published_points"], abs=0.005)
    assert table["method_version"].unique().to_list() == ["portal_2026_12@2026.12"]
    # payment points are not published per indicator: recomputed from the published counts
    pay = table.filter(pl.col("group") == "payment")
    assert set(pay["published_points_from"].drop_nulls()) == {"counts"}


def test_cli_reconcile_prints_and_writes(reconciled_db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(
        app, ["score", "--reconcile", "--unit", "STP", "--db", str(reconciled_db)], env={"COLUMNS": "200"}
    )
    assert res.exit_code == 0, res.output
    assert "local vs published" in res.output and "STP" in res.output
    out = tmp_path / "rec.csv"
    res = runner.invoke(app, ["score", "--reconcile", "--db", str(reconciled_db), "--out", str(out)])
    assert res.exit_code == 0, res.output
    written = pl.read_csv(out)
    assert {"local_points", "published_points", "points_diff", "cause_vi", "cause_en"} <= set(written.columns)


def test_cli_plan(small_demo_db: Path) -> None:
    res = CliRunner().invoke(app, ["plan", "STP", "--db", str(small_demo_db)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "→ +" in res.output and "điểm" in res.output
    assert "điểm trên mỗi hồ sơ/thủ tục" in res.output and "per item" not in res.output
    assert re.search(r"│ 0,\d{4} ", res.output)  # Vietnamese decimals in the Vietnamese table
    en = CliRunner().invoke(
        app, ["plan", "STP", "--lang", "en", "--db", str(small_demo_db)], env={"COLUMNS": "200"}
    )
    assert "points per item" in en.output and re.search(r"│ 0\.\d{4} ", en.output)


def test_cli_published_prints_per_indicator_differences(tmp_path: Path) -> None:
    path = tmp_path / "pub.csv"
    path.write_text(
        "unit_id,period,indicator,numerator,denominator,published_points\n"
        "SNV,2026,dossiers_on_time,1652,2270,14.56\n"
        "SNV,2026,e_results,1645,2270,4.30\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["score", "--published", str(path)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "1 of 2 published indicator rows differ" in res.output and "e_results" in res.output
    assert "not scored (no rows in the file)" in res.output
    out = tmp_path / "diff.csv"
    res = CliRunner().invoke(app, ["score", "--published", str(path), "--out", str(out)])
    assert res.exit_code == 0
    diff = pl.read_csv(out).filter(pl.col("indicator") == "e_results").row(0, named=True)
    assert diff["points_diff"] == pytest.approx(0.05)  # 6 × 1645/2270 = 4.348… → 4.35; published 4.30


@pytest.mark.slow
def test_scorecard_shows_planner_and_reconciliation_in_vietnamese(reconciled_db: Path) -> None:
    from egov_metrics.reports.kinds.unit_scorecard.page import UnitScorecard

    card = UnitScorecard(reconciled_db, "STP", "2026-05", "vi")
    gains = str(card.fastest_gains())
    assert "Cách tăng điểm nhanh nhất" in gains and "→ +" in gains and "điểm" in gains
    rec = str(card.reconciliation())
    assert "Đối chiếu với số liệu Cổng" in rec and "Nguyên nhân có thể" in rec
    for english in ("points", "Likely cause", "dossiers not synchronised", "match<"):
        assert english not in gains + rec
    en = UnitScorecard(reconciled_db, "STP", "2026-05", "en")
    assert "Fastest ways to gain points" in str(en.fastest_gains())


@pytest.mark.slow
def test_the_whole_vietnamese_scorecard_has_no_english_title_or_notes(reconciled_db: Path) -> None:
    """The title's year-to-date mark and the appendix's provisional notes were English on the Vietnamese page."""
    from html import escape

    from egov_metrics.catalog import load_catalog
    from egov_metrics.reports.kinds.unit_scorecard.page import UnitScorecard

    card = UnitScorecard(reconciled_db, "STP", "2026-05", "vi")
    page = str(card.title()) + str(card.appendix()) + str(card.fastest_gains()) + str(card.reconciliation())
    assert "YTD" not in page and "lũy kế năm" in page
    provisional = [i for i in load_catalog().select(None) if i.provisional]
    assert provisional
    for ind in provisional:
        vi, en = ind.provisional_note_in("vi"), ind.provisional_note_in("en")
        assert vi and en and vi != en, ind.id  # every shipped note exists in both languages
        assert escape(en) not in page and en not in page
    shown = [i for i in provisional if escape(i.provisional_note_in("vi") or "") in page]
    assert shown, "the appendix shows the provisional notes of the page's indicators in Vietnamese"
    # the planner's note says what each ✓ column means; the reconciliation says which period it compares
    assert "Dấu ✓ ở cột «Đạt tối đa»" in page and "Kỳ đối chiếu:" in page
    assert "Chênh lệch (tỉnh − Cổng)" in page  # which way round the difference goes
    en_card = UnitScorecard(reconciled_db, "STP", "2026-05", "en")
    assert "year to date" in str(en_card.title())
    assert all(escape(i.provisional_note_in("en") or "") in str(en_card.appendix()) for i in shown)


def test_each_cause_of_a_difference() -> None:
    from egov_metrics.reconcile import classify

    rows = [
        # local n, d, points; published n, d, points; provisional; capture before the period's end
        ("match", 90, 100, 5.4, 90, 100, 5.4, False, False),
        ("awarded", 0, 0, 2.0, None, None, 2.0, True, False),  # certified copy: null counts, same points
        ("not_synced", 90, 100, 5.4, 85, 95, 5.37, False, False),
        ("capture_timing", 90, 100, 5.4, 95, 105, 5.43, False, True),
        ("provisional_rule", 90, 100, 3.6, 90, 100, 3.0, True, False),
        ("counts_differ", 90, 100, 5.4, 80, 110, 4.36, False, False),
        ("points_differ", 90, 100, 5.4, 90, 100, 5.0, False, False),
        ("not_published", 90, 100, 5.4, None, None, None, False, False),
    ]
    frame = pl.DataFrame(
        rows,
        schema=[
            "case",
            "local_numerator",
            "local_denominator",
            "local_points",
            "published_numerator",
            "published_denominator",
            "published_points",
            "provisional",
            "_timing",
        ],
        orient="row",
    ).with_columns(
        numerator_diff=pl.col("local_numerator") - pl.col("published_numerator"),
        denominator_diff=pl.col("local_denominator") - pl.col("published_denominator"),
        points_diff=(pl.col("local_points") - pl.col("published_points")).round(2),
    )
    got = dict(zip(frame["case"], classify(frame)["cause"], strict=True))
    assert got == {c: ("match" if c == "awarded" else c) for c in got}
    assert (
        classify(frame)
        .filter(pl.col("case") == "not_synced")["cause_vi"]
        .item()
        .startswith("hồ sơ chưa đồng bộ")
    )


def test_a_capture_before_the_period_end_is_compared_with_local_data_to_the_capture_month(
    small_demo_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "demo.duckdb"
    shutil.copy(small_demo_db, db)
    with connect(db, read_only=False) as con:
        # the portal's year 2026, captured on 15 March: its counts run to mid-March (here: to the end of March)
        files = write_demo_captures(
            con, tmp_path / "cap", end="2026-03", period_type="year", unsynced_share=0
        )
        import_files(con, files, periods={"year": "2026"}, captured_on=dt.date(2026, 3, 15))
    table = reconcile(db)
    assert set(table["local_period"]) == {"2026"}
    # compared with the province's data to March (not to June, the data's end): the counts are the same
    assert table.filter(pl.col("published_denominator").is_not_null())["denominator_diff"].abs().max() == 0
    assert set(table["cause"]) <= {"match", "not_published"}


@pytest.mark.parametrize("unit", ["T58", "Tỉnh Ninh Thuận", "SKHDT"])
def test_planning_a_unit_the_index_does_not_score_is_refused(small_demo_db: Path, unit: str) -> None:
    """`egov-metrics plan "Tỉnh Ninh Thuận"` (the province) printed an empty table with status 0: the index
    scores departments and communes of today only, and the planner says so."""
    from egov_metrics.errors import EgovError
    from egov_metrics.planner import plan_unit

    with pytest.raises(EgovError, match="not among the units the 766 index scores"):
        plan_unit(small_demo_db, unit)
    assert plan_unit(small_demo_db, "STP").columns  # a department is planned as before


def test_planner_scores_an_action_with_the_units_other_counts_under_exclude() -> None:
    """portal_2026 drops `communes_e_certified_copy` for a unit without communes (`exclude`) and rescales the
    group's other indicators. The planner scored each action's indicator alone, as if the certified copy had no
    data: a commune with 9 of 9 communes offering it was promised 4.40 of 4 points for digitizing 6 more
    dossiers (+0.49 instead of +0.09) and ranked that action first."""
    result = score(
        counts(
            [
                ("dossiers_digitized", 256, 262),  # 4 × 256/262 = 3.908… → 3.91
                ("communes_e_certified_copy", 9, 9),  # has data: nothing is excluded
                ("e_results", 194, 259),  # 6 × 0.749… = 4.49
            ]
        ),
        "portal_2026",
    )
    actions = plan(result, "U")
    got = {
        r["indicator"]: (r["changed"], r["points_after"], r["points_gain"])
        for r in actions.iter_rows(named=True)
    }
    assert got["dossiers_digitized"] == (6, 4.0, 0.09)
    assert got["e_results"] == (65, 6.0, 1.51)
    # and under exclude (no communes: a department), the enlarged maximum is the unit's own
    dept = score(
        counts([("dossiers_digitized", 256, 262), ("communes_e_certified_copy", 0, 0)]), "portal_2026"
    )
    row = plan(dept, "U").row(0, named=True)
    assert (
        row["points_after"]
        == dept.indicators.filter(pl.col("indicator") == "dossiers_digitized")["max_points"][0]
    )


def test_cli_plan_out_writes_the_actions_with_their_numbers(small_demo_db: Path, tmp_path: Path) -> None:
    """`plan STP --out plan.csv` wrote the templates 'công bố đúng hạn thêm {n} thủ tục' / 'publish {n} more
    procedures on time': the file a planner opens did not say how many."""
    out = tmp_path / "plan.csv"
    res = CliRunner().invoke(app, ["plan", "STP", "--db", str(small_demo_db), "--out", str(out)])
    assert res.exit_code == 0, res.output
    written = pl.read_csv(out)
    assert written.height > 0
    for row in written.iter_rows(named=True):
        assert "{n}" not in row["action_vi"] and "{n}" not in row["action_en"]
        assert f"thêm {row['changed']:,}".replace(",", ".") in row["action_vi"]
        assert f"{row['changed']:,} more" in row["action_en"] or f" {row['changed']:,} " in row["action_en"]


@pytest.mark.parametrize(
    "argv",
    [
        ["plan", "STP", "--out", "actions.txt"],
        ["score", "--out", "scores.txt"],
        ["score", "--reconcile", "--out", "rec"],
        ["roadmap", "assess", "--as-of", "2026-06-30", "--out", "targets.ods"],
    ],
)
def test_an_out_file_of_an_unknown_kind_is_one_error_line(
    small_demo_db: Path, tmp_path: Path, argv: list[str]
) -> None:
    """`plan STP --out actions.txt` (and score, roadmap assess) computed everything, then ended in a traceback
    (UnknownNameError, status 1); now: one line naming the formats, status 2, before any work."""
    out = str(tmp_path / argv[-1])
    res = CliRunner().invoke(app, [*argv[:-1], out, "--db", str(small_demo_db)])
    assert res.exit_code == 2, res.output
    assert isinstance(res.exception, SystemExit)
    assert "unknown output format" in res.output and ".csv, .parquet, .xlsx" in res.output
    assert "Traceback" not in res.output
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_the_english_province_reports_reconciliation_names_units_in_english(reconciled_db: Path) -> None:
    """The province's summary of the reconciliation named every unit in Vietnamese on the English page ("Sở Tư
    pháp" beside "dossiers not synchronised to the national portal")."""
    from egov_metrics.reports.kinds.progress_report.page import ProgressReport

    with connect(reconciled_db) as con:
        names = dict(con.sql("SELECT name_vi, name_en FROM org_unit WHERE name_en IS NOT NULL").fetchall())
    en = str(ProgressReport(reconciled_db, "2026-05", None, "en").reconciliation())
    assert "Reconciliation with the portal" in en and "Indicators agreeing" in en
    shown_vi = [vi for vi in names if f">{vi}<" in en and names[vi] != vi]
    assert not shown_vi, f"Vietnamese unit names on the English page: {shown_vi[:5]}"
    shown_en = [e for e in names.values() if f">{e}<" in en]
    assert shown_en, "no unit named in English"
    vi = str(ProgressReport(reconciled_db, "2026-05", None, "vi").reconciliation())
    assert [v for v in names if f">{v}<" in vi] and not [e for e in shown_en if f">{e}<" in vi]
