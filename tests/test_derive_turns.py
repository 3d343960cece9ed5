"""Hand-computed cases for SPEC §2.3: turns, their answers and response times, and PT by answering agent."""
from tests.conftest import msg


def turns(b):
    return b.query("SELECT session_id, turn_no, started_at::VARCHAR, response_seconds, agent_id FROM turns "
                   "ORDER BY session_id, turn_no")


def test_turns_bots_answer_nothing_and_split_nothing(built):
    b = built(messages=[
        msg("1", "c", "customer", "2026-11-27 10:00:00"),
        msg("2", "c", "customer", "2026-11-27 10:00:05"),   # same turn
        msg("3", "c", "agent", "2026-11-27 10:00:30", agent="a1"),   # answers turn 1 (30 s from its start)
        msg("4", "c", "agent", "2026-11-27 10:00:40", agent="a1"),   # answers nothing
        msg("5", "c", "customer", "2026-11-27 10:01:00"),   # turn 2
        msg("6", "c", "bot", "2026-11-27 10:01:01"),        # no answer, no split
        msg("7", "c", "customer", "2026-11-27 10:01:10"),   # still turn 2
        msg("8", "c", "agent", "2026-11-27 10:01:50", agent="a2"),   # answers turn 2 (50 s)
        msg("9", "c", "customer", "2026-11-27 10:02:00"),   # turn 3, unanswered
    ])
    assert turns(b) == [
        ("c#1", 1, "2026-11-27 10:00:00", 30.0, "a1"),
        ("c#1", 2, "2026-11-27 10:01:00", 50.0, "a2"),
        ("c#1", 3, "2026-11-27 10:02:00", None, None),
    ]
    assert b.kpi("avg_response_seconds") == {"2026-11-27": (40.0, 80.0, 2.0, "AAA", False)}  # exactly 40 s is AAA
    # Transfer: the session's agent is a1 (FRT), each answered turn goes to its answering agent (PT).
    assert b.kpi("avg_response_seconds", agent="a1")["2026-11-27"][:3] == (30.0, 30.0, 1.0)
    assert b.kpi("avg_response_seconds", agent="a2")["2026-11-27"][:3] == (50.0, 50.0, 1.0)
    assert b.kpi("frt_seconds", agent="a1")["2026-11-27"][:3] == (30.0, 30.0, 1.0)
    assert b.kpi("frt_seconds", agent="a2") == {}


def test_unanswered_turns_have_no_agent_rows_and_no_data_pt(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00", agent="a1")])
    assert turns(b) == [("c#1", 1, "2026-11-27 10:00:00", None, None)]
    assert b.kpi("avg_response_seconds") == {"2026-11-27": (None, 0.0, 0.0, "no_data", False)}
    assert b.kpi("avg_response_seconds", agent="a1") == {}


def test_fractional_seconds_are_kept(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-27T10:00:00.250"),
                        msg("2", "c", "agent", "2026-11-27T10:00:10.750", agent="a1")])
    assert b.kpi("frt_seconds")["2026-11-27"][:3] == (10.5, 10.5, 1.0)


def test_time_zone_offsets_are_converted_to_local_time(built):
    # 02:00Z is 10:00 in Asia/Shanghai; the reply is 20 s later.
    b = built(messages=[msg("1", "c", "customer", "2026-11-27T02:00:00Z"),
                        msg("2", "c", "agent", "2026-11-27 10:00:20", agent="a1"),
                        msg("3", "d", "customer", "2026-11-26T23:00:00-05:00"),
                        msg("4", "d", "agent", "2026-11-27T12:00:30+08:00", agent="a1")])
    assert b.query("SELECT customer_id, started_at::VARCHAR, frt_seconds FROM sessions ORDER BY 1") == [
        ("c", "2026-11-27 10:00:00", 20.0), ("d", "2026-11-27 12:00:00", 30.0)]
