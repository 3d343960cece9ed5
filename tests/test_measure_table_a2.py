"""Hand-computed cases for issue 5, Table A.2 (README "Table A.2, the 24-hour complaint rule"): feedback handling
rate, refund duration, platform help rate, dispute count, AI answer accuracy and the complaint 24-hour feedback rate.

Calendar used below: 2026-11-26 Thu, 27 Fri, 28 Sat, 29 Sun (ISO week 48); 30 Mon and 2026-12-01 Tue (week 49).
"""
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline import jobs
from pipeline.band import load_thresholds
from pipeline.config import Config, ConfigError
from pipeline.kinds import KINDS
from pipeline.land.lake import Lake
from tests.conftest import MESSAGE_HEADER, Built, build, msg, write_csv

NEW_KPIS = ("feedback_handling_rate", "refund_duration_hours", "platform_help_rate", "dispute_count",
            "bot_intent_accuracy", "bot_answer_accuracy", "bot_accuracy", "complaint_feedback_24h_rate")
GRAINS = {"day", "week", "month", "quarter", "year"}
LOOSE = Config(max_reject_ratio=1.0)  # lets a small file carry a reject


# --- rows in the canonical column order of pipeline/kinds.py ---------------------------------------------------------

def refund(rid, requested, completed=None, reason=None, outcome=None, shop="S1"):
    # refund_id, shop_id, requested_at, completed_at, order_id, customer_id, reason, outcome
    return (rid, shop, requested, completed, None, None, reason, outcome)


def dispute(did, opened, involved=None, closed=None, shop="S1"):
    # dispute_id, shop_id, opened_at, closed_at, platform_involved, order_id, customer_id
    return (did, shop, opened, closed, involved, None, None)


def feedback(fid, received, handled=None, handled_at=None, category=None, shop="S1"):
    # feedback_id, shop_id, received_at, handled_at, handled, category, customer_id
    return (fid, shop, received, handled_at, handled, category, None)


def audit(aid, answered, intent, answer, shop="S1", session=None, question="q"):
    # answer_id, shop_id, answered_at, intent_correct, answer_correct, session_id, customer_id, question
    return (aid, shop, answered, intent, answer, session, None, question)


def complaint(kid, created, category="service", resolved=None, agreed=None, responded=None, shop="S1"):
    # complaint_id, shop_id, created_at, customer_id, order_id, category, responded_at, resolved_at, agreed_at
    return (kid, shop, created, None, None, category, responded, resolved, agreed)


def assert_rows(got: dict, expected: dict) -> None:
    """Same periods, and per period (value, numerator, denominator, band, provisional), floats approximately."""
    assert set(got) == set(expected), (sorted(got), sorted(expected))
    for period, row in expected.items():
        assert got[period] == pytest.approx(row), period


def thresholds_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "thresholds.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- feedback_handling_rate ------------------------------------------------------------------------------------------

def test_feedback_handling_rate_handled_flag_wins_over_handled_at_and_period_is_received_at(built):
    rows = [
        feedback("f1", "2026-11-27 09:00:00", handled="是"),                                    # handled
        feedback("f2", "2026-11-27 09:10:00", handled="否", handled_at="2026-11-27 10:00:00"),  # flag says no
        feedback("f3", "2026-11-27 09:20:00", handled_at="2026-11-27 11:00:00"),                # no flag: handled_at
        feedback("f4", "2026-11-27 09:30:00"),                                                  # neither: not handled
        feedback("f5", "2026-11-27 09:40:00", handled="已处理"),                                # handled
        feedback("f6", "2026-11-27 09:50:00", handled="未处理"),                                # not handled
        feedback("f7", "2026-11-28 10:00:00", handled="yes"),                                   # handled
        # received on the 30th, handled on 1 December: it belongs to 30 November (by received_at)
        feedback("f8", "2026-11-30 23:30:00", handled_at="2026-12-01 09:00:00"),
    ]
    b = built(feedback=rows)
    # 27th: f1, f3, f5 of six = 50 %; the default band passes only at 100 % (Table A.2: 要求100%).
    assert_rows(b.kpi("feedback_handling_rate"), {
        "2026-11-27": (50.0, 3.0, 6.0, "fail", False),
        "2026-11-28": (100.0, 1.0, 1.0, "pass", False),
        "2026-11-30": (100.0, 1.0, 1.0, "pass", False),
    })
    # Roll-ups sum the day facts: week 48 = (3 + 1) / (6 + 1); November = 5 / 8 = 62.5 %.
    assert_rows(b.kpi("feedback_handling_rate", "week"), {
        "2026-W48": (400 / 7, 4.0, 7.0, "fail", False),
        "2026-W49": (100.0, 1.0, 1.0, "pass", False),
    })
    assert_rows(b.kpi("feedback_handling_rate", "month"), {"2026-11": (62.5, 5.0, 8.0, "fail", False)})
    assert_rows(b.kpi("feedback_handling_rate", "year"), {"2026": (62.5, 5.0, 8.0, "fail", False)})


