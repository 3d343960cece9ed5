-- kpi_values: numerator and denominator of every KPI per grain, period, shop and agent (SPEC §3, §4).
-- Grain: (grain, period, shop_id, agent_id, kpi, clock); agent_id null on shop rows.
-- Days and weeks sum the day sums of kpi_facts, months, quarters and years the month sums of kpi_month_facts (never
-- finer periods' values); agent rows leave out facts with no agent.
-- dispute_count is 0 in every period in which the shop has any fact but no dispute, once disputes were ever
-- ingested: a period without disputes counts 0 rather than having no row (README "Table A.2"). (Here and not in
-- kpi_facts: a union of an aggregate with a query over itself fails in Spark 4.3's constraint propagation.)
-- Periods over the same dates are summed once, for their span (period_spans); a span of a month, quarter or year
-- (of_months) holds whole months.
WITH spans AS (
    SELECT DISTINCT span_no, first_day, last_day, of_months FROM period_spans
),
span_days AS (
    SELECT d.on_date, s.span_no
    FROM (SELECT DISTINCT on_date FROM calendar) AS d
    JOIN spans AS s ON d.on_date BETWEEN s.first_day AND s.last_day AND s.of_months = 0
),
span_months AS (
    SELECT DISTINCT CAST(date_trunc('month', d.on_date) AS DATE) AS month_start, s.span_no
    FROM (SELECT DISTINCT on_date FROM calendar) AS d
    JOIN spans AS s ON d.on_date BETWEEN s.first_day AND s.last_day AND s.of_months = 1
),
placed AS (
    -- a target's sales are summed per target, by kpi_target
    SELECT f.kpi, f.clock, f.shop_id, f.agent_id, f.numerator, f.denominator, d.span_no
    FROM kpi_facts AS f
    JOIN span_days AS d ON d.on_date = f.on_date
    WHERE f.kpi <> 'target_achievement_rate'
    UNION ALL
    SELECT f.kpi, f.clock, f.shop_id, f.agent_id, f.numerator, f.denominator, m.span_no
    FROM kpi_month_facts AS f
    JOIN span_months AS m ON m.month_start = f.month_start
    WHERE f.kpi <> 'target_achievement_rate'
),
shop_spans AS (
    SELECT span_no, shop_id, max(CASE WHEN kpi = 'dispute_count' THEN 1 ELSE 0 END) AS had_disputes
    FROM placed
    GROUP BY span_no, shop_id
),
sums AS (
    SELECT span_no, shop_id, CAST(NULL AS VARCHAR) AS agent_id, kpi, clock,
           sum(numerator) AS numerator, sum(denominator) AS denominator
    FROM placed
    GROUP BY span_no, shop_id, kpi, clock
    UNION ALL
    SELECT span_no, shop_id, agent_id, kpi, clock, sum(numerator), sum(denominator)
    FROM placed
    WHERE agent_id IS NOT NULL
    GROUP BY span_no, shop_id, agent_id, kpi, clock
    UNION ALL
    SELECT span_no, shop_id, CAST(NULL AS VARCHAR), 'dispute_count', 'wall', CAST(0 AS DOUBLE), CAST(NULL AS DOUBLE)
    FROM shop_spans
    WHERE had_disputes = 0 AND EXISTS (SELECT 1 FROM lake_kinds WHERE kind = 'disputes')
)
SELECT p.grain, p.period, p.period_start, p.period_end, s.shop_id, s.agent_id, s.kpi, s.clock,
       s.numerator, s.denominator
FROM sums AS s
JOIN period_spans AS p ON p.span_no = s.span_no
UNION ALL
SELECT grain, period, period_start, period_end, shop_id, agent_id, kpi, clock, numerator, denominator
FROM kpi_target
