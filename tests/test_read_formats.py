"""open_table: formats, CSV structure, line numbers, empty and broken files."""
from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.read import explain, RawTable, ReadError, open_table

TWCS = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "twcs_head.csv"


def open_bytes(tmp_path, name: str, data: bytes) -> RawTable:
    path = tmp_path / name
    path.write_bytes(data)
    return open_table(path, workdir=tmp_path / "work")


def read_all(tmp_path, name: str, data: bytes) -> pl.DataFrame:
    """Open and consume a file as the land stage does: a failure met while parsing the body is explained."""
    table = open_bytes(tmp_path, name, data)
    try:
        return collect(table)
    except pl.exceptions.PolarsError as e:
        raise explain(table, e) from None


def collect(table: RawTable) -> pl.DataFrame:
    df = table.frame.collect()
    assert all(dtype == pl.String for name, dtype in df.schema.items() if name != "_line")
    assert df.schema["_line"] == pl.Int64
    return df


# --- CSV structure -------------------------------------------------------------------------------------------------

def test_csv_columns_are_strings_named_by_stripped_headers(tmp_path):
    df = collect(open_bytes(tmp_path, "m.csv", b" shop_id ,amount, sent_at\nS1,12.50,2026-11-27 08:00:00\nS2,007,x\n"))
    assert df.columns == ["shop_id", "amount", "sent_at", "_line", "_error"]
    assert df["amount"].to_list() == ["12.50", "007"]  # nothing parsed, leading zeros kept
    assert df["_line"].to_list() == [2, 3]
    assert df["_error"].null_count() == 2


def test_empty_strings_are_null_and_spaces_kept(tmp_path):
    df = collect(open_bytes(tmp_path, "m.csv", b'a,b,c\n1,,""\n2, x ,y\n'))
    assert df.rows() == [("1", None, None, 2, None), ("2", " x ", "y", 3, None)]


def test_quoted_newlines_give_exact_lines_of_later_rows(tmp_path):
    data = b'id,content\n1,"first\nsecond\nthird"\n2,plain\n3,"a\n\nb"\n4,end\n'
    df = collect(open_bytes(tmp_path, "m.csv", data))
    assert df["content"].to_list() == ["first\nsecond\nthird", "plain", "a\n\nb", "end"]
    assert df["_line"].to_list() == [2, 5, 6, 9]


def test_crlf_line_endings_and_quoted_crlf(tmp_path):
    data = b'id,content\r\n1,"x\r\ny"\r\n2,z\r\n3,"p\nq"\r\n4,w\r\n'
    df = collect(open_bytes(tmp_path, "m.csv", data))
    assert df["content"].to_list() == ["x\r\ny", "z", "p\nq", "w"]  # no stray \r on the last field
    assert df["_line"].to_list() == [2, 4, 5, 7]


def test_bare_carriage_return_is_data_not_a_line_break(tmp_path):
    df = collect(open_bytes(tmp_path, "m.csv", b'id,content\n1,"a\rb"\n2,c\r\rd\n3,e\n'))
    assert df["content"].to_list() == ["a\rb", "c\r\rd", "e"]
    assert df["_line"].to_list() == [2, 3, 4]


def test_classic_mac_line_endings_are_refused_not_read_as_nothing(tmp_path):
    with pytest.raises(ReadError, match="bare carriage return"):
        open_bytes(tmp_path, "m.csv", b"a,b\r1,2\r3,4\r")


def test_header_with_quoted_newline_shifts_lines(tmp_path):
    df = collect(open_bytes(tmp_path, "m.csv", b'id,"content\n(text)"\n1,x\n2,y\n'))
    assert df.columns[:2] == ["id", "content\n(text)"]
    assert df["_line"].to_list() == [3, 4]


def test_blank_and_all_empty_rows_are_dropped_but_lines_kept(tmp_path):
    df = collect(open_bytes(tmp_path, "m.csv", b"a,b\n1,2\n\n,\n3,4\n\r\n5,6\n"))
    assert df.select("a", "_line").rows() == [("1", 2), ("3", 5), ("5", 7)]


