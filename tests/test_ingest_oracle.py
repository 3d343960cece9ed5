"""Ingestion compared with an independent reference (tests/ingest_oracle.py): which rows land with which typed
values, which are rejected (file, line, column, reason), which count as duplicates, which version of a re-sent key
is current, and `cskpi run`'s per-file summary — over hand-made inboxes (two nights) and over sample_data/."""
from __future__ import annotations

import datetime as dt
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.kinds import KINDS
from tests.conftest import warehouse
from tests.ingest_oracle import REASON_PHRASES, IngestOracle, inbox_files

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
LANDED = re.compile(r"^(.*): (\w+): read (\d+), accepted (\d+), rejected (\d+), duplicates (\d+)$")
SKIPPED = re.compile(r"^(.*): (\w+): skipped, already ingested")
REFUSED = re.compile(r"^Error: (.*?)(?:, line (\d+))?: (.*)$")
REFUSAL_PHRASES = {"columns": "missing required column", "ratio": "max_reject_ratio", "unterminated": None,
                   "duplicate-header": None}


# --- writing files with explicit bytes ---------------------------------------------------------------------------

def csv_bytes(rows: list[list], encoding: str = "utf-8", newline: str = "\n", bom: bool = False) -> bytes:
    """Rows joined by hand: a cell is written as given (the test quotes where it means to)."""
    text = newline.join(",".join("" if c is None else str(c) for c in r) for r in rows) + newline
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def q(text: str) -> str:
    """A CSV-quoted cell."""
    return '"' + text.replace('"', '""') + '"'


def put(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    when = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for c, h in enumerate(header):
        ws.write_string(0, c, h)
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, dt.datetime):
                ws.write_datetime(r, c, v, when)
            elif isinstance(v, (int, float)):
                ws.write_number(r, c, v)
            else:
                ws.write_string(r, c, v)
    wb.close()
    return path


MSG_ZH = ["消息ID", "会话ID", "店铺ID", "买家昵称", "客服账号", "发送方", "发送时间", "消息内容"]


