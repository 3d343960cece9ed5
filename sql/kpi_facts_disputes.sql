-- kpi_facts_disputes: platform help rate (平台求助率: disputes the platform took part in over disputes) and online
-- dispute count (在线争议发生量: denominator null, the value is the count), by opened_at (Table A.2).
-- Grain: one row per (kpi, dispute). Shop level only. An empty platform_involved is "not involved".
SELECT 'platform_help_rate' AS kpi, 'wall' AS clock, shop_id, CAST(NULL AS VARCHAR) AS agent_id,
       CAST(opened_at AS DATE) AS on_date,
       CAST(CASE WHEN platform_involved THEN 1 ELSE 0 END AS DOUBLE) AS numerator,
       CAST(1 AS DOUBLE) AS denominator
FROM disputes
UNION ALL
SELECT 'dispute_count', 'wall', shop_id, CAST(NULL AS VARCHAR), CAST(opened_at AS DATE),
       CAST(1 AS DOUBLE), CAST(NULL AS DOUBLE)
FROM disputes
