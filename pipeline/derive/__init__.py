"""Derive: sessions, turns and conversion attribution from the lake's messages and orders (SPEC §2, sql/)."""
from __future__ import annotations

import duckdb

from ..config import Config
from ..land.lake import quote
from .. import sqlfiles

STEPS = ("message_sessions", "service_clock", "sessions", "turns", "conversions")
OUTPUTS = ("sessions", "turns", "conversions")
PER_MESSAGE_STEPS = STEPS[:-1]
PER_MESSAGE_OUTPUTS = OUTPUTS[:-1]
# Messages derived in one pass: a pass's sorts then fit DuckDB's memory however large the lake grows (beyond it
# they spill to disk, which cost more than the passes' extra scans).
MESSAGES_PER_PASS = 2_000_000


def params(config: Config) -> dict[str, int]:
    return {
        "session_gap_us": round(config.session_gap.total_seconds() * 1_000_000),
        "late_reply_us": round(config.late_reply_window.total_seconds() * 1_000_000),
    }


def shop_ranges(con: duckdb.DuckDBPyConnection, per_pass: int = MESSAGES_PER_PASS) -> list[str]:
    """The shops at which passes start (after the first, which starts below them all) so that each pass derives
    about `per_pass` messages of `messages`; [] for one pass."""
    counts = con.execute("SELECT shop_id, count(*) FROM messages GROUP BY shop_id ORDER BY shop_id").fetchall()
    starts, held = [], 0
    for shop, n in counts:
        if held and held + n > per_pass:
            starts.append(shop)
            held = 0
        held += n
    return starts


def derive(con: duckdb.DuckDBPyConnection, config: Config, starts: list[str] | None = None) -> None:
    """sessions, turns and conversions (and message_sessions, the per-message step) of `messages` and `orders`.

    With `starts` (see shop_ranges), the per-message steps run in one pass per range of shops: a conversation and
    its sessions belong to one shop, so the passes' rows appended are the rows of one pass over everything.
    Conversions then run once over all sessions (they are few, and copying each pass's out cost more than
    computing them)."""
    if not starts:
        for step in STEPS:
            sqlfiles.build(con, step, params(config))
        return
    schema = con.execute("SELECT current_schema()").fetchone()[0]
    bounds = [None, *starts, None]
    for i, (low, high) in enumerate(zip(bounds, bounds[1:])):
        shops = " AND ".join([*([f"shop_id >= {quote(low)}"] if low else []),
                              *([f"shop_id < {quote(high)}"] if high else [])])
        con.execute("CREATE SCHEMA shops_pass")
        con.execute(f"CREATE VIEW shops_pass.messages AS SELECT * FROM memory.{schema}.messages WHERE {shops}")
        sqlfiles.in_schema(con, "shops_pass",
                           lambda: [sqlfiles.build(con, step, params(config)) for step in PER_MESSAGE_STEPS])
        # The pass's per-message rows are not needed any more: freed before its outputs are copied, so that DuckDB
        # need not write other tables out to its temporary files to make room.
        con.execute("DROP TABLE shops_pass.message_sessions")
        for table in PER_MESSAGE_OUTPUTS:
            into = f"CREATE OR REPLACE TABLE {table} AS" if i == 0 else f"INSERT INTO {table}"
            con.execute(f"{into} SELECT * FROM shops_pass.{table}")
        con.execute("DROP SCHEMA shops_pass CASCADE")
    sqlfiles.build(con, "conversions", params(config))
