"""The readable banded table that `make run` ends with: one block per shop and period, KPI names in both languages."""
from __future__ import annotations

import unicodedata

import duckdb

from ..land.lake import Lake
from .export import kpi_query

KPI_NAMES = {
    "target_achievement_rate": ("目标达成率", "Target achievement", "%"),
    "frt_seconds": ("首次响应时间", "First response time", "s"),
    "avg_response_seconds": ("平均响应时间", "Average response time", "s"),
    "inquiry_conversion_rate": ("询单转化率", "Inquiry conversion", "%"),
    "satisfaction_rate": ("客户满意度", "Satisfaction", "%"),
    "reply_rate": ("回复率", "Reply rate", "%"),
    "complaint_rate": ("客户投诉率", "Complaint rate", "%"),
    "bad_review_rate": ("商品差评率", "Bad-review rate", "%"),
}
ORDER = list(KPI_NAMES)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    digits = 3 if unit == "%" and value < 1 else 2 if unit == "%" else 1
    return f"{value:.{digits}f}{' %' if unit == '%' else ' s'}"


def _amount(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def report(lake: Lake, grain: str = "month", level: str = "shop") -> str:
    sql, params = kpi_query(lake, grain, level)
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"SELECT period, shop_id, agent_id, kpi, value, numerator, denominator, band, provisional FROM ({sql})",
            params,
        ).fetchall()
    finally:
        con.close()
    if not rows:
        return f"No {level}-level KPI rows for grain {grain}."
    blocks: dict[tuple, list] = {}
    for row in rows:
        blocks.setdefault((row[0], row[1], row[2]), []).append(row)
    name_w = max(_width(f"{zh} {en}") for zh, en, _ in KPI_NAMES.values())
    lines = []
    for (period, shop, agent), items in blocks.items():
        title = f"{shop} · {period}" + (f" · agent {agent}" if agent else "")
        lines += ["", title, "─" * (name_w + 44)]
        for _, _, _, kpi, value, num, den, band, provisional in sorted(items, key=lambda r: ORDER.index(r[3])):
            zh, en, unit = KPI_NAMES[kpi]
            mark = " (provisional)" if provisional else ""
            lines.append(f"{_pad(zh + ' ' + en, name_w)}  {_value(value, unit):>11}  {band:<8} "
                         f"{_amount(num)}/{_amount(den)}{mark}")
    return "\n".join(lines).lstrip("\n")
