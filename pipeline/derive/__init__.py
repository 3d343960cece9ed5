"""Derive: sessions, turns and conversion attribution from the lake's messages and orders (SPEC §2, sql/)."""
from __future__ import annotations

import duckdb

from ..config import Config
from .. import sqlfiles

STEPS = ("message_sessions", "service_clock", "sessions", "turns", "conversions")


def params(config: Config) -> dict[str, int]:
    return {
        "session_gap_us": round(config.session_gap.total_seconds() * 1_000_000),
        "late_reply_us": round(config.late_reply_window.total_seconds() * 1_000_000),
    }


def derive(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    for step in STEPS:
        sqlfiles.build(con, step, params(config))
