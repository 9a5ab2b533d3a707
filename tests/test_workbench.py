"""The planner's workbench (issue 13): period labels, no progress bar, names beside codes, the palette, Excel for
leaders, what-if in one call, the planner's own catalog and its literal checks.

Expected values are computed independently of the code under test: straight SQL over the demo tables, the
portal's formula by hand, or values written out in the test.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from egov_metrics.catalog import check_catalog, load_catalog
from egov_metrics.catalog.model import literal_comparisons
from egov_metrics.charts import PALETTE, chart_bar, chart_trend
from egov_metrics.cli import app
from egov_metrics.codes import CHANNELS
from egov_metrics.engine import ComputeError, compute
from egov_metrics.engine.request import _as_date
from egov_metrics.errors import UnknownNameError
from egov_metrics.excel import ExcelError, neutralise_formula, write_excel
from egov_metrics.schema import connect
from egov_metrics.whatif import WhatIfError, what_if

ROOT = Path(__file__).resolve().parents[1]


def _sql(db: Path, query: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query, params or []).fetchall()
    finally:
        con.close()


# -- 7. friction ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-Q3", dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
        ("2026-Q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("2024-Q4", dt.date(2024, 10, 1), dt.date(2024, 12, 31)),
        ("2026", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
        ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("2026-05-17", dt.date(2026, 5, 17), dt.date(2026, 5, 17)),
    ],
)
def test_period_labels_are_accepted_as_start_and_end(text: str, start: dt.date, end: dt.date) -> None:
    assert _as_date(text, "start") == start
    assert _as_date(text, "end", month_end=True) == end


@pytest.mark.parametrize("text", ["2026-Q5", "2026-Q0", "26-Q1", "2026-13", "Q3"])
def test_a_bad_period_label_says_what_to_write(text: str) -> None:
    with pytest.raises(ComputeError, match="is not a date or a period") as info:
        _as_date(text, "start")
    assert "2026-Q3" in str(info.value) and "Hint:" in str(info.value)


def test_quarter_labels_give_the_same_numbers_as_dates(small_demo_db: Path) -> None:
    by_label = compute(["online_share"], grain="quarter", start="2025-Q1", end="2025-Q2", db=small_demo_db)
    by_date = compute(
        ["online_share"], grain="quarter", start="2025-01-01", end="2025-06-30", db=small_demo_db
    )
    assert by_label["period"].to_list() == ["2025-Q1", "2025-Q2"]
    assert by_label.equals(by_date)
    # the same labels the engine writes are accepted back: 2025-Q2 online share by hand
    online, total = _sql(
        small_demo_db,
        "SELECT count(*) FILTER (WHERE channel = 'online'), count(*) FROM dossier "
        "WHERE received_at >= DATE '2025-04-01' AND received_at < DATE '2025-07-01'",
    )[0]
    assert by_label["value"][1] == pytest.approx(100 * online / total)


def test_library_connections_have_no_progress_bar(small_demo_db: Path) -> None:
    con = connect(small_demo_db)
    try:
        assert con.sql("SELECT current_setting('enable_progress_bar')").fetchall() == [(False,)]
    finally:
        con.close()
    mine = duckdb.connect(str(small_demo_db), read_only=True)
    try:
        mine.execute("SET enable_progress_bar = true")
        compute(["dossiers_received"], grain="year", start="2025", end="2025", db=mine)
        assert mine.sql("SELECT current_setting('enable_progress_bar')").fetchall() == [(False,)]
    finally:
        mine.close()


def test_catalog_list_is_tab_separated_when_piped() -> None:
    result = CliRunner().invoke(app, ["catalog", "list", "--lang", "en"])
    assert result.exit_code == 0, result.output
    lines = result.output.rstrip("\n").split("\n")
    assert lines[0].split("\t") == ["id", "indicator", "unit", "better", "766 group", "layer", "provisional"]
    ids = {line.split("\t")[0] for line in lines[1:]}
    assert ids == {i.id for i in load_catalog()}
    assert all(line.count("\t") == 6 for line in lines)
    assert not re.search("[┃│━─┏┓]", result.output)  # no box drawing, nothing cut at a terminal width


# -- 3. names, not codes -------------------------------------------------------------------------------------


def test_compute_returns_names_beside_codes(small_demo_db: Path) -> None:
    frame = compute(["online_share"], by=["field", "channel"], grain="year", start="2025", end="2025",
                    names=True, db=small_demo_db)  # fmt: skip
    fields = dict(_sql(small_demo_db, "SELECT code, name_vi FROM field"))
    assert frame.height > 10
    for row in frame.iter_rows(named=True):
        assert row["indicator_name"] == "Tỷ lệ hồ sơ trực tuyến (trên tổng hồ sơ)"
        assert row["field_name"] == fields[row["field"]]
        assert row["channel_name"] == {"online": "Trực tuyến", "in_person": "Trực tiếp",
                                       "post": "Bưu chính công ích"}[row["channel"]]  # fmt: skip
    english = compute(["online_share"], by=["channel"], grain="year", start="2025", end="2025", names=True,
                      lang="en", db=small_demo_db)  # fmt: skip
    assert set(english["channel_name"]) == {CHANNELS[c].en for c in english["channel"]}
    assert set(english["indicator_name"]) == {"Digital take-up (online dossiers of all dossiers)"}
    plain = compute(["online_share"], by=["field", "channel"], grain="year", start="2025", end="2025",
                    db=small_demo_db)  # fmt: skip
    assert not [c for c in plain.columns if c.endswith("_name")]
    assert plain["value"].to_list() == frame["value"].to_list()


def test_procedure_names_come_from_the_procedure_table(small_demo_db: Path) -> None:
    frame = compute(["dossiers_received"], by=["procedure"], grain="year", start="2025", end="2025",
                    names=True, db=small_demo_db)  # fmt: skip
    names = dict(_sql(small_demo_db, "SELECT code, name_vi FROM procedure"))
    assert frame.height > 20
    assert all(names[p] == n for p, n in zip(frame["procedure"], frame["procedure_name"], strict=True))


def test_charts_use_names_and_a_palette_of_twenty() -> None:
    frame = pl.DataFrame(
        {
            "period_start": [dt.date(2026, m, 1) for m in (1, 2)] * 13,
            "value": [float(v) for v in range(26)],
            "unit": [f"U{n:02d}" for n in range(13) for _ in (1, 2)],
            "unit_name": [f"Sở số {n}" for n in range(13) for _ in (1, 2)],
        }
    )
    spec = chart_trend(frame, color="unit").to_dict()
    assert spec["encoding"]["color"]["field"] == "unit_name"  # the legend reads names
    assert len(set(PALETTE)) == len(PALETTE) == 20
    assert spec["config"]["range"]["category"] == list(PALETTE)
    assert any(t["field"] == "value" for t in spec["encoding"]["tooltip"])
    many = pl.concat([frame, frame.with_columns(pl.col("unit_name") + " bis")])
    faceted = chart_trend(many, color="unit").to_dict()
    assert "facet" in faceted and "color" not in faceted["spec"]["encoding"]  # 26 series: small multiples


# -- 4. Excel for leaders ------------------------------------------------------------------------------------


def _cells(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[list[object]]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_excel_long_layout_for_leaders(small_demo_db: Path, tmp_path: Path) -> None:
    frame = compute(["online_share", "dossiers_received", "processing_days_p90"], by=["unit"],
                    level="department", grain="quarter", start="2026-Q1", end="2026-Q2", names=True,
                    db=small_demo_db)  # fmt: skip
    path = write_excel(frame, tmp_path / "leaders.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Số liệu", "Định nghĩa"]
    ws = book["Số liệu"]
    heads = [c.value for c in ws[1]]
    assert heads[:8] == ["Chỉ tiêu", "Kỳ", "Từ ngày", "Đến ngày", "Đơn vị", "Tử số", "Mẫu số", "Giá trị"]
    assert ws.freeze_panes == "C2" and ws.auto_filter.ref
    assert ws["A1"].font.bold and ws["A1"].fill.fgColor.rgb.endswith("1F4E79")
    assert ws.column_dimensions["A"].width > 20
    col = {h: i for i, h in enumerate(heads)}
    rows = list(ws.iter_rows(min_row=2))
    assert len(rows) == frame.height
    first = frame.row(0, named=True)
    r = rows[0]
    assert r[col["Chỉ tiêu"]].value == "Tỷ lệ hồ sơ trực tuyến (trên tổng hồ sơ)"
    assert r[col["Kỳ"]].value == "quý 1/2026"
    assert (
        r[col["Từ ngày"]].value == dt.datetime(2026, 1, 1) and r[col["Từ ngày"]].number_format == "dd/mm/yyyy"
    )
    assert r[col["Đơn vị"]].value == first["unit_name"]
    # a percentage is a number: the rate rounded as shown (2 decimals of a percent), formatted as %
    assert r[col["Giá trị"]].value == pytest.approx(
        round(first["numerator"] / first["denominator"] * 100, 2) / 100
    )
    assert r[col["Giá trị"]].number_format == "0.00%"
    assert isinstance(r[col["Tử số"]].value, int | float) and r[col["Tử số"]].number_format == "#,##0"
    formats = {row[col["Mã chỉ tiêu"]].value: row[col["Giá trị"]].number_format for row in rows}
    assert formats == {
        "online_share": "0.00%",
        "dossiers_received": "#,##0",
        "processing_days_p90": "#,##0.0",
    }
    changes = {row[col["Thay đổi so với kỳ trước"]].number_format for row in rows
               if row[col["Mã chỉ tiêu"]].value == "online_share"}  # fmt: skip
    assert changes == {'+0.00 "điểm %";-0.00 "điểm %";0.00 "điểm %"'}
    definitions = _cells(book["Định nghĩa"])
    assert definitions[0][:2] == ["Mã chỉ tiêu", "Chỉ tiêu"]
    by_id = {row[0]: row for row in definitions[1:4]}
    online = load_catalog().get("online_share")
    assert by_id["online_share"][2] == online.description.vi and by_id["online_share"][
        5
    ] == online.legal_source_in("vi")


def test_excel_wide_layout_in_english(small_demo_db: Path, tmp_path: Path) -> None:
    frame = compute(["online_share"], by=["unit"], level="department", grain="quarter", start="2025-Q3",
                    end="2026-Q2", db=small_demo_db, lang="en")  # fmt: skip
    book = openpyxl.load_workbook(write_excel(frame, tmp_path / "wide.xlsx", lang="en", layout="wide"))
    assert book.sheetnames == ["Data", "Definitions"]
    ws = book["Data"]
    heads = [c.value for c in ws[1]]
    assert heads == ["Indicator", "Unit", "Unit of measure", "Q3 2025", "Q4 2025", "Q1 2026", "Q2 2026"]
    assert ws.freeze_panes == "D2"
    units = frame["unit_name"].unique().to_list()
    assert ws.max_row - 1 == len(units)
    for row in ws.iter_rows(min_row=2):
        mine = frame.filter(pl.col("unit_name") == row[1].value)
        for cell, period in zip(row[3:], ("2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"), strict=True):
            expected = mine.filter(pl.col("period") == period)["value"]
            if expected.len() and expected[0] is not None:
                assert cell.value == pytest.approx(round(expected[0], 2) / 100)
                assert cell.number_format == "0.00%"


def test_excel_neutralises_formulas(tmp_path: Path) -> None:
    assert neutralise_formula("=1+1") == "'=1+1"
    assert [neutralise_formula(v) for v in ("+84", "-x", "@SUM(A1)", "\tx", "\rx")] == [
        "'+84", "'-x", "'@SUM(A1)", "'\tx", "'\rx",
    ]  # fmt: skip
    assert neutralise_formula("Sở Tư pháp") == "Sở Tư pháp" and neutralise_formula(-3.5) == -3.5
    frame = pl.DataFrame(
        {"indicator": ["online_share"], "period": ["2026-01"], "unit_id": ["X"],
         "unit_name": ['=HYPERLINK("http://evil","x")'], "numerator": [1.0], "denominator": [2.0],
         "value": [50.0]}
    )  # fmt: skip
    ws = openpyxl.load_workbook(write_excel(frame, tmp_path / "x.xlsx")).active
    cell = next(c for c in ws[2] if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert cell.value.startswith("'=") and cell.data_type == "s"


def test_excel_refuses_bad_requests_and_leaves_no_file(tmp_path: Path) -> None:
    frame = pl.DataFrame({"indicator": ["online_share"], "period": ["2026-01"], "value": [1.0]})
    with pytest.raises(UnknownNameError, match="Excel layout"):
        write_excel(frame, tmp_path / "a.xlsx", layout="tall")
    with pytest.raises(ExcelError, match="xlsx"):
        write_excel(frame, tmp_path / "a.xls")
    with pytest.raises(ExcelError, match="no column"):
        write_excel(pl.DataFrame({"x": [1]}), tmp_path / "b.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_cli_out_xlsx_writes_the_leaders_workbook(small_demo_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "q.xlsx"
    result = CliRunner().invoke(app, ["compute", "online_share", "--by", "unit", "--level", "department",
                                      "--grain", "quarter", "--from", "2026-Q1", "--to", "2026-Q2", "--wide",
                                      "--db", str(small_demo_db), "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(out)["Số liệu"]
    assert [c.value for c in ws[1]][-2:] == ["quý 1/2026", "quý 2/2026"]


# -- 6. what-if -----------------------------------------------------------------------------------------------


def test_what_if_ranks_the_unit_among_all_its_peers(small_demo_db: Path) -> None:
    result = what_if({"unit": "Sở Tư pháp", "indicator": "dossiers_on_time", "rate": 100}, db=small_demo_db,
                     end="2026-06")  # fmt: skip
    row = result.summary.row(0, named=True)
    assert result.summary.height == 1 and row["unit_name"] == "Sở Tư pháp"
    departments = result.before.totals.filter(pl.col("unit_level") == "department")
    assert row["rank_among"] == departments.height > 5  # among every department, not among itself
    ind = result.indicators.row(0, named=True)
    # 100 % on time earns the indicator's 20 points; the total moves by exactly the points gained
    assert ind["points_after"] == 20.0 and ind["numerator_after"] == ind["denominator_before"]
    assert row["total_after"] == pytest.approx(row["total_before"] + 20.0 - ind["points_before"])
    others = result.after.totals.filter(
        pl.col("unit_level") == "department", pl.col("unit_id") != row["unit_id"]
    )
    assert row["rank_after"] == 1 + others.filter(pl.col("total") > row["total_after"]).height
    unchanged = result.before.totals.filter(pl.col("unit_id") != row["unit_id"]).select("unit_id", "total")
    assert unchanged.sort("unit_id").equals(
        result.after.totals.filter(pl.col("unit_id") != row["unit_id"])
        .select("unit_id", "total")
        .sort("unit_id")
    )


def test_what_if_rate_change_for_every_unit_is_capped(small_demo_db: Path) -> None:
    result = what_if({"indicator": "dossiers_digitized", "rate_change": 20}, db=small_demo_db, end="2026-06",
                     levels=("department",))  # fmt: skip
    rows = result.indicators
    assert rows.height == result.before.totals.height
    for r in rows.iter_rows(named=True):
        if r["denominator_before"]:
            expected = min(r["denominator_before"], r["numerator_before"] + 0.2 * r["denominator_before"])
            assert r["numerator_after"] == pytest.approx(expected)
    assert (result.summary["total_change"] >= 0).all()


def test_what_if_explains_bad_changes(small_demo_db: Path) -> None:
    with pytest.raises(WhatIfError, match="exactly one of"):
        what_if(
            {"unit": "STP", "indicator": "dossiers_on_time", "rate": 90, "numerator": 3}, db=small_demo_db
        )
    with pytest.raises(UnknownNameError, match="did you mean 'dossiers_on_time'"):
        what_if({"unit": "STP", "indicator": "dossiers_ontime", "rate": 90}, db=small_demo_db)
    with pytest.raises(UnknownNameError):
        what_if({"unit": "Sở Không Có", "indicator": "dossiers_on_time", "rate": 90}, db=small_demo_db)
    with pytest.raises(WhatIfError, match=r"less than or equal to 100"):
        what_if({"unit": "STP", "indicator": "dossiers_on_time", "rate": 120}, db=small_demo_db)


# -- 5. the planner's own catalog ---------------------------------------------------------------------------

PLANNER_INDICATOR = """\
id: post_share
name:
  vi: Tỷ lệ hồ sơ nộp qua bưu chính công ích
  en: Dossiers sent by post
