-- kpi_facts: every additive KPI fact of every family, summed per day: one small table to roll up (SPEC §3, §4).
-- Grain: (kpi, clock, shop_id, agent_id, on_date); columns kpi, clock, shop_id, agent_id, on_date, numerator,
-- denominator. A period's numerator and denominator are the sums of its days' sums, which equal the sums of its facts.
WITH facts AS (
    SELECT * FROM kpi_facts_service
    UNION ALL
    SELECT * FROM kpi_facts_ratings
    UNION ALL
    SELECT * FROM kpi_facts_complaints
    UNION ALL
    SELECT * FROM kpi_facts_reviews
    UNION ALL
    SELECT * FROM kpi_facts_feedback
    UNION ALL
    SELECT * FROM kpi_facts_refunds
    UNION ALL
    SELECT * FROM kpi_facts_disputes
    UNION ALL
    SELECT * FROM kpi_facts_bot_answers
    UNION ALL
    SELECT * FROM kpi_facts_sales
)
SELECT kpi, clock, shop_id, agent_id, on_date, sum(numerator) AS numerator, sum(denominator) AS denominator
FROM facts
GROUP BY kpi, clock, shop_id, agent_id, on_date
