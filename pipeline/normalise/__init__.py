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
    parsed: list[pl.Expr] = []  # every value and reason once, as a temporary column
    outputs: list[str] = []
    checks: list[tuple[str, str, pl.Expr]] = []  # (canonical column, reason column, raw text)
    if "_error" in present:
        checks.append(("", "_error", pl.lit(None, dtype=pl.String)))
    for column in kind.columns:
        header = source.get(column.name)
        raw = pl.col(header) if header is not None else pl.lit(None, dtype=pl.String)
        triples = _parse(kind, column.name, raw, tz)
        for out, value, _ in triples:
            parsed.append(value.alias(f"__v_{out}"))
            outputs.append(out)
        name, value, reason = triples[0]
        parsed.append(reason.alias(f"__r_{name}"))
        if column.required:
            # A required value that is absent, or present but reduced to nothing (an id of blanks).
            parsed.append(pl.when(pl.col(f"__v_{name}").is_null() & pl.col(f"__r_{name}").is_null())
                          .then(pl.lit("missing required value")).alias(f"__m_{name}"))
            checks.append((name, f"__m_{name}", raw))
        checks.append((name, f"__r_{name}", raw))

    def first_failure(pick) -> pl.Expr:
        # A when-chain, not coalesce: the column and raw text must come from the same (first) failing check.
        chain = pl.when(pl.col(checks[0][1]).is_not_null()).then(pick(checks[0]))
        for check in checks[1:]:
            chain = chain.when(pl.col(check[1]).is_not_null()).then(pick(check))
        return chain.otherwise(pl.lit(None, dtype=pl.String))

    # Two steps so that each value is parsed once; the reject columns only look up the parsed results.
    return frame.with_columns(
        # `_parse` gives the reason columns' dependency on the value columns as expressions, so compute the
        # values first, then the "missing" checks that refer to them.
        *[e for e in parsed if not e.meta.output_name().startswith("__m_")]
    ).with_columns(
        *[e for e in parsed if e.meta.output_name().startswith("__m_")]
    ).select(
        *[pl.col(f"__v_{out}").alias(out) for out in outputs],
        pl.col("_line").cast(pl.Int64),
        first_failure(lambda c: pl.lit(c[0] or None, dtype=pl.String)).alias("_reject_column"),
        first_failure(lambda c: pl.col(c[1])).alias("_reject_reason"),
        first_failure(lambda c: c[2].cast(pl.String)).alias("_reject_raw"),
    )
