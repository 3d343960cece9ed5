"""Hand-computed cases for issue 5, README "Service hours and unanswered turns": the calendar, service time of FRT and
PT, the `clock` column, and the unanswered-turn cap.

Calendar used below: 2026-11-23 Mon, 24 Tue, 25 Wed, 26 Thu, 27 Fri, 28 Sat, 29 Sun (ISO week 48), 30 Mon (week 49).
"""
from datetime import date, timedelta

import pytest

from pipeline.config import Config, ConfigError
from pipeline.service_hours import ServiceHours, ServiceHoursError
from tests.conftest import msg

WORKDAYS = ("mon", "tue", "wed", "thu", "fri")
MON_FRI = {d: ["08:00-18:00"] for d in WORKDAYS}
RESPONSE_TIME_KPIS = {
    "frt_seconds", "avg_response_seconds", "frt_median_seconds", "frt_p90_seconds", "response_median_seconds",
    "response_p90_seconds", "frt_bucket_0_10s", "frt_bucket_10_20s", "frt_bucket_20_30s", "frt_bucket_30_60s",
    "frt_bucket_1_5min", "frt_bucket_over_5min",
}


def hours(**data) -> Config:
    return Config(service_hours=ServiceHours.parse(data))


def frts(b):
    return b.query("SELECT customer_id, frt_seconds, frt_service_seconds FROM sessions WHERE is_inquiry "
                   "ORDER BY customer_id")


def first(b, kpi, grain="day", agent=None, clock="wall"):
    """period → (value, numerator, denominator) of one KPI row set (bands of service rows are not asserted)."""
    return {p: row[:3] for p, row in b.kpi(kpi, grain, agent=agent, clock=clock).items()}


# --- parsing and loading ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    {"mon": ["08:00-12:00", "11:00-13:00"]},                    # overlap
    {"mon": ["13:00-14:00", "08:00-13:30"]},                    # overlap, listed out of order
    {"mon": ["12:00-12:00"]},                                   # start = end
    {"mon": ["18:00-08:00"]},                                   # start after end
    {"mon": ["8am-6pm"]},                                       # not HH:MM-HH:MM
    {"mon": ["08:00-25:00"]},                                   # no such time
    {"mon": ["08:00-24:30"]},                                   # beyond 24:00
    {"mon": ["08:60-09:00"]},                                   # no such minute
    {"mon": "08:00-18:00"},                                     # not a list
    {"monday": ["08:00-18:00"]},                                # unknown key
    {"mon": ["08:00-18:00"], "holidays": ["2026-13-01"]},       # not a date
    {"mon": ["08:00-18:00"], "dates": {"2026-11-29": ["10:00-12:00", "11:30-13:00"]}},   # overlap on a date
    {"mon": ["08:00-18:00"], "dates": {"2026-11-29": ["16:00-10:00"]}},                  # start after end on a date
], ids=["overlap", "overlap-unsorted", "empty-window", "reversed", "bad-text", "hour-25", "past-24", "minute-60",
        "not-a-list", "unknown-key", "bad-holiday", "dates-overlap", "dates-reversed"])
def test_service_hours_are_validated_on_parse(data):
    with pytest.raises(ServiceHoursError):
        ServiceHours.parse(data)


def test_valid_service_hours():
    sh = ServiceHours.parse({"mon": ["08:00-12:00", "12:00-13:00"],      # touching windows do not overlap
                             "sat": ["20:00-24:00"], "holidays": ["2026-11-30"],
                             "dates": {"2026-11-29": ["10:00-16:00"]}})
    assert sh.windows_on(date(2026, 11, 23)) == ((8 * 3600, 12 * 3600), (12 * 3600, 13 * 3600))
    assert sh.windows_on(date(2026, 11, 24)) == ()                      # a day not listed is closed
    assert sh.windows_on(date(2026, 11, 28)) == ((20 * 3600, 24 * 3600),)
    assert sh.windows_on(date(2026, 11, 29)) == ((10 * 3600, 16 * 3600),)
    assert sh.windows_on(date(2026, 11, 30)) == ()                      # a Monday holiday