def test_ragged_rows_are_flagged_not_fatal(tmp_path):
    data = b'a,b\n1,2\n3,4,5\n6,7,8,9,10,11,12,13\n8,9,\n10\n11,"x\ny",12\n13,14\n'
    df = collect(open_bytes(tmp_path, "m.csv", data))
    assert df.rows() == [
        ("1", "2", 2, None),
        ("3", "4", 3, "row has 3 fields, header has 2"),
        ("6", "7", 4, "row has at least 6 fields, header has 2"),
        ("8", "9", 5, None),  # a trailing empty field loses nothing
        ("10", None, 6, None),  # missing trailing fields are nulls
        ("11", "x\ny", 7, "row has 3 fields, header has 2"),
        ("13", "14", 9, None),
    ]


def test_first_row_longer_than_header_and_surplus(tmp_path):
    df = collect(open_bytes(tmp_path, "m.csv", b"a,b\n1,2,3,4,5,6,7,8,9\n3,4\n"))
    assert df.rows() == [("1", "2", 2, "row has at least 6 fields, header has 2"), ("3", "4", 3, None)]


@pytest.mark.parametrize("data, line", [
    (b'a,b\n1,2\n3,"cut off here', 3),
    (b'a,b\n1,2\n3,"cut off\n4,5\n', 3),
    (b'a,b\n1,"ok\nok"\n3,4\n"5,6\n', 5),
])
def test_truncated_quoted_field_is_a_read_error_naming_the_line(tmp_path, data, line):
    with pytest.raises(ReadError, match="never closed") as e:
        read_all(tmp_path, "m.csv", data)
    assert e.value.line == line
    assert str(e.value).startswith(str(tmp_path / "m.csv"))


def test_truncated_transcoded_file_is_explained_by_its_line(tmp_path):
    with pytest.raises(ReadError, match="never closed") as e:
        read_all(tmp_path, "m.csv", 'a,b\n1,"你好'.encode("gb18030"))
    assert e.value.line == 2


def test_malformed_quoting_is_a_read_error(tmp_path):
    with pytest.raises(ReadError, match=r"m\.csv: cannot parse"):
        read_all(tmp_path, "m.csv", b'a,b\n1,"ab"c\n')


def test_empty_file(tmp_path):
    df = collect(open_bytes(tmp_path, "m.csv", b""))
    assert df.height == 0 and df.columns == ["_line", "_error"]


@pytest.mark.parametrize("data", [b"shop_id,sent_at\n", b"shop_id,sent_at", b"shop_id,sent_at\r\n\r\n"])
def test_header_only_file(tmp_path, data):
    df = collect(open_bytes(tmp_path, "m.csv", data))
    assert df.height == 0 and df.columns == ["shop_id", "sent_at", "_line", "_error"]


def test_unnamed_and_repeated_headers_get_unique_names(tmp_path):
    df = collect(open_bytes(tmp_path, "m.csv", b",a, a ,\n0,1,2,3\n"))
    assert df.columns == ["column_1", "a", "a_duplicated_0", "column_4", "_line", "_error"]


def test_reserved_header_is_refused(tmp_path):
    with pytest.raises(ReadError, match="reserved"):
        open_bytes(tmp_path, "m.csv", b"a,_line\n1,2\n")


@settings(max_examples=30, deadline=None)
@given(
    cells=st.lists(st.lists(st.text(alphabet='ab ,"\n店', max_size=6), min_size=3, max_size=3), max_size=12),
    crlf=st.booleans(),
)
def test_line_is_where_each_record_starts(tmp_path_factory, cells, crlf):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n" if crlf else "\n").writerows([["x", "y", "z"], *cells])
    text = buf.getvalue()
    # Oracle: Python's csv reader counts the physical lines it has consumed.
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    expected = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        if any(row):
            expected.append(start)
    tmp = tmp_path_factory.mktemp("p")
    df = collect(open_bytes(tmp, "m.csv", text.encode("utf-8")))
    assert df["_line"].to_list() == expected
    assert df.select("x", "y", "z").rows() == [tuple(c or None for c in r) for r in cells if any(r)]


