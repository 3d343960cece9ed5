"""Normalise: raw text columns (read stage) → typed canonical columns plus, per row, why it is rejected.

The output frame has every canonical column of the kind (absent optional ones as nulls), the lineage columns
`_line`, and `_reject_column`, `_reject_reason`, `_reject_raw` (all null on an accepted row). Splitting accepted
from rejected rows, and landing them, is the land stage's job.
"""
from __future__ import annotations

import polars as pl

from ..kinds import Kind
from . import values

REJECT_COLUMNS = ("_reject_column", "_reject_reason", "_reject_raw")


def _parse(kind: Kind, name: str, raw: pl.Expr, tz: str) -> list[tuple[str, pl.Expr, pl.Expr]]:
    """(output column, value, reason) triples for one canonical column."""
    t = kind.column(name).type
    if t == "timestamp":
        value, reason = values.timestamp(raw, tz)
    elif t == "role":
        value, reason = values.role(raw)
    elif t == "level":
        value, reason = values.level(raw)
    elif t == "stars":
        value, reason = values.stars(raw)
    elif t == "decimal":
        value, reason = values.decimal(raw)
    elif t == "category":
        value, reason = values.category(raw)
    elif t == "period":
        label, grain, start, reason = values.period(raw)
        return [(name, label, reason), ("grain", grain, reason), ("period_start", start, reason)]
    elif name == "content":
        value, reason = values.text(raw)
    else:
        value, reason = values.identifier(raw)
    return [(name, value, reason)]


def normalise(frame: pl.LazyFrame, kind: Kind, rename: dict[str, str], tz: str) -> pl.LazyFrame:
    source = {canonical: header for header, canonical in rename.items()}
    present = set(frame.collect_schema().names())
    outputs: list[pl.Expr] = []
    checks: list[tuple[str, pl.Expr, pl.Expr]] = []  # (column, reason, raw text)
    if "_error" in present:
        checks.append(("", pl.col("_error"), pl.lit(None, dtype=pl.String)))
    for column in kind.columns:
        header = source.get(column.name)
        raw = pl.col(header) if header is not None else pl.lit(None, dtype=pl.String)
        parsed = _parse(kind, column.name, raw, tz)
        value0 = parsed[0][1]
        if column.required:
            # A required value that is absent, or present but reduced to nothing (an id of blanks).
            checks.append((column.name, pl.when(value0.is_null() & parsed[0][2].is_null())
                           .then(pl.lit("missing required value")), raw))
        checks.extend((column.name, reason, raw) for _, _, reason in parsed[:1])
        outputs.extend(value.alias(out) for out, value, _ in parsed)
    def first_failure(pick) -> pl.Expr:
        # A when-chain, not coalesce: the column and raw text must come from the same (first) failing check.
        chain = pl.when(checks[0][1].is_not_null()).then(pick(checks[0]))
        for check in checks[1:]:
            chain = chain.when(check[1].is_not_null()).then(pick(check))
        return chain.otherwise(pl.lit(None, dtype=pl.String))

    reject_column = first_failure(lambda c: pl.lit(c[0]))
    reject_reason = first_failure(lambda c: c[1])
    reject_raw = first_failure(lambda c: c[2].cast(pl.String))
    return frame.select(
        *outputs,
        pl.col("_line").cast(pl.Int64),
        pl.when(reject_column == "").then(None).otherwise(reject_column).alias("_reject_column"),
        reject_reason.alias("_reject_reason"),
        reject_raw.alias("_reject_raw"),
    )
