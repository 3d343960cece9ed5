"""The ingest contract (SPEC §1.2, §1.3): accounting, rejects, the reject threshold, headers, duplicates, re-ingest,
encodings and formats end to end. Everything goes through jobs.ingest_files and is checked against the lake's
manifest, the per-file FileResult objects and the warehouse (`ingested_files`, `rejects` and the kind views)."""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline import jobs
from pipeline.config import Config
from pipeline.kinds import KINDS
from pipeline.land.ingest import FileResult, connect
from pipeline.land.lake import Lake
from tests.conftest import warehouse, write_csv

LOOSE = Config(max_reject_ratio=1.0)  # lets a small file carry several rejects

# One valid row per kind (canonical columns); rows of a test are variations of it.
GOOD = {
    "messages": {"message_id": "m1", "session_id": None, "shop_id": "S1", "customer_id": "C1", "agent_id": None,
                 "sender_role": "customer", "sent_at": "2026-11-27 10:00:00", "content": "你好"},
    "ratings": {"rating_id": "R1", "shop_id": "S1", "rated_at": "2026-11-27 10:00:00", "level": "5",
                "session_id": None, "customer_id": "C1", "agent_id": "A1"},
    "orders": {"order_id": "O1", "shop_id": "S1", "customer_id": "C1", "created_at": "2026-11-27 10:00:00",
               "paid_at": "2026-11-27 10:05:00", "amount": "99.50", "status": "paid"},
    "complaints": {"complaint_id": "K1", "shop_id": "S1", "created_at": "2026-11-27 10:00:00", "customer_id": "C1",
                   "order_id": "O1", "category": "product", "responded_at": None, "resolved_at": None,
                   "agreed_at": None},
    "reviews": {"review_id": "V1", "shop_id": "S1", "created_at": "2026-11-27 10:00:00", "rating": "5",
                "order_id": "O1", "customer_id": "C1"},
    "targets": {"shop_id": "S1", "period": "2026-11", "target_sales": "10000"},
    "refunds": {"refund_id": "F1", "shop_id": "S1", "requested_at": "2026-11-27 10:00:00",
                "completed_at": "2026-11-28 10:00:00", "order_id": "O1", "customer_id": "C1", "reason": "七天无理由",
                "outcome": "退款成功"},
    "disputes": {"dispute_id": "D1", "shop_id": "S1", "opened_at": "2026-11-27 10:00:00", "closed_at": None,
                 "platform_involved": "是", "order_id": "O1", "customer_id": "C1"},
    "feedback": {"feedback_id": "B1", "shop_id": "S1", "received_at": "2026-11-27 10:00:00", "handled_at": None,
                 "handled": "已处理", "category": "物流", "customer_id": "C1"},
    "bot_answers": {"answer_id": "Q1", "shop_id": "S1", "answered_at": "2026-11-27 10:00:00",
                    "intent_correct": "正确", "answer_correct": "错误", "session_id": None, "customer_id": "C1",
                    "question": "发货了吗"},
}
ID = {"messages": "message_id", "ratings": "rating_id", "orders": "order_id", "complaints": "complaint_id",
      "reviews": "review_id", "targets": "shop_id", "refunds": "refund_id", "disputes": "dispute_id",
      "feedback": "feedback_id", "bot_answers": "answer_id"}


def row(kind: str, **changes) -> list:
    values = {**GOOD[kind], **changes}
    return [values[c] for c in KINDS[kind].names]


def kind_csv(path: Path, kind: str, rows: list[list], encoding: str = "utf-8") -> Path:
    return write_csv(path, list(KINDS[kind].names), rows, encoding=encoding)


def ingest(lake_dir: Path, files: list[tuple[str, Path]], config: Config | None = None) -> tuple[Lake, list]:
    lake = Lake(lake_dir)
    return lake, jobs.ingest_files(lake, files, config or Config())


def ingested(lake: Lake) -> dict[str, tuple]:
    """file -> (read, accepted, rejected, duplicates) from the warehouse's ingested_files table."""
    return {r[0]: tuple(r[1:]) for r in
            warehouse(lake, "SELECT file, read, accepted, rejected, duplicates FROM ingested_files")}


def rejects(lake: Lake, path: Path) -> list[tuple]:
    return warehouse(lake, 'SELECT line, "column", reason, raw_value FROM rejects WHERE file = ? ORDER BY line',
                 [str(path)])


def assert_accounting(lake: Lake, results: list[FileResult]) -> None:
    """read = accepted + rejected + duplicates, and the result, the manifest, ingested_files, the rejects view and
    the file's data part all tell the same numbers. Refused and seen files add nothing."""
    table = ingested(lake)
    entries = {f.name: f for f in lake.manifest().files}
    for r in results:
        name = str(r.path)
        if r.status != "landed":
            continue
        assert r.read == r.accepted + r.rejected + r.duplicates, r
        assert table[name] == (r.read, r.accepted, r.rejected, r.duplicates)
        entry = entries[name]
        assert (entry.read, entry.accepted, entry.rejected, entry.duplicates) == table[name]
        assert len(rejects(lake, r.path)) == r.rejected
        part_rows = duckdb.sql(f"SELECT count(*) FROM read_parquet('{lake.path(entry.data)}')").fetchall()[0][0]
        assert part_rows == r.accepted
    assert len(table) == len(entries)


def only(results: list[FileResult]) -> FileResult:
    (result,) = results
    return result


# --- 1. accounting and reject line numbers -------------------------------------------------------------------------

MESSAGES_WITH_REJECTS = (
    "message_id,shop_id,customer_id,sender_role,sent_at,content\n"   # line 1
    "m1,S1,C1,customer,2026-11-27 10:00:00,hello\n"                  # 2
    'm2,S1,C1,agent,2026-11-27 10:00:05,"line one\nline two\nline three"\n'  # 3-5
    "m3,S1,C1,customer,not a time,x\n"                               # 6  unparseable time
    "m4,S1,C1,robot,2026-11-27 10:01:00,x\n"                         # 7  unknown role
    "m5,S1,,customer,2026-11-27 10:02:00,x\n"                        # 8  missing customer_id
    "m1,S1,C1,customer,2026-11-27 10:00:00,hello\n"                  # 9  duplicate of line 2
    'm6,S1,C2,customer,2026-11-27 11:00:00,"two\nlines"\n'           # 10-11
    "m7,S1,C2,bogus,2026-11-27 11:00:00,x\n"                         # 12 unknown role
)
EXPECTED_REJECTS = [
    (6, "sent_at", "not a timestamp", "not a time"),
    (7, "sender_role", "unknown sender role", "robot"),
    (8, "customer_id", "missing required value", None),
    (12, "sender_role", "unknown sender role", "bogus"),
]


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_accounting_and_exact_reject_lines_after_quoted_newlines(tmp_path, newline):
    path = tmp_path / "messages.csv"
    path.write_bytes(MESSAGES_WITH_REJECTS.replace("\n", newline).encode())
    lake, results = ingest(tmp_path / "lake", [("messages", path)], LOOSE)
    r = only(results)
    assert r.status == "landed"
    assert (r.read, r.accepted, r.rejected, r.duplicates) == (8, 3, 4, 1)
    assert_accounting(lake, results)
    got = rejects(lake, path)
    assert [(g[0], g[1], g[3]) for g in got] == [(e[0], e[1], e[3]) for e in EXPECTED_REJECTS]
    for g, e in zip(got, EXPECTED_REJECTS):
        assert e[2] in g[2]
    # the reject samples of the result are the same rows
    assert [(s["line"], s["column"]) for s in r.sample_rejects] == [(e[0], e[1]) for e in EXPECTED_REJECTS]
    # rejected rows are counted nowhere else
    assert sorted(x[0] for x in warehouse(lake, "SELECT message_id FROM messages")) == ["m1", "m2", "m6"]
    if newline == "\n":
        assert warehouse(lake, "SELECT content FROM messages WHERE message_id = 'm2'") == [("line one\nline two\nline three",)]


