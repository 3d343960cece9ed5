-- kpi_facts_complaints: complaint rate (客户投诉率, SPEC §4): complaints by created_at over paid orders by paid_at;
-- and the 24-hour rule (5.4.3.3 b 2): service-quality complaints whose solution reached the customer (resolved_at)
-- by the deadline, over service-quality complaints, by created_at. The deadline is the agreed time when one is set,
-- else created_at + complaint_feedback_window (24 h; exactly at the deadline is in time; unresolved is late).
-- Grain: one row per complaint (numerator 1) and one per paid order (denominator 1); one per service complaint.
-- Shop level only. The complaint rate needs both complaints and orders ever ingested.
WITH both_kinds AS (
    SELECT count(DISTINCT kind) = 2 AS present FROM lake_kinds WHERE kind IN ('complaints', 'orders')
)
SELECT 'complaint_rate' AS kpi, 'wall' AS clock, shop_id, CAST(NULL AS VARCHAR) AS agent_id,
       CAST(created_at AS DATE) AS on_date, CAST(1 AS DOUBLE) AS numerator, CAST(0 AS DOUBLE) AS denominator
FROM complaints
WHERE (SELECT present FROM both_kinds)
UNION ALL
SELECT 'complaint_rate', 'wall', shop_id, CAST(NULL AS VARCHAR), CAST(paid_at AS DATE),
       CAST(0 AS DOUBLE), CAST(1 AS DOUBLE)
FROM orders
WHERE paid_at IS NOT NULL AND (SELECT present FROM both_kinds)
UNION ALL
SELECT 'complaint_feedback_24h_rate', 'wall', c.shop_id, CAST(NULL AS VARCHAR), CAST(c.created_at AS DATE),
       CAST(CASE
           WHEN c.resolved_at IS NULL THEN 0
           WHEN c.agreed_at IS NOT NULL THEN CASE WHEN c.resolved_at <= c.agreed_at THEN 1 ELSE 0 END
           WHEN date_diff('microsecond', c.created_at, c.resolved_at) <= s.complaint_feedback_window_us THEN 1
           ELSE 0
       END AS DOUBLE),
       CAST(1 AS DOUBLE)
FROM complaints AS c
CROSS JOIN settings AS s
WHERE c.category = 'service'