description:
  vi: Hồ sơ nộp qua dịch vụ bưu chính công ích trên tổng hồ sơ tiếp nhận.
  en: Dossiers sent by the public postal service over all dossiers received.
unit: percent
direction: higher
decimals: 2
source: dossier
period_by: received
measure:
  aggregation: ratio
  numerator: channel = '{channel}'
  denominator: 'TRUE'
  factor: 100
legal_source: Kế hoạch của tỉnh (ví dụ)
"""


def _planner(tmp_path: Path, channel: str) -> Path:
    folder = tmp_path / "planner"
    (folder / "indicators").mkdir(parents=True)
    (folder / "indicators" / "post_share.yaml").write_text(PLANNER_INDICATOR.format(channel=channel), "utf-8")
    return folder


def test_a_planner_indicator_outside_the_package_is_computed(
    small_demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EGOV_USER_DIR", str(_planner(tmp_path, "post")))
    catalog = load_catalog()
    assert "post_share" in catalog and "online_share" in catalog
    frame = compute(["post_share"], grain="year", start="2025", end="2025", db=small_demo_db)
    post, total = _sql(
        small_demo_db,
        "SELECT count(*) FILTER (WHERE channel = 'post'), count(*) FROM dossier "
        "WHERE received_at >= DATE '2025-01-01' AND received_at < DATE '2026-01-01'",
    )[0]
    assert post > 0 and frame["value"][0] == pytest.approx(100 * post / total)


def test_a_wrong_code_in_a_planner_file_is_named_with_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _planner(tmp_path, "postal")
    monkeypatch.setenv("EGOV_USER_DIR", str(folder))
    _, problems = check_catalog()
    assert len(problems) == 1
    text = str(problems[0])
    assert text.startswith(f"{folder / 'indicators' / 'post_share.yaml'}:15: measure.numerator:")
    assert "'postal'" in text and "did you mean 'post'?" in text
    result = CliRunner().invoke(app, ["catalog", "check"])
    assert result.exit_code == 1 and "post_share.yaml:15" in result.output


def test_a_planner_may_not_redefine_a_shipped_indicator(tmp_path: Path) -> None:
    folder = tmp_path / "indicators"
    folder.mkdir()
    shipped = (ROOT / "egov_metrics" / "catalog" / "indicators" / "online_share.yaml").read_text("utf-8")
    (folder / "online_share.yaml").write_text(shipped, "utf-8")
    _, problems = check_catalog(user_dir=folder)
    assert [p.key for p in problems] == ["id"] and "duplicate id" in problems[0].message


def test_the_shipped_catalog_uses_known_codes_only() -> None:
    assert check_catalog()[1] == []


@pytest.mark.parametrize(
    ("expression", "found"),
    [
        ("channel = 'online' AND online_level = 'full'", [("channel", "online"), ("online_level", "full")]),
        ("status IN ('finished', 'returned')", [("status", "finished"), ("status", "returned")]),
        ("status NOT IN ('withdrawn')", [("status", "withdrawn")]),
        ("'post' = Channel", [("channel", "post")]),
        ("status <> 'retired'", [("status", "retired")]),
        ("coalesce(rating = 'dissatisfied', FALSE)", [("rating", "dissatisfied")]),
        ("note = 'it''s'", [("note", "it's")]),
        ("received_idx <= deadline_idx", []),
    ],
)
def test_literal_comparisons_are_found(expression: str, found: list[tuple[str, str]]) -> None:
    assert sorted(literal_comparisons(expression)) == sorted(found)


def test_a_broken_planner_file_stops_the_schedule_before_anything_is_rendered(
    small_demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from egov_metrics import schedule

    monkeypatch.setenv("EGOV_USER_DIR", str(_planner(tmp_path, "postal")))
    out = tmp_path / "reports"
    with pytest.raises(schedule.ScheduleError, match=r"post_share\.yaml:15.*did you mean 'post'") as info:
        schedule.run("2026-07-05", db=small_demo_db, out_dir=out)
    assert "no report was rendered" in str(info.value)
    assert not list(out.glob("**/*.html"))


def test_a_planner_roadmap_replaces_the_shipped_one_and_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from egov_metrics import schedule
    from egov_metrics.roadmap import load_roadmap

    folder = tmp_path / "planner"
    folder.mkdir()
    small = (ROOT / "tests" / "fixtures" / "roadmap_small.yaml").read_text("utf-8")
    assert "{phase: PB, value: 90, source" in small
    (folder / "roadmap.yaml").write_text(small.replace("value: 90, source", "value: 87, source", 1), "utf-8")
    monkeypatch.setenv("EGOV_USER_DIR", str(folder))
    target = next(ts for ts in load_roadmap().targets if ts.indicator == "fully_online_dossiers")
    assert [t.value for t in target.targets] == [70, 87]
    (folder / "roadmap.yaml").write_text(small.replace("value: 90, source", "value: 185, source", 1), "utf-8")
    with pytest.raises(schedule.ScheduleError, match=r"roadmap\.yaml:\d+: targets\.0\.targets\.1\.value"):
        schedule.run("2026-07-05", db=tmp_path / "none.duckdb", out_dir=tmp_path / "reports")


def test_catalog_check_help_names_the_planner_folder() -> None:
    text = textwrap.dedent(load_catalog.__doc__ or "")
    assert "$EGOV_USER_DIR/indicators" in text


# -- 8. notebooks paired with jupytext --------------------------------------------------------------------------


def test_paired_notebooks_match_their_py_percent_text() -> None:
    import jupytext

    paired = [p for p in sorted((ROOT / "notebooks").glob("*.ipynb"))
              if "py:percent" in str(jupytext.read(p).metadata.get("jupytext", {}).get("formats", ""))]  # fmt: skip
    assert [p.name for p in paired] >= ["explore.ipynb"]
    for ipynb in paired:
        text = ipynb.with_suffix(".py")
        assert text.is_file(), f"{ipynb.name} is paired but {text.name} is missing: run jupytext --sync"
        cells = [
            (c.cell_type, c.source.strip(), c.metadata.get("tags", [])) for c in jupytext.read(ipynb).cells
        ]
        again = [
            (c.cell_type, c.source.strip(), c.metadata.get("tags", [])) for c in jupytext.read(text).cells
        ]
        assert cells == again, f"{ipynb.name} and {text.name} differ: run jupytext --sync {ipynb.name}"


# -- 1, 2. interactive charts and the explorer (without a browser; tests/test_explorer_browser.py drives one) -----


def test_interactive_charts_are_offline_and_add_legend_and_zoom_selections(small_demo_db: Path) -> None:
    import altair as alt

    from egov_metrics.interactive import LEGEND, ZOOM, interactive, make_interactive

    monthly = compute(["dossiers_on_time"], by=["channel"], start="2026-01", names=True, db=small_demo_db)
    chart = chart_trend(monthly, color="channel")
    spec = make_interactive(chart).to_dict()
    params = {p["name"]: p for p in spec["params"]}
    assert params[LEGEND]["bind"] == "legend" and params[LEGEND]["select"]["fields"] == ["channel_name"]
    assert params[ZOOM]["bind"] == "scales" and params[ZOOM]["select"]["encodings"] == ["x"]
    assert spec["encoding"]["opacity"]["condition"]["param"] == LEGEND
    widget = interactive(chart)
    assert alt.JupyterChart._is_offline
    assert "cdn.jsdelivr" not in widget._esm and "https://" not in widget._esm.split("\n", 1)[0]
    assert widget.selections.legend.value == []  # readable in Python; filled by clicks in JupyterLab
    assert widget.embed_options["actions"]["editor"] is False  # no link to the online editor
    bars = monthly.filter(pl.col("period") == monthly["period"].max())
    assert bars.height == 3
    assert make_interactive(chart_bar(bars, category="channel")).to_dict().get("params") is None


def test_the_explorer_view_follows_the_selection(small_demo_db: Path, tmp_path: Path) -> None:
    from egov_metrics.explorer import Selection, explore, view

    plain = view(Selection(start="2026-01", end="2026-06"), small_demo_db)
    assert plain.frame["period"].to_list() == [f"2026-0{m}" for m in range(1, 7)]
    assert "Tỷ lệ hồ sơ trực tuyến" in plain.table_html and "tháng 03/2026" in plain.table_html
    assert "Phụ lục" in plain.definition_html and "SELECT" in plain.sql
    split = view(
        Selection(dimension="channel", grain="quarter", start="2026-Q1", end="2026-Q2"), small_demo_db
    )
    assert set(split.frame["channel_name"]) == {"Trực tuyến", "Trực tiếp", "Bưu chính công ích"}
    assert split.chart is not None and split.chart.to_dict()["encoding"]["color"]["field"] == "channel_name"
    many = view(Selection(dimension="procedure", grain="year", start="2025", end="2025"), small_demo_db)
    assert many.frame["procedure"].n_unique() > 20 and many.notes  # the chart keeps the 20 largest
    explorer = explore(small_demo_db, start="2026-01", end="2026-06")
    assert explorer.current is not None and explorer.chart_widget is not None
    explorer.dimension.value = "unit:department"
    assert "unit_name" in explorer.current.frame.columns
    written = explorer.export(tmp_path / "explorer.xlsx")
    assert written is not None and openpyxl.load_workbook(written).sheetnames == ["Số liệu", "Định nghĩa"]
    explorer.start.value = "2026-Q7"
    assert "Lỗi" in explorer.status.value and "2026-Q3" in explorer.status.value


def test_the_explorer_takes_its_documented_presets_and_names_a_wrong_one(small_demo_db: Path) -> None:
    """`explore(db, scope="Sở Tư pháp")`, the docstring's own example, raised a bare widget error (so did a
    misspelt indicator or grain): the scope is found by id, code or name, and a wrong preset says what is
    wrong and what would do."""
    from egov_metrics.errors import EgovError
    from egov_metrics.explorer import explore

    for scope in ("Sở Tư pháp", "STP", "so tu phap"):
        assert explore(small_demo_db, scope=scope, grain="quarter").scope.value == "STP"
    with pytest.raises(UnknownNameError, match="did you mean 'online_share'"):
        explore(small_demo_db, indicators=["online_shar"])
    with pytest.raises(UnknownNameError, match="did you mean 'quarter'"):
        explore(small_demo_db, grain="quater")
    with pytest.raises(EgovError, match="not one of the explorer's scopes"):
        explore(small_demo_db, scope="SKHDT")  # ended in 2025: not a scope of today


def test_the_explorer_offers_no_split_by_a_level_no_unit_of_today_has(
    small_demo_db: Path, tmp_path: Path
) -> None:
    """After the 2025 reorganisation no district exists: the split by district was always empty ("No data").
    It is offered only while districts exist (a province before its reorganisation)."""
    import shutil

    from egov_metrics.explorer import dimension_choices, explore

    offered = dimension_choices(small_demo_db)
    assert "unit:district" not in offered and {"unit:department", "unit:commune", "channel"} <= set(offered)
    with pytest.raises(UnknownNameError, match="explorer dimension"):
        explore(small_demo_db, dimension="unit:district")
    before = tmp_path / "before.duckdb"  # the same province with its districts still in office
    shutil.copy(small_demo_db, before)
    with duckdb.connect(str(before)) as con:
        con.execute("UPDATE org_unit SET valid_to = NULL WHERE level = 'district'")
    assert "unit:district" in dimension_choices(before)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_an_exported_file_gets_the_usual_mode_of_a_new_file(tmp_path: Path, suffix: str) -> None:
    """Exports were written through a private temporary file and kept its mode 0600, whatever the umask: a
    colleague could not open a workbook left in a shared folder. They now get the mode of any new file."""
    import os

    from egov_metrics.export import write_frame

    frame = pl.DataFrame({"indicator": ["online_share"], "value": [62.5]})
    old = os.umask(0o022)
    try:
        written = write_frame(frame, tmp_path / f"out{suffix}")
        os.umask(0o027)
        private = write_frame(frame, tmp_path / f"group{suffix}")
    finally:
        os.umask(old)
    assert written.stat().st_mode & 0o777 == 0o644
    assert private.stat().st_mode & 0o777 == 0o640


def test_excel_wide_keeps_two_units_of_the_same_name_apart(tmp_path: Path) -> None:
    """With historical units, 'Sở Xây dựng' is two units (SXD until the March 2025 merger, SXD-2025 after). The
    wide sheet pivoted on the name alone and kept the first unit's values: SXD-2025's 391 dossiers of 2025
    were shown as SXD's 19, and the other unit's row was gone."""
    frame = pl.DataFrame(
        {"indicator": ["dossiers_received"] * 4, "period": ["2024", "2025", "2024", "2025"],
         "period_start": [dt.date(2024, 1, 1), dt.date(2025, 1, 1)] * 2,
         "unit_id": ["SXD", "SXD", "SXD-2025", "SXD-2025"], "unit_name": ["Sở Xây dựng"] * 4,
         "value": [111.0, 19.0, 0.0, 391.0]}
    )  # fmt: skip
    ws = openpyxl.load_workbook(write_excel(frame, tmp_path / "w.xlsx", layout="wide")).active
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert [r[1:] for r in rows] == [
        ["Sở Xây dựng (SXD)", "số lượng", 111, 19],
        ["Sở Xây dựng (SXD-2025)", "số lượng", 0, 391],
    ]


def test_excel_wide_year_to_date_periods_in_time_order(tmp_path: Path) -> None:
    """Year-to-date periods all start on 1 January: sorted by their start alone, the columns came out in any
    order ('2026-07 YTD', '2026-10 YTD', '2026-05 YTD', …)."""
    months = [7, 10, 5, 1, 3, 11, 2, 8, 9, 6, 4]
    frame = pl.DataFrame(
        {"indicator": ["online_share"] * len(months), "period": [f"2026-{m:02d} YTD" for m in months],
         "period_start": [dt.date(2026, 1, 1)] * len(months),
         "period_end": [dt.date(2026, m + 1, 1) - dt.timedelta(days=1) for m in months],
         "unit_id": ["STP"] * len(months), "unit_name": ["Sở Tư pháp"] * len(months),
         "value": [float(m) for m in months]}
    )  # fmt: skip
    ws = openpyxl.load_workbook(write_excel(frame, tmp_path / "y.xlsx", lang="en", layout="wide")).active
    heads = [c.value for c in ws[1]][3:]
    assert heads == [f"year to date, {dt.date(2026, m, 1):%B} 2026" for m in range(1, 12)]
    assert [c.value for c in ws[2]][3:] == pytest.approx([m / 100 for m in range(1, 12)])
