"""Incremental months: one data fingerprint (egov_metrics/fingerprint.py) and the scheduler's decision of
which reports to render again after a load (a new month, a late correction to an earlier month, a change to
a reference table). The expectations are reasoned by hand from what each change touches; nothing is
rendered (the manifest is written as `render_report` writes it)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from egov_metrics import cache, fingerprint, schedule
from egov_metrics.reports import render
from egov_metrics.reports.kinds import get_kind
from egov_metrics.reports.render import data_fingerprint, definitions_fingerprint, view_fingerprint
from egov_metrics.schema import connect

#: The province's progress report every month, Vietnamese only: one report per month, March–June 2026.
JOBS = """
jobs:
  - id: progress-province
    kind: progress_report
    cadence: {every: month, day: 1}
    units: province
    since: 2026-03
"""
AS_OF = "2026-07-02"
MONTHS = ["2026-03", "2026-04", "2026-05", "2026-06"]


@pytest.fixture
def db(small_demo_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data.duckdb"
    shutil.copyfile(small_demo_db, copy)
    return copy


def _plan(db: Path, out: Path, jobs: Path) -> schedule.Plan:
    return schedule.plan(AS_OF, jobs=jobs, db=db, out_dir=out)


def _made(db: Path, out: Path, jobs: Path) -> None:
    """Every due report as `render_report` records it: its file, its entry with the data fingerprints."""
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for inst in _plan(db, out, jobs).instances:
        params = inst.param_dict
        name = f"progress_report_{params['period']}_vi.html"
        (out / name).write_text("<html></html>", encoding="utf-8")
        entries.append(
            {"kind": inst.kind, "path": name, "params": params, "seconds": 1.0, "size": 13,
             "data_fingerprint": data_fingerprint(db), "generated_at": "01/07/2026 02:00:00 +0700",
             "data_view": view_fingerprint(db, get_kind(inst.kind), params),
             "definitions": definitions_fingerprint()}
        )  # fmt: skip
    (out / "manifest.json").write_text(json.dumps({"reports": entries}), encoding="utf-8")


def _todo(db: Path, out: Path, jobs: Path) -> list[str]:
    return [i.param_dict["period"] for i in _plan(db, out, jobs).todo]


def _change(db: Path, *statements: str) -> None:
    with duckdb.connect(str(db)) as con:
        for sql in statements:
            con.execute(sql)


@pytest.fixture
def made(db: Path, tmp_path: Path) -> tuple[Path, Path]:
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(JOBS, encoding="utf-8")
    out = tmp_path / "reports"
    _made(db, out, jobs)
    assert [i.param_dict["period"] for i in _plan(db, out, jobs).instances] == MONTHS
    assert _todo(db, out, jobs) == []  # nothing changed: nothing to do
    return out, jobs


def test_a_new_dossier_in_the_last_month_re_renders_that_month_only(
    db: Path, made: tuple[Path, Path]
) -> None:
    _change(
        db,
        "INSERT INTO dossier SELECT * REPLACE ('LATE-1' AS id, TIMESTAMP '2026-06-10 09:00' AS received_at, "
        "TIMESTAMP '2026-06-24 17:00' AS due_at, NULL AS finished_at, NULL AS returned_at, NULL AS synced_at, "
        "'processing' AS status, false AS synced_to_national) "
        "FROM dossier WHERE received_at >= '2026-06-01' AND status = 'processing' LIMIT 1",
    )
    assert _todo(db, *made) == ["2026-06"]


def test_a_dossier_open_at_may_end_finished_in_june_leaves_may_alone(
    db: Path, made: tuple[Path, Path]
) -> None:
    # the June export brings the outcome of a May dossier: May's report saw it open, and still does
    with duckdb.connect(str(db), read_only=True) as con:
        (dossier_id,) = con.sql(
            "SELECT id FROM dossier WHERE received_at >= '2026-05-01' AND received_at < '2026-06-01' "
            "AND finished_at IS NULL AND returned_at IS NULL AND status = 'processing' ORDER BY id LIMIT 1"
        ).fetchall()[0]
    _change(
        db,
        f"UPDATE dossier SET finished_at = TIMESTAMP '2026-06-15 10:00', status = 'finished', e_result = true "
        f"WHERE id = '{dossier_id}'",
    )
    assert _todo(db, *made) == ["2026-06"]


def test_a_late_correction_to_april_re_renders_april_and_every_later_month(
    db: Path, made: tuple[Path, Path]
) -> None:
    # an April dossier's finish date corrected within April: April's figures (and the later months',
    # whose year-to-date and trends include April) change; March's do not
    _change(
        db,
        "UPDATE dossier SET finished_at = finished_at + INTERVAL 1 DAY WHERE id = (SELECT min(id) FROM dossier "
        "WHERE finished_at >= '2026-04-01' AND finished_at < '2026-04-20' AND received_at >= '2026-04-01')",
    )
    assert _todo(db, *made) == ["2026-04", "2026-05", "2026-06"]


def test_a_deleted_march_feedback_re_renders_from_march(db: Path, made: tuple[Path, Path]) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.sql(
            "SELECT id FROM feedback WHERE received_at >= '2026-03-01' AND received_at < '2026-04-01' LIMIT 1"
        ).fetchall()
    if not rows:  # the small demo's feedback is sparse: a March dossier's supplement count instead
        _change(
            db,
            "UPDATE dossier SET supplement_count = supplement_count + 1 WHERE id = (SELECT min(id) FROM dossier "
            "WHERE received_at >= '2026-03-01' AND received_at < '2026-04-01')",
        )
    else:
        _change(db, f"DELETE FROM feedback WHERE id = '{rows[0][0]}'")
    assert _todo(db, *made) == MONTHS


def test_a_reference_table_change_re_renders_everything(db: Path, made: tuple[Path, Path]) -> None:
    # a holiday added to the calendar before the reports' months: every working-day figure may move
    _change(db, "UPDATE calendar_day SET reason_en = 'corrected' WHERE day = DATE '2025-12-31'")
    assert _todo(db, *made) == MONTHS


def test_a_load_that_changes_nothing_re_renders_nothing(db: Path, made: tuple[Path, Path]) -> None:
    # an ingest run is bookkeeping: rewriting the same rows and recording the run changes no fingerprint
    _change(
        db,
        "UPDATE dossier SET status = status WHERE received_at >= '2026-06-01'",
        "INSERT INTO ingest_run (id, kind, file, sha256, mapping, started_at, finished_at, rows_read, inserted, "
        "updated, unchanged, rejected) VALUES (1, 'dossier', 'x.csv', 'abc', 'm', now(), now(), 5, 0, 0, 5, 0)",
    )
    assert _todo(db, *made) == []


def _recorded(out: Path, **entry: str) -> None:
    """Set fields of every manifest entry (as a report made by another version would have them)."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for e in manifest["reports"]:
        e.update(entry)
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_reports_made_with_other_definitions_are_rendered_again(db: Path, made: tuple[Path, Path]) -> None:
    """Nothing in the data changed, but the reports were made with other definitions (another catalog,
    roadmap, method or page code): every one is made again, and so is one whose entry records none (made by
    a version before definitions were recorded: its page may differ from today's)."""
    out, jobs = made
    _recorded(out, definitions="0123456789abcdef")
    assert _todo(db, out, jobs) == MONTHS
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for e in manifest["reports"]:
        e["definitions"] = definitions_fingerprint()
    del manifest["reports"][1]["definitions"]
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert _todo(db, out, jobs) == [MONTHS[1]]