def night1(inbox: Path) -> None:
    # GB18030, Chinese headers and role labels; every timestamp form; broken rows
    put(inbox / "messages_1_gb.csv", csv_bytes([
        MSG_ZH,
        ["g1", "", "S1", "小明", "", "顾客", "2026-11-27 10:00:00", "在吗"],                        # 2
        ["g2", "", "S1", "小明", "客服01", "客服", "2026/11/27 10:00:05", "在的亲"],                # 3
        ["g3", "", "S1", "小明", "", "机器人", "2026-11-27T10:00:06", "自动回复"],                   # 4
        ["g4", "", "S1", "小明", "", "智能客服", "2026-11-27T02:00:07Z", "您好"],                    # 5
        ["g5", "", "S1", "小明", "", "系统", "2026-11-27T10:00:08+08:00", "系统提示"],               # 6
        ["g6", "", "S1", "小明", "", "买家", "2026-11-27T11:00:09+0900", "请问"],                    # 7
        ["g7", "", "S1", "小明", "", "买家", "2026-11-26T21:00:10-05:00", "还在吗"],                 # 8
        ["g8", "", "S1", "小明", "客服01", "卖家", "2026-11-27T10:00:11.5", "在"],                   # 9
        ["g9", "", "S1", "小明", "客服01", "人工客服", "2026-11-27T10:00:12.123456+08:00", "好"],    # 10
        ["g10", "", "S1", "小明", "客服01", "人工客服", "2026/11/27 10:01", "嗯"],                  # 11
        ["g11", "", "S1", "小明", "", "自动回复", "2026-11-27 10:02", "auto"],                      # 12
        ["g12", "", "S1", "小明", "", "系统消息", "2026-11-27T10:03", "sys"],                       # 13
        ["g13", "", "S1", "小明", "", "客户", "2026-11-27T10:04:00.250Z", "utc"],                   # 14
        ["g14", "X1", "S1", "小红", "A2", "Agent", "2026-11-27 10:05:00", "mixed case"],           # 15
        ["g15", "X1", "S1", "小红", "", "customer", "2026-11-27 10:06:00", q("第一行\n第二行")],     # 16-17
        ["g16", "", "S1", "小明", "", "顾客", "2026-11-31 10:00:00", "bad day"],                    # 18 timestamp
        ["g17", "", "S1", "小明", "", "客人", "2026-11-27 10:07:00", "bad role"],                   # 19 role
        ["g18", "", "S1", "", "", "顾客", "2026-11-27 10:08:00", "no customer"],                    # 20 missing
        ["g19", "", "S1", "小明", "", "顾客", "2026-11-27 10:09:00", "extra", "field"],            # 21 fields
        [q('="g20"'), "", " S1 ", "  小红  ", " 客服02 ", " 系统 ", "2026-11-27 10:10:00", "ids"],  # 22
        ["g21", "", "S1", "小明", "", "顾客", "2026-11-27 25:00:00", "bad hour"],                   # 23 timestamp
        [],                                                                                         # 24 blank
        ["g22", "", "S1", "小明", "", "顾客", "2026-11-27 10:11:00", "after blank"],                # 25
    ], encoding="gb18030"))
    # UTF-8 with BOM, CRLF, English headers in odd case and spaces, an unknown column, messages without an id
    put(inbox / "messages_2_bom.csv", csv_bytes([
        [" Message_ID ", "SHOP_ID", "customer_id ", "Agent_Id", "Sender_Role", "Sent_At", "content", "extra_col"],
        ["", "S1", "C9", "", "customer", "2026-11-28 09:00:00", "hi", "x"],                          # 2
        ["", "S1", "C9", "A1", "agent", "2026-11-28 09:00:30", "hello", "x"],                        # 3
        ["", "S1", "C9", "", "customer", "2026-11-28 09:00:00", "hi", "y"],                          # 4 dup of 2
        ["", "S1", "C9", "", "顾客", "2026-11-28T01:00:00Z", "hi", "z"],                             # 5 same record
        ["", "S1", "C9", "", "customer", "2026-11-28 09:00:00", "hi again", "x"],                    # 6 new
        ["g1", "S1", "小明", "", "customer", "2026-11-27 10:00:00", "copy of g1", "x"],              # 7 dup (first stays)
        ['="g30"', "S1", '="00123"', "", "customer", "2026-11-28 09:01:00", "wrapped", "x"],         # 8
        ["  g31  ", "  S1", "C9  ", " A1 ", "AGENT", "2026-11-28 09:02:00", "a\rb", "x"],             # 9 bare CR
    ], newline="\r\n", bom=True))
    put(inbox / "messages_3_missingcol.csv", csv_bytes([
        ["message_id", "shop_id", "customer_id", "sent_at"], ["m1", "S1", "C1", "2026-11-27 10:00:00"]]))
    put(inbox / "messages_4_unterminated.csv",
        b"message_id,shop_id,customer_id,sender_role,sent_at,content\n"
        b"u1,S1,C1,customer,2026-11-27 10:00:00,ok\n"
        b'u2,S1,C1,customer,2026-11-27 10:00:01,"the export stopped in the mid')
    put(inbox / "ratings_1_gb.csv", csv_bytes([
        ["评价ID", "店铺ID", "会话ID", "买家昵称", "客服账号", "评价时间", "满意度"],
        ["r1", "S1", "X1", "小红", "A2", "2026-11-27 11:00:00", "很满意"],
        ["r2", "S1", "", "小明", "客服01", "2026-11-27 11:01:00", "非常满意"],
        ["r3", "S1", "", "小明", "客服01", "2026-11-27 11:02:00", "满意"],
        ["r4", "S1", "", "小明", "", "2026/11/27 11:03:00", "一般"],
        ["r5", "S1", "", "小明", "", "2026-11-27 11:04:00", "不满意"],
        ["r6", "S1", "", "小明", "", "2026-11-27 11:05:00", "很不满意"],
        ["r7", "S1", "", "小明", "", "2026-11-27 11:06:00", "非常不满意"],
        ["r8", "S1", "", "小明", "", "2026-11-27 11:07:00", "3"],
        ["r9", "S1", "", "小明", "", "2026-11-27 11:08:00", " 4 "],
        ["r10", "S1", "", "小明", "", "2026-11-27 11:09:00", "6"],        # level
        ["r11", "S1", "", "小明", "", "2026-11-27 11:10:00", "4.5"],      # level
        ["r12", "S1", "", "小明", "", "2026-11-27 11:11:00", ""],         # missing
        ["", "S1", "", "小明", "客服01", "2026-11-27 11:12:00", "5"],
        ["", "S1", "", "小明", "客服01", "2026-11-27 11:12:00", "很满意"],  # same record as the line before
        ["r1", "S1", "X1", "小红", "A2", "2026-11-27 11:00:00", "一般"],    # dup, the first stays
        ["r13", "S1", "", "小明", "", "2026-11-27 11:13:00", "1"],
    ], encoding="gb18030"))
    put(inbox / "ratings_2_dupheader.csv", csv_bytes([
        ["rating_id", "shop_id", "rated_at", "满意度", "level"], ["r1", "S1", "2026-11-27 11:00:00", "5", "5"]]))
    put(inbox / "orders" / "2026-11-27.csv", csv_bytes([
        ["订单编号", "店铺ID", "买家会员名", "订单创建时间", "订单付款时间", "买家实际支付金额", "订单状态", "宝贝标题"],
        ['="3000001"', "S1", "小明", "2026-11-27 10:20:00", "2026-11-27 10:30:00", q("¥1,234.50"), "已付款", "T恤"],
        [" 3000002 ", "S1", "小红", "2026-11-27 10:21:00", "", "￥88", "等待买家付款", "裙"],
        ["3000003", "S1", "小明", "2026-11-27 10:22:00", "", "99元", "等待买家付款", "帽"],
        ["3000004", "S1", "小明", "2026-11-27 10:23:00", "2026-11-27 10:24:00", "0", "已付款", "袜"],
        ["3000005", "S1", "小明", "2026-11-27 10:25:00", "2026-11-27T02:26:00Z", "12.345", "已付款", "鞋"],
        ["3000006", "S1", "小明", "2026-11-27 10:26:00", "", "-5.00", "已付款", "negative"],
        ["3000007", "S1", "小明", "2026-11-27 10:27:00", "", "abc", "已付款", "not a number"],
        ["3000003", "S1", "小明", "2026-11-27 10:22:00", "2026-11-27 11:00:00", "99元", "已付款", "帽"],  # re-sent
        ["3000008", "S1", "", "2026-11-27 10:28:00", "", "1", "", "missing customer"],
    ]))
    put(inbox / "orders_9_ratio.csv", csv_bytes([
        list(KINDS["orders"].names),
        ["O1", "S1", "C1", "2026-11-27 10:00:00", "", "-1", ""],
        ["O2", "S1", "C1", "2026-11-27 10:00:00", "", "-2", ""],
        ["O3", "S1", "C1", "2026-11-27 10:00:00", "", "3", ""],
    ]))
    put(inbox / "complaints_1.csv", csv_bytes([
        ["投诉编号", "店铺ID", "顾客ID", "订单编号", "投诉类型", "投诉时间", "首次反馈时间", "解决时间", "约定时间"],
        ["K1", "S1", "小明", '="3000001"', "商品质量", "2026-11-27 12:00:00", "2026-11-27 12:30:00", "", ""],
        ["K2", "S1", "小明", "", "服务", "2026-11-27 12:01:00", "", "", "2026-11-28 12:00"],
        ["K3", "S1", "小明", "", "product", "2026-11-27 12:02:00", "", "", ""],
        ["K4", "S1", "小明", "", "物流问题", "2026-11-27 12:03:00", "", "", ""],
        ["K5", "S1", "小明", "", "服务质量", "2026-11-27 12:04:00", "", "2026-11-28T04:04:00Z", ""],
        ["K6", "S1", "小明", "", "服务", "27/11/2026 12:05", "", "", ""],
        ["K7", "S1", "", "", "", "2026-11-27 12:06:00", "", "", ""],
    ]))
    put(inbox / "complaints_2_empty.csv", csv_bytes([list(KINDS["complaints"].names)]))
    write_xlsx(inbox / "reviews_1.xlsx", ["评价ID", "店铺ID", "订单编号", "顾客ID", "评价时间", "评分"], [
        [9001, "S1", 30000000000001, "小明", dt.datetime(2026, 11, 27, 13, 0, 0), 5],
        [9002, "S1", 30000000000002, "小红", dt.datetime(2026, 11, 27, 13, 1, 30), 1],
        [9003, "S1", 30000000000003, "小明", dt.datetime(2026, 11, 27, 13, 2, 0), 6],      # stars
        [9001, "S1", 30000000000001, "小明", dt.datetime(2026, 11, 27, 13, 3, 0), 2],      # dup
        [9004, "S1", 30000000000004, "小明", dt.datetime(2026, 11, 27, 23, 59, 59), 3],
    ])
    put(inbox / "reviews_2.csv", csv_bytes([
        list(KINDS["reviews"].names),
        ["9101", "S1", "2026-11-27 14:00:00", "5星", "", ""],
        ["9102", "S1", "2026-11-27 14:01:00", "4.0", "", ""],
        ["9103", "S1", "2026-11-27 14:02:00", "1", "", ""],
        ["9104", "S1", "2026-11-27 14:03:00", "0", "", ""],     # stars
        ["9002", "S1", "2026-11-27 14:04:00", "5", "", ""],     # dup of the xlsx
        ["9105", "S1", "2026-11-27 14:05:00", "2", "", ""],
    ]))
    put(inbox / "targets.csv", csv_bytes([
        ["店铺ID", "考核周期", "目标销售额"],
        ["S1", "2026-11-27", "1000"],
        ["S1", "2026-W48", q("¥10,000")],
        ["S1", "2026-11", "50000元"],
        ["S1", "2026-Q4", "150000.50"],
        ["S1", "2026", "600000"],
        ["S1", "2026-W53", "1"],
        ["S1", "2026-W54", "1"],           # period
        ["S1", "2027-W53", "1"],           # period (2027 has 52 ISO weeks)
        ["S1", "2026-11", "55000"],        # the last of the file wins
        ["S2", "2026-11", "-3"],           # negative
    ]))
    put(inbox / "refunds_1.csv", csv_bytes([
        ["退款编号", "店铺ID", "申请时间", "完成时间", "订单编号", "买家会员名", "退款原因", "退款状态"],
        ["F1", "S1", "2026-11-27 10:00:00", "2026-11-28 10:00:00", "3000001", "小明", "七天无理由", "退款成功"],
        ["F2", "S1", "2026-11-27 10:00:00", "", "", "", "7天无理由退货", ""],
        ["F3", "S1", "2026-11-27 10:00:00", "2026-11-27 10:00:00", "", "", "质量问题", "退款成功"],
        ["F4", "S1", "2026-11-27 10:00:00", "", "", "", "使用问题", ""],
        ["F5", "S1", "2026-11-27 10:00:00", "", "", "", "其他", ""],
        ["F6", "S1", "2026-11-27 10:00:00", "", "", "", "尺码不合适", ""],
        ["F7", "S1", "2026-11-27 10:00:00", "2026-11-27 09:59:59", "", "", "", ""],   # order
        ["F8", "S1", "2026-11-27 10:00:00", "2026-11-27T02:00:00Z", "", "", "", ""],  # equal after conversion
    ]))
    put(inbox / "disputes_1.csv", csv_bytes([
        ["争议编号", "店铺ID", "发起时间", "结束时间", "是否平台介入", "订单编号", "买家会员名"],
        ["D1", "S1", "2026-11-27 10:00:00", "2026-11-29 10:00:00", "是", "", ""],
        ["D2", "S1", "2026-11-27 10:00:00", "", "否", "", ""],
        ["D3", "S1", "2026-11-27 10:00:00", "", "已介入", "", ""],
        ["D4", "S1", "2026-11-27 10:00:00", "", "TRUE", "", ""],
        ["D5", "S1", "2026-11-27 10:00:00", "", "n", "", ""],
        ["D6", "S1", "2026-11-27 10:00:00", "", "", "", ""],
        ["D7", "S1", "2026-11-27 10:00:00", "", "maybe", "", ""],  # flag
    ]))
    put(inbox / "feedback_1.csv", csv_bytes([
        ["反馈编号", "店铺ID", "反馈时间", "处理时间", "是否处理", "反馈类型", "买家昵称"],
        ["B1", "S1", "2026-11-27 10:00:00", "2026-11-27 12:00:00", "已处理", "物流", "小明"],
        ["B2", "S1", "2026-11-27 10:00:00", "", "未处理", "", ""],
        ["B3", "S1", "2026-11-27 10:00:00", "", "Y", "", ""],
        ["B4", "S1", "2026-11-27 10:00:00", "", "", "", ""],
        ["B5", "S1", "2026-11-27 10:00:00", "", "处理中", "", ""],  # flag
    ]))
    put(inbox / "feedback_2_zero.csv", b"")
    put(inbox / "bot_answers_1.csv", csv_bytes([
        ["店铺ID", "应答时间", "意图识别正确", "回复正确", "顾客问题"],
        ["S1", "2026-11-27 10:00:00", "对", "错", "发货吗"],
        ["S1", "2026-11-27 10:00:01", "正确", "错误", "包邮吗"],
        ["S1", "2026-11-27 10:00:02", "是", "1", "尺码"],
        ["S1", "2026-11-27 10:00:00", "对", "错", "发货吗"],          # the same audit again
        ["S1", "2026-11-27 10:00:03", "0", "maybe", "颜色"],          # flag
    ], encoding="gb18030"))


