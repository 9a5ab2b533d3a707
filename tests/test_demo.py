"""The demo province: complete, deterministic, valid, and shaped like real one-stop data.

Thresholds come from the generator's design (demo_sql/volume.sql and dossiers.sql), with room for the
noise of a 40,000-dossier sample: online take-up rises from about 12 % (2021) to about 60 % (2026); the base
late rate falls from 7 % to 2.5 %, land and construction are 2.6-3.2 times worse; days off carry 5 % of a
working day's volume, online only; Tết removes about a week of working days.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from egov_metrics import demo
from egov_metrics.errors import DemoError
from egov_metrics.roadmap import load_roadmap
from egov_metrics.schema import TABLES
from egov_metrics.schema.connection import schema_sql
from tests.conftest import SMALL_DEMO

NOT_FILLED_BY_DEMO = {"ingest_run", "quarantine"}


@pytest.fixture(scope="module")
def con(small_demo_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(small_demo_db), read_only=True)
    yield con
    con.close()


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> Any:
    return con.sql(sql, params=params).fetchall()[0][0]


# Completeness and validity --------------------------------------------------------------------------------


def test_every_canonical_table_is_filled(con: duckdb.DuckDBPyConnection) -> None:
    for table in TABLES:
        n = one(con, f"SELECT count(*) FROM {table}")
        assert (n == 0) if table in NOT_FILLED_BY_DEMO else (n > 0), table


def test_dossier_count_is_exactly_the_requested_size(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "SELECT count(*) FROM dossier") == SMALL_DEMO["dossiers"]
    assert one(con, "SELECT value FROM meta WHERE key = 'demo_dossiers_requested'") == str(
        SMALL_DEMO["dossiers"]
    )


def test_data_range(con: duckdb.DuckDBPyConnection) -> None:
    first, last = con.sql("SELECT min(received_at), max(received_at) FROM dossier").fetchall()[0]
    assert first.date() >= dt.date(2021, 1, 1) and first.date() < dt.date(2021, 1, 8)
    assert dt.date(2026, 6, 24) <= last.date() <= dt.date(2026, 6, 30)
    assert one(con, "SELECT value FROM meta WHERE key = 'data_to'") == "2026-06-30"


def test_every_row_passes_the_schema_again(small_demo_db: Path) -> None:
    """Copy every table into a fresh schema: CHECK, NOT NULL and PRIMARY KEY constraints hold."""
    fresh = duckdb.connect()
    fresh.execute(schema_sql())
    fresh.execute(f"ATTACH '{small_demo_db}' AS demo (READ_ONLY)")
    for table in TABLES:
        fresh.execute(f"INSERT INTO {table} SELECT * FROM demo.{table}")
    fresh.close()


@pytest.mark.parametrize(
    ("what", "sql"),
    [
        (
            "dossier -> procedure",
            "SELECT count(*) FROM dossier WHERE procedure_code NOT IN (SELECT code FROM procedure)",
        ),
        ("dossier -> unit", "SELECT count(*) FROM dossier WHERE unit_id NOT IN (SELECT id FROM org_unit)"),
        (
            "dossier -> unit_procedure",
            "SELECT count(*) FROM dossier d ANTI JOIN unit_procedure u "
            "ON u.unit_id = d.unit_id AND u.procedure_code = d.procedure_code",
        ),
        ("procedure -> field", "SELECT count(*) FROM procedure WHERE field NOT IN (SELECT code FROM field)"),
        ("feedback -> unit", "SELECT count(*) FROM feedback WHERE unit_id NOT IN (SELECT id FROM org_unit)"),
        ("e_office -> unit", "SELECT count(*) FROM e_office WHERE unit_id NOT IN (SELECT id FROM org_unit)"),
        (
            "workforce -> unit",
            "SELECT count(*) FROM workforce WHERE unit_id NOT IN (SELECT id FROM org_unit)",
        ),
        (
            "component -> phase",
            "SELECT count(*) FROM arch_component WHERE phase_id NOT IN (SELECT id FROM roadmap_phase)",
        ),
        (
            "component -> owner",
            "SELECT count(*) FROM arch_component WHERE owner_unit NOT IN (SELECT id FROM org_unit)",
        ),
        (
            "dependency -> component",
            "SELECT count(*) FROM arch_dependency WHERE component_id NOT IN "
            "(SELECT id FROM arch_component) OR depends_on NOT IN (SELECT id FROM arch_component)",
        ),
        (
            "target -> phase",
            "SELECT count(*) FROM target WHERE phase_id NOT IN (SELECT id FROM roadmap_phase)",
        ),
    ],
)
def test_references_between_tables(con: duckdb.DuckDBPyConnection, what: str, sql: str) -> None:
    assert one(con, sql) == 0, what


def test_units_are_valid_when_they_receive(con: duckdb.DuckDBPyConnection) -> None:
    invalid = one(
        con,
        "SELECT count(*) FROM dossier d JOIN org_unit u ON u.id = d.unit_id "
        "WHERE NOT (u.valid_from <= CAST(d.received_at AS DATE) "
        "AND (u.valid_to IS NULL OR CAST(d.received_at AS DATE) < u.valid_to))",
    )
    assert invalid == 0
    after = dict(
        con.sql(
            "SELECT u.level || CASE WHEN u.parent_id = 'T58' THEN ':province' ELSE ':district' END, count(*) "
            "FROM dossier d JOIN org_unit u ON u.id = d.unit_id "
            "WHERE d.received_at >= TIMESTAMP '2025-07-01' GROUP BY 1"
        ).fetchall()
    )
    # after 2025-07-01: no district, every commune is a new one directly under the province
    assert set(after) == {"commune:province", "department:province"}
    merged = one(
        con, "SELECT count(*) FROM dossier WHERE unit_id = 'SKHDT' AND received_at >= TIMESTAMP '2025-03-01'"
    )
    assert merged == 0
    assert one(con, "SELECT count(*) FROM dossier WHERE unit_id = 'STC-2025'") > 0


def test_flags_follow_the_procedure(con: duckdb.DuckDBPyConnection) -> None:
    bad = con.sql(
        "SELECT count(*) FILTER (WHERE d.channel = 'online' AND p.online_level = 'none'), "
        "count(*) FILTER (WHERE d.used_population_data AND NOT p.connected_population_db), "
        "count(*) FILTER (WHERE d.has_financial_obligation AND NOT p.has_fee), "
        "count(*) FILTER (WHERE d.e_result AND d.status NOT IN ('finished', 'returned')) "
        "FROM dossier d JOIN procedure p ON p.code = d.procedure_code"
    ).fetchall()[0]
    assert bad == (0, 0, 0, 0)


def test_due_date_is_statutory_working_days_after_receipt(con: duckdb.DuckDBPyConnection) -> None:
    wrong = one(
        con,
        "SELECT count(*) FROM dossier d JOIN procedure p ON p.code = d.procedure_code "
        "JOIN calendar_day r ON r.day = CAST(d.received_at AS DATE) "
        "JOIN calendar_day u ON u.day = CAST(d.due_at AS DATE) "
        "WHERE NOT u.is_working_day OR u.wd_index - r.wd_index NOT IN (p.statutory_days, p.statutory_days + 1) "
        "OR (u.wd_index - r.wd_index = p.statutory_days + 1 AND p.statutory_days > 0)",
    )
    assert wrong == 0


# Determinism ------------------------------------------------------------------------------------------------


@pytest.mark.slow  # builds the demo three times
def test_same_seed_same_data_other_seed_other_data(small_demo_db: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(small_demo_db), read_only=True) as con:
        fingerprint = one(con, "SELECT value FROM meta WHERE key = 'data_fingerprint'")
        assert demo.data_fingerprint(con) == fingerprint
    again, other = tmp_path / "again.duckdb", tmp_path / "other.duckdb"
    demo.build_demo(again, **SMALL_DEMO)
    demo.build_demo(other, **(SMALL_DEMO | {"seed": 59}))
    with duckdb.connect(str(again), read_only=True) as con:
        assert demo.data_fingerprint(con) == fingerprint
    with duckdb.connect(str(other), read_only=True) as con:
        assert demo.data_fingerprint(con) != fingerprint
        assert one(con, "SELECT count(*) FROM dossier") == SMALL_DEMO["dossiers"]


# Shape over time --------------------------------------------------------------------------------------------


def yearly(con: duckdb.DuckDBPyConnection, expression: str) -> dict[int, float]:
    return dict(
        con.sql(f"SELECT year(received_at), {expression} FROM dossier GROUP BY 1 ORDER BY 1").fetchall()
    )


def test_online_share_rises_every_year(con: duckdb.DuckDBPyConnection) -> None:
    share = yearly(con, "avg(CAST(channel = 'online' AS INTEGER))")
    years = sorted(share)
    assert years == list(range(2021, 2027))
    assert all(share[a] < share[b] for a, b in itertools.pairwise(years)), share
    assert 0.05 <= share[2021] <= 0.25
    assert 0.5 <= share[2026] <= 0.75


def test_digitisation_and_reuse_take_off_after_2023(con: duckdb.DuckDBPyConnection) -> None:
    digitized = yearly(con, "avg(CAST(digitized AS INTEGER))")
    reused = yearly(con, "avg(CAST(reused_data AS INTEGER))")
    assert digitized[2021] < 0.15 and digitized[2025] > 0.7
    assert reused[2022] < 0.1 and reused[2025] > 0.4
    paid = yearly(con, "sum(CAST(paid_online AS INTEGER)) / sum(CAST(has_financial_obligation AS INTEGER))")
    assert paid[2021] < 0.05 < paid[2023] < paid[2025]


def test_tet_month_is_lower_than_its_neighbours(con: duckdb.DuckDBPyConnection) -> None:
    monthly = dict(
        con.sql(
            "SELECT CAST(date_trunc('month', received_at) AS DATE), count(*) FROM dossier GROUP BY 1"
        ).fetchall()
    )
    tet_days = [
        d for (d,) in con.sql("SELECT day FROM calendar_day WHERE reason_vi = 'Tết Nguyên Đán'").fetchall()
    ]
    checked = 0
    for day in tet_days:
        month = day.replace(day=1)
        before = (month - dt.timedelta(days=1)).replace(day=1)
        after = (month + dt.timedelta(days=32)).replace(day=1)
        if before in monthly and after in monthly:
            assert monthly[month] < monthly[before] and monthly[month] < monthly[after], month
            checked += 1
    assert checked >= 5


def test_days_off_bring_few_dossiers_and_only_online(con: duckdb.DuckDBPyConnection) -> None:
    total, off, off_online = con.sql(
        "SELECT count(*), count(*) FILTER (WHERE NOT c.is_working_day), "
        "count(*) FILTER (WHERE NOT c.is_working_day AND d.channel = 'online') "
        "FROM dossier d JOIN calendar_day c ON c.day = CAST(d.received_at AS DATE)"
    ).fetchall()[0]
    assert off == off_online
    assert 0.005 < off / total < 0.08


ON_TIME = """
SELECT {group} AS grp,
    avg(CASE WHEN d.supplement_count < 2 AND f.wd_index - d.supplement_days <= u.wd_index THEN 1.0 ELSE 0.0 END)
