"""Every recipe of docs/planner.md runs against the small demo database and gives a sensible answer.

The page is parsed: each `## N.` section is one recipe; its ```python blocks run one after the other, each in a
fresh namespace, with `$EGOV_DB` pointing at the demo, `$EGOV_USER_DIR` at a temporary planner folder and the
working directory in a temporary folder (Excel files land there). A ```yaml block whose first line is a
comment naming `$EGOV_USER_DIR/…` is written there first. Each block must leave a non-empty `answer`.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import polars as pl
import pytest

#: The recipes run whole workflows (reports, charts, Excel): integration tests, outside `make test-fast`.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "planner.md"
BLOCK = re.compile(r"```(python|yaml)\n(.*?)```", re.DOTALL)


def recipes() -> dict[str, list[tuple[str, str]]]:
    text = PAGE.read_text(encoding="utf-8")
    sections = re.split(r"^## (?=\d+\. )", text, flags=re.MULTILINE)[1:]
    return {s.split("\n", 1)[0].strip(): BLOCK.findall(s) for s in sections}


RECIPES = recipes()


def test_the_cookbook_has_ten_recipes_or_more_each_with_code() -> None:
    assert len(RECIPES) >= 10
    for title, blocks in RECIPES.items():
        code = [b for kind, b in blocks if kind == "python"]
        assert code, f"recipe {title!r} has no Python"
        assert all(len(b.strip().splitlines()) <= 12 for b in code), (
            f"recipe {title!r} is more than a few lines"
        )


@pytest.mark.parametrize("title", list(RECIPES))
def test_the_recipe_runs(
    title: str, small_demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planner = tmp_path / "planner"
    (planner / "indicators").mkdir(parents=True)
    monkeypatch.setenv("EGOV_DB", str(small_demo_db))
    monkeypatch.setenv("EGOV_USER_DIR", str(planner))
    monkeypatch.chdir(tmp_path)
    answers = []
    for kind, block in RECIPES[title]:
        if kind == "yaml":
            first = block.splitlines()[0]
            if first.startswith("# $EGOV_USER_DIR/"):
                target = planner / first.removeprefix("# $EGOV_USER_DIR/").strip()
                target.write_text(block, encoding="utf-8")
            continue
        namespace: dict[str, object] = {}
        exec(compile(block, f"{PAGE.name}:{title}", "exec"), namespace)
        assert "answer" in namespace, f"{title}: the block leaves no `answer`"
        answers.append(namespace["answer"])
    for answer in answers:
        if isinstance(answer, pl.DataFrame):
            assert answer.height > 0, f"{title}: empty answer"
        assert answer is not None
    check = CHECKS.get(title.split(".")[0])
    if check is not None:
        check(answers, tmp_path)


def _lowest_communes(answers: list, _: Path) -> None:
    answer = answers[0]
    assert answer.height == 5
    assert answer["value"].to_list() == sorted(answer["value"].to_list())
    assert answer["unit_name"].str.contains(r"^(Xã|Phường|Thị trấn)").all()
    for row in answer.iter_rows(named=True):
        if row["year_ago_value"] is not None:
            assert row["value"] == pytest.approx(row["year_ago_value"] + row["change_year_ago"])


def _totals_by_month(answers: list, _: Path) -> None:
    answer = answers[0]
    assert answer.columns[0] == "unit_name" and len(answer.columns) >= 2
    assert all(re.fullmatch(r"\d{4}-\d{2}", c) for c in answer.columns[1:])
    assert answer.height > 5


def _excel(answers: list, tmp: Path) -> None:
    path = tmp / Path(answers[0])
    assert path.is_file() and path.suffix == ".xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Số liệu", "Định nghĩa"]
    assert book["Số liệu"]["A1"].value == "Chỉ tiêu"


def _own_indicator(answers: list, _: Path) -> None:
    assert set(answers[0]["indicator"]) == {"post_share", "online_share"}


CHECKS = {"1": _lowest_communes, "3": _totals_by_month, "5": _excel, "10": _own_indicator}
