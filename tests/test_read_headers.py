"""Header matching and user mapping files (SPEC §1.2)."""
from __future__ import annotations

import pytest

from pipeline.config import ConfigError
from pipeline.kinds import kind
from pipeline.read import ReadError, load_mapping, mapping_for, open_table, resolve_headers

MESSAGES, ORDERS = kind("messages"), kind("orders")


def test_canonical_names_match_ignoring_case_and_spaces():
    m = resolve_headers(["Shop_ID", " customer_id ", "SENDER_ROLE", "sent_at", "remark"], MESSAGES)
    assert m.rename == {"Shop_ID": "shop_id", " customer_id ": "customer_id", "SENDER_ROLE": "sender_role",
                        "sent_at": "sent_at"}
    assert m.ignored == ["remark"]
    assert m.missing_required == []


def test_chinese_aliases_of_a_taobao_order_report():
    headers = ["订单编号", "店铺ID", "买家会员名", "订单创建时间", "订单付款时间", "买家实际支付金额", "订单状态", "宝贝标题"]
    m = resolve_headers(headers, ORDERS)
    assert m.rename == {"订单编号": "order_id", "店铺ID": "shop_id", "买家会员名": "customer_id",
                        "订单创建时间": "created_at", "订单付款时间": "paid_at", "买家实际支付金额": "amount",
                        "订单状态": "status"}
    assert m.ignored == ["宝贝标题"]


def test_missing_required_columns_are_reported_in_kind_order():
    m = resolve_headers(["发送时间", "消息内容"], MESSAGES)
    assert m.rename == {"发送时间": "sent_at", "消息内容": "content"}
    assert m.missing_required == ["shop_id", "customer_id", "sender_role"]


def test_user_mapping_wins_over_aliases_and_canonical_names():
    headers = ["旺旺号", "买家昵称", "customer_id", "店铺ID", "发送方", "发送时间"]
    m = resolve_headers(headers, MESSAGES, {"customer_id": " 旺旺号 "})
    assert m.rename["旺旺号"] == "customer_id"
    # The alias and the canonical header of a column the user mapped no longer apply: no duplicate error.
    assert m.ignored == ["买家昵称", "customer_id"]
    assert m.missing_required == []


def test_user_mapping_can_take_a_header_from_another_column():
    m = resolve_headers(["客服账号", "店铺ID"], MESSAGES, {"customer_id": "客服账号"})
    assert m.rename == {"客服账号": "customer_id", "店铺ID": "shop_id"}


def test_two_headers_for_one_column_is_an_error(tmp_path):
    with pytest.raises(ReadError, match="headers '买家昵称' and '买家会员名' both map to column 'customer_id'") as e:
        resolve_headers(["店铺ID", "买家昵称", "买家会员名"], MESSAGES, path=tmp_path / "m.csv")
    assert str(e.value).startswith(str(tmp_path / "m.csv"))
    with pytest.raises(ReadError, match="'Shop_ID' and 'shop_id ' both map to column 'shop_id'"):
        resolve_headers(["Shop_ID", "shop_id "], MESSAGES)


def test_a_repeated_header_in_the_file_is_caught_after_open_table(tmp_path):
    path = tmp_path / "messages.csv"
    path.write_text("店铺ID,备注,备注,店铺ID\nS1,a,b,S2\n", encoding="utf-8")
    headers = open_table(path, workdir=tmp_path).headers
    assert headers == ["店铺ID", "备注", "备注_duplicated_0", "店铺ID_duplicated_0"]
    with pytest.raises(ReadError, match="both map to column 'shop_id'"):
        resolve_headers(headers, MESSAGES)
    # A repeated header that maps to nothing is only ignored.
    assert resolve_headers(headers[:3], MESSAGES).ignored == ["备注", "备注_duplicated_0"]


def test_mapping_with_unknown_column_or_ambiguous_header():
    with pytest.raises(ValueError, match="unknown messages columns order_id"):
        resolve_headers(["a"], MESSAGES, {"order_id": "a"})
    with pytest.raises(ValueError, match="maps header 'X' to both 'shop_id' and 'customer_id'"):
        resolve_headers(["x"], MESSAGES, {"shop_id": "x", "customer_id": "X"})


def test_gb18030_file_end_to_end(tmp_path):
    path = tmp_path / "messages_S001.csv"
    path.write_bytes("店铺ID , 买家昵称,客服账号,发送方,发送时间,消息内容\nS001,小王,kf01,顾客,2026-11-27 08:00:00,在吗\n"
                     .encode("gb18030"))
    table = open_table(path, workdir=tmp_path / "w")
    m = resolve_headers(table.headers, MESSAGES)
    df = table.frame.rename(m.rename).collect()
    assert df.select("shop_id", "customer_id", "agent_id", "sender_role", "content").row(0) == (
        "S001", "小王", "kf01", "顾客", "在吗")
    assert m.missing_required == []


# --- mapping files -------------------------------------------------------------------------------------------------

def test_load_mapping_top_level_and_per_kind(tmp_path):
    path = tmp_path / "mapping.toml"
    path.write_text('customer_id = "旺旺号"\ncreated_at = "创建时间"\n\n'
                    '[orders]\ncustomer_id = "买家账号"\namount = "实收"\n', encoding="utf-8")
    mapping = load_mapping(path)
    assert mapping == {"*": {"customer_id": "旺旺号", "created_at": "创建时间"},
                       "orders": {"customer_id": "买家账号", "amount": "实收"}}
    assert mapping_for(mapping, "orders") == {"customer_id": "买家账号", "created_at": "创建时间", "amount": "实收"}
    # Top-level entries apply only to kinds that have the column.
    assert mapping_for(mapping, "messages") == {"customer_id": "旺旺号"}
    assert mapping_for(None, "messages") == {}


@pytest.mark.parametrize("text, error", [
    ('[invoices]\nshop_id = "x"\n', r"\[invoices\] is not a kind; known kinds: messages"),
    ('colour = "x"\n', "colour: unknown column 'colour'"),
    ('[targets]\ncustomer_id = "x"\n', "targets.customer_id: unknown column"),
    ("shop_id = 3\n", "must be a non-empty string"),
    ("shop_id = \n", "not valid TOML"),
])
def test_load_mapping_errors(tmp_path, text, error):
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=error):
        load_mapping(path)


def test_load_mapping_missing_file(tmp_path):
    with pytest.raises(ValueError, match="no such mapping file"):
        load_mapping(tmp_path / "nope.toml")