FROM dossier d
JOIN procedure p ON p.code = d.procedure_code
JOIN calendar_day u ON u.day = CAST(d.due_at AS DATE)
JOIN calendar_day f ON f.day = CAST(d.finished_at AS DATE)
WHERE d.status IN ('finished', 'returned')
GROUP BY 1
"""


def test_on_time_rate_and_lagging_fields(con: duckdb.DuckDBPyConnection) -> None:
    overall = dict(con.sql(ON_TIME.format(group="'all'")).fetchall())["all"]
    assert 0.85 <= overall <= 0.99
    by_kind = dict(con.sql(ON_TIME.format(group="p.field IN ('dat_dai', 'xay_dung')")).fetchall())
    assert by_kind[True] < by_kind[False] - 0.04
    by_year = dict(con.sql(ON_TIME.format(group="year(d.received_at)")).fetchall())
    assert by_year[2021] < by_year[2025]


def test_lagging_districts(con: duckdb.DuckDBPyConnection) -> None:
    rates = dict(con.sql(ON_TIME.format(group="d.unit_id") + " HAVING d.unit_id LIKE 'H58%'").fetchall())
    assert len(rates) == 7
    worst_two = sorted(rates, key=rates.get)[:2]
    assert set(worst_two) == {"H584", "H588"}  # Bác Ái and Thuận Bắc lag by design


def test_open_dossiers_only_near_the_end(con: duckdb.DuckDBPyConnection) -> None:
    n_open, first_open = con.sql(
        "SELECT count(*), min(received_at) FROM dossier WHERE status IN ('processing', 'supplementing')"
    ).fetchall()[0]
    assert n_open > 0
    assert first_open >= dt.datetime(2026, 1, 1)
    assert (
        one(con, "SELECT count(*) FROM dossier WHERE status = 'supplementing' AND supplement_count = 0") == 0
    )


def test_feedback(con: duckdb.DuckDBPyConnection) -> None:
    per_thousand = 1000 * one(con, "SELECT count(*) FROM feedback") / SMALL_DEMO["dossiers"]
    assert 1 <= per_thousand <= 10
    wrong_due = one(
        con,
        "SELECT count(*) FROM feedback f JOIN calendar_day r ON r.day = CAST(f.received_at AS DATE) "
        "JOIN calendar_day u ON u.day = CAST(f.due_at AS DATE) WHERE u.wd_index - r.wd_index <> 15",
    )
    assert wrong_due == 0
    late, satisfied = con.sql(
        "SELECT avg(CAST(handled_at > due_at AS INTEGER)), avg(CAST(satisfied AS INTEGER)) FROM feedback"
    ).fetchall()[0]
    assert 0.01 < late < 0.3 and satisfied > 0.75


def test_data_exchange_failures(con: duckdb.DuckDBPyConnection) -> None:
    rate, bad_days, platforms = con.sql(
        "SELECT sum(failures) / sum(requests), count(*) FILTER (WHERE failures > 0.05 * requests), "
        "count(DISTINCT platform) FROM data_exchange"
    ).fetchall()[0]
    assert 0.004 < rate < 0.03
    assert bad_days > 0 and platforms == 2
    growth = dict(con.sql("SELECT year(day), sum(requests) FROM data_exchange GROUP BY 1").fetchall())
    assert growth[2025] > growth[2022]


def test_e_office_rises_toward_the_targets(con: duckdb.DuckDBPyConnection) -> None:
    share = {
        (level, year): value
        for level, year, value in con.sql(
            "SELECT u.level, year(e.month), sum(documents_electronic) / sum(documents_total) "
            "FROM e_office e JOIN org_unit u ON u.id = e.unit_id GROUP BY ALL"
        ).fetchall()
    }
    for level in ("department", "district", "commune"):
        assert share[level, 2021] < share[level, 2025]
    assert share["department", 2025] >= 0.85 > share["department", 2021]
    assert share["department", 2025] > share["district", 2025] > share["commune", 2025] >= 0.55


def test_adoption_and_workforce(con: duckdb.DuckDBPyConnection) -> None:
    vneid = dict(
        con.sql("SELECT year(month), sum(users_vneid) / sum(users) FROM adoption GROUP BY 1").fetchall()
    )
    assert vneid[2021] == 0 and vneid[2025] > 0.8
    trained = dict(
        con.sql("SELECT year, sum(staff_trained) / sum(staff) FROM workforce GROUP BY 1").fetchall()
    )
    assert trained[2021] < trained[2023] < trained[2025]


def test_roadmap_tables_come_from_the_roadmap(con: duckdb.DuckDBPyConnection) -> None:
    roadmap = load_roadmap()
    assert one(con, "SELECT count(*) FROM arch_component") == len(roadmap.components)
    assert one(con, "SELECT count(*) FROM arch_layer") == 7
    indicators = {i for (i,) in con.sql("SELECT DISTINCT indicator FROM target").fetchall()}
    assert indicators >= {
        "fully_online_dossiers", "procedures_full_online", "vneid_users", "dossier_satisfaction",
        "online_submission", "paid_online", "dossiers_on_time", "dossiers_digitized", "data_reuse",
        "e_office_share", "staff_trained",
    }  # fmt: skip
    phase_end = one(
        con,
        "SELECT value FROM target WHERE indicator = 'fully_online_dossiers' AND unit_level = 'province' "
        "AND year = 2025 AND is_phase_end",
    )
    assert phase_end == roadmap.target_set("fully_online_dossiers").targets[0].value
    years = {
        y
        for (y,) in con.sql(
            "SELECT DISTINCT year FROM target WHERE indicator = 'online_submission'"
        ).fetchall()
    }
    assert years == set(range(2021, 2031))  # a milestone every year of both phases
    # the digital services of the dossiers start when their component goes live
    live = one(con, "SELECT live_at FROM arch_component WHERE id = 'L6_POP_DB'")
    first = one(con, "SELECT min(received_at) FROM dossier WHERE used_population_data")
    assert first.date() >= live


# Building safely -------------------------------------------------------------------------------------------


def test_a_failed_build_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "egov.duckdb"
    path.write_bytes(b"the previous database")

    def boom(con: duckdb.DuckDBPyConnection, settings: demo.DemoSettings) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo, "STEPS", (*demo.STEPS[:3], demo.Step("boom", boom)))
    with pytest.raises(RuntimeError, match="disk full"):
        demo.build_demo(path, dossiers=5_000, until=dt.date(2021, 6, 1))
    assert path.read_bytes() == b"the previous database"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["egov.duckdb"]


def test_a_failure_while_storing_dossiers_leaves_no_scratch_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(sizes: list, limit: int) -> list:
        raise RuntimeError("interrupted")

    monkeypatch.setattr(demo, "_chunks", boom)
    with pytest.raises(RuntimeError, match="interrupted"):
        demo.build_demo(tmp_path / "egov.duckdb", dossiers=5_000, until=dt.date(2021, 6, 1))
    assert list(tmp_path.iterdir()) == []


def test_build_replaces_and_reports_progress(tmp_path: Path) -> None:
    path = tmp_path / "egov.duckdb"
    path.write_bytes(b"old")
    lines: list[str] = []
    counts = demo.build_demo(path, dossiers=5_000, seed=1, until=dt.date(2021, 6, 1), progress=lines.append)
    assert counts["dossier"] == 5_000
    assert hashlib.sha256(path.read_bytes()).hexdigest() != hashlib.sha256(b"old").hexdigest()
    assert any("dossiers" in line for line in lines) and lines[-1].startswith("demo: done")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["egov.duckdb"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"until": dt.date(2025, 3, 15)}, "first day of a month"),
        ({"until": dt.date(2020, 12, 1)}, "first day of a month"),
        ({"dossiers": 10}, "too few"),
    ],
)
def test_bad_settings(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(DemoError, match=message):
        demo.build_demo(tmp_path / "x.duckdb", **({"until": dt.date(2022, 1, 1)} | kwargs))
    assert not (tmp_path / "x.duckdb").exists()


def test_last_full_month() -> None:
    assert demo.last_full_month(dt.date(2026, 11, 25)) == dt.date(2026, 10, 1)
    assert demo.last_full_month(dt.date(2027, 1, 1)) == dt.date(2026, 12, 1)
