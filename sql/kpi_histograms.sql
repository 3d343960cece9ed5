-- kpi_histograms: how many measured response times took each exact number of seconds, per day (README
-- "Response-time distributions"). Summed over a period's days they give the period's exact distribution, from which
-- kpi_distributions reads medians and 90th percentiles: per-day percentiles could not be combined.
-- Grain: (family, clock, shop_id, agent_id, on_date, seconds).
SELECT family, clock, shop_id, agent_id, on_date, seconds, CAST(count(*) AS DOUBLE) AS observations
FROM response_times
WHERE seconds IS NOT NULL
GROUP BY family, clock, shop_id, agent_id, on_date, seconds
