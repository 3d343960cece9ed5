-- kpi_month_facts: the day sums of kpi_facts summed per calendar month, from which kpi_values and kpi_target read
-- months, quarters and years, so that a night's roll-up of a year sums twelve months rather than every day.
-- Grain: (kpi, clock, shop_id, agent_id, month_start).
-- Stored with the day sums: an increment sums a changed month again from all its days (not by difference, as the
-- histograms' counts are: these sums are not whole numbers). Sales (money, kpi_facts_sales) are summed exactly, as
-- DECIMAL(38, 4): a day's sum is the DOUBLE nearest to a decimal of at most four places, and the cast gives that
-- decimal back.
SELECT kpi, clock, shop_id, agent_id, CAST(date_trunc('month', on_date) AS DATE) AS month_start,
       CASE WHEN kpi = 'target_achievement_rate' THEN CAST(sum(CAST(numerator AS DECIMAL(38, 4))) AS DOUBLE)
            ELSE sum(numerator) END AS numerator,
       sum(denominator) AS denominator
FROM kpi_facts
GROUP BY kpi, clock, shop_id, agent_id, CAST(date_trunc('month', on_date) AS DATE)
