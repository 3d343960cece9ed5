"""Writing a generation: each derived table's unique key is checked on the rows written, before any file lands."""
from __future__ import annotations

import json

import duckdb
import pytest

from pipeline import sqlfiles
from pipeline.land.lake import Lake, Manifest
from pipeline.publish import generation
from pipeline.schemas import TABLES
from pipeline.schemas.validate import SchemaViolation, unique_key

TURNS = """CREATE TABLE turns AS SELECT * FROM (VALUES
    ('S1', 'c#1', 1::BIGINT, DATE '2026-11-27', TIMESTAMP '2026-11-27 10:00:00', NULL::TIMESTAMP, NULL::VARCHAR,
     NULL::DOUBLE, NULL::DOUBLE),
    ('S1', 'c#1', 2, DATE '2026-11-27', TIMESTAMP '2026-11-27 10:05:00', NULL, NULL, NULL, NULL),
    ('S2', 'c#1', 1, DATE '2026-11-28', TIMESTAMP '2026-11-28 10:00:00', NULL, NULL, NULL, NULL)
) AS t(shop_id, session_id, turn_no, started_on, started_at, answered_at, agent_id, response_seconds,
       response_service_seconds)"""


def write_turns(tmp_path, extra: str | None = None) -> dict:
    con = duckdb.connect()
    con.execute(TURNS)
    if extra:
        con.execute(f"INSERT INTO turns {extra}")
    return generation.write(con, Lake(tmp_path), Manifest(), ("turns",), None)


def test_unique_rows_are_written_one_file_per_day(tmp_path):
    entries = write_turns(tmp_path)
    assert sorted(entries["turns"]) == ["", "2026-11-27", "2026-11-28"]


@pytest.mark.parametrize("repeat", [
    "SELECT * FROM turns WHERE shop_id = 'S2'",  # the same day
    # the same key on another day: a repeat across files, which no file-by-file check would see
    "SELECT * REPLACE (DATE '2026-11-29' AS started_on) FROM turns WHERE shop_id = 'S2'",
])
def test_a_repeated_key_is_refused_naming_it(tmp_path, repeat):
    with pytest.raises(SchemaViolation, match=r"\(shop_id, session_id, turn_no\) is not unique.*'S2', 'c#1', 1"):
        write_turns(tmp_path, repeat)
    assert not list(tmp_path.rglob("*.parquet"))


def _named(expression: dict, select_list: list[dict]) -> str:
    """The output column a GROUP BY expression is: its column, or the alias of the same expression selected."""
    if expression["class"] == "COLUMN_REF":
        return expression["column_names"][-1]

    def bare(e):  # where in the text, and under which name, do not make another expression
        if isinstance(e, dict):
            return {k: bare(v) for k, v in e.items() if k not in ("alias", "query_location", "query_location_length")}
        return [bare(v) for v in e] if isinstance(e, list) else e

    same = [e["alias"] for e in select_list if bare(e) == bare(expression)]
    assert same, f"a GROUP BY expression that is not selected: {expression}"
    return same[0]


@pytest.mark.parametrize("table", generation.GROUPED_BY_KEY)
def test_a_table_whose_key_is_not_counted_groups_by_exactly_that_key(table):
    """generation.write does not count the keys of these tables: their sql/ file's outermost SELECT must group by
    the schema's unique key, in one grouping set, so that each key is one output row."""
    parsed = json.loads(duckdb.sql("SELECT json_serialize_sql(?)", params=[sqlfiles.text(table)]).fetchall()[0][0])
    assert not parsed["error"]
    (statement,) = parsed["statements"]
    node = statement["node"]
    assert node["type"] == "SELECT_NODE"
    groups = node["group_expressions"]
    assert node["group_sets"] == [list(range(len(groups)))]
    assert sorted(_named(g, node["select_list"]) for g in groups) == sorted(unique_key(TABLES[table]))


def test_an_order_converted_on_two_days_is_refused(tmp_path):
    """conversions' key is the order: two day files holding one order (each file alone is fine) are refused."""
    con = duckdb.connect()
    con.execute("""CREATE TABLE conversions AS SELECT * FROM (VALUES
        ('O1', 'S1', 'c', TIMESTAMP '2026-11-28 09:00:00', 10.0, 'c#1', TIMESTAMP '2026-11-27 10:00:00'),
        ('O1', 'S1', 'c', TIMESTAMP '2026-11-28 09:00:00', 10.0, 'c#2', TIMESTAMP '2026-11-28 08:00:00')
    ) AS t(order_id, shop_id, customer_id, paid_at, amount, session_id, session_started_at)""")
    with pytest.raises(SchemaViolation, match=r"\(order_id\) is not unique.*'O1'"):
        generation.write(con, Lake(tmp_path), Manifest(), ("conversions",), None)
    assert not list(tmp_path.rglob("*.parquet"))
