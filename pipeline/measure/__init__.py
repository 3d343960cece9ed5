"""Measure: the KPI facts of every family and their numerators and denominators per grain (SPEC §3, §4, sql/)."""
from __future__ import annotations

import duckdb

from .. import sqlfiles

FACT_FAMILIES = ("kpi_facts_service", "kpi_facts_ratings", "kpi_facts_complaints", "kpi_facts_reviews",
                 "kpi_facts_feedback", "kpi_facts_refunds", "kpi_facts_disputes", "kpi_facts_bot_answers",
                 "kpi_facts_sales")
DAY_STEPS = ("response_times", *FACT_FAMILIES, "kpi_facts", "kpi_histograms")
# The day histograms and the day sums summed per month: stored too, so that an increment adds its changed days to
# their months instead of summing every day of a month again (the histograms), and a roll-up of a year sums twelve
# months (both).
MONTH_STEPS = ("kpi_month_histograms", "kpi_month_facts")
# What every grain's values need besides the day sums: the periods of each date, and the latest time seen.
PERIOD_INPUTS = ("calendar", "seen")
PERIOD_STEPS = ("kpi_target", "period_spans", "kpi_values", "kpi_distributions")
ROLL_UP_STEPS = PERIOD_INPUTS + PERIOD_STEPS
STEPS = DAY_STEPS + MONTH_STEPS + ROLL_UP_STEPS
# Fact-grain relations are read by the day sums only (kpi_facts, kpi_histograms): views, so they are never stored.
VIEWS = {"response_times", *FACT_FAMILIES}


def measure_days(con: duckdb.DuckDBPyConnection) -> None:
    """kpi_facts and kpi_histograms: the day sums of every KPI's facts, and the day histograms of response times."""
    for step in DAY_STEPS:
        sqlfiles.build(con, step, view=step in VIEWS)


def measure_months(con: duckdb.DuckDBPyConnection, steps: tuple[str, ...] = MONTH_STEPS) -> None:
    """kpi_month_histograms and kpi_month_facts: the month sums of the day histograms and of the day sums. (`steps`:
    some of them.)"""
    for step in steps:
        sqlfiles.build(con, step)


def period_inputs(con: duckdb.DuckDBPyConnection, steps: tuple[str, ...] = PERIOD_INPUTS) -> None:
    for step in steps:
        sqlfiles.build(con, step)


def roll_up_periods(con: duckdb.DuckDBPyConnection, steps: tuple[str, ...] = PERIOD_STEPS) -> None:
    """kpi_values and kpi_distributions of the periods in `calendar`: numerators and denominators from the day sums
    (and the targets), medians and 90th percentiles from the day and month histograms. (`steps`: some of them, in
    order.)"""
    for step in steps:
        sqlfiles.build(con, step)


def roll_up(con: duckdb.DuckDBPyConnection) -> None:
    period_inputs(con)
    roll_up_periods(con)


def measure(con: duckdb.DuckDBPyConnection) -> None:
    measure_days(con)
    measure_months(con)
    roll_up(con)
