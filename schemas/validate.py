"""Validate a Parquet table against its schema in bounded batches, every failure of a batch in one report."""
from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pyarrow.parquet as pq
from pandera.config import ValidationDepth, config_context


class SchemaViolation(Exception):
    pass


# Rows per validation call. pandera checks a LazyFrame one check at a time, each a query of its own that reads just
# the columns it needs; a call also costs about 20 ms whatever its size. The 9.7M landed messages of the 10M
# benchmark: 1.15 CPU s and +61 MiB in 2M-row calls (+91 MiB in 4M), against 3.7 CPU s and +128 MiB when every
# 100K-row slice was read into a DataFrame and checked eagerly; the 3.4M turns 0.66 s and +56 MiB (1.3 s, +79).
BATCH_ROWS = 2_000_000


def validate_parquet(path: Path | list[Path], model: type[pa.DataFrameModel], batch_rows: int = BATCH_ROWS,
                     key_checked: bool = False) -> int:
    """Check every row of `path` (one file or several of one table; lazy=True: every failure of a call listed);
    returns the rows checked. The model's unique key is checked over all the files at once, unless `key_checked`
    says the caller has checked it on the rows the files were written from (as `generation.write` does in DuckDB)."""
    paths = path if isinstance(path, list) else [path]
    counts = [pq.ParquetFile(p).metadata.num_rows for p in paths]
    rows = sum(counts)
    where = paths[0] if len(paths) == 1 else f"{paths[0].parent.parent} ({len(paths)} files)"
    schema = _without_key(model)
    key = () if key_checked else unique_key(model)
    hashes = []
    # A LazyFrame's value checks run only at validation depth SCHEMA_AND_DATA (pandera's default for it is the
    # schema alone).
    with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
        for batch in _batches(paths, counts, batch_rows):
            _validate(batch, schema, where)
            if key:
                hashes.append(batch.select(pl.struct(key).hash()).collect().to_series())
    # Distinct hashes of the key: as many as rows proves it unique; fewer is a repeat or a collision, told apart.
    if key and rows and pl.concat(hashes).n_unique() < rows:
        repeated = (pl.scan_parquet(paths).group_by(key).len().filter(pl.col("len") > 1).limit(3).collect()
                    .drop("len").rows())
        if repeated:
            raise SchemaViolation(repeats_message(where, model, repeated))
    return rows


def _batches(paths: list[Path], counts: list[int], batch_rows: int):
    """LazyFrames over every row of the files, at most `batch_rows` each: whole files together while they fit, a
    larger file in slices (a Parquet scan reads just the row groups of its slice)."""
    group: list[Path] = []
    held = 0
    for path, n in zip(paths, counts):
        if group and held + n > batch_rows:
            yield pl.scan_parquet(group)
            group, held = [], 0
        if n > batch_rows:
            for offset in range(0, n, batch_rows):
                yield pl.scan_parquet(path).slice(offset, batch_rows)
            continue
        group.append(path)
        held += n
    if group:
        yield pl.scan_parquet(group)


def unique_key(model: type[pa.DataFrameModel]) -> tuple[str, ...]:
    return tuple(model.to_schema().unique or ())


def repeats_message(where, model: type[pa.DataFrameModel], repeated: list[tuple]) -> str:
    return (f"{where}: breaks the {model.__name__} schema: ({', '.join(unique_key(model))}) is not unique, repeated: "
            + "; ".join(str(r) for r in repeated))


@cache
def _without_key(model: type[pa.DataFrameModel]) -> pa.DataFrameSchema:
    """The model's schema without its unique key, which is checked over the whole table at once instead: pandera
    would check it within each batch only, and that check was most of its cost (the turns of 10M messages: 0.8-1.0 s
    with it, 0.6 s with the hashes of every slice's keys counted at the end)."""
    schema = copy.deepcopy(model.to_schema())
    schema.unique = None
    return schema


def validate_frame(frame: pl.DataFrame, model: type[pa.DataFrameModel], where: str) -> None:
    _validate(frame, model.to_schema(), where)


def _validate(frame: pl.DataFrame | pl.LazyFrame, schema: pa.DataFrameSchema, where) -> None:
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as e:
        failures = []
        for group in e.message.values():
            for items in group.values():
                failures += [f"{i.get('column')}: {i.get('error')}" for i in items]
        raise SchemaViolation(f"{where}: breaks the {schema.name} schema: " + "; ".join(failures[:10])) from None
