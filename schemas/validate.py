"""Validate a Parquet table against its schema in bounded batches, every failure of a batch in one report."""
from __future__ import annotations

from pathlib import Path

import pandera.polars as pa
import polars as pl
import pyarrow.parquet as pq


class SchemaViolation(Exception):
    pass


def validate_parquet(path: Path | list[Path], model: type[pa.DataFrameModel], batch_rows: int = 250_000) -> int:
    """Check every row of `path` (one file or several of one table; eagerly, lazy=True: all failures listed);
    returns the rows checked."""
    paths = path if isinstance(path, list) else [path]
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
    scan = pl.scan_parquet(paths)
    path = paths[0] if len(paths) == 1 else f"{paths[0].parent.parent} ({len(paths)} files)"
    # Slices of the scan read only the row groups they need (faster than pyarrow's iter_batches + from_arrow).
    # 250K rows a slice: as fast as 1M and half the memory (the turns of 10M messages: 1.1-1.3 s, 265 vs 545 MiB).
    # A model's unique keys are checked within a slice.
    for offset in range(0, max(rows, 1), batch_rows):
        _validate(scan.slice(offset, batch_rows).collect(), model, path)
    return rows


def validate_frame(frame: pl.DataFrame, model: type[pa.DataFrameModel], where: str) -> None:
    _validate(frame, model, where)


def _validate(frame: pl.DataFrame, model: type[pa.DataFrameModel], where) -> None:
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as e:
        failures = []
        for group in e.message.values():
            for items in group.values():
                failures += [f"{i.get('column')}: {i.get('error')}" for i in items]
        raise SchemaViolation(f"{where}: breaks the {model.__name__} schema: " + "; ".join(failures[:10])) from None
