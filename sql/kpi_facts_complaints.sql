-- kpi_facts_complaints: complaint rate (客户投诉率, SPEC §4): complaints by created_at over paid orders by paid_at.
-- Grain: one row per complaint (numerator 1) and one per paid order (denominator 1). Shop level only.
-- Emitted only when both complaints and orders have ever been ingested (a lake without complaints has no rate).
WITH both_kinds AS (
    SELECT count(DISTINCT kind) = 2 AS present FROM lake_kinds WHERE kind IN ('complaints', 'orders')
)
SELECT 'complaint_rate' AS kpi, shop_id, CAST(NULL AS VARCHAR) AS agent_id, CAST(created_at AS DATE) AS on_date,
       CAST(1 AS DOUBLE) AS numerator, CAST(0 AS DOUBLE) AS denominator
FROM complaints
WHERE (SELECT present FROM both_kinds)
UNION ALL
SELECT 'complaint_rate', shop_id, CAST(NULL AS VARCHAR), CAST(paid_at AS DATE),
       CAST(0 AS DOUBLE), CAST(1 AS DOUBLE)
FROM orders
WHERE paid_at IS NOT NULL AND (SELECT present FROM both_kinds)
