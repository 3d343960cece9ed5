-- kpi_target: target achievement (目标达成率, SPEC §4): sales of orders paid in the period over the target set for
-- that shop and period label. Grain: one row per target (shop_id, period); a missing target gives no row.
-- Emitted only when orders have ever been ingested.
WITH daily_sales AS (
    SELECT shop_id, CAST(paid_at AS DATE) AS paid_on, sum(amount) AS sales
    FROM orders
    WHERE paid_at IS NOT NULL
    GROUP BY shop_id, CAST(paid_at AS DATE)
),
sales AS (
    SELECT d.shop_id, c.grain, c.period, sum(d.sales) AS sales
    FROM daily_sales AS d
    JOIN calendar AS c ON c.on_date = d.paid_on
    GROUP BY d.shop_id, c.grain, c.period
)
SELECT
    t.grain, t.period, t.period_start,
    CAST(NULL AS DATE) AS period_end,
    t.shop_id, CAST(NULL AS VARCHAR) AS agent_id,
    'target_achievement_rate' AS kpi,
    'wall' AS clock,
    CAST(coalesce(s.sales, 0) AS DOUBLE) AS numerator,
    CAST(t.target_sales AS DOUBLE) AS denominator
FROM targets AS t
LEFT JOIN sales AS s ON s.shop_id = t.shop_id AND s.grain = t.grain AND s.period = t.period
WHERE EXISTS (SELECT 1 FROM lake_kinds WHERE kind = 'orders')
