"""Encoding detection and transcoding of CSV inputs (SPEC §1.2)."""
from __future__ import annotations

import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.read import ReadError, detect_encoding, open_table
from pipeline.read.encoding import is_utf8, transcode_to_utf8

CHINESE = "店铺ID,消息内容\nS001,您好，请问有什么可以帮您？\nS002,亲，已经发货了哦\n"
GBK_ONLY = "店铺ID,顾客ID\nS001,王喆\nS002,李堃\nS003,赟镕\n"  # 喆 堃 赟 镕 are in GBK but not GB2312


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rows(table):
    return table.frame.drop("_line", "_error").collect().rows()


def test_utf8_is_detected_and_read_in_place(tmp_path):
    path = write(tmp_path, "m.csv", CHINESE.encode("utf-8"))
    assert detect_encoding(path) == "utf-8"
    table = open_table(path, workdir=tmp_path / "work")
    assert table.encoding == "utf-8"
    assert rows(table)[0] == ("S001", "您好，请问有什么可以帮您？")
    assert not (tmp_path / "work").exists()  # no temporary copy for UTF-8


def test_utf8_bom_is_detected_and_stripped(tmp_path):
    path = write(tmp_path, "m.csv", b"\xef\xbb\xbf" + CHINESE.encode("utf-8"))
    assert detect_encoding(path) == "utf-8-sig"
    table = open_table(path, workdir=tmp_path / "work")
    assert table.encoding == "utf-8-sig"
    assert table.headers == ["店铺ID", "消息内容"]  # not "\ufeff店铺ID"


def test_gb18030_with_chinese_headers_and_values(tmp_path):
    path = write(tmp_path, "m.csv", CHINESE.encode("gb18030"))
    assert detect_encoding(path) == "gb18030"
    table = open_table(path, workdir=tmp_path / "work")
    assert table.encoding == "gb18030"
    assert table.headers == ["店铺ID", "消息内容"]
    assert rows(table) == [("S001", "您好，请问有什么可以帮您？"), ("S002", "亲，已经发货了哦")]
    assert len(list((tmp_path / "work").iterdir())) == 1  # transcoded into workdir


def test_gbk_only_characters(tmp_path):
    path = write(tmp_path, "m.csv", GBK_ONLY.encode("gbk"))
    assert detect_encoding(path) == "gb18030"
    assert [r[1] for r in rows(open_table(path, workdir=tmp_path))] == ["王喆", "李堃", "赟镕"]


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 7])
def test_multibyte_characters_straddling_chunk_boundaries(tmp_path, chunk_size):
    utf8 = write(tmp_path, "u.csv", CHINESE.encode("utf-8"))
    gb = write(tmp_path, "g.csv", GBK_ONLY.encode("gb18030"))
    # A split 3-byte UTF-8 character would look invalid and send the file to GB18030.
    assert detect_encoding(utf8, chunk_size=chunk_size) == "utf-8"
    assert detect_encoding(gb, chunk_size=chunk_size) == "gb18030"
    table = open_table(gb, workdir=tmp_path / "w", chunk_size=chunk_size)
    assert [r[1] for r in rows(table)] == ["王喆", "李堃", "赟镕"]


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 4, 7, 64])
@pytest.mark.parametrize("data, utf8", [
    (CHINESE.encode("utf-8"), True),
    (b"\xef\xbb\xbf" + CHINESE.encode("utf-8"), True),
    ("无换行的一行很长的文字".encode("utf-8") * 5, True),
    (b"", True),
    (CHINESE.encode("gb18030"), False),
    (CHINESE.encode("utf-8")[:-2], False),  # no final newline, cut inside the last character
    (CHINESE.encode("utf-8") + "哦".encode("utf-8")[:2], False),  # cut inside its last character
    (CHINESE.encode("utf-8") + b"\xed\xa0\x80\n", False),  # a UTF-16 surrogate is not UTF-8
    (b"a,b\n" + b"x" * 100 + b"\xff\n", False),
])
def test_fast_utf8_check_agrees_with_decoding(tmp_path, chunk_size, data, utf8):
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        assert not utf8
    else:
        assert utf8
    assert is_utf8(write(tmp_path, "m.csv", data), chunk_size=chunk_size) is utf8


@settings(max_examples=40, deadline=None)
@given(text=st.text(alphabet="ab,\n\"店铺您好喆堃€😀", max_size=60), chunk_size=st.integers(1, 9),
       codec=st.sampled_from(["utf-8", "gb18030"]))
def test_transcoding_round_trips_whatever_the_chunk_size(tmp_path_factory, text, chunk_size, codec):
    tmp = tmp_path_factory.mktemp("t")
    src, dest = tmp / "in.csv", tmp / "out.csv"
    src.write_bytes(text.encode(codec))
    transcode_to_utf8(src, codec, dest, chunk_size=chunk_size)
    assert dest.read_bytes() == text.encode("utf-8")


def test_undecodable_file_names_the_line(tmp_path):
    # 0x80 and 0xFF are invalid as GB18030 lead bytes as well as in UTF-8.
    path = write(tmp_path, "m.csv", b"a,b\n1,2\n3,\x80\xff\n")
    with pytest.raises(ReadError) as e:
        detect_encoding(path)
    assert e.value.line == 3
    assert str(e.value).startswith(f"{path}, line 3: neither UTF-8 nor GB18030")
    assert "\n" not in str(e.value)


def test_utf8_cut_inside_a_character_is_reported_not_misread(tmp_path):
    path = write(tmp_path, "m.csv", "a,b\n1,您好".encode("utf-8")[:-1])
    with pytest.raises(ReadError, match="truncated") as e:
        open_table(path, workdir=tmp_path)
    assert e.value.line == 2


def test_encoding_override(tmp_path):
    path = write(tmp_path, "m.csv", GBK_ONLY.encode("gbk"))
    table = open_table(path, workdir=tmp_path / "w", encoding="GBK")
    assert table.encoding == "gbk"
    assert rows(table)[0] == ("S001", "王喆")
    with pytest.raises(ReadError, match="byte 0 .* not valid utf-8") as e:
        open_table(path, workdir=tmp_path / "w", encoding="utf-8")
    assert e.value.line == 1  # the Chinese header
    with pytest.raises(ReadError, match="unknown encoding 'klingon'"):
        open_table(path, workdir=tmp_path / "w", encoding="klingon")


def test_gzipped_gb18030_csv(tmp_path):
    path = write(tmp_path, "orders_S1.csv.gz", gzip.compress(GBK_ONLY.encode("gb18030")))
    assert detect_encoding(path) == "gb18030"
    table = open_table(path, workdir=tmp_path / "w")
    assert (table.format, table.encoding) == ("csv", "gb18030")
    assert rows(table)[2] == ("S003", "赟镕")


def test_corrupt_gzip_is_a_read_error(tmp_path):
    path = write(tmp_path, "m.csv.gz", gzip.compress(b"a,b\n1,2\n" * 100)[:30])
    with pytest.raises(ReadError, match="cannot read the file"):
        open_table(path, workdir=tmp_path)
