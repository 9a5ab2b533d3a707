"""The roadmap report tells one story: one definition of an overdue component behind the readiness grid, the
timeline, the overdue table and the risks; a value short of its target never reads the same as the target; a
value with too few months for a trend is not "no data"; components as of a date are shown as they stood then.

Hand-built inputs: the small fixture roadmap (PA 2021–2025, PB 2026–2030) with a few more components, a
planner's copy of it read by the page over the tiny database, constructed series; one check on the demo."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from fixtures.tiny import build_tiny_db

from egov_metrics import roadmap as rm
from egov_metrics.reports.kinds.roadmap_report.page import RoadmapReport, T
from egov_metrics.roadmap.status import (
    Rules,
    check_target,
    distinct_decimals,
    month_number,
    status_name,
    value_and_target_texts,
)

D = dt.date
SMALL = Path(__file__).parent / "fixtures" / "roadmap_small.yaml"

#: Added to the small roadmap: layer 6 has five components due by 30 Sep 2025, four in operation (80 %: not
#: lagging) and one overdue; layer 3 has one of phase PB, recorded in progress.
EXTRA_COMPONENTS = """
  - {id: T6_LGSP, layer: 6, name: {vi: "LGSP", en: "LGSP"}, phase: PA, status: in_operation,
     planned: 2021-06-30, live: 2021-05-01, owner: SKHCN-2025}
  - {id: T6_NDXP, layer: 6, name: {vi: "NDXP", en: "NDXP"}, phase: PA, status: in_operation,
     planned: 2021-06-30, live: 2021-06-01, owner: SKHCN-2025}
  - {id: T6_PAY, layer: 6, name: {vi: "Thanh toán", en: "Payment"}, phase: PA, status: in_operation,
     planned: 2022-06-30, live: 2022-05-01, owner: SKHCN-2025}
  - {id: T6_POP, layer: 6, name: {vi: "Dân cư", en: "Population"}, phase: PA, status: in_operation,
     planned: 2022-12-31, live: 2022-11-01, owner: SKHCN-2025}
  - {id: T6_CATALOG, layer: 6, name: {vi: "Danh mục dùng chung", en: "Shared catalogue"}, phase: PA,
     status: planned, planned: 2024-12-31, owner: SKHCN-2025}
  - {id: T3_ANALYTICS, layer: 3, name: {vi: "Phân tích truy cập", en: "Portal analytics"}, phase: PB,
     status: in_progress, planned: 2026-06-30, owner: SKHCN-2025}
"""

AS_OF = D(2025, 9, 30)


def _roadmap_text() -> str:
    return SMALL.read_text(encoding="utf-8").rstrip("\n") + "\n" + EXTRA_COMPONENTS


@pytest.fixture(scope="module")
def roadmap(tmp_path_factory: pytest.TempPathFactory) -> rm.Roadmap:
    path = tmp_path_factory.mktemp("roadmap") / "roadmap.yaml"
    path.write_text(_roadmap_text(), encoding="utf-8")
    return rm.load_roadmap(path)


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_db(tmp_path_factory.mktemp("consistency") / "tiny.duckdb")


@pytest.fixture
def planner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The extended small roadmap as the planner's (`$EGOV_USER_DIR/roadmap.yaml`): the page reads it."""
    folder = tmp_path / "planner"
    folder.mkdir()
    (folder / "roadmap.yaml").write_text(_roadmap_text(), encoding="utf-8")
    monkeypatch.setenv("EGOV_USER_DIR", str(folder))
    yield folder / "roadmap.yaml"


def _text(fragment: object) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", str(fragment)))


def _tables(fragment: object) -> list[list[list[str]]]:
    """Each <table> of an HTML fragment as rows of cell texts (header row included)."""
    out = []
    for body in re.findall(r"<table.*?</table>", str(fragment), re.S):
        rows = re.findall(r"<tr.*?</tr>", body, re.S)
        out.append(
            [[_text(c).strip() for c in re.findall(r"<t[dh][^>]*>.*?</t[dh]>", r, re.S)] for r in rows]
        )
    return out


