"""The eight core KPIs of SPEC §4 as the pipeline publishes them, compared row by row with an independent
recomputation from SPEC.md + README "Reference" (`tests/oracle.py`) over the lake's landed rows.

Inboxes: the shipped sample data, and small hand-made exports that hit the edge cases of §2 (the exact 30-minute gap,
same-second messages, bots, midnight / month / year ends, the next-day conversion window, late replies, exported
session ids) — in one run, and split over two nightly runs.
"""
from __future__ import annotations

import math
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from tests import oracle
from tests.conftest import MESSAGE_HEADER, msg, write_csv

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ("period_start", "value", "numerator", "denominator", "band", "provisional")
ORDER_HEADER = ["order_id", "shop_id", "customer_id", "created_at", "paid_at", "amount"]
RATING_HEADER = ["rating_id", "shop_id", "rated_at", "level", "session_id", "customer_id", "agent_id"]
COMPLAINT_HEADER = ["complaint_id", "shop_id", "created_at", "customer_id", "order_id", "category"]
REVIEW_HEADER = ["review_id", "shop_id", "created_at", "rating", "order_id", "customer_id"]
TARGET_HEADER = ["shop_id", "period", "target_sales"]


# ---------------------------------------------------------------------------------------------- running, comparing

def run(inbox: Path, lake: Path) -> None:
    result = CliRunner().invoke(main, ["run", str(inbox), "--lake", str(lake)])
    assert result.exit_code == 0, result.output


def published(lake: Path) -> dict[tuple, dict]:
    """The pipeline's rows of the eight core codes; with the default configuration every row is the wall clock
    (README: `clock = 'service'` rows exist only with a `[service_hours]` calendar)."""
    con = duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True)
    try:
        clocks = {c for (c,) in con.execute("SELECT DISTINCT clock FROM kpi").fetchall()}
        assert clocks <= {"wall"}, clocks
        rows = con.execute(
            "SELECT grain, period, shop_id, agent_id, kpi, " + ", ".join(FIELDS) +
            " FROM kpi WHERE clock = 'wall' AND kpi IN (SELECT unnest(?))", [list(oracle.CORE)]).fetchall()
    finally:
        con.close()
    out = {}
    for r in rows:
        assert r[:5] not in out, f"duplicate KPI row {r[:5]}"
        out[r[:5]] = dict(zip(FIELDS, r[5:]))
    return out


def same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def differences(expected: dict[tuple, dict], got: dict[tuple, dict]) -> list[str]:
    out = []
    for key in sorted(expected.keys() - got.keys(), key=repr):
        out.append(f"missing in pipeline: {key} oracle={expected[key]}")
    for key in sorted(got.keys() - expected.keys(), key=repr):
        out.append(f"not in oracle:       {key} pipeline={got[key]}")
    for key in sorted(expected.keys() & got.keys(), key=repr):
        bad = [f for f in FIELDS if not same(expected[key][f], got[key][f])]
        if bad:
            out.append(f"differs {key}: " + ", ".join(
                f"{f} oracle={expected[key][f]!r} pipeline={got[key][f]!r}" for f in bad))
    return out


def check(lake: Path, min_rows: int) -> int:
    expected, notes = oracle.compute(lake / "warehouse.duckdb")
    assert not notes, notes  # an ambiguous input (tied session starts) would make the comparison unfair
    got = published(lake)
    diffs = differences(expected, got)
    assert not diffs, f"{len(diffs)} of {len(expected)} oracle rows / {len(got)} published rows differ:\n" + \
        "\n".join(diffs[:12])
    assert len(expected) >= min_rows
    return len(expected)


# ---------------------------------------------------------------------------------------------- the sample data