def night2(inbox: Path, night1_inbox: Path) -> None:
    # the same file delivered again under another name
    shutil.copyfile(night1_inbox / "messages_1_gb.csv", inbox / "messages_1_gb_again.csv")
    put(inbox / "messages_5_night2.csv", csv_bytes([
        ["message_id", "shop_id", "customer_id", "sender_role", "sent_at", "content"],
        ["g2", "S1", "小明", "agent", "2026-11-27 10:00:05", "在的亲"],       # dup of night 1
        ["g40", "S1", "小明", "customer", "2026-11-28 10:00:00", "new"],
        ["", "S1", "C9", "customer", "2026-11-28 09:00:00", "hi"],           # dup by content hash
        ["", "S1", "C9", "customer", "2026-11-28 09:05:00", "hi"],           # new
        ["g40", "S1", "小明", "customer", "2026-11-28 10:00:00", "new"],      # dup within the file
    ]))
    put(inbox / "orders" / "2026-11-28.csv", csv_bytes([
        ["订单编号", "店铺ID", "买家会员名", "订单创建时间", "订单付款时间", "买家实际支付金额", "订单状态"],
        ['="3000001"', "S1", "小明", "2026-11-27 10:20:00", "2026-11-27 10:30:00", q("¥1,234.50"), "已付款"],
        ["3000002", "S1", "小红", "2026-11-27 10:21:00", "2026-11-28 09:00:00", "￥88", "已付款"],
        ['="3000003"', "S1", "小明", "2026-11-27 10:22:00", "2026-11-27 11:00:00", "99", "交易关闭"],
        ["3000010", "S1", "小明", "2026-11-28 10:00:00", "", "", ""],
        ["3000002", "S1", "小红", "2026-11-27 10:21:00", "2026-11-28 09:00:00", "￥88", "已发货"],  # last wins
    ]))
    put(inbox / "complaints_3.csv", csv_bytes([
        list(KINDS["complaints"].names),
        ["K2", "S1", "2026-11-27 12:01:00", "小明", "", "服务", "2026-11-27 13:00:00", "2026-11-28 11:00:00", ""],
        ["K8", "S1", "2026-11-28 12:00:00", "", "", "", "", "", ""],
    ]))
    put(inbox / "ratings_3.csv", csv_bytes([
        list(KINDS["ratings"].names),
        ["r1", "S1", "2026-11-27 11:00:00", "1", "X1", "小红", "A2"],    # the first (很满意) stays
        ["r14", "S1", "2026-11-28 11:00:00", "4", "", "", ""],
    ]))
    put(inbox / "targets_2.csv", csv_bytes([["shop_id", "period", "target_sales"], ["S1", "2026-11", "60000"]]))
    put(inbox / "refunds_2.csv", csv_bytes([
        list(KINDS["refunds"].names),
        ["F2", "S1", "2026-11-27 10:00:00", "2026-11-28 18:00:00", "", "", "七天无理由", "退款成功"],
    ]))
    put(inbox / "disputes_2.csv", csv_bytes([
        list(KINDS["disputes"].names), ["D2", "S1", "2026-11-27 10:00:00", "2026-11-28 10:00:00", "是", "", ""]]))
    put(inbox / "feedback_3.csv", csv_bytes([
        list(KINDS["feedback"].names), ["B2", "S1", "2026-11-27 10:00:00", "2026-11-28 10:00:00", "是", "", ""]]))
    # two names, one content, in one run
    reviews = csv_bytes([list(KINDS["reviews"].names), ["9201", "S1", "2026-11-28 14:00:00", "4", "", ""]])
    put(inbox / "reviews_3.csv", reviews)
    put(inbox / "reviews_4.csv", reviews)


