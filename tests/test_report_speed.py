"""Compute once, render many: warm kernels reused across a batch (reports/engine.py) and the compute cache
keyed by the data fingerprint (cache.py). Behaviour only: timings live in bench/ (bench/reports.py)."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import duckdb
import nbformat
import papermill
import polars as pl
import pytest
from papermill.exceptions import PapermillExecutionError

from egov_metrics import cache
from egov_metrics.engine import compute
from egov_metrics.reports.engine import KernelPool, WarmKernel
from egov_metrics.reports.render import ReportError, render_report
from egov_metrics.scoring import score_units

CORE = ["dossiers_on_time", "online_share", "processing_days_median", "processing_days_p90"]


# -- warm kernels ------------------------------------------------------------------------------------------


def _notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("name = 'default'", metadata={"tags": ["parameters"]})
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def _outputs(nb: nbformat.NotebookNode) -> list[str]:
    """What the cells printed (stdout; a kernel may log warnings to stderr)."""
    return [
        "".join(o.get("text", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("name") == "stdout"
    ]


@pytest.mark.slow  # starts a Jupyter kernel
def test_a_warm_kernel_runs_notebooks_in_one_process_without_sharing_their_variables(tmp_path: Path) -> None:
    first = _notebook(tmp_path / "first.ipynb", "import os\nleft_behind = 42\nprint(name, os.getpid())")
    second = _notebook(
        tmp_path / "second.ipynb",
        "import os\nprint(name, os.getpid(), 'left_behind' in globals(), 'os' in globals())",
    )
    kernel = WarmKernel(tmp_path)
    try:
        one = _outputs(kernel.execute(first, tmp_path / "out1.ipynb", {"name": "one"}))
        two = _outputs(kernel.execute(second, tmp_path / "out2.ipynb", {"name": "two"}))
    finally:
        kernel.close()
    name1, pid1 = one[0].split()
    name2, pid2, leaked, os_kept = two[0].split()
    assert (name1, name2) == ("one", "two")  # each run gets its own parameters
    assert pid1 == pid2  # one kernel process for both
    assert (leaked, os_kept) == (
        "False",
        "True",
    )  # the namespace is cleared; the second notebook's import works
    assert kernel.started == 1 and kernel.runs == 2


@pytest.mark.slow  # starts a Jupyter kernel
def test_a_warm_kernel_freezes_what_its_first_notebook_left_and_still_collects_later_garbage(
    tmp_path: Path,
) -> None:
    """After the first notebook, the objects still alive are frozen once (`engine.after_reset`), so later
    resets no longer walk the report stack; a reference cycle a later notebook leaves is still freed."""
    probe = _notebook(
        tmp_path / "probe.ipynb",
        "import builtins, gc, weakref\n"
        "old = getattr(builtins, '_egov_probe', None)\n"
        "gc.collect()\n"
        "print(gc.get_freeze_count(), 'none' if old is None else ('freed' if old() is None else 'alive'))\n"
        "class Node: pass\n"
        "a, b = Node(), Node()\n"
        "a.other, b.other = b, a\n"
        "builtins._egov_probe = weakref.ref(a)",
    )
    kernel = WarmKernel(tmp_path)
    try:
        seen = [
            _outputs(kernel.execute(probe, tmp_path / f"out{i}.ipynb", {"name": str(i)}))[0].split()
            for i in range(3)
        ]
    finally:
        kernel.close()
    counts = [int(c) for c, _ in seen]
    # frozen at the second notebook's reset: the kernel's objects (tens of thousands), not a notebook's few
    assert counts[1] > counts[0] + 10_000
    assert counts[2] > 10_000
    # the cycle of each earlier notebook was not frozen with the rest (it was garbage by then) and is freed
    assert [state for _, state in seen] == ["none", "freed", "freed"]


@pytest.mark.slow  # starts a Jupyter kernel
def test_the_hidden_reset_cell_is_not_in_the_executed_notebook_and_cells_are_numbered_as_in_a_new_kernel(
    tmp_path: Path,
) -> None:
    path = _notebook(tmp_path / "nb.ipynb", "x = 1", "print(x)")
    kernel = WarmKernel(tmp_path)
    try:
        runs = [kernel.execute(path, tmp_path / f"out{i}.ipynb", {"name": str(i)}) for i in range(2)]
    finally:
        kernel.close()
    for nb in runs:
        sources = [c.source for c in nb.cells]
        assert not any("reset" in s for s in sources)
        # parameters, injected parameters, two cells: numbered 1..4 in the second run as in the first
        assert [c.execution_count for c in nb.cells if c.cell_type == "code"] == [1, 2, 3, 4]


@pytest.mark.slow  # starts Jupyter kernels
def test_a_failed_notebook_names_the_same_cell_and_the_next_report_gets_a_new_kernel(tmp_path: Path) -> None:
    good = _notebook(tmp_path / "good.ipynb", "print('fine')")
    bad = _notebook(tmp_path / "bad.ipynb", "x = 1", "raise ValueError('boom')")
    kernel = WarmKernel(tmp_path)
    try:
        kernel.execute(good, tmp_path / "a.ipynb", {})
        with pytest.raises(PapermillExecutionError) as failed:
            kernel.execute(bad, tmp_path / "b.ipynb", {})
        with pytest.raises(PapermillExecutionError) as fresh:  # the same notebook in a new kernel
            papermill.execute_notebook(str(bad), str(tmp_path / "fresh.ipynb"), kernel_name="python3")
        assert failed.value.exec_count == fresh.value.exec_count == 3  # parameters, x = 1, the failing cell
        assert kernel.km is None  # a failed report's kernel is not reused
        assert _outputs(kernel.execute(good, tmp_path / "c.ipynb", {})) == ["fine\n"]
    finally:
        kernel.close()
    assert kernel.started == 2


@pytest.mark.slow  # starts Jupyter kernels
def test_a_kernel_pool_gives_each_thread_its_own_kernel_and_closes_them_all(tmp_path: Path) -> None:
    pool = KernelPool(tmp_path, env={"EGOV_TEST_MARK": "marked"})
    path = _notebook(tmp_path / "nb.ipynb", "import os\nprint(os.getpid(), os.environ.get('EGOV_TEST_MARK'))")
    seen: dict[str, list[str]] = {}

    def work(tag: str) -> None:
        kernel = pool.current()
        seen[tag] = [_outputs(kernel.execute(path, tmp_path / f"{tag}{i}.ipynb", {}))[0] for i in range(2)]

    threads = [threading.Thread(target=work, args=(t,)) for t in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        pids = {tag: {line.split()[0] for line in lines} for tag, lines in seen.items()}
        assert all(len(p) == 1 for p in pids.values())  # a thread reuses its kernel
        assert pids["a"] != pids["b"]  # threads do not share one
        assert all(line.split()[1] == "marked" for lines in seen.values() for line in lines)  # env reaches it
    finally:
        pool.close()
    assert all(k.km is None for k in pool.kernels) and pool.kernels == []


def _normalised(page: str) -> str:
    """A report page without what changes from run to run: the time it was made, nbconvert's cell ids."""
    page = re.sub(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d [+-]\d{4}", "<time>", page)
    return re.sub(r'id="cell-id=[0-9a-f-]+"', 'id="cell-id"', page)


@pytest.mark.slow  # renders reports
def test_a_report_from_a_warm_kernel_is_the_page_a_new_kernel_makes(
    small_demo_db: Path, tmp_path: Path
) -> None:
    from egov_metrics.reports.render import NOTEBOOKS_DIR

    params = {"unit": "STP", "period": "2026-03", "db_path": str(small_demo_db)}
    cold = render_report("progress_report", params, out_dir=tmp_path / "cold", in_process=False)
    kernel = WarmKernel(NOTEBOOKS_DIR)
    try:
        # another report first, in English: nothing of it may show in the next one
        render_report("unit_scorecard", {**params, "lang": "en"}, out_dir=tmp_path / "warm", kernel=kernel)
        warm = render_report("progress_report", params, out_dir=tmp_path / "warm", kernel=kernel)
        with pytest.raises(ReportError, match=r"parameter 'period': 1999-01 is outside the data"):
            render_report("progress_report", {**params, "period": "1999-01"}, out_dir=tmp_path, kernel=kernel)
    finally:
        kernel.close()
    assert kernel.started == 1
    assert _normalised(warm.path.read_text(encoding="utf-8")) == _normalised(
        cold.path.read_text(encoding="utf-8")
    )


# -- the compute cache ---------------------------------------------------------------------------------------


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the queries the engine really runs (build_query is called once per computed answer)."""
    import egov_metrics.engine.api as engine

    calls: list[int] = []
    real = engine.build_query

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "build_query", spy)
    return calls


def test_without_the_variable_nothing_is_cached(
    small_demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted: list[int]
) -> None:
    monkeypatch.delenv(cache.ENV_VAR, raising=False)
    compute(CORE, start="2026-01", db=small_demo_db)
    compute(CORE, start="2026-01", db=small_demo_db)
    assert len(counted) == 2


def test_the_same_request_on_the_same_data_is_computed_once_and_answered_identically(
    small_demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted: list[int]
) -> None:
    monkeypatch.delenv(cache.ENV_VAR, raising=False)
    engine = compute(CORE, by=["unit"], level="department", start="2026-01", db=small_demo_db)
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    first = compute(CORE, by=["unit"], level="department", start="2026-01", db=small_demo_db)
    with duckdb.connect(str(small_demo_db), read_only=True) as con:  # an open connection: the same file
        second = compute(CORE, by=["unit"], level="department", start="2026-01", db=con)
    assert len(counted) == 2  # the uncached call and the first cached one; the second read the file
    assert first.equals(engine) and second.equals(engine)
    assert first.schema == engine.schema == second.schema
    assert len(list((tmp_path / "cache").glob("*/*.parquet"))) == 1
    # any other argument is another question
    other = compute(CORE, by=["unit"], level="department", start="2026-02", db=small_demo_db)
    assert len(counted) == 3 and other.height < engine.height


@pytest.mark.slow
def test_scores_shared_by_a_batch_are_computed_once(
    small_demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted: list[int]
) -> None:
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    a = score_units(small_demo_db, end="2026-03")
    b = score_units(small_demo_db, end="2026-03")
    assert len(counted) == 1
    assert a.totals.equals(b.totals)


def test_new_data_gets_a_new_fingerprint_and_a_fresh_answer(
    small_demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted: list[int]
) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(small_demo_db, db)
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    before = compute(["dossiers_received"], start="2026-01", compare=False, db=db)
    with duckdb.connect(str(db)) as con:  # the March dossiers of one unit disappear
        removed = con.sql(
            "SELECT count(*) FROM dossier WHERE received_at >= '2026-03-01' AND received_at < '2026-04-01'"
        ).fetchall()[0][0]
        con.execute("DELETE FROM dossier WHERE received_at >= '2026-03-01' AND received_at < '2026-04-01'")
    after = compute(["dossiers_received"], start="2026-01", compare=False, db=db)
    assert len(counted) == 2
    march = pl.col("period") == "2026-03"
    assert before.filter(march)["value"].item() == removed > 0
    assert after.filter(march)["value"].item() == 0
    assert len([p for p in (tmp_path / "cache").iterdir() if p.is_dir()]) == 2


def test_old_fingerprint_folders_are_pruned(
    tmp_path: Path, small_demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "cache"
    for i in range(cache.KEEP_FOLDERS + 3):
        (root / f"old{i}").mkdir(parents=True)
    monkeypatch.setenv(cache.ENV_VAR, str(root))
    compute(["dossiers_received"], start="2026-01", compare=False, db=small_demo_db)
    assert len([p for p in root.iterdir() if p.is_dir()]) == cache.KEEP_FOLDERS + 1


def test_a_custom_catalog_is_cached_by_its_definitions(
    small_demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted: list[int]
) -> None:
    from egov_metrics.catalog import load_catalog
    from egov_metrics.catalog.model import Catalog

    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    catalog = load_catalog()
    first = compute(CORE, start="2026-01", db=small_demo_db, catalog=catalog)
    again = compute(CORE, start="2026-01", db=small_demo_db, catalog=catalog)
    assert len(counted) == 1 and first.equals(again)
    # the same id defined differently is another question: computed, with its own answer
    on_time = catalog.get("dossiers_on_time")
    changed = on_time.model_copy(update={"measure": on_time.measure.model_copy(update={"factor": 1.0})})
    other = Catalog({**{i.id: i for i in catalog}, "dossiers_on_time": changed}, catalog.files)
    scaled = compute(CORE, start="2026-01", db=small_demo_db, catalog=other)
    assert len(counted) == 2
    assert not scaled.equals(first)


def test_both_editions_share_an_answer_that_names_nothing_but_units(
    small_demo_db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, counted: list[int]
) -> None:
    """The language changes nothing in an answer but its unit names (checked here against the engine itself,
    uncached): the English edition reads the Vietnamese one's answer, with the units named in English, the
    same frame the engine gives. With names=True (indicators and codes named) the languages are two answers."""
    monkeypatch.delenv(cache.ENV_VAR, raising=False)
    args: dict = {"start": "2026-01", "db": small_demo_db}
    plain = {lang: compute(CORE, lang=lang, **args) for lang in ("vi", "en")}
    by_unit = {
        lang: compute(CORE, by=["unit"], level="department", lang=lang, **args) for lang in ("vi", "en")
    }
    assert plain["vi"].equals(plain["en"]) and not by_unit["vi"].equals(by_unit["en"])
    assert by_unit["vi"].drop("unit_name").equals(by_unit["en"].drop("unit_name"))
    assert len(counted) == 4
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    for lang in ("vi", "en"):
        assert compute(CORE, lang=lang, **args).equals(plain[lang])
    assert len(counted) == 5  # one question
    for lang in ("en", "vi", "en"):
        assert compute(CORE, by=["unit"], level="department", lang=lang, **args).equals(by_unit[lang])
    assert len(counted) == 6  # one question again, the units named in each language
    named = {lang: compute(CORE, names=True, lang=lang, **args) for lang in ("vi", "en")}
    assert len(counted) == 8 and named["vi"]["indicator_name"][0] != named["en"]["indicator_name"][0]


def test_a_planner_indicator_changed_on_disk_is_another_question(
    small_demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted: list[int]
) -> None:
    """A planner's own indicator ($EGOV_USER_DIR) is part of the default catalog: editing its file must not
    leave the cache answering with the old definition (same data, same arguments)."""
    from test_workbench import PLANNER_INDICATOR

    folder = tmp_path / "planner" / "indicators"
    folder.mkdir(parents=True)
    path = folder / "post_share.yaml"
    path.write_text(PLANNER_INDICATOR.format(channel="post"), "utf-8")
    monkeypatch.setenv("EGOV_USER_DIR", str(folder.parent))
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    post = compute(["post_share"], grain="year", start="2025", end="2025", db=small_demo_db)
    again = compute(["post_share"], grain="year", start="2025", end="2025", db=small_demo_db)
    assert len(counted) == 1 and again.equals(post)
    path.write_text(PLANNER_INDICATOR.format(channel="online"), "utf-8")  # the planner changes the channel
    online = compute(["post_share"], grain="year", start="2025", end="2025", db=small_demo_db)
    assert len(counted) == 2
    monkeypatch.delenv(cache.ENV_VAR)
    assert online.equals(compute(["post_share"], grain="year", start="2025", end="2025", db=small_demo_db))
    assert online["value"][0] != post["value"][0]


def test_workers_asking_the_same_question_at_once_compute_it_once(
    small_demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    produced: list[int] = []
    gate = threading.Barrier(3)
    answer = pl.DataFrame({"x": [1, 2, 3]})

    def produce() -> pl.DataFrame:
        produced.append(1)
        return answer

    results: list[pl.DataFrame] = []

    def ask() -> None:
        with duckdb.connect(str(small_demo_db), read_only=True) as con:
            gate.wait()
            results.append(cache.cached(con, ["same"], {"grain": "month"}, produce))

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(produced) == 1
    assert len(results) == 3 and all(r.equals(answer) for r in results)
    assert not list((tmp_path / "cache").glob("*/*.lock")) and not list((tmp_path / "cache").glob("*/.*.tmp"))


def test_an_in_memory_database_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    with duckdb.connect() as con:
        frame = cache.cached(con, ["x"], {}, lambda: pl.DataFrame({"x": [1]}))
    assert frame["x"].to_list() == [1] and not (tmp_path / "cache").exists()


def test_the_cache_sits_beside_the_database_unless_its_folder_cannot_take_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cache.store_for(tmp_path / "egov.duckdb", out) == tmp_path / ".egov.duckdb.cache"
    assert (tmp_path / ".egov.duckdb.cache").is_dir()
    blocked = tmp_path / "published"
    blocked.mkdir()
    (blocked / ".egov.duckdb.cache").write_text("")  # something else where its folder would go
    assert cache.store_for(blocked / "egov.duckdb", out) == out.resolve() / ".cache" / "compute"


@pytest.mark.slow  # renders reports
def test_a_report_into_another_folder_on_the_same_data_computes_nothing_again(
    small_demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted: list[int]
) -> None:
    """The night's run fills the cache beside the database; a report asked the next morning into another
    folder reads its answers there (and its landing page's), and shows the same figures."""
    monkeypatch.delenv(cache.ENV_VAR, raising=False)
    db = tmp_path / "egov.duckdb"
    shutil.copy(small_demo_db, db)
    params: dict[str, object] = {"db_path": str(db), "period": "2026-03"}
    first = render_report("progress_report", params, out_dir=tmp_path / "night")
    computed = len(counted)
    second = render_report("progress_report", params, out_dir=tmp_path / "morning")
    assert computed >= 5 and len(counted) == computed
    assert _normalised(first.path.read_text(encoding="utf-8")) == _normalised(
        second.path.read_text(encoding="utf-8")
    )
    with duckdb.connect(str(db)) as con:  # new data: a new fingerprint, so the next report computes again
        con.execute("DELETE FROM dossier WHERE received_at >= '2026-03-01' AND received_at < '2026-03-08'")
    third = render_report("progress_report", params, out_dir=tmp_path / "morning")
    assert len(counted) > computed and third.data_fingerprint != first.data_fingerprint


@pytest.mark.slow  # renders reports
def test_a_scheduled_run_shares_the_cache_between_its_kernels(small_demo_db: Path, tmp_path: Path) -> None:
    from egov_metrics import schedule

    jobs = schedule.load_jobs(Path(schedule.PACKAGE_DIR) / "schedule_data" / "demo.yaml")
    picked = tuple(j for j in jobs if j.id in ("scorecards-departments",))
    out = tmp_path / "out"
    db = tmp_path / "egov.duckdb"  # a copy: its cache, beside it, is this test's alone
    shutil.copy(small_demo_db, db)
    result = schedule.run("2026-06-05", jobs=picked, db=db, out_dir=out, since="2026-05", workers=2)
    assert result.exit_code == 0 and len(result.rendered) > 2
    # one folder of answers for the one data version (beside it: the data's fingerprint, data-print.json),
    # kept beside the database (`cache.store_for`), not in the report folder
    assert cache.store_for(db, out) == tmp_path / ".egov.duckdb.cache"
    assert not (out / cache.OUT_FOLDER).exists()
    folders = [p for p in (tmp_path / ".egov.duckdb.cache").iterdir() if p.is_dir()]
    assert len(folders) == 1
    # every scorecard scores all units year to date and month by month, and assesses them against the roadmap
    # (calls with the method's own catalog, cached by its definitions): shared answers, none per card
    answers = len(list(folders[0].glob("*.parquet")))
    assert 2 <= answers <= 6 < len(result.rendered)


@pytest.mark.slow
def test_the_landing_page_asks_the_province_reports_questions(
    small_demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted: list[int]
) -> None:
    """After the province's progress report, the landing page's figures cost no engine call: the headline
    figures, the statuses, both months' 766 scores and the overdue dossiers are the report's own answers."""
    from egov_metrics.i18n import fmt_value
    from egov_metrics.reports.frontpage import HEADLINE_IDS, front_page_facts
    from egov_metrics.reports.kinds.progress_report.page import ProgressReport

    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    report = ProgressReport(small_demo_db, None, None, "vi")
    before = len(counted)
    facts = front_page_facts(small_demo_db)
    assert len(counted) - before == 0
    assert before > 0
    # the same figures as the landing page's former questions, asked on their own without the cache
    monkeypatch.delenv(cache.ENV_VAR)
    month = compute(list(HEADLINE_IDS), start=report.period, end=report.period, db=small_demo_db)
    shown = {h["indicator"]: h for h in facts["headline"]}
    assert set(shown) == set(HEADLINE_IDS)
    for row in month.iter_rows(named=True):
        assert shown[row["indicator"]]["value"] == fmt_value(row["value"], row["unit"], row["decimals"], "vi")
    overdue = compute(
        ["overdue_backlog"], by=["unit"], level=("department", "commune"), start=report.period,
        end=report.period, compare=False, db=small_demo_db,
    )  # fmt: skip
    expected = {r["unit_id"]: r["value"] for r in overdue.iter_rows(named=True) if r["value"] is not None}
    assert facts["overdue"] == expected and expected
    # this month's and last month's 766 totals: those of `score_units` asked for each month on its own
    from egov_metrics.reports.common import month_bounds, months_before
    from egov_metrics.scoring import score_units

    previous = f"{months_before(month_bounds(str(report.period))[0], 1):%Y-%m}"
    for month_label, key in ((report.period, "total"), (previous, "previous_total")):
        totals = score_units(
            small_demo_db, end=month_label, grain="ytd", levels=("department", "commune")
        ).totals
        want = dict(zip(totals["unit_id"], totals["total"], strict=True))
        listed = {u["id"] for u in facts["units"]}  # today's departments and communes
        got = {u["id"]: u[key] for u in facts["units"] if u[key] is not None}
        assert got and got == {k: v for k, v in want.items() if k in listed}, key