STRAY_QUOTES = (
    "message_id,shop_id,customer_id,sender_role,sent_at,content\n"   # line 1
    'm1,S1,C1,customer,2026-11-27 10:00:00,他说"好\n'                  # 2  a stray quote inside a field
    'm2,S1,C1,agent,2026-11-27 10:00:05,"quoted, with ""quotes""\nand a newline"\n'  # 3-4
    "m3,S1,C1,customer,not a time,x\n"                                # 5  unparseable time
    'm4,S1,C1,agent,2026-11-27 10:01:00,5" screen\n'                  # 6  a second stray quote
    'm5,S1,C1,customer,2026-11-27 10:02:00,"one more ""quoted"""\n'   # 7
)


@pytest.mark.parametrize("stray", [1, 2], ids=["odd", "even"])
@pytest.mark.parametrize("encoding, newline", [("utf-8", "\n"), ("gb18030", "\r\n")], ids=["utf8-lf", "gb-crlf"])
def test_a_stray_quote_inside_a_field_is_a_character_as_in_excel(tmp_path, stray, encoding, newline):
    # Polars splits a file into records by counting every quote: one stray quote (or two) refused the whole file.
    text = STRAY_QUOTES if stray == 2 else STRAY_QUOTES.replace('5" screen', "5 inch screen")
    path = tmp_path / "messages.csv"
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    lake, results = ingest(tmp_path / "lake", [("messages", path)], LOOSE)
    r = only(results)
    assert (r.status, r.read, r.accepted, r.rejected, r.duplicates) == ("landed", 5, 4, 1, 0)
    assert_accounting(lake, results)
    assert [(g[0], g[1]) for g in rejects(lake, path)] == [(5, "sent_at")]
    screen = '5" screen' if stray == 2 else "5 inch screen"
    want = [("m1", '他说"好', 2), ("m2", f"quoted, with \"quotes\"{newline}and a newline", 3), ("m4", screen, 6),
            ("m5", 'one more "quoted"', 7)]
    assert warehouse(lake, "SELECT message_id, content, _line FROM messages ORDER BY message_id") == want


@pytest.mark.parametrize("body, line, why", [
    ('m1,S1,C1,customer,2026-11-27 10:00:00,a"b\nm2,S1,C1,agent,2026-11-27 10:00:05,"x"y\n', 3, "not valid CSV"),
    ('m1,S1,C1,customer,2026-11-27 10:00:00,a"b\nm2,S1,C1,agent,2026-11-27 10:00:05,"cut\nin the mid', 3,
     "never closed"),
], ids=["text-after-a-closing-quote", "truncated"])
def test_a_quoted_field_that_is_not_csv_still_refuses_the_file_naming_its_line(tmp_path, body, line, why):
    path = tmp_path / "messages.csv"
    path.write_text("message_id,shop_id,customer_id,sender_role,sent_at,content\n" + body, encoding="utf-8")
    lake, results = ingest(tmp_path / "lake", [("messages", path)], LOOSE)
    r = only(results)
    assert r.status == "refused" and why in r.message and f"line {line}" in r.message
    assert lake.manifest().files == []


def test_accounting_over_several_files_and_kinds(tmp_path):
    files = [
        ("messages", kind_csv(tmp_path / "m1.csv", "messages", [row("messages"), row("messages", message_id="m2"),
                                                                 row("messages", sent_at="31/11/2026")])),
        ("messages", kind_csv(tmp_path / "m2.csv", "messages", [row("messages"), row("messages", message_id="m3")])),
        ("orders", kind_csv(tmp_path / "o.csv", "orders", [row("orders"), row("orders"), row("orders", order_id="O2",
                                                                                             amount="-1")])),
        ("ratings", kind_csv(tmp_path / "r.csv", "ratings", [row("ratings"), row("ratings", rating_id="R2", level="9")])),
    ]
    lake, results = ingest(tmp_path / "lake", files, LOOSE)
    assert [r.status for r in results] == ["landed"] * 4
    assert [(r.read, r.accepted, r.rejected, r.duplicates) for r in results] == [
        (3, 2, 1, 0), (2, 1, 0, 1), (3, 1, 1, 1), (2, 1, 1, 0)]
    assert_accounting(lake, results)
    assert warehouse(lake, "SELECT sum(read), sum(accepted), sum(rejected), sum(duplicates) FROM ingested_files") == [
        (10, 5, 3, 2)]
    assert warehouse(lake, "SELECT kind, count(*) FROM rejects GROUP BY kind ORDER BY kind") == [
        ("messages", 1), ("orders", 1), ("ratings", 1)]


def test_reject_line_numbers_skip_blank_lines(tmp_path):
    path = tmp_path / "messages.csv"
    path.write_text("shop_id,customer_id,sender_role,sent_at\n"
                    "S1,C1,customer,2026-11-27 10:00:00\n"
                    "\n"
                    "S1,C2,robot,2026-11-27 10:00:00\n", encoding="utf-8")
    lake, results = ingest(tmp_path / "lake", [("messages", path)], LOOSE)
    assert (only(results).read, only(results).rejected) == (2, 1)
    assert [r[:2] for r in rejects(lake, path)] == [(4, "sender_role")]


# --- 2. each reject reason -----------------------------------------------------------------------------------------

REJECT_CASES = [
    ("messages", "sent_at", "2026-11-31 10:00:00", "not a timestamp"),
    ("messages", "sent_at", "yesterday 10am", "not a timestamp"),
    ("messages", "sender_role", "robot", "unknown sender role"),
    ("messages", "sender_role", "客人", "unknown sender role"),
    ("messages", "shop_id", "", "missing required value"),
    ("messages", "sent_at", "", "missing required value"),
    ("messages", "customer_id", "   ", "missing required value"),
    ("orders", "amount", "-12.50", "negative amount"),
    ("orders", "created_at", "2026-02-30 10:00:00", "not a timestamp"),
    ("orders", "order_id", "", "missing required value"),
    ("ratings", "level", "0", "level outside 1–5"),
    ("ratings", "level", "6", "level outside 1–5"),
    ("ratings", "level", "4.5", "level outside 1–5"),
    ("ratings", "level", "非常好", "level outside 1–5"),
    ("ratings", "rated_at", "", "missing required value"),
    ("reviews", "rating", "0", "rating outside 1–5"),
    ("reviews", "rating", "6", "rating outside 1–5"),
    ("complaints", "complaint_id", "", "missing required value"),
    ("complaints", "created_at", "2026-11-27 25:00:00", "not a timestamp"),
    ("targets", "period", "2026-13", "not a period label"),
    ("targets", "period", "2026-W54", "not a period label"),
    ("targets", "period", "2026-Q5", "not a period label"),
    ("targets", "period", "Nov 2026", "not a period label"),
    # "0001-Q1" was labelled "1-Q1", which broke the landed part's schema and failed the whole run
    ("targets", "period", "0001-Q1", "not a period label"), ("targets", "period", "3000", "not a period label"),
    ("targets", "period", "1899-W52", "not a period label"),
    ("targets", "target_sales", "-1", "negative amount"),
    ("refunds", "completed_at", "2026-11-27 09:59:59", "before requested_at"),
    ("refunds", "requested_at", "", "missing required value"),
    ("disputes", "platform_involved", "maybe", "not a yes/no value"),
    ("disputes", "opened_at", "2026-11-27 24:00:01", "not a timestamp"),
    ("feedback", "handled", "处理中", "not a yes/no value"),
    ("bot_answers", "intent_correct", "", "missing required value"),
    ("bot_answers", "answer_correct", "2", "not a yes/no value"),
]


