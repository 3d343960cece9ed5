"""The KPIs the pipeline emits (SPEC §4 and README "Reference"): code, names and the unit of their values.

The formulas are in sql/; this catalogue only names the codes, in report order, and says how `value` is read from
numerator and denominator (sql/kpi.sql joins the units as the table `kpi_units`).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KpiName:
    zh: str
    en: str
    # seconds / hours: numerator / denominator; percent: that × 100; count: the numerator itself;
    # percentile: computed from the period's values (numerator null)
    unit: str


CATALOGUE: dict[str, KpiName] = {
    "target_achievement_rate": KpiName("目标达成率", "Target achievement", "percent"),
    "frt_seconds": KpiName("首次响应时间", "First response time", "seconds"),
    "avg_response_seconds": KpiName("平均响应时间", "Average response time", "seconds"),
    "inquiry_conversion_rate": KpiName("询单转化率", "Inquiry conversion", "percent"),
    "satisfaction_rate": KpiName("客户满意度", "Satisfaction", "percent"),
    "reply_rate": KpiName("回复率", "Reply rate", "percent"),
    "complaint_rate": KpiName("客户投诉率", "Complaint rate", "percent"),
    "bad_review_rate": KpiName("商品差评率", "Bad-review rate", "percent"),
    "feedback_handling_rate": KpiName("客户反馈处理率", "Feedback handled", "percent"),
    "refund_duration_hours": KpiName("退款退货时长", "Refund duration", "hours"),
    "platform_help_rate": KpiName("平台求助率", "Platform help rate", "percent"),
    "dispute_count": KpiName("在线争议发生量", "Online disputes", "count"),
    "bot_intent_accuracy": KpiName("AI语义理解准确率", "AI intent accuracy", "percent"),
    "bot_answer_accuracy": KpiName("AI回复内容准确率", "AI answer accuracy", "percent"),
    "bot_accuracy": KpiName("AI应答准确率", "AI accuracy (both)", "percent"),
    "complaint_feedback_24h_rate": KpiName("投诉24小时反馈率", "Complaints answered in 24 h", "percent"),
    "frt_median_seconds": KpiName("首次响应时间中位数", "FRT median", "percentile"),
    "frt_p90_seconds": KpiName("首次响应时间P90", "FRT 90th percentile", "percentile"),
    "response_median_seconds": KpiName("响应时间中位数", "Response time median", "percentile"),
    "response_p90_seconds": KpiName("响应时间P90", "Response time 90th percentile", "percentile"),
    "frt_bucket_0_10s": KpiName("首响 0–10秒", "FRT 0–10 s", "percent"),
    "frt_bucket_10_20s": KpiName("首响 10–20秒", "FRT 10–20 s", "percent"),
    "frt_bucket_20_30s": KpiName("首响 20–30秒", "FRT 20–30 s", "percent"),
    "frt_bucket_30_60s": KpiName("首响 30–60秒", "FRT 30–60 s", "percent"),
    "frt_bucket_1_5min": KpiName("首响 1–5分钟", "FRT 1–5 min", "percent"),
    "frt_bucket_over_5min": KpiName("首响 5分钟以上", "FRT over 5 min", "percent"),
}
KPI_CODES = tuple(CATALOGUE)
UNITS = {code: k.unit for code, k in CATALOGUE.items()}
PERCENTILES = tuple(code for code, unit in UNITS.items() if unit == "percentile")
FRT_BUCKETS = tuple(code for code in CATALOGUE if code.startswith("frt_bucket_"))
CLOCKS = ("wall", "service")
