-- kpi_facts_ratings: satisfaction (客户满意度, SPEC §4): ratings with level >= 4 over all ratings, by rated_at.
-- Grain: one row per rating.
SELECT 'satisfaction_rate' AS kpi, 'wall' AS clock, shop_id, agent_id, CAST(rated_at AS DATE) AS on_date,
       CAST(CASE WHEN level >= 4 THEN 1 ELSE 0 END AS DOUBLE) AS numerator,
       CAST(1 AS DOUBLE) AS denominator
FROM ratings