# --- running both and comparing ------------------------------------------------------------------------------------

def cskpi_run(inbox: Path, lake: Path, config: Path | None = None):
    args = ["run", str(inbox), "--lake", str(lake)] + (["--config", str(config)] if config else [])
    result = CliRunner().invoke(main, args)
    assert "Traceback" not in result.output, result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def summary(output: str) -> dict[str, tuple]:
    out = {}
    for line in output.splitlines():
        if m := LANDED.match(line):
            out[m[1]] = ("landed", m[2], *map(int, m.groups()[2:]))
        elif m := SKIPPED.match(line):
            out[m[1]] = ("seen", m[2])
        elif m := REFUSED.match(line):
            out[m[1]] = ("refused", m[3], int(m[2]) if m[2] else None)
    return out


def expected_summary(outcomes) -> dict[str, tuple]:
    out = {}
    for o in outcomes:
        if o.status == "landed":
            out[o.file] = ("landed", o.kind, o.read, o.accepted, o.rejected, o.duplicates)
        elif o.status == "seen":
            out[o.file] = ("seen", o.kind)
        else:
            out[o.file] = ("refused", o.why, o.line)
    return out


def compare_summary(output: str, outcomes, exit_code: int) -> int:
    got, want = summary(output), expected_summary(outcomes)
    assert set(got) == set(want), (sorted(set(got) ^ set(want)), output)
    for f, w in want.items():
        g = got[f]
        if w[0] == "refused":
            assert g[0] == "refused", (f, g, w)
            phrase = REFUSAL_PHRASES[w[1]]
            assert phrase is None or phrase in g[1], (f, g, w)
            assert w[2] is None or g[2] == w[2], (f, g, w)
        else:
            assert g == w, (f, g, w)
    assert exit_code == (1 if any(o.status == "refused" for o in outcomes) else 0), output
    return len(want)


