"""Measure: the KPI facts of every family and their numerators and denominators per grain (SPEC §3, §4, sql/)."""
from __future__ import annotations

import duckdb

from .. import sqlfiles

STEPS = (
    "kpi_facts_service", "kpi_facts_ratings", "kpi_facts_complaints", "kpi_facts_reviews", "kpi_facts",
    "calendar", "kpi_target", "kpi_values",
)


def measure(con: duckdb.DuckDBPyConnection) -> None:
    for step in STEPS:
        sqlfiles.build(con, step)