def test_config_load_reads_service_hours_and_the_new_durations(tmp_path):
    path = tmp_path / "cskpi.toml"
    path.write_text(
        'unanswered_turn_cap = "10min"\n'
        'complaint_feedback_window = "48h"\n'
        "[service_hours]\n"
        'mon = ["09:00-12:00", "13:30-18:00"]\n'
        'tue = ["08:00-18:00"]\n'
        'holidays = ["2026-11-24", 2026-11-25]\n'
        "[service_hours.dates]\n"
        '"2026-11-29" = ["10:00-16:00"]\n', encoding="utf-8")
    config = Config.load(path)
    assert config.unanswered_turn_cap == timedelta(minutes=10)
    assert config.complaint_feedback_window == timedelta(hours=48)
    sh = config.service_hours
    assert sh.windows_on(date(2026, 11, 23)) == ((9 * 3600, 12 * 3600), (13 * 3600 + 1800, 18 * 3600))
    assert sh.windows_on(date(2026, 11, 24)) == ()                      # a Tuesday holiday
    assert sh.windows_on(date(2026, 12, 1)) == ((8 * 3600, 18 * 3600),)
    assert sh.windows_on(date(2026, 11, 29)) == ((10 * 3600, 16 * 3600),)
    assert sh.windows_on(date(2026, 11, 26)) == ()                      # Thursday is not listed


def test_config_load_defaults_and_refuses_bad_service_hours(tmp_path):
    path = tmp_path / "cskpi.toml"
    path.write_text('timezone = "Asia/Shanghai"\n', encoding="utf-8")
    config = Config.load(path)
    assert (config.service_hours, config.unanswered_turn_cap, config.complaint_feedback_window) == \
        (None, None, timedelta(hours=24))
    path.write_text('[service_hours]\nmon = ["08:00-12:00", "11:00-13:00"]\n', encoding="utf-8")
    with pytest.raises(ConfigError):
        Config.load(path)
    path.write_text('[service_hours]\nmonday = ["08:00-12:00"]\n', encoding="utf-8")
    with pytest.raises(ConfigError):
        Config.load(path)


# --- service time through the pipeline -------------------------------------------------------------------------------

def test_the_issue_examples_on_a_mon_fri_08_18_calendar(built):
    b = built(hours(**MON_FRI), messages=[
        # Thursday 09:30 → 14:00 (the late reply joins the session): 270 min on both clocks
        msg("1", "c1", "customer", "2026-11-26 09:30:00"),
        msg("2", "c1", "agent", "2026-11-26 14:00:00", agent="a1"),
        # Friday 17:50 → Monday 08:20: wall 62 h 30 min = 225000 s; service 10 min + 20 min = 1800 s
        msg("3", "c2", "customer", "2026-11-27 17:50:00", session="s2"),
        msg("4", "c2", "agent", "2026-11-30 08:20:00", agent="a1", session="s2"),
    ])
    assert frts(b) == [("c1", 16200.0, 16200.0), ("c2", 225000.0, 1800.0)]
    assert b.query("SELECT session_id, response_seconds, response_service_seconds FROM turns ORDER BY 1") == [
        ("c1#1", 16200.0, 16200.0), ("s2", 225000.0, 1800.0)]
    for kpi in ("frt_seconds", "avg_response_seconds"):
        assert first(b, kpi) == {"2026-11-26": (16200.0, 16200.0, 1.0), "2026-11-27": (225000.0, 225000.0, 1.0)}
        assert first(b, kpi, clock="service") == {"2026-11-26": (16200.0, 16200.0, 1.0),
                                                  "2026-11-27": (1800.0, 1800.0, 1.0)}
        # The week sums the days on each clock: (16200 + 225000) / 2 and (16200 + 1800) / 2.
        assert first(b, kpi, "week") == {"2026-W48": (120600.0, 241200.0, 2.0)}
        assert first(b, kpi, "week", clock="service") == {"2026-W48": (9000.0, 18000.0, 2.0)}
        assert first(b, kpi, "week", agent="a1", clock="service") == {"2026-W48": (9000.0, 18000.0, 2.0)}
    # The wall rows keep their bands; nothing here is provisional.
    assert b.kpi("frt_seconds")["2026-11-27"][3:] == ("below", False)
    assert b.query("SELECT count(*) FROM kpi WHERE clock = 'service' AND provisional") == [(0,)]


