-- kpi_values: numerator and denominator of every KPI per grain, period, shop and agent (SPEC §3, §4).
-- Grain: (grain, period, shop_id, agent_id, kpi); agent_id null on shop rows.
-- Every grain sums the day sums of kpi_facts (never finer periods' values); agent rows leave out facts with no agent.
WITH placed AS (
    SELECT f.kpi, f.shop_id, f.agent_id, f.numerator, f.denominator,
           c.grain, c.period, c.period_start, c.period_end
    FROM kpi_facts AS f
    JOIN calendar AS c ON c.on_date = f.on_date
)
SELECT grain, period, period_start, period_end, shop_id, CAST(NULL AS VARCHAR) AS agent_id, kpi,
       sum(numerator) AS numerator, sum(denominator) AS denominator
FROM placed
GROUP BY grain, period, period_start, period_end, shop_id, kpi
UNION ALL
SELECT grain, period, period_start, period_end, shop_id, agent_id, kpi,
       sum(numerator), sum(denominator)
FROM placed
WHERE agent_id IS NOT NULL
GROUP BY grain, period, period_start, period_end, shop_id, agent_id, kpi
UNION ALL
SELECT grain, period, period_start, period_end, shop_id, agent_id, kpi, numerator, denominator
FROM kpi_target