@pytest.mark.parametrize("kind", sorted({case[0] for case in REJECT_CASES}))
def test_each_reject_reason(tmp_path, kind):
    """One file per kind: a good row, then one bad row per case (line 3, 4, ...), each with its own key."""
    cases = [case for case in REJECT_CASES if case[0] == kind]
    rows = [row(kind)]
    for i, (_, column, bad, _) in enumerate(cases):
        key = {} if column == ID[kind] else {ID[kind]: f"X{i}"}
        rows.append(row(kind, **key, **{column: bad}))
    path = kind_csv(tmp_path / f"{kind}.csv", kind, rows)
    lake, results = ingest(tmp_path / "lake", [(kind, path)], LOOSE)
    r = only(results)
    assert (r.status, r.read, r.accepted, r.rejected, r.duplicates) == ("landed", len(rows), 1, len(cases), 0)
    got = rejects(lake, path)
    assert [g[:2] for g in got] == [(3 + i, column) for i, (_, column, _, _) in enumerate(cases)]
    for (line, _, got_reason, raw), (_, column, bad, reason) in zip(got, cases):
        assert reason in got_reason, (line, column, bad)
        if reason == "missing required value":
            assert raw in (None, bad), (line, column)  # an empty cell is null (SPEC §1.1)
        else:
            assert raw == bad, (line, column)
    assert warehouse(lake, f"SELECT count(*) FROM {kind}") == [(1,)]
    assert_accounting(lake, results)


def test_valid_edge_values_are_accepted(tmp_path):
    """The other side of each rule: levels 1 and 5, stars 1 and 5, amount 0, every period grain."""
    files = [
        ("ratings", kind_csv(tmp_path / "r.csv", "ratings", [row("ratings", rating_id="a", level="1"),
                                                            row("ratings", rating_id="b", level="5"),
                                                            row("ratings", rating_id="c", level=" 3 ")])),
        ("reviews", kind_csv(tmp_path / "v.csv", "reviews", [row("reviews", review_id="a", rating="1"),
                                                            row("reviews", review_id="b", rating="5")])),
        ("orders", kind_csv(tmp_path / "o.csv", "orders", [row("orders", amount="0")])),
        ("targets", kind_csv(tmp_path / "t.csv", "targets", [row("targets", period=p) for p in
                                                             ("2026-11-27", "2026-W48", "2026-11", "2026-Q4", "2026")])),
    ]
    lake, results = ingest(tmp_path / "lake", files)
    assert [(r.status, r.rejected) for r in results] == [("landed", 0)] * 4
    assert warehouse(lake, "SELECT level FROM ratings ORDER BY rating_id") == [(1,), (5,), (3,)]
    assert warehouse(lake, "SELECT rating FROM reviews ORDER BY review_id") == [(1,), (5,)]
    assert warehouse(lake, "SELECT amount FROM orders") == [(0.0,)]
    assert warehouse(lake, "SELECT period, grain, period_start FROM targets ORDER BY period_start, grain DESC") == [
        ("2026", "year", dt.date(2026, 1, 1)),
        ("2026-Q4", "quarter", dt.date(2026, 10, 1)),
        ("2026-11", "month", dt.date(2026, 11, 1)),
        ("2026-W48", "week", dt.date(2026, 11, 23)),
        ("2026-11-27", "day", dt.date(2026, 11, 27)),
    ]


def test_chinese_value_labels_are_accepted(tmp_path):
    roles = ["顾客", "买家", "客服", "卖家", "机器人", "智能客服", "系统"]
    messages = kind_csv(tmp_path / "m.csv", "messages",
                        [row("messages", message_id=f"m{i}", sender_role=label) for i, label in enumerate(roles)])
    levels = ["很满意", "满意", "一般", "不满意", "很不满意"]
    ratings = kind_csv(tmp_path / "r.csv", "ratings",
                       [row("ratings", rating_id=f"r{i}", level=label) for i, label in enumerate(levels)])
    complaints = kind_csv(tmp_path / "k.csv", "complaints",
                          [row("complaints", complaint_id="k1", category="商品质量"),
                           row("complaints", complaint_id="k2", category="服务质量")])
    lake, results = ingest(tmp_path / "lake",
                           [("messages", messages), ("ratings", ratings), ("complaints", complaints)])
    assert [(r.status, r.rejected) for r in results] == [("landed", 0)] * 3
    assert warehouse(lake, "SELECT sender_role FROM messages ORDER BY message_id") == [
        ("customer",), ("customer",), ("agent",), ("agent",), ("bot",), ("bot",), ("system",)]
    assert warehouse(lake, "SELECT level FROM ratings ORDER BY rating_id") == [(5,), (4,), (3,), (2,), (1,)]
    assert warehouse(lake, "SELECT category FROM complaints ORDER BY complaint_id") == [("product",), ("service",)]


