"""The readable banded table that `make run` ends with: one block per shop and period, KPI names in both languages."""
from __future__ import annotations

import unicodedata

import duckdb

from ..land.lake import Lake
from ..kpis import CATALOGUE
from .export import kpi_query

ORDER = list(CATALOGUE)
_SUFFIX = {"percent": " %", "seconds": " s", "percentile": " s", "hours": " h", "count": ""}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    digits = 0 if unit == "count" else 3 if unit == "percent" and value < 1 else 2 if unit == "percent" else 1
    return f"{value:.{digits}f}{_SUFFIX[unit]}"


def _amount(x: float | None) -> str:
    return "·" if x is None else f"{x:.2f}".rstrip("0").rstrip(".")


def report(lake: Lake, grain: str = "month", level: str = "shop") -> str:
    sql, params = kpi_query(lake, grain, level)
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"SELECT period, shop_id, agent_id, kpi, value, numerator, denominator, band, provisional, clock "
            f"FROM ({sql})",
            params,
        ).fetchall()
    finally:
        con.close()
    if not rows:
        return f"No {level}-level KPI rows for grain {grain}."
    blocks: dict[tuple, list] = {}
    for row in rows:
        blocks.setdefault((row[0], row[1], row[2]), []).append(row)
    name_w = max(_width(f"{k.zh} {k.en} (service)") for k in CATALOGUE.values())
    lines = []
    for (period, shop, agent), items in blocks.items():
        title = f"{shop} · {period}" + (f" · agent {agent}" if agent else "")
        lines += ["", title, "─" * (name_w + 44)]
        for _, _, _, kpi, value, num, den, band, provisional, clock in sorted(
                items, key=lambda r: (ORDER.index(r[3]), r[9] != "wall")):
            name = CATALOGUE[kpi]
            label = f"{name.zh} {name.en}" + (" (service)" if clock == "service" else "")
            mark = " (provisional)" if provisional else ""
            lines.append(f"{_pad(label, name_w)}  {_value(value, name.unit):>11}  {band:<8} "
                         f"{_amount(num)}/{_amount(den)}{mark}")
    return "\n".join(lines).lstrip("\n")