def _plain(v):
    if isinstance(v, Decimal):
        return float(v)
    return v


def view_rows(kind: str) -> list[str]:
    cols = list(KINDS[kind].names)
    return cols + (["grain", "period_start"] if kind == "targets" else [])


def compare_view(lake: Path, oracle: IngestOracle, kind: str) -> int:
    cols = view_rows(kind)
    select = ", ".join(f'v."{c}"' for c in cols)
    got = warehouse(lake, f"SELECT f.file, v._line, {select} FROM {kind} v JOIN ingested_files f ON v._seq = f.seq")
    want = [(r.file, r.line, *(_plain(r.values.get(c)) for c in cols)) for r in oracle.view(kind)]
    got_s, want_s = sorted(got, key=repr), sorted(want, key=repr)
    if got_s != want_s:
        missing = [r for r in want_s if r not in got_s]
        extra = [r for r in got_s if r not in want_s]
        pytest.fail(f"{kind}: {len(want_s)} expected, {len(got_s)} landed\n  expected, not landed: {missing[:12]}\n"
                    f"  landed, not expected: {extra[:12]}")
    return len(want)


def compare_rejects(lake: Path, oracle: IngestOracle) -> int:
    got = sorted(warehouse(lake, 'SELECT kind, file, line, "column", reason, raw_value FROM rejects'),
                 key=lambda r: (r[1], r[2]))
    want = sorted(oracle.rejects, key=lambda r: (r.file, r.line))
    assert [g[:4] for g in got] == [(w.kind, w.file, w.line, w.column) for w in want]
    for g, w in zip(got, want):
        phrase = REASON_PHRASES[w.reason]
        assert phrase is None or phrase in g[4], (g, w)
        if w.reason == "missing":
            assert g[5] in (None, w.raw), (g, w)
        elif w.column is not None:
            assert g[5] == w.raw, (g, w)
    return len(want)


def compare_files(lake: Path, oracle: IngestOracle) -> int:
    got = sorted(warehouse(lake, "SELECT file, kind, read, accepted, rejected, duplicates FROM ingested_files"))
    want = sorted((o.file, o.kind, o.read, o.accepted, o.rejected, o.duplicates)
                  for o in oracle.outcomes if o.status == "landed")
    assert got == want
    return len(want)


# --- the hand-made two nights ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    root = tmp_path_factory.mktemp("ingest_oracle")
    config = root / "cskpi.toml"
    config.write_text("max_reject_ratio = 0.5\n", encoding="utf-8")
    in1, in2, lake = root / "night1", root / "night2", root / "lake"
    night1(in1)
    in2.mkdir()
    night2(in2, in1)
    oracle = IngestOracle(max_reject_ratio=0.5)
    runs = []
    for inbox in (in1, in2):
        files = inbox_files(inbox)
        assert all(k for _, k in files), files
        outcomes = oracle.run(files)
        result = cskpi_run(inbox, lake, config)
        runs.append((result, outcomes))
    return lake, oracle, runs


@pytest.mark.parametrize("night", [0, 1], ids=["night1", "night2"])
def test_per_file_summary_matches(nights, night):
    lake, oracle, runs = nights
    result, outcomes = runs[night]
    assert compare_summary(result.output, outcomes, result.exit_code) >= 10


def test_ingested_files_match(nights):
    lake, oracle, _ = nights
    assert compare_files(lake, oracle) >= 20


def test_rejects_match(nights):
    lake, oracle, _ = nights
    assert compare_rejects(lake, oracle) == 21


@pytest.mark.parametrize("kind", list(KINDS))
def test_landed_rows_match(nights, kind):
    lake, oracle, _ = nights
    assert compare_view(lake, oracle, kind) > 0


def test_the_reference_itself_on_chosen_cells(nights):
    """A few values stated outright, so that the reference is not only compared with itself."""
    _, oracle, runs = nights
    msgs = {r.values["message_id"]: r.values for r in oracle.view("messages")}
    assert msgs["g4"]["sent_at"] == dt.datetime(2026, 11, 27, 10, 0, 7)
    assert msgs["g6"]["sent_at"] == dt.datetime(2026, 11, 27, 10, 0, 9)
    assert msgs["g7"]["sent_at"] == dt.datetime(2026, 11, 27, 10, 0, 10)
    assert msgs["g9"]["sent_at"] == dt.datetime(2026, 11, 27, 10, 0, 12, 123456)
    assert msgs["g13"]["sent_at"] == dt.datetime(2026, 11, 27, 18, 4, 0, 250000)
    assert msgs["g20"]["customer_id"] == "小红" and msgs["g20"]["sender_role"] == "system"
    assert msgs["g30"]["customer_id"] == "00123" and msgs["g31"]["content"] == "a\rb"
    assert msgs["g15"]["content"] == "第一行\n第二行"
    orders = {r.values["order_id"]: r for r in oracle.view("orders")}
    assert orders["3000001"].values["amount"] == Decimal("1234.50")
    assert orders["3000002"].values["status"] == "已发货" and orders["3000002"].line == 6
    assert orders["3000003"].values["status"] == "交易关闭"
    reviews = {r.values["review_id"]: r.values for r in oracle.view("reviews")}
    assert reviews["9001"]["order_id"] == "30000000000001" and reviews["9001"]["rating"] == 5
    assert [(o.file.rsplit("/", 1)[-1], o.status) for o in runs[1][1] if o.status != "landed"] == [
        ("messages_1_gb_again.csv", "seen"), ("reviews_4.csv", "seen")]