# The SPEC §1.2 table: Chinese headers, one file per kind (and the alternative headers of messages).
CHINESE = {
    "messages": (["消息ID", "会话ID", "店铺ID", "顾客ID", "客服ID", "发送方", "发送时间", "消息内容"],
                 ["m1", "G1", "S1", "C1", "A1", "客服", "2026-11-27 10:00:05", "您好，在的"],
                 "SELECT message_id, session_id, shop_id, customer_id, agent_id, sender_role, sent_at, content "
                 "FROM messages",
                 ("m1", "G1", "S1", "C1", "A1", "agent", dt.datetime(2026, 11, 27, 10, 0, 5), "您好，在的")),
    "messages_alt": (["店铺ID", "买家昵称", "客服账号", "发送方", "发送时间", "内容"],
                     ["S1", "小明", "客服01", "买家", "2026/11/27 10:00:05", "在吗"],
                     "SELECT shop_id, customer_id, agent_id, sender_role, sent_at, content FROM messages",
                     ("S1", "小明", "客服01", "customer", dt.datetime(2026, 11, 27, 10, 0, 5), "在吗")),
    "messages_alt2": (["店铺ID", "买家会员名", "发送方", "发送时间"],
                      ["S1", "tb_123", "顾客", "2026-11-27T10:00:05"],
                      "SELECT shop_id, customer_id, sender_role, sent_at FROM messages",
                      ("S1", "tb_123", "customer", dt.datetime(2026, 11, 27, 10, 0, 5))),
    "orders": (["订单编号", "店铺ID", "买家会员名", "订单创建时间", "订单付款时间", "买家实际支付金额", "订单状态"],
               ["3088123456789", "S1", "tb_123", "2026-11-27 10:00:00", "2026-11-27 10:30:00", "128.80", "交易成功"],
               "SELECT order_id, shop_id, customer_id, created_at, paid_at, amount, status FROM orders",
               ("3088123456789", "S1", "tb_123", dt.datetime(2026, 11, 27, 10), dt.datetime(2026, 11, 27, 10, 30),
                128.8, "交易成功")),
    "ratings": (["评价ID", "店铺ID", "会话ID", "顾客ID", "客服ID", "评价时间", "满意度"],
                ["R1", "S1", "G1", "C1", "A1", "2026-11-27 11:00:00", "很满意"],
                "SELECT rating_id, shop_id, session_id, customer_id, agent_id, rated_at, level FROM ratings",
                ("R1", "S1", "G1", "C1", "A1", dt.datetime(2026, 11, 27, 11), 5)),
    "complaints": (["投诉编号", "店铺ID", "顾客ID", "订单编号", "投诉类型", "投诉时间", "首次反馈时间", "解决时间"],
                   ["K1", "S1", "C1", "O1", "服务质量", "2026-11-27 12:00:00", "2026-11-27 12:10:00",
                    "2026-11-28 09:00:00"],
                   "SELECT complaint_id, shop_id, customer_id, order_id, category, created_at, responded_at, "
                   "resolved_at FROM complaints",
                   ("K1", "S1", "C1", "O1", "service", dt.datetime(2026, 11, 27, 12), dt.datetime(2026, 11, 27, 12, 10),
                    dt.datetime(2026, 11, 28, 9))),
    "reviews": (["评价ID", "店铺ID", "订单编号", "顾客ID", "评价时间", "评分"],
                ["V1", "S1", "O1", "C1", "2026-11-29 08:00:00", "2"],
                "SELECT review_id, shop_id, order_id, customer_id, created_at, rating FROM reviews",
                ("V1", "S1", "O1", "C1", dt.datetime(2026, 11, 29, 8), 2)),
    "targets": (["店铺ID", "考核周期", "目标销售额"],
                ["S1", "2026-11", "500000"],
                "SELECT shop_id, period, target_sales FROM targets",
                ("S1", "2026-11", 500000.0)),
}


@pytest.mark.parametrize("case", list(CHINESE))
def test_chinese_headers_of_the_spec_table(tmp_path, case):
    kind = case.split("_")[0]
    header, values, sql, expected = CHINESE[case]
    path = write_csv(tmp_path / f"{case}.csv", [f" {header[0]} "] + header[1:], [values])  # spaces ignored
    lake, results = ingest(tmp_path / "lake", [(kind, path)])
    r = only(results)
    assert (r.status, r.read, r.accepted, r.rejected, r.ignored_columns) == ("landed", 1, 1, 0, [])
    assert warehouse(lake, sql) == [expected]


def test_headers_match_ignoring_case_and_spaces(tmp_path):
    path = write_csv(tmp_path / "m.csv", ["  Shop_ID", "CUSTOMER_ID ", " Sender_Role ", "Sent_At"],
                     [["S1", "C1", "Customer", "2026-11-27 10:00:00"]])
    lake, results = ingest(tmp_path / "lake", [("messages", path)])
    assert only(results).accepted == 1
    assert warehouse(lake, "SELECT shop_id, customer_id, sender_role FROM messages") == [("S1", "C1", "customer")]


# --- 3. the reject threshold ---------------------------------------------------------------------------------------

def hundred_messages(path: Path, bad: int) -> Path:
    rows = [row("messages", message_id=f"m{i:03d}", sent_at=f"2026-11-27 10:{i // 60:02d}:{i % 60:02d}")
            for i in range(100)]
    for i in range(bad):
        rows[10 + 7 * i][KINDS["messages"].names.index("sender_role")] = "nobody"
    return kind_csv(path, "messages", rows)


def test_one_percent_rejected_lands(tmp_path):
    path = hundred_messages(tmp_path / "messages.csv", bad=1)
    lake, results = ingest(tmp_path / "lake", [("messages", path)])
    r = only(results)
    assert (r.status, r.read, r.accepted, r.rejected, r.duplicates) == ("landed", 100, 99, 1, 0)
    assert rejects(lake, path)[0][:2] == (12, "sender_role")
    assert_accounting(lake, results)


def test_two_percent_rejected_refuses_the_whole_file(tmp_path):
    good = kind_csv(tmp_path / "good.csv", "messages", [row("messages", message_id="g1")])
    bad = hundred_messages(tmp_path / "bad.csv", bad=2)
    lake, results = ingest(tmp_path / "lake", [("messages", good), ("messages", bad)])
    assert [r.status for r in results] == ["landed", "refused"]
    refused = results[1]
    assert str(bad) in refused.message
    assert "2 of 100" in refused.message
    assert "max_reject_ratio" in refused.message
    # nothing of it in the lake: no part, no rejects, not in ingested_files, not in the manifest
    assert list(ingested(lake)) == [str(good)]
    assert [f.name for f in lake.manifest().files] == [str(good)]
    assert warehouse(lake, "SELECT count(*) FROM rejects") == [(0,)]
    assert warehouse(lake, "SELECT message_id FROM messages") == [("g1",)]
    assert sorted(p.name for p in (lake.root / "data").rglob("*.parquet")) == ["000001.parquet"]
    assert_accounting(lake, results)


def test_refused_file_lands_nothing_in_an_empty_lake(tmp_path):
    lake, results = ingest(tmp_path / "lake", [("messages", hundred_messages(tmp_path / "bad.csv", bad=2))])
    assert only(results).status == "refused"
    assert lake.manifest().files == []
    assert warehouse(lake, "SELECT count(*) FROM messages") == [(0,)]
    assert warehouse(lake, "SELECT count(*) FROM ingested_files") == [(0,)]
    assert warehouse(lake, "SELECT count(*) FROM rejects") == [(0,)]
    assert not list(lake.root.glob("data/**/*.parquet"))


def test_the_same_file_twice_in_one_ingest_lands_once(tmp_path):
    path = kind_csv(tmp_path / "m.csv", "messages", [row("messages")])
    lake, results = ingest(tmp_path / "lake", [("messages", path), ("messages", path)])
    assert [r.status for r in results] == ["landed", "seen"]
    assert warehouse(lake, "SELECT count(*) FROM messages") == [(1,)]
    assert len(lake.manifest().files) == 1


def test_the_manifest_records_each_file_s_sha256(tmp_path):
    rows = [row("messages", message_id=f"m{i}", content="很长的消息 " * 40) for i in range(2000)]
    path = kind_csv(tmp_path / "m.csv", "messages", rows)
    assert path.stat().st_size > 256 * 1024  # more than one of file_digest's reads
    lake, _ = ingest(tmp_path / "lake", [("messages", path)])
    assert lake.manifest().files[0].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("ratio,bad,status", [
    ("0.05", 2, "landed"), ("0.05", 5, "landed"), ("0.05", 6, "refused"), ("0", 1, "refused"), ("0.0", 0, "landed"),
])
def test_max_reject_ratio_from_a_config_file(tmp_path, ratio, bad, status):
    toml = tmp_path / "cskpi.toml"
    toml.write_text(f"max_reject_ratio = {ratio}\n", encoding="utf-8")
    config = Config.load(toml)
    assert config.max_reject_ratio == float(ratio)
    path = hundred_messages(tmp_path / "messages.csv", bad=bad)
    lake, results = ingest(tmp_path / "lake", [("messages", path)], config)
    r = only(results)
    assert r.status == status
    if status == "landed":
        assert (r.read, r.rejected, r.accepted) == (100, bad, 100 - bad)
    else:
        assert f"{bad} of 100" in r.message
        assert lake.manifest().files == []


