"""Every KPI row the pipeline publishes (the eight core KPIs of SPEC §4, the Table A.2 measures and the 24-hour
complaint rule, the FRT buckets and the response-time percentiles of README "Reference"), compared row by row with
an independent recomputation from SPEC.md + README "Reference" (`tests/oracle.py`) over the lake's landed rows.

Inboxes: the shipped sample data, and small hand-made exports that hit the edge cases of §2 (the exact 30-minute gap,
same-second messages, bots, midnight / month / year ends, the next-day conversion window, late replies, exported
session ids) and of the new measures (complaints answered exactly 24 h after and 24 h + 1 s, agreed times, refunds
crossing midnight, disputes with and without the platform, bot audits at exactly 90 %, feedback handled or not, FRTs
on the bucket edges, percentiles of odd and even counts with ties) — in one run, split over two nightly runs, and
with a second night that re-sends records; and runs with a `[service_hours]` calendar and an `unanswered_turn_cap`
given by `--config`, whose `clock = 'service'` rows are compared too.
"""
from __future__ import annotations

import datetime as dt
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
DISTRIBUTIONS = {*oracle.PERCENTILES, *(code for code, _ in oracle.FRT_BUCKETS)}


# ---------------------------------------------------------------------------------------------- running, comparing

def run(inbox: Path, lake: Path) -> None:
    result = CliRunner().invoke(main, ["run", str(inbox), "--lake", str(lake)])
    assert result.exit_code == 0, result.output


def published(lake: Path, clocks: set[str] = frozenset({"wall"})) -> dict[tuple, dict]:
    """Every row the pipeline publishes, keyed (grain, period, shop_id, agent_id, kpi, clock); with the default
    configuration every row is the wall clock (README: `clock = 'service'` rows exist only with a `[service_hours]`
    calendar). Every published code must be one the oracle knows."""
    con = duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True)
    try:
        seen = {c for (c,) in con.execute("SELECT DISTINCT clock FROM kpi").fetchall()}
        assert seen <= set(clocks), seen
        rows = con.execute(
            "SELECT grain, period, shop_id, agent_id, kpi, clock, " + ", ".join(FIELDS) + " FROM kpi").fetchall()
    finally:
        con.close()
    out = {}
    for r in rows:
        assert r[4] in oracle.ALL_CODES, f"a code the oracle does not know: {r[4]}"
        assert r[:6] not in out, f"duplicate KPI row {r[:6]}"
        out[r[:6]] = dict(zip(FIELDS, r[6:]))
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


def check(lake: Path, min_rows: int, service_hours: dict | None = None, cap: dt.timedelta | None = None) -> int:
    expected, notes = oracle.compute(lake / "warehouse.duckdb", service_hours, cap)
    assert not notes, notes  # an ambiguous input (tied session starts) would make the comparison unfair
    got = published(lake, {"wall", "service"} if service_hours is not None else {"wall"})
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


REFUND_HEADER = ["refund_id", "shop_id", "requested_at", "completed_at", "order_id", "customer_id", "reason",
                 "outcome"]
DISPUTE_HEADER = ["dispute_id", "shop_id", "opened_at", "closed_at", "platform_involved", "order_id", "customer_id"]
FEEDBACK_HEADER = ["feedback_id", "shop_id", "received_at", "handled_at", "handled", "category", "customer_id"]
BOT_HEADER = ["answer_id", "shop_id", "answered_at", "intent_correct", "answer_correct", "session_id",
              "customer_id", "question"]
COMPLAINT_A2_HEADER = COMPLAINT_HEADER + ["responded_at", "resolved_at", "agreed_at"]


