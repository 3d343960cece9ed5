"""Export the `kpi` table (SPEC §6) as CSV, JSON or Parquet, and print the banded report."""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import duckdb

from ..land.lake import Lake

EXPORT_COLUMNS = ("grain", "period", "period_start", "shop_id", "agent_id", "kpi", "value", "numerator",
                  "denominator", "band", "provisional", "clock")
GRAINS = ("day", "week", "month", "quarter", "year")
LEVELS = ("shop", "agent", "all")
FORMATS = ("csv", "json", "parquet")


class ExportError(Exception):
    pass


def kpi_query(lake: Lake, grain: str, level: str) -> tuple[str, dict]:
    """The SELECT of the export rows and its parameters."""
    paths = [lake.path(f) for f in lake.manifest().derived_files("kpi")]
    if not paths or not all(p.exists() for p in paths):
        raise ExportError(f"{lake.root}: no KPIs computed yet (run `cskpi compute --lake {lake.root}`)")
    if grain not in GRAINS:
        raise ExportError(f"unknown grain {grain!r}; use one of {', '.join(GRAINS)}")
    if level not in LEVELS:
        raise ExportError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")
    level_filter = {"shop": "agent_id IS NULL", "agent": "agent_id IS NOT NULL", "all": "true"}[level]
    sql = (f"SELECT {', '.join(EXPORT_COLUMNS)} FROM read_parquet($paths, union_by_name = false) "
           f"WHERE grain = $grain AND {level_filter} "
           "ORDER BY period_start, shop_id, agent_id NULLS FIRST, kpi, clock")
    return sql, {"paths": [str(p) for p in paths], "grain": grain}


def export(lake: Lake, grain: str, level: str, fmt: str, output: Path | None) -> int:
    """Write the rows to `output` (stdout when None); returns the number of rows."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    con = duckdb.connect()
    try:
        sql, params = kpi_query(lake, grain, level)
        rows = con.execute(f"SELECT count(*) FROM ({sql})", params).fetchall()[0][0]
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / f"kpi.{fmt}"
            options = {
                "csv": "FORMAT csv, HEADER true",
                "json": "FORMAT json, ARRAY true",
                "parquet": "FORMAT parquet",
            }[fmt]
            con.execute(f"COPY ({sql}) TO '{target}' ({options})", params)
            if fmt == "json" and rows == 0:
                target.write_text("[]\n")
            if output is None:
                with open(target, "rb") as src:
                    shutil.copyfileobj(src, sys.stdout.buffer)
                sys.stdout.flush()
            else:
                shutil.move(str(target), output)
    finally:
        con.close()
    return rows