# --- 4. columns: missing, unknown, twice, user mapping ------------------------------------------------------------

def test_missing_required_column_refuses_the_file_naming_it(tmp_path):
    path = write_csv(tmp_path / "orders.csv", ["order_id", "shop_id", "created_at", "amount"],
                     [["O1", "S1", "2026-11-27 10:00:00", "5"]])
    lake, results = ingest(tmp_path / "lake", [("orders", path)])
    r = only(results)
    assert r.status == "refused"
    assert str(path) in r.message and "customer_id" in r.message
    assert lake.manifest().files == []


def test_unknown_extra_column_is_ignored_and_reported(tmp_path):
    path = write_csv(tmp_path / "m.csv", ["shop_id", "customer_id", "备注", "sender_role", "sent_at", "extra"],
                     [["S1", "C1", "note", "customer", "2026-11-27 10:00:00", "zzz"]])
    lake, results = ingest(tmp_path / "lake", [("messages", path)])
    r = only(results)
    assert (r.status, r.accepted) == ("landed", 1)
    assert r.ignored_columns == ["备注", "extra"]
    columns = [c[0] for c in warehouse(lake, "DESCRIBE messages")]
    assert "备注" not in columns and "extra" not in columns


@pytest.mark.parametrize("header", [["shop_id", "店铺ID"], ["shop_id", "shop_id"], ["Shop_ID ", "shop_id"]],
                         ids=["alias", "repeated", "case-and-space"])
def test_two_headers_for_one_column_refuse_the_file(tmp_path, header):
    path = write_csv(tmp_path / "m.csv", header + ["customer_id", "sender_role", "sent_at"],
                     [["S1", "S2", "C1", "customer", "2026-11-27 10:00:00"]])
    lake, results = ingest(tmp_path / "lake", [("messages", path)])
    r = only(results)
    assert r.status == "refused"
    assert "shop_id" in r.message and "both map to" in r.message
    assert lake.manifest().files == []


def test_two_headers_for_one_column_message_names_the_file(tmp_path):
    path = write_csv(tmp_path / "m.csv", ["shop_id", "店铺ID", "customer_id", "sender_role", "sent_at"],
                     [["S1", "S2", "C1", "customer", "2026-11-27 10:00:00"]])
    _, results = ingest(tmp_path / "lake", [("messages", path)])
    assert str(path) in only(results).message


def test_user_mapping_file_maps_odd_headers(tmp_path):
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('shop_id = "Store"\n'
                       "[messages]\n"
                       'customer_id = "Buyer Nick"\n'
                       'sender_role = "Who"\n'
                       'sent_at = "When"\n'
                       "[orders]\n"
                       'order_id = "Ref"\n', encoding="utf-8")
    messages = write_csv(tmp_path / "m.csv", ["store", "Buyer Nick", "Who", "When", "content"],
                         [["S1", "nick", "卖家", "2026-11-27 10:00:00", "hi"]])
    orders = write_csv(tmp_path / "o.csv", ["Ref", "Store", "customer_id", "created_at"],
                       [["O9", "S1", "nick", "2026-11-27 10:00:00"]])
    lake, results = ingest(tmp_path / "lake", [("messages", messages), ("orders", orders)],
                           Config(mapping=mapping))
    assert [(r.status, r.accepted, r.ignored_columns) for r in results] == [("landed", 1, []), ("landed", 1, [])]
    assert warehouse(lake, "SELECT shop_id, customer_id, sender_role, content FROM messages") == [
        ("S1", "nick", "agent", "hi")]
    assert warehouse(lake, "SELECT order_id, shop_id FROM orders") == [("O9", "S1")]


# --- 5. empty, header-only and truncated files --------------------------------------------------------------------

def test_empty_and_header_only_files_land_zero_rows(tmp_path):
    empty = tmp_path / "messages_empty.csv"
    empty.write_bytes(b"")
    header_only = tmp_path / "orders_header.csv"
    header_only.write_text(",".join(KINDS["orders"].names) + "\r\n", encoding="utf-8")
    lake, results = ingest(tmp_path / "lake", [("messages", empty), ("orders", header_only)])
    assert [(r.status, r.read, r.accepted, r.rejected, r.duplicates) for r in results] == [
        ("landed", 0, 0, 0, 0), ("landed", 0, 0, 0, 0)]
    assert_accounting(lake, results)
    assert warehouse(lake, "SELECT count(*) FROM messages") == [(0,)]
    assert warehouse(lake, "SELECT count(*) FROM orders") == [(0,)]


def test_truncated_file_is_refused_with_its_line(tmp_path):
    good = kind_csv(tmp_path / "good.csv", "messages", [row("messages")])
    cut = tmp_path / "cut.csv"
    cut.write_text("shop_id,customer_id,sender_role,sent_at,content\n"
                   "S1,C1,customer,2026-11-27 10:00:00,ok\n"
                   'S1,C1,customer,2026-11-27 10:00:01,"the export stopped in the mid', encoding="utf-8")
    lake, results = ingest(tmp_path / "lake", [("messages", cut), ("messages", good)])
    assert [r.status for r in results] == ["refused", "landed"]
    assert str(cut) in results[0].message and "line 3" in results[0].message
    assert [f.name for f in lake.manifest().files] == [str(good)]


# --- 6. duplicates --------------------------------------------------------------------------------------------------

def test_messages_with_the_same_id_in_overlapping_files_are_kept_once(tmp_path):
    first = kind_csv(tmp_path / "a.csv", "messages", [row("messages", message_id=m, content=f"a-{m}")
                                                      for m in ("m1", "m2", "m3")])
    second = kind_csv(tmp_path / "b.csv", "messages", [row("messages", message_id=m, content=f"b-{m}")
                                                       for m in ("m2", "m3", "m4")])
    lake, results = ingest(tmp_path / "lake", [("messages", first)])
    _, more = ingest(tmp_path / "lake", [("messages", second)])
    assert [(r.read, r.accepted, r.duplicates) for r in results + more] == [(3, 3, 0), (3, 1, 2)]
    assert_accounting(lake, results + more)
    assert warehouse(lake, "SELECT message_id, content FROM messages ORDER BY message_id") == [
        ("m1", "a-m1"), ("m2", "a-m2"), ("m3", "a-m3"), ("m4", "b-m4")]


def test_overlapping_files_in_one_ingest_keep_the_first(tmp_path):
    first = kind_csv(tmp_path / "a.csv", "messages", [row("messages", message_id="m1", content="first")])
    second = kind_csv(tmp_path / "b.csv", "messages", [row("messages", message_id="m1", content="second")])
    lake, results = ingest(tmp_path / "lake", [("messages", first), ("messages", second)])
    assert [(r.accepted, r.duplicates) for r in results] == [(1, 0), (0, 1)]
    assert warehouse(lake, "SELECT content FROM messages") == [("first",)]


