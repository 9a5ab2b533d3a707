"""Method versions are plug-ins chosen by date: a method file's valid_from (and valid_to, replaces) selects it.

Adding a method version is dropping one YAML file: these tests drop one into a temporary directory named by
$EGOV_METHODS_PATH and check it is chosen for the periods after its valid_from and not before.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from egov_metrics.cli import app
from egov_metrics.scoring import (
    METHODS_DIR,
    METHODS_PATH_ENV,
    MethodError,
    ScoringError,
    current_methods,
    indicator_groups,
    known_methods,
    latest_method,
    load_method,
    loading,
    method_for,
    method_groups,
    period_end,
    score,
    score_from_published,
)

SHIPPED = (METHODS_DIR / "portal_2026_12.yaml").read_text(encoding="utf-8")


def _version(text: str, method_id: str, version: str, valid_from: str, extra: str = "") -> str:
    """The shipped method text as another version: new id, version and validity; `replaces` left out."""
    text = re.sub(r"(?m)^replaces: .*\n", "", text)
    text = re.sub(r"(?m)^id: .*$", f"id: {method_id}", text)
    text = re.sub(r"(?m)^version: .*$", f'version: "{version}"', text)
    return re.sub(r"(?m)^valid_from: .*$", f"valid_from: {valid_from}{extra}", text)


@pytest.fixture(autouse=True)
def shipped_as_of_2026_12(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The method files shipped in December 2026 (copies), in place of the package's folder: the selection
    rules are tested on a known set, so shipping a new method version (docs/extending.md, recipe 4) does not
    break these tests; its own test says which periods it takes."""
    folder = tmp_path_factory.mktemp("shipped_methods")
    for name in ("portal_2026", "portal_2026_12"):
        (folder / f"{name}.yaml").write_bytes((METHODS_DIR / f"{name}.yaml").read_bytes())
    monkeypatch.setattr(loading, "METHODS_DIR", folder)


@pytest.fixture
def methods_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "methods"
    directory.mkdir()
    monkeypatch.setenv(METHODS_PATH_ENV, str(directory))
    return directory


def _counts(period: str, period_end_day: date | None = None) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "unit_id": ["u1"],
            "period": [period],
            "indicator": ["dossiers_on_time"],
            "numerator": [90],
            "denominator": [100],
        }
    )
    if period_end_day is not None:
        frame = frame.with_columns(period_end=pl.lit(period_end_day))
    return frame


# --- the shipped methods: today's behaviour ---------------------------------------------------------------


@pytest.mark.parametrize("when", [date(2021, 1, 31), "2025-12", "2026", "2026-01-01", "2026-Q3", "2026-09"])
def test_portal_2026_12_scores_every_period_of_the_demo(when: date | str) -> None:
    # portal_2026_12 replaces portal_2026 (both valid from 2026-01-01); before 2026 it applies retroactively
    assert method_for(when).id == "portal_2026_12"


def test_a_replaced_method_is_loadable_but_never_selected() -> None:
    assert [m.id for m in current_methods()] == ["portal_2026_12"]
    assert load_method("portal_2026").label == "portal_2026@2026.1"
    assert latest_method().id == "portal_2026_12"


def test_score_without_a_method_uses_the_one_valid_for_the_counts() -> None:
    result = score(_counts("2026-09"))
    assert result.method_version == "portal_2026_12@2026.12"
    # 20 points × 90 % = 18.00 (linear rule of dossiers_on_time)
    assert result.indicators.filter(pl.col("indicator") == "dossiers_on_time")["points"].to_list() == [18.0]


def test_method_groups_are_the_methods_groups_in_order() -> None:
    groups = method_groups()
    assert [(g.id, g.name_en, float(g.max_points)) for g in groups] == [
        ("transparency", "Transparency", 18.0),
        ("progress", "Processing progress", 20.0),
        ("online", "Online public services", 12.0),
        ("payment", "Online payment", 10.0),
        ("digitization", "Digitization", 22.0),
        ("satisfaction", "Satisfaction", 18.0),
    ]
    assert groups[1].name_vi == "Tiến độ giải quyết"
    by_indicator = indicator_groups("portal_2026_12")
    assert by_indicator["dossiers_on_time"] == "progress"
    assert by_indicator["paid_online"] == "payment"
    assert "processing_days_mean" not in by_indicator  # not scored by the 766 index


@pytest.mark.parametrize(
    ("label", "day"),
    [
        ("2026", date(2026, 12, 31)),
        ("2026-H1", date(2026, 6, 30)),
        ("2026-Q1", date(2026, 3, 31)),
        ("2026-02", date(2026, 2, 28)),
        ("2024-02", date(2024, 2, 29)),
        ("2026-09-15", date(2026, 9, 15)),
        ("2026-01..2026-06", date(2026, 6, 30)),
    ],
)
def test_period_end(label: str, day: date) -> None:
    assert period_end(label) == day


def test_a_period_without_a_day_asks_for_the_method() -> None:
    with pytest.raises(ScoringError, match="cannot tell which day the period 'Năm 2026' ends") as err:
        period_end("Năm 2026")
    assert "--method" in str(err.value)


