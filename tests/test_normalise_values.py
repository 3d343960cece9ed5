"""The value parsers of pipeline/normalise/values.py on their own: what each text gives, and why a text is refused."""
from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pipeline.normalise import values


def parse(parser, texts: list[str | None]) -> list[tuple]:
    raw = pl.col("raw")
    value, reason = parser(raw)
    frame = pl.DataFrame({"raw": texts}, schema={"raw": pl.String}).with_columns(value.alias("value"))
    return frame.with_columns(reason(pl.col("value")).alias("reason")).select("value", "reason").rows()


@pytest.mark.parametrize("text, expected", [
    ("99.50", (99.5, None)), ("¥1,200", (1200.0, None)), (" 12 元", (12.0, None)), ("0", (0.0, None)),
    ("-3", (None, "negative amount")), ("abc", (None, "not a number")),
    # polars reads these as floats; NaN compares above every number, so "NaN" passed a >= 0 check and landed
    ("NaN", (None, "not a number")), ("nan", (None, "not a number")), ("inf", (None, "not a number")),
    ("Infinity", (None, "not a number")), ("-inf", (None, "not a number")),
    # summed as DECIMAL(38, 4), an amount of 10^35 landed and then failed every computation of the lake
    ("1e15", (1e15, None)), ("1,000,000,000,000,001", (None, "amount over 10^15 yuan")),
    ("1e35", (None, "amount over 10^15 yuan")),
    (None, (None, None)),
])
def test_an_amount_is_a_finite_number_not_below_zero(text, expected):
    assert parse(values.decimal, [text]) == [expected]


@pytest.mark.parametrize("text, expected", [
    ("5", 5), (" 5 ", 5), ("5星", 5), (" 5星 ", 5), ("5 星", 5), ("5星 ", 5), ("3 stars", 3), ("1 star", 1),
    ("2 Stars", 2), (" 4 STAR ", 4),
    ("0", None), ("6星", None), ("4.5", None), ("nan", None),
])
def test_stars_are_a_whole_number_from_1_to_5_with_or_without_their_unit(text, expected):
    [(value, reason)] = parse(values.stars, [text])
    assert value == expected
    assert (reason is None) == (expected is not None)


@pytest.mark.parametrize("common_form_only", [True, False])
@pytest.mark.parametrize("text, expected", [
    ("1900-01-01 00:00:00", dt.datetime(1900, 1, 1)), ("2999-12-31 23:59:59", dt.datetime(2999, 12, 31, 23, 59, 59)),
    # a year 1 or 9999 parses, but the increment's day before or after it is no date Python holds: it failed
    ("1899-12-31 23:59:59", None), ("3000-01-01 00:00:00", None), ("0001-01-01 00:00:00", None),
    ("9999-12-31 23:59:59", None),
])
def test_a_time_is_of_the_years_1900_to_2999(text, expected, common_form_only):
    [(value, reason)] = parse(lambda raw: values.timestamp(raw, "Asia/Shanghai", common_form_only), [text])
    assert value == expected
    assert (reason == values.TIME_REASON) == (expected is None)


@pytest.mark.parametrize("text, expected", [
    # the bounds are of local time: Shanghai's offset before 1901 was its mean solar time, +08:05:43
    ("1899-12-31T23:00:00Z", dt.datetime(1900, 1, 1, 7, 5, 43)), ("2999-12-31T16:00:00Z", None),
    ("2999-12-31T15:59:59Z", dt.datetime(2999, 12, 31, 23, 59, 59)),
])
def test_the_years_are_those_of_the_local_time(text, expected):
    [(value, _)] = parse(lambda raw: values.timestamp(raw, "Asia/Shanghai"), [text])
    assert value == expected