def test_a_message_on_a_holiday_counts_from_the_next_working_opening(built):
    b = built(hours(**MON_FRI, holidays=["2026-11-25"]), messages=[
        # Wednesday (holiday) 10:00 → Thursday 08:30: wall 22 h 30 min = 81000 s; service 08:00-08:30 = 1800 s
        msg("1", "c1", "customer", "2026-11-25 10:00:00"),
        msg("2", "c1", "agent", "2026-11-26 08:30:00", agent="a1"),
        # answered on the holiday itself: the clock never started
        msg("3", "c2", "customer", "2026-11-25 11:00:00"),
        msg("4", "c2", "agent", "2026-11-25 11:10:00", agent="a1"),
        # Saturday is not listed: closed
        msg("5", "c3", "customer", "2026-11-28 10:00:00"),
        msg("6", "c3", "agent", "2026-11-28 10:05:00", agent="a1"),
    ])
    assert frts(b) == [("c1", 81000.0, 1800.0), ("c2", 600.0, 0.0), ("c3", 300.0, 0.0)]
    assert first(b, "frt_seconds", clock="service") == {"2026-11-25": (900.0, 1800.0, 2.0),
                                                        "2026-11-28": (0.0, 0.0, 1.0)}
    assert first(b, "frt_seconds") == {"2026-11-25": (40800.0, 81600.0, 2.0), "2026-11-28": (300.0, 300.0, 1.0)}


def test_split_shifts(built):
    split = {d: ["09:00-12:00", "13:30-18:00"] for d in WORKDAYS}
    b = built(hours(**split), messages=[
        # Monday 11:50 → 13:40: 10 min before the break + 10 min after it = 1200 s (wall 110 min = 6600 s)
        msg("1", "c1", "customer", "2026-11-30 11:50:00"),
        msg("2", "c1", "agent", "2026-11-30 13:40:00", agent="a1"),
        # asked during the break, answered in it: 0 s
        msg("3", "c2", "customer", "2026-11-30 12:10:00"),
        msg("4", "c2", "agent", "2026-11-30 12:20:00", agent="a1"),
        # asked during the break, answered after it: from 13:30
        msg("5", "c3", "customer", "2026-11-30 13:00:00"),
        msg("6", "c3", "agent", "2026-11-30 13:35:30", agent="a1"),
    ])
    assert frts(b) == [("c1", 6600.0, 1200.0), ("c2", 600.0, 0.0), ("c3", 2130.0, 330.0)]
    assert first(b, "frt_seconds", clock="service") == {"2026-11-30": (510.0, 1530.0, 3.0)}


def test_outside_hours_answered_before_opening_is_0_and_after_opening_counts_from_the_opening(built):
    b = built(hours(**MON_FRI), messages=[
        msg("1", "c1", "customer", "2026-11-30 07:00:00"),
        msg("2", "c1", "agent", "2026-11-30 07:45:00", agent="a1"),     # before opening: 0 s (wall 2700 s)
        msg("3", "c2", "customer", "2026-11-30 19:00:00"),
        msg("4", "c2", "agent", "2026-11-30 19:10:00", agent="a1"),     # after closing: 0 s (wall 600 s)
        msg("5", "c3", "customer", "2026-11-30 07:50:00"),
        msg("6", "c3", "agent", "2026-11-30 08:05:00", agent="a1"),     # 08:00 → 08:05 = 300 s (wall 900 s)
    ])
    assert frts(b) == [("c1", 2700.0, 0.0), ("c2", 600.0, 0.0), ("c3", 900.0, 300.0)]
    assert first(b, "frt_seconds", clock="service") == {"2026-11-30": (100.0, 300.0, 3.0)}
    assert first(b, "frt_seconds") == {"2026-11-30": (1400.0, 4200.0, 3.0)}


def test_a_dates_override_opens_a_sunday(built):
    b = built(hours(**MON_FRI, dates={"2026-11-29": ["10:00-16:00"]}), messages=[
        # make-up working Sunday (调休): 09:00 → 10:30 counts from 10:00 = 1800 s (wall 5400 s)
        msg("1", "c1", "customer", "2026-11-29 09:00:00"),
        msg("2", "c1", "agent", "2026-11-29 10:30:00", agent="a1"),
        # the Saturday before stays closed: Saturday 15:00 → Sunday 10:20 is 20 min (wall 19 h 20 min)
        msg("3", "c2", "customer", "2026-11-28 15:00:00"),
        msg("4", "c2", "agent", "2026-11-29 10:20:00", agent="a1"),
    ])
    assert frts(b) == [("c1", 5400.0, 1800.0), ("c2", 69600.0, 1200.0)]


def test_a_window_ending_at_24_00_runs_into_the_next_days_window(built):
    b = built(hours(sat=["20:00-24:00"], sun=["00:00-02:00"]), messages=[
        # Saturday 23:50 → Sunday 00:10: 10 min + 10 min
        msg("1", "c1", "customer", "2026-11-28 23:50:00"),
        msg("2", "c1", "agent", "2026-11-29 00:10:00", agent="a1"),
    ])
    assert frts(b) == [("c1", 1200.0, 1200.0)]


