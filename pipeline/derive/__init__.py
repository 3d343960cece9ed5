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
PASS_SCHEMA = "shops_pass_"


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
    passes = []
    for i, (low, high) in enumerate(zip(bounds, bounds[1:])):
        shops = " AND ".join([*([f"shop_id >= {quote(low)}"] if low else []),
                              *([f"shop_id < {quote(high)}"] if high else [])])
        pass_schema = f"{PASS_SCHEMA}{i}"
        con.execute(f"CREATE SCHEMA {pass_schema}")
        con.execute(f"CREATE VIEW {pass_schema}.messages AS SELECT * FROM memory.{schema}.messages WHERE {shops}")
        sqlfiles.in_schema(con, pass_schema,
                           lambda: [sqlfiles.build(con, step, params(config)) for step in PER_MESSAGE_STEPS])
        # The pass's per-message rows are not needed any more: freed before the next pass, so that DuckDB need not
        # write other tables out to its temporary files to make room.
        con.execute(f"DROP TABLE {pass_schema}.message_sessions; DROP TABLE {pass_schema}.service_clock; "
                    f"DROP VIEW {pass_schema}.messages")
        passes.append(pass_schema)
    # Each output is a view over the passes' tables, not a copy of them: copying 1.45M sessions and 3.4M turns into
    # one table cost a 10M computation 2 s (bench/PROFILE.md, session 13). release() drops the view and the parts.
    for table in PER_MESSAGE_OUTPUTS:
        con.execute(f"CREATE OR REPLACE VIEW {table} AS "
                    + " UNION ALL ".join(f"SELECT * FROM {p}.{table}" for p in passes))
    sqlfiles.build(con, "conversions", params(config))


def release(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Drop a derived table: the table, or the view over the passes' parts (derive) and the parts."""
    parts = con.execute("SELECT schema_name FROM duckdb_tables() WHERE table_name = ? AND starts_with(schema_name, ?)",
                        [table, PASS_SCHEMA]).fetchall()
    if not parts:
        con.execute(f"DROP TABLE {table}")
        return
    con.execute(f"DROP VIEW {table}")
    for (schema,) in parts:
        con.execute(f"DROP TABLE {schema}.{table}")
        if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ?", [schema]).fetchone()[0]:
            con.execute(f"DROP SCHEMA {schema}")
