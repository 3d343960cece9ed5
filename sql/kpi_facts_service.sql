-- kpi_facts_service: the additive facts of the session KPIs (SPEC §4): FRT, average response time, reply rate and
-- inquiry conversion rate. Every KPI value is sum(numerator) / sum(denominator) over a period's facts.
-- Grain: one row per (kpi, inquiry session) or, for avg_response_seconds, per (kpi, turn).
-- agent_id is the agent the KPI is attributed to: the session's agent, or for response times the answering agent.
WITH inquiries AS (
    SELECT shop_id, session_id, agent_id, started_on, replied, frt_seconds
    FROM sessions
    WHERE is_inquiry
),
credited AS (
    SELECT DISTINCT shop_id, session_id FROM conversions
)
SELECT 'frt_seconds' AS kpi, shop_id, agent_id, started_on AS on_date,
       coalesce(frt_seconds, CAST(0 AS DOUBLE)) AS numerator,
       CAST(CASE WHEN replied THEN 1 ELSE 0 END AS DOUBLE) AS denominator
FROM inquiries
UNION ALL
SELECT 'reply_rate', shop_id, agent_id, started_on,
       CAST(CASE WHEN replied THEN 1 ELSE 0 END AS DOUBLE), CAST(1 AS DOUBLE)
FROM inquiries
UNION ALL
SELECT 'avg_response_seconds', shop_id, agent_id, started_on,
       coalesce(response_seconds, CAST(0 AS DOUBLE)),
       CAST(CASE WHEN response_seconds IS NOT NULL THEN 1 ELSE 0 END AS DOUBLE)
FROM turns
UNION ALL
SELECT 'inquiry_conversion_rate', i.shop_id, i.agent_id, i.started_on,
       CAST(CASE WHEN c.session_id IS NOT NULL THEN 1 ELSE 0 END AS DOUBLE), CAST(1 AS DOUBLE)
FROM inquiries AS i
LEFT JOIN credited AS c ON c.shop_id = i.shop_id AND c.session_id = i.session_id
WHERE EXISTS (SELECT 1 FROM lake_kinds WHERE kind = 'orders')