# --- other CSV-like formats ----------------------------------------------------------------------------------------

def test_tsv(tmp_path):
    table = open_bytes(tmp_path, "messages.tsv", "店铺ID\t内容\nS1\t你好, 在吗\n".encode())
    assert table.format == "csv"
    assert collect(table).rows() == [("S1", "你好, 在吗", 2, None)]


def test_csv_gz(tmp_path):
    table = open_bytes(tmp_path, "orders.CSV.GZ", gzip.compress(b'id,note\n1,"a\nb"\n2,c\n'))
    assert (table.format, table.encoding) == ("csv", "utf-8")
    assert collect(table).select("id", "_line").rows() == [("1", 2), ("2", 4)]


def test_unknown_extension(tmp_path):
    with pytest.raises(ReadError, match=r"m\.xls: unknown file format; known: .csv, .csv.gz, .tsv"):
        open_bytes(tmp_path, "m.xls", b"whatever")


def test_missing_file(tmp_path):
    with pytest.raises(ReadError, match="no such file"):
        open_table(tmp_path / "nope.csv", workdir=tmp_path)


# --- XLSX, Parquet, JSON Lines -------------------------------------------------------------------------------------

def test_xlsx_values_as_text_and_excel_row_numbers(tmp_path):
    path = tmp_path / "orders.xlsx"
    pl.DataFrame({
        " 订单编号 ": ["A1", None, "A3"],
        "qty": [5, None, 12],
        "amount": [12.5, None, 3.0],
        "created_at": [dt.datetime(2026, 11, 27, 8, 30, 1), None, dt.datetime(2026, 11, 28, 23, 0, 0)],
    }).write_excel(path)
    table = open_table(path, workdir=tmp_path)
    assert (table.format, table.encoding) == ("xlsx", None)
    assert collect(table).rows() == [
        ("A1", "5", "12.5", "2026-11-27 08:30:01", 2, None),
        ("A3", "12", "3", "2026-11-28 23:00:00", 4, None),  # the empty row 3 is dropped
    ]


def test_xlsx_starting_below_row_1_and_repeated_headers(tmp_path):
    import xlsxwriter

    path = tmp_path / "m.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet()
        ws.write_row(2, 0, ["shop_id", "备注", "备注"])  # Excel row 3; rows 1-2 empty
        ws.write_row(3, 0, ["S1", "a", "b"])
        ws.write_row(5, 0, ["S2", "", "c"])
    table = open_table(path, workdir=tmp_path)
    assert table.headers == ["shop_id", "备注", "备注_duplicated_0"]  # not calamine's "备注_1"
    assert collect(table).rows() == [("S1", "a", "b", 4, None), ("S2", None, "c", 6, None)]


def test_not_really_xlsx(tmp_path):
    with pytest.raises(ReadError, match="cannot read as XLSX"):
        open_bytes(tmp_path, "m.xlsx", b"a,b\n1,2\n")


def test_parquet_datetimes_keep_their_offset(tmp_path):
    path = tmp_path / "messages.parquet"
    naive = [dt.datetime(2026, 11, 27, 8, 30, 1), dt.datetime(2026, 11, 27, 8, 30, 1, 250000)]
    pl.DataFrame({"id": [1, 2], "sent_at": naive, "tags": [["a"], []], "note": ["", "x"]}).with_columns(
        utc=pl.col("sent_at").dt.replace_time_zone("UTC"),
        cst=pl.col("sent_at").dt.replace_time_zone("Asia/Shanghai"),
    ).write_parquet(path)
    table = open_table(path, workdir=tmp_path)
    assert (table.format, table.encoding) == ("parquet", None)
    assert collect(table).rows() == [
        ("1", "2026-11-27 08:30:01", '["a"]', None, "2026-11-27 08:30:01+00:00", "2026-11-27 08:30:01+08:00", 1, None),
        ("2", "2026-11-27 08:30:01.250", "[]", "x", "2026-11-27 08:30:01.250+00:00", "2026-11-27 08:30:01.250+08:00",
         2, None),
    ]


