-- kpi_month_histograms: the day histograms of response times (kpi_histograms) summed per calendar month, from which
-- kpi_distributions reads months, quarters and years (README "Response-time distributions").
-- Grain: (family, clock, shop_id, agent_id, month_start, seconds).
-- Stored with the day histograms: an increment gives this file a month's stored rows (dated its first day), its
-- changed days as they are now and, with their counts negated, as they were; a number of seconds whose count falls
-- to 0 is then left out (HAVING), and the month is summed from its changed days only.
SELECT family, clock, shop_id, agent_id, CAST(date_trunc('month', on_date) AS DATE) AS month_start, seconds,
       sum(observations) AS observations
FROM kpi_histograms
GROUP BY family, clock, shop_id, agent_id, CAST(date_trunc('month', on_date) AS DATE), seconds
HAVING sum(observations) > 0
