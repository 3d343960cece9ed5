"""Measure: the KPI facts of every family and their numerators and denominators per grain (SPEC §3, §4, sql/)."""
from __future__ import annotations

import duckdb

from .. import sqlfiles

DAY_STEPS = ("kpi_facts_service", "kpi_facts_ratings", "kpi_facts_complaints", "kpi_facts_reviews", "kpi_facts")
ROLL_UP_STEPS = ("calendar", "kpi_target", "kpi_values")
STEPS = DAY_STEPS + ROLL_UP_STEPS
# Fact-grain families are read once, by kpi_facts, which sums them per day: views, so they are never stored.
VIEWS = {"kpi_facts_service", "kpi_facts_ratings", "kpi_facts_complaints", "kpi_facts_reviews"}


def measure_days(con: duckdb.DuckDBPyConnection) -> None:
    """kpi_facts: the day sums of every KPI's facts."""
    for step in DAY_STEPS:
        sqlfiles.build(con, step, view=step in VIEWS)


def roll_up(con: duckdb.DuckDBPyConnection) -> None:
    """kpi_values: every grain's numerators and denominators from the day sums (and the targets)."""
    for step in ROLL_UP_STEPS:
        sqlfiles.build(con, step, view=step in VIEWS)


def measure(con: duckdb.DuckDBPyConnection) -> None:
    measure_days(con)
    roll_up(con)
