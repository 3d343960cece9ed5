"""`cskpi run` and `cskpi ingest` through the command line (click's CliRunner on pipeline.cli.main): kinds by name and
folder, unknown files, exit codes, the per-file summary, re-runs, and a lake that is moved or copied (SPEC §1.1, §6,
§7)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pipeline.cli import main
from pipeline.kinds import KINDS
from tests.conftest import warehouse, write_csv

MSG_HEADER = ["message_id", "shop_id", "customer_id", "agent_id", "sender_role", "sent_at", "content"]


def cskpi(*args) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def conversation(day: int = 27, customer: str = "C1", prefix: str = "m") -> list[list]:
    """An inquiry answered by agent A1, for one customer on one day of November 2026."""
    return [
        [f"{prefix}1", "S1", customer, None, "customer", f"2026-11-{day} 10:00:00", "这件有货吗"],
        [f"{prefix}2", "S1", customer, "A1", "agent", f"2026-11-{day} 10:00:20", "有的亲"],
        [f"{prefix}3", "S1", customer, None, "customer", f"2026-11-{day} 10:01:00", "好的"],
        [f"{prefix}4", "S1", customer, "A1", "agent", f"2026-11-{day} 10:01:30", "欢迎下单"],
    ]


def messages_file(path: Path, rows: list[list] | None = None) -> Path:
    return write_csv(path, MSG_HEADER, rows if rows is not None else conversation())


def orders_file(path: Path, order_id: str = "O1", paid_at: str = "2026-11-27 11:00:00") -> Path:
    return write_csv(path, list(KINDS["orders"].names),
                     [[order_id, "S1", "C1", "2026-11-27 10:30:00", paid_at, "99", "paid"]])


def committed(lake: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(lake.rglob("*")):
        rel = p.relative_to(lake).as_posix()
        if p.is_file() and (rel == "manifest.json" or rel.startswith(("data/", "derived/"))):
            out[rel] = p.read_bytes()
    return out


# --- cskpi ingest ----------------------------------------------------------------------------------------------------

COUNTS = re.compile(r"read (\d+), accepted (\d+), rejected (\d+), duplicates (\d+)")


def test_ingest_prints_counts_per_file(tmp_path):
    a = messages_file(tmp_path / "a.csv", conversation() + [["m5", "S1", "C1", None, "customer", "bad time", "x"]]
                      + [conversation()[0]])
    b = messages_file(tmp_path / "b.csv", conversation(28, prefix="n"))
    (tmp_path / "cskpi.toml").write_text("max_reject_ratio = 0.5\n", encoding="utf-8")
    result = cskpi("ingest", "messages", a, b, "--lake", tmp_path / "lake", "--config", tmp_path / "cskpi.toml")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if COUNTS.search(line)]
    assert len(lines) == 2
    assert lines[0].startswith(f"{a}: messages: ")
    assert COUNTS.search(lines[0]).groups() == ("6", "4", "1", "1")
    assert lines[1].startswith(f"{b}: messages: ")
    assert COUNTS.search(lines[1]).groups() == ("4", "4", "0", "0")
    assert "rejected line 6, column sent_at: not a timestamp" in result.output
    assert warehouse(tmp_path / "lake", "SELECT file, read, accepted, rejected, duplicates FROM ingested_files "
                                        "ORDER BY seq") == [(str(a), 6, 4, 1, 1), (str(b), 4, 4, 0, 0)]


def test_ingest_of_empty_and_header_only_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    header_only = write_csv(tmp_path / "header.csv", MSG_HEADER, [])
    result = cskpi("ingest", "messages", empty, header_only, "--lake", tmp_path / "lake")
    assert result.exit_code == 0, result.output
    assert [m.groups() for m in COUNTS.finditer(result.output)] == [("0", "0", "0", "0")] * 2
    assert "Error" not in result.output


def test_ingest_refused_file_exits_1_and_says_why(tmp_path):
    path = write_csv(tmp_path / "orders.csv", ["order_id", "shop_id", "created_at"], [["O1", "S1", "2026-11-27"]])
    result = cskpi("ingest", "orders", path, "--lake", tmp_path / "lake")
    assert result.exit_code == 1
    assert str(path) in result.output and "customer_id" in result.output


@pytest.mark.parametrize("command", ["run", "ingest"])
def test_truncated_file_gives_a_clear_error_without_traceback(tmp_path, command):
    inbox = tmp_path / "inbox"
    cut = inbox / "messages_cut.csv"
    cut.parent.mkdir()
    cut.write_text("message_id,shop_id,customer_id,sender_role,sent_at,content\n"
                   "m1,S1,C1,customer,2026-11-27 10:00:00,ok\n"
                   'm2,S1,C1,customer,2026-11-27 10:00:01,"cut in the mid', encoding="utf-8")
    args = ["run", inbox] if command == "run" else ["ingest", "messages", cut]
    result = cskpi(*args, "--lake", tmp_path / "lake")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"Error: {cut}, line 3:" in result.output
    assert "never closed" in result.output


def _cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


def test_truncated_files_of_every_format_are_refused_cleanly(tmp_path):
    import gzip

    import polars as pl

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    frame = pl.DataFrame({"shop_id": ["S1"] * 200, "customer_id": ["C1"] * 200, "sender_role": ["customer"] * 200,
                          "sent_at": [f"2026-11-27 10:{i // 60:02d}:{i % 60:02d}" for i in range(200)]})
    (inbox / "messages_cut.csv.gz").write_bytes(_cut(gzip.compress(frame.write_csv().encode())))
    frame.write_excel(tmp_path / "full.xlsx")
    (inbox / "messages_cut.xlsx").write_bytes(_cut((tmp_path / "full.xlsx").read_bytes()))
    frame.write_parquet(tmp_path / "full.parquet")
    (inbox / "messages_cut.parquet").write_bytes(_cut((tmp_path / "full.parquet").read_bytes()))
    lines = frame.write_ndjson().encode()
    (inbox / "messages_cut.jsonl").write_bytes(lines[: lines.index(b"\n", len(lines) // 2) + 20])  # mid-record
    messages_file(inbox / "messages_ok.csv")
    lake = tmp_path / "lake"
    result = cskpi("run", inbox, "--lake", lake)
    assert result.exit_code == 1
    for name in ("messages_cut.csv.gz", "messages_cut.xlsx", "messages_cut.parquet", "messages_cut.jsonl"):
        assert f"Error: {inbox / name}" in result.output
    assert warehouse(lake, "SELECT file FROM ingested_files") == [(str(inbox / "messages_ok.csv"),)]


# --- cskpi run: kinds, unknown files, exit codes ------------------------------------------------------------------

def test_run_places_files_by_name_and_by_folder(tmp_path):
    inbox = tmp_path / "inbox"
    messages_file(inbox / "messages_S001_a.csv")
    messages_file(inbox / "Messages-S001-b.csv", conversation(28, prefix="n"))
    orders_file(inbox / "orders" / "2026-11-27.csv")
    write_csv(inbox / "nightly" / "ratings" / "export.csv", list(KINDS["ratings"].names),
              [["R1", "S1", "2026-11-27 12:00:00", "很满意", None, "C1", "A1"]])
    write_csv(inbox / "reviews_2026.csv", list(KINDS["reviews"].names),
              [["V1", "S1", "2026-11-29 09:00:00", "1", "O1", "C1"]])
    lake = tmp_path / "lake"
    result = cskpi("run", inbox, "--lake", lake)
    assert result.exit_code == 0, result.output
    assert re.search(r"computed \d+ KPI rows", result.output)
    assert warehouse(lake, "SELECT kind, count(*) FROM ingested_files GROUP BY kind ORDER BY kind") == [
        ("messages", 2), ("orders", 1), ("ratings", 1), ("reviews", 1)]
    assert warehouse(lake, "SELECT count(*) FROM messages") == [(8,)]
    assert warehouse(lake, "SELECT order_id, paid_at IS NOT NULL FROM orders") == [("O1", True)]
    assert warehouse(lake, "SELECT level FROM ratings") == [(5,)]
    kpis = {r[0] for r in warehouse(lake, "SELECT DISTINCT kpi FROM kpi")}
    assert {"frt_seconds", "reply_rate", "inquiry_conversion_rate", "satisfaction_rate", "bad_review_rate"} <= kpis


def unknown_inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    messages_file(inbox / "messages_a.csv")
    orders_file(inbox / "orders_a.csv")
    write_csv(inbox / "invoices_2026.csv", ["invoice_id", "shop_id"], [["F1", "S1"]])
    return inbox


def test_run_with_an_unknown_file_ingests_nothing(tmp_path):
    inbox = unknown_inbox(tmp_path)
    lake = tmp_path / "lake"
    result = cskpi("run", inbox, "--lake", lake)
    assert result.exit_code == 1
    assert "invoices_2026.csv" in result.output
    for kind in KINDS:
        assert kind in result.output
    assert not (lake / "manifest.json").exists()


def test_run_with_an_unknown_file_leaves_an_existing_lake_unchanged(tmp_path):
    lake = tmp_path / "lake"
    first = tmp_path / "first"
    messages_file(first / "messages_0.csv", conversation(26, prefix="z"))
    assert cskpi("run", first, "--lake", lake).exit_code == 0
    before = committed(lake)
    result = cskpi("run", unknown_inbox(tmp_path), "--lake", lake)
    assert result.exit_code == 1
    assert committed(lake) == before
    assert warehouse(lake, "SELECT count(*) FROM ingested_files") == [(1,)]


def test_run_skip_unknown_lands_the_rest(tmp_path):
    lake = tmp_path / "lake"
    result = cskpi("run", unknown_inbox(tmp_path), "--lake", lake, "--skip-unknown")
    assert result.exit_code == 0, result.output
    assert warehouse(lake, "SELECT kind FROM ingested_files ORDER BY kind") == [("messages",), ("orders",)]
    assert "invoices" not in str(warehouse(lake, "SELECT file FROM ingested_files"))


def test_run_skip_unknown_from_the_config_file(tmp_path):
    (tmp_path / "cskpi.toml").write_text("skip_unknown = true\n", encoding="utf-8")
    result = cskpi("run", unknown_inbox(tmp_path), "--lake", tmp_path / "lake", "--config", tmp_path / "cskpi.toml")
    assert result.exit_code == 0, result.output


def test_run_refused_file_exits_1_and_the_others_land(tmp_path):
    inbox = tmp_path / "inbox"
    rows = [[f"m{i}", "S1", "C1", None, "customer", f"2026-11-27 10:00:{i:02d}", "x"] for i in range(50)]
    rows += [[f"m{i}", "S1", "C1", None, "customer", f"2026-11-27 10:01:{i - 50:02d}", "x"] for i in range(50, 100)]
    rows[5][4] = "nobody"
    rows[6][4] = "nobody"
    bad = messages_file(inbox / "messages_bad.csv", rows)
    orders_file(inbox / "orders_ok.csv")
    lake = tmp_path / "lake"
    result = cskpi("run", inbox, "--lake", lake)
    assert result.exit_code == 1
    assert f"Error: {bad}: 2 of 100 rows rejected" in result.output
    assert warehouse(lake, "SELECT kind FROM ingested_files") == [("orders",)]
    assert warehouse(lake, "SELECT count(*) FROM messages") == [(0,)]
    assert warehouse(lake, "SELECT count(*) FROM rejects") == [(0,)]
    # a config that allows 2 % lets the same file land
    (tmp_path / "cskpi.toml").write_text("max_reject_ratio = 0.02\n", encoding="utf-8")
    again = cskpi("run", inbox, "--lake", lake, "--config", tmp_path / "cskpi.toml")
    assert again.exit_code == 0, again.output
    assert COUNTS.search(again.output).groups() == ("100", "98", "2", "0")
    assert warehouse(lake, 'SELECT line, "column" FROM rejects ORDER BY line') == [
        (7, "sender_role"), (8, "sender_role")]


@pytest.mark.parametrize("args", [
    ["run", "{inbox}", "--lake", "{lake}", "--bogus"],
    ["run", "{inbox}"],                                           # --lake missing
    ["run", "{tmp}/no-such-inbox", "--lake", "{lake}"],
    ["ingest", "invoices", "{inbox}/messages_a.csv", "--lake", "{lake}"],
    ["ingest", "messages", "--lake", "{lake}"],                   # no file
    ["run", "{inbox}", "--lake", "{lake}", "--mapping", "{tmp}/missing.toml"],
    ["export", "--lake", "{lake}", "--period", "decade"],
    ["frobnicate"],
], ids=["bad-option", "no-lake", "no-inbox", "bad-kind", "no-file", "no-mapping-file", "bad-grain", "bad-command"])
def test_usage_errors_exit_2(tmp_path, args):
    inbox = tmp_path / "inbox"
    messages_file(inbox / "messages_a.csv")
    lake = tmp_path / "lake"
    result = cskpi(*[a.format(inbox=inbox, lake=lake, tmp=tmp_path) for a in args])
    assert result.exit_code == 2, result.output
    assert "Usage" in result.output
    assert not (lake / "manifest.json").exists()


def test_run_names_ignored_columns_once(tmp_path):
    inbox = tmp_path / "inbox"
    header = MSG_HEADER + ["备注"]
    write_csv(inbox / "messages_a.csv", header, [r + ["n"] for r in conversation()])
    write_csv(inbox / "messages_b.csv", header, [r + ["n"] for r in conversation(28, prefix="n")])
    result = cskpi("run", inbox, "--lake", tmp_path / "lake")
    assert result.exit_code == 0, result.output
    assert result.output.count("ignored columns: 备注") == 1


def test_run_with_a_mapping_file(tmp_path):
    (tmp_path / "map.toml").write_text('[messages]\ncustomer_id = "Buyer"\nsent_at = "Time (CST)"\n',
                                       encoding="utf-8")
    inbox = tmp_path / "inbox"
    write_csv(inbox / "messages_x.csv", ["shop_id", "Buyer", "sender_role", "Time (CST)"],
              [["S1", "B1", "customer", "2026-11-27 10:00:00"]])
    lake = tmp_path / "lake"
    result = cskpi("run", inbox, "--lake", lake, "--mapping", tmp_path / "map.toml")
    assert result.exit_code == 0, result.output
    assert warehouse(lake, "SELECT customer_id, CAST(sent_at AS VARCHAR) FROM messages") == [
        ("B1", "2026-11-27 10:00:00")]


def test_paths_with_spaces_and_chinese_names(tmp_path):
    inbox = tmp_path / "收件箱 11月"
    path = messages_file(inbox / "messages_小店 A.csv", conversation() + [["m9", "S1", "C1", None, "?", "2026-11-27 "
                                                                           "10:02:00", "x"]])
    (tmp_path / "cskpi.toml").write_text("max_reject_ratio = 0.5\n", encoding="utf-8")
    lake = tmp_path / "客服 数据" / "lake"
    result = cskpi("run", inbox, "--lake", lake, "--config", tmp_path / "cskpi.toml")
    assert result.exit_code == 0, result.output
    assert warehouse(lake, "SELECT count(*) FROM messages") == [(4,)]
    assert warehouse(lake, "SELECT file, line FROM rejects") == [(str(path), 6)]


def test_lake_path_with_an_apostrophe(tmp_path):
    inbox = tmp_path / "inbox"
    messages_file(inbox / "messages_a.csv")
    lake = tmp_path / "shop's lake"
    result = cskpi("run", inbox, "--lake", lake)
    assert result.exit_code == 0, result.output
    assert warehouse(lake, "SELECT count(*) FROM messages") == [(4,)]


# --- re-run ------------------------------------------------------------------------------------------------------------

def full_inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    messages_file(inbox / "messages_1.csv")
    messages_file(inbox / "messages_2.csv", conversation(28, "C2", prefix="n"))
    orders_file(inbox / "orders" / "o.csv")
    write_csv(inbox / "targets.csv", list(KINDS["targets"].names), [["S1", "2026-11", "1000"]])
    return inbox


def export_all(lake: Path, tmp_path: Path, tag: str) -> dict[str, bytes]:
    out = {}
    for grain in ("day", "month"):
        for fmt in ("csv", "json"):
            target = tmp_path / f"{tag}-{grain}.{fmt}"
            result = cskpi("export", "--lake", lake, "--period", grain, "--format", fmt, "-o", target)
            assert result.exit_code == 0, result.output
            out[f"{grain}.{fmt}"] = target.read_bytes()
    return out


def test_running_the_same_inbox_twice_changes_nothing(tmp_path):
    inbox = full_inbox(tmp_path)
    lake = tmp_path / "lake"
    first = cskpi("run", inbox, "--lake", lake)
    assert first.exit_code == 0, first.output
    state, exported = committed(lake), export_all(lake, tmp_path, "first")
    assert b"inquiry_conversion_rate" in exported["day.csv"]
    second = cskpi("run", inbox, "--lake", lake)
    assert second.exit_code == 0, second.output
    assert "nothing new" in second.output
    assert second.output.count("skipped, already ingested") == 4
    assert COUNTS.search(second.output) is None
    assert committed(lake) == state
    assert export_all(lake, tmp_path, "second") == exported
    # the KPI export to stdout is identical too
    out1 = cskpi("export", "--lake", lake, "--period", "day", "--format", "json").stdout_bytes
    cskpi("run", inbox, "--lake", lake)
    assert cskpi("export", "--lake", lake, "--period", "day", "--format", "json").stdout_bytes == out1


def test_a_new_file_after_a_run_is_ingested_and_computed(tmp_path):
    inbox = full_inbox(tmp_path)
    lake = tmp_path / "lake"
    assert cskpi("run", inbox, "--lake", lake).exit_code == 0
    orders_file(inbox / "orders_late.csv", "O2", "2026-11-28 10:00:00")
    result = cskpi("run", inbox, "--lake", lake)
    assert result.exit_code == 0
    assert result.output.count("skipped") == 4
    assert len(COUNTS.findall(result.output)) == 1
    assert "computed" in result.output
    assert warehouse(lake, "SELECT count(*) FROM orders") == [(2,)]


# --- a moved or copied lake ------------------------------------------------------------------------------------------

def view_paths(lake: Path) -> list[str]:
    return [r[0] for r in warehouse(lake, "SELECT sql FROM duckdb_views() WHERE NOT internal")]


REPAIRS = {
    "run": ["run", "{empty}", "--lake", "{lake}"],
    "compute": ["compute", "--lake", "{lake}"],
    "export": ["export", "--lake", "{lake}", "--period", "day"],
    "report": ["report", "--lake", "{lake}"],
    "ingest": ["ingest", "messages", "{zero}", "--lake", "{lake}"],
}


@pytest.mark.parametrize("how,command", [("move", c) for c in REPAIRS] + [("copy", "run"), ("copy", "export")])
def test_a_moved_or_copied_lake_keeps_working(tmp_path, how, command):
    inbox = full_inbox(tmp_path)
    old = tmp_path / "old" / "lake"
    assert cskpi("run", inbox, "--lake", old).exit_code == 0
    counts = warehouse(old, "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM kpi), "
                            "(SELECT count(*) FROM ingested_files)")
    new = tmp_path / "elsewhere" / "lake2"
    new.parent.mkdir()
    if how == "move":
        shutil.move(old, new)
    else:
        shutil.copytree(old, new)
        shutil.rmtree(old)  # a copy must not read the original's files
    empty = tmp_path / "empty"
    empty.mkdir()
    zero = tmp_path / "messages_empty.csv"
    zero.write_bytes(b"")
    result = cskpi(*[a.format(empty=empty, zero=zero, lake=new) for a in REPAIRS[command]])
    assert result.exit_code == 0, result.output
    assert warehouse(new, "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM kpi), "
                          "(SELECT count(*) FROM ingested_files)") == [
        (*counts[0][:2], counts[0][2] + (command == "ingest"))]
    for sql in view_paths(new):
        assert str(old) not in sql
    assert all(str(new.resolve()) in sql for sql in view_paths(new) if "read_parquet(" in sql)
    for view in ("sessions", "turns", "orders", "targets", "rejects"):
        warehouse(new, f"SELECT count(*) FROM {view}")