# --- adding a method version: one YAML file -----------------------------------------------------------------


def test_a_new_method_file_is_selected_from_its_valid_from(methods_dir: Path) -> None:
    (methods_dir / "portal_2027.yaml").write_text(
        _version(SHIPPED, "portal_2027", "2027.1", "2027-01-01"), encoding="utf-8"
    )
    assert "portal_2027" in known_methods()
    assert method_for(date(2026, 12, 31)).id == "portal_2026_12"
    assert method_for("2026").id == "portal_2026_12"
    assert method_for(date(2027, 1, 1)).id == "portal_2027"
    assert method_for("2027-Q1").id == "portal_2027"
    assert latest_method().id == "portal_2027"
    # score() and score_from_published() pick it by the counts' period
    assert score(_counts("2026-12")).method_version == "portal_2026_12@2026.12"
    assert score(_counts("2027-01")).method_version == "portal_2027@2027.1"
    assert score(_counts("x", date(2027, 3, 31))).method_version == "portal_2027@2027.1"
    assert score_from_published(_counts("2027")).method_version == "portal_2027@2027.1"
    assert score_from_published(_counts("2026")).method_version == "portal_2026_12@2026.12"
    # a named method still wins over the date
    assert score(_counts("2027-01"), "portal_2026_12").method_version == "portal_2026_12@2026.12"


def test_valid_to_ends_a_method(methods_dir: Path) -> None:
    (methods_dir / "pilot_2027.yaml").write_text(
        _version(SHIPPED, "pilot_2027", "2027.0", "2027-01-01", "\nvalid_to: 2027-07-01"), encoding="utf-8"
    )
    assert method_for("2027-06").id == "pilot_2027"
    # [valid_from, valid_to): from 1 July 2027 the open-ended portal_2026_12 is the one valid again
    assert method_for("2027-07").id == "portal_2026_12"


def test_two_methods_valid_from_the_same_day_are_an_error(methods_dir: Path) -> None:
    (methods_dir / "rival.yaml").write_text(
        _version(SHIPPED, "rival", "2026.99", "2026-01-01"), encoding="utf-8"
    )
    with pytest.raises(ScoringError) as err:
        method_for("2026-05")
    assert "several scoring methods are valid from 2026-01-01 on 2026-05-31: portal_2026_12, rival" in str(
        err.value
    )
    assert "Hint:" in str(err.value) and "replaces" in str(err.value)


def test_a_method_cannot_replace_itself(methods_dir: Path) -> None:
    path = methods_dir / "selfish.yaml"
    path.write_text(
        _version(SHIPPED, "selfish", "1", "2028-01-01", "\nreplaces: [selfish]"), encoding="utf-8"
    )
    with pytest.raises(MethodError, match="replaces: a method cannot replace itself"):
        load_method("selfish")


def test_the_command_line_scores_published_counts_with_the_method_of_their_period(
    methods_dir: Path, tmp_path: Path
) -> None:
    (methods_dir / "portal_2027.yaml").write_text(
        _version(SHIPPED, "portal_2027", "2027.1", "2027-01-01"), encoding="utf-8"
    )
    runner = CliRunner()
    for period, label in (("2026", "portal_2026_12@2026.12"), ("2027", "portal_2027@2027.1")):
        path = tmp_path / f"published_{period}.csv"
        _counts(period).write_csv(path)
        result = runner.invoke(app, ["score", "--published", str(path)], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert label in result.output
    help_text = runner.invoke(app, ["score", "--help"], env={"COLUMNS": "200"}).output
    assert "valid_from" in help_text


# --- the 766 groups: the method is the one source -----------------------------------------------------------


def test_the_catalog_reads_each_indicators_766_group_from_the_method() -> None:
    from egov_metrics.catalog import load_catalog

    catalog = {i.id: i for i in load_catalog()}
    assert catalog["dossiers_on_time"].group_766 == "progress"
    assert catalog["dossiers_digitized"].group_766 == "digitization"
    # the catalog used to say `progress` here, but no method scores the mean processing time
    assert catalog["processing_days_mean"].group_766 is None
    scored = {i: g for i, g in ((i, c.group_766) for i, c in catalog.items()) if g is not None}
    assert scored == indicator_groups(latest_method())


def test_a_catalog_file_with_group_766_is_told_where_the_groups_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from egov_metrics.catalog import CATALOG_DIR, CatalogError, load_catalog

    text = (CATALOG_DIR / "dossiers_on_time.yaml").read_text(encoding="utf-8")
    folder = tmp_path / "indicators"
    folder.mkdir()
    (folder / "my_on_time.yaml").write_text(
        text.replace("id: dossiers_on_time", "id: my_on_time") + "group_766: progress\n", encoding="utf-8"
    )
    monkeypatch.setenv("EGOV_USER_DIR", str(tmp_path))
    with pytest.raises(CatalogError) as err:
        load_catalog()
    assert "my_on_time.yaml" in str(err.value)
    assert "group_766 is not set in the catalog: the 766 method file" in str(err.value)
