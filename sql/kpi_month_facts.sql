-- kpi_month_facts: the day sums of kpi_facts summed per calendar month, from which kpi_values and kpi_target read
-- months, quarters and years, so that a night's roll-up of a year sums twelve months rather than every day.
-- Grain: (kpi, clock, shop_id, agent_id, month_start).
-- Stored with the day sums: an increment sums a changed month again from all its days (not by difference, as the
-- histograms' counts are: these sums are not whole numbers).
SELECT kpi, clock, shop_id, agent_id, CAST(date_trunc('month', on_date) AS DATE) AS month_start,
       sum(numerator) AS numerator, sum(denominator) AS denominator
FROM kpi_facts
GROUP BY kpi, clock, shop_id, agent_id, CAST(date_trunc('month', on_date) AS DATE)