# --- max_reject_ratio at its default ------------------------------------------------------------------------------

def test_default_reject_ratio_exactly_one_percent_lands_more_refuses(tmp_path):
    inbox = tmp_path / "inbox"
    header = ["message_id", "shop_id", "customer_id", "sender_role", "sent_at"]
    good = [[f"m{i}", "S1", f"C{i % 7}", "customer", f"2026-11-27 10:{i % 60:02d}:00"] for i in range(98)]
    put(inbox / "messages_a.csv", csv_bytes([header, *good, ["ma", "S1", "C1", "robot", "2026-11-27 11:00:00"],
                                             ["mb", "S1", "C1", "customer", "2026-11-27 11:01:00"]]))
    put(inbox / "messages_b.csv", csv_bytes([header, *[[f"n{r[0]}", *r[1:]] for r in good],
                                             ["na", "S1", "C1", "robot", "2026-11-27 11:00:00"],
                                             ["nb", "S1", "C1", "customer", "tomorrow"]]))
    oracle = IngestOracle()
    outcomes = oracle.run(inbox_files(inbox))
    assert [o.status for o in outcomes] == ["landed", "refused"]
    result = cskpi_run(inbox, tmp_path / "lake")
    compare_summary(result.output, outcomes, result.exit_code)
    assert compare_rejects(tmp_path / "lake", oracle) == 1
    assert compare_view(tmp_path / "lake", oracle, "messages") == 99


# --- the shipped sample data ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample")
    oracle = IngestOracle()
    outcomes = oracle.run(inbox_files(SAMPLE))
    result = cskpi_run(SAMPLE, root / "lake")
    return root / "lake", oracle, outcomes, result


def test_sample_data_summary_files_and_rejects(sample):
    lake, oracle, outcomes, result = sample
    assert compare_summary(result.output, outcomes, result.exit_code) == len(list(SAMPLE.iterdir()))
    assert compare_files(lake, oracle) == len(outcomes)
    assert compare_rejects(lake, oracle) >= 1


@pytest.mark.parametrize("kind", list(KINDS))
def test_sample_data_landed_rows(sample, kind):
    lake, oracle, _, _ = sample
    assert compare_view(lake, oracle, kind) > 0


# --- edges: large files across the 8 MiB encoding check, TSV, gzip, XLSX quirks, duplicate-key pruning ------------

MIB8 = 8 * 1024 * 1024
MSG_EN = ["message_id", "shop_id", "customer_id", "sender_role", "sent_at", "content"]


def big_utf8_straddling(path: Path) -> Path:
    """A UTF-8 file > 8 MiB whose 3-byte character sits across byte 8 MiB (a chunked check must not split it)."""
    head = (",".join(MSG_EN) + "\n").encode()
    rows, size, i = [], len(head), 0
    while size < MIB8 - 5000:
        line = f"b{i},S1,C{i % 5},customer,2026-11-27 10:{i % 60:02d}:00,{'x' * 4000}\n".encode()
        rows.append(line)
        size += len(line)
        i += 1
    prefix = f"b{i},S1,C1,customer,2026-11-27 11:00:00,".encode()
    pad = MIB8 - size - len(prefix) - 1           # the character "中" starts one byte before 8 MiB
    rows.append(prefix + b"y" * pad + "中文".encode() + b"\n")
    rows.append(f"b{i + 1},S1,C1,customer,2026-11-27 11:00:01,尾\n".encode())
    data = head + b"".join(rows)
    assert data[MIB8 - 1:MIB8 + 2].decode() == "中"
    return put(path, data)


def big_gb18030(path: Path, ascii_first: int, dense_rows: int) -> Path:
    """GB18030: `ascii_first` bytes of ASCII-only rows, then rows dense with 2- and 4-byte characters at odd
    offsets (a transcoder that cuts its stream between bytes of one character breaks them)."""
    lines = [",".join(["消息ID", "店铺ID", "顾客ID", "发送方", "发送时间", "消息内容"])]
    size, i = 0, 0
    while size < ascii_first:
        line = f"a{i},S1,C{i % 5},customer,2026-11-27 10:{i % 60:02d}:00,{'x' * 3000}"
        lines.append(line)
        size += len(line) + 1
        i += 1
    for j in range(dense_rows):
        lines.append(f"d{j},S1,小明{j % 3},顾客,2026-11-27 12:{j % 60:02d}:00,"
                     + "x" * (j % 2) + "中文𠀀𠀁客服，" * 700 + str(j))
    return put(path, ("\n".join(lines) + "\n").encode("gb18030"))


def write_ratings_xlsx(path: Path) -> Path:
    """A level column of labels and numbers, a time column of datetimes and one text cell, an empty row."""
    return write_xlsx(path, ["评价ID", "店铺ID", "评价时间", "满意度", "客服ID"], [
        ["  X1 ", "S1", dt.datetime(2026, 11, 27, 9, 0, 0), "很满意", "A1"],
        ['="X2"', "S1", dt.datetime(2026, 11, 27, 9, 1, 0), 4, "A1"],
        [None, None, None, None, None],                                      # an empty row: row 4
        ["X3", "S1", "2026/11/27 09:02", 2, None],
        ["X4", "S1", dt.datetime(2026, 11, 27, 9, 3, 0), 7, "A1"],           # level
        ["X5", "S1", dt.datetime(2026, 11, 27, 9, 4, 0), "一般", "A2"],
    ])