def test_feedback_flag_labels(built):
    # Every yes/no label of the contract; f-t* are handled, f-f* are not.
    yes = ["true", "yes", "y", "1", "是", "对", "正确", "已处理", "已介入"]
    no = ["false", "no", "n", "0", "否", "错", "错误", "未处理", "未介入"]
    rows = [feedback(f"t{i}", "2026-11-27 10:00:00", handled=v) for i, v in enumerate(yes)]
    rows += [feedback(f"f{i}", "2026-11-27 10:00:00", handled=v, handled_at="2026-11-27 11:00:00")
             for i, v in enumerate(no)]
    b = built(feedback=rows)
    assert_rows(b.kpi("feedback_handling_rate"), {"2026-11-27": (50.0, 9.0, 18.0, "fail", False)})
    got = dict(b.query("SELECT feedback_id, handled FROM feedback"))
    assert got == {**{f"t{i}": True for i in range(9)}, **{f"f{i}": False for i in range(9)}}


# --- refund_duration_hours -------------------------------------------------------------------------------------------

def test_refund_duration_is_placed_by_completion_and_open_refunds_are_in_no_period(built):
    rows = [
        refund("r1", "2026-11-27 10:00:00", "2026-11-27 22:00:00", "七天无理由", "退款成功"),   # 12 h, on the 27th
        refund("r2", "2026-11-27 09:00:00", "2026-11-28 09:00:00", "质量问题", "关闭"),        # 24 h, on the 28th
        refund("r3", "2026-11-28 12:00:00", "2026-11-28 18:00:00", "使用问题", "拒绝退款"),    # 6 h, on the 28th
        refund("r4", "2026-11-28 12:00:00", None, "其他"),                                      # open: no period
        refund("r5", "2026-11-30 20:00:00", "2026-12-01 08:00:00", "物流问题"),                 # 12 h, December
        refund("r6", "2026-11-29 10:00:00", "2026-11-29 10:00:00"),                            # 0 h (not before)
    ]
    b = built(refunds=rows)
    # Every outcome counts (r2 closed, r3 refused): the duration is known once the refund completed.
    assert_rows(b.kpi("refund_duration_hours"), {
        "2026-11-27": (12.0, 12.0, 1.0, "unrated", False),
        "2026-11-28": (15.0, 30.0, 2.0, "unrated", False),   # (24 + 6) / 2
        "2026-11-29": (0.0, 0.0, 1.0, "unrated", False),
        "2026-12-01": (12.0, 12.0, 1.0, "unrated", False),    # requested in November, completed in December
    })
    # November: (12 + 24 + 6 + 0) / 4 = 10.5 h; Q4 adds r5: 54 / 5 = 10.8 h.
    assert_rows(b.kpi("refund_duration_hours", "month"), {
        "2026-11": (10.5, 42.0, 4.0, "unrated", False),
        "2026-12": (12.0, 12.0, 1.0, "unrated", False),
    })
    assert_rows(b.kpi("refund_duration_hours", "quarter"), {"2026-Q4": (10.8, 54.0, 5.0, "unrated", False)})
    # Reasons: the four labels of 5.4.3.2 in Chinese; another label is kept as written.
    assert b.query("SELECT refund_id, reason FROM refunds ORDER BY refund_id") == [
        ("r1", "no_reason_7d"), ("r2", "quality"), ("r3", "usage"), ("r4", "other"), ("r5", "物流问题"),
        ("r6", None)]


def test_refund_duration_in_fractions_of_an_hour(built):
    rows = [refund("r1", "2026-11-27 10:00:00", "2026-11-27 10:45:00"),            # 0.75 h
            refund("r2", "2026-11-27 11:00:00", "2026-11-27 11:00:36")]            # 36 s = 0.01 h
    b = built(refunds=rows)
    assert_rows(b.kpi("refund_duration_hours"), {"2026-11-27": (0.38, 0.76, 2.0, "unrated", False)})


# --- platform_help_rate and dispute_count ----------------------------------------------------------------------------

def test_platform_help_rate_and_dispute_count_by_opened_at(built):
    rows = [
        dispute("d1", "2026-11-27 10:00:00", "是"),
        dispute("d2", "2026-11-27 11:00:00", "否"),
        dispute("d3", "2026-11-27 12:00:00", None),         # empty: not involved
        dispute("d4", "2026-11-27 13:00:00", "已介入"),
        dispute("d5", "2026-11-28 09:00:00", "未介入", closed="2026-11-29 09:00:00"),
        dispute("d6", "2026-11-30 23:00:00", "true", closed="2026-12-02 10:00:00"),   # opened 30 Nov
    ]
    b = built(disputes=rows)
    assert_rows(b.kpi("platform_help_rate"), {
        "2026-11-27": (50.0, 2.0, 4.0, "unrated", False),
        "2026-11-28": (0.0, 0.0, 1.0, "unrated", False),
        "2026-11-30": (100.0, 1.0, 1.0, "unrated", False),
    })
    assert_rows(b.kpi("platform_help_rate", "month"), {"2026-11": (50.0, 3.0, 6.0, "unrated", False)})
    # The count's denominator is null and its value the numerator.
    assert_rows(b.kpi("dispute_count"), {
        "2026-11-27": (4.0, 4.0, None, "unrated", False),
        "2026-11-28": (1.0, 1.0, None, "unrated", False),
        "2026-11-30": (1.0, 1.0, None, "unrated", False),
    })
    assert_rows(b.kpi("dispute_count", "week"), {"2026-W48": (5.0, 5.0, None, "unrated", False),
                                                 "2026-W49": (1.0, 1.0, None, "unrated", False)})
    assert_rows(b.kpi("dispute_count", "month"), {"2026-11": (6.0, 6.0, None, "unrated", False)})
    assert b.query("SELECT dispute_id, platform_involved FROM disputes ORDER BY dispute_id") == [
        ("d1", True), ("d2", False), ("d3", None), ("d4", True), ("d5", False), ("d6", True)]


