"""The SQL files of `sql/` (shipped as `pipeline.sql`): each holds one SELECT that builds the table it is named after."""
from __future__ import annotations

import hashlib
import re
from functools import cache
from importlib import resources

import duckdb


@cache
def text(name: str) -> str:
    return resources.files("pipeline.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")


def names() -> list[str]:
    return sorted(p.name[:-4] for p in resources.files("pipeline.sql").iterdir() if p.name.endswith(".sql"))


@cache
def digest() -> str:
    """A hash of every definition: derived data computed by other SQL must be computed again, not extended."""
    h = hashlib.sha256()
    for name in names():
        h.update(f"{name}\0{text(name)}\0".encode())
    return h.hexdigest()[:16]


def build(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None, view: bool = False) -> None:
    """CREATE OR REPLACE TABLE <name> from sql/<name>.sql, binding the named parameters the file uses.

    With view=True it is a VIEW instead (no parameters): for a step read by one later step only, which then
    computes it as part of its own query rather than writing it out and reading it back."""
    sql = text(name)
    used = set(re.findall(r"\$(\w+)", sql))
    bound = {k: v for k, v in (params or {}).items() if k in used}
    missing = used - set(bound)
    if missing:
        raise KeyError(f"sql/{name}.sql needs parameters {sorted(missing)}")
    if view:
        if used:
            raise ValueError(f"sql/{name}.sql has parameters and cannot be a view")
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
    else:
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}", bound or None)


def in_schema(con: duckdb.DuckDBPyConnection, schema: str, build) -> None:
    """Run `build` with tables created in `schema` and names looked up there first, then where the caller looked."""
    before = con.execute("SELECT current_schema(), current_setting('search_path')").fetchone()
    con.execute(f"USE memory.{schema}")
    con.execute(f"SET search_path = 'memory.{schema},{before[1] or 'memory.main'}'")
    try:
        build()
    finally:
        con.execute(f"USE memory.{before[0]}")
        con.execute(f"SET search_path = '{before[1] or 'memory.main'}'")


def table_from(con: duckdb.DuckDBPyConnection, name: str, frame) -> None:
    """CREATE OR REPLACE TABLE <name> holding a polars frame (the small tables built from configuration)."""
    con.register(f"{name}_frame", frame.to_arrow())
    try:
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_frame")
    finally:
        con.unregister(f"{name}_frame")
