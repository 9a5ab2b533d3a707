"""The notebooks hold layout, not logic: every notebooks/*.ipynb is read as JSON and checked.

Rules (STYLE.md, "Notebooks are for communication, the library is for repetition"):

- exactly one code cell tagged `parameters`, whose database default reads `$EGOV_DB` (nbval sets it);
- no `def`, `class` or `lambda` in code cells: functions belong in `egov_metrics`;
- no SQL in code cells (SELECT … FROM, INSERT INTO, CREATE TABLE/VIEW…, UPDATE … SET, DELETE FROM,
  WITH name AS (…)): queries belong in the library;
- no outputs and no execution counts committed; kernelspec `python3` (papermill starts it on the caller's
  interpreter, so it follows the venv);
- a report notebook's parameters are exactly its report kind's parameter contract.

`notebook_problems()` returns every problem of one notebook; the tests at the end feed it bad notebooks to
prove that each rule can fail.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from pathlib import Path

import pytest

from egov_metrics.reports.kinds import REPORT_KINDS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REPORT_NOTEBOOKS = {kind.notebook: kind for kind in REPORT_KINDS.values()}

FORBIDDEN_NAMES = ("def", "class", "lambda")
SQL_PATTERNS = {
    "SELECT … FROM": re.compile(r"\bSELECT\s.*?\bFROM\s", re.IGNORECASE | re.DOTALL),
    "INSERT": re.compile(r"\bINSERT\s+(OR\s+\w+\s+)?INTO\b", re.IGNORECASE),
    "CREATE": re.compile(
        r"\bCREATE\s+(OR\s+REPLACE\s+)?(TEMP\w*\s+)?(TABLE|VIEW|INDEX|SCHEMA|MACRO|SEQUENCE|TYPE)\b",
        re.IGNORECASE,
    ),
    "UPDATE": re.compile(r"\bUPDATE\s+[\w.\"]+\s+SET\b", re.IGNORECASE),
    "DELETE": re.compile(r"\bDELETE\s+FROM\b", re.IGNORECASE),
    "WITH … AS": re.compile(r"\bWITH\s+(RECURSIVE\s+)?[\w\"]+\s+AS\s*\(", re.IGNORECASE),
}


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _tokens(code: str) -> list[tokenize.TokenInfo] | None:
    try:
        return list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None


def _without_comments(code: str) -> str:
    """The code with its comments blanked (strings kept: SQL hides in strings)."""
    tokens = _tokens(code)
    if tokens is None:
        return code
    lines = code.splitlines(keepends=True)
    for tok in reversed([t for t in tokens if t.type == tokenize.COMMENT]):
        row, col = tok.start
        line = lines[row - 1]
        lines[row - 1] = line[:col] + " " * (tok.end[1] - col) + line[tok.end[1] :]
    return "".join(lines)


def _forbidden_names(code: str) -> list[str]:
    tokens = _tokens(code)
    if tokens is None:  # not plain Python (a magic?): fall back to a regex on the text
        return [n for n in FORBIDDEN_NAMES if re.search(rf"(^|[^\w.]){n}\b", _without_comments(code), re.M)]
    return sorted({t.string for t in tokens if t.type == tokenize.NAME and t.string in FORBIDDEN_NAMES})


def _parameter_names(code: str) -> set[str]:
    """Names assigned at the top level of a parameters cell (imports excluded)."""
    names: set[str] = set()
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def notebook_problems(path: Path) -> list[str]:
    """Every broken rule of one notebook, as 'file: cell N: what' lines (empty when it is clean)."""
    name = path.name
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return [f"{name}: not a readable notebook: {exc}"]
    problems = []
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"{name}: kernelspec name is {kernel!r}, not 'python3'")
    cells = nb.get("cells", [])
    tagged = [i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        problems.append(
            f"{name}: {len(tagged)} cells tagged 'parameters' (cells {tagged}); exactly one is needed"
        )
    for i, cell in enumerate(cells):
        where = f"{name}: cell {i}"
        if cell.get("cell_type") != "code":
            continue
        code = _source(cell)
        if cell.get("outputs"):
            problems.append(f"{where}: {len(cell['outputs'])} output(s) committed; clear them")
        if cell.get("execution_count") is not None:
            problems.append(f"{where}: execution count {cell['execution_count']} committed; clear it")
        for word in _forbidden_names(code):
            problems.append(f"{where}: '{word}' in a notebook; move the code into egov_metrics")
        plain = _without_comments(code)
        for what, pattern in SQL_PATTERNS.items():
            if pattern.search(plain):
                problems.append(f"{where}: SQL ({what}) in a notebook; move the query into egov_metrics")
    if len(tagged) == 1:
        params = _source(cells[tagged[0]])
        if cells[tagged[0]].get("cell_type") != "code":
            problems.append(f"{name}: the 'parameters' cell is not a code cell")
        elif "EGOV_DB" not in params:
            problems.append(
                f"{name}: the parameters cell must default db_path to os.environ['EGOV_DB'] (nbval)"
            )
        elif name in REPORT_NOTEBOOKS:
            kind = REPORT_NOTEBOOKS[name]
            try:
                names = _parameter_names(params)
            except SyntaxError as exc:
                problems.append(f"{name}: the parameters cell does not parse: {exc}")
            else:
                wanted = set(kind.params.model_fields)
                if names != wanted:
                    problems.append(
                        f"{name}: parameters {sorted(names)} differ from {kind.name}'s contract {sorted(wanted)}"
                    )
    return problems


# -- the project's notebooks ------------------------------------------------------------------------------


def test_there_are_notebooks_for_every_report_kind() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert set(REPORT_NOTEBOOKS) <= names
    assert "explore.ipynb" in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_the_rules(path: Path) -> None:
    problems = notebook_problems(path)
    assert not problems, "\n".join(problems)


# -- the checker itself can fail --------------------------------------------------------------------------


def _cell(source: str, *, tags: list[str] | None = None, **extra: object) -> dict:
    meta = {"tags": tags} if tags else {}
    return {
        "cell_type": "code",
        "metadata": meta,
        "source": source,
        "outputs": [],
        "execution_count": None,
        **extra,
    }


def _write(tmp_path: Path, cells: list[dict], *, kernel: str = "python3", name: str = "bad.ipynb") -> Path:
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": kernel, "display_name": "Python 3", "language": "python"}},
        "cells": cells,
    }
    path = tmp_path / name
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


PARAMS = _cell(
    'import os\n\nlang = "vi"\ndb_path = os.environ.get("EGOV_DB", "x.duckdb")\n', tags=["parameters"]
)


def test_a_clean_stand_in_passes(tmp_path: Path) -> None:
    path = _write(
        tmp_path, [PARAMS, _cell("from egov_metrics.engine import compute\ncompute(['x'], db=db_path)")]
    )
    assert notebook_problems(path) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def helper(x):\n    return x\n", "'def'"),
        ("class Thing:\n    pass\n", "'class'"),
        ("f = lambda x: x + 1\n", "'lambda'"),
        ('con.sql("SELECT count(*) FROM dossier")\n', "SELECT … FROM"),
        ('q = """\nselect unit_id,\n  count(*)\nfrom dossier group by 1"""\n', "SELECT … FROM"),
        ('con.execute("INSERT INTO target VALUES (1)")\n', "INSERT"),
        ('con.execute("create or replace table t AS SELECT 1")\n', "CREATE"),
        ('con.execute("CREATE VIEW v AS (SELECT 1)")\n', "CREATE"),
        ("con.execute(\"update dossier set status = 'x'\")\n", "UPDATE"),
        ('con.execute("DELETE FROM dossier")\n', "DELETE"),
        ('con.sql("with recent as (select 1) select * from recent")\n', "WITH … AS"),
    ],
)
def test_the_checker_catches_code_and_sql(tmp_path: Path, source: str, expected: str) -> None:
    problems = notebook_problems(_write(tmp_path, [PARAMS, _cell(source)]))
    assert any(expected in p and "cell 1" in p for p in problems), problems


@pytest.mark.parametrize(
    "source",
    [
        'frame.select("indicator", "value")\nfrom egov_metrics.charts import chart_bar\n',
        "# def and lambda in a comment are fine, and so is: select a from b\nx = 1\n",
        'text = "the default unit"\n',
    ],
)
def test_the_checker_does_not_flag_ordinary_code(tmp_path: Path, source: str) -> None:
    assert notebook_problems(_write(tmp_path, [PARAMS, _cell(source)])) == []


def test_the_checker_catches_outputs_counts_kernel_and_parameters(tmp_path: Path) -> None:
    output = {"output_type": "stream", "name": "stdout", "text": "hi\n"}
    cells = [
        _cell("x = 1\n", tags=["parameters"]),
        _cell("print(x)\n", outputs=[output], execution_count=3),
        _cell("y = 2\n", tags=["parameters"]),
    ]
    problems = "\n".join(notebook_problems(_write(tmp_path, cells, kernel="egov-venv")))
    assert "kernelspec name is 'egov-venv'" in problems
    assert "2 cells tagged 'parameters'" in problems
    assert "cell 1: 1 output(s) committed" in problems
    assert "cell 1: execution count 3 committed" in problems

    none = "\n".join(notebook_problems(_write(tmp_path, [_cell("x = 1\n")], name="none.ipynb")))
    assert "0 cells tagged 'parameters'" in none

    no_env = "\n".join(
        notebook_problems(_write(tmp_path, [_cell("db_path = 'a.duckdb'\n", tags=["parameters"])]))
    )
    assert "EGOV_DB" in no_env


def test_the_checker_compares_a_report_notebook_with_its_contract(tmp_path: Path) -> None:
    params = _cell(
        'import os\n\nperiod = ""\nunit = None\nlang = "vi"\nmonths = 12\n'
        'db_path = os.environ.get("EGOV_DB", "x")\n',
        tags=["parameters"],
    )
    problems = notebook_problems(_write(tmp_path, [params], name="progress_report.ipynb"))
    assert any("differ from progress_report's contract" in p and "months" in p for p in problems), problems