def test_dispute_count_is_0_in_periods_with_other_kpi_rows_and_absent_elsewhere(built):
    disputes = [dispute("d1", "2026-11-27 10:00:00", "否")]
    feedback_rows = [feedback("f1", "2026-11-29 10:00:00", handled="是")]          # S1 has a row on the 29th
    messages = [msg("1", "c", "customer", "2026-11-28 10:00:00", shop="S2"),     # S2 has rows on the 28th
                msg("2", "c", "agent", "2026-11-28 10:00:05", agent="a1", shop="S2")]
    b = built(disputes=disputes, feedback=feedback_rows, messages=messages)
    assert_rows(b.kpi("dispute_count"), {
        "2026-11-27": (1.0, 1.0, None, "unrated", False),
        "2026-11-29": (0.0, 0.0, None, "unrated", False),    # feedback only: 0 disputes
    })
    assert_rows(b.kpi("dispute_count", "month"), {"2026-11": (1.0, 1.0, None, "unrated", False)})
    assert_rows(b.kpi("dispute_count", shop="S2"), {"2026-11-28": (0.0, 0.0, None, "unrated", False)})
    assert_rows(b.kpi("dispute_count", "month", shop="S2"), {"2026-11": (0.0, 0.0, None, "unrated", False)})
    # platform_help_rate only where there are disputes
    assert set(b.kpi("platform_help_rate")) == {"2026-11-27"}
    assert b.kpi("platform_help_rate", shop="S2") == {}


def test_header_only_disputes_file_gives_zero_counts_where_the_shop_has_rows(built):
    messages = [msg("1", "c", "customer", "2026-11-27 10:00:00"),
                msg("2", "c", "agent", "2026-11-27 10:00:05", agent="a1")]
    b = built(disputes=[], messages=messages)
    assert_rows(b.kpi("dispute_count"), {"2026-11-27": (0.0, 0.0, None, "unrated", False)})
    assert b.kpi("platform_help_rate") == {}
    assert b.kpi("dispute_count", agent="a1") == {}


# --- bot accuracy ----------------------------------------------------------------------------------------------------

def test_bot_accuracy_three_kpis_and_the_90_percent_default(built):
    day1 = [audit(f"a{i}", "2026-11-27 10:00:00", "是", "是") for i in range(7)]         # both correct
    day1 += [audit("a7", "2026-11-27 11:00:00", "正确", "错误"),                          # intent only
             audit("a8", "2026-11-27 12:00:00", "错", "对"),                              # answer only
             audit("a9", "2026-11-27 13:00:00", "0", "0")]                                # neither
    day2 = [audit(f"b{i}", "2026-11-28 10:00:00", "true", "true") for i in range(9)]
    day2 += [audit("b9", "2026-11-28 11:00:00", "y", "n")]                                # intent only
    b = built(bot_answers=day1 + day2)
    # 27th: intent 8/10, answer 8/10, both 7/10; 28th: intent 10/10, answer 9/10 (exactly 90 passes), both 9/10.
    assert_rows(b.kpi("bot_intent_accuracy"), {"2026-11-27": (80.0, 8.0, 10.0, "fail", False),
                                               "2026-11-28": (100.0, 10.0, 10.0, "pass", False)})
    assert_rows(b.kpi("bot_answer_accuracy"), {"2026-11-27": (80.0, 8.0, 10.0, "fail", False),
                                               "2026-11-28": (90.0, 9.0, 10.0, "pass", False)})
    assert_rows(b.kpi("bot_accuracy"), {"2026-11-27": (70.0, 7.0, 10.0, "fail", False),
                                        "2026-11-28": (90.0, 9.0, 10.0, "pass", False)})
    # November: intent 18/20 = 90 (pass), answer 17/20 = 85, both 16/20 = 80.
    assert_rows(b.kpi("bot_intent_accuracy", "month"), {"2026-11": (90.0, 18.0, 20.0, "pass", False)})
    assert_rows(b.kpi("bot_answer_accuracy", "month"), {"2026-11": (85.0, 17.0, 20.0, "fail", False)})
    assert_rows(b.kpi("bot_accuracy", "month"), {"2026-11": (80.0, 16.0, 20.0, "fail", False)})


def test_bot_answers_without_answer_id_are_keyed_by_every_column_first_stays(built):
    rows = [audit(None, "2026-11-27 10:00:00", "是", "是", question="运费多少"),
            audit(None, "2026-11-27 10:00:00", "是", "是", question="运费多少"),    # the same record again
            audit(None, "2026-11-27 10:00:00", "是", "否", question="几天发货")]    # differs: its own record
    b = built(bot_answers=rows)
    assert_rows(b.kpi("bot_accuracy"), {"2026-11-27": (50.0, 1.0, 2.0, "fail", False)})
    assert_rows(b.kpi("bot_intent_accuracy"), {"2026-11-27": (100.0, 2.0, 2.0, "pass", False)})


