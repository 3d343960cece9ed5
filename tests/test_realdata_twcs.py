"""Real data: the first 5,000 rows of Kaggle's "Customer Support on Twitter" (../shared/realdata/twcs_head.csv), run
end to end with the `twcs` profile (pipeline/read/profiles.py), checked against a plain-Python reading of the file.

What the file holds, found with the csv module:
- 5,000 records (pandas' index column runs 0..4999), every one with 8 fields.
- Record 2484 (tweet 3399, physical line 2589) has two bare carriage returns, unquoted, in its text:
  `@AskPayPal \\r\\rI just love the start of email ...`. Python's csv module (like anything that takes a bare CR
  for a line end) splits that record into three (6 fields, an empty record, 3 fields). The SPEC's line endings are
  LF or CRLF, so a bare CR is text: the pipeline reads the record whole, with the CRs in its content, and accepts
  it. No row of the file is broken, so nothing is rejected.
"""
from __future__ import annotations

import csv
import io
import re
import shutil
from collections import defaultdict
from functools import cache
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from pipeline import jobs
from pipeline.config import Config
from pipeline.land.lake import Lake
from tests.conftest import REALDATA

TWCS = REALDATA / "twcs_head.csv"
pytestmark = pytest.mark.skipif(not TWCS.is_file(), reason=f"{TWCS} not present")

CONFIG = Config(timezone="UTC", profile="twcs")
SHOPS = ("AmazonHelp", "AppleSupport")
_CR = "\ue000"  # a private-use character that stands in for a bare CR while the csv module parses


# --- an independent reading of the file ----------------------------------------------------------------------------

def raw_text() -> str:
    with open(TWCS, encoding="utf-8", newline="") as f:
        return f.read()


@cache
def records() -> tuple[tuple[int, dict[str, str]], ...]:
    """(physical line where the record starts, fields by header) for every record; only LF ends a record."""
    text = raw_text()
    assert _CR not in text
    reader = csv.reader(io.StringIO(text.replace("\r", _CR), newline=""))
    header = next(reader)
    out, last = [], reader.line_num
    for fields in reader:
        assert len(fields) == len(header), (reader.line_num, fields)
        out.append((last + 1, {h: v.replace(_CR, "\r") for h, v in zip(header, fields)}))
        last = reader.line_num
    return tuple(out)


def threads_by_hand() -> dict[str, dict]:
    """Every thread (root tweet id → facts) by the twcs profile's rules, computed tweet by tweet in plain Python."""
    tweets = {}
    for line, r in records():
        parent = r["in_response_to_tweet_id"]
        tweets[r["tweet_id"]] = {
            "id": r["tweet_id"], "line": line, "author": r["author_id"], "company": r["inbound"] == "False",
            "at": datetime.strptime(r["created_at"], "%a %b %d %H:%M:%S %z %Y").astimezone(timezone.utc),
            "parent": str(int(float(parent))) if parent else None, "text": r["text"],
        }
    companies = {t["author"].lower(): t["author"] for t in tweets.values() if t["company"]}

    def root(tid: str) -> str:
        seen = {tid}
        while tweets[tid]["parent"] in tweets and tweets[tid]["parent"] not in seen:
            tid = tweets[tid]["parent"]
            seen.add(tid)
        return tid

    members = defaultdict(list)
    for tid in tweets:
        members[root(tid)].append(tweets[tid])
    threads = {}
    for rid, ms in members.items():
        ms.sort(key=lambda t: (t["at"], t["company"], int(t["id"])))  # by time; at equal time customer first
        thread_companies = {t["author"] for t in ms if t["company"]}
        mention = re.search(r"@([A-Za-z0-9_]+)", tweets[rid]["text"])
        if len(thread_companies) == 1:
            shop = thread_companies.pop()
        elif mention and mention.group(1).lower() in companies:
            shop = companies[mention.group(1).lower()]
        else:
            shop = next(t["author"] for t in ms if t["company"])
        customers = [t for t in ms if not t["company"]]
        first_company = next((t for t in ms if t["company"]), None)
        if customers:
            customer = customers[0]["author"]
        else:  # no inbound tweet: the account the first company tweet addresses, when it is not a company
            addressed = re.search(r"@([A-Za-z0-9_]+)", first_company["text"])
            customer = addressed.group(1) if addressed and addressed.group(1).lower() not in companies else None
        inquiry = not ms[0]["company"]
        frt = (first_company["at"] - ms[0]["at"]).total_seconds() if inquiry and first_company else None
        threads[rid] = {
            "shop": shop, "customer": customer, "tweets": len(ms),
            "month": ms[0]["at"].strftime("%Y-%m"), "inquiry": inquiry, "replied": frt is not None, "frt": frt,
        }
    return threads


