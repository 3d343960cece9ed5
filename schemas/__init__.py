"""pandera schemas of every table the pipeline lands or publishes, one DataFrameModel per table.

`TABLES` maps a table name to its model. The lake's kinds and rejects are in `sources`, the derived tables and the
published KPI table in `derived`.
"""
from .derived import (Conversions, Kpi, KpiFacts, KpiHistograms, KpiMonthFacts, KpiMonthHistograms, Sessions,
                      Turns)
from .sources import (BotAnswers, Complaints, Disputes, Feedback, Messages, Orders, Ratings, Refunds, Rejects,
                      Reviews, Targets)

TABLES = {
    "messages": Messages, "ratings": Ratings, "orders": Orders, "complaints": Complaints, "reviews": Reviews,
    "targets": Targets, "refunds": Refunds, "disputes": Disputes, "feedback": Feedback, "bot_answers": BotAnswers,
    "rejects": Rejects, "sessions": Sessions, "turns": Turns, "conversions": Conversions,
    "kpi_facts": KpiFacts, "kpi_month_facts": KpiMonthFacts, "kpi_histograms": KpiHistograms,
    "kpi_month_histograms": KpiMonthHistograms, "kpi": Kpi,
}

__all__ = ["TABLES", *(m.__name__ for m in TABLES.values())]