def test_sample_data_matches_the_oracle(tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(ROOT / "sample_data", inbox)
    run(inbox, tmp_path / "lake")
    n = check(tmp_path / "lake", min_rows=1000)
    print(f"sample_data: {n} rows compared")


TWCS = ROOT.parent / "shared" / "realdata" / "twcs_head.csv"


@pytest.mark.skipif(not TWCS.exists(), reason="../shared/realdata is not available")
def test_real_twitter_threads_match_the_oracle(tmp_path):
    """Real timestamps (UTC offsets) and reply threads as exported sessions, read by the `twcs` profile."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(TWCS, inbox / "messages_twcs.csv")
    result = CliRunner().invoke(main, ["run", str(inbox), "--lake", str(tmp_path / "lake"), "--profile", "twcs"])
    assert result.exit_code == 0, result.output
    n = check(tmp_path / "lake", min_rows=1000)
    print(f"twcs: {n} rows compared")


# ---------------------------------------------------------------------------------------------- hand-made edges

def edge_messages() -> list[tuple]:
    m = []
    # A. the gap: exactly 30 min after the agent joins, 30 min + 1 s cuts (S1, customer "gap")
    m += [msg("A1", "gap", "customer", "2026-11-02 10:00:00", agent="a1"),
          msg("A2", "gap", "agent", "2026-11-02 10:00:20", agent="a1"),
          msg("A3", "gap", "customer", "2026-11-02 10:30:20"),
          msg("A4", "gap", "agent", "2026-11-02 10:30:50", agent="a1"),
          msg("A5", "gap", "customer", "2026-11-02 11:00:51"),
          msg("A6", "gap", "agent", "2026-11-02 11:01:01", agent="a2")]
    # B. same second: written agent, bot, customer with ids in the reverse order; customer < agent < bot
    m += [msg("B0", "tie", "bot", "2026-11-02 12:00:00"),
          msg("B1", "tie", "agent", "2026-11-02 12:00:00", agent="a1"),
          msg("B2", "tie", "customer", "2026-11-02 12:00:00")]
    # after 2 h of silence a customer and an agent message at the same second: the customer opens a new session
    # (customer before agent), so the agent message is not a late reply to the first one
    m += [msg("B3", "tie2", "customer", "2026-11-02 14:00:00", agent="a3"),
          msg("B4", "tie2", "agent", "2026-11-02 16:00:00", agent="a1"),
          msg("B5", "tie2", "customer", "2026-11-02 16:00:00")]
    # C. bots between customer and agent answer nothing and split no turn; a last unanswered turn
    m += [msg("C1", "botc", "customer", "2026-11-03 09:00:00"),
          msg("C2", "botc", "bot", "2026-11-03 09:00:02"),
          msg("C3", "botc", "agent", "2026-11-03 09:00:40", agent="a1"),
          msg("C4", "botc", "customer", "2026-11-03 09:10:00"),
          msg("C5", "botc", "bot", "2026-11-03 09:10:01"),
          msg("C6", "botc", "customer", "2026-11-03 09:10:30"),
          msg("C7", "botc", "agent", "2026-11-03 09:11:00", agent="a2"),
          msg("C8", "botc", "customer", "2026-11-03 09:20:00")]
    # D. a bot 40 min after the customer opens a session; the late agent reply stays in it (README)
    m += [msg("D1", "botlate", "customer", "2026-11-03 14:00:00", agent="a3"),
          msg("D2", "botlate", "bot", "2026-11-03 14:40:00"),
          msg("D3", "botlate", "agent", "2026-11-03 15:20:00", agent="a1")]
    # E. across midnight and the month end, with UTC offsets (23:50 local); turn 2 answered on Dec 1
    m += [msg("E1", "mid", "customer", "2026-11-30T15:50:00Z"),
          msg("E2", "mid", "agent", "2026-12-01 00:05:00", agent="a1"),
          msg("E3", "mid", "customer", "2026-11-30T16:20:00+00:00"),
          msg("E4", "mid", "agent", "2026-12-01 00:20:30", agent="a2")]
    # F. across the year end; ISO week 2026-W53 spans 2026-12-28 .. 2027-01-03
    m += [msg("F1", "ye", "customer", "2026-12-31 23:59:00"),
          msg("F2", "ye", "agent", "2027-01-01 00:00:10", agent="a1"),
          msg("F3", "ye2", "customer", "2027-01-01 10:00:00"),
          msg("F4", "ye2", "agent", "2027-01-01 10:00:05", agent="a1"),
          msg("F5", "ye3", "customer", "2027-01-04 10:00:00"),
          msg("F6", "ye3", "agent", "2027-01-04 10:00:09", agent="a2")]
    # G. conversion
    m += [msg("G1", "cv1", "customer", "2026-11-10 10:00:00"),
          msg("G2", "cv1", "agent", "2026-11-10 10:00:05", agent="a1"),
          msg("G3", "cv2", "customer", "2026-11-10 11:00:00"),
          msg("G4", "cv2", "agent", "2026-11-10 11:00:05", agent="a1"),
          msg("G5", "cv3", "customer", "2026-11-10 10:00:00"),
          msg("G6", "cv3", "agent", "2026-11-10 10:00:10", agent="a1"),
          msg("G7", "cv3", "agent", "2026-11-10 15:00:00", agent="a2"),  # 催付: an agent-opened session
          msg("G8", "cv3", "customer", "2026-11-10 15:05:00"),
          msg("G9", "cv4", "customer", "2026-11-10 10:00:00"),
          msg("GA", "cv4", "agent", "2026-11-10 10:00:15", agent="a2"),
          msg("GB", "cv4", "customer", "2026-11-13 10:00:00"),
          msg("GC", "cv4", "agent", "2026-11-13 10:00:15", agent="a2"),
          msg("GD", "cv5", "customer", "2026-11-10 10:00:00"),
          msg("GE", "cv5", "agent", "2026-11-10 10:00:25", agent="a1")]
    # H. late replies
    m += [msg("H1", "lr1", "customer", "2026-11-15 10:00:00"),
          msg("H2", "lr1", "agent", "2026-11-15 14:00:00", agent="a1"),
          msg("H3", "lr2", "customer", "2026-11-15 10:00:00"),
          msg("H4", "lr2", "agent", "2026-11-16 10:00:00", agent="a1"),
          msg("H5", "lr3", "customer", "2026-11-15 10:00:00"),
          msg("H6", "lr3", "agent", "2026-11-16 10:00:01", agent="a1"),
          msg("H7", "lr4", "customer", "2026-11-15 10:00:00"), msg("H8", "lr4", "customer", "2026-11-15 10:50:00"),
          msg("H9", "lr4", "agent", "2026-11-15 11:30:00", agent="a2"),
          msg("HA", "lr5", "customer", "2026-11-15 10:00:00"),
          msg("HB", "lr5", "agent", "2026-11-15 10:01:00", agent="a1"),
          msg("HC", "lr5", "agent", "2026-11-15 11:00:00", agent="a1"),
          msg("HD", "lr6", "customer", "2026-11-15 10:00:00"), msg("HE", "lr6", "system", "2026-11-15 10:25:00"),
          msg("HF", "lr6", "customer", "2026-11-15 10:50:00"),
          msg("HG", "lr6", "agent", "2026-11-15 10:51:00", agent="a1")]
    # I. whose session: a first agent message without agent_id; a routed, unanswered customer; several agents
    m += [msg("I1", "ag1", "customer", "2026-11-16 10:00:00", agent="a9"),
          msg("I2", "ag1", "agent", "2026-11-16 10:00:30"),
          msg("I3", "ag1", "customer", "2026-11-16 10:00:40"),
          msg("I4", "ag1", "agent", "2026-11-16 10:01:00", agent="a1"),
          msg("I5", "ag2", "customer", "2026-11-16 11:00:00", agent="a4"),
          msg("I6", "ag3", "customer", "2026-11-16 12:00:00", agent="a4"),
          msg("I7", "ag3", "agent", "2026-11-16 12:00:20", agent="a5"),
          msg("I8", "ag3", "customer", "2026-11-16 12:01:00"),
          msg("I9", "ag3", "agent", "2026-11-16 12:02:00", agent="a6")]
    # J. fractional seconds, and messages without message_id at one time (file order decides)
    m += [msg("J1", "fr", "customer", "2026-11-17 10:00:00.250"),
          msg("J2", "fr", "agent", "2026-11-17 10:00:10.750", agent="a1"),
          msg(None, "nid", "customer", "2026-11-17 11:00:00", content="q1"),
          msg(None, "nid", "customer", "2026-11-17 11:00:00", content="q2"),
          msg(None, "nid", "agent", "2026-11-17 11:00:30", agent="a2", content="r")]
    # K. exported session ids (shop S2): no gap cut inside one; several customers; interleaved sessions
    s2 = dict(shop="S2")
    m += [msg("K1", "k1", "customer", "2026-11-05 10:00:00", session="X1", **s2),
          msg("K2", "k1", "agent", "2026-11-05 11:30:00", agent="a1", session="X1", **s2),
          msg("K3", "k3", "customer", "2026-11-05 10:00:00", session="X2", **s2),
          msg("K4", "k2", "agent", "2026-11-05 10:01:00", agent="a2", session="X2", **s2),
          msg("K5", "k2", "customer", "2026-11-05 10:05:00", session="X2", **s2),
          msg("K6", "k4", "agent", "2026-11-05 09:00:00", agent="a1", session="X3", **s2),
          msg("K7", "k4", "customer", "2026-11-05 09:05:00", session="X3", **s2),
          msg("K8", "k5", "customer", "2026-11-05 10:00:00", session="X4", **s2),
          msg("K9", "k5", "customer", "2026-11-05 10:10:00", session="X5", **s2),
          msg("KA", "k5", "agent", "2026-11-05 10:15:00", agent="a2", session="X5", **s2),
          msg("KB", "k5", "agent", "2026-11-05 10:20:00", agent="a1", session="X4", **s2),
          msg("KC", "k6", "system", "2026-11-05 23:55:00", session="X6", **s2),
          msg("KD", "k6", "customer", "2026-11-06 00:10:00", session="X6", **s2),
          msg("KE", "k6", "agent", "2026-11-06 00:10:05", agent="a3", session="X6", **s2),
          msg("KF", "k7", "customer", "2026-11-06 10:00:00", session="X7", **s2),
          msg("KG", "k7", "bot", "2026-11-06 10:00:01", session="X7", **s2)]
    # M. more of §2.2: a bot's time counts for the gap; a late reply after a system message and after two waiting
    # customer messages; a session opened by a bot greeting just before midnight (its start day is the bot's)
    m += [msg("N1", "botgap", "customer", "2026-11-18 10:00:00"),
          msg("N2", "botgap", "bot", "2026-11-18 10:25:00"),
          msg("N3", "botgap", "customer", "2026-11-18 10:55:00"),
          msg("N4", "botgap", "agent", "2026-11-18 10:56:00", agent="a1"),
          msg("N5", "lr7", "customer", "2026-11-18 10:00:00"),
          msg("N6", "lr7", "system", "2026-11-18 10:40:00"),
          msg("N7", "lr7", "agent", "2026-11-18 11:00:00", agent="a2"),
          msg("N8", "lr8", "customer", "2026-11-18 10:00:00"),
          msg("N9", "lr8", "customer", "2026-11-18 10:20:00"),
          msg("NA", "lr8", "agent", "2026-11-18 12:00:00", agent="a2"),
          msg("NB", "lr8", "agent", "2026-11-18 12:20:00", agent="a1"),
          msg("NC", "lr8", "customer", "2026-11-18 12:49:59"),
          msg("ND", "lr8", "agent", "2026-11-19 12:49:59", agent="a1"),
          msg("NE", "bf", "bot", "2026-11-17 23:59:50"),
          msg("NF", "bf", "customer", "2026-11-18 00:00:10"),
          msg("NG", "bf", "agent", "2026-11-18 00:00:20", agent="a1")]
    # exported sessions: a later turn two days on stays in the session's day; one id in two shops
    m += [msg("KH", "k1", "customer", "2026-11-07 09:00:00", session="X1", shop="S2"),
          msg("KI", "k1", "agent", "2026-11-07 09:01:00", agent="a2", session="X1", shop="S2"),
          msg("KJ", "k9", "customer", "2026-11-05 10:00:00", session="X1", shop="S3"),
          msg("KK", "k9", "agent", "2026-11-05 10:00:07", agent="b1", session="X1", shop="S3")]
    # L. band edges (shop S3): FRT exactly 10 s and PT exactly 20 s on one day; reply rate exactly 95 % on another
    s3 = dict(shop="S3")
    m += [msg("L1", "e1", "customer", "2026-11-20 10:00:00", **s3),
          msg("L2", "e1", "agent", "2026-11-20 10:00:10", agent="b1", **s3),
          msg("L3", "e1", "customer", "2026-11-20 10:01:00", **s3),
          msg("L4", "e1", "agent", "2026-11-20 10:01:30", agent="b1", **s3),
          msg("L5", "e2", "customer", "2026-11-21 10:00:00", **s3),
          msg("L6", "e2", "agent", "2026-11-21 10:00:30", agent="b1", **s3)]
    for i in range(20):
        m.append(msg(f"M{i:02d}c", f"r{i:02d}", "customer", f"2026-11-23 10:{i:02d}:00", agent="b2", **s3))
        if i:
            m.append(msg(f"M{i:02d}a", f"r{i:02d}", "agent", f"2026-11-23 10:{i:02d}:05", agent="b2", **s3))
    return m


def edge_orders() -> list[tuple]:
    return [
        ("o_mid", "S1", "mid", "2026-12-01 10:00:00", "2026-12-01 23:59:59", "100"),       # next day, last second
        ("o_cv1a", "S1", "cv1", "2026-11-10 10:20:00", "2026-11-11 23:59:59", "50.5"),
        ("o_cv1b", "S1", "cv1", "2026-11-10 10:20:00", "2026-11-10 10:30:00", "0.1"),      # same session again
        ("o_cv2", "S1", "cv2", "2026-11-10 11:20:00", "2026-11-12 00:00:00", "0.2"),       # one second late
        ("o_cv3", "S1", "cv3", "2026-11-10 15:30:00", "2026-11-10 16:00:00", "30"),        # past the 催付 session
        ("o_cv4a", "S1", "cv4", "2026-11-11 09:00:00", "2026-11-12 09:00:00", "40"),       # latest inquiry expired
        ("o_cv4b", "S1", "cv4", "2026-11-13 09:00:00", "2026-11-13 10:00:00", "60"),       # paid at the start
        ("o_cv5", "S1", "cv5", "2026-11-10 09:00:00", "2026-11-10 09:59:59", "70"),        # before the session
        ("o_unpaid", "S1", "cv5", "2026-11-10 11:00:00", None, "80"),
        ("o_noamount", "S1", "lr1", "2026-11-15 15:00:00", "2026-11-15 15:10:00", None),
        ("o_ye", "S1", "ye", "2026-12-31 23:59:30", "2027-01-01 00:01:00", "10"),
        ("o_ye3", "S1", "ye3", "2027-01-04 10:01:00", "2027-01-05 08:00:00", "10"),
        ("o_k2", "S2", "k2", "2026-11-05 11:00:00", "2026-11-05 12:00:00", "20"),
        ("o_k3", "S2", "k3", "2026-11-05 11:00:00", "2026-11-05 12:00:00", "20"),
        ("o_k5", "S2", "k5", "2026-11-05 10:25:00", "2026-11-05 10:30:00", "20"),
        ("o_k4", "S2", "k4", "2026-11-05 09:10:00", "2026-11-05 09:20:00", "20"),          # agent-opened only
        ("o_e1", "S3", "e1", "2026-11-20 11:00:00", "2026-11-21 12:00:00", "5"),
        ("o_bf", "S1", "bf", "2026-11-18 00:01:00", "2026-11-19 12:00:00", "1"),          # window of the bot's day
        ("o_lr8", "S1", "lr8", "2026-11-18 12:30:00", "2026-11-19 23:00:00", "1"),
        ("o_k9", "S3", "k1", "2026-11-05 10:30:00", "2026-11-05 10:31:00", "1"),          # k1 has no S3 session
        ("o_s1", "S1", "k9", "2026-11-05 10:30:00", "2026-11-05 10:31:00", "1"),          # k9 has no S1 session
    ]


def edge_other_kinds() -> dict[str, tuple[list[str], list[tuple]]]:
    return {
        "ratings": (RATING_HEADER, [
            ("r1", "S1", "2026-11-02 10:40:00", "5", None, "gap", "a1"),
            ("r2", "S1", "2026-11-02 18:00:00", "4", None, "tie", "a1"),
            ("r3", "S1", "2026-11-03 09:30:00", "3", None, "botc", "a2"),
            ("r4", "S1", "2026-11-30 23:59:59", "2", None, "mid", None),
            ("r5", "S1", "2026-12-01 00:00:00", "5", None, "mid", "a2"),
            ("r6", "S2", "2026-11-05 12:00:00", "1", "X1", "k1", "a1")]),
        "complaints": (COMPLAINT_HEADER, [
            ("c1", "S1", "2026-11-02 13:00:00", "tie", None, "service"),   # a day with no paid orders
            ("c2", "S1", "2026-11-10 17:00:00", "cv3", "o_cv3", "product"),
            ("c3", "S2", "2026-11-05 13:00:00", "k2", "o_k2", "service"),
            ("c9", "S9", "2026-11-03 10:00:00", None, None, None)]),             # a shop without orders
        "reviews": (REVIEW_HEADER, [
            ("v1", "S1", "2026-11-11 10:00:00", "1", "o_cv1b", "cv1"),
            ("v2", "S1", "2026-11-11 11:00:00", "2", "o_cv1a", "cv1"),
            ("v3", "S1", "2026-11-12 10:00:00", "3", "o_cv2", "cv2"),
            ("v4", "S1", "2027-01-02 10:00:00", "5", "o_ye", "ye")]),
        "targets": (TARGET_HEADER, [
            ("S1", "2026-11", "300"), ("S1", "2026-W46", "100"), ("S1", "2026-11-10", "80"),
            ("S1", "2026-Q4", "400"), ("S1", "2026", "500"), ("S1", "2026-12", "0"), ("S1", "2026-10", "50"),
            ("S1", "2026-W53", "10"), ("S2", "2026-11", "60"), ("S3", "2026-11-21", "5"),
            ("S9", "2026-11", "100")]),                                               # a shop without sales
    }


def write_inbox(inbox: Path, keep=lambda kind, row: True) -> None:
    write_csv(inbox / "messages_edge.csv", MESSAGE_HEADER, [r for r in edge_messages() if keep("messages", r)])
    write_csv(inbox / "orders_edge.csv", ORDER_HEADER, [r for r in edge_orders() if keep("orders", r)])
    for kind, (header, rows) in edge_other_kinds().items():
        write_csv(inbox / f"{kind}_edge.csv", header, [r for r in rows if keep(kind, r)])


def test_edge_cases_match_the_oracle(tmp_path):
    write_inbox(tmp_path / "inbox")
    run(tmp_path / "inbox", tmp_path / "lake")
    n = check(tmp_path / "lake", min_rows=300)
    print(f"edge inbox: {n} rows compared")


def test_edge_cases_over_two_nights_match_the_oracle(tmp_path):
    """The same rows as two nightly runs: everything before 2026-11-15 12:00 first (the late replies of H and the
    sessions of I..L arrive the next night), then the rest; an order is re-sent paid on the second night."""
    cut = "2026-11-15 12:00:00"
    time_col = {"messages": 6, "orders": 3, "ratings": 2, "complaints": 2, "reviews": 2}

    def night1(kind, row):
        return kind != "targets" and row[time_col[kind]].replace("T", " ")[:19] < cut

    write_inbox(tmp_path / "n1", night1)
    # the first night sees o_cv1a unpaid; the second re-sends it paid
    write_csv(tmp_path / "n1" / "orders_edge.csv", ORDER_HEADER,
              [(*r[:4], None, r[5]) if r[0] == "o_cv1a" else r for r in edge_orders() if night1("orders", r)])
    write_inbox(tmp_path / "n2", lambda kind, row: not night1(kind, row) or (kind, row[0]) == ("orders", "o_cv1a"))
    run(tmp_path / "n1", tmp_path / "lake")
    run(tmp_path / "n2", tmp_path / "lake")
    n = check(tmp_path / "lake", min_rows=300)
    print(f"edge inbox, two nights: {n} rows compared")


def test_kinds_never_ingested_and_an_empty_complaints_file(tmp_path):
    """Messages and orders with a header-only complaints file (complaint rate 0 %, README), no ratings, reviews or
    targets (no such rows); and a second shop's lake with messages alone (no conversion rate)."""
    inbox = tmp_path / "inbox"
    write_csv(inbox / "messages_edge.csv", MESSAGE_HEADER, edge_messages())
    write_csv(inbox / "orders_edge.csv", ORDER_HEADER, edge_orders())
    write_csv(inbox / "complaints_empty.csv", COMPLAINT_HEADER, [])
    # the latest time seen is a system message's, at the very end of 2027-01-04's window: that day is final
    write_csv(inbox / "messages_system.csv", MESSAGE_HEADER, [msg("Z1", "ye3", "system", "2027-01-06 00:00:00")])
    run(inbox, tmp_path / "lake")
    n = check(tmp_path / "lake", min_rows=200)
    kpis = {k[4] for k in published(tmp_path / "lake")}
    assert kpis == {"frt_seconds", "avg_response_seconds", "reply_rate", "inquiry_conversion_rate", "complaint_rate"}

    only = tmp_path / "only"
    write_csv(only / "messages_edge.csv", MESSAGE_HEADER, edge_messages())
    run(only, tmp_path / "lake2")
    m = check(tmp_path / "lake2", min_rows=100)
    assert {k[4] for k in published(tmp_path / "lake2")} == {"frt_seconds", "avg_response_seconds", "reply_rate"}
    print(f"partial kinds: {n} and {m} rows compared")


def band_edge_inbox(inbox: Path) -> None:
    """Shop S4: every core KPI exactly on a band edge on some day (SPEC §5: values compared unrounded)."""
    messages, orders, ratings, complaints, targets = [], [], [], [], []
    # day → (answered of 20, converted of 20, FRT of each answered session = response of its one turn)
    plan = {"2026-11-23": (17, 7, 20), "2026-11-24": (18, 6, 30), "2026-11-25": (19, 8, 10)}
    for day, (answered, converted, frt) in plan.items():
        for i in range(20):
            c = f"c{day[-2:]}_{i:02d}"
            messages.append(msg(f"{c}q", c, "customer", f"{day} 10:{i:02d}:00", agent="d1", shop="S4"))
            if i < answered:
                messages.append(msg(f"{c}a", c, "agent", f"{day} 10:{i:02d}:{frt:02d}", agent="d1", shop="S4"))
            if i < converted:
                orders.append((f"o{c}", "S4", c, f"{day} 11:00:00", f"{day} 11:00:00", "1"))
    # satisfaction 95 / 90 / 85 / 80 %
    for day, good in {"2026-11-23": 19, "2026-11-24": 18, "2026-11-25": 17, "2026-11-26": 16}.items():
        for i in range(20):
            ratings.append((f"r{day}{i}", "S4", f"{day} 12:00:00", "5" if i < good else "3", None, None, "d1"))
    # complaint rate 0.03 (AAAA, not AAAAA) / 0.05 (AAAA) / 0.1 (AAA) / 0.1 + ε (below)
    for day, (paid, n) in {"2026-11-13": (10000, 3), "2026-11-14": (2000, 1), "2026-11-15": (1000, 1),
                           "2026-11-16": (999, 1)}.items():
        orders += [(f"p{day}_{i}", "S4", f"p{i}", f"{day} 08:00:00", f"{day} 09:00:00", None) for i in range(paid)]
        complaints += [(f"x{day}_{i}", "S4", f"{day} 13:00:00", None, None, "product") for i in range(n)]
    # target achievement exactly 95 % (¥9.50 of ¥10), 90 %, 85 %; a target without sales is 0 % (below)
    orders += [("t20", "S4", "buyer", "2026-11-20 08:00:00", "2026-11-20 09:00:00", "9.50"),
               ("t21", "S4", "buyer", "2026-11-21 08:00:00", "2026-11-21 09:00:00", "9"),
               ("t22", "S4", "buyer", "2026-11-22 08:00:00", "2026-11-22 09:00:00", "8.5")]
    targets += [("S4", "2026-11-20", "10"), ("S4", "2026-11-21", "10"), ("S4", "2026-11-22", "10"),
                ("S4", "2026-11-29", "100")]
    write_csv(inbox / "messages_S4.csv", MESSAGE_HEADER, messages)
    write_csv(inbox / "orders_S4.csv", ORDER_HEADER, orders)
    write_csv(inbox / "ratings_S4.csv", RATING_HEADER, ratings)
    write_csv(inbox / "complaints_S4.csv", COMPLAINT_HEADER, complaints)
    write_csv(inbox / "targets_S4.csv", TARGET_HEADER, targets)


def test_band_edges_match_the_oracle(tmp_path):
    band_edge_inbox(tmp_path / "inbox")
    run(tmp_path / "inbox", tmp_path / "lake")
    n = check(tmp_path / "lake", min_rows=80)
    print(f"band edges: {n} rows compared")


def kpi_rows(lake: Path, kpi: str, shop: str) -> dict[str, tuple]:
    """period → (value, numerator, band) of a shop's day rows of one KPI."""
    con = duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True)
    try:
        return {p: tuple(rest) for p, *rest in con.execute(
            "SELECT period, value, numerator, band FROM kpi WHERE grain = 'day' AND kpi = ? AND shop_id = ? "
            "AND agent_id IS NULL", [kpi, shop]).fetchall()}
    finally:
        con.close()


