"""Writing a generation: each derived table's unique key is checked on the rows written, before any file lands."""
from __future__ import annotations

import duckdb
import pytest

from pipeline.land.lake import Lake, Manifest
from pipeline.publish import generation
from pipeline.schemas.validate import SchemaViolation

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