def edge_table_a2() -> dict[str, tuple[list[str], list[tuple]]]:
    """README "Table A.2": refunds, disputes, feedback, audited bot replies and service complaints with the 24-hour
    rule, on the edges the README names. Every time is at or before 2027-01-05 08:00 (the edge inbox's latest time
    seen, o_ye3's payment), so that the provisional flags of the core inbox stay as they were."""
    refunds = [
        ("f1", "S1", "2026-11-02 23:00:00", "2026-11-03 01:30:00", None, "gap", "七天无理由", "退款成功"),  # midnight
        ("f2", "S1", "2026-11-30 22:00:00", "2026-12-01 00:00:00", "o_mid", "mid", "quality", "success"),  # month
        ("f3", "S1", "2026-11-05 10:00:00", None, None, "cv1", "usage", None),                   # open: no period
        ("f4", "S1", "2026-11-10 10:00:00", "2026-11-10 10:00:00", None, "cv1", "other", "closed"),  # 0 h
        ("f5", "S1", "2026-11-01 10:00:00", "2026-11-10 10:00:01", None, "cv2", "质量问题", "rejected"),  # any outcome
        ("f6", "S1", "2026-12-31 20:00:00", "2027-01-01 08:00:00", "o_ye", "ye", "换货", None),   # year end
        ("f7", "S8", "2026-11-19 09:15:00", "2026-11-20 09:00:00", None, None, None, None),       # A.2-only shop
    ]
    disputes = [
        ("d1", "S1", "2026-11-02 09:00:00", "2026-11-03 09:00:00", "yes", None, "gap"),
        ("d2", "S1", "2026-11-02 23:59:59", None, "no", None, "tie"),
        ("d3", "S1", "2026-11-03 00:00:00", None, None, None, "botc"),        # empty: not involved
        ("d4", "S1", "2026-11-10 12:00:00", "2026-11-11 12:00:00", "是", "o_cv1a", "cv1"),
        ("d5", "S2", "2026-11-05 15:00:00", None, "已介入", "o_k2", "k2"),
        ("d6", "S8", "2026-11-20 10:00:00", None, "false", None, None),
        ("d7", "S10", "2026-11-21 10:00:00", None, "TRUE", None, None),      # a shop with disputes only
        ("d8", "S1", "2027-01-03 23:00:00", "2027-01-04 10:00:00", "未介入", None, "ye"),
    ]
    feedback = [
        ("b1", "S1", "2026-11-02 10:00:00", None, "true", "物流", "gap"),      # handled flag alone
        ("b2", "S1", "2026-11-02 11:00:00", "2026-11-02 12:00:00", None, None, "tie"),  # handled_at alone
        ("b3", "S1", "2026-11-02 12:00:00", None, None, None, "tie2"),         # neither: not handled
        ("b4", "S1", "2026-11-06 10:00:00", "2026-11-06 11:00:00", "false", None, "k1"),  # the flag wins
        ("b5", "S1", "2026-11-04 10:00:00", None, "已处理", None, "cv1"),
        ("b6", "S1", "2026-11-30 23:59:59", "2026-12-01 00:10:00", None, None, "mid"),
        ("b7", "S8", "2026-11-20 08:00:00", None, "未处理", None, None),
        ("b8", "S8", "2026-11-20 09:00:00", None, "Y", None, None),
    ]
    bots = []
    for i in range(10):  # 11-03: intent 9/10 (exactly 90: pass), answer 10/10, both 9/10
        bots.append((f"ba{i}", "S1", f"2026-11-03 1{i}:00:00", "no" if i == 0 else "yes", "1", None, "botc", "q"))
    for i in range(10):  # 11-04: intent 10/10, answer 8/10: both 80 (fail); Chinese flags
        bots.append((f"bb{i}", "S1", f"2026-11-04 1{i}:00:00", "对", "错误" if i < 2 else "正确", None, None, "q"))
    bots += [(None, "S1", "2026-11-05 10:00:00", "0", "0", None, None, "same"),   # no answer_id: one record
             (None, "S1", "2026-11-05 10:00:00", "0", "0", None, None, "same"),
             (None, "S1", "2026-11-05 10:00:00", "1", "1", None, None, "other"),
             ("bc1", "S8", "2026-11-20 23:59:59", "n", "y", None, None, None)]
    complaints = [
        ("q1", "S1", "2026-11-04 10:00:00", "cv1", None, "service", "2026-11-04 11:00:00", "2026-11-05 10:00:00",
         None),                                                                      # exactly 24 h: in time
        ("q2", "S1", "2026-11-04 11:00:00", "cv2", None, "service", None, "2026-11-05 11:00:01", None),  # 24 h 1 s
        ("q3", "S1", "2026-11-06 09:00:00", "cv3", None, "service", "2026-11-06 09:05:00", None, None),  # never
        ("q4", "S1", "2026-11-06 10:00:00", "cv4", None, "service", None, "2026-11-08 10:00:00",
         "2026-11-08 10:00:00"),                                                     # agreed later: in time
        ("q5", "S1", "2026-11-07 10:00:00", "cv5", None, "service", None, "2026-11-07 13:00:00",
         "2026-11-07 12:00:00"),                                                     # agreed sooner: late
        ("q6", "S1", "2026-11-07 11:00:00", "cv5", None, "product", None, None, None),  # not a service complaint
        ("q7", "S1", "2026-11-30 23:30:00", "mid", None, "服务质量", None, "2026-12-01 10:00:00", None),
        ("q8", "S1", "2027-01-03 09:00:00", "ye", None, "service", None, "2027-01-03 10:00:00", None),
        ("q9", "S1", "2027-01-04 10:00:00", "ye3", None, "service", None, "2027-01-04 12:00:00", None),  # provisional
        ("q10", "S8", "2026-11-20 10:00:00", None, None, "service", None, "2026-11-21 10:00:00", None),
    ]
    return {"refunds": (REFUND_HEADER, refunds), "disputes": (DISPUTE_HEADER, disputes),
            "feedback": (FEEDBACK_HEADER, feedback), "bot_answers": (BOT_HEADER, bots),
            "complaints": (COMPLAINT_A2_HEADER, complaints)}