def edges_a(inbox: Path) -> None:
    big_utf8_straddling(inbox / "messages_big_utf8.csv")
    big_gb18030(inbox / "messages_gb_late.csv", MIB8 + 10_000, 3)
    big_gb18030(inbox / "messages_gb_dense.csv", 0, 2200)
    put(inbox / "messages_tab.tsv", csv_bytes([
        MSG_EN, ["t1", "S1", "C1", "customer", "2026-11-27 10:00:00", "a,b"],
        ["t2", "S1", "C1", "agent", "2026-11-27 10:00:01", "c"]]).replace(b",", b"\t").replace(b"a\tb", b"a,b"))
    import gzip
    put(inbox / "messages_zip.csv.gz", gzip.compress(csv_bytes([
        ["消息ID", "店铺ID", "买家昵称", "发送方", "发送时间", "内容"],
        ["z1", "S1", "小明", "顾客", "2026-11-27 10:00:00", "压缩"],
        ["z2", "S1", "小明", "客服", "2026-11-27 10:00:09", "好的"]], encoding="gb18030")))
    write_ratings_xlsx(inbox / "ratings_x.xlsx")
    # keys for the duplicate pruning: ids of several shops, non-ASCII ids
    put(inbox / "messages_k1.csv", csv_bytes([
        MSG_EN,
        ["m15", "S1", "C1", "customer", "2026-11-27 10:00:00", "k"],
        ["中文1", "S1", "C1", "customer", "2026-11-27 10:00:01", "k"],
        ["z9", "S2", "C1", "customer", "2026-11-27 10:00:02", "k"],
        ["m70", "S1", "C1", "customer", "not a time", "rejected first"],
        ["m70", "S1", "C1", "customer", "2026-11-27 10:00:03", "then valid"],
    ]))
    put(inbox / "complaints_k1.csv", csv_bytes([
        list(KINDS["complaints"].names),
        ["K100", "S1", "2026-11-27 10:00:00", "", "", "服务", "", "", ""],
        ["K300", "S1", "2026-11-27 10:00:00", "", "", "服务", "", "", ""],
    ]))
    put(inbox / "orders_k1.csv", csv_bytes([
        list(KINDS["orders"].names),
        ["O50", "S1", "C1", "27/11/2026", "", "1", "rejected"],
        ["O51", "S1", "C1", "2026-11-27 10:00:00", "", "1", "first"],
        ["O60", "S1", "C1", "2026-11-27 10:00:00", "", "1", "valid"],
        ["O60", "S1", "C1", "2026-11-27 10:00:00", "", "-1", "last copy rejected"],
    ]))
    put(inbox / "targets_k1.csv", csv_bytes([["shop_id", "period", "target_sales"], ["S1", "2026-11", "1"]]))


def edges_b(inbox: Path) -> None:
    put(inbox / "messages_k2.csv", csv_bytes([
        MSG_EN,
        ["m15", "S2", "C7", "customer", "2026-11-28 10:00:00", "same id, other shop"],
        ["中文1", "S3", "C7", "customer", "2026-11-28 10:00:01", "same id, other shop"],
        ["a1", "S1", "C1", "customer", "2026-11-28 10:00:02", "new"],
        ["z9", "S1", "C1", "customer", "2026-11-28 10:00:03", "same id, other shop"],
        [' ="m15" ', "S1", "C1", "customer", "2026-11-28 10:00:04", "wrapped copy"],
    ]))
    put(inbox / "complaints_k2a.csv", csv_bytes([
        list(KINDS["complaints"].names),
        ["K200", "S2", "2026-11-28 10:00:00", "", "", "", "", "", ""],
        ["K300", "S2", "2026-11-28 10:00:00", "", "", "商品", "", "", ""],
    ]))
    put(inbox / "complaints_k2b.csv", csv_bytes([
        list(KINDS["complaints"].names),
        ["K300", "S3", "2026-11-28 11:00:00", "", "", "其他", "", "", ""],   # replaces the file before, same run
    ]))
    put(inbox / "orders_k2.csv", csv_bytes([
        list(KINDS["orders"].names),
        ["O50", "S1", "C1", "2026-11-28 10:00:00", "", "2", "now valid"],
        ["O51", "S1", "C1", "2026-11-28 10:00:00", "", "-2", "later version rejected"],
        ["O52", "S1", "C1", "2026-11-28 10:00:00", "", "2", "new"],
    ]))
    put(inbox / "targets_k2a.csv", csv_bytes([["shop_id", "period", "target_sales"], ["S1", "2026-11", "2"]]))
    put(inbox / "targets_k2b.csv", csv_bytes([["shop_id", "period", "target_sales"], ["S1", "2026-11", "3"]]))


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    root = tmp_path_factory.mktemp("ingest_edges")
    config = root / "cskpi.toml"
    config.write_text("max_reject_ratio = 0.5\n", encoding="utf-8")
    a, b, lake = root / "a", root / "b", root / "lake"
    edges_a(a)
    edges_b(b)
    oracle = IngestOracle(max_reject_ratio=0.5)
    runs = []
    for inbox in (a, b):
        outcomes = oracle.run(inbox_files(inbox))
        runs.append((cskpi_run(inbox, lake, config), outcomes))
    return lake, oracle, runs


def test_edges_summary_files_rejects(edges):
    lake, oracle, runs = edges
    for result, outcomes in runs:
        compare_summary(result.output, outcomes, result.exit_code)
    assert compare_files(lake, oracle) == 15
    assert compare_rejects(lake, oracle) == 5


@pytest.mark.parametrize("kind", ["messages", "ratings", "complaints", "orders", "targets"])
def test_edges_landed_rows(edges, kind):
    lake, oracle, _ = edges
    assert compare_view(lake, oracle, kind) > 0