def _sections(page: RoadmapReport) -> dict[str, set[str]]:
    """The overdue components each section of the page names (by their name in the page's language)."""
    name = "name_vi" if page.lang == "vi" else "name_en"
    names = dict(zip(page.components["id"], page.components[name], strict=True))
    word = T[page.lang]["overdue_owner"]
    grid = {names[i] for ids in page.readiness["overdue_ids"] for i in ids}
    timeline = set(page.components.filter(pl.col("overdue"))[name])
    (table,) = _tables(page.layers())
    header, rows = table[0], table[1:]
    assert header == [T[page.lang]["layer"], T[page.lang]["phase"], T[page.lang]["overdue"]]
    assert rows and all(all(cell for cell in row) for row in rows), (
        f"a blank row in the overdue table: {rows}"
    )
    listed = {n for n in names.values() if any(n + " (" in row[2] for row in rows)}
    risks = set(re.findall(rf"{re.escape(word)}: (.*?) — ", _text(page.risks())))
    return {"grid": grid, "timeline": timeline, "table": listed, "risks": risks}


# --- one definition of overdue ------------------------------------------------------------------------------


def test_overdue_is_one_function_behind_the_components_and_the_readiness(roadmap: rm.Roadmap) -> None:
    comps = rm.components(roadmap, as_of=AS_OF)
    overdue = set(comps.filter(pl.col("overdue"))["id"])
    assert overdue == {"T5_LAND", "T6_CATALOG"}
    for r in comps.iter_rows(named=True):
        assert r["overdue"] == rm.is_overdue(r["status_as_of"], r["planned"], AS_OF), r["id"]
        assert r["due"] == rm.is_due(r["planned"], AS_OF), r["id"]
    empty = pl.DataFrame(schema={"indicator": pl.String, "month": pl.Int64, "value": pl.Float64})
    readiness = rm.layer_readiness(roadmap, as_of=AS_OF, series=empty)
    assert {i for ids in readiness["overdue_ids"] for i in ids} == overdue
    six = readiness.filter(pl.col("layer") == 6).row(0, named=True)
    assert (six["layer_readiness_due"], six["lagging"], six["overdue_ids"]) == (80.0, False, ["T6_CATALOG"])
    # a component due on the day itself is not overdue yet, and not due either: the two agree
    on_the_day = (
        rm.components(roadmap, as_of=D(2024, 12, 31)).filter(pl.col("id") == "T6_CATALOG").row(0, named=True)
    )
    assert (on_the_day["due"], on_the_day["overdue"]) == (False, False)
    # a layer lags only when it has overdue components
    for r in readiness.filter(pl.col("lagging")).iter_rows(named=True):
        assert readiness.filter(pl.col("layer") == r["layer"])["overdue"].sum() > 0


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_grid_timeline_table_and_risks_name_the_same_overdue_components(
    planner: Path, tiny_db: Path, lang: str
) -> None:
    """Layer 6 is not lagging (80 %) but has an overdue component; layer 5 lags and has a PB row with nothing
    overdue: every section names both overdue components, and the table has no blank row."""
    page = RoadmapReport(tiny_db, as_of=AS_OF, lang=lang)
    sections = _sections(page)
    expected = (
        {"Cơ sở dữ liệu đất đai", "Danh mục dùng chung"}
        if lang == "vi"
        else {"Land database", "Shared catalogue"}
    )
    assert sections == dict.fromkeys(sections, expected), sections
    risks = _text(page.risks())
    t = T[lang]
    sharing = "Dịch vụ chia sẻ và tích hợp" if lang == "vi" else "Sharing and integration services"
    apps = "Ứng dụng và cơ sở dữ liệu" if lang == "vi" else "Applications and databases"
    assert f"{t['overdue_layer']}: {sharing}" in risks  # has an overdue component, not lagging
    assert f"{t['lagging_layer']}: {apps}" in risks
    assert f"{t['lagging_layer']}: {sharing}" not in risks


def test_the_demo_report_agrees_with_itself(small_demo_db: Path) -> None:
    """On the demo (30 June 2026), layer 6 (not lagging) has an overdue component beside lagging layer 5."""
    page = RoadmapReport(small_demo_db, as_of="2026-06-30", lang="vi")
    sections = _sections(page)
    assert sections["grid"] and all(s == sections["grid"] for s in sections.values()), sections
    assert "Danh mục dữ liệu dùng chung của tỉnh" in sections["risks"]
    assert sum(page.readiness["overdue"]) == len(sections["grid"])


