"""pipeline.sample: the synthetic exports behind `cskpi sample` and sample_data/."""
from __future__ import annotations

import gzip
import io
from pathlib import Path

import polars as pl
import pytest

from pipeline import jobs
from pipeline.config import Config
from pipeline.kinds import CATEGORY_LABELS, FLAG_LABELS, KINDS, LEVEL_LABELS, REASON_LABELS, ROLE_LABELS
from pipeline.land.lake import Lake
from pipeline.sample import generate

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_MESSAGES = 20_000  # the default of `cskpi sample`, which wrote sample_data/
NEW_KINDS = ("refunds", "disputes", "feedback", "bot_answers")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate(out, SAMPLE_MESSAGES)
    return out


@pytest.fixture(scope="module")
def medium(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("medium")
    return out, generate(out, 200_000, showcase=False)


def kind_of(path: Path) -> str:
    """The kind a file is named after: its name's first word, or a kind with an underscore (`bot_answers_x.csv`)."""
    stem = path.name.split(".")[0]
    return next((k for k in KINDS if "_" in k and (stem == k or stem.startswith(k + "_"))), stem.split("_")[0])


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
        if col.type == "flag":
            bad = bad | (c.is_not_null() & ~c.str.strip_chars().str.to_lowercase().is_in(list(FLAG_LABELS)))
        if col.not_before and col.not_before in df.columns:
            bad = bad | (parse_time(col.name) < parse_time(col.not_before)).fill_null(False)
    return df.select(bad.alias("bad"))["bad"]


def concat(paths: list[Path]) -> pl.DataFrame:
    return pl.concat([read(p).with_columns(file=pl.lit(p.name)) for p in paths], how="diagonal")


def ingest(tmp_path: Path, files: list[Path]) -> list:
    """Land files in a fresh lake the way `cskpi ingest` does, each with the kind it is named after."""
    return jobs.ingest_files(Lake(tmp_path / "lake"), [(kind_of(p), p) for p in files], Config())


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


def test_medium_plain_run(medium):
    tmp_path, rows = medium
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
    # likewise a refund asked for before the cut and completed on the last day
    r1, r2 = read(tmp_path / "refunds.csv"), read(tmp_path / "refunds_nextday.csv")
    done = r1.join(r2, on="refund_id").filter(pl.col("completed_at").is_null()
                                                & pl.col("completed_at_right").is_not_null())
    assert done.height and (done["outcome"] == "open").all() and (done["outcome_right"] != "open").all()
    for n in nextday:
        assert not broken(kind_of(tmp_path / n), read(tmp_path / n)).any(), n


# ---------------------------------------------------------------- Table A.2 kinds (refunds ... bot_answers)

def test_checked_in_sample_data_is_the_default_sample(sample):
    # sample_data/ is `cskpi sample --out sample_data` (20,000 messages, seed 7): regenerate it after a change here
    names = sorted(p.name for p in sample.iterdir())
    assert names == sorted(p.name for p in (ROOT / "sample_data").iterdir())
    for name in names:
        assert (sample / name).read_bytes() == (ROOT / "sample_data" / name).read_bytes(), name


def test_new_kinds_ingest_with_no_rejects(sample, tmp_path):
    files = sorted(p for p in sample.iterdir() if kind_of(p) in NEW_KINDS + ("complaints",))
    assert {kind_of(p) for p in files} == set(NEW_KINDS) | {"complaints"}
    results = ingest(tmp_path, files)
    assert len(results) == len(files)
    for r in results:
        assert r.status == "landed", (r.path, r.message)
        assert r.read > 0 and r.rejected == 0 and r.duplicates == 0, r
        assert r.accepted == r.read and not r.ignored_columns, r
    # the plain dialect too (canonical headers, English labels and codes)
    plain = tmp_path / "plain"
    generate(plain, 20_000, days=5, showcase=False)
    results = ingest(tmp_path / "p", sorted(p for p in plain.iterdir() if kind_of(p) in NEW_KINDS))
    assert all(r.status == "landed" and r.read > 0 and r.rejected == 0 for r in results), results


def test_refunds_open_completed_and_reasons(sample):
    files = sorted(p for p in sample.iterdir() if kind_of(p) == "refunds")
    assert [p.name for p in files] == ["refunds_S001.csv", "refunds_S002_night1.csv", "refunds_S002_night2.csv",
                                       "refunds_S003.csv"]
    r = concat(files).with_columns(req=parse_time("requested_at"), done=parse_time("completed_at"))
    latest = r.unique("refund_id", keep="last", maintain_order=True)  # night 2 replaces night 1
    assert 100 < latest.height < 200
    assert set(r["reason"].unique()) <= set(REASON_LABELS)
    assert {"quality", "质量问题", "七天无理由", "no_reason_7d", "消费者使用问题"} <= set(r["reason"])
    # some still open (no completion time, an open outcome), most completed within 1-72 h, never before the request
    open_ = latest.filter(pl.col("done").is_null())
    assert open_.height >= 3 and open_["outcome"].is_in(["退款中", "WAIT_SELLER_AGREE"]).all()
    hours = (pl.col("done") - pl.col("req")).dt.total_seconds() / 3600
    done = latest.filter(pl.col("done").is_not_null()).with_columns(h=hours)
    assert (done["h"] >= 0).all() and done["h"].is_between(1, 72).mean() > 0.75
    assert {"退款成功", "拒绝退款", "SUCCESS", "SELLER_REFUSE_BUYER"} <= set(done["outcome"])
    # an export taken later shows completed what the earlier one showed open
    n1, n2 = read(files[1]), read(files[2])
    later = n1.join(n2, on="refund_id", suffix="_2").filter(pl.col("completed_at").is_null()
                                                             & pl.col("completed_at_2").is_not_null())
    assert later.height >= 1 and (later["outcome"] == "退款中").all() and (later["outcome_2"] != "退款中").all()
    # a refund is an after-sales event of a paid order of its shop and customer, asked for after payment
    orders = concat(sorted(p for p in sample.iterdir() if kind_of(p) == "orders")).unique("order_id", keep="last")
    joined = latest.join(orders.select("order_id", "shop_id", "customer_id", paid=parse_time("paid_at")),
                         on="order_id", how="left", suffix="_o")
    assert joined["paid"].is_not_null().all()
    assert (joined["shop_id"] == joined["shop_id_o"]).all() and (joined["customer_id"] == joined["customer_id_o"]).all()
    assert (joined["req"] > joined["paid"]).all()


def test_disputes_follow_refunds_and_complaints(sample):
    d = read(sample / "disputes.xlsx").with_columns(opened=parse_time("opened_at"), closed=parse_time("closed_at"))
    assert 8 <= d.height <= 40 and d["dispute_id"].n_unique() == d.height
    assert set(d["platform_involved"]) == {"是", "否"}
    assert d["closed"].is_not_null().mean() > 0.5 and (d["closed"] > d["opened"]).all()
    assert d["closed"].is_null().any()  # some still open at the export
    # each comes from a refund or a complaint of the same order, opened after it was asked for
    refunds = concat(sorted(p for p in sample.iterdir() if kind_of(p) == "refunds")).select(
        "order_id", start=parse_time("requested_at"))
    complaints = read(sample / "complaints.csv").select("order_id", start=parse_time("created_at"))
    src = d.join(pl.concat([refunds, complaints]).group_by("order_id").agg(pl.col("start").min()), on="order_id",
                 how="left")
    assert src["start"].is_not_null().all() and (src["opened"] > src["start"]).all()


def test_service_complaints_24h_cases(sample):
    c = read(sample / "complaints.csv")
    assert "agreed_at" in c.columns and set(c["category"]) == {"商品质量", "服务质量"}
    s = c.filter(pl.col("category") == "服务质量").with_columns(
        created=parse_time("created_at"), resolved=parse_time("resolved_at"), agreed=parse_time("agreed_at"),
        responded=parse_time("responded_at"))
    h = (pl.col("resolved") - pl.col("created")).dt.total_seconds()
    deadline_h = ((pl.col("agreed") - pl.col("created")).dt.total_seconds() / 3600).fill_null(24)
    s = s.with_columns(h=h / 3600, in_time=(h / 3600 <= deadline_h).fill_null(False))
    assert s.filter(pl.col("h") < 24).height >= 3  # most within 24 h
    assert s.filter(pl.col("h") == 24).height >= 1  # exactly 24 h is in time
    assert s.filter(pl.col("agreed").is_null() & (pl.col("h") > 24)).height >= 1  # late
    assert s["resolved"].is_null().sum() >= 1  # never answered
    agreed = s.filter(pl.col("agreed").is_not_null())
    assert agreed.height >= 1 and ((agreed["agreed"] - agreed["created"]).dt.total_hours() == 48).all()
    assert agreed.filter((pl.col("h") > 24) & pl.col("in_time")).height >= 1  # in time thanks to the agreement
    assert (s["responded"] <= s["resolved"]).fill_null(True).all()
    assert s["in_time"].mean() > 0.5
    by_shop = s.group_by("shop_id").agg(pl.col("in_time").all())
    assert by_shop["in_time"].any() and not by_shop["in_time"].all()  # the 100 % rule passes somewhere, fails elsewhere
    # product complaints have no agreed time
    assert c.filter(pl.col("category") == "商品质量")["agreed_at"].is_null().all()


def test_feedback_mostly_handled_some_shops_not(sample):
    f = read(sample / "feedback.csv").with_columns(rec=parse_time("received_at"), done=parse_time("handled_at"))
    assert (sample / "feedback.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert set(f["category"]) == {"物流", "包装", "商品", "服务", "其他"}
    assert set(f["handled"]) == {"已处理", "未处理"}
    assert ((f["handled"] == "已处理") == f["done"].is_not_null()).all()
    assert (f["done"] >= f["rec"]).fill_null(True).all()
    assert (f["done"].dt.date() == f["rec"].dt.date()).fill_null(True).all()  # handled the same day
    per_day = f.group_by("shop_id").agg(n=pl.len(), days=pl.col("rec").dt.date().n_unique(),
                                       rate=(pl.col("handled") == "已处理").mean())
    assert (per_day["n"] / 27 > 1).all() and (per_day["days"] > 15).all()  # a few per shop per day
    assert (per_day["rate"] == 1).any() and (per_day["rate"] < 1).any() and (per_day["rate"] > 0.9).all()


def test_bot_answers_audit_sample(sample):
    b = read(sample / "bot_answers.csv").with_columns(t=parse_time("answered_at"))
    assert set(b["intent_correct"]) | set(b["answer_correct"]) == {"正确", "错误"}
    per_shop = b.group_by("shop_id").agg(n=pl.len(), days=pl.col("t").dt.date().n_unique())
    assert set(per_shop["shop_id"]) == {"S001", "S003"}  # S002 has no bot
    assert ((per_shop["n"] / per_shop["days"]).is_between(2, 10)).all() and (per_shop["days"] > 20).all()
    intent, answer = (b["intent_correct"] == "正确").mean(), (b["answer_correct"] == "正确").mean()
    assert 0.88 < intent < 0.98 and 0.85 < answer < 0.95 and answer <= intent
    # an audited reply is a bot message of the export, in its session (S001 exports session ids), after a question
    m = read(sample / "messages_S001.csv.gz").filter(pl.col("sender_role") == "bot")
    s1 = b.filter(pl.col("shop_id") == "S001")
    assert s1["session_id"].is_not_null().all() and b.filter(pl.col("shop_id") == "S003")["session_id"].is_null().all()
    assert s1.join(m, on=["session_id", "customer_id"], how="anti").height == 0
    assert s1.join(m.select("session_id", answered_at="sent_at"), on=["session_id", "answered_at"]).height == s1.height
    assert b["question"].is_not_null().all() and b["answer_id"].n_unique() == b.height


def test_medium_plain_run_table_a2_rates(medium):
    out, rows = medium
    paid = read(out / "orders.csv").filter(pl.col("paid_at").is_not_null()).height
    assert 0.03 < rows["refunds"] / paid < 0.07
    assert 0.03 < rows["disputes"] / rows["refunds"] < 0.25
    b = read(out / "bot_answers.csv")
    assert set(b["intent_correct"]) == {"true", "false"}
    intent, answer = (b["intent_correct"] == "true").mean(), (b["answer_correct"] == "true").mean()
    assert 0.91 < intent < 0.95 and 0.87 < answer < 0.92
    f = read(out / "feedback.csv").group_by("shop_id").agg(rate=(pl.col("handled") == "true").mean())
    assert f.height == 15 and 0 < (f["rate"] < 1).sum() < 15
    d = read(out / "disputes.csv")
    assert set(d["platform_involved"]) == {"yes", "no"}
    c = read(out / "complaints.csv")
    assert c["agreed_at"].is_not_null().any() or c.height < 20
