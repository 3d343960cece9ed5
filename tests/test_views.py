"""The lake's kind views resolve re-sent keys only against the parts that can hold an earlier part's keys."""
from __future__ import annotations

from pathlib import Path

from pipeline import jobs
from pipeline.config import Config
from pipeline.kinds import KINDS
from pipeline.land.lake import FileEntry, Lake, Manifest
import duckdb

from pipeline.land.views import kind_sql, superseded_sql, superseding_parts
from tests.conftest import warehouse
from tests.test_land_ingest import kind_csv, row


def _entry(seq: int, low: str | None, high: str | None, accepted: int = 10,
           intervals: list[list[str]] | None = None) -> FileEntry:
    return FileEntry(seq=seq, sha256=f"{seq}", name=f"orders_{seq}.csv", kind="orders", read=accepted,
                     accepted=accepted, rejected=0, duplicates=0, ingested_at="", data=f"data/orders/{seq:06d}.parquet",
                     rejects=None, key_min=low, key_max=high, key_intervals=intervals)


def _windowed(*entries: FileEntry) -> bool:
    manifest = Manifest(files=list(entries))
    resolved = "ANTI JOIN" in kind_sql(Lake(Path("/lake")), manifest, KINDS["orders"])
    assert resolved == bool(superseding_parts(manifest, KINDS["orders"]))
    return resolved


def test_superseding_parts_are_those_meeting_an_earlier_range():
    parts = [_entry(1, "O1", "O5"), _entry(2, "O6", "O9"), _entry(3, "O5", "O6"), _entry(4, "P1", "P2")]
    assert superseding_parts(Manifest(files=parts), KINDS["orders"]) == ["data/orders/000003.parquet"]


def test_resolved_only_where_key_ranges_meet():
    assert not _windowed(_entry(1, "O1", "O5"))
    assert not _windowed(_entry(1, "O1", "O5"), _entry(2, "O6", "O9"))
    assert not _windowed(_entry(2, "O6", "O9"), _entry(1, "O1", "O5"), _entry(3, "O0", "O0"))
    assert _windowed(_entry(1, "O1", "O5"), _entry(2, "O5", "O9"))  # O5 may be in both
    assert _windowed(_entry(1, "O1", "O9"), _entry(2, "O2", "O3"), _entry(3, "P1", "P2"))
    assert _windowed(_entry(1, "O1", "O5"), _entry(2, None, None))  # a range not recorded: assume the worst
    assert not _windowed(_entry(1, "O1", "O5"), _entry(2, None, None, accepted=0))  # an empty part holds nothing


def test_resolved_only_where_key_intervals_meet():
    night1 = _entry(1, "A1", "B5", intervals=[["A1", "A5"], ["B1", "B5"]])  # shop A's ids, shop B's ids
    night2 = _entry(2, "A6", "B9", intervals=[["A6", "A9"], ["B6", "B9"]])
    assert not _windowed(night1, night2)  # the overall ranges meet, the shops' do not
    assert _windowed(night1, night2, _entry(3, "B3", "B3", intervals=[["B3", "B3"]]))
    assert _windowed(_entry(1, "A1", "B5"), night2)  # landed before intervals were recorded: its overall range


def _three_arrivals(tmp_path) -> Lake:
    files = [
        kind_csv(tmp_path / "o1.csv", "orders", [row("orders", order_id="O1", status="created"),
                                                  row("orders", order_id="O2", status="created"),
                                                  row("orders", order_id="O9", status="created")]),
        kind_csv(tmp_path / "o2.csv", "orders", [row("orders", order_id="O1", status="paid"),
                                                  row("orders", order_id="O2", status="paid")]),
        kind_csv(tmp_path / "o3.csv", "orders", [row("orders", order_id="O1", status="shipped"),
                                                  row("orders", order_id="O3", status="created")]),
    ]
    lake = Lake(tmp_path / "lake")
    for path in files:
        jobs.ingest_files(lake, [("orders", path)], Config())
    return lake


LATEST = [("O1", "shipped"), ("O2", "paid"), ("O3", "created"), ("O9", "created")]


def test_latest_of_three_arrivals_wins(tmp_path):
    lake = _three_arrivals(tmp_path)
    assert warehouse(lake, "SELECT order_id, status FROM orders ORDER BY order_id") == LATEST


def test_superseded_rows_table_resolves_like_the_view(tmp_path):
    """The computation drops the superseded rows listed once in a table; the warehouse view finds them itself."""
    lake = _three_arrivals(tmp_path)
    manifest = lake.manifest()
    con = duckdb.connect()
    superseded = con.execute(f"SELECT _key, _seq FROM ({superseded_sql(lake, manifest, KINDS['orders'])}) "
                             "ORDER BY _seq, _key").fetchall()
    assert [(key.split("|")[-1], seq) for key, seq in superseded] == [("O1", 1), ("O2", 1), ("O1", 2)]
    con.execute(f"CREATE TABLE superseded AS {superseded_sql(lake, manifest, KINDS['orders'])}")
    select = kind_sql(lake, manifest, KINDS["orders"], "superseded")
    assert "superseded AS s" in select
    assert con.execute(f"SELECT order_id, status FROM ({select}) ORDER BY order_id").fetchall() == LATEST
    assert superseded_sql(lake, manifest, KINDS["messages"]) is None


def test_every_version_of_a_key_lies_in_the_parts_sharing_keys():
    from pipeline.land.views import sharing_keys

    parts = [_entry(1, "O1", "O5"), _entry(2, "O6", "O9"), _entry(3, "O5", "O5"), _entry(4, "P1", "P2"),
             _entry(5, None, None, accepted=0), _entry(6, None, None)]
    manifest = Manifest(files=parts[:5])
    assert sharing_keys(manifest, "orders", {3}) == {1, 3}  # O5 may be in part 1, not in 2 or 4; 5 is empty
    assert sharing_keys(manifest, "orders", {4}) == {4}
    assert sharing_keys(manifest, "orders", {2, 4}) == {2, 4}
    assert sharing_keys(manifest, "messages", {3}) == set()
    assert sharing_keys(Manifest(files=parts), "orders", {4}) == {4, 6}  # a part without recorded keys: any key


def test_superseded_rows_are_read_from_the_parts_sharing_keys_only():
    manifest = Manifest(files=[_entry(1, "O1", "O5"), _entry(2, "O6", "O9"), _entry(3, "O5", "O5")])
    select = superseded_sql(Lake(Path("/lake")), manifest, KINDS["orders"])
    assert "000001.parquet" in select and "000003.parquet" in select and "000002.parquet" not in select
