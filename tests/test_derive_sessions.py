"""Hand-computed cases for SPEC §2.1–§2.2: conversation order, the session gap, the late-reply exception, inquiries."""
from datetime import timedelta

from pipeline.config import Config
from tests.conftest import msg


def sessions(b, customer):
    return b.query(
        "SELECT session_id, started_at::VARCHAR, is_inquiry, replied, frt_seconds, agent_id, messages "
        "FROM sessions WHERE customer_id = ? ORDER BY started_at", [customer])


def test_gap_of_exactly_30_minutes_does_not_cut(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00"),
                        msg("2", "c", "customer", "2026-11-27 10:30:00")])
    assert [s[6] for s in sessions(b, "c")] == [2]


def test_gap_one_second_over_30_minutes_cuts(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00"),
                        msg("2", "c", "customer", "2026-11-27 10:30:01")])
    assert [(s[0], s[6]) for s in sessions(b, "c")] == [("c#1", 1), ("c#2", 1)]


def test_fractional_gap_over_30_minutes_cuts(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00"),
                        msg("2", "c", "customer", "2026-11-27T10:30:00.000001")])
    assert len(sessions(b, "c")) == 2


def test_late_reply_within_24h_joins_the_waiting_customer(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00"),
                        msg("2", "c", "agent", "2026-11-27 20:00:00", agent="a1")])
    (s,) = sessions(b, "c")
    assert s[2:6] == (True, True, 36000.0, "a1")


def test_late_reply_at_exactly_24h_still_joins(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00"),
                        msg("2", "c", "agent", "2026-11-28 10:00:00", agent="a1")])
    (s,) = sessions(b, "c")
    assert s[4] == 86400.0


def test_late_reply_after_24h_opens_an_agent_session(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00"),
                        msg("2", "c", "agent", "2026-11-28 10:00:01", agent="a1")])
    first, second = sessions(b, "c")
    assert first[2:5] == (True, False, None)
    assert second[2:4] == (False, False)
    assert b.kpi("reply_rate") == {"2026-11-27": (0.0, 0.0, 1.0, "below", False)}


def test_only_the_first_reply_to_a_waiting_customer_is_excepted(built):
    # The second agent message comes 59 minutes after the first: the customer is no longer waiting.
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00"),
                        msg("2", "c", "agent", "2026-11-27 10:01:00", agent="a1"),
                        msg("3", "c", "agent", "2026-11-27 11:00:00", agent="a1")])
    first, second = sessions(b, "c")
    assert (first[6], first[2]) == (2, True)
    assert (second[6], second[2]) == (1, False)


def test_a_new_customer_message_after_the_gap_opens_a_session_even_if_waiting(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00"),
                        msg("2", "c", "customer", "2026-11-27 11:00:00"),
                        msg("3", "c", "agent", "2026-11-27 11:00:05", agent="a1")])
    first, second = sessions(b, "c")
    assert first[2:5] == (True, False, None)
    assert second[2:5] == (True, True, 5.0)


def test_bot_between_customer_and_agent_is_not_a_reply(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00"),
                        msg("2", "c", "bot", "2026-11-27 10:00:01"),
                        msg("3", "c", "agent", "2026-11-27 10:00:20", agent="a1"),
                        msg("4", "d", "customer", "2026-11-27 10:00:00"),
                        msg("5", "d", "bot", "2026-11-27 10:00:01")])
    assert sessions(b, "c")[0][2:5] == (True, True, 20.0)
    assert sessions(b, "d")[0][2:5] == (True, False, None)
    assert b.kpi("reply_rate")["2026-11-27"][:3] == (50.0, 1.0, 2.0)


def test_slow_reply_after_a_bot_stays_in_the_session(built):
    # The gap from the bot to the agent is 59 min 55 s, but the customer is still waiting (late-reply exception).
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00"),
                        msg("2", "c", "bot", "2026-11-27 10:00:05"),
                        msg("3", "c", "agent", "2026-11-27 11:00:00", agent="a1")])
    (s,) = sessions(b, "c")
    assert (s[6], s[4]) == (3, 3600.0)


def test_agent_initiated_session_is_not_an_inquiry(built):
    b = built(messages=[msg("1", "c", "agent", "2026-11-27 10:00:00", agent="a1", content="亲，记得付款哦"),
                        msg("2", "c", "customer", "2026-11-27 10:05:00"),
                        msg("3", "c", "agent", "2026-11-27 10:06:00", agent="a1")])
    (s,) = sessions(b, "c")
    assert s[2] is False
    assert b.query("SELECT count(*) FROM kpi WHERE kpi IN ('frt_seconds', 'reply_rate')") == [(0,)]
    assert b.query("SELECT count(*) FROM turns") == [(0,)]