def test_target_achievement_on_a_band_edge_with_decimal_yuan(tmp_path):
    """17 orders of ¥10.10 are ¥171.70, exactly 85 % of a ¥202.00 target (AAA); ¥0.60 + ¥0.10 + ¥0.20 is exactly
    90 % of ¥1 (AAAA). Summed as binary fractions they were 84.99999999999999 % and 89.99999999999999 %, banded
    one grade lower."""
    inbox = tmp_path / "inbox"
    orders = [(f"t27_{i}", "S5", "buyer", "2026-11-27 08:00:00", "2026-11-27 09:00:00", "10.10") for i in range(17)]
    orders += [(f"t28_{i}", "S5", "buyer", "2026-11-28 08:00:00", "2026-11-28 09:00:00", a)
               for i, a in enumerate(["0.60", "0.10", "0.20"])]
    write_csv(inbox / "orders_S5.csv", ORDER_HEADER, orders)
    write_csv(inbox / "targets_S5.csv", TARGET_HEADER, [("S5", "2026-11-27", "202.00"), ("S5", "2026-11-28", "1")])
    run(inbox, tmp_path / "lake")
    check(tmp_path / "lake", min_rows=2)
    rows = kpi_rows(tmp_path / "lake", "target_achievement_rate", "S5")
    assert rows == {"2026-11-27": (85.0, 171.7, "AAA"), "2026-11-28": (90.0, 0.9, "AAAA")}


