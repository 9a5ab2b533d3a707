"""Org units: reference data, the 2025 mergers, the roll-up closure in both versions, lookups, validation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from egov_metrics import orgunits
from egov_metrics.errors import OrgUnitError, UnknownNameError
from egov_metrics.schema.connection import schema_sql


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(schema_sql())
    orgunits.load_reference_units(con)
    orgunits.create_unit_views(con)
    return con


def ancestors(con: duckdb.DuckDBPyConnection, unit: str, version: str) -> dict[str, str]:
    rows = con.sql(
        "SELECT ancestor_level, ancestor_id FROM org_unit_closure WHERE unit_id = ? AND version = ?",
        params=[unit, version],
    ).fetchall()
    return dict(rows)


# Reference data ------------------------------------------------------------------------------------------


def test_reference_shape(con: duckdb.DuckDBPyConnection) -> None:
    counts = dict(
        con.sql(
            "SELECT level || CASE WHEN valid_to IS NULL THEN ':now' ELSE ':old' END, count(*) "
            "FROM org_unit GROUP BY 1"
        ).fetchall()
    )
    assert counts["province:now"] == 1
    assert counts["department:old"] + counts["department:now"] == 18 + 5  # 18 before, 5 merged versions
    assert counts["department:now"] == 18 - 10 + 5
    assert counts["district:old"] == 7 and "district:now" not in counts
    assert 62 <= counts["commune:old"] <= 65
    assert counts["commune:now"] < counts["commune:old"]


def test_every_ended_commune_has_a_crosswalk_row(con: duckdb.DuckDBPyConnection) -> None:
    missing = con.sql(
        "SELECT u.id FROM org_unit u LEFT JOIN org_unit_crosswalk c ON c.old_id = u.id AND c.new_id = u.successor_id "
        "WHERE u.successor_id IS NOT NULL AND c.old_id IS NULL"
    ).fetchall()
    assert missing == []
    effective = con.sql("SELECT DISTINCT effective_on FROM org_unit_crosswalk ORDER BY 1").fetchall()
    assert [d for (d,) in effective] == [dt.date(2025, 3, 1), dt.date(2025, 7, 1)]


# Mergers and the closure -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("SKHDT", "STC-2025"),  # Planning and Investment -> Finance
        ("STC", "STC-2025"),
        ("SNNPTNT", "SNNMT-2025"),  # Agriculture + Natural Resources -> Agriculture and Environment
        ("STNMT", "SNNMT-2025"),
        ("SGTVT", "SXD-2025"),  # Transport -> Construction
        ("STTTT", "SKHCN-2025"),  # Information and Communications -> Science and Technology
        ("SLDTBXH", "SNV-2025"),  # Labour -> Home Affairs
    ],
)
def test_department_mergers(con: duckdb.DuckDBPyConnection, old: str, new: str) -> None:
    assert ancestors(con, old, "current") == {"department": new, "province": "T58"}
    assert ancestors(con, old, "historical") == {"department": old, "province": "T58"}
    assert (
        ancestors(con, new, "current")
        == ancestors(con, new, "historical")
        == {"department": new, "province": "T58"}
    )


def test_unchanged_department_is_itself_in_both_versions(con: duckdb.DuckDBPyConnection) -> None:
    assert (
        ancestors(con, "STP", "current")
        == ancestors(con, "STP", "historical")
        == {"department": "STP", "province": "T58"}
    )


def test_commune_merger_and_district_abolition(con: duckdb.DuckDBPyConnection) -> None:
    phuoc_binh = orgunits.resolve_unit(con, "Phước Bình", as_of=dt.date(2024, 1, 1))
    bac_ai_tay = orgunits.resolve_unit(con, "Xã Bác Ái Tây")
    bac_ai_district = orgunits.resolve_unit(con, "Huyện Bác Ái")
    assert ancestors(con, phuoc_binh, "historical") == {
        "commune": phuoc_binh,
        "district": bac_ai_district,
        "province": "T58",
    }
    assert ancestors(con, phuoc_binh, "current") == {"commune": bac_ai_tay, "province": "T58"}
    # an abolished district has no successor: today it rolls up to the province, and to nothing below it
    assert ancestors(con, bac_ai_district, "current") == {"province": "T58"}
    assert ancestors(con, bac_ai_district, "historical") == {"district": bac_ai_district, "province": "T58"}


def test_merger_across_former_districts(con: duckdb.DuckDBPyConnection) -> None:
    """Văn Hải (city) and Khánh Hải (Ninh Hải district) both went into Phường Ninh Chử."""
    ninh_chu = orgunits.resolve_unit(con, "Phường Ninh Chử")
    van_hai = orgunits.resolve_unit(con, "Phường Văn Hải")
    khanh_hai = orgunits.resolve_unit(con, "Thị trấn Khánh Hải")
    assert (
        ancestors(con, van_hai, "historical")["district"]
        != ancestors(con, khanh_hai, "historical")["district"]
    )
    assert (
        ancestors(con, van_hai, "current")["commune"]
        == ancestors(con, khanh_hai, "current")["commune"]
        == ninh_chu
    )


def test_closure_has_one_ancestor_per_level_and_a_province_root(con: duckdb.DuckDBPyConnection) -> None:
    duplicates = con.sql(
        "SELECT unit_id, version, ancestor_level FROM org_unit_closure GROUP BY ALL HAVING count(*) > 1"
    ).fetchall()
    assert duplicates == []
    roots = con.sql(
        "SELECT version, count(DISTINCT unit_id) FROM org_unit_closure WHERE ancestor_id = 'T58' GROUP BY 1"
    ).fetchall()
    n_units = con.sql("SELECT count(*) FROM org_unit").fetchall()[0][0]
    assert dict(roots) == {"current": n_units, "historical": n_units}
    # the current version only ever points at units that are still valid
    stale = con.sql(
        "SELECT DISTINCT c.ancestor_id FROM org_unit_closure c JOIN org_unit u ON u.id = c.ancestor_id "
        "WHERE c.version = 'current' AND u.valid_to IS NOT NULL"
    ).fetchall()
    assert stale == []


def test_roll_up_of_dossiers_in_both_versions(con: duckdb.DuckDBPyConnection) -> None:
    facts = "(VALUES ('SKHDT', 3), ('STC', 2), ('STC-2025', 5), ('STP', 1)) AS f(unit_id, n)"
    sql = (
        f"SELECT c.ancestor_id, sum(f.n) FROM {facts} JOIN org_unit_closure c ON c.unit_id = f.unit_id "
        "WHERE c.version = ? AND c.ancestor_level = 'department' GROUP BY 1"
    )
    assert dict(con.sql(sql, params=["current"]).fetchall()) == {"STC-2025": 10, "STP": 1}
    assert dict(con.sql(sql, params=["historical"]).fetchall()) == {
        "SKHDT": 3,
        "STC": 2,
        "STC-2025": 5,
        "STP": 1,
    }


def test_a_unit_and_everything_below_it(con: duckdb.DuckDBPyConnection) -> None:
    below = {
        u
        for (u,) in con.sql(
            "SELECT unit_id FROM org_unit_closure WHERE ancestor_id = 'H584' AND version = 'historical'"
        ).fetchall()
    }
    children = {u for (u,) in con.sql("SELECT id FROM org_unit WHERE parent_id = 'H584'").fetchall()}
    assert below == children | {"H584"}
    assert len(children) == 9  # Bác Ái's nine communes


def test_views_sql_is_the_file_for_the_schema() -> None:
    sql = orgunits.unit_closure_sql()
    assert "CREATE OR REPLACE VIEW org_unit_closure" in sql
    assert sql == orgunits.VIEWS_SQL.read_text(encoding="utf-8")


# Lookups -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STC-2025", "STC-2025"),  # id
        ("582", "H582"),  # code
        ("skhdt", "SKHDT"),  # code, any case
        ("Sở Kế hoạch và Đầu tư", "SKHDT"),
        ("so ke hoach va dau tu", "SKHDT"),  # no accents
        ("SỞ TÀI CHÍNH", "STC-2025"),  # the current version wins
        ("Phan Rang – Tháp Chàm", "H582"),  # punctuation does not matter
        ("Thành Hải", "X22774"),  # accents decide between Thành Hải and Thanh Hải
        ("Thanh Hải", "X22861"),
    ],
)
def test_resolve_unit(con: duckdb.DuckDBPyConnection, text: str, expected: str) -> None:
    assert orgunits.resolve_unit(con, text) == expected


def test_resolve_unit_as_of_a_date(con: duckdb.DuckDBPyConnection) -> None:
    assert orgunits.resolve_unit(con, "Sở Tài chính", as_of=dt.date(2024, 6, 1)) == "STC"
    assert orgunits.resolve_unit(con, "Bác Ái", as_of=dt.date(2024, 6, 1)) == "H584"
    assert orgunits.resolve_unit(con, "Bác Ái") == orgunits.resolve_unit(con, "Xã Bác Ái")


def test_resolve_unit_errors(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(UnknownNameError, match="Phước Bình") as info:
        orgunits.resolve_unit(con, "Phuoc Bin")
    assert "did you mean" in str(info.value)
    with pytest.raises(UnknownNameError, match="ambiguous"):
        orgunits.resolve_unit(con, "thanh hai")  # Thành Hải or Thanh Hải


# Validation --------------------------------------------------------------------------------------------

UNITS_HEADER = "id,code,name_vi,name_en,level,parent_id,valid_from,valid_to,successor_id\n"
CROSSWALK_HEADER = "old_id,new_id,effective_on,share,note\n"


def write(tmp_path: Path, units: str, crosswalk: str = "") -> tuple[Path, Path]:
    u, c = tmp_path / "units.csv", tmp_path / "crosswalk.csv"
    u.write_text("# test units\n" + UNITS_HEADER + units, encoding="utf-8")
    c.write_text(CROSSWALK_HEADER + crosswalk, encoding="utf-8")
    return u, c


def test_valid_small_reference(tmp_path: Path) -> None:
    units, crosswalk = write(
        tmp_path,
        "P,1,Tỉnh A,Province A,province,,2020-01-01,,\n"
        "D1,D1,Sở Một,Dept one,department,P,2020-01-01,2025-03-01,D2\n"
        "D2,D2,Sở Hai,Dept two,department,P,2025-03-01,,\n",
        "D1,D2,2025-03-01,1.0,merger\n",
    )
    ref = orgunits.read_reference(units, crosswalk)
    assert [u.id for u in ref.units] == ["P", "D1", "D2"]
    assert [u.line for u in ref.units] == [3, 4, 5]  # the comment and the header count


def test_broken_reference_lists_every_problem_with_file_and_line(tmp_path: Path) -> None:
    units, crosswalk = write(
        tmp_path,
        "P,1,Tỉnh A,Province A,province,,2020-01-01,,\n"  # line 3
        "D1,D1,Sở Một,Dept one,department,NOPE,2020-01-01,,\n"  # line 4: unknown parent
        "D2,D2,Sở Hai,Dept two,department,P,2020-01-01,2025-03-01,GHOST\n"  # line 5: unknown successor
        "H1,H1,Huyện Một,District one,district,H2,2020-01-01,,\n"  # line 6: parent cycle H1 -> H2 -> H1
        "H2,H2,Huyện Hai,District two,district,H1,2020-01-01,,\n"  # line 7
        "D3,D3,Sở Ba,Dept three,department,P,2020-01-01,2024-01-01,\n"  # line 8
        "D3B,D3,Sở Ba mới,Dept three new,department,P,2023-06-01,,\n"  # line 9: overlaps D3 (same code)
        "X1,X1,Xã Một,Commune one,commune,P,2020-13-01,,\n",  # line 10: bad date
        "D3,D9,2024-01-01,1.0,\n",  # crosswalk line 2: unknown new unit
    )
    with pytest.raises(OrgUnitError) as info:
        orgunits.read_reference(units, crosswalk)
    text = str(info.value)
    for expected in (
        f"{units}:4: D1 has the unknown parent 'NOPE'",
        f"{units}:5: D2 has the unknown successor 'GHOST'",
        "parent cycle",
        f"{units}:9: D3B and D3 (line 8) both carry code 'D3' with overlapping validity",
        f"{units}:10: column 'valid_from'",
        f"{crosswalk}:2: unknown unit 'D9'",
    ):
        assert expected in text
    assert "H1 → H2 → H1" in text or "H2 → H1 → H2" in text
    assert "Hint:" in text


def test_successor_must_be_valid_and_in_the_crosswalk(tmp_path: Path) -> None:
    units, crosswalk = write(
        tmp_path,
        "P,1,Tỉnh A,Province A,province,,2020-01-01,,\n"
        "D1,D1,Sở Một,Dept one,department,P,2020-01-01,2025-03-01,D2\n"
        "D2,D2,Sở Hai,Dept two,department,P,2025-06-01,,\n",  # starts after D1 ends: a gap
    )
    with pytest.raises(OrgUnitError) as info:
        orgunits.read_reference(units, crosswalk)
    assert "successor D2 of D1 is not valid on 2025-03-01" in str(info.value)
    assert "D1 → D2 is missing from" in str(info.value)


def test_failed_load_leaves_the_tables_unchanged(tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute(schema_sql())
    before = orgunits.load_reference_units(con)
    units, crosswalk = write(tmp_path, "P,1,Tỉnh A,Province A,province,NOPE,2020-01-01,,\n")
    with pytest.raises(OrgUnitError):
        orgunits.load_reference_units(con, units, crosswalk)
    assert con.sql("SELECT count(*) FROM org_unit").fetchall()[0][0] == before
