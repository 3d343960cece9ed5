"""A run killed at any point leaves the lake as it was before that run or as it is after it (SPEC §1.3).

The slow tests kill a real `cskpi run` (the installed console script, in its own process) with SIGKILL at several
moments and check the committed state after each kill; then a rerun must finish and give the same KPI export as a
clean run. The fast tests plant the debris a kill leaves (stale lock file, tmp/, orphan parts, half-written files)
and simulate kills at chosen points in-process.
"""
from __future__ import annotations

import fcntl
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline import jobs
from pipeline.config import Config
from pipeline.land.lake import Lake, LakeError
from tests.conftest import write_csv

CSKPI = Path(sys.executable).parent / "cskpi"
if not CSKPI.exists():
    CSKPI = Path(shutil.which("cskpi") or "cskpi")

BIG_FILES, BIG_ROWS = 4, 12_500  # 50k messages: a run takes a few seconds


def big_inbox(folder: Path) -> list[str]:
    """BIG_FILES message exports of BIG_ROWS rows each: customers asking, agents answering, 7 s apart."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for f in range(BIG_FILES):
        k = pl.int_range(0, BIG_ROWS, eager=True).alias("k")
        g = k + f * BIG_ROWS
        df = pl.select(
            message_id=pl.format("f{}-{}", pl.lit(f), k),
            shop_id=pl.when(g % 3 == 0).then(pl.lit("S2")).otherwise(pl.lit("S1")),
            customer_id=pl.format("C{}", g // 6),
            agent_id=pl.when(k % 2 == 1).then(pl.format("A{}", g % 4)).otherwise(None),
            sender_role=pl.when(k % 2 == 0).then(pl.lit("customer")).otherwise(pl.lit("agent")),
            sent_at=(pl.datetime(2026, 11, 1) + pl.duration(seconds=g * 7)).dt.strftime("%Y-%m-%d %H:%M:%S"),
            content=pl.format("您好，第{}条", g),
        )
        name = f"messages_{f}.csv"
        df.write_csv(folder / name)
        names.append(name)
    return names


def base_inbox(folder: Path) -> Path:
    write_csv(folder / "messages_base.csv",
              ["message_id", "shop_id", "customer_id", "agent_id", "sender_role", "sent_at", "content"],
              [["b1", "S1", "B1", None, "customer", "2026-10-31 10:00:00", "在吗"],
               ["b2", "S1", "B1", "A1", "agent", "2026-10-31 10:00:30", "在的"]])
    return folder


def cskpi(*args, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(CSKPI), *map(str, args)], capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def export(lake: Path) -> dict[str, str]:
    return {grain: cskpi("export", "--lake", lake, "--period", grain, "--format", "csv").stdout
            for grain in ("day", "week", "month")}


def part_rows(lake: Path, parts: list[str]) -> int:
    if not parts:
        return 0
    files = ", ".join(f"'{lake / p}'" for p in parts)
    return duckdb.sql(f"SELECT count(*) FROM read_parquet([{files}])").fetchall()[0][0]


def state_of(lake: Path, before: set[str], run: set[str], before_count: int, after_count: int) -> str:
    """'before' or 'after' (of a run landing the files `run` on a lake holding `before`); fails if in between."""
    root = Lake(lake)
    manifest = root.manifest()  # a half-written manifest would raise here
    names = [Path(f.name).name for f in manifest.files]
    assert len(names) == len(set(names)), names
    assert set(names) - run == before, names
    new = set(names) & run
    assert new in (set(), run), f"in between: {sorted(new)} of {sorted(run)} committed"
    messages = [f for f in manifest.files if f.kind == "messages"]
    count = part_rows(lake, [f.data for f in messages])
    assert count == sum(f.accepted for f in messages)
    assert count == (after_count if new else before_count)
    assert part_rows(lake, manifest.reject_parts()) == sum(f.rejected for f in manifest.files)
    if manifest.derived:
        assert all((lake / f).exists() for f in manifest.derived_files("kpi"))
    if (lake / "warehouse.duckdb").exists():  # whole, and showing a committed state
        con = duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True)
        try:
            assert con.sql("SELECT count(*) FROM messages").fetchall()[0][0] in (before_count, after_count)
            con.sql("SELECT count(*) FROM kpi").fetchall()
        finally:
            con.close()
    return "after" if new else "before"


def kill_at(args: list, moment, lake: Path, timeout: float = 120) -> bool:
    """Start `cskpi *args`, SIGKILL it at `moment` (seconds after start, or "commit": as soon as the manifest
    changes). Returns whether it was still running when killed."""
    manifest = lake / "manifest.json"
    old = manifest.read_bytes() if manifest.exists() else None
    proc = subprocess.Popen([str(CSKPI), *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.monotonic()
    try:
        while proc.poll() is None and time.monotonic() - start < timeout:
            if moment == "lake":
                if lake.exists():
                    break
            elif moment == "commit":
                try:
                    if manifest.read_bytes() != old:
                        break
                except FileNotFoundError:
                    pass
            elif time.monotonic() - start >= moment:
                break
            time.sleep(0.005)
        running = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    return running


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_the_lake_before_or_after(tmp_path):
    big = tmp_path / "big"
    run_names = set(big_inbox(big))
    base = base_inbox(tmp_path / "base")

    # a clean run into a fresh lake: the reference export, and how long a run takes
    clean = tmp_path / "clean"
    cskpi("run", base, "--lake", clean)
    started = time.monotonic()
    cskpi("run", big, "--lake", clean)
    duration = time.monotonic() - started
    reference = export(clean)
    assert "reply_rate" in reference["day"]

    lake = tmp_path / "lake"
    cskpi("run", base, "--lake", lake)
    pristine = tmp_path / "pristine"
    shutil.copytree(lake, pristine)
    before = {"messages_base.csv"}
    before_count, after_count = 2, 2 + BIG_FILES * BIG_ROWS

    outcomes = []
    moments = [0.3, 1.0, 2.0] + [round(f * duration, 2) for f in (0.3, 0.45, 0.6, 0.75, 0.9)] + ["commit"]
    for moment in moments:
        running = kill_at(["run", big, "--lake", lake], moment, lake)
        outcome = state_of(lake, before, run_names, before_count, after_count)
        outcomes.append((moment, running, outcome))
        if outcome == "after":  # start the next kill from the state before the run again
            shutil.rmtree(lake)
            shutil.copytree(pristine, lake)
    assert any(running and outcome == "before" for _, running, outcome in outcomes), outcomes

    # the debris of the kills does not stop the next run, which finishes the job
    cskpi("run", big, "--lake", lake)
    assert state_of(lake, before, run_names, before_count, after_count) == "after"
    assert export(lake) == reference
    manifest = Lake(lake).manifest()
    named = {p for f in manifest.files for p in (f.data, f.rejects) if p}
    assert {p.relative_to(lake).as_posix() for p in (lake / "data").rglob("*.parquet")} == named
    assert manifest.derived["inputs"] == [f.seq for f in manifest.files]


@pytest.mark.slow
def test_sigkill_during_the_first_run_of_a_new_lake(tmp_path):
    big = tmp_path / "big"
    run_names = set(big_inbox(big))
    lake = tmp_path / "lake"
    after = BIG_FILES * BIG_ROWS
    for moment in ("lake", 0.5, 1.5):
        kill_at(["run", big, "--lake", lake], moment, lake)
        if (lake / "manifest.json").exists():
            state_of(lake, set(), run_names, 0, after)
        if moment == "lake":  # killed as soon as the folder appeared: nothing can be committed yet
            assert not Lake(lake).manifest().files
    result = cskpi("run", big, "--lake", lake)
    assert result.stdout.count("accepted 12500") + result.stdout.count("skipped") == BIG_FILES
    assert state_of(lake, set(), run_names, 0, after) == "after"
    con = duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True)
    try:
        assert con.sql("SELECT count(*) FROM messages").fetchall() == [(after,)]
        assert con.sql("SELECT sum(accepted) FROM ingested_files").fetchall() == [(after,)]
    finally:
        con.close()


# --- debris of a killed run, in-process --------------------------------------------------------------------------

def small_inbox(folder: Path, prefix: str, day: int) -> Path:
    write_csv(folder / f"messages_{prefix}.csv",
              ["message_id", "shop_id", "customer_id", "agent_id", "sender_role", "sent_at", "content"],
              [[f"{prefix}1", "S1", "C1", None, "customer", f"2026-11-{day} 10:00:00", "在吗"],
               [f"{prefix}2", "S1", "C1", "A1", "agent", f"2026-11-{day} 10:00:30", "在的"],
               [f"{prefix}3", "S1", "C1", "A1", "robot", f"2026-11-{day} 10:00:40", "?"]])
    return folder


def warehouse_count(lake: Lake, view: str) -> int:
    con = duckdb.connect(str(lake.warehouse), read_only=True)
    try:
        return con.sql(f"SELECT count(*) FROM {view}").fetchall()[0][0]
    finally:
        con.close()


def test_stale_lock_tmp_and_orphan_parts_do_not_break_the_next_run(tmp_path):
    config = Config(max_reject_ratio=0.5)
    lake = Lake(tmp_path / "lake")
    jobs.run(small_inbox(tmp_path / "in1", "a", 27), lake, config)
    root = lake.root
    assert warehouse_count(lake, "messages") == 2
    # what a run killed half-way leaves behind
    (root / ".lock").write_text("12345\n")
    (root / "tmp" / "000002").mkdir(parents=True, exist_ok=True)
    (root / "tmp" / "000002" / "staged.parquet").write_bytes(b"PAR1 half written")
    shutil.copy(root / "data" / "messages" / "000001.parquet", root / "data" / "messages" / "000002.parquet")
    shutil.copy(root / "data" / "messages" / "000001.parquet", root / "data" / "messages" / "000007.parquet")
    shutil.copy(root / "data" / "rejects" / "000001.parquet", root / "data" / "rejects" / "000002.parquet")
    (root / "derived" / "g000099").mkdir(parents=True)
    (root / "derived" / "g000099" / "kpi.parquet").write_bytes(b"garbage")
    (root / "manifest.json.tmp").write_text('{"version": 1, "next_seq": 99, "fil')
    (root / "warehouse.duckdb.tmp").write_bytes(b"not a database")
    orphans = [root / "data" / "messages" / "000007.parquet", root / "derived" / "g000099",
               root / "manifest.json.tmp", root / "warehouse.duckdb.tmp"]
    # readers do not see the orphans
    assert warehouse_count(lake, "messages") == 2
    # the next run clears them and lands its file as number 2
    result = jobs.run(small_inbox(tmp_path / "in2", "b", 28), lake, config)
    assert [(f.status, f.accepted, f.rejected) for f in result.files] == [("landed", 2, 1)]
    assert result.computed
    assert not any(p.exists() for p in orphans)
    assert warehouse_count(lake, "messages") == 4
    assert warehouse_count(lake, "rejects") == 2
    manifest = lake.manifest()
    assert [f.seq for f in manifest.files] == [1, 2]
    assert manifest.derived["inputs"] == [1, 2]
    assert {p.name for p in (root / "data" / "messages").iterdir()} == {"000001.parquet", "000002.parquet"}


def test_a_lake_being_written_refuses_a_second_writer(tmp_path):
    lake = Lake(tmp_path / "lake")
    jobs.run(small_inbox(tmp_path / "in1", "a", 27), lake, Config(max_reject_ratio=0.5))
    before = (lake.root / "manifest.json").read_bytes()
    with open(lake.root / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(LakeError, match="another cskpi command is writing"):
            jobs.run(small_inbox(tmp_path / "in2", "b", 28), lake, Config(max_reject_ratio=0.5))
    assert (lake.root / "manifest.json").read_bytes() == before


def test_a_kill_before_the_manifest_commit_leaves_the_lake_as_before(tmp_path, monkeypatch):
    config = Config(max_reject_ratio=0.5)
    lake = Lake(tmp_path / "lake")
    jobs.run(small_inbox(tmp_path / "in1", "a", 27), lake, config)
    before = (lake.root / "manifest.json").read_bytes()

    def killed(manifest):
        raise KeyboardInterrupt  # stands for SIGKILL just before the manifest is replaced

    monkeypatch.setattr(lake, "commit", killed)
    with pytest.raises(KeyboardInterrupt):
        jobs.run(small_inbox(tmp_path / "in2", "b", 28), lake, config)
    monkeypatch.undo()
    assert (lake.root / "manifest.json").read_bytes() == before
    assert warehouse_count(lake, "messages") == 2
    # the parts written before the kill are invisible and the rerun lands the file properly
    result = jobs.run(tmp_path / "in2", lake, config)
    assert [f.status for f in result.files] == ["landed"]
    assert warehouse_count(lake, "messages") == 4


def test_a_kill_between_landing_and_computing_is_not_half_committed(tmp_path, monkeypatch):
    config = Config(max_reject_ratio=0.5)
    lake = Lake(tmp_path / "lake")
    jobs.run(small_inbox(tmp_path / "in1", "a", 27), lake, config)
    before = json.loads((lake.root / "manifest.json").read_text())

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # stands for SIGKILL after landing, before the derived tables are done

    monkeypatch.setattr(jobs, "compute_into", killed)
    with pytest.raises(KeyboardInterrupt):
        jobs.run(small_inbox(tmp_path / "in2", "b", 28), lake, config)
    manifest = lake.manifest()
    as_before = [f.seq for f in manifest.files] == [f["seq"] for f in before["files"]]
    as_after = manifest.derived["inputs"] == [f.seq for f in manifest.files]
    assert as_before or as_after, (f"files {[f.seq for f in manifest.files]} committed, KPIs derived from "
                                   f"{manifest.derived['inputs']}")


def test_warehouse_of_a_run_killed_after_its_commit_is_finished_by_the_next_command(tmp_path, monkeypatch):
    config = Config(max_reject_ratio=0.5)
    lake = Lake(tmp_path / "lake")
    jobs.run(small_inbox(tmp_path / "in1", "a", 27), lake, config)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # SIGKILL after the manifest commit, before the warehouse is rewritten

    monkeypatch.setattr(jobs, "refresh_warehouse", killed)
    with pytest.raises(KeyboardInterrupt):
        jobs.run(small_inbox(tmp_path / "in2", "b", 28), lake, config)
    monkeypatch.undo()
    assert warehouse_count(lake, "messages") in (2, 4)  # the old warehouse, whole
    jobs.export(lake, "day", "all", "csv", tmp_path / "kpi.csv")
    assert warehouse_count(lake, "messages") == 4
    assert warehouse_count(lake, "ingested_files") == 2
