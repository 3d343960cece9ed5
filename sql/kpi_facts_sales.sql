-- kpi_facts_sales: the sales of paid orders by payment day, the numerator of target achievement (目标达成率, SPEC §4).
-- kpi_target sums them per period, and calendar finds the payment days among the facts' days, from the day sums
-- rather than every order (README "Nightly increments"); kpi_values leaves them out.
-- Grain: one row per (shop_id, payment day): numerator the sum of its orders' amounts (an order without one adds
-- 0), denominator null. Shop level only.
-- Amounts are yuan written as decimals (SPEC §1.1): they are summed as DECIMAL(38, 4), exactly, and only the sum
-- is a DOUBLE. Summed as binary fractions, 17 orders of 10.10 gave 171.69999999999996, so a target of 202 was
-- 84.99999999999999 % achieved instead of 85 % (README "Bands": money is summed exactly).
SELECT 'target_achievement_rate' AS kpi, 'wall' AS clock, shop_id, CAST(NULL AS VARCHAR) AS agent_id,
       CAST(paid_at AS DATE) AS on_date,
       CAST(sum(CAST(coalesce(amount, 0) AS DECIMAL(38, 4))) AS DOUBLE) AS numerator,
       CAST(NULL AS DOUBLE) AS denominator
FROM orders
WHERE paid_at IS NOT NULL
GROUP BY shop_id, CAST(paid_at AS DATE)
