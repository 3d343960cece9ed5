"""Hand-computed cases for issue 5, README "Response-time distributions": FRT and response-time medians and 90th
percentiles (linear interpolation: h = (n - 1)·q, x⌊h⌋ + (h - ⌊h⌋)(x⌈h⌉ - x⌊h⌋)) and the six FRT buckets.

Calendar used below: 2026-11-23 Mon … 2026-11-27 Fri (ISO week 48), 2026-11-30 Mon (week 49).
"""
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pipeline.config import Config
from pipeline.service_hours import ServiceHours
from tests.conftest import msg

BUCKETS = ("frt_bucket_0_10s", "frt_bucket_10_20s", "frt_bucket_20_30s", "frt_bucket_30_60s", "frt_bucket_1_5min",
           "frt_bucket_over_5min")
MON_FRI = {d: ["08:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def answered(customer, start, frt, agent, shop="S1"):
    """An inquiry session of `customer` opened at `start` and answered `frt` seconds later (a float is kept exact)."""
    t0 = datetime.fromisoformat(start)
    t1 = t0 + timedelta(seconds=frt)
    return [msg(f"{shop}-{customer}-q", customer, "customer", t0.isoformat(sep=" "), shop=shop),
            msg(f"{shop}-{customer}-a", customer, "agent", t1.isoformat(sep=" "), agent=agent, shop=shop)]


def assert_rows(got: dict, expected: dict) -> None:
    assert set(got) == set(expected), (sorted(got), sorted(expected))
    for period, row in expected.items():
        assert got[period] == pytest.approx(row), period


# Answered inquiries per day (FRT seconds, session's agent):
#   Mon 23: 5 a1, 10 a2, 30 a1, 40 a2, 100 a1     Tue 24: 2 a1, 8 a2     Wed 25: 7 a1 (+ one unanswered inquiry)
#   Thu 26: one unanswered inquiry routed to a1 only
FRT_MESSAGES = (
    answered("c1", "2026-11-23 10:00:00", 5, "a1") + answered("c2", "2026-11-23 10:10:00", 10, "a2")
    + answered("c3", "2026-11-23 10:20:00", 30, "a1") + answered("c4", "2026-11-23 10:30:00", 40, "a2")
    + answered("c5", "2026-11-23 10:40:00", 100, "a1")
    + answered("c6", "2026-11-24 10:00:00", 2, "a1") + answered("c7", "2026-11-24 10:10:00", 8, "a2")
    + answered("c8", "2026-11-25 10:00:00", 7, "a1")
    + [msg("u1", "c9", "customer", "2026-11-25 11:00:00"),
       msg("u2", "c10", "customer", "2026-11-26 11:00:00", agent="a1")]
)


def test_frt_median_and_p90_per_day_odd_even_and_single(built):
    b = built(messages=FRT_MESSAGES)
    # Mon: [5, 10, 30, 40, 100]: median x2 = 30; p90 h = 3.6: 40 + 0.6·60 = 76.
    # Tue: [2, 8]: median h = 0.5: 5; p90 h = 0.9: 2 + 0.9·6 = 7.4.   Wed: [7].   Thu: none answered: no_data.
    assert_rows(b.kpi("frt_median_seconds"), {
        "2026-11-23": (30.0, None, 5.0, "unrated", False),
        "2026-11-24": (5.0, None, 2.0, "unrated", False),
        "2026-11-25": (7.0, None, 1.0, "unrated", False),
        "2026-11-26": (None, None, 0.0, "no_data", False),
    })
    assert_rows(b.kpi("frt_p90_seconds"), {
        "2026-11-23": (76.0, None, 5.0, "unrated", False),
        "2026-11-24": (7.4, None, 2.0, "unrated", False),
        "2026-11-25": (7.0, None, 1.0, "unrated", False),
        "2026-11-26": (None, None, 0.0, "no_data", False),
    })


def test_month_percentiles_come_from_all_values_not_from_day_percentiles(built):
    b = built(messages=FRT_MESSAGES)
    # November: [2, 5, 7, 8, 10, 30, 40, 100]: median h = 3.5: 8 + 0.5·2 = 9 (the days' medians 30, 5, 7 would
    # give 7); p90 h = 6.3: 40 + 0.3·60 = 58.
    assert_rows(b.kpi("frt_median_seconds", "month"), {"2026-11": (9.0, None, 8.0, "unrated", False)})
    assert_rows(b.kpi("frt_p90_seconds", "month"), {"2026-11": (58.0, None, 8.0, "unrated", False)})
    assert_rows(b.kpi("frt_median_seconds", "week"), {"2026-W48": (9.0, None, 8.0, "unrated", False)})
    assert_rows(b.kpi("frt_p90_seconds", "year"), {"2026": (58.0, None, 8.0, "unrated", False)})


def test_frt_percentiles_by_the_sessions_agent(built):
    b = built(messages=FRT_MESSAGES)
    # a1: Mon [5, 30, 100]: median 30, p90 h = 1.8: 30 + 0.8·70 = 86; Tue [2]; Wed [7]; Thu routed, unanswered.
    assert_rows(b.kpi("frt_median_seconds", agent="a1"), {
        "2026-11-23": (30.0, None, 3.0, "unrated", False),
        "2026-11-24": (2.0, None, 1.0, "unrated", False),
        "2026-11-25": (7.0, None, 1.0, "unrated", False),
        "2026-11-26": (None, None, 0.0, "no_data", False),
    })
    assert_rows(b.kpi("frt_p90_seconds", agent="a1"), {
        "2026-11-23": (86.0, None, 3.0, "unrated", False),
        "2026-11-24": (2.0, None, 1.0, "unrated", False),
        "2026-11-25": (7.0, None, 1.0, "unrated", False),
        "2026-11-26": (None, None, 0.0, "no_data", False),
    })
    # a2: Mon [10, 40]: median 25, p90 h = 0.9: 10 + 0.9·30 = 37; Tue [8].
    assert_rows(b.kpi("frt_median_seconds", agent="a2"), {"2026-11-23": (25.0, None, 2.0, "unrated", False),
                                                          "2026-11-24": (8.0, None, 1.0, "unrated", False)})
    assert_rows(b.kpi("frt_p90_seconds", agent="a2"), {"2026-11-23": (37.0, None, 2.0, "unrated", False),
                                                       "2026-11-24": (8.0, None, 1.0, "unrated", False)})
    # November a1: [2, 5, 7, 30, 100]: median 7, p90 h = 3.6: 30 + 0.6·70 = 72.
    # November a2: [8, 10, 40]: median 10, p90 h = 1.8: 10 + 0.8·30 = 34.
    assert_rows(b.kpi("frt_median_seconds", "month", agent="a1"), {"2026-11": (7.0, None, 5.0, "unrated", False)})
    assert_rows(b.kpi("frt_p90_seconds", "month", agent="a1"), {"2026-11": (72.0, None, 5.0, "unrated", False)})
    assert_rows(b.kpi("frt_median_seconds", "month", agent="a2"), {"2026-11": (10.0, None, 3.0, "unrated", False)})
    assert_rows(b.kpi("frt_p90_seconds", "month", agent="a2"), {"2026-11": (34.0, None, 3.0, "unrated", False)})


def test_percentiles_with_ties(built):
    messages = (answered("c1", "2026-11-27 10:00:00", 10, "a1") + answered("c2", "2026-11-27 10:10:00", 10, "a1")
                + answered("c3", "2026-11-27 10:20:00", 20, "a1") + answered("c4", "2026-11-27 10:30:00", 10, "a1"))
    b = built(messages=messages)
    # [10, 10, 10, 20]: median h = 1.5: 10; p90 h = 2.7: 10 + 0.7·10 = 17.
    assert_rows(b.kpi("frt_median_seconds"), {"2026-11-27": (10.0, None, 4.0, "unrated", False)})
    assert_rows(b.kpi("frt_p90_seconds"), {"2026-11-27": (17.0, None, 4.0, "unrated", False)})


# Turns of 2026-11-27: A (agent a1): 10 s by a1, 20 s by a1, then an unanswered turn;
#                      B (agent a2): 20 s by a2, 50 s by a1.
TURN_MESSAGES = [
    msg("1", "cA", "customer", "2026-11-27 10:00:00"),
    msg("2", "cA", "agent", "2026-11-27 10:00:10", agent="a1"),
    msg("3", "cA", "customer", "2026-11-27 10:01:00"),
    msg("4", "cA", "agent", "2026-11-27 10:01:20", agent="a1"),
    msg("5", "cA", "customer", "2026-11-27 10:02:00"),
    msg("6", "cB", "customer", "2026-11-27 11:00:00"),
    msg("7", "cB", "agent", "2026-11-27 11:00:20", agent="a2"),
    msg("8", "cB", "customer", "2026-11-27 11:01:00"),
    msg("9", "cB", "agent", "2026-11-27 11:01:50", agent="a1"),
]


def test_response_percentiles_by_the_answering_agent(built):
    b = built(messages=TURN_MESSAGES)
    # [10, 20, 20, 50]: median h = 1.5: 20; p90 h = 2.7: 20 + 0.7·30 = 41.
    assert_rows(b.kpi("response_median_seconds"), {"2026-11-27": (20.0, None, 4.0, "unrated", False)})
    assert_rows(b.kpi("response_p90_seconds"), {"2026-11-27": (41.0, None, 4.0, "unrated", False)})
    # a1 answered [10, 20, 50]: median 20, p90 h = 1.8: 20 + 0.8·30 = 44; a2 answered [20].
    assert_rows(b.kpi("response_median_seconds", agent="a1"), {"2026-11-27": (20.0, None, 3.0, "unrated", False)})
    assert_rows(b.kpi("response_p90_seconds", agent="a1"), {"2026-11-27": (44.0, None, 3.0, "unrated", False)})
    assert_rows(b.kpi("response_median_seconds", agent="a2"), {"2026-11-27": (20.0, None, 1.0, "unrated", False)})
    assert_rows(b.kpi("response_p90_seconds", agent="a2"), {"2026-11-27": (20.0, None, 1.0, "unrated", False)})
    assert b.kpi("avg_response_seconds")["2026-11-27"][:3] == (25.0, 100.0, 4.0)


def test_response_percentiles_include_capped_unanswered_turns(built):
    b = built(Config(unanswered_turn_cap=timedelta(minutes=10)), messages=TURN_MESSAGES)
    # [10, 20, 20, 50, 600]: median 20; p90 h = 3.6: 50 + 0.6·550 = 380.
    assert_rows(b.kpi("response_median_seconds"), {"2026-11-27": (20.0, None, 5.0, "unrated", False)})
    assert_rows(b.kpi("response_p90_seconds"), {"2026-11-27": (380.0, None, 5.0, "unrated", False)})
    # The unanswered turn goes to A's agent a1: [10, 20, 50, 600]: median h = 1.5: 35; p90 h = 2.7: 50 + 0.7·550.
    assert_rows(b.kpi("response_median_seconds", agent="a1"), {"2026-11-27": (35.0, None, 4.0, "unrated", False)})
    assert_rows(b.kpi("response_p90_seconds", agent="a1"), {"2026-11-27": (435.0, None, 4.0, "unrated", False)})
    assert_rows(b.kpi("response_median_seconds", agent="a2"), {"2026-11-27": (20.0, None, 1.0, "unrated", False)})
    assert b.kpi("avg_response_seconds")["2026-11-27"][:3] == (140.0, 700.0, 5.0)
    # FRT distributions are not affected by the cap: FRTs 10 (A) and 20 (B).
    assert_rows(b.kpi("frt_median_seconds"), {"2026-11-27": (15.0, None, 2.0, "unrated", False)})


def test_response_percentiles_have_no_data_when_no_turn_was_answered(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00", agent="a1")])
    assert_rows(b.kpi("response_median_seconds"), {"2026-11-27": (None, None, 0.0, "no_data", False)})
    assert_rows(b.kpi("response_p90_seconds"), {"2026-11-27": (None, None, 0.0, "no_data", False)})
    assert b.kpi("response_median_seconds", agent="a1") == {}     # as PT: no answering agent


# --- FRT buckets -----------------------------------------------------------------------------------------------------

def test_frt_bucket_edges_are_inclusive_above(built):
    frts = [(0, "a2"), (10, "a1"), (11, "a1"), (20, "a1"), (30, "a1"), (60, "a1"), (300, "a2"), (301, "a1")]
    messages = [m for i, (frt, agent) in enumerate(frts)
                for m in answered(f"c{i}", f"2026-11-27 1{i}:00:00", frt, agent)]
    messages.append(msg("u", "cu", "customer", "2026-11-27 09:00:00"))      # unanswered: in no bucket
    b = built(messages=messages)
    # [0, 10] holds 0 and 10; (10, 20] 11 and 20; (20, 30] 30; (30, 60] 60; (60, 300] 300; > 300: 301.
    expected = dict(zip(BUCKETS, [(25.0, 2.0), (25.0, 2.0), (12.5, 1.0), (12.5, 1.0), (12.5, 1.0), (12.5, 1.0)]))
    for code, (value, numerator) in expected.items():
        for grain, period in [("day", "2026-11-27"), ("week", "2026-W48"), ("month", "2026-11")]:
            assert_rows(b.kpi(code, grain), {period: (value, numerator, 8.0, "unrated", False)})
    total = b.query("SELECT sum(value) FROM kpi WHERE kpi LIKE 'frt_bucket_%' AND grain = 'day' AND agent_id IS NULL")
    assert total[0][0] == pytest.approx(100.0)
    # a2: 0 and 300; a1: 10, 11, 20, 30, 60, 301
    a2 = [(50.0, 1.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (50.0, 1.0), (0.0, 0.0)]
    a1 = [(100 / 6, 1.0), (200 / 6, 2.0), (100 / 6, 1.0), (100 / 6, 1.0), (0.0, 0.0), (100 / 6, 1.0)]
    for code, (v2, n2), (v1, n1) in zip(BUCKETS, a2, a1):
        assert_rows(b.kpi(code, agent="a2"), {"2026-11-27": (v2, n2, 2.0, "unrated", False)})
        assert_rows(b.kpi(code, agent="a1"), {"2026-11-27": (v1, n1, 6.0, "unrated", False)})


def test_frt_buckets_with_fractional_seconds(built):
    frts = [9.999999, 0.5, 10.000001, 10.5, 20.000001, 30.5, 60.25, 300.5]
    messages = [m for i, frt in enumerate(frts) for m in answered(f"c{i}", f"2026-11-27 1{i}:00:00", frt, "a1")]
    b = built(messages=messages)
    assert b.query("SELECT frt_seconds FROM sessions ORDER BY started_at") == [(pytest.approx(f, rel=0, abs=1e-7),) for f in frts]
    expected = dict(zip(BUCKETS, [(25.0, 2.0), (25.0, 2.0), (12.5, 1.0), (12.5, 1.0), (12.5, 1.0), (12.5, 1.0)]))
    for code, (value, numerator) in expected.items():
        assert_rows(b.kpi(code), {"2026-11-27": (value, numerator, 8.0, "unrated", False)})


def test_frt_buckets_have_no_data_when_no_inquiry_was_answered(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00")])
    for code in BUCKETS:
        assert_rows(b.kpi(code), {"2026-11-27": (None, 0.0, 0.0, "no_data", False)})


# --- service clock ---------------------------------------------------------------------------------------------------

def test_distributions_on_the_service_clock(built):
    messages = [
        msg("1", "c1", "customer", "2026-11-30 07:50:00"),
        msg("2", "c1", "agent", "2026-11-30 08:00:05", agent="a1"),    # wall 605 s, service 5 s
        msg("3", "c2", "customer", "2026-11-30 10:00:00"),
        msg("4", "c2", "agent", "2026-11-30 10:00:20", agent="a1"),    # 20 s on both
        msg("5", "c3", "customer", "2026-11-30 17:59:50"),
        msg("6", "c3", "agent", "2026-11-30 18:00:30", agent="a1"),    # wall 40 s, service 10 s
    ]
    b = built(Config(service_hours=ServiceHours.parse(MON_FRI)), messages=messages)
    day = "2026-11-30"
    # service [5, 10, 20]: median 10, p90 h = 1.8: 10 + 0.8·10 = 18. wall [20, 40, 605]: 40, 40 + 0.8·565 = 492.
    for code in ("frt_median_seconds", "response_median_seconds"):
        assert_rows(b.kpi(code, clock="service"), {day: (10.0, None, 3.0, "unrated", False)})
        assert_rows(b.kpi(code), {day: (40.0, None, 3.0, "unrated", False)})
        assert_rows(b.kpi(code, agent="a1", clock="service"), {day: (10.0, None, 3.0, "unrated", False)})
    for code in ("frt_p90_seconds", "response_p90_seconds"):
        assert_rows(b.kpi(code, clock="service"), {day: (18.0, None, 3.0, "unrated", False)})
        assert_rows(b.kpi(code), {day: (492.0, None, 3.0, "unrated", False)})
    service = [(200 / 3, 2.0), (100 / 3, 1.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0)]
    wall = [(0.0, 0.0), (100 / 3, 1.0), (0.0, 0.0), (100 / 3, 1.0), (0.0, 0.0), (100 / 3, 1.0)]
    for code, (vs, ns), (vw, nw) in zip(BUCKETS, service, wall):
        assert_rows(b.kpi(code, clock="service"), {day: (vs, ns, 3.0, "unrated", False)})
        assert_rows(b.kpi(code), {day: (vw, nw, 3.0, "unrated", False)})


def test_no_service_rows_without_a_calendar(built):
    b = built(messages=answered("c1", "2026-11-27 10:00:00", 5, "a1"))
    for code in ("frt_median_seconds", "frt_p90_seconds", "response_median_seconds", "response_p90_seconds", *BUCKETS):
        assert b.kpi(code, clock="service") == {}, code
        assert set(b.kpi(code)) == {"2026-11-27"}, code


# --- bands -----------------------------------------------------------------------------------------------------------

def test_a_thresholds_file_may_band_distributions(built, tmp_path):
    path = Path(tmp_path / "t.toml")
    path.write_text('[frt_median_seconds]\nbetter = "lower"\nAAAAA = 10\nAAAA = 20\nAAA = 30\n\n'
                    '[frt_bucket_0_10s]\nbetter = "higher"\nlimit = 50\n', encoding="utf-8")
    b = built(Config(thresholds=path), messages=FRT_MESSAGES)
    # medians: Mon 30 (exactly AAA), Tue 5, Wed 7; 0-10 s share: Mon 2/5 = 40 % (fail), Tue 100 %, Wed 100 %.
    assert {p: r[3] for p, r in b.kpi("frt_median_seconds").items()} == {
        "2026-11-23": "AAA", "2026-11-24": "AAAAA", "2026-11-25": "AAAAA", "2026-11-26": "no_data"}
    assert {p: r[:4] for p, r in b.kpi("frt_bucket_0_10s").items() if p != "2026-11-26"} == {
        "2026-11-23": (40.0, 2.0, 5.0, "fail"), "2026-11-24": (100.0, 2.0, 2.0, "pass"),
        "2026-11-25": (100.0, 1.0, 1.0, "pass")}
    assert {r[3] for r in b.kpi("frt_p90_seconds").values()} == {"unrated", "no_data"}


def test_percentiles_of_fractional_seconds_are_exact(built):
    messages = (answered("c1", "2026-11-27 10:00:00", 10.5, "a1") + answered("c2", "2026-11-27 11:00:00", 11.25, "a1")
                + answered("c3", "2026-11-27 12:00:00", 0.4, "a1"))
    b = built(messages=messages)
    # [0.4, 10.5, 11.25]: median 10.5; p90 h = 1.8: 10.5 + 0.8·0.75 = 11.1
    assert_rows(b.kpi("frt_median_seconds"), {"2026-11-27": (10.5, None, 3.0, "unrated", False)})
    assert_rows(b.kpi("frt_p90_seconds"), {"2026-11-27": (11.1, None, 3.0, "unrated", False)})


def test_capped_unanswered_turns_in_the_service_clock_distribution(built):
    config = Config(service_hours=ServiceHours.parse(MON_FRI), unanswered_turn_cap=timedelta(minutes=10))
    b = built(config, messages=TURN_MESSAGES)
    # Friday 10:00-11:02 is inside the window: the same [10, 20, 20, 50, 600] on both clocks.
    for clock in ("wall", "service"):
        assert_rows(b.kpi("response_median_seconds", clock=clock), {"2026-11-27": (20.0, None, 5.0, "unrated", False)})
        assert_rows(b.kpi("response_p90_seconds", clock=clock), {"2026-11-27": (380.0, None, 5.0, "unrated", False)})
        assert_rows(b.kpi("response_p90_seconds", agent="a1", clock=clock),
                    {"2026-11-27": (435.0, None, 4.0, "unrated", False)})


def test_quarter_and_year_percentiles_sum_their_months_and_weeks_cross_months_and_years(built):
    # FRT seconds: 2026-03-10: 1 | 10-15: 100 | 11-30 (Mon): 5 | 12-01: 20 | 12-31 (Thu): 7 | 2027-01-01: 3, 01-02: 50
    b = built(messages=(
        answered("c1", "2026-03-10 10:00:00", 1, "a1") + answered("c2", "2026-10-15 10:00:00", 100, "a1")
        + answered("c3", "2026-11-30 10:00:00", 5, "a1") + answered("c4", "2026-12-01 10:00:00", 20, "a1")
        + answered("c5", "2026-12-31 10:00:00", 7, "a1") + answered("c6", "2027-01-01 10:00:00", 3, "a1")
        + answered("c7", "2027-01-02 10:00:00", 50, "a1")))
    median = {period: row[0] for period, row in b.kpi("frt_median_seconds", "quarter").items()}
    p90 = {period: row[0] for period, row in b.kpi("frt_p90_seconds", "quarter").items()}
    # Q4 [5, 7, 20, 100]: median h = 1.5: 7 + 0.5·13 = 13.5; p90 h = 2.7: 20 + 0.7·80 = 76.   Q1 2027 [3, 50].
    assert median == pytest.approx({"2026-Q1": 1.0, "2026-Q4": 13.5, "2027-Q1": 26.5})
    assert p90 == pytest.approx({"2026-Q1": 1.0, "2026-Q4": 76.0, "2027-Q1": 45.3})
    # 2026 [1, 5, 7, 20, 100]: median 7; p90 h = 3.6: 20 + 0.6·80 = 68.
    assert_rows(b.kpi("frt_median_seconds", "year"), {"2026": (7.0, None, 5.0, "unrated", False),
                                                     "2027": (26.5, None, 2.0, "unrated", False)})
    assert_rows(b.kpi("frt_p90_seconds", "year"), {"2026": (68.0, None, 5.0, "unrated", False),
                                                  "2027": (45.3, None, 2.0, "unrated", False)})
    # December [7, 20]: 13.5 and 18.7.  W49 (Nov 30 - Dec 6) [5, 20]: 12.5 and 18.5.
    # W53 (Dec 28 - Jan 3, ISO year 2026) [3, 7, 50]: median 7; p90 h = 1.8: 7 + 0.8·43 = 41.4.
    assert b.kpi("frt_median_seconds", "month")["2026-12"][0] == pytest.approx(13.5)
    assert b.kpi("frt_p90_seconds", "month")["2026-12"][0] == pytest.approx(18.7)
    weeks = b.kpi("frt_median_seconds", "week")
    assert (weeks["2026-W49"][0], weeks["2026-W53"][0]) == pytest.approx((12.5, 7.0))
    weeks = b.kpi("frt_p90_seconds", "week")
    assert (weeks["2026-W49"][0], weeks["2026-W53"][0]) == pytest.approx((18.5, 41.4))