# --- complaint_feedback_24h_rate -------------------------------------------------------------------------------------

def test_complaint_24h_rule(built):
    rows = [
        complaint("k1", "2026-11-27 10:00:00", resolved="2026-11-28 10:00:00"),             # exactly 24 h: in time
        complaint("k2", "2026-11-27 10:00:00", "服务质量", resolved="2026-11-28 10:00:01"),  # 24 h + 1 s: late
        complaint("k3", "2026-11-27 10:00:00", responded="2026-11-27 10:05:00"),             # never resolved: late
        # agreed later than 24 h: the agreed time is the deadline, 47 h is in time
        complaint("k4", "2026-11-27 10:00:00", resolved="2026-11-29 09:00:00", agreed="2026-11-29 10:00:00"),
        # agreed earlier than 24 h: 3 h is already late
        complaint("k5", "2026-11-27 10:00:00", resolved="2026-11-27 13:00:00", agreed="2026-11-27 12:00:00"),
        complaint("k6", "2026-11-26 09:00:00", "product"),                                    # not service: out
        complaint("k7", "2026-11-27 10:00:00", "物流"),                                        # not service: out
        complaint("k8", "2026-11-27 10:00:00", None),                                          # no category: out
        # resolved exactly at the agreed time: in time
        complaint("k9", "2026-11-27 10:00:00", resolved="2026-11-29 10:00:00", agreed="2026-11-29 10:00:00"),
        complaint("k10", "2026-11-28 08:00:00", "服务", resolved="2026-11-28 08:30:00"),
        complaint("k11", "2026-11-28 08:00:00", resolved="2026-11-28 20:00:00"),
    ]
    b = built(complaints=rows)
    # The latest time seen is k9's resolved_at, 2026-11-29 10:00. The 27th closes at 11-28 00:00 + 24 h = 11-29 00:00
    # (final); the 28th at 11-30 00:00 and November at 12-02 00:00 (both still provisional).
    assert_rows(b.kpi("complaint_feedback_24h_rate"), {
        "2026-11-27": (50.0, 3.0, 6.0, "fail", False),     # k1, k4, k9 of k1-k5, k9
        "2026-11-28": (100.0, 2.0, 2.0, "pass", True),
    })
    assert_rows(b.kpi("complaint_feedback_24h_rate", "month"), {"2026-11": (62.5, 5.0, 8.0, "fail", True)})
    assert b.kpi("complaint_feedback_24h_rate", "week")["2026-W48"][4] is True


def test_complaint_feedback_window_changes_the_deadline(tmp_path):
    rows = [complaint("a", "2026-11-27 10:00:00", resolved="2026-11-28 16:00:00"),   # 30 h
            complaint("b", "2026-11-27 10:00:00", resolved="2026-11-27 22:00:00"),   # 12 h
            complaint("c", "2026-11-27 10:00:00", resolved="2026-11-29 10:00:00"),   # 48 h exactly
            complaint("d", "2026-11-27 10:00:00", resolved="2026-11-29 10:00:01")]   # 48 h + 1 s
    default = build(tmp_path / "default", None, complaints=rows)
    # 24 h: only b. Latest time seen 11-29 10:00:01 is past 11-28 00:00 + 24 h: final.
    assert_rows(default.kpi("complaint_feedback_24h_rate"), {"2026-11-27": (25.0, 1.0, 4.0, "fail", False)})
    wide = build(tmp_path / "wide", Config(complaint_feedback_window=timedelta(hours=48)), complaints=rows)
    # 48 h: a, b, c. 11-29 10:00:01 is before 11-28 00:00 + 48 h = 11-30 00:00: provisional.
    assert_rows(wide.kpi("complaint_feedback_24h_rate"), {"2026-11-27": (75.0, 3.0, 4.0, "fail", True)})


@pytest.mark.parametrize("extra, provisional", [
    # the latest time seen is 11-28 23:59:59, one second before 11-27's end + 24 h; the far agreed_at does not count
    ({"feedback": [feedback("f", "2026-11-28 23:59:59")]}, True),
    ({"feedback": [feedback("f", "2026-11-29 00:00:00")]}, False),
    ({"feedback": [feedback("f", "2026-11-28 10:00:00", handled_at="2026-11-29 00:00:00")]}, False),
    ({"refunds": [refund("r", "2026-11-27 09:00:00", "2026-11-29 00:00:00")]}, False),
    ({"refunds": [refund("r", "2026-11-28 23:59:59")]}, True),
    ({"disputes": [dispute("d", "2026-11-27 09:00:00", closed="2026-11-29 00:00:00")]}, False),
    ({"bot_answers": [audit("x", "2026-11-29 00:00:00", "是", "是")]}, False),
    ({"messages": [msg("1", "c", "customer", "2026-11-28 23:59:59")]}, True),
], ids=["feedback-received-before", "feedback-received-at", "feedback-handled-at", "refund-completed-at",
        "refund-requested-before", "dispute-closed-at", "bot-answered-at", "message-before"])