def test_edges_reference_itself(edges):
    _, oracle, _ = edges
    msgs = {r.values["message_id"]: r for r in oracle.view("messages")}
    assert msgs["m15"].values["shop_id"] == "S1" and msgs["z9"].values["shop_id"] == "S2"
    assert msgs["m70"].line == 6
    assert msgs["d1"].values["content"].startswith("x中文𠀀")
    complaints = {r.values["complaint_id"]: r.values for r in oracle.view("complaints")}
    assert complaints["K300"]["shop_id"] == "S3" and complaints["K300"]["category"] == "其他"
    orders = {r.values["order_id"]: r.values for r in oracle.view("orders")}
    assert orders["O51"]["status"] == "first" and orders["O50"]["status"] == "now valid"
    assert orders["O60"]["status"] == "valid"
    assert [r.values["target_sales"] for r in oracle.view("targets")] == [Decimal(3)]
    ratings = {r.values["rating_id"]: r for r in oracle.view("ratings")}
    assert ratings["X3"].line == 5 and ratings["X3"].values["level"] == 2


# --- disagreements --------------------------------------------------------------------------------------------------

def test_non_finite_amounts_are_rejected(tmp_path):
    inbox = tmp_path / "inbox"
    put(inbox / "orders_nan.csv", csv_bytes([
        list(KINDS["orders"].names),
        ["O1", "S1", "C1", "2026-11-27 10:00:00", "2026-11-27 10:05:00", "100", "paid"],
        ["O2", "S1", "C1", "2026-11-27 10:00:00", "2026-11-27 10:06:00", "NaN", "paid"],
        ["O3", "S1", "C1", "2026-11-27 10:00:00", "2026-11-27 10:07:00", "inf", "paid"],
        ["O4", "S1", "C1", "2026-11-27 10:00:00", "2026-11-27 10:08:00", "5", "paid"],
    ]))
    (tmp_path / "cskpi.toml").write_text("max_reject_ratio = 0.5\n", encoding="utf-8")
    oracle = IngestOracle(max_reject_ratio=0.5)
    outcomes = oracle.run(inbox_files(inbox))
    result = cskpi_run(inbox, tmp_path / "lake", tmp_path / "cskpi.toml")
    compare_summary(result.output, outcomes, result.exit_code)
    assert compare_rejects(tmp_path / "lake", oracle) == 2
    assert compare_view(tmp_path / "lake", oracle, "orders") == 2


def test_non_finite_target_is_rejected_and_the_run_lands(tmp_path):
    inbox = tmp_path / "inbox"
    put(inbox / "messages_a.csv", csv_bytes([MSG_EN, ["m1", "S1", "C1", "customer", "2026-11-27 10:00:00", "x"]]))
    put(inbox / "targets.csv", csv_bytes([["shop_id", "period", "target_sales"],
                                          ["S1", "2026-11", "200"], ["S1", "2026-11-27", "nan"]]))
    (tmp_path / "cskpi.toml").write_text("max_reject_ratio = 0.5\n", encoding="utf-8")
    oracle = IngestOracle(max_reject_ratio=0.5)
    outcomes = oracle.run(inbox_files(inbox))
    result = cskpi_run(inbox, tmp_path / "lake", tmp_path / "cskpi.toml")
    compare_summary(result.output, outcomes, result.exit_code)
    assert compare_rejects(tmp_path / "lake", oracle) == 1
    assert compare_view(tmp_path / "lake", oracle, "targets") == 1
    assert compare_view(tmp_path / "lake", oracle, "messages") == 1


def test_path_order_and_a_time_zone_with_daylight_saving(tmp_path):
    """`orders/2026.csv` is ingested before `orders.csv` (path order by component), so the latter's version of a
    re-sent key is current; offsets convert to the configured zone on either side of a DST change."""
    inbox = tmp_path / "inbox"
    header = list(KINDS["orders"].names)
    put(inbox / "orders.csv", csv_bytes([header, ["O1", "S1", "C1", "2026-11-27 10:00:00", "", "", "from-file"]]))
    put(inbox / "orders" / "2026.csv", csv_bytes([header, ["O1", "S1", "C1", "2026-11-27 10:00:00", "", "",
                                                           "from-folder"]]))
    put(inbox / "messages_tz.csv", csv_bytes([
        MSG_EN,
        ["m1", "S1", "C1", "customer", "2026-11-01T05:30:00Z", "EDT"],
        ["m2", "S1", "C1", "customer", "2026-11-01T06:30:00Z", "EST and the same wall time"],
        ["m3", "S1", "C1", "customer", "2026-07-01T12:00:00+00:00", "summer"],
        ["m4", "S1", "C1", "customer", "2026-01-15T12:00:00.5+0100", "winter"],
        ["m5", "S1", "C1", "customer", "2026-03-08 02:30:00", "a local time that does not exist stays as written"],
    ]))
    (tmp_path / "cskpi.toml").write_text('timezone = "America/New_York"\n', encoding="utf-8")
    oracle = IngestOracle(timezone="America/New_York")
    outcomes = oracle.run(inbox_files(inbox))
    assert [Path(o.file).relative_to(inbox).as_posix() for o in outcomes] == [
        "messages_tz.csv", "orders/2026.csv", "orders.csv"]
    result = cskpi_run(inbox, tmp_path / "lake", tmp_path / "cskpi.toml")
    compare_summary(result.output, outcomes, result.exit_code)
    assert compare_view(tmp_path / "lake", oracle, "orders") == 1
    assert compare_view(tmp_path / "lake", oracle, "messages") == 5
    assert [r.values["status"] for r in oracle.view("orders")] == ["from-file"]
    assert {r.values["message_id"]: r.values["sent_at"] for r in oracle.view("messages")}["m4"] == dt.datetime(
        2026, 1, 15, 6, 0, 0, 500000)
