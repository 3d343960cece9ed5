"""Validate a Parquet table against its schema in bounded batches, every failure of a batch in one report."""
from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pyarrow.parquet as pq


class SchemaViolation(Exception):
    pass


# Rows per slice of a check that runs on a thread beside other work (the landing of the next file, the write of the
# next table), whose memory it adds to. At 10M messages: the landing's peak 670-691 MiB with 100K rows, 694-730 MiB
# with 250K, 635-662 MiB with the check in line; the run's peak +14 MiB with the written files' checks in 100K rows.
# The 10M / 1M memory target leaves 30-40 MiB.
BESIDE_ROWS = 100_000


def validate_parquet(path: Path | list[Path], model: type[pa.DataFrameModel], batch_rows: int = 250_000,
                     key_checked: bool = False) -> int:
    """Check every row of `path` (one file or several of one table; eagerly, lazy=True: all failures listed);
    returns the rows checked. The model's unique key is checked over all the files at once, unless `key_checked`
    says the caller has checked it on the rows the files were written from (as `generation.write` does in DuckDB)."""
    paths = path if isinstance(path, list) else [path]
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
    scan = pl.scan_parquet(paths)
    path = paths[0] if len(paths) == 1 else f"{paths[0].parent.parent} ({len(paths)} files)"
    # Slices of the scan read only the row groups they need (faster than pyarrow's iter_batches + from_arrow).
    # 250K rows a slice: as fast as 1M and half the memory (the turns of 10M messages: 1.1-1.3 s, 265 vs 545 MiB).
    schema = _without_key(model)
    key = () if key_checked else unique_key(model)
    hashes = []
    for offset in range(0, max(rows, 1), batch_rows):
        batch = scan.slice(offset, batch_rows).collect()
        _validate(batch, schema, path)
        if key:
            hashes.append(batch.select(pl.struct(key).hash()).to_series())
    # Distinct hashes of the key: as many as rows proves it unique; fewer is a repeat or a collision, told apart.
    if key and rows and pl.concat(hashes).n_unique() < rows:
        repeated = scan.group_by(key).len().filter(pl.col("len") > 1).limit(3).collect().drop("len").rows()
        if repeated:
            raise SchemaViolation(repeats_message(path, model, repeated))
    return rows


def unique_key(model: type[pa.DataFrameModel]) -> tuple[str, ...]:
    return tuple(model.to_schema().unique or ())


def repeats_message(where, model: type[pa.DataFrameModel], repeated: list[tuple]) -> str:
    return (f"{where}: breaks the {model.__name__} schema: ({', '.join(unique_key(model))}) is not unique, repeated: "
            + "; ".join(str(r) for r in repeated))


@cache
def _without_key(model: type[pa.DataFrameModel]) -> pa.DataFrameSchema:
    """The model's schema without its unique key, which is checked over the whole table at once instead: pandera
    would check it within each slice only, and that check was most of its cost (the turns of 10M messages: 0.8-1.0 s
    with it, 0.6 s with the hashes of every slice's keys counted at the end)."""
    schema = copy.deepcopy(model.to_schema())
    schema.unique = None
    return schema


def validate_frame(frame: pl.DataFrame, model: type[pa.DataFrameModel], where: str) -> None:
    _validate(frame, model.to_schema(), where)


def _validate(frame: pl.DataFrame, schema: pa.DataFrameSchema, where) -> None:
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as e:
        failures = []
        for group in e.message.values():
            for items in group.values():
                failures += [f"{i.get('column')}: {i.get('error')}" for i in items]
        raise SchemaViolation(f"{where}: breaks the {schema.name} schema: " + "; ".join(failures[:10])) from None