def test_24h_rate_is_provisional_until_the_period_end_plus_the_window_is_seen(built, extra, provisional):
    rows = [complaint("k1", "2026-11-27 10:00:00", resolved="2026-11-27 11:00:00", agreed="2026-12-31 10:00:00")]
    b = built(complaints=rows, **extra)
    assert_rows(b.kpi("complaint_feedback_24h_rate"), {"2026-11-27": (100.0, 1.0, 1.0, "pass", provisional)})
    # No other Table A.2 KPI is ever provisional.
    assert b.query("SELECT count(*) FROM kpi WHERE provisional AND kpi <> 'complaint_feedback_24h_rate' "
                   "AND kpi <> 'inquiry_conversion_rate'") == [(0,)]


def test_24h_rate_needs_service_complaints(built):
    rows = [complaint("k1", "2026-11-27 10:00:00", "product", resolved="2026-11-27 11:00:00")]
    b = built(complaints=rows)
    assert b.kpi("complaint_feedback_24h_rate") == {}
    assert b.query("SELECT count(*) FROM kpi WHERE kpi = 'complaint_feedback_24h_rate'") == [(0,)]


def test_agreed_at_is_read_from_the_complaints_view(built):
    rows = [complaint("k1", "2026-11-27 10:00:00", resolved="2026-11-29 09:00:00", agreed="2026/11/29 10:00")]
    b = built(complaints=rows)
    assert b.query("SELECT complaint_id, agreed_at::VARCHAR FROM complaints") == [("k1", "2026-11-29 10:00:00")]


# --- rows that exist -------------------------------------------------------------------------------------------------

def test_kinds_never_ingested_emit_none_of_their_kpis(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00"),
                        msg("2", "c", "agent", "2026-11-27 10:00:05", agent="a1")],
              complaints=[complaint("k1", "2026-11-27 10:00:00", "product")])
    got = {r[0] for r in b.query("SELECT DISTINCT kpi FROM kpi")}
    assert not got & set(NEW_KPIS), got & set(NEW_KPIS)
    assert "frt_seconds" in got


def test_every_new_kpi_has_shop_rows_at_every_grain_and_no_agent_rows(built):
    b = built(
        messages=[msg("1", "c", "customer", "2026-11-27 10:00:00", agent="a1"),
                  msg("2", "c", "agent", "2026-11-27 10:00:05", agent="a1")],
        refunds=[refund("r1", "2026-11-27 08:00:00", "2026-11-27 09:00:00")],
        disputes=[dispute("d1", "2026-11-27 08:00:00", "是")],
        feedback=[feedback("f1", "2026-11-27 08:00:00", "是")],
        bot_answers=[audit("x1", "2026-11-27 10:00:00", "是", "否", session="c#1")],
        complaints=[complaint("k1", "2026-11-27 08:00:00", resolved="2026-11-27 09:00:00")],
    )
    for code in NEW_KPIS:
        grains = {r[0] for r in b.query("SELECT DISTINCT grain FROM kpi WHERE kpi = ? AND agent_id IS NULL", [code])}
        assert grains == GRAINS, code
        assert b.query("SELECT count(*) FROM kpi WHERE kpi = ? AND agent_id IS NOT NULL", [code]) == [(0,)], code
        assert b.query("SELECT DISTINCT clock FROM kpi WHERE kpi = ?", [code]) == [("wall",)], code
    expected = {
        "feedback_handling_rate": (100.0, 1.0, 1.0, "pass", False),
        "refund_duration_hours": (1.0, 1.0, 1.0, "unrated", False),
        "platform_help_rate": (100.0, 1.0, 1.0, "unrated", False),
        "dispute_count": (1.0, 1.0, None, "unrated", False),
        "bot_intent_accuracy": (100.0, 1.0, 1.0, "pass", False),
        "bot_answer_accuracy": (0.0, 0.0, 1.0, "fail", False),
        "bot_accuracy": (0.0, 0.0, 1.0, "fail", False),
        "complaint_feedback_24h_rate": (100.0, 1.0, 1.0, "pass", False),
    }
    for code, row in expected.items():
        for grain, period in [("day", "2026-11-27"), ("week", "2026-W48"), ("month", "2026-11"),
                              ("quarter", "2026-Q4"), ("year", "2026")]:
            got = b.kpi(code, grain)
            assert set(got) == {period}, (code, grain)
            assert got[period][:4] == pytest.approx(row[:4]), (code, grain)
    # period_start of the new rows is the first local date of the period
    assert b.query("SELECT DISTINCT period_start::VARCHAR FROM kpi WHERE kpi = 'bot_accuracy' AND grain = 'month'") \
        == [("2026-11-01",)]


# --- rejects ---------------------------------------------------------------------------------------------------------

