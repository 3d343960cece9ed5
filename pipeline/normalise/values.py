"""Polars expressions that turn one raw text column into a typed value and a reject reason (SPEC §1.1, §1.2).

Each parser returns (value, reason): `reason` is a function of the parsed value's column that gives null where the
text is absent or parsed, else why it is refused. Taking the parsed column (not the parsing expression) lets the
caller compute every value once and derive the reasons from the results.

Polars evaluates a subexpression as often as an expression repeats it (it does not share them here): a parser passes
what it uses more than once through `let`, which the caller makes an intermediate column computed once.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

import polars as pl

from ..kinds import CATEGORY_LABELS, FLAG_LABELS, LEVEL_LABELS, REASON_LABELS, ROLE_LABELS

Reason = Callable[[pl.Expr], pl.Expr]
Parsed = tuple[pl.Expr, Reason]
Let = Callable[[pl.Expr], pl.Expr]  # an expression → a reference to its value, computed once


def inline(expr: pl.Expr) -> pl.Expr:
    """The `let` that computes nothing ahead: the expression itself."""
    return expr

_OFFSET = r"(Z|[+-]\d{2}:?\d{2})$"
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M")
_NULL_TEXT = pl.lit(None, dtype=pl.String)


def _fail(raw: pl.Expr, ok: pl.Expr, reason: str) -> pl.Expr:
    return pl.when(raw.is_not_null() & ~ok).then(pl.lit(reason)).otherwise(_NULL_TEXT)


def _unless_parsed(raw: pl.Expr, reason: str) -> Callable[[pl.Expr], pl.Expr]:
    """Refused when there is text and it gave no value."""
    return lambda value: _fail(raw, value.is_not_null(), reason)


def _never(value: pl.Expr) -> pl.Expr:
    return _NULL_TEXT


def _lookup(text: pl.Expr, labels: dict[str, object], dtype: pl.DataType, let: Let = inline) -> pl.Expr:
    """labels[text], or null for text that is not a label.

    Written as a cast to an Enum of the labels (text outside it becomes null) and a few comparisons of the Enum's
    index, because that is elementwise: replace_strict with a mapping makes polars hold the whole column in memory
    instead of streaming it. The labels are ordered so that those of one value are adjacent."""
    values = list(dict.fromkeys(labels.values()))
    ordered = sorted(labels, key=lambda label: values.index(labels[label]))
    index = let(text.cast(pl.Enum(ordered), strict=False).to_physical())
    chain = None
    for i, label in enumerate(ordered):
        last_of_value = i + 1 == len(ordered) or labels[ordered[i + 1]] != labels[label]
        if last_of_value:
            then = pl.lit(labels[label], dtype=dtype)
            chain = pl.when(index <= i).then(then) if chain is None else chain.when(index <= i).then(then)
    return chain.otherwise(pl.lit(None, dtype=dtype))


def identifier(raw: pl.Expr, let: Let = inline) -> Parsed:
    # Excel exports pad ids with spaces/tabs or wrap them as ="123" to stop scientific notation.
    text = let(raw.str.strip_chars())
    text = let(pl.when(text.str.starts_with('="')).then(text.str.replace(r'^="(.*)"$', "$1")).otherwise(text))
    return pl.when(text.str.len_bytes() > 0).then(text), _never


def text(raw: pl.Expr, let: Let = inline) -> Parsed:
    return raw, _never


def _only_where_null(done: pl.Expr, text: pl.Expr) -> pl.Expr:
    # Parsing a column that is null where an earlier parser succeeded costs next to nothing for those rows.
    return pl.when(done.is_null()).then(text)


TIME_REASON = ("not a timestamp (expected YYYY-MM-DD HH:MM:SS, YYYY/MM/DD HH:MM:SS or ISO 8601 with optional offset, "
               "in the years 1900-2999)")
# A time of year 1 or 9999 parses, but the day before or after it is no date Python can hold, and the nightly
# increment's day arithmetic failed on it. Outside these years an export's time is a placeholder, not a time.
_EARLIEST, _AFTER_LATEST = datetime(1900, 1, 1), datetime(3000, 1, 1)


def _plausible(value: pl.Expr) -> pl.Expr:
    return pl.when(value.is_between(_EARLIEST, _AFTER_LATEST, closed="left")).then(value)


def timestamp(raw: pl.Expr, tz: str, common_form_only: bool = False, let: Let = inline) -> Parsed:
    """Local time of `tz`: a time without offset is already local; one with an offset is converted.

    `common_form_only` parses just `YYYY-MM-DD HH:MM:SS` (a first, cheap pass: most exports use only that form;
    the caller parses again in full when any value was refused)."""
    s = raw.str.strip_chars()
    fast = s.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
    if common_form_only:
        return _plausible(let(fast)), _unless_parsed(raw, TIME_REASON)
    rest = _only_where_null(fast, s).str.replace_all("/", "-").str.replace("T", " ")
    offset = rest.str.extract(_OFFSET, 1)
    base = rest.str.replace(_OFFSET, "").str.strip_chars()
    naive = None
    for f in _TIME_FORMATS:
        parsed = (base if naive is None else _only_where_null(naive, base)).str.to_datetime(
            f, strict=False, time_unit="us")
        naive = parsed if naive is None else pl.coalesce([naive, parsed])
    sign = pl.when(offset.str.starts_with("-")).then(-1).otherwise(1)
    digits = offset.str.replace_all(r"[^0-9]", "")
    offset_s = sign * (digits.str.slice(0, 2).cast(pl.Int64, strict=False) * 3600
                       + digits.str.slice(2, 2).cast(pl.Int64, strict=False) * 60)
    offset_s = pl.when(offset == "Z").then(0).otherwise(offset_s)
    converted = (
        pl.when(offset.is_not_null()).then(naive - pl.duration(seconds=offset_s))
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(tz)
        .dt.replace_time_zone(None)
    )
    value = let(pl.coalesce([fast, pl.when(offset.is_null()).then(naive).otherwise(converted)]))
    return _plausible(value), _unless_parsed(raw, TIME_REASON)


def role(raw: pl.Expr, let: Let = inline) -> Parsed:
    value = _lookup(raw.str.strip_chars().str.to_lowercase(), ROLE_LABELS, pl.String, let)
    reason = "unknown sender role (expected customer, agent, bot, system, 顾客/买家, 客服/卖家, 机器人/智能客服, 系统)"
    return value, _unless_parsed(raw, reason)


def _small_int(raw: pl.Expr, let: Let = inline) -> pl.Expr:
    number = let(raw.str.strip_chars().cast(pl.Float64, strict=False))
    return pl.when(number == number.floor()).then(number).otherwise(None).cast(pl.Int32, strict=False)


def level(raw: pl.Expr, let: Let = inline) -> Parsed:
    label = _lookup(raw.str.strip_chars(), LEVEL_LABELS, pl.Int32, let)
    number = _small_int(raw, let)
    value = let(pl.coalesce([label, number]))
    ok = value.is_between(1, 5)
    return pl.when(ok).then(value).otherwise(None), _unless_parsed(
        raw, "level outside 1–5 (or 很满意/满意/一般/不满意/很不满意)")


def stars(raw: pl.Expr, let: Let = inline) -> Parsed:
    value = let(_small_int(raw.str.strip_chars().str.replace(r"(?i)\s*(星|stars?)$", ""), let))
    ok = value.is_between(1, 5)
    return pl.when(ok).then(value).otherwise(None), _unless_parsed(raw, "rating outside 1–5 stars")


# Money is summed exactly as DECIMAL(38, 4) (sql/kpi_facts_sales.sql), which holds less than 10^34: a larger amount
# would pass ingestion and then fail every computation of the lake. 10^15 yuan leaves room for 10^18 of them.
LARGEST_AMOUNT = 1e15


def decimal(raw: pl.Expr, let: Let = inline) -> Parsed:
    number = let(raw.str.strip_chars().str.replace_all(r"[,，¥￥\s]|元$", "").cast(pl.Float64, strict=False))
    # The cast reads "NaN", "inf" and "Infinity" too, and polars orders NaN above every number: an amount is finite.
    finite = number.is_finite()
    value = pl.when(finite & (number >= 0) & (number <= LARGEST_AMOUNT)).then(number).otherwise(None)
    def reason(parsed: pl.Expr) -> pl.Expr:
        return (
            pl.when(raw.is_null() | parsed.is_not_null()).then(_NULL_TEXT)
            .when(finite & (number < 0)).then(pl.lit("negative amount"))
            .when(finite).then(pl.lit("amount over 10^15 yuan"))
            .otherwise(pl.lit("not a number"))
        )
    return value, reason


def category(raw: pl.Expr, let: Let = inline) -> Parsed:
    # Labels outside the standard's two categories (物流, 其他 ...) are kept as written: they still count as complaints.
    s = let(raw.str.strip_chars())
    value = pl.coalesce([_lookup(s.str.to_lowercase(), CATEGORY_LABELS, pl.String, let), s])
    return value, _never


def reason(raw: pl.Expr, let: Let = inline) -> Parsed:
    # Refund reasons outside the standard's (5.4.3.2) are kept as written, like complaint categories.
    s = let(raw.str.strip_chars())
    value = s.str.to_lowercase().replace_strict(REASON_LABELS, default=s, return_dtype=pl.String)
    return pl.when(s.str.len_bytes() > 0).then(value), _never


def flag(raw: pl.Expr, let: Let = inline) -> Parsed:
    s = let(raw.str.strip_chars().str.to_lowercase())
    text = let(pl.when(s.str.len_bytes() > 0).then(s))
    value = text.replace_strict(FLAG_LABELS, default=None, return_dtype=pl.Boolean)
    return value, lambda parsed: _fail(text, parsed.is_not_null(),
                                       "not a yes/no value (expected true/false, yes/no, 1/0, 是/否, 正确/错误, 已处理/未处理)")


_PERIOD_PATTERNS = {
    "day": r"^(\d{4})-(\d{1,2})-(\d{1,2})$",
    "week": r"^(\d{4})-?W(\d{1,2})$",
    "month": r"^(\d{4})-(\d{1,2})$",
    "quarter": r"^(\d{4})-?Q([1-4])$",
    "year": r"^(\d{4})$",
}


def period(raw: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr, Callable[[pl.Expr], pl.Expr]]:
    """A period label of SPEC §3 → (normalised label, grain, period_start, reason of the label)."""
    s = raw.str.strip_chars().str.to_uppercase().str.replace_all("/", "-")
    p = _PERIOD_PATTERNS

    def part(grain: str, i: int) -> pl.Expr:
        return s.str.extract(p[grain], i).cast(pl.Int32, strict=False)

    def date(y: pl.Expr, m: pl.Expr | int, d: pl.Expr | int) -> pl.Expr:
        # Built as text and parsed leniently: pl.date() raises on 2026-13-01 instead of giving null.
        def two(x: pl.Expr | int) -> pl.Expr:
            return (x if isinstance(x, pl.Expr) else pl.lit(x)).cast(pl.String).str.zfill(2)

        text = pl.format("{}-{}-{}", y, two(m), two(d))
        return text.str.to_date("%Y-%m-%d", strict=False)

    day = date(part("day", 1), part("day", 2), part("day", 3))
    month = date(part("month", 1), part("month", 2), 1)
    quarter = date(part("quarter", 1), (part("quarter", 2) - 1) * 3 + 1, 1)
    year = date(part("year", 1), 1, 1)
    # ISO week 1 is the week holding 4 January; its Monday is the start.
    jan4 = date(part("week", 1), 1, 4)
    week1 = jan4 - pl.duration(days=jan4.dt.weekday() - 1)
    week = week1 + pl.duration(days=(part("week", 2) - 1) * 7)
    week_ok = part("week", 2).is_between(1, 53) & (
        (week + pl.duration(days=3)).dt.iso_year() == part("week", 1)
    )
    grain = (
        pl.when(s.str.contains(p["day"])).then(pl.lit("day"))
        .when(s.str.contains(p["week"])).then(pl.lit("week"))
        .when(s.str.contains(p["month"])).then(pl.lit("month"))
        .when(s.str.contains(p["quarter"])).then(pl.lit("quarter"))
        .when(s.str.contains(p["year"])).then(pl.lit("year"))
    )
    start = (
        pl.when(grain == "day").then(day)
        .when((grain == "week") & week_ok).then(week)
        .when(grain == "month").then(month)
        .when(grain == "quarter").then(quarter)
        .when(grain == "year").then(year)
    )
    label = (
        pl.when(grain == "day").then(start.dt.strftime("%Y-%m-%d"))
        .when(grain == "week").then(pl.format("{}-W{}", part("week", 1), part("week", 2).cast(pl.String).str.zfill(2)))
        .when(grain == "month").then(start.dt.strftime("%Y-%m"))
        .when(grain == "quarter").then(pl.format("{}-Q{}", part("quarter", 1), part("quarter", 2)))
        .when(grain == "year").then(start.dt.strftime("%Y"))
    )
    # the years timestamps may have (every label starts with its four-digit year): a target for 0001-Q1 was
    # labelled "1-Q1", which the landed part's schema refused
    year = s.str.slice(0, 4).cast(pl.Int32, strict=False)
    ok = start.is_not_null() & year.is_between(_EARLIEST.year, _AFTER_LATEST.year - 1)
    reason = _unless_parsed(raw, "not a period label (expected 2026-11-27, 2026-W48, 2026-11, 2026-Q4 or 2026, "
                                 "in the years 1900-2999)")
    return (
        pl.when(ok).then(label).otherwise(_NULL_TEXT),
        pl.when(ok).then(grain).otherwise(_NULL_TEXT),
        pl.when(ok).then(start).otherwise(None),
        reason,
    )
