-- kpi_facts: every additive KPI fact of every family, one table to roll up.
-- Grain: (kpi, fact); columns kpi, shop_id, agent_id, on_date, numerator, denominator.
SELECT * FROM kpi_facts_service
UNION ALL
SELECT * FROM kpi_facts_ratings
UNION ALL
SELECT * FROM kpi_facts_complaints
UNION ALL
SELECT * FROM kpi_facts_reviews