def test_flags_outside_the_yes_no_labels_and_refunds_completed_before_requested_are_rejected(built):
    b = built(
        LOOSE,
        disputes=[dispute("d1", "2026-11-27 10:00:00", "是"),
                  dispute("d2", "2026-11-27 10:00:00", "maybe")],                               # line 3
        feedback=[feedback("f1", "2026-11-27 10:00:00", "已处理"),
                  feedback("f2", "2026-11-27 10:00:00", "处理中")],                              # line 3
        bot_answers=[audit("a1", "2026-11-27 10:00:00", "对", "对"),
                     audit("a2", "2026-11-27 10:00:00", "unknown", "对"),                        # line 3
                     audit("a3", "2026-11-27 10:00:00", "对", "2"),                              # line 4
                     audit("a4", "2026-11-27 10:00:00", None, "对")],                            # line 5: required
        refunds=[refund("r1", "2026-11-27 10:00:00", "2026-11-27 12:00:00"),
                 refund("r2", "2026-11-27 10:00:00", "2026-11-27 09:59:59")],                   # line 3
    )
    got = b.query('SELECT kind, line, "column", raw_value FROM rejects ORDER BY kind, line')
    assert [g[:3] for g in got] == [
        ("bot_answers", 3, "intent_correct"), ("bot_answers", 4, "answer_correct"),
        ("bot_answers", 5, "intent_correct"),
        ("disputes", 3, "platform_involved"),
        ("feedback", 3, "handled"),
        ("refunds", 3, "completed_at"),
    ]
    raws = {(g[0], g[1]): g[3] for g in got}
    assert (raws[("bot_answers", 3)], raws[("bot_answers", 4)], raws[("disputes", 3)], raws[("feedback", 3)]) == \
        ("unknown", "2", "maybe", "处理中")
    # Rejected rows are counted nowhere else.
    assert_rows(b.kpi("platform_help_rate"), {"2026-11-27": (100.0, 1.0, 1.0, "unrated", False)})
    assert_rows(b.kpi("dispute_count"), {"2026-11-27": (1.0, 1.0, None, "unrated", False)})
    assert_rows(b.kpi("feedback_handling_rate"), {"2026-11-27": (100.0, 1.0, 1.0, "pass", False)})
    assert_rows(b.kpi("bot_accuracy"), {"2026-11-27": (100.0, 1.0, 1.0, "pass", False)})
    assert_rows(b.kpi("refund_duration_hours"), {"2026-11-27": (2.0, 2.0, 1.0, "unrated", False)})
    assert b.query("SELECT refund_id FROM refunds") == [("r1",)]


# --- bands from a thresholds file ------------------------------------------------------------------------------------

THRESHOLDS = """
[refund_duration_hours]
better = "lower"
limit = 24

[platform_help_rate]
better = "lower"
platform_limit = 50
industry_limit = 30

[dispute_count]
better = "lower"
limit = 3

[feedback_handling_rate]
better = "higher"
limit = 80

[bot_accuracy]
better = "higher"
limit = 95
platform_limit = 90
"""


def test_limits_from_a_thresholds_file_the_stricter_applies(built, tmp_path):
    path = thresholds_file(tmp_path, THRESHOLDS)
    refunds = [refund("r1", "2026-11-26 10:00:00", "2026-11-27 10:00:00"),       # exactly 24 h: pass
               refund("r2", "2026-11-27 10:00:00", "2026-11-28 10:00:36")]       # 24.01 h: fail
    disputes = [dispute(f"d{i}", "2026-11-27 10:00:00", "是" if i < 1 else "否") for i in range(3)]
    disputes += [dispute(f"e{i}", "2026-11-28 10:00:00", "是" if i < 3 else "否") for i in range(10)]
    feedback_rows = [feedback(f"f{i}", "2026-11-27 10:00:00", "是" if i < 3 else "否") for i in range(4)]
    feedback_rows += [feedback(f"g{i}", "2026-11-28 10:00:00", "是" if i < 4 else "否") for i in range(5)]
    audits = [audit(f"a{i}", "2026-11-27 10:00:00", "是", "是" if i < 19 else "否") for i in range(20)]
    audits += [audit(f"b{i}", "2026-11-28 10:00:00", "是", "是" if i < 9 else "否") for i in range(10)]
    b = built(Config(thresholds=path), refunds=refunds, disputes=disputes, feedback=feedback_rows,
              bot_answers=audits)
    assert_rows(b.kpi("refund_duration_hours"), {"2026-11-27": (24.0, 24.0, 1.0, "pass", False),
                                                 "2026-11-28": (24.01, 24.01, 1.0, "fail", False)})
    # 33.3 % passes the platform's 50 but not the industry's 30; exactly 30 passes.
    assert_rows(b.kpi("platform_help_rate"), {"2026-11-27": (100 / 3, 1.0, 3.0, "fail", False),
                                              "2026-11-28": (30.0, 3.0, 10.0, "pass", False)})
    assert_rows(b.kpi("dispute_count"), {"2026-11-27": (3.0, 3.0, None, "pass", False),
                                         "2026-11-28": (10.0, 10.0, None, "fail", False)})
    assert_rows(b.kpi("feedback_handling_rate"), {"2026-11-27": (75.0, 3.0, 4.0, "fail", False),
                                                  "2026-11-28": (80.0, 4.0, 5.0, "pass", False)})
    # higher is better: the stricter of limit 95 and platform_limit 90 is 95.
    assert_rows(b.kpi("bot_accuracy"), {"2026-11-27": (95.0, 19.0, 20.0, "pass", False),
                                        "2026-11-28": (90.0, 9.0, 10.0, "fail", False)})
    # The file replaces the defaults whole: what it does not list is unrated.
    assert_rows(b.kpi("bot_intent_accuracy"), {"2026-11-27": (100.0, 20.0, 20.0, "unrated", False),
                                               "2026-11-28": (100.0, 10.0, 10.0, "unrated", False)})
    # Months sum the days: 13 disputes (fail); 4 of 13 involved is 30.8 % (fail).
    assert_rows(b.kpi("dispute_count", "month"), {"2026-11": (13.0, 13.0, None, "fail", False)})
    assert_rows(b.kpi("platform_help_rate", "month"), {"2026-11": (400 / 13, 4.0, 13.0, "fail", False)})