def month_kpis_by_hand(threads: dict[str, dict], shop: str) -> dict[tuple[str, str], tuple[float, float, float]]:
    """(kpi, month) → (value, numerator, denominator) of frt_seconds and reply_rate for one shop."""
    inquiries, replied, frt_sum = defaultdict(int), defaultdict(int), defaultdict(float)
    for t in threads.values():
        if t["shop"] != shop or not t["inquiry"]:
            continue
        inquiries[t["month"]] += 1
        if t["replied"]:
            replied[t["month"]] += 1
            frt_sum[t["month"]] += t["frt"]
    out = {}
    for month, n in inquiries.items():
        a = replied[month]
        out["reply_rate", month] = (100.0 * a / n, float(a), float(n))
        out["frt_seconds", month] = (frt_sum[month] / a if a else None, frt_sum[month], float(a))
    return out


# --- the pipeline's reading ----------------------------------------------------------------------------------------

class Run:
    def __init__(self, root: Path, source: Path = TWCS):
        inbox = root / "inbox"
        inbox.mkdir(parents=True)
        shutil.copyfile(source, inbox / "messages_twcs.csv")
        self.lake = Lake(root / "lake")
        self.result = jobs.run(inbox, self.lake, CONFIG)

        self.con = duckdb.connect(str(self.lake.warehouse), read_only=True)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.con.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    r = Run(tmp_path_factory.mktemp("twcs"))
    yield r
    r.con.close()


@pytest.fixture(scope="module")
def by_hand() -> dict[str, dict]:
    return threads_by_hand()


# --- the file and what lands ---------------------------------------------------------------------------------------

def test_the_csv_module_splits_the_record_with_bare_carriage_returns():
    with open(TWCS, encoding="utf-8", newline="") as f:
        naive = list(csv.reader(f))[1:]
    assert len(naive) == 5002
    odd = [(i, len(r)) for i, r in enumerate(naive) if len(r) != 8]
    assert odd == [(2484, 6), (2485, 0), (2486, 3)]
    assert naive[2484][:2] == ["2484", "3399"] and naive[2484][5] == "@AskPayPal "

    recs = records()
    assert len(recs) == 5000
    assert [int(r[""]) for _, r in recs] == list(range(5000))
    line, rec = recs[2484]
    assert (line, rec["tweet_id"]) == (2589, "3399")
    assert rec["text"].startswith("@AskPayPal \r\rI just love the start of email")


def test_every_row_is_read_and_none_is_rejected(run):
    (f,) = run.result.files
    assert (f.status, f.read, f.accepted, f.rejected, f.duplicates) == ("landed", 5000, 5000, 0, 0)
    assert run.result.computed
    assert run.query("SELECT count(*) FROM rejects") == [(0,)]
    assert run.query("SELECT count(*), count(DISTINCT message_id) FROM messages") == [(5000, 5000)]
    # The record with the bare CRs lands whole, at its physical line, in its thread.
    line, rec = records()[2484]
    assert run.query(
        "SELECT _line, content, session_id, shop_id, customer_id, sender_role, sent_at::VARCHAR FROM messages "
        "WHERE message_id = '3399'"
    ) == [(line, rec["text"], "3399", "AskPayPal", "116510", "customer", "2017-10-31 18:13:06")]


def test_lines_of_the_landed_rows_are_the_physical_lines(run):
    expected = {r["tweet_id"]: line for line, r in records()}
    assert dict(run.query("SELECT message_id, _line FROM messages")) == expected


