"""Normalise: raw text columns (read stage) → typed canonical columns plus, per row, why it is rejected.

The output frame has every canonical column of the kind (absent optional ones as nulls), the lineage columns
`_line`, and `_reject_column`, `_reject_reason`, `_reject_raw` (all null on an accepted row). Splitting accepted
from rejected rows, and landing them, is the land stage's job.

Telling why a row is refused costs more than parsing it, and almost every row is fine: `parse_values` is the cheap
first pass (values only, times in the common form only, and a flag on every row that `normalise` might refuse);
`normalise` gives the full answer, and the land stage runs it on the flagged rows alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ..kinds import Kind
from . import values

REJECT_COLUMNS = ("_reject_column", "_reject_reason", "_reject_raw")
TIME_REASON = values.TIME_REASON
SUSPECT = "_suspect"
_NO_TEXT = pl.lit(None, dtype=pl.String)


class _Steps:
    """The `let` of one column's parsers: each expression becomes an intermediate column, computed once before the
    column's values (`_with_steps`)."""

    def __init__(self, column: str):
        self.column = column
        self.exprs: list[pl.Expr] = []

    def __call__(self, expr: pl.Expr) -> pl.Expr:
        name = f"__s_{self.column}_{len(self.exprs)}"
        self.exprs.append(expr.alias(name))
        return pl.col(name)


@dataclass
class _Column:
    name: str
    required: bool
    raw: pl.Expr  # the source text (a null literal when the file lacks the column)
    outputs: list[tuple[str, pl.Expr]]  # (output column, parsing expression)
    reason: values.Reason  # why the (first) parsed value is refused, from its parsed column
    not_before: str | None  # a column this one's value may not precede (kinds.Column.not_before)
    steps: _Steps  # intermediate columns the outputs and reason refer to

    def too_early(self) -> pl.Expr:
        """A closing time before its opening time (a refund completed before it was asked for): refused."""
        if self.not_before is None:
            return pl.lit(False)
        return pl.col(f"__v_{self.name}") < pl.col(f"__v_{self.not_before}")


def _parse(kind: Kind, name: str, raw: pl.Expr, tz: str, let: values.Let,
           common_times: bool = False) -> tuple[list[tuple[str, pl.Expr]], values.Reason]:
    """The output columns of one canonical column, and the reason function of its (first) value."""
    t = kind.column(name).type
    if t == "period":
        label, grain, start, reason = values.period(raw)
        return [(name, label), ("grain", grain), ("period_start", start)], reason
    parser = {
        "timestamp": lambda r, let: values.timestamp(r, tz, common_times, let), "role": values.role,
        "level": values.level, "stars": values.stars, "decimal": values.decimal, "category": values.category,
        "flag": values.flag, "reason": values.reason,
    }.get(t, values.text if name == "content" else values.identifier)
    value, reason = parser(raw, let)
    return [(name, value)], reason


def _columns(kind: Kind, rename: dict[str, str], tz: str, common_times: bool) -> list[_Column]:
    source = {canonical: header for header, canonical in rename.items()}
    out = []
    for column in kind.columns:
        header = source.get(column.name)
        raw = pl.col(header) if header is not None else _NO_TEXT
        steps = _Steps(column.name)
        outputs, reason = _parse(kind, column.name, raw, tz, steps, common_times)
        out.append(_Column(column.name, column.required, raw, outputs, reason, column.not_before, steps))
    return out


def _with_steps(frame: pl.LazyFrame, columns: list[_Column]) -> pl.LazyFrame:
    """`frame` with the columns' intermediate columns: a column's k-th step may use its earlier ones."""
    for k in range(max((len(c.steps.exprs) for c in columns), default=0)):
        frame = frame.with_columns(c.steps.exprs[k] for c in columns if len(c.steps.exprs) > k)
    return frame


def parse_values(frame: pl.LazyFrame, kind: Kind, rename: dict[str, str], tz: str) -> pl.LazyFrame:
    """The first, cheap pass: normalise's columns with the reject columns null, times parsed in the common form only,
    and `_suspect`: true on every row normalise might refuse (a broken record, a missing required value, or text
    that gave no value). A row that is not suspect is exactly as normalise gives it."""
    columns = _columns(kind, rename, tz, common_times=True)
    present = set(frame.collect_schema().names())
    doubts = [pl.col("_error").is_not_null()] if "_error" in present else []
    for c in columns:
        value = pl.col(f"__v_{c.name}")
        doubts.append(value.is_null() if c.required else value.is_null() & c.raw.is_not_null())
        doubts.append(c.too_early().fill_null(False))
    return _with_steps(frame, columns).with_columns(
        value.alias(f"__v_{out}") for c in columns for out, value in c.outputs
    ).select(
        *[pl.col(f"__v_{out}").alias(out) for c in columns for out, _ in c.outputs],
        pl.col("_line").cast(pl.Int64),
        *[_NO_TEXT.alias(name) for name in REJECT_COLUMNS],
        pl.any_horizontal(doubts).alias(SUSPECT),
    )


def normalise(frame: pl.LazyFrame, kind: Kind, rename: dict[str, str], tz: str) -> pl.LazyFrame:
    present = set(frame.collect_schema().names())
    parsed: list[pl.Expr] = []  # step 1: every value, parsed once
    judged: list[pl.Expr] = []  # step 2: why a row is refused, from the parsed values
    outputs: list[str] = []
    checks: list[tuple[str, str, pl.Expr]] = []  # (canonical column, reason column, raw text), in column order
    if "_error" in present:
        checks.append(("", "_error", _NO_TEXT))
    columns = _columns(kind, rename, tz, common_times=False)
    for column in columns:
        raw = column.raw
        parsed += [value.alias(f"__v_{out}") for out, value in column.outputs]
        outputs += [out for out, _ in column.outputs]
        value = pl.col(f"__v_{column.name}")
        judged.append(pl.coalesce([column.reason(value),
                                   pl.when(column.too_early()).then(pl.lit(f"before {column.not_before}"))])
                      .alias(f"__r_{column.name}"))
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
        return chain.otherwise(_NO_TEXT)

    return _with_steps(frame, columns).with_columns(parsed).with_columns(judged).select(
        *[pl.col(f"__v_{out}").alias(out) for out in outputs],
        pl.col("_line").cast(pl.Int64),
        first_failure(lambda c: pl.lit(c[0] or None, dtype=pl.String)).alias("_reject_column"),
        first_failure(lambda c: pl.col(c[1])).alias("_reject_reason"),
        first_failure(lambda c: c[2].cast(pl.String)).alias("_reject_raw"),
    )