def test_thresholds_file_accepts_the_new_codes_and_limit(tmp_path):
    text = "".join(f'[{code}]\nbetter = "{better}"\nlimit = 5\n\n' for code, better in [
        ("feedback_handling_rate", "higher"), ("refund_duration_hours", "lower"), ("platform_help_rate", "lower"),
        ("dispute_count", "lower"), ("bot_intent_accuracy", "higher"), ("bot_answer_accuracy", "higher"),
        ("bot_accuracy", "higher"), ("complaint_feedback_24h_rate", "higher")])
    load_thresholds(thresholds_file(tmp_path, text))   # no error
    with pytest.raises(ConfigError):
        load_thresholds(thresholds_file(tmp_path, '[dispute_count]\nbetter = "lower"\nlimit = "3"\n'))
    with pytest.raises(ConfigError):
        load_thresholds(thresholds_file(tmp_path, '[dispute_count]\nbetter = "lower"\nlimits = 3\n'))


# --- nightly increments, re-sent keys, Chinese headers ---------------------------------------------------------------

def _kpi_rows(lake: Lake) -> list[tuple]:
    con = duckdb.connect(str(lake.warehouse), read_only=True)
    try:
        return con.execute("SELECT grain, period, shop_id, agent_id, kpi, clock, value, numerator, denominator, band, "
                           "provisional FROM kpi ORDER BY grain, period, shop_id, agent_id NULLS FIRST, kpi, clock"
                           ).fetchall()
    finally:
        con.close()


def _night(inbox: Path, **kinds: list[tuple]) -> Path:
    for kind, rows in kinds.items():
        header = MESSAGE_HEADER if kind == "messages" else list(KINDS[kind].names)
        # in a folder named after the kind (README "Inputs"), so that the file name's first word does not matter
        write_csv(inbox / kind / f"{inbox.name}.csv", header, rows)
    return inbox


def test_a_second_night_that_resends_keys_updates_the_table_a2_kpis(tmp_path):
    night1 = _night(tmp_path / "night1",
                    refunds=[refund("r1", "2026-11-26 10:00:00")],                                   # still open
                    complaints=[complaint("k1", "2026-11-27 10:00:00")],                             # unresolved
                    feedback=[feedback("f1", "2026-11-27 09:00:00", "否")],
                    disputes=[dispute("d1", "2026-11-27 09:00:00", "否")],
                    bot_answers=[audit("a1", "2026-11-27 10:00:00", "是", "是")])
    night2 = _night(tmp_path / "night2",
                    refunds=[refund("r1", "2026-11-26 10:00:00", "2026-11-27 16:00:00")],            # replaces: 30 h
                    complaints=[complaint("k1", "2026-11-27 10:00:00", resolved="2026-11-27 20:00:00")],
                    feedback=[feedback("f1", "2026-11-27 09:00:00", "是")],                          # replaces
                    disputes=[dispute("d1", "2026-11-27 09:00:00", "是")],                           # replaces
                    bot_answers=[audit("a1", "2026-11-27 10:00:00", "否", "否"),                     # first stays
                                 audit("a2", "2026-11-27 11:00:00", "是", "否")],
                    messages=[msg("1", "c", "customer", "2026-11-29 10:00:00")])                    # a new day
    lake = Lake(tmp_path / "lake")
    jobs.run(night1, lake, Config())
    first_night = Built(lake, tmp_path)
    assert first_night.kpi("refund_duration_hours") == {}
    assert_rows(first_night.kpi("complaint_feedback_24h_rate"), {"2026-11-27": (0.0, 0.0, 1.0, "fail", True)})
    assert_rows(first_night.kpi("feedback_handling_rate"), {"2026-11-27": (0.0, 0.0, 1.0, "fail", False)})
    assert_rows(first_night.kpi("platform_help_rate"), {"2026-11-27": (0.0, 0.0, 1.0, "unrated", False)})
    jobs.run(night2, lake, Config())
    b = Built(lake, tmp_path)
    assert_rows(b.kpi("refund_duration_hours"), {"2026-11-27": (30.0, 30.0, 1.0, "unrated", False)})
    # seen until 11-29 10:00 ≥ 11-28 00:00 + 24 h: final
    assert_rows(b.kpi("complaint_feedback_24h_rate"), {"2026-11-27": (100.0, 1.0, 1.0, "pass", False)})
    assert_rows(b.kpi("feedback_handling_rate"), {"2026-11-27": (100.0, 1.0, 1.0, "pass", False)})
    assert_rows(b.kpi("platform_help_rate"), {"2026-11-27": (100.0, 1.0, 1.0, "unrated", False)})
    assert_rows(b.kpi("dispute_count"), {"2026-11-27": (1.0, 1.0, None, "unrated", False),
                                         "2026-11-29": (0.0, 0.0, None, "unrated", False)})
    # a1 keeps its first arrival (both correct); a2 has the intent only: both correct 1 of 2
    assert_rows(b.kpi("bot_accuracy"), {"2026-11-27": (50.0, 1.0, 2.0, "fail", False)})
    assert_rows(b.kpi("bot_intent_accuracy"), {"2026-11-27": (100.0, 2.0, 2.0, "pass", False)})
    # the two nights give what one full computation over both gives
    full = Lake(tmp_path / "full")
    jobs.ingest_files(full, [(p.parent.name, p) for inbox in (night1, night2)
                             for p in sorted(inbox.glob("*/*.csv"))], Config())
    jobs.compute(full, Config())
    got, want = _kpi_rows(lake), _kpi_rows(full)
    assert len(got) == len(want)
    for x, y in zip(got, want):
        assert x == pytest.approx(y), (x, y)