def test_what_the_definitions_cover(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The definitions (`render.definitions_fingerprint`), on a small copy of the package: an edited indicator
    changes them, the job list, a hidden file and an editor's swap file do not; a package file edited after
    the process loaded the package marks them (the process's reports may show the older definitions); the
    planner's own roadmap and indicators (`$EGOV_USER_DIR`) count, read as they are now."""
    package = tmp_path / "egov_metrics"
    shutil.copytree(render.PACKAGE_DIR / "catalog", package / "catalog")
    (package / "schedule_data").mkdir()
    (package / "schedule_data" / "default.yaml").write_text("jobs: []\n", encoding="utf-8")
    monkeypatch.setattr(render, "PACKAGE_DIR", package)
    monkeypatch.setattr(render, "_PACKAGE_DIGESTS", {})
    monkeypatch.delenv("EGOV_USER_DIR", raising=False)

    def fresh() -> str:  # as a new process sees the package: loaded as it is now
        monkeypatch.setattr(render, "_LOADED", render._package_state())
        return definitions_fingerprint()

    first = fresh()
    assert not first.startswith("edited:")
    (package / "schedule_data" / "default.yaml").write_text("jobs: [x]\n", encoding="utf-8")
    (package / "catalog" / ".indicator.yaml.swp").write_bytes(b"swap")
    (package / "catalog" / ".ipynb_checkpoints").mkdir()
    (package / "catalog" / ".ipynb_checkpoints" / "x.yaml").write_text("x", encoding="utf-8")
    assert definitions_fingerprint() == fresh() == first
    indicator = sorted((package / "catalog" / "indicators").glob("*.yaml"))[0]
    indicator.write_text(indicator.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    in_this_process = definitions_fingerprint()  # the package was loaded before the edit
    assert in_this_process.startswith("edited:")
    edited = fresh()
    assert edited not in (first, in_this_process) and not edited.startswith("edited:")

    user = tmp_path / "planner"
    (user / "indicators").mkdir(parents=True)
    (user / "roadmap.yaml").write_text("targets: []\n", encoding="utf-8")
    monkeypatch.setenv("EGOV_USER_DIR", str(user))
    own_roadmap = definitions_fingerprint()
    assert own_roadmap != edited
    (user / "roadmap.yaml").write_text("targets: [1]\n", encoding="utf-8")
    assert definitions_fingerprint() != own_roadmap
    before = definitions_fingerprint()
    (user / "indicators" / "mine.yaml").write_text("id: mine\n", encoding="utf-8")
    assert definitions_fingerprint() != before


def test_an_entry_written_before_fingerprints_were_recorded_is_made_again(
    db: Path, made: tuple[Path, Path]
) -> None:
    """A manifest of an earlier version records neither the data's view nor the definitions: its reports
    may show other figures than today's, so each is made once more (and recorded with both)."""
    out, jobs = made
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["reports"]:
        del entry["data_view"], entry["definitions"]
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert _todo(db, out, jobs) == MONTHS


# -- the one fingerprint -------------------------------------------------------------------------------------


def test_the_reports_and_the_compute_cache_share_one_fingerprint(db: Path) -> None:
    with connect(db, read_only=True) as con:
        shared = cache.data_fingerprint(con)
        assert shared == fingerprint.data_fingerprint(con) == fingerprint.view_fingerprint(con, None)
        # a horizon past the data's last day sees all of it; one before its first day sees no dated row
        assert fingerprint.view_fingerprint(con, dt.date(2030, 1, 1)) == shared
        assert fingerprint.view_fingerprint(con, dt.date(2000, 1, 1)) != shared
    assert data_fingerprint(db) == shared


@pytest.mark.parametrize(
    ("table", "statement"),
    [
        ("dossier", "UPDATE dossier SET channel = 'online' WHERE id = (SELECT min(id) FROM dossier WHERE channel <> 'online')"),
        ("feedback", "UPDATE feedback SET satisfied = NOT satisfied WHERE id = (SELECT min(id) FROM feedback WHERE satisfied IS NOT NULL)"),
        ("data_exchange", "UPDATE data_exchange SET failures = failures + 1 WHERE day = (SELECT min(day) FROM data_exchange)"),
        ("calendar_day", "UPDATE calendar_day SET is_working_day = NOT is_working_day WHERE day = DATE '2024-05-02'"),
        ("org_unit", "UPDATE org_unit SET name_en = name_en || ' (renamed)' WHERE level = 'province'"),
        ("procedure", "UPDATE procedure SET statutory_days = statutory_days + 1 WHERE code = (SELECT min(code) FROM procedure)"),
        ("target", "UPDATE target SET value = value + 1 WHERE rowid = (SELECT min(rowid) FROM target)"),
        ("roadmap_phase", "UPDATE roadmap_phase SET goals_en = goals_en || '.' WHERE id = (SELECT min(id) FROM roadmap_phase)"),
        ("e_office", "UPDATE e_office SET documents_electronic = documents_electronic + 1 WHERE rowid = (SELECT min(rowid) FROM e_office)"),
        ("portal", "CREATE TABLE portal_unit (unit_id VARCHAR, score DOUBLE); INSERT INTO portal_unit VALUES ('x', 1)"),
    ],
)  # fmt: skip
def test_every_table_a_report_reads_changes_the_fingerprint(db: Path, table: str, statement: str) -> None:
    before = data_fingerprint(db)
    _change(db, *statement.split("; "))
    assert data_fingerprint(db) != before, table


def test_the_fingerprint_is_kept_for_the_next_process_of_the_same_file_version(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    with connect(db, read_only=True) as con:
        first = fingerprint.data_fingerprint(con, store)
    assert (store / fingerprint.STORE_FILE).is_file()
    monkeypatch.setattr(fingerprint, "_prints", {})  # a new process: nothing in memory
    passes: list[int] = []
    real = fingerprint.compute_print
    monkeypatch.setattr(fingerprint, "compute_print", lambda con: passes.append(1) or real(con))
    with connect(db, read_only=True) as con:
        assert fingerprint.data_fingerprint(con, store) == first
    assert passes == []  # read from the store, no pass over the data
    _change(db, "UPDATE calendar_day SET reason_en = 'corrected' WHERE day = DATE '2025-12-31'")
    with connect(db, read_only=True) as con:
        assert fingerprint.data_fingerprint(con, store) != first  # a new file version: computed again
    assert passes == [1]


#: A different valid value for each column of the dated tables whose first term hashes the whole row (the schema's
#: checks kept). A column added to the schema fails the test below until it is listed here.
CHANGED_VALUE = {
    "dossier": {
        "id": "id || '-x'",
        "procedure_code": "(SELECT max(code) FROM procedure WHERE code <> t.procedure_code)",
        "unit_id": "(SELECT max(id) FROM org_unit WHERE id <> t.unit_id)",
        "channel": "CASE WHEN channel = 'online' THEN 'post' ELSE 'online' END",
        "applicant_type": "CASE WHEN applicant_type = 'citizen' THEN 'business' ELSE 'citizen' END",
        "received_at": "received_at - INTERVAL 1 MINUTE",
        "due_at": "coalesce(due_at, received_at) + INTERVAL 1 DAY",
        "finished_at": "coalesce(finished_at, received_at) + INTERVAL 1 MINUTE",
        "returned_at": "coalesce(returned_at, received_at) + INTERVAL 1 MINUTE",
        "status": "CASE WHEN status = 'withdrawn' THEN 'processing' ELSE 'withdrawn' END",
        "supplement_count": "supplement_count + 1",
        "supplement_days": "supplement_days + 1",
        "e_result": "NOT e_result",
        "digitized": "NOT digitized",
        "reused_data": "NOT reused_data",
        "linked_to_citizen_store": "NOT linked_to_citizen_store",
        "used_population_data": "NOT used_population_data",
        "synced_to_national": "NOT synced_to_national",
        "synced_at": "coalesce(synced_at, received_at) + INTERVAL 1 MINUTE",
        "has_financial_obligation": "NOT has_financial_obligation",
        "paid_online": "NOT paid_online",
        "complaint": "NOT complaint",
        "rating": "CASE WHEN rating = 'dissatisfied' THEN 'satisfied' ELSE 'dissatisfied' END",
        "source": "source || '-x'",
    },
    "feedback": {
        "id": "id || '-x'",
        "unit_id": "(SELECT max(id) FROM org_unit WHERE id <> t.unit_id)",
        "received_at": "received_at - INTERVAL 1 MINUTE",
        "due_at": "coalesce(due_at, received_at) + INTERVAL 1 DAY",
        "handled_at": "coalesce(handled_at, received_at) + INTERVAL 1 MINUTE",
        "satisfied": "NOT coalesce(satisfied, FALSE)",
        "topic": "coalesce(topic, '') || '-x'",
        "source": "source || '-x'",
    },
}


#: The row changed: finished (handled), with a due date; a dossier with a fee not yet paid online.
PICK = {
    "dossier": "status = 'finished' AND due_at IS NOT NULL AND has_financial_obligation AND NOT paid_online",
    "feedback": "handled_at IS NOT NULL AND due_at IS NOT NULL",
}


@pytest.mark.parametrize(
    ("table", "column"), [(t, c) for t, columns in CHANGED_VALUE.items() for c in columns]
)
def test_every_column_of_a_dated_table_changes_the_fingerprint(db: Path, table: str, column: str) -> None:
    """Not only the columns someone thought of: a rating, a complaint or a payment given later changes the data
    the reports read, so it must change the fingerprint (and so the compute cache's folder)."""
    with duckdb.connect(str(db), read_only=True) as con:
        columns = [r[0] for r in con.sql(f"SELECT column_name FROM (DESCRIBE {table})").fetchall()]
    assert sorted(columns) == sorted(CHANGED_VALUE[table]), "list the new column's change in CHANGED_VALUE"
    before = data_fingerprint(db)
    # one finished row with every optional value, so that each change is a real change of the row
    _change(
        db,
        f"UPDATE {table} t SET {column} = {CHANGED_VALUE[table][column]} "
        f"WHERE id = (SELECT min(id) FROM {table} WHERE {PICK[table]})",
    )
    assert data_fingerprint(db) != before, f"{table}.{column}"


def test_a_late_rating_or_payment_re_renders_the_month_the_dossier_was_received(
    db: Path, made: tuple[Path, Path]
) -> None:
    """A rating, complaint or online payment recorded later has no date of its own; the engine reads it wherever
    it places the dossier (e.g. open at April's end), so April and every later month are rendered again."""
    out, jobs = made
    _change(
        db,
        "UPDATE dossier SET rating = 'dissatisfied', complaint = TRUE, has_financial_obligation = TRUE, "
        "paid_online = TRUE WHERE id IN (SELECT id FROM dossier WHERE received_at >= '2026-04-01' "
        "AND received_at < '2026-05-01' AND NOT paid_online ORDER BY id LIMIT 50)",
    )
    assert _todo(db, out, jobs) == ["2026-04", "2026-05", "2026-06"]


def test_one_version_reads_and_names_the_file_it_opened_while_a_new_copy_is_published(
    db: Path, tmp_path: Path
) -> None:
    """Inside `one_version` every connection to the file shares the held instance, and `file_version` names
    the version that instance reads, even after a changed copy is renamed into place (as `schema.publish`
    does): the fingerprint stays that of the data read. After the block, the new file and its own version."""
    newer = tmp_path / "newer.duckdb"
    shutil.copyfile(db, newer)
    _change(newer, "DELETE FROM dossier WHERE id = (SELECT min(id) FROM dossier)")
    with connect(db, read_only=True) as con:
        old_version, old_count = (
            fingerprint.file_version(con),
            con.sql("SELECT count(*) FROM dossier").fetchall(),
        )
        old_print = fingerprint.compute_print(con).view(None)
    with fingerprint.one_version(db):
        newer.replace(db)  # published meanwhile
        with connect(db, read_only=True) as con:
            assert con.sql("SELECT count(*) FROM dossier").fetchall() == old_count  # the held instance
            assert fingerprint.file_version(con) == old_version
            assert fingerprint.data_fingerprint(con) == old_print
            with fingerprint.one_version(db):  # nested: the same instance and version
                assert fingerprint.file_version(con) == old_version
            assert fingerprint.file_version(con) == old_version  # still held by the outer block
    with connect(db, read_only=True) as con:
        assert con.sql("SELECT count(*) FROM dossier").fetchall()[0][0] == old_count[0][0] - 1
        new_version = fingerprint.file_version(con)
        assert new_version != old_version
        assert fingerprint.data_fingerprint(con) != old_print
    assert fingerprint._held == {}
