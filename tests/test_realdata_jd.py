"""Real JD customer-service dialogues (JDDC 2019 sample, ../shared/realdata): given sessions, Chinese headers and
content, and the turn and reply rules of SPEC §2.3 and §4 on conversations nobody here wrote.

The corpus has no timestamps. The test gives line n of the file the time START + n seconds (the file keeps each
session's lines together and in order), so sessions, turns and replies are the corpus' own and only the durations
are a stand-in: the response time of a turn is the distance in lines between the customer's line and the reply.
Every figure is checked against a plain-Python reading of the raw file.
"""
from __future__ import annotations

import csv
from datetime import datetime, timedelta

import pytest

from pipeline import jobs
from pipeline.config import Config
from pipeline.land.lake import Lake
from tests.conftest import REALDATA, write_csv

JD = REALDATA / "jddc2019_chat_sample.tsv"
START = datetime(2026, 11, 2, 9, 0, 0)

pytestmark = pytest.mark.skipif(not JD.exists(), reason="../shared/realdata is not available")


def _lines() -> list[list[str]]:
    with open(JD, encoding="utf-8", newline="") as f:
        return [row for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]


def _expected(lines: list[list[str]]) -> dict:
    """Sessions, inquiries, replies and turns read straight off the file (0 = customer line, 1 = agent line)."""
    sessions: dict[str, list[tuple[int, str]]] = {}
    for n, (session, _user, waiter, *_rest) in enumerate(lines):
        sessions.setdefault(session, []).append((n, waiter))
    inquiries = replied = turns = answered = response = 0
    for rows in sessions.values():
        roles = [w for _, w in rows]
        if "0" not in roles or ("1" in roles and roles.index("1") < roles.index("0")):
            continue  # opened by the agent: not an inquiry
        inquiries += 1
        replied += "1" in roles
        start = None
        for n, waiter in rows:
            if waiter == "0" and start is None:
                start = n
                turns += 1
            elif waiter == "1" and start is not None:
                answered += 1
                response += n - start
                start = None
    return {"sessions": len(sessions), "inquiries": inquiries, "replied": replied, "turns": turns,
            "answered": answered, "response": response}


@pytest.fixture(scope="module")
def jd(tmp_path_factory):
    root = tmp_path_factory.mktemp("jd")
    lines = _lines()
    rows = [(session, "JD", user, "客服" if waiter == "1" else "顾客",
             (START + timedelta(seconds=n)).strftime("%Y-%m-%d %H:%M:%S"), content)
            for n, (session, user, waiter, _transfer, _repeat, _sku, content) in enumerate(lines)]
    path = write_csv(root / "messages_jd.csv", ["会话ID", "店铺ID", "买家会员名", "发送方", "发送时间", "消息内容"], rows)
    lake = Lake(root / "lake")
    result = jobs.run(path.parent, lake, Config())
    assert not result.refused
    return lake, lines, result


def _query(lake: Lake, sql: str) -> list[tuple]:
    import duckdb
    con = duckdb.connect(str(lake.warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_every_real_line_lands(jd):
    lake, lines, _ = jd
    assert len(lines) == 12_136
    assert _query(lake, "SELECT count(*), count(DISTINCT session_id) FROM messages") == [(12_136, 994)]
    assert _query(lake, "SELECT count(*) FROM rejects") == [(0,)]


def test_sessions_replies_and_turns_equal_a_plain_reading_of_the_file(jd):
    lake, lines, _ = jd
    want = _expected(lines)
    assert _query(lake, "SELECT count(*), sum(CASE WHEN is_inquiry THEN 1 ELSE 0 END), "
                        "sum(CASE WHEN replied THEN 1 ELSE 0 END) FROM sessions") == [
        (want["sessions"], want["inquiries"], want["replied"])]
    reply = _query(lake, "SELECT numerator, denominator FROM kpi WHERE kpi = 'reply_rate' AND grain = 'month' "
                         "AND agent_id IS NULL")
    assert reply == [(float(want["replied"]), float(want["inquiries"]))]
    pt = _query(lake, "SELECT numerator, denominator FROM kpi WHERE kpi = 'avg_response_seconds' "
                      "AND grain = 'month' AND agent_id IS NULL")
    assert pt == [(float(want["response"]), float(want["answered"]))]
    assert _query(lake, "SELECT count(*) FROM turns") == [(want["turns"],)]
    # Every session of the sample is a customer's inquiry that got an answer, but not every turn did: 78 customers'
    # last words stay unanswered (the corpus alternates speakers, so each answer is the very next line).
    assert (want["sessions"], want["inquiries"], want["replied"]) == (994, 994, 994)
    assert (want["turns"], want["answered"]) == (6107, 6029)