def test_turn_response_times_in_service_time(built):
    b = built(hours(**MON_FRI), messages=[
        msg("1", "c1", "customer", "2026-11-27 17:55:00", session="s1"),
        msg("2", "c1", "agent", "2026-11-27 17:58:00", agent="a2", session="s1"),    # 180 s on both clocks
        msg("3", "c1", "customer", "2026-11-27 17:59:00", session="s1"),
        # Friday 17:59 → Monday 08:05: wall 62 h 6 min = 223560 s; service 1 min + 5 min = 360 s
        msg("4", "c1", "agent", "2026-11-30 08:05:00", agent="a2", session="s1"),
    ])
    assert b.query("SELECT turn_no, response_seconds, response_service_seconds FROM turns ORDER BY turn_no") == [
        (1, 180.0, 180.0), (2, 223560.0, 360.0)]
    assert first(b, "avg_response_seconds") == {"2026-11-27": (111870.0, 223740.0, 2.0)}
    assert first(b, "avg_response_seconds", clock="service") == {"2026-11-27": (270.0, 540.0, 2.0)}
    assert first(b, "avg_response_seconds", agent="a2", clock="service") == {"2026-11-27": (270.0, 540.0, 2.0)}
    assert first(b, "frt_seconds", clock="service") == {"2026-11-27": (180.0, 180.0, 1.0)}


# --- which rows have a service clock ---------------------------------------------------------------------------------

MESSAGES = [
    msg("1", "c1", "customer", "2026-11-27 10:00:00"),
    msg("2", "c1", "agent", "2026-11-27 10:00:05", agent="a1"),
    msg("3", "c2", "customer", "2026-11-27 11:00:00"),          # unanswered
]
RATINGS = [("r1", "S1", "2026-11-27 10:10:00", "5", None, None, "a1")]
ORDERS = [("o1", "S1", "c1", "2026-11-27 10:20:00", "2026-11-27 10:30:00", "10", "paid")]


def test_with_a_calendar_every_response_time_kpi_has_wall_and_service_rows(built):
    b = built(hours(**MON_FRI), messages=MESSAGES, ratings=RATINGS, orders=ORDERS)
    service = {r[0] for r in b.query("SELECT DISTINCT kpi FROM kpi WHERE clock = 'service'")}
    assert service == RESPONSE_TIME_KPIS
    wall = {r[0] for r in b.query("SELECT DISTINCT kpi FROM kpi WHERE clock = 'wall'")}
    assert wall >= RESPONSE_TIME_KPIS | {"reply_rate", "inquiry_conversion_rate", "satisfaction_rate"}
    assert b.query("SELECT DISTINCT clock FROM kpi ORDER BY 1") == [("service",), ("wall",)]
    # Same periods, shops and agents on both clocks, at every grain.
    for kpi in ("frt_seconds", "avg_response_seconds"):
        for clock in ("wall", "service"):
            got = b.query("SELECT grain, period, agent_id, numerator, denominator FROM kpi "
                          "WHERE kpi = ? AND clock = ? ORDER BY grain, agent_id NULLS FIRST", [kpi, clock])
            assert got == [("day", "2026-11-27", None, 5.0, 1.0), ("day", "2026-11-27", "a1", 5.0, 1.0),
                           ("month", "2026-11", None, 5.0, 1.0), ("month", "2026-11", "a1", 5.0, 1.0),
                           ("quarter", "2026-Q4", None, 5.0, 1.0), ("quarter", "2026-Q4", "a1", 5.0, 1.0),
                           ("week", "2026-W48", None, 5.0, 1.0), ("week", "2026-W48", "a1", 5.0, 1.0),
                           ("year", "2026", None, 5.0, 1.0), ("year", "2026", "a1", 5.0, 1.0)], (kpi, clock)
    assert b.kpi("reply_rate", clock="service") == {}
    assert b.kpi("reply_rate")["2026-11-27"][:3] == (50.0, 1.0, 2.0)
    # service_seconds of the session: 10:00:00 → 10:00:05 is within the window
    assert frts(b) == [("c1", 5.0, 5.0), ("c2", None, None)]