# --- a value short of its target never reads the same as the target -----------------------------------------


def test_decimals_are_added_only_to_tell_a_short_value_from_its_target() -> None:
    assert distinct_decimals(4.0208, 4.0, "lower", 1) == 2
    assert distinct_decimals(79.96, 80.0, "higher", 1) == 2
    assert distinct_decimals(79.9996, 80.0, "higher", 1) == 4
    assert distinct_decimals(80.04, 80.0, "higher", 1) == 1  # met: "80,0 %" against "≥ 80,0 %" is right
    assert distinct_decimals(57.4, 80.0, "higher", 1) == 1
    assert distinct_decimals(None, 80.0, "higher", 1) == 1
    kw = {"unit": "working_days", "direction": "lower"}
    assert value_and_target_texts(4.046, 4.0, lang="vi", **kw) == ("4,05 ngày LV", "4,00 ngày LV")
    assert value_and_target_texts(4.046, 4.0, lang="en", **kw) == ("4.05 working days", "4.00 working days")
    assert value_and_target_texts(3.96, 4.0, lang="vi", **kw) == ("4,0 ngày LV", "4,0 ngày LV")  # met
    assert value_and_target_texts(None, 4.0, lang="vi", **kw) == ("–", "4,0 ngày LV")
    pct = {"unit": "percent", "direction": "higher"}
    assert value_and_target_texts(79.96, 80.0, lang="vi", **pct) == ("79,96 %", "80,00 %")
    assert value_and_target_texts(59.27, 80.0, lang="en", **pct) == ("59.3 %", "80.0 %")


def test_a_missed_target_reads_short_of_its_target_in_both_languages() -> None:
    first = month_number(D(2024, 1, 1))
    months = list(range(first, first + 26))  # Jan 2024 – Feb 2026, 4.02 working days around the deadline
    values = [4.3 - 0.01 * k for k in range(21)] + [4.02] * 5
    check = check_target(
        months, values, target=4.0, deadline=D(2025, 12, 31), direction="lower", unit="working_days",
        as_of=D(2026, 2, 28), rules=Rules(),
    )  # fmt: skip
    assert (check.status, check.rule) == ("off_track", "missed")
    assert check.at_deadline == pytest.approx(4.02)
    assert "4,02 ngày LV khi hết hạn, chỉ tiêu ≤ 4,00 ngày LV" in check.reason_vi
    assert "4.02 working days when the deadline passed, target ≤ 4.00 working days" in check.reason_en


def test_a_projection_short_of_its_target_reads_short_of_it() -> None:
    first = month_number(D(2024, 1, 1))
    # 79.5 in November 2025, rising 0.2256 points a year: projected 79.97 at the end of 2027 (25 months on),
    # short of 80
    values = [79.5 + 0.2256 * (k - 22) / 12 for k in range(24)]
    check = check_target(
        list(range(first, first + 24)), values, target=80.0, deadline=D(2027, 12, 31), direction="higher",
        as_of=D(2025, 12, 31), rules=Rules(),
    )  # fmt: skip
    assert check.status == "at_risk" and check.projection == pytest.approx(79.97)
    assert "dự báo 79,97 %" in check.reason_vi and "chỉ tiêu ≥ 80,00 %" in check.reason_vi
    assert "projected 79.97 %" in check.reason_en and "target ≥ 80.00 %" in check.reason_en


def _page(lang: str) -> RoadmapReport:
    """The page's table methods without a database: they read only the page's words and language."""
    page = object.__new__(RoadmapReport)
    page.lang, page.t = lang, T[lang]
    return page


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_targets_table_shows_the_difference_the_status_speaks_of(lang: str) -> None:
    frame = pl.DataFrame(
        {
            "name_vi": ["Thời gian", "Hồ sơ"], "name_en": ["Days", "Dossiers"],
            "deadline": [D(2025, 12, 31)] * 2, "target": [4.0, 80.0], "current": [4.046, 81.2],
            "unit": ["working_days", "percent"], "direction": ["lower", "higher"],
            "status": ["off_track", "achieved"], "status_vi": ["Chệch hướng", "Đã đạt"],
            "status_en": ["Off track", "Achieved"], "reason_vi": ["–", "–"], "reason_en": ["–", "–"],
        }
    )  # fmt: skip
    page = _page(lang)
    (table,) = _tables(page._targets_table(page._status_frame(frame)))
    days, dossiers = table[1], table[2]
    if lang == "vi":
        assert days[2:4] == ["4,00 ngày LV", "4,05 ngày LV"]
        assert dossiers[2:4] == ["80,0 %", "81,2 %"]
    else:
        assert days[2:4] == ["4.00 working days", "4.05 working days"]
        assert dossiers[2:4] == ["80.0 %", "81.2 %"]


