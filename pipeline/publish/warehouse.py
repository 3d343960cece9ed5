"""(Re)write warehouse.duckdb: views over the lake's kinds and the current derived generation.

The warehouse holds views with absolute paths into the lake; it is rebuilt aside and renamed into place, and rebuilt
again by any command that finds the lake moved (the manifest remembers where the views point).
"""
from __future__ import annotations

import os
from pathlib import Path

import duckdb
import polars as pl

from ..land.lake import Lake, Manifest
from ..land.views import source_views
from .generation import read_sql

DERIVED_TABLES = ("sessions", "turns", "conversions", "kpi_histograms", "kpi", "thresholds")


def write_warehouse(lake: Lake, manifest: Manifest) -> None:
    aside = lake.root / "warehouse.duckdb.tmp"
    for stale in (aside, Path(str(aside) + ".wal")):
        if stale.exists():
            stale.unlink()
    con = duckdb.connect(str(aside))
    try:
        for name, select in source_views(lake, manifest).items():
            con.execute(f'CREATE VIEW "{name}" AS {select}')
        for table in DERIVED_TABLES:
            select = read_sql(lake, manifest, table)
            if select is not None:
                con.execute(f'CREATE VIEW "{table}" AS {select}')
        files = pl.DataFrame(
            [{"seq": f.seq, "file": f.name, "kind": f.kind, "sha256": f.sha256, "read": f.read,
              "accepted": f.accepted, "rejected": f.rejected, "duplicates": f.duplicates,
              "ingested_at": f.ingested_at} for f in manifest.files],
            schema={"seq": pl.Int64, "file": pl.String, "kind": pl.String, "sha256": pl.String, "read": pl.Int64,
                    "accepted": pl.Int64, "rejected": pl.Int64, "duplicates": pl.Int64, "ingested_at": pl.String},
        )
        con.register("files_frame", files.to_arrow())
        con.execute("CREATE TABLE ingested_files AS SELECT * FROM files_frame")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(aside, lake.warehouse)


def refresh_warehouse(lake: Lake, manifest: Manifest) -> None:
    """Rewrite the warehouse if it was written for another state or place of the lake, and record that it was.

    Called, holding the write lock, by every command: this is what repairs a moved or copied lake (SPEC §6) and
    finishes the warehouse of a run killed after its commit."""
    state = manifest.warehouse_state(lake.root)
    if manifest.warehouse != state or not lake.warehouse.exists():
        write_warehouse(lake, manifest)
        manifest.warehouse = state
        lake.commit(manifest)
