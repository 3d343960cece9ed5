"""Measure: the KPI facts of every family and their numerators and denominators per grain (SPEC §3, §4, sql/)."""
from __future__ import annotations

import duckdb

from .. import sqlfiles

FACT_FAMILIES = ("kpi_facts_service", "kpi_facts_ratings", "kpi_facts_complaints", "kpi_facts_reviews",
                 "kpi_facts_feedback", "kpi_facts_refunds", "kpi_facts_disputes", "kpi_facts_bot_answers")
DAY_STEPS = ("response_times", *FACT_FAMILIES, "kpi_facts", "kpi_histograms")
ROLL_UP_STEPS = ("calendar", "kpi_target", "kpi_values", "kpi_distributions")
STEPS = DAY_STEPS + ROLL_UP_STEPS
# Fact-grain relations are read by the day sums only (kpi_facts, kpi_histograms): views, so they are never stored.
VIEWS = {"response_times", *FACT_FAMILIES}


def measure_days(con: duckdb.DuckDBPyConnection) -> None:
    """kpi_facts and kpi_histograms: the day sums of every KPI's facts, and the day histograms of response times."""
    for step in DAY_STEPS:
        sqlfiles.build(con, step, view=step in VIEWS)


def roll_up(con: duckdb.DuckDBPyConnection, distributions: bool = True) -> None:
    """kpi_values and kpi_distributions: every grain's numerators and denominators from the day sums (and the
    targets), and its medians and 90th percentiles from the day histograms (unless `distributions` is False: an
    increment computes those for the changed periods only)."""
    for step in ROLL_UP_STEPS:
        if distributions or step != "kpi_distributions":
            sqlfiles.build(con, step, view=step in VIEWS)


def measure(con: duckdb.DuckDBPyConnection) -> None:
    measure_days(con)
    roll_up(con)