def distribution_messages(shop: str = "S7") -> list[tuple]:
    """FRTs exactly on the bucket edges (10 s, 20 s, 30 s, 60 s, 5 min) and a microsecond past them; percentiles of
    odd and even counts with ties; a day of one value and a day of unanswered inquiries only (no_data)."""
    m = []
    plan = {  # day → FRT of each session (None: unanswered); the agent alternates s7a, s7b
        "2026-11-09": ["10", "10", "20", "30", "60", "300", "300.000001", None],       # 7 values, ties
        "2026-11-10": ["0", "10.000001", "20.000001", "30.000001", "60.000001", "300"],  # 6 values
        "2026-11-11": ["5"],
        "2026-11-12": [None, None],
    }
    for day, frts in plan.items():
        for i, frt in enumerate(frts):
            c, agent = f"{shop}{day[-2:]}_{i}", ("s7a", "s7b")[i % 2]
            start = dt.datetime.fromisoformat(f"{day} 10:00:00") + dt.timedelta(minutes=20 * i)
            m.append(msg(f"{c}q", c, "customer", str(start), agent=agent, shop=shop))
            if frt is None:
                continue
            t = start + dt.timedelta(seconds=float(frt))
            m.append(msg(f"{c}a", c, "agent", t.isoformat(sep=" "), agent=agent, shop=shop))
            # two more turns: 7 s and 7 s (ties), answered by the other agent on the second
            for j, (gap, resp, who) in enumerate([(60, 7, agent), (120, 7, ("s7b", "s7a")[i % 2])]):
                q = t + dt.timedelta(seconds=gap)
                m.append(msg(f"{c}q{j}", c, "customer", q.isoformat(sep=" "), shop=shop))
                m.append(msg(f"{c}a{j}", c, "agent", (q + dt.timedelta(seconds=resp)).isoformat(sep=" "),
                             agent=who, shop=shop))
    return m


def write_inbox(inbox: Path, keep=lambda kind, row: True) -> None:
    write_csv(inbox / "messages_edge.csv", MESSAGE_HEADER, [r for r in edge_messages() if keep("messages", r)])
    write_csv(inbox / "messages_dist.csv", MESSAGE_HEADER,
              [r for r in distribution_messages() if keep("messages", r)])
    write_csv(inbox / "orders_edge.csv", ORDER_HEADER, [r for r in edge_orders() if keep("orders", r)])
    for kind, (header, rows) in edge_other_kinds().items():
        write_csv(inbox / f"{kind}_edge.csv", header, [r for r in rows if keep(kind, r)])
    for kind, (header, rows) in edge_table_a2().items():
        write_csv(inbox / f"{kind}_a2.csv", header, [r for r in rows if keep(kind, r)])