def test_messages_without_id_are_deduplicated_by_content_hash(tmp_path):
    header = ["shop_id", "customer_id", "sender_role", "sent_at", "content"]
    base = ["S1", "C1", "customer", "2026-11-27 10:00:00", "在吗"]
    first = write_csv(tmp_path / "a.csv", header, [
        base,
        base,                                                    # repeated within the file: duplicate
        ["S1", "C1", "customer", "2026-11-27 10:00:00", "在吗?"],  # other content: kept
        ["S1", "C1", "customer", "2026-11-27 10:00:01", "在吗"],   # other time: kept
        ["S1", "C1", "agent", "2026-11-27 10:00:00", "在吗"],      # other role: kept
        ["S1", "C2", "customer", "2026-11-27 10:00:00", "在吗"],   # other customer: kept
        ["S2", "C1", "customer", "2026-11-27 10:00:00", "在吗"],   # other shop: kept
    ])
    # the same records exported again, written differently: same parsed time, same role
    second = write_csv(tmp_path / "b.csv", header, [
        ["S1", "C1", "顾客", "2026/11/27 10:00:00", "在吗"],
        ["S1", "C1", "客服", "2026-11-27T10:00:00", "在吗"],
        ["S1", "C3", "customer", "2026-11-27 10:00:00", "在吗"],
    ])
    lake, results = ingest(tmp_path / "lake", [("messages", first)])
    _, more = ingest(tmp_path / "lake", [("messages", second)])
    assert [(r.read, r.accepted, r.duplicates) for r in results + more] == [(7, 6, 1), (3, 1, 2)]
    assert_accounting(lake, results + more)
    assert warehouse(lake, "SELECT count(*), count(DISTINCT _key) FROM messages") == [(7, 7)]


def test_messages_with_empty_id_cells_use_the_content_hash(tmp_path):
    rows = [row("messages", message_id=None), row("messages", message_id=""), row("messages", message_id="m9")]
    lake, results = ingest(tmp_path / "lake", [("messages", kind_csv(tmp_path / "m.csv", "messages", rows))])
    assert (only(results).accepted, only(results).duplicates) == (2, 1)


def test_repeated_row_within_one_file_is_a_duplicate(tmp_path):
    files = [("messages", kind_csv(tmp_path / "m.csv", "messages", [row("messages")] * 3)),
             ("ratings", kind_csv(tmp_path / "r.csv", "ratings", [row("ratings")] * 2)),
             ("reviews", kind_csv(tmp_path / "v.csv", "reviews", [row("reviews")] * 2))]
    lake, results = ingest(tmp_path / "lake", files)
    assert [(r.read, r.accepted, r.duplicates) for r in results] == [(3, 1, 2), (2, 1, 1), (2, 1, 1)]
    assert_accounting(lake, results)


@pytest.mark.parametrize("ids", [("M1", "M1", "M2"), ("M1", "M3", "M2")], ids=["one-id-two-shops", "disjoint"])
def test_an_id_repeated_by_another_shop_in_one_file_is_a_duplicate(tmp_path, ids):
    # Keys are ids, not (shop, id): a second shop's M1 in the same file is a duplicate of the first's (SPEC §1.3).
    rows = [row("messages", message_id=ids[0], shop_id="S1"), row("messages", message_id=ids[2], shop_id="S1"),
            row("messages", message_id=ids[1], shop_id="S2")]
    lake, results = ingest(tmp_path / "lake", [("messages", kind_csv(tmp_path / "m.csv", "messages", rows))])
    duplicates = 1 if ids[1] == ids[0] else 0
    assert (only(results).read, only(results).accepted, only(results).duplicates) == (3, 3 - duplicates, duplicates)
    assert_accounting(lake, results)


def test_a_later_order_replaces_the_earlier(tmp_path):
    first = kind_csv(tmp_path / "orders_1.csv", "orders", [
        row("orders", order_id="O1", paid_at="", amount="10", status="created"),
        row("orders", order_id="O2", paid_at="", amount="20", status="created")])
    second = kind_csv(tmp_path / "orders_2.csv", "orders", [
        row("orders", order_id="O1", paid_at="2026-11-28 09:00:00", amount="10", status="paid")])
    lake, results = ingest(tmp_path / "lake", [("orders", first)])
    _, more = ingest(tmp_path / "lake", [("orders", second)])
    assert [(r.read, r.accepted, r.duplicates) for r in results + more] == [(2, 2, 0), (1, 1, 0)]
    assert_accounting(lake, results + more)
    assert warehouse(lake, "SELECT order_id, paid_at, status FROM orders ORDER BY order_id") == [
        ("O1", dt.datetime(2026, 11, 28, 9), "paid"), ("O2", None, "created")]


def test_within_one_orders_file_the_last_row_wins(tmp_path):
    path = kind_csv(tmp_path / "orders.csv", "orders", [
        row("orders", order_id="O1", paid_at="", status="created"),
        row("orders", order_id="O2", amount="1"),
        row("orders", order_id="O1", paid_at="2026-11-27 12:00:00", status="paid"),
        row("orders", order_id="O1", paid_at="2026-11-27 13:00:00", status="shipped")])
    lake, results = ingest(tmp_path / "lake", [("orders", path)])
    assert (only(results).read, only(results).accepted, only(results).duplicates) == (4, 2, 2)
    assert warehouse(lake, "SELECT paid_at, status FROM orders WHERE order_id = 'O1'") == [
        (dt.datetime(2026, 11, 27, 13), "shipped")]


def test_later_file_in_the_same_ingest_replaces_orders(tmp_path):
    first = kind_csv(tmp_path / "a.csv", "orders", [row("orders", paid_at="")])
    second = kind_csv(tmp_path / "b.csv", "orders", [row("orders", paid_at="2026-11-29 09:00:00")])
    lake, _ = ingest(tmp_path / "lake", [("orders", first), ("orders", second)])
    assert warehouse(lake, "SELECT paid_at FROM orders") == [(dt.datetime(2026, 11, 29, 9),)]


def test_complaints_and_targets_are_replaced_by_later_arrivals(tmp_path):
    k1 = kind_csv(tmp_path / "k1.csv", "complaints", [row("complaints", resolved_at="")])
    k2 = kind_csv(tmp_path / "k2.csv", "complaints", [row("complaints", category="服务质量",
                                                          resolved_at="2026-11-28 10:00:00")])
    t1 = kind_csv(tmp_path / "t1.csv", "targets", [row("targets", target_sales="100"),
                                                   row("targets", period="2026-12", target_sales="7")])
    t2 = kind_csv(tmp_path / "t2.csv", "targets", [row("targets", period="2026/11", target_sales="200"),
                                                   row("targets", period="2026-11", target_sales="300")])
    lake, r1 = ingest(tmp_path / "lake", [("complaints", k1), ("targets", t1)])
    _, r2 = ingest(tmp_path / "lake", [("complaints", k2), ("targets", t2)])
    assert_accounting(lake, r1 + r2)
    assert (r2[1].read, r2[1].accepted, r2[1].duplicates) == (2, 1, 1)  # 2026/11 and 2026-11 are one period
    assert warehouse(lake, "SELECT category, resolved_at FROM complaints") == [
        ("service", dt.datetime(2026, 11, 28, 10))]
    assert warehouse(lake, "SELECT period, target_sales FROM targets ORDER BY period") == [
        ("2026-11", 300.0), ("2026-12", 7.0)]


