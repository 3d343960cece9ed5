"""Hand-computed cases for SPEC §2.4: conversion attribution, the next-day window and the provisional flag."""
from tests.conftest import msg

ORDER = ("order_id", "shop_id", "customer_id", "created_at", "paid_at", "amount", "status")


def order(oid, customer, paid, created="2026-11-27 09:00:00", amount="100.00", shop="S1"):
    return (oid, shop, customer, created, paid, amount, "")


def chat(customer, at, mid):
    return [msg(f"{mid}a", customer, "customer", at), msg(f"{mid}b", customer, "agent", at, agent="a1")]


def credited(b):
    return b.query("SELECT order_id, session_id FROM conversions ORDER BY order_id")


def test_paid_next_day_at_23_59_59_converts_and_one_second_later_does_not(built):
    b = built(messages=chat("c", "2026-11-27 10:00:00", 1) + chat("d", "2026-11-27 10:00:00", 2),
              orders=[order("o1", "c", "2026-11-28 23:59:59"), order("o2", "d", "2026-11-29 00:00:00")])
    assert credited(b) == [("o1", "c#1")]
    assert b.kpi("inquiry_conversion_rate")["2026-11-27"][:3] == (50.0, 1.0, 2.0)


def test_order_credits_the_latest_of_two_inquiry_sessions(built):
    b = built(messages=chat("c", "2026-11-27 10:00:00", 1) + chat("c", "2026-11-27 15:00:00", 2),
              orders=[order("o1", "c", "2026-11-27 16:00:00")])
    assert credited(b) == [("o1", "c#2")]
    assert b.kpi("inquiry_conversion_rate")["2026-11-27"][:3] == (50.0, 1.0, 2.0)


def test_session_started_at_the_payment_instant_is_credited_and_later_ones_are_not(built):
    b = built(messages=chat("c", "2026-11-27 16:00:00", 1) + chat("c", "2026-11-27 18:00:00", 2),
              orders=[order("o1", "c", "2026-11-27 16:00:00")])
    assert credited(b) == [("o1", "c#1")]


def test_of_two_exported_sessions_started_at_the_same_instant_the_greater_session_id_is_credited(built):
    # README "Conversion": the tie between two starts at one instant goes to the greater session_id, in any order
    same = "2026-11-27 10:00:00"
    b = built(messages=[msg("m1", "c", "customer", same, session="S-b"), msg("m2", "c", "customer", same, session="S-a"),
                        msg("m3", "c", "customer", same, session="S-c")],
              orders=[order("o1", "c", "2026-11-27 12:00:00")])
    assert credited(b) == [("o1", "S-c")]


def test_agent_initiated_sessions_are_never_credited(built):
    reminder = [msg("r1", "c", "agent", "2026-11-27 15:00:00", agent="a1"),
                msg("r2", "c", "customer", "2026-11-27 15:01:00")]
    b = built(messages=chat("c", "2026-11-27 10:00:00", 1) + reminder,
              orders=[order("o1", "c", "2026-11-27 16:00:00")])
    assert credited(b) == [("o1", "c#1")]


def test_two_orders_credit_one_session_once_and_unpaid_or_early_orders_nothing(built):
    b = built(messages=chat("c", "2026-11-27 10:00:00", 1) + chat("d", "2026-11-27 10:00:00", 2),
              orders=[order("o1", "c", "2026-11-27 11:00:00"), order("o2", "c", "2026-11-28 11:00:00"),
                      order("o3", "d", ""), order("o4", "d", "2026-11-27 09:59:59")])
    assert credited(b) == [("o1", "c#1"), ("o2", "c#1")]
    assert b.kpi("inquiry_conversion_rate")["2026-11-27"][:3] == (50.0, 1.0, 2.0)


def test_other_shop_or_customer_does_not_convert(built):
    b = built(messages=chat("c", "2026-11-27 10:00:00", 1),
              orders=[order("o1", "c", "2026-11-27 11:00:00", shop="S2"), order("o2", "x", "2026-11-27 11:00:00")])
    assert credited(b) == []


def test_a_later_export_of_a_paid_order_replaces_the_unpaid_one(built, tmp_path):
    from pipeline import jobs
    from pipeline.config import Config
    from tests.conftest import write_csv

    b = built(messages=chat("c", "2026-11-27 10:00:00", 1), orders=[order("o1", "c", "")])
    assert credited(b) == []
    later = write_csv(tmp_path / "orders_night2.csv", list(ORDER), [order("o1", "c", "2026-11-28 08:00:00")])
    jobs.ingest_files(b.lake, [("orders", later)], Config())
    jobs.compute(b.lake, Config())
    assert credited(b) == [("o1", "c#1")]
    assert b.query("SELECT count(*) FROM orders") == [(1,)]


def test_provisional_until_the_window_after_the_period_closes(built):
    # Latest time in the lake: 2026-11-28 23:59:59, before the end of the day after 27 Nov → 27 Nov is provisional;
    # 26 Nov's window closed at the end of 27 Nov → final. Months and longer periods are still open.
    b = built(messages=chat("c", "2026-11-26 10:00:00", 1) + chat("d", "2026-11-27 10:00:00", 2)
              + [msg("z", "e", "customer", "2026-11-28 23:59:59")],
              orders=[order("o1", "c", "2026-11-26 11:00:00")])
    day = b.kpi("inquiry_conversion_rate")
    assert (day["2026-11-26"][4], day["2026-11-27"][4], day["2026-11-28"][4]) == (False, True, True)
    assert b.kpi("inquiry_conversion_rate", "month")["2026-11"][4] is True
    # Only conversion rows are ever provisional.
    assert b.query("SELECT DISTINCT kpi FROM kpi WHERE provisional") == [("inquiry_conversion_rate",)]


def test_window_closes_at_midnight_two_days_after(built):
    b = built(messages=chat("c", "2026-11-27 10:00:00", 1) + [msg("z", "e", "customer", "2026-11-29 00:00:00")],
              orders=[order("o1", "c", "2026-11-27 11:00:00")])
    assert b.kpi("inquiry_conversion_rate")["2026-11-27"][4] is False


def test_no_orders_ever_ingested_means_no_conversion_rate(built):
    b = built(messages=chat("c", "2026-11-27 10:00:00", 1))
    assert b.query("SELECT count(*) FROM kpi WHERE kpi = 'inquiry_conversion_rate'") == [(0,)]
    assert b.query("SELECT count(*) FROM kpi WHERE kpi = 'reply_rate'") != [(0,)]
