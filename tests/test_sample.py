"""pipeline.sample: the synthetic exports behind `cskpi sample` and sample_data/."""
from __future__ import annotations

import gzip
import io
from pathlib import Path

import polars as pl
import pytest

from pipeline.kinds import CATEGORY_LABELS, KINDS, LEVEL_LABELS, ROLE_LABELS
from pipeline.sample import generate

SAMPLE_MESSAGES = 20_000


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate(out, SAMPLE_MESSAGES)
    return out


def kind_of(path: Path) -> str:
    return path.name.split(".")[0].split("_")[0]


def text_of(path: Path) -> str:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def read(path: Path) -> pl.DataFrame:
    """A file as strings with canonical column names (the kind's aliases applied)."""
    if path.suffix == ".xlsx":
        df = pl.read_excel(path).with_columns(pl.all().cast(pl.String))
    else:
        df = pl.read_csv(io.StringIO(text_of(path)), infer_schema=False)
    aliases = KINDS[kind_of(path)].aliases
    return df.rename({c: aliases.get(c.strip(), c.strip()) for c in df.columns})


def parse_time(col: str) -> pl.Expr:
    """SPEC §1.2 time forms; null when unparseable (fractions and offsets dropped: only parseability matters)."""
    s = pl.col(col).str.replace(r"(\.\d+)?(Z|[+-]\d\d:\d\d)?$", "").str.replace("T", " ").str.replace_all("/", "-")
    return s.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)


def broken(kind: str, df: pl.DataFrame) -> pl.Series:
    """Rows SPEC §1.3 rejects: a missing required value, an unparseable time, an unknown label, a bad number."""
    spec = KINDS[kind]
    bad = pl.lit(False)
    for col in spec.columns:
        if col.name not in df.columns:
            continue
        c = pl.col(col.name)
        if col.required:
            bad = bad | c.is_null()
        if col.type == "timestamp":
            bad = bad | (c.is_not_null() & parse_time(col.name).is_null())
        if col.type == "role":
            bad = bad | (c.is_not_null() & ~c.str.to_lowercase().is_in(list(ROLE_LABELS)))
        if col.type == "category":
            bad = bad | (c.is_not_null() & ~c.is_in(list(CATEGORY_LABELS)))
        if col.type in ("level", "stars"):
            n = c.replace(LEVEL_LABELS if col.type == "level" else {}).cast(pl.Int64, strict=False)
            bad = bad | (c.is_not_null() & ~n.is_between(1, 5))
        if col.type == "decimal":
            bad = bad | (c.is_not_null() & ~(c.cast(pl.Float64, strict=False) >= 0))
    return df.select(bad.alias("bad"))["bad"]


