"""Hand-computed cases for SPEC §4: the rating, complaint, target and review KPIs, zero denominators, absent kinds."""
from pathlib import Path

from pipeline.config import Config
from tests.conftest import msg


def paid(n, day="2026-11-27", shop="S1", amount="10.00", prefix="o"):
    return [(f"{prefix}{i}", shop, f"c{i}", f"{day} 08:00:00", f"{day} 09:00:00", amount, "交易成功")
            for i in range(n)]


def test_satisfaction_counts_levels_4_and_5_with_chinese_labels(built):
    ratings = [("r1", "S1", "2026-11-27 10:00:00", "很满意", "", "", "a1"),
               ("r2", "S1", "2026-11-27 11:00:00", "满意", "", "", "a1"),
               ("r3", "S1", "2026-11-27 12:00:00", "一般", "", "", "a2"),
               ("r4", "S1", "2026-11-28 12:00:00", "2", "", "", ""),
               ("r5", "S1", "2026-11-28 13:00:00", "5", "", "", "a2")]
    b = built(ratings=ratings)
    assert b.kpi("satisfaction_rate", "month") == {"2026-11": (60.0, 3.0, 5.0, "below", False)}
    assert b.kpi("satisfaction_rate", "month", agent="a1")["2026-11"][:4] == (100.0, 2.0, 2.0, "AAAAA")
    assert b.kpi("satisfaction_rate", "month", agent="a2")["2026-11"][:3] == (50.0, 1.0, 2.0)
    assert b.query("SELECT count(*) FROM kpi WHERE kpi = 'satisfaction_rate' AND grain = 'month'") == [(3,)]


def test_complaint_rate_of_exactly_0_03_percent_is_AAAA(built):
    complaints = [(f"k{i}", "S1", "2026-11-27 12:00:00", "", "", "服务质量", "", "") for i in range(3)]
    b = built(orders=paid(10_000), complaints=complaints)
    assert b.kpi("complaint_rate")["2026-11-27"] == (0.03, 3.0, 10_000.0, "AAAA", False)


def test_complaint_rate_just_below_0_03_is_AAAAA_and_above_0_10_is_below(built):
    complaints = [("k1", "S1", "2026-11-27 12:00:00", "", "", "product", "", ""),
                  ("k2", "S1", "2026-11-28 12:00:00", "", "", "product", "", "")]
    b = built(orders=paid(4000) + paid(1000, day="2026-11-28", prefix="p"), complaints=complaints)
    assert b.kpi("complaint_rate")["2026-11-27"][:4] == (0.025, 1.0, 4000.0, "AAAAA")
    assert b.kpi("complaint_rate")["2026-11-28"][:4] == (0.1, 1.0, 1000.0, "AAA")   # exactly 0.10 is AAA
    assert b.kpi("complaint_rate", "month")["2026-11"][:3] == (0.04, 2.0, 5000.0)


def test_complaints_without_paid_orders_give_no_data_and_paid_orders_without_complaints_0(built):
    complaints = [("k1", "S1", "2026-11-26 12:00:00", "", "", "", "", "")]
    b = built(orders=paid(5), complaints=complaints)
    assert b.kpi("complaint_rate") == {"2026-11-26": (None, 1.0, 0.0, "no_data", False),
                                       "2026-11-27": (0.0, 0.0, 5.0, "AAAAA", False)}


def test_no_complaints_file_ever_means_no_complaint_rate(built):
    b = built(orders=paid(5))
    assert b.kpi("complaint_rate") == {}


def test_header_only_complaints_file_means_zero_percent(built):
    b = built(orders=paid(5), complaints=[])
    assert b.kpi("complaint_rate")["2026-11-27"][:4] == (0.0, 0.0, 5.0, "AAAAA")


def test_target_above_100_percent_is_AAAAA_and_missing_targets_give_no_row(built):
    targets = [("S1", "2026-11", "100"), ("S1", "2026-W48", "1000"), ("S1", "2026-11-26", "50"),
               ("S1", "2026-Q4", "0")]
    b = built(orders=paid(12), targets=targets)
    assert b.kpi("target_achievement_rate", "month") == {"2026-11": (120.0, 120.0, 100.0, "AAAAA", False)}
    assert b.kpi("target_achievement_rate", "week")["2026-W48"][:4] == (12.0, 120.0, 1000.0, "below")
    # A target with no sales is 0 %; a zero target has no value; a day with sales and no target has no row.
    assert b.kpi("target_achievement_rate", "day") == {"2026-11-26": (0.0, 0.0, 50.0, "below", False)}
    assert b.kpi("target_achievement_rate", "quarter")["2026-Q4"][3] == "no_data"
    assert b.kpi("target_achievement_rate", "year") == {}


def test_target_boundaries(built):
    targets = [("S1", "2026-11-27", "100"), ("S2", "2026-11-27", "100"), ("S3", "2026-11-27", "100")]
    orders = (paid(1, amount="95.00") + paid(1, amount="84.99", shop="S2", prefix="q")
              + paid(1, amount="90", shop="S3", prefix="r"))
    b = built(orders=orders, targets=targets)
    assert b.kpi("target_achievement_rate")["2026-11-27"][3] == "AAAAA"
    assert b.kpi("target_achievement_rate", shop="S2")["2026-11-27"][3] == "below"
    assert b.kpi("target_achievement_rate", shop="S3")["2026-11-27"][3] == "AAAA"


