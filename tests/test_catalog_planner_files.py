"""A planner's own indicator files: mistakes are refused by `catalog check` with file, line and the fix, never
computed wrong, never run, never a traceback later in `compute`."""

from __future__ import annotations

from pathlib import Path

import pytest

from egov_metrics.catalog import model
from egov_metrics.catalog.model import check_catalog

INDICATOR = """\
id: {id}
name: {{vi: Thử, en: Test}}
description: {{vi: Mô tả., en: Description.}}
unit: {unit}
direction: higher
decimals: 1
source: dossier
period_by: {period_by}
measure:
  aggregation: {aggregation}
  numerator: "{numerator}"
{rest}legal_source: 'Nghị định 61/2018/NĐ-CP'
"""


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(model.CACHE_DIR_ENV, str(folder))
    return folder


def _write(folder: Path, id_: str, **fields: str) -> Path:
    values = {"unit": "count", "period_by": "received", "aggregation": "count", "rest": ""} | fields
    path = folder / f"{id_}.yaml"
    path.write_text(INDICATOR.format(id=id_, **values), encoding="utf-8")
    return path


def _problems(folder: Path) -> dict[str, list[str]]:
    _, problems = check_catalog(folder)
    out: dict[str, list[str]] = {}
    for p in problems:
        out.setdefault(p.path.stem, []).append(f"{p.line}: {p.key}: {p.message}")
    return out


def test_an_expression_that_is_not_one_expression_is_refused_and_never_run(tmp_path: Path) -> None:
    folder = tmp_path / "indicators"
    folder.mkdir()
    written = tmp_path / "written.csv"
    cases = {
        "two_statements": f"1 FROM (SELECT 1) LIMIT 0; COPY (SELECT 42) TO '{written}'; SELECT 1",
        "reads_a_file": "(SELECT count(*) FROM read_csv('/etc/hostname', header=false)) > 0",
        "reads_a_table": "unit_id IN (SELECT id FROM org_unit)",
        "a_comment": "TRUE -- all of them",
        "a_from": "1 FROM dossier",
        "an_alias": "channel = 'online' AS online",
    }
    for id_, expr in cases.items():
        _write(folder, id_, numerator=expr)
    found = _problems(folder)
    assert not written.exists()  # the second statement never ran
    assert sorted(found) == sorted(cases), found
    for id_, messages in found.items():
        assert messages[0].startswith("11: measure.numerator: "), (id_, messages)
    assert "delete the ';'" in found["two_statements"][0]
    assert "subquery" in found["reads_a_file"][0] and "subquery" in found["reads_a_table"][0]
    assert "comment" in found["a_comment"][0]