def test_an_average_of_fractional_seconds_on_a_band_edge(tmp_path):
    """First responses of 9.3 s, 9.9 s and 10.8 s average exactly 10 s: AAAAA (<= 10). Their DOUBLE sum is
    30.000000000000004, an average of 10.000000000000002, which banded AAAA."""
    messages = []
    for i, frt in enumerate(("09.300", "09.900", "10.800")):
        c = f"f{i}"
        messages.append(msg(f"{c}q", c, "customer", f"2026-11-23 10:0{i}:00", agent="d1", shop="S6"))
        messages.append(msg(f"{c}a", c, "agent", f"2026-11-23 10:0{i}:{frt}", agent="d1", shop="S6"))
    write_csv(tmp_path / "inbox" / "messages_S6.csv", MESSAGE_HEADER, messages)
    run(tmp_path / "inbox", tmp_path / "lake")
    check(tmp_path / "lake", min_rows=5)
    (value, numerator, band), = kpi_rows(tmp_path / "lake", "frt_seconds", "S6").values()
    assert (value, band) == (pytest.approx(10.0, abs=1e-12), "AAAAA")
    assert numerator == pytest.approx(30.0, abs=1e-12)


def test_a_second_night_that_changes_earlier_sessions_and_orders(tmp_path):
    """Night 1 is the whole edge inbox; night 2 changes what night 1 derived: a message bridging two sessions, one
    before a conversation's first session, a late reply to a session of night 1, a late reply that now answers an
    earlier session, a smaller customer joining an exported session, re-sent orders whose payment moved, a duplicate
    message, ratings, complaints and reviews of old days, and a later latest-time-seen."""
    write_inbox(tmp_path / "n1")
    run(tmp_path / "n1", tmp_path / "lake")
    n2 = tmp_path / "n2"
    write_csv(n2 / "messages_night2.csv", MESSAGE_HEADER, [
        msg("A1", "gap", "customer", "2026-11-02 10:00:00", agent="a1"),          # a duplicate of night 1
        msg("P1", "gap", "customer", "2026-11-02 10:45:00"),                       # bridges gap#1 and gap#2
        msg("P2", "cv1", "customer", "2026-11-09 09:00:00"),                       # before the first session
        msg("P3", "ag2", "agent", "2026-11-16 20:00:00", agent="a7"),              # late reply, 9 h
        msg("P4", "lr3", "agent", "2026-11-15 18:00:00", agent="a2"),              # answers lr3#1 after all
        msg("P5", "k0", "customer", "2026-11-05 10:02:00", session="X2", shop="S2"),
        msg("P6", "late", "customer", "2027-01-10 09:00:00"),
        msg("P7", "late", "agent", "2027-01-10 09:00:12", agent="a1")])
    write_csv(n2 / "orders_night2.csv", ORDER_HEADER, [
        ("o_cv4a", "S1", "cv4", "2026-11-11 09:00:00", "2026-11-11 09:00:00", "40"),   # now within the window
        ("o_mid", "S1", "mid", "2026-12-01 10:00:00", "2026-12-02 00:00:00", "100"),   # now a second too late
        ("o_k0", "S2", "k0", "2026-11-05 10:40:00", "2026-11-06 10:00:00", "5"),
        ("o_late", "S1", "late", "2027-01-10 09:01:00", "2027-01-10 09:02:00", "5")])
    write_csv(n2 / "ratings_night2.csv", RATING_HEADER, [("r7", "S1", "2026-11-02 19:00:00", "1", None, None, "a2")])
    # the latest time seen is now this complaint's resolved_at: 2027-01-10's window (to 01-12 00:00) is closed
    write_csv(n2 / "complaints_night2.csv", COMPLAINT_HEADER + ["responded_at", "resolved_at"], [
        ("c4", "S1", "2026-11-11 08:00:00", None, None, "service", "2027-01-11 09:00:00", "2027-01-12 10:00:00")])
    write_csv(n2 / "reviews_night2.csv", REVIEW_HEADER, [("v5", "S1", "2026-11-11 12:00:00", "4", None, None)])
    run(n2, tmp_path / "lake")
    n = check(tmp_path / "lake", min_rows=300)
    print(f"second night: {n} rows compared")
