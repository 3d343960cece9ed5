"""Random messy exports of every kind, ingested by `cskpi run` over one or two nights and compared with the independent
ingestion reference (`tests/ingest_oracle.py`): the per-file summary, the files recorded, every reject (file, line,
column, reason) and every row of each kind's view.

Each file draws its header (canonical names in any letter case with spaces, or a Chinese alias of README "Header
aliases"), its encoding (UTF-8, with BOM, GB18030) and line ends, and each cell from the forms README "Inputs" and
"Values" read and from forms they reject: ids with spaces and Excel's `="..."`, every timestamp form and impossible
dates, role, level, star, category, reason and yes/no labels, money with signs and separators, periods; and rows
repeated, within a file and across nights, with keys that collide. `CSKPI_RANDOM_EXAMPLES=N` draws N new examples
(default: the same 10 every run).
"""
from __future__ import annotations

import csv
import io
import os

from hypothesis import HealthCheck, given, settings, strategies as st

from pipeline.kinds import KINDS
from tests.ingest_oracle import IngestOracle, inbox_files
from tests.test_ingest_oracle import (compare_files, compare_rejects, compare_summary, compare_view, cskpi_run)

EXAMPLES = int(os.environ.get("CSKPI_RANDOM_EXAMPLES", "10"))
FIXED = "CSKPI_RANDOM_EXAMPLES" not in os.environ
REJECT_RATIO = 0.6  # most files land with their rejects; one with more bad rows than this is refused

IDS = ["k1", "k2", "k3", " k1 ", '="k2"', "K1", "小明", ""]
SHOPS = ["S1", " S1", "S2", '="S2"', "店铺A", ""]
TIMES = ["2026-11-27 10:00:00", "2026/11/27 10:00:00", "2026-11-27T10:00:00", "2026-11-27T02:00:00Z",
         "2026-11-27T10:00:00+08:00", "2026-11-27T11:00:00+0900", "2026/11/27 10:00", "2026/1/7 9:05",
         "2026-11-27 10:00:00.5", "2026-11-27 10:00:00.1234567", " 2026-11-27 23:59:59 ", "2026-11-28 00:00:00",
         "2026-11-27 10:00:00 +08:00", "2026-11-31 10:00:00", "2026-11-27", "2026-11-27 24:00:00",
         "2026-11-27T10:00:00+08", "20261127100000", "yesterday", "1900-01-01 00:00:00", "1899-12-31 23:59:59",
         "2999-12-31 23:59:59", "3000-01-01 00:00:00", "1899-12-31T23:00:00Z", "2999-12-31T16:00:00Z", ""]
VALUES = {
    "string": ["a", " a ", "文本", "", '="007"', "x,y", "两行\n文本"],
    "timestamp": TIMES,
    "role": ["customer", "顾客", "买家", "客户", "agent", "客服", "卖家", "人工客服", "AGENT", " Agent ", "bot",
             "机器人", "智能客服", "自动回复", "system", "系统", "系统消息", "客人", ""],
    "level": ["1", "5", " 4 ", "很满意", "非常满意", "满意", "一般", "不满意", "很不满意", "非常不满意", "6", "0",
              "4.5", "好", ""],
    "stars": ["1", "5", "5.0", "5星", "5 星", " 5星 ", "3 stars", "2 Stars", "6", "4.5", "五星", ""],
    "category": ["product", "service", "商品质量", "商品", "产品质量", "服务质量", "服务", "物流", ""],
    "reason": ["no_reason_7d", "七天无理由", "7天无理由退货", "quality", "质量问题", "usage", "使用问题", "other",
               "其他", "不想要了", ""],
    "flag": ["true", "FALSE", "yes", "No", "y", "n", "1", "0", "是", "否", "对", "错", "正确", "错误", "已处理",
             "未处理", "已介入", "未介入", "maybe", "2", ""],
    "decimal": ["10", "10.10", "0", "¥1,234.50", "￥99", "100元", " 8.8 ", "-1", "NaN", "inf", "1e3", "abc",
                "1,2,3", "1e15", "1e35", ""],
    "period": ["2026-11-27", "2026-W48", "2026-11", "2026-Q4", "2026", "2026-13", "2026-W54", "2026-Q5",
               "26-11", "0001-Q1", "1900", "2999-12", "3000-W01", ""],
    "int": ["1", "0", "-1", "x", ""],
}


def aliases_of(kind: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for alias, name in KINDS[kind].aliases.items():
        out.setdefault(name, []).append(alias)
    return out


@st.composite
def export(draw, kind: str, name: str):
    """One file of `kind`: its name in the inbox and its bytes."""
    spec = KINDS[kind]
    aliases = aliases_of(kind)
    columns = [c for c in spec.columns if c.required or draw(st.booleans())]
    columns = draw(st.permutations(columns))
    header = []
    for c in columns:
        form = draw(st.sampled_from(["name", "case", "alias"]))
        if form == "alias" and aliases.get(c.name):
            header.append(draw(st.sampled_from(aliases[c.name])))
        elif form == "case":
            header.append(f" {c.name.upper()} ")
        else:
            header.append(c.name)
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        row = []
        for c in columns:
            pool = IDS if c.name in spec.key or c.name.endswith("_id") and c.name != "shop_id" else \
                SHOPS if c.name == "shop_id" else VALUES[c.type]
            row.append(draw(st.sampled_from(pool)))
        rows.append(row)
    if rows and draw(st.booleans()):
        rows.append(list(draw(st.sampled_from(rows))))  # a row repeated in the file
    text = io.StringIO()
    writer = csv.writer(text, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    writer.writerows(rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    return f"{kind}_{name}.csv", text.getvalue().encode(encoding)


@st.composite
def nights(draw):
    out = []
    for night in range(draw(st.integers(1, 2))):
        kinds = draw(st.lists(st.sampled_from(list(KINDS)), min_size=1, max_size=4))
        out.append([draw(export(kind, f"n{night}_{i}")) for i, kind in enumerate(kinds)])
    return out


@settings(max_examples=EXAMPLES, deadline=None, derandomize=FIXED, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(files=nights())
def test_random_messy_exports_ingest_as_the_reference_says(tmp_path_factory, files):
    root = tmp_path_factory.mktemp("ingest_random")
    config = root / "cskpi.toml"
    config.write_text(f"max_reject_ratio = {REJECT_RATIO}\n", encoding="utf-8")
    oracle = IngestOracle(max_reject_ratio=REJECT_RATIO)
    lake = root / "lake"
    for n, night in enumerate(files):
        inbox = root / f"night{n}"
        inbox.mkdir()
        for name, data in night:
            (inbox / name).write_bytes(data)
        outcomes = oracle.run(inbox_files(inbox))
        result = cskpi_run(inbox, lake, config)
        compare_summary(result.output, outcomes, result.exit_code)
    if not (lake / "warehouse.duckdb").exists():
        return  # every file refused: nothing landed, as compare_summary checked
    compare_files(lake, oracle)
    compare_rejects(lake, oracle)
    for kind in KINDS:
        compare_view(lake, oracle, kind)