# --- a value with too few months is not "no data" --------------------------------------------------------------


def test_a_value_without_enough_months_for_a_trend_is_not_called_no_data(roadmap: rm.Roadmap) -> None:
    as_of = D(2021, 1, 31)
    first = month_number(D(2020, 11, 1))
    series = pl.DataFrame(
        {
            "indicator": "fully_online_dossiers",
            "month": [first, first + 1, first + 2],
            "value": [3.0, 4.0, 5.0],
        },
        schema_overrides={"month": pl.Int64},
    )
    con = duckdb.connect(":memory:")
    frame = rm.assess(roadmap, as_of=as_of, db=con, series=series, targets="year")
    row = frame.filter(pl.col("indicator") == "fully_online_dossiers").row(0, named=True)
    assert (row["status"], row["rule"], row["current"]) == ("no_data", "no_trend", 4.0)
    assert row["status_vi"] == "Chưa đủ số tháng để đánh giá" != status_name("no_data", None, "vi")
    assert row["status_en"] == "Too few months to judge"
    none = frame.filter(pl.col("indicator") == "online_submission").row(0, named=True)
    assert (none["status"], none["current"], none["status_vi"], none["status_en"]) == (
        "no_data", None, "Chưa có số liệu", "No data",
    )  # fmt: skip
    for lang in ("vi", "en"):
        page = _page(lang)
        (table,) = _tables(page._targets_table(page._status_frame(frame)))
        by_name = {r[0]: r for r in table[1:]}
        name = row["name_vi"] if lang == "vi" else row["name_en"]
        assert by_name[name][3] == ("4,0 %" if lang == "vi" else "4.0 %")
        assert by_name[name][4] == (
            "Chưa đủ số tháng để đánh giá" if lang == "vi" else "Too few months to judge"
        )
        # the bullet chart of the same targets says the same (it named the status code: "Chưa có số liệu")
        from egov_metrics.charts import chart_bullet, to_svg

        mine = frame.filter(pl.col("indicator") == "fully_online_dossiers")
        svg = to_svg(chart_bullet(mine, rm.legend_frame(roadmap), lang=lang))
        assert ("Chưa đủ số tháng để đánh giá" if lang == "vi" else "Too few months to judge") in svg
        assert ("Chưa có số liệu" if lang == "vi" else "No data") not in svg


# --- components as they stood on the as-of date ----------------------------------------------------------------


def test_components_as_of_a_date_show_no_later_facts(roadmap: rm.Roadmap) -> None:
    def row(component: str, as_of: dt.date) -> dict[str, object]:
        return rm.components(roadmap, as_of=as_of).filter(pl.col("id") == component).row(0, named=True)

    before = row("T4_RESULT", D(2023, 12, 31))  # went live on 20 May 2024: not known at the end of 2023
    assert (before["status_as_of"], before["live"]) == ("in_progress", None)
    after = row("T4_RESULT", D(2024, 12, 31))
    assert (after["status_as_of"], after["live"], after["delay_days"]) == ("in_operation", D(2024, 5, 20), 50)
    # a phase-B component recorded in progress had not started before phase B
    early = row("T3_ANALYTICS", D(2025, 9, 30))
    assert (early["status_as_of"], early["status_en"], early["overdue"]) == ("planned", "Planned", False)
    assert row("T3_ANALYTICS", D(2026, 3, 31))["status_as_of"] == "in_progress"
    # and so is a phase-B component that depends on it
    assert row("T7_CLOUD", D(2025, 9, 30))["status_as_of"] == "planned"
    # before any phase, nothing but what was already live
    first_day = rm.components(roadmap, as_of=D(2020, 12, 31))
    assert set(first_day["status_as_of"]) == {"planned"}
    assert first_day["live"].is_null().all()
