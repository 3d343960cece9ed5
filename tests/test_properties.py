"""Invariants over random message streams, run through the same sql/ files as the pipeline (SPEC §2–§4)."""
import math
from datetime import datetime, timedelta

import duckdb
import polars as pl
from hypothesis import given, settings, strategies as st

from pipeline.band import band, load_thresholds
from pipeline.compute import support_tables
from pipeline.kpis import FRT_BUCKETS
from pipeline.service_hours import WEEKDAYS, ServiceHours
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


def compute(rows, paid_offsets, config: Config = Config()):
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
    support_tables(con, config, {"messages", "orders"})
    derive(con, config)
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


ALWAYS_OPEN = Config(service_hours=ServiceHours.parse({d: ["00:00-24:00"] for d in WEEKDAYS}))
OFFICE = Config(service_hours=ServiceHours.parse({"mon": ["09:00-12:00", "13:00-18:00"], "tue": ["09:00-18:00"],
                                                  "sat": ["10:00-16:00"], "holidays": ["2026-12-01"]}),
                unanswered_turn_cap=timedelta(minutes=10))
TIME_KPIS = ("frt_seconds", "avg_response_seconds", "frt_median_seconds", "frt_p90_seconds",
             "response_median_seconds", "response_p90_seconds", *FRT_BUCKETS)


def _quantile(values: list[float], q: float) -> float:
    xs = sorted(values)
    h = (len(xs) - 1) * q
    lo = xs[int(h // 1)]
    hi = xs[min(int(h // 1) + 1, len(xs) - 1)]
    return lo + (h - h // 1) * (hi - lo)


@settings(max_examples=40, deadline=None)
@given(st.lists(MESSAGE, min_size=1, max_size=25))
def test_service_clock_of_an_always_open_calendar_is_the_wall_clock(rows):
    con = compute(rows, [], ALWAYS_OPEN)
    differ = con.execute(f"""
        SELECT count(*) FROM kpi AS w JOIN kpi AS s
          ON s.grain = w.grain AND s.period = w.period AND s.shop_id = w.shop_id
         AND s.agent_id IS NOT DISTINCT FROM w.agent_id AND s.kpi = w.kpi AND s.clock = 'service'
        WHERE w.clock = 'wall' AND w.kpi IN {TIME_KPIS}
          AND (abs(coalesce(s.value, -1) - coalesce(w.value, -1)) > 1e-6 OR s.denominator <> w.denominator)
    """).fetchall()
    assert differ == [(0,)]
    walls, services = (con.execute(f"SELECT count(*) FROM kpi WHERE clock = ? AND kpi IN {TIME_KPIS}", [c]).fetchall()
                       for c in ("wall", "service"))
    assert walls == services


@settings(max_examples=40, deadline=None)
@given(st.lists(MESSAGE, min_size=1, max_size=25))
def test_service_time_never_exceeds_wall_time_and_distributions_agree_with_a_plain_computation(rows):
    con = compute(rows, [], OFFICE)
    assert con.execute("SELECT count(*) FROM sessions WHERE frt_service_seconds < -1e-9 "
                       "OR frt_service_seconds > frt_seconds + 1e-9 "
                       "OR (frt_seconds IS NULL) <> (frt_service_seconds IS NULL)").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM turns WHERE response_service_seconds > response_seconds + 1e-9 "
                       "OR (response_seconds IS NULL) <> (response_service_seconds IS NULL)").fetchall() == [(0,)]
    # Every period's FRT median and p90 (shop level, both clocks) from the sessions themselves, by plain Python.
    sessions = con.execute("SELECT shop_id, started_on, frt_seconds, frt_service_seconds FROM sessions "
                           "WHERE replied").fetchall()
    for grain, period_of in (("day", lambda d: str(d)), ("month", lambda d: str(d)[:7])):
        expected: dict = {}
        for shop, day, wall, service in sessions:
            for clock, v in (("wall", wall), ("service", service)):
                expected.setdefault((shop, period_of(day), clock), []).append(v)
        got = {(r[0], r[1], r[2]): (r[3], r[4], r[5]) for r in con.execute(
            "SELECT m.shop_id, m.period, m.clock, m.value, p.value, m.denominator FROM kpi m JOIN kpi p "
            "ON p.grain = m.grain AND p.period = m.period AND p.shop_id = m.shop_id AND p.clock = m.clock "
            "AND p.agent_id IS NULL AND p.kpi = 'frt_p90_seconds' "
            "WHERE m.grain = ? AND m.agent_id IS NULL AND m.kpi = 'frt_median_seconds' AND m.value IS NOT NULL",
            [grain]).fetchall()}
        assert set(got) == set(expected)
        for key, values in expected.items():
            median, p90, n = got[key]
            assert n == len(values)
            assert math.isclose(median, _quantile(values, 0.5), abs_tol=1e-6), (key, values)
            assert math.isclose(p90, _quantile(values, 0.9), abs_tol=1e-6), (key, values)
    # The six FRT buckets of a period share its answered sessions: their numerators add up to the denominator.
    assert con.execute(f"""
        SELECT count(*) FROM (
            SELECT grain, period, shop_id, agent_id, clock, sum(numerator) AS n, max(denominator) AS d
            FROM kpi WHERE kpi IN {FRT_BUCKETS} GROUP BY ALL) AS b
        WHERE b.n <> b.d
    """).fetchall() == [(0,)]