def test_chinese_headers_of_the_new_kinds(tmp_path):
    inbox = tmp_path / "inbox"
    files = [
        ("feedback", write_csv(inbox / "feedback.csv", ["反馈编号", "店铺ID", "反馈时间", "处理时间", "是否处理"],
                               [("f1", "S1", "2026-11-27 10:00:00", "2026-11-27 11:00:00", ""),
                                ("f2", "S1", "2026-11-27 10:00:00", "", "未处理")])),
        ("disputes", write_csv(inbox / "disputes.csv", ["争议编号", "店铺ID", "发起时间", "平台介入"],
                               [("d1", "S1", "2026-11-27 10:00:00", "已介入")])),
        ("refunds", write_csv(inbox / "refunds.csv", ["退款编号", "店铺ID", "退款申请时间", "退款完结时间", "退款原因"],
                              [("r1", "S1", "2026-11-27 10:00:00", "2026-11-27 13:00:00", "七天无理由")])),
        ("complaints", write_csv(inbox / "complaints.csv", ["投诉编号", "店铺ID", "投诉时间", "投诉类型", "解决时间",
                                                            "约定沟通时间"],
                                 [("k1", "S1", "2026-11-27 10:00:00", "服务质量", "2026-11-29 09:00:00",
                                   "2026-11-29 10:00:00")])),
    ]
    lake = Lake(tmp_path / "lake")
    results = jobs.ingest_files(lake, files, Config())
    assert [(r.status, r.accepted, r.rejected) for r in results] == [("landed", 2, 0), ("landed", 1, 0),
                                                                     ("landed", 1, 0), ("landed", 1, 0)]
    jobs.compute(lake, Config())
    b = Built(lake, tmp_path)
    assert_rows(b.kpi("feedback_handling_rate"), {"2026-11-27": (50.0, 1.0, 2.0, "fail", False)})
    assert_rows(b.kpi("platform_help_rate"), {"2026-11-27": (100.0, 1.0, 1.0, "unrated", False)})
    assert_rows(b.kpi("refund_duration_hours"), {"2026-11-27": (3.0, 3.0, 1.0, "unrated", False)})
    # agreed 11-29 10:00 is the deadline: resolved 11-29 09:00 is in time
    assert b.kpi("complaint_feedback_24h_rate")["2026-11-27"][:4] == (100.0, 1.0, 1.0, "pass")


def test_dispute_count_zeros_follow_dated_facts_not_targets(built):
    # README: a 0 dispute count needs a dated fact of the shop in the period; a target row alone is not one (it
    # exists only at its label's grain), so a month with only a target has no dispute count ...
    orders = [("o1", "S1", "c1", "2026-11-27 08:00:00", "2026-11-27 09:00:00", "50", "paid")]
    b = built(orders=orders, targets=[("S1", "2026-11", "100")], disputes=[])
    assert b.kpi("target_achievement_rate", "month")["2026-11"][:3] == (50.0, 50.0, 100.0)
    assert b.kpi("dispute_count", "day") == {}
    assert b.kpi("dispute_count", "month") == {}
    # ... while a review on one day gives that day, its week, month, quarter and year a count of 0.
    b = built(orders=orders, reviews=[("v1", "S1", "2026-11-27 10:00:00", "5", "", "")], disputes=[])
    for grain, period in (("day", "2026-11-27"), ("week", "2026-W48"), ("month", "2026-11"), ("year", "2026")):
        assert_rows(b.kpi("dispute_count", grain), {period: (0.0, 0.0, None, "unrated", False)})


@pytest.mark.parametrize("name, kind", [
    ("bot_answers_S1.csv", "bot_answers"), ("bot_answers.csv", "bot_answers"), ("refunds_S1.csv", "refunds"),
    ("disputes_night1.csv", "disputes"), ("feedback.csv", "feedback")])
def test_run_finds_the_new_kinds_by_file_name(tmp_path, name, kind):
    # README "Inputs": `run` finds the kind from the file name's first word or the folder. `bot_answers` is one
    # kind name (with an underscore); a file named after it must be recognised like `messages_S001_night1.csv`.
    inbox = tmp_path / "inbox"
    write_csv(inbox / name, ["x"], [])
    found, unknown = jobs.inbox_files(inbox, skip_unknown=True)
    assert [k for k, _ in found] == [kind]
    assert unknown == []
