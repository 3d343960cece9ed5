"""A large lake is derived a range of shops at a time: the passes' rows must be exactly one pass's rows."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline import jobs
from pipeline.compute import support_tables
from pipeline.config import Config
from pipeline.service_hours import ServiceHours
from pipeline.derive import OUTPUTS, derive, release, shop_ranges
from pipeline.land.lake import Lake
from pipeline.land.views import source_views

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    lake = Lake(tmp_path_factory.mktemp("passes") / "lake")
    files, _ = jobs.inbox_files(SAMPLE, skip_unknown=False)
    jobs.ingest_files(lake, files, Config())
    return lake


OFFICE = Config(service_hours=ServiceHours.parse({"mon": ["09:00-18:00"], "tue": ["09:00-12:00", "13:00-18:00"],
                                                  "sat": ["10:00-16:00"]}))


def _derived(lake: Lake, per_pass: int | None, config: Config = Config()) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name, select in source_views(lake, lake.manifest()).items():
        con.execute(f'CREATE VIEW "{name}" AS {select}')
    support_tables(con, config, lake.manifest().kinds())
    derive(con, config, shop_ranges(con, per_pass) if per_pass else None)
    return con


@pytest.mark.parametrize("config", [Config(), OFFICE], ids=["wall", "service-hours"])
@pytest.mark.parametrize("per_pass", [1, 50, 400])
def test_passes_over_shop_ranges_equal_one_pass(lake, per_pass, config):
    one = _derived(lake, None, config)
    passes = _derived(lake, per_pass, config)
    starts = shop_ranges(passes, per_pass)
    assert starts, "the sample must need several passes"
    for table in OUTPUTS:
        whole = one.execute(f"SELECT * FROM {table}").fetchall()
        parts = passes.execute(f"SELECT * FROM {table}").fetchall()
        assert whole, table
        assert sorted(parts, key=repr) == sorted(whole, key=repr), table


def test_shop_ranges_start_where_a_pass_would_grow_past_its_size(lake):
    con = _derived(lake, None)
    counts = dict(con.execute("SELECT shop_id, count(*) FROM messages GROUP BY ALL").fetchall())
    assert shop_ranges(con, sum(counts.values())) == []
    assert shop_ranges(con, 1) == sorted(counts)[1:]  # one shop per pass


def test_release_drops_the_view_over_the_passes_and_their_parts(lake):
    con = _derived(lake, 50)
    relations = "SELECT schema_name, table_name FROM duckdb_tables() WHERE table_name IN ('sessions', 'turns')"
    assert len(con.execute(relations).fetchall()) > 2  # a part per pass
    turns = con.execute("SELECT count(*) FROM turns").fetchone()[0]
    release(con, "sessions")
    assert con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'sessions'").fetchone()[0] == 0
    assert {t for _, t in con.execute(relations).fetchall()} == {"turns"}
    assert con.execute("SELECT count(*) FROM turns").fetchone()[0] == turns  # the other output is untouched
    release(con, "turns")
    release(con, "conversions")  # a plain table
    assert con.execute(relations).fetchall() == []
    assert con.execute("SELECT count(*) FROM duckdb_schemas() WHERE starts_with(schema_name, 'shops_pass_')"
                       ).fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'conversions'").fetchone()[0] == 0