def test_a_broken_row_and_a_bad_time_are_rejected_with_their_lines(tmp_path):
    """The real file with two rows spoilt: one with a surplus field, one with a created_at that is no time."""
    text = raw_text()
    lines = text.split("\n")
    assert lines[2].startswith("1,2,115712,True,Tue Oct 31 22:11:45 +0000 2017,")
    lines[2] += ",surplus"
    assert lines[4].startswith("3,4,sprintcare,False,Tue Oct 31 21:54:49 +0000 2017,")
    lines[4] = lines[4].replace("Tue Oct 31 21:54:49 +0000 2017", "31/10/2017 21h54")
    spoilt = tmp_path / "twcs_spoilt.csv"
    with open(spoilt, "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(lines))
    r = Run(tmp_path / "run", spoilt)
    (f,) = r.result.files
    assert (f.status, f.read, f.accepted, f.rejected) == ("landed", 5000, 4998, 2)
    rejects = r.query("SELECT line, \"column\", reason, raw_value FROM rejects ORDER BY line")
    assert rejects[0] == (3, None, "row has 9 fields, header has 8", None)
    assert rejects[1][:2] == (5, "sent_at") and rejects[1][2].startswith("not a timestamp")
    assert rejects[1][3] == "31/10/2017 21h54"
    # Thread 8 (tweets 8, 6, 5, 4, 3, 2, 1) keeps the other five; tweet 4, rejected, still links 3 to 5 (so 1 and 3
    # stay in thread 8). FRT: customer 8 at 21:45:10 → sprintcare 6 at 21:46:24.
    assert r.query("SELECT messages, frt_seconds FROM sessions WHERE session_id = '8'") == [(5, 74.0)]
    r.con.close()


# --- sessions and KPIs against the independent computation ---------------------------------------------------------

def test_every_thread_is_one_session_as_computed_by_hand(run, by_hand):
    got = {
        s: (shop, customer, n, inquiry, replied, frt)
        for s, shop, customer, n, inquiry, replied, frt in run.query(
            "SELECT session_id, shop_id, customer_id, messages, is_inquiry, replied, frt_seconds FROM sessions")
    }
    expected = {
        rid: (t["shop"], t["customer"], t["tweets"], t["inquiry"], t["replied"], t["frt"])
        for rid, t in by_hand.items()
    }
    assert len(got) == len(by_hand) == 1312
    assert got == expected


@pytest.mark.parametrize("shop", SHOPS)
def test_month_frt_and_reply_rate_match_the_independent_computation(run, by_hand, shop):
    expected = month_kpis_by_hand(by_hand, shop)
    rows = run.query(
        "SELECT kpi, period, value, numerator, denominator FROM kpi WHERE grain = 'month' AND shop_id = ? "
        "AND agent_id IS NULL AND kpi IN ('frt_seconds', 'reply_rate')", [shop])
    got = {(k, p): (v, n, d) for k, p, v, n, d in rows}
    assert got.keys() == expected.keys()
    for key, (value, numerator, denominator) in expected.items():
        assert got[key][1:] == (numerator, denominator), key
        assert got[key][0] == pytest.approx(value, rel=1e-12), key


def test_month_figures_of_the_two_companies(run):
    """The figures themselves (seconds, %), as reported; a change here is a change in the data or in the rules."""
    rows = run.query(
        "SELECT shop_id, kpi, period, numerator, denominator, band FROM kpi WHERE grain = 'month' AND agent_id "
        "IS NULL AND shop_id IN ('AmazonHelp', 'AppleSupport') AND kpi IN ('frt_seconds', 'reply_rate') ORDER BY ALL")
    assert rows == [
        ("AmazonHelp", "frt_seconds", "2017-10", 874647.0, 69.0, "below"),
        ("AmazonHelp", "frt_seconds", "2017-11", 1343521.0, 33.0, "below"),
        ("AmazonHelp", "reply_rate", "2017-10", 69.0, 69.0, "AAAAA"),
        ("AmazonHelp", "reply_rate", "2017-11", 33.0, 33.0, "AAAAA"),
        ("AppleSupport", "frt_seconds", "2017-10", 1755069.0, 84.0, "below"),
        ("AppleSupport", "reply_rate", "2017-10", 84.0, 84.0, "AAAAA"),
    ]


# Threads traced by hand in the file: session (root tweet) → (shop, customer, first customer tweet and time, first
# company tweet and time, frt_seconds).
TRACED = {
    # Two customer tweets (700 at 22:16:56, 698 at 22:17:40), then AppleSupport's 696 at 22:27:49: 10 min 53 s.
    "700": ("AppleSupport", "115854", "2017-10-31 22:16:56", "2017-10-31 22:27:49", 653.0),
    # The customer asked on 12 Oct (752), again on 31 Oct 22:08:39 (751); AppleSupport answered 750 at 22:18:00.
    "752": ("AppleSupport", "115867", "2017-10-12 10:11:50", "2017-10-31 22:18:00", 19 * 86400 + 12 * 3600 + 370.0),
    # Three customers in one thread: the first inbound author (115861) is the customer; 20:46:35 → 20:55:34.
    "730": ("AppleSupport", "115861", "2017-10-31 20:46:35", "2017-10-31 20:55:34", 539.0),
    # 632 at 21:34:58 → AmazonHelp's 631 at 22:27:00.
    "632": ("AmazonHelp", "115829", "2017-10-31 21:34:58", "2017-10-31 22:27:00", 3122.0),
    # Starts 31 Oct 22:51:34, answered 23:00:27, goes on into November: the session is October's.
    "3749": ("AmazonHelp", "116617", "2017-10-31 22:51:34", "2017-10-31 23:00:27", 533.0),
    # The root is a promotional tweet (14 Nov) by an inbound account; 116934 replies to it on 26 Nov 00:11:33 and
    # AmazonHelp answers 116934 at 00:13:55. The thread's FRT runs from the root: 11 days 9:15:23.
    "5323": ("AmazonHelp", "116935", "2017-11-14 14:58:32", "2017-11-26 00:13:55", 11 * 86400 + 33323.0),
    # Four companies in one thread; the root addresses @sainsburys first: sainsburys is the shop. AldiUK's 7437
    # (7 Nov 16:36:40) is the first company reply to the root (6 Nov 14:36:10).
    "7442": ("sainsburys", "117242", "2017-11-06 14:36:10", "2017-11-07 16:36:40", 93630.0),
}


@pytest.mark.parametrize("session", TRACED)
def test_threads_traced_by_hand(run, session):
    shop, customer, first_customer, first_agent, frt = TRACED[session]
    assert run.query(
        "SELECT shop_id, customer_id, first_customer_at::VARCHAR, first_agent_at::VARCHAR, is_inquiry, replied, "
        "frt_seconds FROM sessions WHERE session_id = ?", [session]
    ) == [(shop, customer, first_customer, first_agent, True, True, frt)]


def test_threads_that_are_not_inquiries(run):
    # 3745's parent (3746) is outside the sample: 3745 is the root, and AmazonHelp speaks first.
    # 1621 holds only AzureSupport tweets; its customer is the account AzureSupport's first tweet addresses.
    assert run.query(
        "SELECT session_id, shop_id, customer_id, messages, is_inquiry, replied, frt_seconds, agent_id FROM sessions "
        "WHERE session_id IN ('3745', '1621') ORDER BY session_id"
    ) == [
        ("1621", "AzureSupport", "116051", 2, False, False, None, "AzureSupport"),
        ("3745", "AmazonHelp", "116616", 3, False, False, None, "AmazonHelp"),
    ]


def test_the_shop_of_a_thread_with_several_companies_is_the_one_the_root_addresses(run):
    assert run.query(
        "SELECT DISTINCT shop_id, customer_id FROM messages WHERE session_id = '7442'") == [("sainsburys", "117242")]
    assert run.query(
        "SELECT DISTINCT agent_id FROM messages WHERE session_id = '7442' AND sender_role = 'agent' ORDER BY 1"
    ) == [("AldiUK",), ("Tesco",), ("marksandspencer",), ("sainsburys",)]
    assert run.query("SELECT agent_id FROM sessions WHERE session_id = '7442'") == [("AldiUK",)]


# --- the profile's edge cases, on a made-up frame ------------------------------------------------------------------

def test_profile_keeps_every_row_and_maps_edge_cases():
    import polars as pl

    from pipeline.read import ReadError
    from pipeline.read.profiles import apply_profile

    t0, t1 = "Tue Oct 31 22:10:47 +0000 2017", "Tue Oct 31 22:11:47 +0000 2017"
    rows = [  # tweet_id, author_id, inbound, created_at, text, in_response_to_tweet_id, _error
        ("10", "c1", "True", t0, "@branda help", None, None),          # root; addresses BrandA in other letter case
        ("11", "BrandA", "False", t1, "@c1 hi", "10.0", None),
        ("12", "c1", "True", "yesterday", "@BrandA ?", "11.0", None),  # unparseable time: passed through
        ("11", "BrandA", "False", t1, "@c1 hi", "10.0", None),         # the same tweet twice
        ("21", "BrandA", "False", t1, "@c2 loop", "20.0", None),       # a reply cycle 20 ⇄ 21
        ("20", "c2", "True", t0, "@BrandA loop", "21", None),
        (None, "c3", "True", t0, "@BrandA no id", None, None),         # no tweet id: in no thread
        ("30", "c4", "True", t0, "@BrandA", None, "row has 9 fields, header has 8"),
        ("40", "c5", "True", t0, "@Nobody @BrandA", None, None),       # no company tweet, root addresses no company
        ("50", "BrandA", "False", t0, "@c6 we saw your post", "49.0", None),  # parent outside the file
        ("60", "c7", "maybe", t0, "self", "60.0", None),              # replies to itself; unknown inbound
    ]
    frame = pl.LazyFrame(
        {
            "": [str(i) for i in range(len(rows))],
            "tweet_id": [r[0] for r in rows], "author_id": [r[1] for r in rows], "inbound": [r[2] for r in rows],
            "created_at": [r[3] for r in rows], "text": [r[4] for r in rows], "response_tweet_id": [None] * len(rows),
            "in_response_to_tweet_id": [r[5] for r in rows],
            "_line": list(range(2, 2 + len(rows))), "_error": [r[6] for r in rows],
        },
        schema_overrides={"response_tweet_id": pl.String, "_line": pl.Int64},
    )
    out = apply_profile("twcs", "messages", frame).collect()
    assert out.columns == ["message_id", "session_id", "shop_id", "customer_id", "agent_id", "sender_role",
                           "sent_at", "content", "_line", "_error"]
    assert out["_line"].to_list() == list(range(2, 2 + len(rows)))
    assert out["_error"].to_list() == [r[6] for r in rows]
    got = out.select("message_id", "session_id", "shop_id", "customer_id", "agent_id", "sender_role",
                     "sent_at").rows()
    assert got == [
        ("10", "10", "BrandA", "c1", None, "customer", "2017-10-31T22:10:47+00:00"),
        ("11", "10", "BrandA", "c1", "BrandA", "agent", "2017-10-31T22:11:47+00:00"),
        ("12", "10", "BrandA", "c1", None, "customer", "yesterday"),
        ("11", "10", "BrandA", "c1", "BrandA", "agent", "2017-10-31T22:11:47+00:00"),
        ("21", "20", "BrandA", "c2", "BrandA", "agent", "2017-10-31T22:11:47+00:00"),
        ("20", "20", "BrandA", "c2", None, "customer", "2017-10-31T22:10:47+00:00"),
        (None, None, None, None, None, "customer", "2017-10-31T22:10:47+00:00"),
        ("30", None, None, None, None, "customer", "2017-10-31T22:10:47+00:00"),
        ("40", "40", None, "c5", None, "customer", "2017-10-31T22:10:47+00:00"),
        ("50", "50", "BrandA", "c6", "BrandA", "agent", "2017-10-31T22:10:47+00:00"),
        ("60", "60", None, None, None, "maybe", "2017-10-31T22:10:47+00:00"),  # neither customer nor company
    ]

    empty = pl.LazyFrame(schema={"_line": pl.Int64, "_error": pl.String})
    assert apply_profile("twcs", "messages", empty).collect().height == 0
    with pytest.raises(ReadError, match="missing column.*in_response_to_tweet_id"):
        apply_profile("twcs", "messages", frame.drop("in_response_to_tweet_id"))
    with pytest.raises(ValueError, match="no layout for kind 'orders'"):
        apply_profile("twcs", "orders", frame)