def test_same_second_reply_orders_customer_first(built):
    # The agent row comes first in the file; at the same second the customer message is still first.
    b = built(messages=[msg("2", "c", "agent", "2026-11-27 10:00:00", agent="a1"),
                        msg("1", "c", "customer", "2026-11-27 10:00:00")])
    (s,) = sessions(b, "c")
    assert s[2:5] == (True, True, 0.0)
    assert b.kpi("frt_seconds")["2026-11-27"][:4] == (0.0, 0.0, 1.0, "AAAAA")


def test_system_messages_take_no_part(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00"),
                        msg("2", "c", "system", "2026-11-27 10:20:00"),
                        msg("3", "c", "customer", "2026-11-27 10:45:00"),
                        msg("4", "c", "system", "2026-11-27 10:45:01")])
    assert [s[6] for s in sessions(b, "c")] == [1, 1]
    assert b.query("SELECT count(*) FROM messages WHERE sender_role = 'system'") == [(2,)]


def test_session_crossing_midnight_and_month_end_belongs_to_its_start(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-30 23:50:00"),
                        msg("2", "c", "agent", "2026-12-01 00:05:00", agent="a1"),
                        msg("3", "c", "customer", "2026-12-01 00:06:00"),
                        msg("4", "c", "agent", "2026-12-01 00:06:30", agent="a1")])
    (s,) = sessions(b, "c")
    assert s[4] == 900.0
    assert b.kpi("frt_seconds", "month") == {"2026-11": (900.0, 900.0, 1.0, "below", False)}
    assert b.kpi("avg_response_seconds", "day") == {"2026-11-30": (465.0, 930.0, 2.0, "below", False)}
    assert b.kpi("frt_seconds", "quarter").keys() == {"2026-Q4"}
    assert b.kpi("frt_seconds", "year").keys() == {"2026"}


def test_iso_weeks_at_the_year_boundary(built):
    days = {"2025-12-29": "2026-W01", "2026-01-01": "2026-W01", "2026-12-31": "2026-W53",
            "2027-01-03": "2026-W53", "2027-01-04": "2027-W01", "2026-11-27": "2026-W48"}
    b = built(messages=[msg(str(i), f"c{i}", "customer", f"{d} 12:00:00") for i, d in enumerate(days)])
    got = b.query("SELECT c.started_on::VARCHAR, k.period FROM sessions c JOIN kpi k "
                  "ON k.grain = 'week' AND k.kpi = 'reply_rate' AND k.agent_id IS NULL "
                  "AND c.started_on >= k.period_start AND c.started_on < k.period_start + 7")
    assert dict(got) == days
    starts = dict(b.query("SELECT period, period_start::VARCHAR FROM kpi WHERE grain = 'week' AND kpi = 'reply_rate'"))
    assert starts["2026-W53"] == "2026-12-28" and starts["2026-W01"] == "2025-12-29"


def test_given_session_ids_are_kept_across_long_gaps(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00", session="T1"),
                        msg("2", "c", "agent", "2026-11-27 13:00:00", agent="a1", session="T1"),
                        msg("3", "c", "customer", "2026-11-27 13:05:00", session="T2")])
    assert [(s[0], s[4]) for s in sessions(b, "c")] == [("T1", 10800.0), ("T2", None)]


def test_session_agent_is_the_first_human_agent_else_the_routed_agent(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00", agent="a9"),
                        msg("2", "c", "agent", "2026-11-27 10:00:10", agent="a1"),
                        msg("3", "c", "customer", "2026-11-27 10:01:00"),
                        msg("4", "c", "agent", "2026-11-27 10:01:20", agent="a2"),
                        msg("5", "d", "customer", "2026-11-27 10:00:00", agent="a9")])
    assert sessions(b, "c")[0][5] == "a1"
    assert sessions(b, "d")[0][5] == "a9"
    # FRT by the session's agent; the routed but unanswered session gives agent a9 a no_data FRT row.
    assert b.kpi("frt_seconds", agent="a1") == {"2026-11-27": (10.0, 10.0, 1.0, "AAAAA", False)}
    assert b.kpi("frt_seconds", agent="a9") == {"2026-11-27": (None, 0.0, 0.0, "no_data", False)}
    assert b.kpi("reply_rate", agent="a9")["2026-11-27"][:3] == (0.0, 0.0, 1.0)


def test_configured_gap_and_window(built):
    config = Config(session_gap=timedelta(minutes=10), late_reply_window=timedelta(hours=1))
    b = built(config, messages=[msg("1", "c", "customer", "2026-11-27 10:00:00"),
                                msg("2", "c", "customer", "2026-11-27 10:10:01"),
                                msg("3", "c", "agent", "2026-11-27 11:10:01", agent="a1"),
                                msg("4", "d", "customer", "2026-11-27 10:00:00"),
                                msg("5", "d", "agent", "2026-11-27 11:00:01", agent="a1")])
    assert [s[4] for s in sessions(b, "c")] == [None, 3600.0]
    assert [s[2] for s in sessions(b, "d")] == [True, False]