def test_ratings_and_reviews_keep_the_first(tmp_path):
    r1 = kind_csv(tmp_path / "r1.csv", "ratings", [row("ratings", level="5")])
    r2 = kind_csv(tmp_path / "r2.csv", "ratings", [row("ratings", level="1"), row("ratings", rating_id="R2")])
    v1 = kind_csv(tmp_path / "v1.csv", "reviews", [row("reviews", rating="5")])
    v2 = kind_csv(tmp_path / "v2.csv", "reviews", [row("reviews", rating="1")])
    lake, first = ingest(tmp_path / "lake", [("ratings", r1), ("reviews", v1)])
    _, second = ingest(tmp_path / "lake", [("ratings", r2), ("reviews", v2)])
    assert [(r.accepted, r.duplicates) for r in second] == [(1, 1), (0, 1)]
    assert_accounting(lake, first + second)
    assert warehouse(lake, "SELECT rating_id, level FROM ratings ORDER BY rating_id") == [("R1", 5), ("R2", 5)]
    assert warehouse(lake, "SELECT rating FROM reviews") == [(5,)]


# --- 7. re-ingest ----------------------------------------------------------------------------------------------------

def lake_bytes(lake: Lake) -> dict[str, bytes]:
    """The committed lake: manifest and every part (not the warehouse, not tmp/)."""
    out = {"manifest.json": (lake.root / "manifest.json").read_bytes()}
    for folder in ("data", "derived"):
        for p in sorted((lake.root / folder).rglob("*")) if (lake.root / folder).exists() else []:
            if p.is_file():
                out[p.relative_to(lake.root).as_posix()] = p.read_bytes()
    return out


def test_reingesting_the_same_files_changes_nothing(tmp_path):
    files = [("messages", kind_csv(tmp_path / "m.csv", "messages", [row("messages"), row("messages", sent_at="x")])),
             ("orders", kind_csv(tmp_path / "o.csv", "orders", [row("orders")]))]
    lake, results = ingest(tmp_path / "lake", files, LOOSE)
    assert [r.status for r in results] == ["landed", "landed"]
    before = lake_bytes(lake)
    table = ingested(lake)
    copy = tmp_path / "renamed_copy.csv"
    copy.write_bytes(files[0][1].read_bytes())
    _, again = ingest(tmp_path / "lake", files + [("messages", copy)], LOOSE)
    assert [r.status for r in again] == ["seen", "seen", "seen"]
    assert all("already ingested" in r.message for r in again)
    assert lake_bytes(lake) == before
    assert ingested(lake) == table
    assert warehouse(lake, "SELECT count(*) FROM rejects") == [(1,)]


# --- 8. encodings and formats end to end ---------------------------------------------------------------------------

CONTENT = "您好，请问有什么可以帮您？「包邮」"
SENT = dt.datetime(2026, 11, 27, 10, 0, 5)
ZH_HEADER = ["消息ID", "店铺ID", "买家昵称", "客服账号", "发送方", "发送时间", "消息内容"]
ZH_ROWS = [["m1", "S1", "小明", "客服01", "客服", "2026-11-27 10:00:05", CONTENT],
           ["m2", "S1", "小明", None, "顾客", "2026/11/27 10:00:00", "在吗"]]
EN_HEADER = ["message_id", "shop_id", "customer_id", "agent_id", "sender_role", "sent_at", "content"]


def _csv_text(header, rows, newline="\n") -> str:
    lines = [",".join(header)] + [",".join("" if v is None else v for v in r) for r in rows]
    return newline.join(lines) + newline


def write_gb18030(path: Path) -> Path:
    path.write_bytes(_csv_text(ZH_HEADER, ZH_ROWS).encode("gb18030"))
    return path


def write_bom(path: Path) -> Path:
    path.write_bytes(b"\xef\xbb\xbf" + _csv_text(EN_HEADER, ZH_ROWS).encode("utf-8"))
    return path


def write_crlf(path: Path) -> Path:
    path.write_bytes(_csv_text(ZH_HEADER, ZH_ROWS, "\r\n").encode("utf-8"))
    return path


def write_gz(path: Path) -> Path:
    path.write_bytes(gzip.compress(_csv_text(ZH_HEADER, ZH_ROWS).encode("gb18030")))
    return path


def write_xlsx(path: Path) -> Path:
    pl.DataFrame([dict(zip(ZH_HEADER, r)) for r in ZH_ROWS], schema={h: pl.String for h in ZH_HEADER}
                 ).write_excel(path)
    return path


def write_jsonl(path: Path) -> Path:
    records = [{k: v for k, v in zip(EN_HEADER, r) if v is not None} for r in ZH_ROWS]
    records[0]["sent_at"] = "2026-11-27T02:00:05Z"  # UTC, converted to Asia/Shanghai
    path.write_text("\n".join(json.dumps(r, ensure_ascii=i == 0) for i, r in enumerate(records)) + "\n",
                    encoding="utf-8")
    return path


def write_parquet(path: Path) -> Path:
    pl.DataFrame({
        "message_id": ["m1", "m2"], "shop_id": ["S1", "S1"], "customer_id": ["小明", "小明"],
        "agent_id": ["客服01", None], "sender_role": ["客服", "顾客"],
        "sent_at": [SENT, dt.datetime(2026, 11, 27, 10)], "content": [CONTENT, "在吗"],
    }).write_parquet(path)
    return path


def write_parquet_utc(path: Path) -> Path:
    pl.DataFrame({
        "shop_id": ["S1", "S1"], "customer_id": ["小明", "小明"], "sender_role": ["agent", "customer"],
        "sent_at": pl.Series([dt.datetime(2026, 11, 27, 2, 0, 5), dt.datetime(2026, 11, 27, 2)],
                             dtype=pl.Datetime("us", "UTC")),
        "content": [CONTENT, "在吗"], "message_id": ["m1", "m2"], "agent_id": ["客服01", None],
    }).write_parquet(path)
    return path


FORMATS = {
    "gb18030.csv": write_gb18030, "bom.csv": write_bom, "crlf.csv": write_crlf, "gb18030.csv.gz": write_gz,
    "sheet.xlsx": write_xlsx, "lines.jsonl": write_jsonl, "typed.parquet": write_parquet,
    "utc.parquet": write_parquet_utc,
}


@pytest.mark.parametrize("name", list(FORMATS))
def test_encodings_and_formats_land_the_right_values(tmp_path, name):
    path = FORMATS[name](tmp_path / f"messages_{name}")
    lake, results = ingest(tmp_path / "lake", [("messages", path)])
    r = only(results)
    assert (r.status, r.read, r.accepted, r.rejected, r.duplicates, r.ignored_columns) == (
        "landed", 2, 2, 0, 0, []), r
    assert warehouse(lake, "SELECT message_id, customer_id, agent_id, sender_role, sent_at, content FROM messages "
                       "ORDER BY message_id") == [
        ("m1", "小明", "客服01", "agent", SENT, CONTENT),
        ("m2", "小明", None, "customer", dt.datetime(2026, 11, 27, 10), "在吗"),
    ]
    assert_accounting(lake, results)


def test_gb18030_taobao_orders_with_chinese_headers(tmp_path):
    header, values, sql, expected = CHINESE["orders"]
    path = write_csv(tmp_path / "订单报表.csv", header, [values, [*values[:1], *values[1:6], "等待买家付款"]],
                     encoding="gb18030")
    lake, results = ingest(tmp_path / "lake", [("orders", path)])
    assert (only(results).status, only(results).read, only(results).duplicates) == ("landed", 2, 1)
    assert warehouse(lake, "SELECT status FROM orders") == [("等待买家付款",)]  # the last row of the file wins


