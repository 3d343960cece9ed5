-- kpi_target: target achievement (目标达成率, SPEC §4): sales of orders paid in the period (the day sums of
-- kpi_facts_sales) over the target set for that shop and period label.
-- Grain: one row per target (shop_id, period); a missing target gives no row.
-- Emitted only when orders have ever been ingested.
WITH sales AS (
    SELECT f.shop_id, c.grain, c.period, sum(f.numerator) AS sales
    FROM kpi_facts AS f
    JOIN calendar AS c ON c.on_date = f.on_date
    WHERE f.kpi = 'target_achievement_rate'
    GROUP BY f.shop_id, c.grain, c.period
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
