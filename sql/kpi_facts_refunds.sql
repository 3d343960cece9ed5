-- kpi_facts_refunds: refund/return duration (退款退货时长, Table A.2): hours from request to completion, averaged
-- over the refunds completed in the period (by completed_at: a duration is known once the refund completes).
-- Grain: one row per completed refund. Shop level only.
SELECT 'refund_duration_hours' AS kpi, 'wall' AS clock, shop_id, CAST(NULL AS VARCHAR) AS agent_id,
       CAST(completed_at AS DATE) AS on_date,
       CAST(date_diff('microsecond', requested_at, completed_at) AS DOUBLE) / 3600e6 AS numerator,
       CAST(1 AS DOUBLE) AS denominator
FROM refunds
WHERE completed_at IS NOT NULL
