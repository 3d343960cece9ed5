"""Derived tables on disk: each computation writes a generation folder; partitioned tables keep one file per day (the
KPI table and the percentiles: per grain and period), and a later computation that changes only some days (periods)
writes only those, reusing the other files.

The manifest's `derived` entry names every file of the current state:
    {"generation": n, "inputs": [seq ...], "config": fingerprint, "kinds": [...],
     "tables": {"sessions": {"": "derived/g5/sessions.schema.parquet", "2026-11-27": "derived/g5/sessions/...", ...},
                "kpi": {"": "derived/g5/kpi.schema.parquet", "month_2026-11": "derived/g5/kpi/...", ...},
                "thresholds": "derived/g5/thresholds.parquet", ...}}
A partitioned table's "" entry is an empty file that carries the table's column types, so that a table without
rows still reads.
"""
from __future__ import annotations


import duckdb

from ..derive import release
from ..land.lake import Lake, Manifest, fsync_file, quote
from ..schemas import TABLES
from ..schemas.validate import SchemaViolation, repeats_message, unique_key, validate_parquet

# table → the expression of the local date a row belongs to
BY_DAY = {
    "sessions": "started_on",
    "turns": "started_on",
    "conversions": "CAST(session_started_at AS DATE)",
    "kpi_facts": "on_date",
    "kpi_histograms": "on_date",
    "kpi_month_histograms": "month_start",  # a file per month, keyed by its first day
    "kpi_month_facts": "month_start",
}
# table → the expression of the period a row belongs to (its file's key in the manifest). The percentiles are kept
# per period too, so that a night rewrites its periods' only, not every period the lake has.
BY_PERIOD = {"kpi": "grain || '_' || period", "kpi_distributions": "grain || '_' || period"}
PARTITIONED = {**BY_DAY, **BY_PERIOD}
WHOLE = ("thresholds",)
# Tables whose sql/ file groups by exactly their unique key (tests/test_publish_generation.py reads the files), and
# whose written rows are that file's output: no key can repeat, and counting them would check nothing.
GROUPED_BY_KEY = ("kpi_facts", "kpi_month_facts", "kpi_histograms", "kpi_month_histograms")
PARTITION_FLUSH_ROWS = 10_000


def write(con: duckdb.DuckDBPyConnection, lake: Lake, manifest: Manifest, tables: tuple[str, ...],
          replaced: dict[str, set[str] | None] | None, sources: dict[str, str] | None = None,
          drop: tuple[str, ...] = (), check=validate_parquet) -> dict:
    """Write `tables` of `con` into the new generation's folder (read from `sources[table]` where given); returns
    their manifest entries. With `replaced` (incremental), each partitioned table holds exactly the rows of the days
    (periods) `replaced[table]` names, and every other file is taken over from the current generation;
    `replaced[table]` None: the table is written whole. A computation may write its tables in several calls (to
    drop what is written from memory): they go to one folder until the manifest is committed. The tables `drop`
    names are dropped once copied, before their files are checked (their memory goes to the check and the next table).
    `check(files, model, key_checked=...)` validates a table's files (a caller may queue it for later, and must
    then wait for it before recording the generation)."""
    previous = manifest.derived or {}
    folder = folder_of(manifest)
    lake.path(folder).mkdir(parents=True, exist_ok=True)
    entries: dict[str, object] = {}
    # A partitioned COPY buffers up to this many rows per day before handing them to the day's file writer (the
    # default, 512K, held ~450 MB at 10M messages); the files are the same.
    con.execute(f"SET partitioned_write_flush_threshold = {PARTITION_FLUSH_ROWS}")
    for table in tables:
        source = (sources or {}).get(table, table)
        if table in WHOLE:
            rel = f"{folder}/{table}.parquet"
            con.execute(f"COPY (SELECT * FROM {source}) TO {quote(str(lake.path(rel)))} "
                        "(FORMAT parquet, COMPRESSION snappy)")
            fsync_file(lake.path(rel))
            if table in TABLES:
                check(lake.path(rel), TABLES[table])
            entries[table] = rel
            continue
        # The unique key is checked on the rows written (DuckDB's memory is there already; polars' check of the
        # files held the keys' hashes: +30 MiB at the peak of 10M messages). Files are by day or period, which
        # every key determines: the files kept from the current generation cannot repeat a key of these rows.
        key_checked = table in GROUPED_BY_KEY or (
            table in TABLES and _check_key(con, source, TABLES[table], f"{folder}/{table}"))
        held: dict[str, str] = {}
        if replaced is not None and replaced[table] is not None:
            held = {d: f for d, f in previous["tables"][table].items() if d and d not in replaced[table]}
        schema = f"{folder}/{table}.schema.parquet"
        con.execute(f"COPY (SELECT * FROM {source} LIMIT 0) TO {quote(str(lake.path(schema)))} (FORMAT parquet)")
        held[""] = schema
        target = lake.path(f"{folder}/{table}")
        con.execute(
            f"COPY (SELECT *, {PARTITIONED[table]} AS _day FROM {source}) TO {quote(str(target))} "
            "(FORMAT parquet, COMPRESSION snappy, PARTITION_BY (_day), OVERWRITE_OR_IGNORE true)"
        )
        if table in drop:
            release(con, table)
        written = sorted(target.glob("_day=*/*.parquet"))
        for part in written:
            fsync_file(part)
            held[part.parent.name.split("=", 1)[1]] = part.relative_to(lake.root).as_posix()
        if table in TABLES and written:
            check(written, TABLES[table], key_checked=key_checked)
        entries[table] = held
    return entries


def _check_key(con: duckdb.DuckDBPyConnection, source: str, model, where: str) -> bool:
    """Whether `source` was checked to hold each value of the model's unique key once (False: it has none)."""
    key = ", ".join(unique_key(model))
    if not key:
        return False
    rows, distinct = con.execute(f"SELECT count(*), count(DISTINCT hash({key})) FROM {source}").fetchall()[0]
    if distinct < rows:  # a repeat, or two keys whose hashes collide
        repeated = con.execute(f"SELECT {key} FROM {source} GROUP BY ALL HAVING count(*) > 1 LIMIT 3").fetchall()
        if repeated:
            raise SchemaViolation(repeats_message(where, model, repeated))
    return True


def folder_of(manifest: Manifest) -> str:
    """The folder of the generation a computation writes: the one after the manifest's current generation."""
    return f"derived/g{number_of(manifest):06d}"


def number_of(manifest: Manifest) -> int:
    return (manifest.derived or {}).get("generation", 0) + 1


def read_sql(lake: Lake, manifest: Manifest, table: str, days: list | None = None) -> str | None:
    """A SELECT over the current files of a derived table (None before the first computation); with `days`, over
    the files of those days only (a BY_DAY table)."""
    held = manifest.derived_files(table, days)
    if not held:
        return None
    listed = ", ".join(quote(str(lake.path(f))) for f in held)
    return f"SELECT * FROM read_parquet([{listed}], hive_partitioning = false, union_by_name = false)"
