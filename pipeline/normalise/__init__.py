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
TIME_REASON = values.TIME_REASON


def _parse(kind: Kind, name: str, raw: pl.Expr, tz: str,
           common_times: bool = False) -> tuple[list[tuple[str, pl.Expr]], values.Reason]:
    """The output columns of one canonical column, and the reason function of its (first) value."""
    t = kind.column(name).type
    if t == "period":
        label, grain, start, reason = values.period(raw)
        return [(name, label), ("grain", grain), ("period_start", start)], reason
    parser = {
        "timestamp": lambda r: values.timestamp(r, tz, common_times), "role": values.role, "level": values.level,
        "stars": values.stars, "decimal": values.decimal, "category": values.category,
        "flag": values.flag, "reason": values.reason,
    }.get(t, values.text if name == "content" else values.identifier)
    value, reason = parser(raw)
    return [(name, value)], reason


def normalise(frame: pl.LazyFrame, kind: Kind, rename: dict[str, str], tz: str,
              common_times: bool = False) -> pl.LazyFrame:
    """`common_times`: parse timestamps in the common form only (see values.timestamp)."""
    source = {canonical: header for header, canonical in rename.items()}
    present = set(frame.collect_schema().names())
    parsed: list[pl.Expr] = []  # step 1: every value, parsed once
    judged: list[pl.Expr] = []  # step 2: why a row is refused, from the parsed values
    outputs: list[str] = []
    checks: list[tuple[str, str, pl.Expr]] = []  # (canonical column, reason column, raw text), in column order
    if "_error" in present:
        checks.append(("", "_error", pl.lit(None, dtype=pl.String)))
    for column in kind.columns:
        header = source.get(column.name)
        raw = pl.col(header) if header is not None else pl.lit(None, dtype=pl.String)
        columns, reason = _parse(kind, column.name, raw, tz, common_times)
        parsed += [value.alias(f"__v_{out}") for out, value in columns]
        outputs += [out for out, _ in columns]
        value = pl.col(f"__v_{column.name}")
        judged_value = reason(value)
        if column.not_before:
            # A closing time before its opening time (a refund completed before it was asked for) is refused.
            judged_value = pl.coalesce([judged_value, pl.when(value < pl.col(f"__v_{column.not_before}"))
                                        .then(pl.lit(f"before {column.not_before}"))])
        judged.append(judged_value.alias(f"__r_{column.name}"))
        if column.required:
            # A required value that is absent, or present but reduced to nothing (an id of blanks).
            judged.append(pl.when(value.is_null() & raw.is_null() | value.is_null() & (raw.str.strip_chars() == ""))
                          .then(pl.lit("missing required value")).alias(f"__m_{column.name}"))
            checks.append((column.name, f"__m_{column.name}", raw))
        checks.append((column.name, f"__r_{column.name}", raw))

    def first_failure(pick) -> pl.Expr:
        # A when-chain, not coalesce: the column and raw text must come from the same (first) failing check.
        chain = pl.when(pl.col(checks[0][1]).is_not_null()).then(pick(checks[0]))
        for check in checks[1:]:
            chain = chain.when(pl.col(check[1]).is_not_null()).then(pick(check))
        return chain.otherwise(pl.lit(None, dtype=pl.String))

    return frame.with_columns(parsed).with_columns(judged).select(
        *[pl.col(f"__v_{out}").alias(out) for out in outputs],
        pl.col("_line").cast(pl.Int64),
        first_failure(lambda c: pl.lit(c[0] or None, dtype=pl.String)).alias("_reject_column"),
        first_failure(lambda c: pl.col(c[1])).alias("_reject_reason"),
        first_failure(lambda c: c[2].cast(pl.String)).alias("_reject_raw"),
    )