def test_same_seed_same_bytes(sample, tmp_path):
    generate(tmp_path / "again", SAMPLE_MESSAGES)
    generate(tmp_path / "other", SAMPLE_MESSAGES, seed=8)
    names = sorted(p.name for p in sample.iterdir())
    assert names == sorted(p.name for p in (tmp_path / "again").iterdir())
    for name in names:
        assert (sample / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
    assert (sample / "reviews.csv").read_bytes() != (tmp_path / "other" / "reviews.csv").read_bytes()


def test_every_kind_by_file_name_and_headers_map(sample):
    files = sorted(sample.iterdir())
    assert {kind_of(p) for p in files} == set(KINDS)
    for path in files:
        df = read(path)
        spec = KINDS[kind_of(path)]
        assert set(spec.required) <= set(df.columns), path.name
        assert set(df.columns) - set(spec.names) <= {"宝贝标题"}, path.name  # one unmapped extra column
        assert df.height > 0, path.name


def test_export_dialects(sample):
    gb = (sample / "orders_S003.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        gb.decode("utf-8")
    assert gb.decode("gb18030").startswith("订单编号,店铺ID,买家会员名")
    assert (sample / "messages_S002_night1.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in (sample / "messages_S003.csv").read_bytes()
    assert b"\r\n" not in (sample / "messages_S002_night2.csv").read_bytes()
    assert gzip.decompress((sample / "messages_S001.csv.gz").read_bytes()).startswith(b"message_id,session_id")
    assert read(sample / "ratings_S002.xlsx")["level"].is_in(list(LEVEL_LABELS)).all()
    assert read(sample / "messages_S002_night1.csv")["sender_role"].is_in(["顾客", "客服", "机器人", "系统"]).all()
    assert "+08:00" in text_of(sample / "messages_S003.csv") and "Z," in text_of(sample / "ratings_S003.csv")
    assert "/" in read(sample / "orders_S002_night1.csv")["created_at"][0]
    assert read(sample / "messages_S002_night2.csv")["content"].str.contains("\n").any()  # quoted newlines


def test_overlapping_nights(sample):
    m1, m2 = read(sample / "messages_S002_night1.csv"), read(sample / "messages_S002_night2.csv")
    both = m1.join(m2, on="message_id", suffix="_2")
    assert both.height > 100
    assert all((both[c] == both[f"{c}_2"]).all() for c in m1.columns if c != "message_id")
    assert m1["sent_at"].max() < "2026-11-16" and m2["sent_at"].min() >= "2026-11-14"
    o1, o2 = read(sample / "orders_S002_night1.csv"), read(sample / "orders_S002_night2.csv")
    paid_later = o1.join(o2, on="order_id", suffix="_2").filter(
        pl.col("paid_at").is_null() & pl.col("paid_at_2").is_not_null())
    assert paid_later.height >= 1
    assert (paid_later["status"] == "等待买家付款").all() and (paid_later["status_2"] == "交易成功").all()


def test_broken_rows_few_and_where_expected(sample):
    expected = {"messages_S001.csv.gz": 2, "messages_S003.csv": 1, "orders_S001.csv": 1, "ratings_S001.csv": 1}
    for path in sorted(sample.iterdir()):
        df = read(path)
        bad = broken(kind_of(path), df)
        assert bad.sum() == expected.get(path.name, 0), path.name
        assert bad.sum() < 0.01 * df.height, path.name


def test_session_shapes(sample):
    m = read(sample / "messages_S001.csv.gz").with_columns(t=parse_time("sent_at")).drop_nulls("t")
    first = m.sort("t", "message_id").group_by("session_id").agg(pl.col("sender_role").first())["sender_role"]
    assert 0.85 < (first == "customer").mean() < 0.97  # the rest: payment reminders opened by an agent
    assert set(m["sender_role"]) >= {"customer", "agent", "bot", "system"}
    # customers come back on later days; conversations interleave in the export
    days = m.group_by("customer_id").agg(pl.col("t").dt.date().n_unique())["t"]
    assert (days > 1).sum() > 20
    assert not read(sample / "messages_S002_night1.csv").columns.count("session_id")  # cut by the 30-min rule
    assert "message_id" not in read(sample / "messages_S003.csv").columns


def test_medium_plain_run(tmp_path):
    rows = generate(tmp_path, 200_000, showcase=False)
    assert abs(rows["messages"] - 200_000) < 20_000
    files = sorted(p.name for p in tmp_path.iterdir())
    assert all(name.endswith(".csv") for name in files)
    with_sid = [n for n in files if n.startswith("messages_a_")]
    without = [n for n in files if n.startswith("messages_b_")]
    assert with_sid and without
    assert "session_id" not in read(tmp_path / without[0]).columns
    m = pl.concat([read(tmp_path / n) for n in with_sid + without], how="diagonal")
    assert m.height == rows["messages"] and m["message_id"].n_unique() == m.height
    assert m["shop_id"].n_unique() == 15
    for name in files:
        assert not broken(kind_of(tmp_path / name), read(tmp_path / name)).any(), name


def test_split_last_day(tmp_path):
    generate(tmp_path, 20_000, days=5, showcase=False, split_last_day=True)
    names = sorted(p.name for p in tmp_path.iterdir())
    nextday = [n for n in names if "_nextday" in n]
    assert {kind_of(tmp_path / n) for n in nextday} == set(KINDS) - {"targets"}
    last = read(tmp_path / "messages_a_nextday.csv")["sent_at"]
    assert last.str.starts_with("2026-11-05").all() and last.len() > 0
    main = pl.concat([read(tmp_path / n) for n in names if n.startswith("messages_") and n not in nextday],
                     how="diagonal")["sent_at"]
    assert main.max() < "2026-11-05"
    # an order created before the cut and paid on the last day shows unpaid in the main file, paid in the next
    o1, o2 = read(tmp_path / "orders.csv"), read(tmp_path / "orders_nextday.csv")
    assert o1.join(o2, on="order_id").filter(pl.col("paid_at").is_null() & pl.col("paid_at_right").is_not_null()).height
