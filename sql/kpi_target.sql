-- kpi_target: target achievement (目标达成率, SPEC §4): sales of orders paid in the period (kpi_facts_sales: the
-- day sums for days and weeks, the month sums of kpi_month_facts for months, quarters and years) over the target set
-- for that shop and period label.
-- Grain: one row per target (shop_id, period); a missing target gives no row.
-- Emitted only when orders have ever been ingested. Sales are summed exactly, as DECIMAL(38, 4) (kpi_facts_sales).
WITH period_months AS (
    SELECT DISTINCT grain, period, CAST(date_trunc('month', on_date) AS DATE) AS month_start
    FROM calendar
    WHERE grain IN ('month', 'quarter', 'year')
),
sales AS (
    SELECT f.shop_id, c.grain, c.period, sum(CAST(f.numerator AS DECIMAL(38, 4))) AS sales
    FROM kpi_facts AS f
    JOIN calendar AS c ON c.on_date = f.on_date AND c.grain IN ('day', 'week')
    WHERE f.kpi = 'target_achievement_rate'
    GROUP BY f.shop_id, c.grain, c.period
    UNION ALL
    SELECT f.shop_id, m.grain, m.period, sum(CAST(f.numerator AS DECIMAL(38, 4)))
    FROM kpi_month_facts AS f
    JOIN period_months AS m ON m.month_start = f.month_start
    WHERE f.kpi = 'target_achievement_rate'
    GROUP BY f.shop_id, m.grain, m.period
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