def test_edge_cases_match_the_oracle(tmp_path):
    write_inbox(tmp_path / "inbox")
    run(tmp_path / "inbox", tmp_path / "lake")
    n = check(tmp_path / "lake", min_rows=300)
    print(f"edge inbox: {n} rows compared")


def test_edge_cases_over_two_nights_match_the_oracle(tmp_path):
    """The same rows as two nightly runs: everything before 2026-11-15 12:00 first (the late replies of H and the
    sessions of I..L arrive the next night), then the rest; an order is re-sent paid on the second night."""
    cut = "2026-11-15 12:00:00"
    time_col = {"messages": 6, "orders": 3, "ratings": 2, "complaints": 2, "reviews": 2, "refunds": 2,
                "disputes": 2, "feedback": 2, "bot_answers": 2}

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
    # no service complaint: no 24-hour feedback rows; no Table A.2 kind: none of their codes
    assert kpis == {"frt_seconds", "avg_response_seconds", "reply_rate", "inquiry_conversion_rate", "complaint_rate",
                    *DISTRIBUTIONS}

    only = tmp_path / "only"
    write_csv(only / "messages_edge.csv", MESSAGE_HEADER, edge_messages())
    run(only, tmp_path / "lake2")
    m = check(tmp_path / "lake2", min_rows=100)
    assert {k[4] for k in published(tmp_path / "lake2")} == {"frt_seconds", "avg_response_seconds", "reply_rate",
                                                              *DISTRIBUTIONS}
    print(f"partial kinds: {n} and {m} rows compared")


def test_which_periods_have_a_dispute_count(tmp_path):
    """README: dispute_count has a row for every period in which the shop has disputes or any dated fact of another
    shop-level KPI row (0 without disputes); sales are not such a fact. Facts that give no KPI row: an agent-opened
    session, an unpaid order, an open refund. Payments without complaints ever ingested (no complaint rate) give no
    row, even when a month target counts their sales. A second lake: complaints and disputes without orders (no
    complaint rate): a product complaint gives no row, a service complaint does (its 24-hour rate)."""
    inbox = tmp_path / "inbox"
    write_csv(inbox / "messages_d.csv", MESSAGE_HEADER, [
        msg("m1", "u1", "agent", "2026-11-02 10:00:00", agent="a1"),            # 催付 only: not an inquiry
        msg("m2", "u1", "customer", "2026-11-02 10:05:00"),
        msg("m3", "u2", "customer", "2026-11-09 10:00:00"),                     # an inquiry
        msg("m4", "u2", "agent", "2026-11-09 10:00:09", agent="a1")])
    write_csv(inbox / "orders_d.csv", ORDER_HEADER, [
        ("o1", "S1", "u1", "2026-11-03 10:00:00", None, "5"),                   # unpaid
        ("o2", "S1", "u1", "2026-11-04 10:00:00", "2026-11-05 10:00:00", "5"),  # paid on 11-05
        ("o3", "S1", "u1", "2026-11-06 10:00:00", "2026-11-06 10:00:00", None)])  # paid, no amount
    write_csv(inbox / "refunds_d.csv", REFUND_HEADER, [
        ("f1", "S1", "2026-11-07 10:00:00", None, None, None, None, None),         # open
        ("f2", "S1", "2026-11-08 10:00:00", "2026-11-10 10:00:00", None, None, None, None)])
    write_csv(inbox / "disputes_d.csv", DISPUTE_HEADER, [("d1", "S1", "2026-11-20 10:00:00", None, "1", None, None)])
    # a target alone (11-30); and a month target that the payments of 11-05 and 11-06 count towards
    write_csv(inbox / "targets_d.csv", TARGET_HEADER, [("S1", "2026-11-30", "10"), ("S1", "2026-11", "10")])
    run(inbox, tmp_path / "lake")
    n = check(tmp_path / "lake", min_rows=20)

    other = tmp_path / "other"
    write_csv(other / "complaints_d.csv", COMPLAINT_A2_HEADER, [
        ("c1", "S1", "2026-11-03 10:00:00", None, None, "product", None, None, None),
        ("c2", "S1", "2026-11-04 10:00:00", None, None, "service", None, "2026-11-04 11:00:00", None)])
    write_csv(other / "disputes_d.csv", DISPUTE_HEADER, [("d1", "S1", "2026-11-20 10:00:00", None, "0", None, None)])
    run(other, tmp_path / "lake2")
    m = check(tmp_path / "lake2", min_rows=5)
    print(f"dispute count periods: {n} and {m} rows compared")


