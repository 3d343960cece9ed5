-- kpi_distributions: median and 90th percentile of FRT and of response times per grain, period, shop, agent and
-- clock (README "Response-time distributions"), from the period's exact histogram (the sum of its days' kpi_histograms).
-- Grain: (grain, period, shop_id, agent_id, family, clock); agent_id null on shop rows.
-- Linear interpolation between order statistics: with the n values sorted x_0 <= ... <= x_(n-1) and h = (n-1)q,
-- the q-quantile is x_floor(h) + (h - floor(h)) (x_ceil(h) - x_floor(h)); x_r is the smallest value whose running
-- count exceeds r.
WITH placed AS (
    SELECT h.family, h.clock, h.shop_id, h.agent_id, h.seconds, h.observations, c.grain, c.period
    FROM kpi_histograms AS h
    JOIN calendar AS c ON c.on_date = h.on_date
),
histogram AS (
    SELECT grain, period, shop_id, CAST(NULL AS VARCHAR) AS agent_id, family, clock, seconds,
           sum(observations) AS observations
    FROM placed
    GROUP BY grain, period, shop_id, family, clock, seconds
    UNION ALL
    SELECT grain, period, shop_id, agent_id, family, clock, seconds, sum(observations)
    FROM placed
    WHERE agent_id IS NOT NULL
    GROUP BY grain, period, shop_id, agent_id, family, clock, seconds
),
running AS (
    SELECT
        *,
        sum(observations) OVER (
            PARTITION BY grain, period, shop_id, agent_id, family, clock
            ORDER BY seconds
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS up_to,
        sum(observations) OVER (PARTITION BY grain, period, shop_id, agent_id, family, clock) AS n
    FROM histogram
),
ranks AS (
    SELECT
        *,
        (n - 1) / 2 AS h50,
        (n - 1) * 9 / 10 AS h90
    FROM running
),
order_statistics AS (
    SELECT
        grain, period, shop_id, agent_id, family, clock,
        max(n) AS n, max(h50) AS h50, max(h90) AS h90,
        min(CASE WHEN up_to > floor(h50) THEN seconds END) AS lo50,
        min(CASE WHEN up_to > ceil(h50) THEN seconds END) AS hi50,
        min(CASE WHEN up_to > floor(h90) THEN seconds END) AS lo90,
        min(CASE WHEN up_to > ceil(h90) THEN seconds END) AS hi90
    FROM ranks
    GROUP BY grain, period, shop_id, agent_id, family, clock
)
SELECT
    grain, period, shop_id, agent_id, family, clock, n,
    lo50 + (h50 - floor(h50)) * (hi50 - lo50) AS median_seconds,
    lo90 + (h90 - floor(h90)) * (hi90 - lo90) AS p90_seconds
FROM order_statistics
