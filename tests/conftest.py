"""Shared helpers: build a lake from rows written by a test, compute it, and query the warehouse."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from pipeline import jobs
from pipeline.config import Config
from pipeline.kinds import KINDS
from pipeline.land.lake import Lake

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


def write_csv(path: Path, header: list[str], rows: list[tuple | list], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


@dataclass
class Built:
    lake: Lake
    root: Path

    def query(self, sql: str, params: list | dict | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.lake.warehouse), read_only=True)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def kpi(self, kpi: str, grain: str = "day", agent: str | None = None, shop: str = "S1",
            clock: str = "wall") -> dict[str, tuple]:
        """period → (value, numerator, denominator, band, provisional) of one KPI for a shop or agent."""
        rows = self.query(
            "SELECT period, value, numerator, denominator, band, provisional FROM kpi "
            "WHERE kpi = ? AND grain = ? AND shop_id = ? AND agent_id IS NOT DISTINCT FROM ? AND clock = ?",
            [kpi, grain, shop, agent, clock],
        )
        return {r[0]: tuple(r[1:]) for r in rows}


MESSAGE_HEADER = ["message_id", "session_id", "shop_id", "customer_id", "agent_id", "sender_role", "sent_at",
                  "content"]


def warehouse(lake, sql: str, params: list | None = None) -> list[tuple]:
    """The rows of `sql` over a lake's warehouse.duckdb, opened read-only (`lake`: a Lake or the lake's folder)."""
    path = lake.warehouse if hasattr(lake, "warehouse") else Path(lake) / "warehouse.duckdb"
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def msg(mid, customer, role, at, agent=None, session=None, shop="S1", content="x"):
    """One messages row in canonical column order."""
    return (mid, session, shop, customer, agent, role, at, content)


def build(tmp_path: Path, config: Config | None = None, **kinds: list[tuple]) -> Built:
    """Write each kind's rows (canonical columns in KINDS order, or messages via msg()) and run ingest + compute."""
    inbox = tmp_path / "inbox"
    files = []
    for kind, rows in kinds.items():
        header = MESSAGE_HEADER if kind == "messages" else list(KINDS[kind].names)
        files.append((kind, write_csv(inbox / f"{kind}.csv", header, rows)))
    lake = Lake(tmp_path / "lake")
    config = config or Config()
    results = jobs.ingest_files(lake, files, config)
    refused = [r.message for r in results if r.status == "refused"]
    assert not refused, refused
    jobs.compute(lake, config)
    return Built(lake, tmp_path)


@pytest.fixture
def built(tmp_path):
    return lambda config=None, **kinds: build(tmp_path, config, **kinds)