SERVICE_HOURS_TOML = """
[service_hours]
mon = ["09:00-12:00", "13:30-23:00"]
tue = ["09:00-23:00"]
wed = ["09:00-23:00"]
thu = ["09:00-23:00"]
fri = ["09:00-23:00"]
sat = ["10:00-18:00"]
holidays = ["2026-11-11", "2026-11-12"]
[service_hours.dates]
"2026-11-12" = ["14:00-16:00"]
"2026-11-15" = ["09:00-24:00"]
"""


def service_messages() -> list[tuple]:
    """Shop S11: service time across the lunch break, a closed weekend night, a closed Sunday, a date that is both
    a holiday and has its own windows, and a make-up Sunday open to 24:00."""
    s = dict(shop="S11")
    return [
        msg("s1q", "w1", "customer", "2026-11-09 11:59:00", **s),               # Mon: 60 s + 60 s = 120 s
        msg("s1a", "w1", "agent", "2026-11-09 13:31:00", agent="x1", **s),
        msg("s2q", "w2", "customer", "2026-11-20 22:59:55", **s),               # Fri 23:00 → Sat 10:00: 12 s
        msg("s2a", "w2", "agent", "2026-11-21 10:00:07", agent="x1", **s),
        msg("s2r", "w2", "customer", "2026-11-21 10:00:30", **s),               # a second turn: 9.5 s
        msg("s2b", "w2", "agent", "2026-11-21 10:00:39.500", agent="x2", **s),
        msg("s3q", "w3", "customer", "2026-11-22 10:00:00", **s),               # Sun closed: 0 s
        msg("s3a", "w3", "agent", "2026-11-22 10:05:00", agent="x2", **s),
        msg("s4q", "w4", "customer", "2026-11-12 13:00:00", **s),               # holiday with its own window: 30 s
        msg("s4a", "w4", "agent", "2026-11-12 14:00:30", agent="x1", **s),
        msg("s5q", "w5", "customer", "2026-11-15 23:59:50", **s),               # make-up Sunday to 24:00: 20 s
        msg("s5a", "w5", "agent", "2026-11-16 09:00:10", agent="x2", **s),
        msg("s6q", "w6", "customer", "2026-11-14 18:00:00", **s),               # Sat after closing: unanswered
    ]


def test_service_hours_clock_matches_the_oracle(tmp_path):
    """README "Service hours": with a `[service_hours]` calendar (given by `--config`), every response-time KPI has a
    `clock = 'service'` row beside its wall-clock row, banded with the same thresholds."""
    import tomllib
    inbox = tmp_path / "inbox"
    write_csv(inbox / "messages_edge.csv", MESSAGE_HEADER, edge_messages())
    write_csv(inbox / "messages_dist.csv", MESSAGE_HEADER, distribution_messages())
    write_csv(inbox / "messages_service.csv", MESSAGE_HEADER, service_messages())
    config = tmp_path / "cskpi.toml"
    config.write_text(SERVICE_HOURS_TOML, encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(inbox), "--lake", str(tmp_path / "lake"), "--config", str(config)])
    assert result.exit_code == 0, result.output
    n = check(tmp_path / "lake", min_rows=1000, service_hours=tomllib.loads(SERVICE_HOURS_TOML)["service_hours"])
    service = [k for k in published(tmp_path / "lake", {"wall", "service"}) if k[5] == "service"]
    assert {k[4] for k in service} == set(oracle.RESPONSE_TIME)
    print(f"service hours: {n} rows compared, {len(service)} of them on the service clock")


