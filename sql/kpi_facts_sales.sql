-- kpi_facts_sales: the sales of paid orders by payment day, the numerator of target achievement (目标达成率, SPEC §4).
-- kpi_target sums them per period, and calendar finds the payment days among the facts' days, from the day sums
-- rather than every order (README "Nightly increments"); kpi_values leaves them out.
-- Grain: one row per paid order (numerator its amount, 0 when it has none; denominator null). Shop level only.
SELECT 'target_achievement_rate' AS kpi, 'wall' AS clock, shop_id, CAST(NULL AS VARCHAR) AS agent_id,
       CAST(paid_at AS DATE) AS on_date, CAST(coalesce(amount, 0) AS DOUBLE) AS numerator,
       CAST(NULL AS DOUBLE) AS denominator
FROM orders
WHERE paid_at IS NOT NULL