def test_parquet_other_types_as_text(tmp_path):
    path = tmp_path / "m.parquet"
    pl.DataFrame({
        "raw": [b"\xe5\xba\x97"], "wait": [dt.timedelta(seconds=90)], "day": [dt.date(2026, 11, 27)],
        "amount": pl.Series(["12.50"]).cast(pl.Decimal(10, 2)), "meta": [{"k": "v"}],
    }).write_parquet(path)
    assert collect(open_table(path, workdir=tmp_path)).row(0) == ("店", "PT1M30S", "2026-11-27", "12.50", '{"k":"v"}',
                                                                  1, None)
    pl.DataFrame({"raw": [b"\xff"]}).write_parquet(path)
    with pytest.raises(ReadError, match="not UTF-8 text"):
        open_table(path, workdir=tmp_path)


def test_jsonl_values_as_text_and_physical_lines(tmp_path):
    data = b'{"id": 1, "shop_id": "S1", "amount": 12.5}\r\n\n  \n{"id": 2, "shop_id": "", "tags": [1, 2]}\n{"id": 3}'
    table = open_bytes(tmp_path, "orders.ndjson", data)
    assert table.format == "jsonl"
    assert collect(table).rows() == [
        ("1", "S1", "12.5", None, 1, None),
        ("2", None, None, "[1, 2]", 4, None),
        ("3", None, None, None, 5, None),
    ]


def test_jsonl_key_holding_a_list_on_one_line_and_an_object_on_another(tmp_path):
    # polars finds no common type for such a key ("failed to determine supertype"); every value is text anyway
    data = b'{"id": 1, "tags": [1]}\n{"tags": {"a": 1}, "id": 2, "note": "x"}\n{"id": 3, "tags": 5}\n'
    table = open_bytes(tmp_path, "m.jsonl", data)
    assert table.headers == ["id", "tags", "note"]
    assert collect(table).rows() == [
        ("1", "[1]", None, 1, None),
        ("2", '{"a": 1}', "x", 2, None),
        ("3", "5", None, 3, None),
    ]


@pytest.mark.parametrize("bad, why", [(b'{"id": 2, "x": nul}', "Expecting value"), (b"[1, 2]", "not an object")])
def test_jsonl_bad_line_names_the_line(tmp_path, bad, why):
    with pytest.raises(ReadError, match=why) as e:
        open_bytes(tmp_path, "m.jsonl", b'{"id": 1}\n\n' + bad + b'\n{"id": 3}\n')
    assert e.value.line == 3


def test_empty_jsonl(tmp_path):
    assert collect(open_bytes(tmp_path, "m.jsonl", b"\n")).height == 0


# --- real data -----------------------------------------------------------------------------------------------------

@pytest.mark.skipif(not TWCS.exists(), reason="shared real data not present")
def test_twcs_real_export(tmp_path):
    df = collect(open_table(TWCS, workdir=tmp_path))
    assert df.height == 5000
    assert df.columns[:3] == ["column_1", "tweet_id", "author_id"]  # the unnamed pandas index column
    assert df["_error"].null_count() == 5000
    # Independent oracle for _line: the quote state at each physical line (no field here holds a stray quote).
    starts, inside = [], False
    with open(TWCS, "rb") as f:
        for number, text in enumerate(f, 1):
            if not inside:
                starts.append(number)
            inside ^= text.count(b'"') % 2 == 1
    assert df["_line"].to_list() == starts[1:]
    bare_cr = df.filter(pl.col("text").str.contains("\r", literal=True))
    assert bare_cr.select("tweet_id", "_line").rows() == [("3399", 2589)]