def test_without_a_calendar_only_wall_rows(built):
    b = built(messages=MESSAGES, ratings=RATINGS, orders=ORDERS)
    assert b.query("SELECT DISTINCT clock FROM kpi") == [("wall",)]
    assert b.kpi("frt_seconds", clock="service") == {}
    assert b.kpi("frt_seconds")["2026-11-27"] == (5.0, 5.0, 1.0, "AAAAA", False)


def test_clock_is_the_last_column_of_kpi(built):
    b = built(messages=MESSAGES)
    columns = [r[0] for r in b.query("SELECT column_name FROM information_schema.columns "
                                     "WHERE table_name = 'kpi' ORDER BY ordinal_position")]
    assert columns == ["grain", "period", "period_start", "shop_id", "agent_id", "kpi", "value", "numerator",
                       "denominator", "band", "provisional", "clock"]


# --- unanswered-turn cap ---------------------------------------------------------------------------------------------

CAP_MESSAGES = [
    # X: answered turn 30 s (a1), then an unanswered turn; the session's agent is a1
    msg("1", "c1", "customer", "2026-11-27 10:00:00"),
    msg("2", "c1", "agent", "2026-11-27 10:00:30", agent="a1"),
    msg("3", "c1", "customer", "2026-11-27 10:05:00"),
    # Y: never answered; routed to a4 (the agent on its first customer message), who answers nothing anywhere
    msg("4", "c2", "customer", "2026-11-27 11:00:00", agent="a4"),
    # Z: 20 s by a2 (the session's agent), then 40 s by a3
    msg("5", "c3", "customer", "2026-11-27 12:00:00"),
    msg("6", "c3", "agent", "2026-11-27 12:00:20", agent="a2"),
    msg("7", "c3", "customer", "2026-11-27 12:01:00"),
    msg("8", "c3", "agent", "2026-11-27 12:01:40", agent="a3"),
    # W: an answered turn slower than the cap keeps its own time: 900 s by a1
    msg("9", "c4", "customer", "2026-11-27 14:00:00"),
    msg("10", "c4", "agent", "2026-11-27 14:15:00", agent="a1"),
]


def test_without_the_cap_unanswered_turns_are_left_out(built):
    b = built(messages=CAP_MESSAGES)
    # answered turns: 30 + 20 + 40 + 900 = 990 over 4
    assert first(b, "avg_response_seconds") == {"2026-11-27": (247.5, 990.0, 4.0)}
    assert first(b, "avg_response_seconds", agent="a1") == {"2026-11-27": (465.0, 930.0, 2.0)}
    assert first(b, "avg_response_seconds", agent="a2") == {"2026-11-27": (20.0, 20.0, 1.0)}
    assert first(b, "avg_response_seconds", agent="a3") == {"2026-11-27": (40.0, 40.0, 1.0)}
    assert first(b, "avg_response_seconds", agent="a4") == {}
    assert first(b, "frt_seconds")["2026-11-27"][1:] == (950.0, 3.0)


def test_the_cap_counts_unanswered_turns_at_the_cap_under_the_sessions_agent(built):
    b = built(Config(unanswered_turn_cap=timedelta(minutes=10)), messages=CAP_MESSAGES)
    # X's second turn and Y's turn add 600 s each: (990 + 1200) / 6 = 365
    assert first(b, "avg_response_seconds") == {"2026-11-27": (365.0, 2190.0, 6.0)}
    assert first(b, "avg_response_seconds", "month") == {"2026-11": (365.0, 2190.0, 6.0)}
    assert first(b, "avg_response_seconds", agent="a1") == {"2026-11-27": (510.0, 1530.0, 3.0)}   # 30 + 900 + 600
    assert first(b, "avg_response_seconds", agent="a2") == {"2026-11-27": (20.0, 20.0, 1.0)}
    assert first(b, "avg_response_seconds", agent="a3") == {"2026-11-27": (40.0, 40.0, 1.0)}
    assert first(b, "avg_response_seconds", agent="a4") == {"2026-11-27": (600.0, 600.0, 1.0)}
    # FRT and reply rate do not change: FRT (30 + 20 + 900) / 3; 3 of 4 sessions replied.
    assert first(b, "frt_seconds")["2026-11-27"][1:] == (950.0, 3.0)
    assert first(b, "reply_rate")["2026-11-27"] == (75.0, 3.0, 4.0)
    assert b.query("SELECT DISTINCT clock FROM kpi") == [("wall",)]