def test_reject_lines_in_other_formats(tmp_path):
    """XLSX: the Excel row (header = row 1); JSON Lines: the physical line, blank lines counted; Parquet: the row."""
    rows = [dict(zip(EN_HEADER, r)) for r in ZH_ROWS]
    bad = {**rows[1], "message_id": "m3", "sender_role": "nobody"}
    xlsx = tmp_path / "m.xlsx"
    pl.DataFrame(rows + [bad], schema={h: pl.String for h in EN_HEADER}).write_excel(xlsx)
    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text("\n".join([json.dumps(rows[0]), "", json.dumps(rows[1]), "", json.dumps(bad)]) + "\n",
                     encoding="utf-8")
    parquet = tmp_path / "m.parquet"
    pl.DataFrame([bad] + rows, schema={h: pl.String for h in EN_HEADER}).write_parquet(parquet)
    lake, results = ingest(tmp_path / "lake", [("messages", xlsx), ("messages", jsonl), ("messages", parquet)],
                           LOOSE)
    assert [(r.status, r.read, r.rejected) for r in results] == [("landed", 3, 1)] * 3
    assert [rejects(lake, p)[0][:2] for p in (xlsx, jsonl, parquet)] == [
        (4, "sender_role"), (5, "sender_role"), (1, "sender_role")]
    assert_accounting(lake, results)


def test_same_content_as_another_kind_is_not_seen(tmp_path):
    empty_messages = tmp_path / "messages.csv"
    empty_messages.write_bytes(b"")
    empty_complaints = tmp_path / "complaints.csv"
    empty_complaints.write_bytes(b"")
    lake, results = ingest(tmp_path / "lake", [("messages", empty_messages)])
    _, more = ingest(tmp_path / "lake", [("complaints", empty_complaints)])
    assert [r.status for r in results + more] == ["landed", "landed"]
    assert lake.manifest().kinds() == {"messages", "complaints"}  # a complaints file was ingested (SPEC §4)


# --- the first pass's file as the part ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_clean_file_lands_as_the_first_pass_wrote_it_and_as_the_copy_would(tmp_path, kind, monkeypatch):
    """A file with no row in doubt and every key known becomes its part without DuckDB's copy. That part must have
    the rows and column types the copy writes (the path every other file takes)."""
    from pipeline.land import ingest as ingest_module
    rows = [row(kind, **{ID[kind]: f"{ID[kind][0]}{i}"}) for i in range(5)]
    if kind == "targets":
        rows = [row(kind, shop_id=f"S{i}") for i in range(5)]
    path = kind_csv(tmp_path / f"{kind}.csv", kind, rows)
    moved = []
    monkeypatch.setattr(ingest_module.shutil, "move", lambda a, b: moved.append(a) or Path(a).rename(b))
    direct, results = ingest(tmp_path / "direct", [(kind, path)])
    assert len(moved) == 1 and only(results).accepted == 5

    stage = ingest_module._stage
    monkeypatch.setattr(ingest_module, "_stage",
                        lambda *a, **k: ingest_module.Staged(stage(*a, **k).path, is_part=True, keyed=False))
    copied, _ = ingest(tmp_path / "copied", [(kind, path)])
    assert len(moved) == 1
    parts = [lake.path(lake.manifest().files[0].data) for lake in (direct, copied)]
    described = [duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{p}')").fetchall() for p in parts]
    assert described[0] == described[1]
    differ = duckdb.sql(f"""SELECT count(*) FROM (
        (SELECT * FROM read_parquet('{parts[0]}') EXCEPT ALL SELECT * FROM read_parquet('{parts[1]}'))
        UNION ALL (SELECT * FROM read_parquet('{parts[1]}') EXCEPT ALL SELECT * FROM read_parquet('{parts[0]}')))
    """).fetchall()[0][0]
    assert differ == 0


def test_a_file_without_ids_or_with_a_repeat_is_copied(tmp_path, monkeypatch):
    """Content hashes are DuckDB's md5, and a repeated key needs the window: such files take the copy."""
    from pipeline.land import ingest as ingest_module
    moved = []
    monkeypatch.setattr(ingest_module.shutil, "move", lambda a, b: moved.append(a) or Path(a).rename(b))
    no_ids = kind_csv(tmp_path / "a.csv", "messages", [row("messages", message_id=None, content=f"x{i}")
                                                        for i in range(3)])
    repeat = kind_csv(tmp_path / "b.csv", "messages", [row("messages", message_id="m9", sent_at=t)
                                                        for t in ("2026-11-27 10:00:00", "2026-11-27 10:01:00")])
    lake, results = ingest(tmp_path / "lake", [("messages", no_ids), ("messages", repeat)])
    assert [(r.accepted, r.duplicates) for r in results] == [(3, 0), (1, 1)]
    assert moved == []
    keys = duckdb.sql(f"SELECT _key FROM read_parquet('{lake.path(lake.manifest().files[0].data)}')").fetchall()
    assert all(k.startswith("h:") for (k,) in keys)


def test_a_landed_part_that_breaks_its_schema_fails_the_ingest_and_lands_nothing(tmp_path, monkeypatch):
    """A part's schema check runs while the next file lands. A violation (a bug of normalise) fails the whole ingest,
    naming the file: the next file was already compared with the part's keys, so refusing that file alone would lose
    the next file's repeats of them."""
    from pipeline.land import ingest as landing
    from pipeline.schemas.validate import SchemaViolation

    first = kind_csv(tmp_path / "a.csv", "messages", [row("messages", message_id=m) for m in ("m1", "m2")])
    second = kind_csv(tmp_path / "b.csv", "messages", [row("messages", message_id=m) for m in ("m2", "m3")])
    checked = []

    def planted(path, model, *args, **kwargs):
        checked.append(path.name)
        if len(checked) == 1:
            raise SchemaViolation(f"{path}: breaks the {model.__name__} schema: content: planted")
        return landing.validate_parquet.__wrapped__(path, model, *args, **kwargs)

    planted.__wrapped__ = landing.validate_parquet
    monkeypatch.setattr(landing, "validate_parquet", planted)
    lake = Lake(tmp_path / "lake")
    with pytest.raises(SchemaViolation, match=r"a\.csv: its landed part .*breaks the Messages schema: content: planted"):
        jobs.ingest_files(lake, [("messages", first), ("messages", second)], Config())
    assert checked[0] == "000001.parquet"
    assert not (tmp_path / "lake" / "manifest.json").exists()


def test_duckdb_takes_its_blocks_from_a_pool_as_large_as_its_memory_limit(tmp_path):
    # Without the pool, every eviction at the limit gave freed pages back to the kernel, to be faulted in again at
    # once (bench/PROFILE.md, session 10).
    lake = Lake(tmp_path / "lake")
    lake.tmp.mkdir(parents=True)
    con = connect(lake, Config(duckdb_memory_limit="300MB"))
    try:
        limit, pool = con.execute("SELECT current_setting('memory_limit'), "
                                  "current_setting('block_allocator_memory')").fetchone()
    finally:
        con.close()
    assert limit == pool == "286.1 MiB"  # 300 MB in DuckDB's units