def test_unanswered_turn_cap_matches_the_oracle(tmp_path):
    """README: with `unanswered_turn_cap` set, an unanswered turn counts in PT and its percentiles at the cap, on both
    clocks, and at agent level under the session's agent (FRT is not affected)."""
    import tomllib
    inbox = tmp_path / "inbox"
    write_csv(inbox / "messages_edge.csv", MESSAGE_HEADER, edge_messages())
    write_csv(inbox / "messages_dist.csv", MESSAGE_HEADER, distribution_messages())
    write_csv(inbox / "messages_service.csv", MESSAGE_HEADER, service_messages())
    config = tmp_path / "cskpi.toml"
    config.write_text('unanswered_turn_cap = "10min"\n' + SERVICE_HOURS_TOML, encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(inbox), "--lake", str(tmp_path / "lake"), "--config", str(config)])
    assert result.exit_code == 0, result.output
    n = check(tmp_path / "lake", min_rows=1000, service_hours=tomllib.loads(SERVICE_HOURS_TOML)["service_hours"],
              cap=dt.timedelta(minutes=10))
    # the cap made a difference: without it the oracle disagrees with these rows, on PT (both clocks) only
    uncapped, _ = oracle.compute(tmp_path / "lake" / "warehouse.duckdb",
                                 tomllib.loads(SERVICE_HOURS_TOML)["service_hours"])
    got = published(tmp_path / "lake", {"wall", "service"})
    changed = {(k[4], k[5]) for k in uncapped.keys() | got.keys()
               if k not in uncapped or k not in got or differences({k: uncapped[k]}, {k: got[k]})}
    assert {kpi for kpi, _ in changed} == {"avg_response_seconds", "response_median_seconds", "response_p90_seconds"}
    assert {clock for _, clock in changed} == {"wall", "service"}
    print(f"unanswered turn cap: {n} rows compared")


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
    message, ratings, complaints and reviews of old days, and a later latest-time-seen (which makes the provisional
    24-hour rate of 2027-01-04 final); re-sent disputes (the platform now involved; moved to another day, leaving a
    day with no fact at all), refunds (completed now; completed later; open again), feedback (handled now),
    service complaints (resolved exactly 24 h after; a later agreed time) and a bot audit (the first one stays)."""
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
    # Table A.2 re-sends (a re-sent key replaces, bot answers excepted: the first stays)
    write_csv(n2 / "disputes_night2.csv", DISPUTE_HEADER, [
        ("d2", "S1", "2026-11-02 23:59:59", "2026-11-05 10:00:00", "yes", None, "tie"),   # the platform stepped in
        ("d1", "S1", "2026-11-04 09:00:00", None, "yes", None, "gap"),                    # moved to another day
        ("d6", "S8", "2026-11-25 10:00:00", None, "false", None, None),                   # 11-20 keeps its 0 row
        ("d7", "S10", "2026-11-22 10:00:00", None, "true", None, None)])                  # 11-21 has no fact left
    write_csv(n2 / "refunds_night2.csv", REFUND_HEADER, [
        ("f3", "S1", "2026-11-05 10:00:00", "2026-11-06 10:00:00", None, "cv1", "usage", "success"),  # completed
        ("f1", "S1", "2026-11-02 23:00:00", "2026-11-04 02:00:00", None, "gap", "七天无理由", "退款成功"),  # later
        ("f4", "S1", "2026-11-10 10:00:00", None, None, "cv1", "other", "reopened")])     # open again
    write_csv(n2 / "feedback_night2.csv", FEEDBACK_HEADER, [
        ("b3", "S1", "2026-11-02 12:00:00", None, "yes", None, "tie2"),
        ("b4", "S1", "2026-11-06 10:00:00", "2026-11-06 11:00:00", None, None, "k1")])
    write_csv(n2 / "complaints_a2_night2.csv", COMPLAINT_A2_HEADER, [
        ("q3", "S1", "2026-11-06 09:00:00", "cv3", None, "service", "2026-11-06 09:05:00", "2026-11-07 09:00:00",
         None),                                                                          # resolved at 24 h
        ("q2", "S1", "2026-11-04 11:00:00", "cv2", None, "service", None, "2026-11-05 11:00:01",
         "2026-11-06 00:00:00")])                                                        # a later agreed time
    write_csv(n2 / "bot_answers_night2.csv", BOT_HEADER, [
        ("ba0", "S1", "2026-11-03 10:00:00", "yes", "yes", None, "botc", "q"),           # the first stays
        ("bd1", "S1", "2026-11-03 23:59:59", "yes", "no", None, None, "q")])
    run(n2, tmp_path / "lake")
    n = check(tmp_path / "lake", min_rows=300)
    print(f"second night: {n} rows compared")
