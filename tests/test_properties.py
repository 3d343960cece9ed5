"""Invariants over random message streams, run through the same sql/ files as the pipeline (SPEC §2–§4)."""
from datetime import datetime, timedelta

import duckdb
import polars as pl
from hypothesis import given, settings, strategies as st

from pipeline.band import band, load_thresholds
from pipeline.compute import support_tables
from pipeline.config import Config
from pipeline.derive import derive
from pipeline.land.lake import Lake, Manifest
from pipeline.land.views import source_views
from pipeline.measure import measure

START = datetime(2026, 11, 28, 20, 0, 0)
STEPS = st.sampled_from([0, 1, 5, 59, 600, 1799, 1800, 1801, 3600, 6 * 3600, 86400, 86401])
MESSAGE = st.tuples(st.sampled_from(["S1", "S2"]), st.sampled_from(["c1", "c2", "c3"]),
                    st.sampled_from(["customer", "customer", "agent", "agent", "bot", "system"]),
                    st.sampled_from([None, "a1", "a2"]), STEPS)


def compute(rows, paid_offsets):
    con = duckdb.connect()
    for name, select in source_views(Lake("/nonexistent"), Manifest()).items():
        if name not in ("messages", "orders"):
            con.execute(f'CREATE VIEW "{name}" AS {select}')
    t, records = START, []
    for i, (shop, customer, role, agent, step) in enumerate(rows):
        t += timedelta(seconds=step)
        records.append({"message_id": f"m{i:03d}", "session_id": None, "shop_id": shop, "customer_id": customer,
                        "agent_id": agent if role != "customer" else None, "sender_role": role, "sent_at": t,
                        "content": None, "_key": f"m{i:03d}", "_line": i + 2, "_seq": 1})
    messages = pl.DataFrame(records, schema_overrides={"session_id": pl.String, "content": pl.String,
                                                       "agent_id": pl.String})
    orders = pl.DataFrame(
        [{"order_id": f"o{i}", "shop_id": "S1", "customer_id": "c1", "created_at": START,
          "paid_at": START + timedelta(seconds=s), "amount": 1.0, "status": None} for i, s in enumerate(paid_offsets)],
        schema={"order_id": pl.String, "shop_id": pl.String, "customer_id": pl.String,
                "created_at": pl.Datetime("us"), "paid_at": pl.Datetime("us"), "amount": pl.Float64,
                "status": pl.String})
    con.register("messages_frame", messages.to_arrow())
    con.register("orders_frame", orders.to_arrow())
    con.execute("CREATE TABLE messages AS SELECT * FROM messages_frame")
    con.execute("CREATE TABLE orders AS SELECT * FROM orders_frame")
    support_tables(con, Config(), {"messages", "orders"})
    derive(con, Config())
    measure(con)
    band(con, load_thresholds())
    return con


@settings(max_examples=60, deadline=None)
@given(st.lists(MESSAGE, min_size=1, max_size=25), st.lists(st.integers(0, 4 * 86400), max_size=4))
def test_invariants_of_random_streams(rows, paid_offsets):
    con = compute(rows, paid_offsets)
    # Every non-system message is in exactly one session; sessions never mix conversations.
    non_system = sum(1 for r in rows if r[2] != "system")
    assert con.execute("SELECT count(*), count(DISTINCT message_id) FROM message_sessions").fetchall() == [
        (non_system, non_system)]
    assert con.execute("SELECT count(*) FROM (SELECT shop_id, session_id FROM message_sessions "
                       "GROUP BY ALL HAVING count(DISTINCT customer_id) > 1)").fetchall() == [(0,)]
    # FRT is never negative; answered inquiries have one; reply and conversion rates are percentages.
    assert con.execute("SELECT count(*) FROM sessions WHERE frt_seconds < 0 OR "
                       "(replied AND frt_seconds IS NULL) OR (NOT replied AND frt_seconds IS NOT NULL)"
                       ).fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM turns WHERE response_seconds < 0").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM kpi WHERE kpi IN ('reply_rate', 'inquiry_conversion_rate') "
                       "AND NOT (value BETWEEN 0 AND 100)").fetchall() == [(0,)]
    # Conversions: each order at most once, never before its session, within the next-day window.
    assert con.execute("SELECT count(*) - count(DISTINCT order_id) FROM conversions").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM conversions WHERE paid_at < session_started_at OR "
                       "paid_at >= CAST(CAST(session_started_at AS DATE) + INTERVAL 2 DAY AS TIMESTAMP)"
                       ).fetchall() == [(0,)]
    # Each coarser period's numerator and denominator are the sums of its days'.
    mismatched = con.execute("""
        WITH days AS (
            SELECT k.shop_id, k.agent_id, k.kpi, c.grain, c.period,
                   sum(k.numerator) AS n, sum(k.denominator) AS d
            FROM kpi AS k JOIN calendar AS c ON c.on_date = k.period_start AND c.grain <> 'day'
            WHERE k.grain = 'day' GROUP BY ALL
        )
        SELECT count(*) FROM days LEFT JOIN kpi AS k
            ON k.grain = days.grain AND k.period = days.period AND k.kpi = days.kpi AND k.shop_id = days.shop_id
           AND k.agent_id IS NOT DISTINCT FROM days.agent_id
        WHERE k.kpi IS NULL OR abs(k.numerator - days.n) > 1e-6 OR k.denominator <> days.d
    """).fetchall()
    assert mismatched == [(0,)]