def test_sales_fall_in_the_month_of_their_payment_day_and_an_order_without_amount_adds_nothing(built):
    # Sales are summed per payment day (kpi_facts_sales) and the days per period: 23:59:59 on the 30th is November's,
    # a second later December's. An order without amount adds 0 (and its day is in the calendar).
    orders = [("o1", "S1", "c1", "2026-11-30 20:00:00", "2026-11-30 23:59:59", "10.00", "交易成功"),
              ("o2", "S1", "c2", "2026-11-30 20:00:00", "2026-12-01 00:00:00", "5.00", "交易成功"),
              ("o3", "S1", "c3", "2026-11-29 20:00:00", "2026-11-29 21:00:00", "", "交易成功"),
              ("o4", "S1", "c4", "2026-11-29 20:00:00", "", "7.00", "待付款")]
    targets = [("S1", "2026-11", "100"), ("S1", "2026-12", "10"), ("S1", "2026-11-29", "1")]
    b = built(orders=orders, targets=targets)
    assert b.kpi("target_achievement_rate", "month") == {"2026-11": (10.0, 10.0, 100.0, "below", False),
                                                         "2026-12": (50.0, 5.0, 10.0, "below", False)}
    assert b.kpi("target_achievement_rate", "day") == {"2026-11-29": (0.0, 0.0, 1.0, "below", False)}
    assert b.query("SELECT count(*) FROM kpi WHERE kpi <> 'target_achievement_rate'") == [(0,)]


def test_targets_without_orders_ever_give_no_target_rows(built):
    b = built(targets=[("S1", "2026-11", "100")])
    assert b.kpi("target_achievement_rate", "month") == {}


def test_bad_review_rate_is_unrated_by_default(built):
    reviews = [(f"v{i}", "S1", "2026-11-27 10:00:00", str(i % 5 + 1), "", "") for i in range(10)]
    b = built(reviews=reviews)
    assert b.kpi("bad_review_rate")["2026-11-27"] == (40.0, 4.0, 10.0, "unrated", False)


def test_bad_review_rate_passes_or_fails_against_the_lower_limit(built, tmp_path):
    thresholds = Path(tmp_path / "t.toml")
    thresholds.write_text('[bad_review_rate]\nbetter = "lower"\nplatform_limit = 50\nindustry_limit = 40\n')
    reviews = [(f"v{i}", "S1", "2026-11-27 10:00:00", str(i % 5 + 1), "", "") for i in range(10)]
    reviews += [(f"w{i}", "S1", "2026-11-28 10:00:00", "1" if i < 5 else "5", "", "") for i in range(10)]
    b = built(Config(thresholds=thresholds), reviews=reviews)
    assert b.kpi("bad_review_rate")["2026-11-27"][3] == "pass"   # exactly 40 = the lower limit
    assert b.kpi("bad_review_rate")["2026-11-28"][3] == "fail"   # 50 passes the platform, not the industry


def test_zero_denominator_is_no_data(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00")])
    assert b.kpi("frt_seconds") == {"2026-11-27": (None, 0.0, 0.0, "no_data", False)}
    assert b.kpi("reply_rate") == {"2026-11-27": (0.0, 0.0, 1.0, "below", False)}


def test_agent_rows_exist_only_for_agent_kpis(built):
    ratings = [("r1", "S1", "2026-11-27 10:00:00", "5", "", "", "a1")]
    complaints = [("k1", "S1", "2026-11-27 12:00:00", "", "", "", "", "")]
    reviews = [("v1", "S1", "2026-11-27 10:00:00", "1", "", "")]
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00"),
                        msg("2", "c", "agent", "2026-11-27 10:00:05", agent="a1")],
              orders=paid(3), ratings=ratings, complaints=complaints, reviews=reviews,
              targets=[("S1", "2026-11", "10")])
    agent_kpis = {r[0] for r in b.query("SELECT DISTINCT kpi FROM kpi WHERE agent_id IS NOT NULL")}
    shop_kpis = {r[0] for r in b.query("SELECT DISTINCT kpi FROM kpi WHERE agent_id IS NULL")}
    distributions = {"frt_median_seconds", "frt_p90_seconds", "response_median_seconds", "response_p90_seconds",
                     "frt_bucket_0_10s", "frt_bucket_10_20s", "frt_bucket_20_30s", "frt_bucket_30_60s",
                     "frt_bucket_1_5min", "frt_bucket_over_5min"}
    assert agent_kpis == {"frt_seconds", "avg_response_seconds", "reply_rate", "inquiry_conversion_rate",
                          "satisfaction_rate"} | distributions
    assert shop_kpis == agent_kpis | {"complaint_rate", "target_achievement_rate", "bad_review_rate"}


def test_every_grain_is_computed_from_facts(built):
    b = built(messages=[msg("1", "c", "customer", "2026-11-27 10:00:00"),
                        msg("2", "c", "agent", "2026-11-27 10:00:05", agent="a1"),
                        msg("3", "d", "customer", "2026-12-02 10:00:00"),
                        msg("4", "d", "agent", "2026-12-02 10:00:25", agent="a1"),
                        msg("5", "e", "customer", "2026-12-02 11:00:00"),
                        msg("6", "e", "agent", "2026-12-02 11:00:30", agent="a1")])
    # The mean of three sessions (5 + 25 + 30) / 3 = 20, not the mean of the two months' means (5 and 27.5).
    assert b.kpi("frt_seconds", "quarter")["2026-Q4"][:3] == (20.0, 60.0, 3.0)
    assert b.kpi("frt_seconds", "week")["2026-W48"][:3] == (5.0, 5.0, 1.0)
    assert b.kpi("frt_seconds", "week")["2026-W49"][:3] == (27.5, 55.0, 2.0)
