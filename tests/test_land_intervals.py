"""Key covers (sorted, disjoint key intervals per part): merging, and which parts may share a key. Pruning with them
must stay exact: two parts that share a key are always compared."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.kinds import KINDS
from pipeline.land import ingest as ingest_module
from pipeline.land.ingest import parts_to_compare
from pipeline.land.intervals import coalesce, may_share_keys, meeting_an_earlier
from pipeline.land.lake import Lake
from pipeline.land.views import superseding_parts
from tests.conftest import warehouse
from tests.test_land_ingest import ingest, kind_csv, only, row

# Short strings of few letters, so that random intervals meet, touch and nest often.
keys = st.text(alphabet="abc", max_size=3)
intervals = st.lists(st.tuples(keys, keys).map(sorted), max_size=6)
covers = st.one_of(st.none(), intervals.map(coalesce))


def _meet_brute(a: list, b: list) -> bool:
    return any(a_low <= b_high and b_low <= a_high for a_low, a_high in a for b_low, b_high in b)


def test_coalesce_merges_overlapping_and_touching_intervals_only():
    assert coalesce([["b", "c"], ["a", "b"], ["d", "e"], ["d1", "d2"]]) == [["a", "c"], ["d", "e"]]
    assert coalesce([["a", "b"], ["b0", "c"]]) == [["a", "b"], ["b0", "c"]]  # apart: "b!" lies between
    assert coalesce([]) == []


def test_per_shop_ranges_meet_where_the_overall_ranges_do():
    # ids numbered per shop (70SSS…): week 2's shops lie between week 1's, yet meet none of them
    week1 = [["7000010001", "7000010005"], ["7000020001", "7000020005"]]
    week2 = [["7000010006", "7000010009"], ["7000020006", "7000020009"]]
    assert not may_share_keys(week1, week2)
    assert may_share_keys(week1, [["7000010003", "7000010003"]])  # a repeat of shop 1
    assert may_share_keys(week1, [["7000019999", "7000020001"]])  # another shop's range reaching into shop 2's


def test_unknown_and_empty_covers():
    assert may_share_keys(None, [["a", "b"]]) and may_share_keys(None, None)
    assert not may_share_keys(None, []) and not may_share_keys([], [["a", "b"]])
    assert meeting_an_earlier({1: [["a", "b"]], 2: None, 3: [["x", "y"]], 4: []}) == {2, 3}
    assert meeting_an_earlier({1: None, 2: [["a", "b"]]}) == {2}


@given(intervals, keys)
def test_coalesce_covers_the_same_keys(raw, key):
    merged = coalesce(raw)
    assert any(low <= key <= high for low, high in raw) == any(low <= key <= high for low, high in merged)
    assert all(merged[i][1] < merged[i + 1][0] for i in range(len(merged) - 1))  # sorted and disjoint


@given(intervals, intervals)
def test_the_sweep_finds_every_meeting_pair_of_intervals(a, b):
    assert may_share_keys(coalesce(a), coalesce(b)) == _meet_brute(a, b)


@given(st.lists(covers, max_size=6))
def test_the_one_sweep_over_all_parts_equals_comparing_each_pair(parts):
    by_seq = dict(enumerate(parts, start=1))
    expected = {q for q in by_seq if any(p < q and may_share_keys(by_seq[p], by_seq[q]) for p in by_seq)}
    assert meeting_an_earlier(by_seq) == expected


# --- landing and the lake views ------------------------------------------------------------------------------------

def _messages(path: Path, ids_by_shop: dict[str, list[str]]) -> Path:
    return kind_csv(path, "messages", [row("messages", message_id=m, shop_id=shop, content=f"{path.stem}-{m}")
                                       for shop, ids in ids_by_shop.items() for m in ids])


def _orders(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    return kind_csv(path, "orders", [row("orders", order_id=o, shop_id=shop, status=status) for o, shop, status in rows])


@pytest.fixture
def compared(monkeypatch) -> list[list[str]]:
    """The earlier parts each landing compared its keys with."""
    calls: list[list[str]] = []
    choose = ingest_module.parts_to_compare

    def spy(*args):
        calls.append(choose(*args))
        return calls[-1]

    monkeypatch.setattr(ingest_module, "parts_to_compare", spy)
    return calls


WEEK1 = {"S1": ["7000100001", "7000100005"], "S2": ["7000200001", "7000200003", "7000200005"]}
WEEK2 = {"S1": ["7000100006", "7000100009"], "S2": ["7000200006", "7000200009"]}  # each shop's ids grow


def test_a_file_meeting_no_earlier_shop_range_is_compared_with_nothing(tmp_path, compared):
    lake, _ = ingest(tmp_path / "lake", [("messages", _messages(tmp_path / "w1.csv", WEEK1))])
    _, results = ingest(tmp_path / "lake", [("messages", _messages(tmp_path / "w2.csv", WEEK2))])
    week1, week2 = lake.manifest().files
    assert week1.key_intervals == [["7000100001", "7000100005"], ["7000200001", "7000200005"]]
    assert week1.key_min < week2.key_max and week2.key_min < week1.key_max  # the overall ranges overlap
    assert compared == [[], []]
    assert parts_to_compare([week1], "messages", week2.key_intervals) == []
    assert only(results).accepted == 4

    # a repeat of week 1's shop S2 must still be compared with week 1, and found
    _, more = ingest(tmp_path / "lake", [("messages", _messages(tmp_path / "again.csv", {"S2": ["7000200003"]}))])
    assert compared[-1] == [week1.data]
    assert (only(more).accepted, only(more).duplicates) == (0, 1)


def test_the_same_id_in_another_shop_is_a_duplicate(tmp_path, compared):
    lake, _ = ingest(tmp_path / "lake", [("messages", _messages(tmp_path / "w1.csv", WEEK1))])
    # S3 sends S2's id 7000200003 (a duplicate: the key is the id alone), an id inside S2's range that S2 never
    # sent, and one of its own
    later = _messages(tmp_path / "s3.csv", {"S3": ["7000200003", "70002000035", "7000300001"]})
    _, results = ingest(tmp_path / "lake", [("messages", later)])
    assert compared[-1] == [lake.manifest().files[0].data]
    assert (only(results).read, only(results).accepted, only(results).duplicates) == (3, 2, 1)
    assert warehouse(lake, "SELECT shop_id FROM messages WHERE message_id = '7000200003'") == [("S2",)]

    # within one file: two shops sending one id keep the first line
    _, within = ingest(tmp_path / "lake", [("messages", _messages(tmp_path / "both.csv",
                                                                  {"S4": ["m1"], "S5": ["m1"]}))])
    assert (only(within).accepted, only(within).duplicates) == (1, 1)
    assert warehouse(lake, "SELECT shop_id FROM messages WHERE message_id = 'm1'") == [("S4",)]


def test_content_hashes_are_an_interval_apart_from_the_ids(tmp_path, compared):
    no_id = row("messages", message_id=None, shop_id="S1", content="在吗")
    first = kind_csv(tmp_path / "w1.csv", "messages", [row("messages", message_id="7000100001", shop_id="S1"), no_id])
    lake, _ = ingest(tmp_path / "lake", [("messages", first)])
    (part,) = lake.manifest().files
    assert [low[:2] for low, _ in part.key_intervals] == ["70", "h:"]
    # S2's ids lie between S1's ids and its hashes: not compared
    ingest(tmp_path / "lake", [("messages", _messages(tmp_path / "s2.csv", {"S2": ["7000200001"]}))])
    assert compared[-1] == []
    # the message without id sent again is compared with the first part, and found
    _, again = ingest(tmp_path / "lake", [("messages", kind_csv(tmp_path / "again.csv", "messages", [no_id]))])
    assert compared[-1] == [part.data]
    assert (only(again).accepted, only(again).duplicates) == (0, 1)


@pytest.mark.parametrize("recorded", ["key range only", "nothing"])
def test_parts_landed_before_intervals_were_recorded(tmp_path, compared, recorded):
    lake, _ = ingest(tmp_path / "lake", [("messages", _messages(tmp_path / "w1.csv", WEEK1))])
    manifest = json.loads((lake.root / "manifest.json").read_text())
    for entry in manifest["files"]:  # as an older version wrote it
        del entry["key_intervals"]
        if recorded == "nothing":
            del entry["key_min"], entry["key_max"]
    (lake.root / "manifest.json").write_text(json.dumps(manifest))
    (old,) = lake.manifest().files
    assert old.key_cover() == (None if recorded == "nothing" else [["7000100001", "7000200005"]])

    # WEEK2 lies within the old part's overall range: it is compared, and its repeat of S1's id found
    _, results = ingest(tmp_path / "lake", [("messages", _messages(tmp_path / "w2.csv", {
        **WEEK2, "S1": [*WEEK2["S1"], "7000100005"]}))])
    assert compared[-1] == [old.data]
    assert (only(results).accepted, only(results).duplicates) == (4, 1)
    assert warehouse(lake, "SELECT count(*), count(DISTINCT message_id) FROM messages") == [(9, 9)]


def test_orders_sent_again_later_resolve_to_the_latest(tmp_path):
    nights = [
        [("3000100001", "S1", "created"), ("3000100002", "S1", "created"), ("3000200001", "S2", "created"),
         ("3000200002", "S2", "created")],
        [("3000100003", "S1", "created"), ("3000200002", "S2", "paid")],           # S2's order paid
        [("3000100001", "S3", "shipped")],                                         # S1's id sent by another shop
        [("3000100009", "S1", "created"), ("3000200009", "S2", "created")],        # new orders only
    ]
    lake = Lake(tmp_path / "lake")
    for n, rows in enumerate(nights, start=1):
        ingest(tmp_path / "lake", [("orders", _orders(tmp_path / f"orders_{n}.csv", rows))])
    parts = [f.data for f in lake.manifest().files]
    # night 4's overall range meets every earlier one's, its shops' ranges meet none
    assert superseding_parts(lake.manifest(), KINDS["orders"]) == parts[1:3]
    assert warehouse(lake, "SELECT order_id, shop_id, status FROM orders ORDER BY order_id") == [
        ("3000100001", "S3", "shipped"), ("3000100002", "S1", "created"), ("3000100003", "S1", "created"),
        ("3000100009", "S1", "created"), ("3000200001", "S2", "created"), ("3000200002", "S2", "paid"),
        ("3000200009", "S2", "created")]


def test_orders_of_a_part_landed_before_intervals_were_recorded_are_resolved(tmp_path):
    ingest(tmp_path / "lake", [("orders", _orders(tmp_path / "o1.csv", [("3000100001", "S1", "created")]))])
    lake = Lake(tmp_path / "lake")
    manifest = json.loads((lake.root / "manifest.json").read_text())
    for entry in manifest["files"]:
        del entry["key_intervals"], entry["key_min"], entry["key_max"]
    (lake.root / "manifest.json").write_text(json.dumps(manifest))
    ingest(tmp_path / "lake", [("orders", _orders(tmp_path / "o2.csv", [("3000100001", "S1", "paid")]))])
    assert superseding_parts(lake.manifest(), KINDS["orders"]) == [lake.manifest().files[1].data]
    assert warehouse(lake, "SELECT status FROM orders") == [("paid",)]