def test_the_cap_applies_on_both_clocks(built):
    config = Config(service_hours=ServiceHours.parse(MON_FRI), unanswered_turn_cap=timedelta(minutes=10))
    b = built(config, messages=CAP_MESSAGES)
    # Friday 10:00-14:15 is inside 08:00-18:00: service time equals wall time, and the cap is 600 s on both.
    for clock in ("wall", "service"):
        assert first(b, "avg_response_seconds", clock=clock) == {"2026-11-27": (365.0, 2190.0, 6.0)}, clock
        assert first(b, "avg_response_seconds", agent="a1", clock=clock) == \
            {"2026-11-27": (510.0, 1530.0, 3.0)}, clock
        assert first(b, "avg_response_seconds", agent="a4", clock=clock) == \
            {"2026-11-27": (600.0, 600.0, 1.0)}, clock


def test_offsets_are_converted_to_local_time_before_the_calendar_applies(built):
    b = built(hours(**MON_FRI), messages=[
        # 01:30Z is Friday 09:30 in Asia/Shanghai, 06:00Z is 14:00: 270 min inside 08:00-18:00
        msg("1", "c1", "customer", "2026-11-27T01:30:00Z"),
        msg("2", "c1", "agent", "2026-11-27T06:00:00Z", agent="a1"),
    ])
    assert frts(b) == [("c1", 16200.0, 16200.0)]


def test_service_time_across_a_month_end(built):
    b = built(hours(**MON_FRI), messages=[
        # Friday 30 October 17:50 → Monday 2 November 08:20: 10 min + 20 min; the session stays in October
        msg("1", "c1", "customer", "2026-10-30 17:50:00", session="s1"),
        msg("2", "c1", "agent", "2026-11-02 08:20:00", agent="a1", session="s1"),
    ])
    assert frts(b) == [("c1", 225000.0, 1800.0)]
    assert first(b, "frt_seconds", "month", clock="service") == {"2026-10": (1800.0, 1800.0, 1.0)}


def test_setting_a_calendar_or_a_cap_later_recomputes(tmp_path):
    from pipeline import jobs
    from pipeline.land.lake import Lake
    from tests.conftest import MESSAGE_HEADER, Built, write_csv

    inbox = tmp_path / "in"
    write_csv(inbox / "messages_1.csv", MESSAGE_HEADER, [
        msg("1", "c1", "customer", "2026-11-27 17:50:00", session="s1"),
        msg("2", "c1", "agent", "2026-11-30 08:20:00", agent="a1", session="s1"),
        msg("3", "c1", "customer", "2026-11-30 08:21:00", session="s1")])          # unanswered
    lake = Lake(tmp_path / "lake")
    jobs.run(inbox, lake, Config())
    b = Built(lake, tmp_path)
    assert b.query("SELECT DISTINCT clock FROM kpi") == [("wall",)]
    assert first(b, "avg_response_seconds") == {"2026-11-27": (225000.0, 225000.0, 1.0)}
    result = jobs.run(inbox, lake, hours(**MON_FRI))
    assert result.computed
    assert first(b, "frt_seconds", clock="service") == {"2026-11-27": (1800.0, 1800.0, 1.0)}
    result = jobs.run(inbox, lake, Config(service_hours=ServiceHours.parse(MON_FRI),
                                          unanswered_turn_cap=timedelta(minutes=10)))
    assert result.computed
    # the unanswered second turn now counts 600 s on both clocks
    assert first(b, "avg_response_seconds") == {"2026-11-27": (112800.0, 225600.0, 2.0)}
    assert first(b, "avg_response_seconds", clock="service") == {"2026-11-27": (1200.0, 2400.0, 2.0)}
    # back to no calendar: the service rows go away
    jobs.run(inbox, lake, Config())
    assert b.query("SELECT DISTINCT clock FROM kpi") == [("wall",)]


def test_every_export_ends_with_clock(built, tmp_path):
    import csv
    import json

    from pipeline import jobs

    b = built(hours(**MON_FRI), messages=MESSAGES)
    out = tmp_path / "kpi.json"
    jobs.export(b.lake, "day", "all", "json", out)
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert all(list(r)[-1] == "clock" for r in rows) and len(rows) > 0
    frt = sorted((r["agent_id"] or "", r["clock"], r["value"]) for r in rows if r["kpi"] == "frt_seconds")
    assert frt == [("", "service", 5.0), ("", "wall", 5.0), ("a1", "service", 5.0), ("a1", "wall", 5.0)]
    out = tmp_path / "kpi.csv"
    jobs.export(b.lake, "month", "shop", "csv", out)
    with open(out, encoding="utf-8") as f:
        assert next(csv.reader(f))[-1] == "clock"