def test_a_check_file_written_before_the_expression_check_does_not_spare_it(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "indicators"
    folder.mkdir()
    _write(folder, "reads_a_table", numerator="unit_id IN (SELECT id FROM org_unit)")
    monkeypatch.setattr(model, "_not_one_expression", lambda expr: None)  # as before the check
    monkeypatch.setattr(model, "_CHECKS", "bound")
    assert _problems(folder) == {}
    monkeypatch.undo()
    monkeypatch.setenv(model.CACHE_DIR_ENV, str(cache_dir))
    assert "subquery" in _problems(folder)["reads_a_table"][0]


def test_an_expression_of_the_wrong_type_is_refused_before_compute_fails_on_it(tmp_path: Path) -> None:
    folder = tmp_path / "indicators"
    folder.mkdir()
    _write(folder, "text_filter", numerator="TRUE", rest="filters:\n- field\n")
    _write(folder, "text_numerator", numerator="channel")
    _write(
        folder,
        "interval_median",
        unit="working_days",
        aggregation="median",
        numerator="finished_at - received_at",
    )
    _write(folder, "fine", numerator="supplement_count", rest="filters:\n- field = 'dat_dai'\n")
    for _ in range(2):  # bound, then read back from the check files
        found = _problems(folder)
        assert sorted(found) == ["interval_median", "text_filter", "text_numerator"], found
        assert found["text_filter"] == [
            "13: filters.0: a filter is a yes/no condition, and 'field' is VARCHAR; compare it with a value, "
            "e.g. field = 'dat_dai', or a column with another"
        ]
        assert found["text_numerator"][0].startswith("11: measure.numerator: numerator 'channel' is VARCHAR")
        assert "is INTERVAL" in found["interval_median"][0] and "date_diff" in found["interval_median"][0]


def test_a_unit_of_measure_the_aggregation_cannot_give_is_refused_at_the_measure(tmp_path: Path) -> None:
    folder = tmp_path / "indicators"
    folder.mkdir()
    share = "  denominator: 'TRUE'\n  factor: 100\n"
    _write(folder, "percent_count", unit="percent", numerator="channel = 'online'", rest="  factor: 100\n")
    _write(folder, "percent_median", unit="percent", aggregation="median", numerator="elapsed_wd",
           rest="  factor: 100\n", period_by="finished")  # fmt: skip
    _write(
        folder,
        "count_ratio",
        aggregation="ratio",
        numerator="channel = 'online'",
        rest="  denominator: 'TRUE'\n",
    )
    _write(folder, "days_count", unit="working_days", numerator="elapsed_wd > 10", period_by="finished")
    _write(folder, "share_swapped", unit="percent", aggregation="ratio", numerator="TRUE",
           rest="  denominator: channel = 'online'\n  factor: 100\n")  # fmt: skip
    _write(folder, "share", unit="percent", aggregation="ratio", numerator="channel = 'online'", rest=share)
    _write(folder, "share_as_mean", unit="percent", aggregation="mean", numerator="channel = 'online'",
           rest="  factor: 100\n")  # fmt: skip
    _write(folder, "mean_days", unit="working_days", aggregation="ratio", numerator="elapsed_wd",
           rest="  denominator: 'TRUE'\n", period_by="finished")  # fmt: skip
    found = _problems(folder)
    assert sorted(found) == ["count_ratio", "days_count", "percent_count", "percent_median", "share_swapped"]
    for id_, messages in found.items():
        assert len(messages) == 1 and messages[0].startswith("9: measure: "), (id_, messages)
    assert "a percent indicator cannot be a count" in found["percent_count"][0]
    assert "unit: ratio" in found["count_ratio"][0]
    assert "100 % or more" in found["share_swapped"][0] and "swap them" in found["share_swapped"][0]


def test_a_misspelt_placement_a_missing_factor_and_a_filter_not_in_a_list_are_refused_at_their_line(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "indicators"
    folder.mkdir()
    _write(folder, "misspelt_placement", period_by="recieved", numerator="TRUE")
    _write(folder, "no_factor", unit="percent", aggregation="ratio", numerator="channel = 'online'",
           rest="  denominator: 'TRUE'\n")  # fmt: skip
    _write(folder, "filter_text", numerator="TRUE", rest="filters: channel = 'online'\n")
    found = _problems(folder)
    assert found == {
        "misspelt_placement": [
            "8: period_by: source 'dossier' places records by received, finished, open_at_end, "
            "finished_or_open, not 'recieved' (did you mean 'received'?)"
        ],
        "no_factor": ["9: measure: a percent indicator needs measure.factor: 100"],
        "filter_text": [
            "12: filters: filters is a list: write each condition on a line of its own, as '- channel = 'online''"
        ],
    }, found


@pytest.mark.parametrize("numerator", ["channel == 'postal'", "'postal' == channel", "channel = 'postal'"])
def test_a_code_compared_with_double_equals_is_checked_too(tmp_path: Path, numerator: str) -> None:
    folder = tmp_path / "indicators"
    folder.mkdir()
    _write(folder, "by_post", numerator=numerator)
    found = _problems(folder)
    assert list(found) == ["by_post"] and "did you mean 'post'?" in found["by_post"][0], found


def test_an_expression_may_read_every_column_of_the_period_as_compute_offers_it(tmp_path: Path) -> None:
    """`is_open AND received_at < period_end_excl - INTERVAL 30 DAY` was refused ('Referenced column
    "period_end_excl" not found'): the check offered is_open, period_end_idx and period_start only."""
    from egov_metrics.engine.spine import SPINE_COLUMNS

    folder = tmp_path / "indicators"
    folder.mkdir()
    _write(folder, "old_open", numerator="is_open AND received_at < period_end_excl - INTERVAL 30 DAY")
    _write(folder, "period_label", numerator="period <> '' AND period_key <= period_start")
    assert _problems(folder) == {}
    for column in SPINE_COLUMNS:  # every one the engine gives an expression is offered by the check
        assert f"AS {column}" in model.PERIOD_COLUMNS
