-- kpi_distributions: median and 90th percentile of FRT and of response times per grain, period, shop, agent and
-- clock (README "Response-time distributions"), from the period's exact histogram: days and weeks sum their days'
-- kpi_histograms, months, quarters and years their months' kpi_month_histograms.
-- Grain: (grain, period, shop_id, agent_id, family, clock); agent_id null on shop rows.
-- Linear interpolation between order statistics: with the n values sorted x_0 <= ... <= x_(n-1) and h = (n-1)q,
-- the q-quantile is x_floor(h) + (h - floor(h)) (x_ceil(h) - x_floor(h)); x_r is the smallest value whose running
-- count exceeds r.
-- Each (shop, agent, family, clock) series and each span of dates is numbered first (a few thousand rows), and the
-- pair is packed into one integer key (series_no * stride + span_no), so that the big grouping and the window work
-- on one integer instead of six text columns (at 10M messages: 9.6 s with the text columns, 6.7 s with two integers,
-- 4.8 s with one). Periods over the same dates share one computation (period_spans).
WITH series AS (
    -- shop rows (agent null) and agent rows
    SELECT shop_id, agent_id, family, clock,
           row_number() OVER (ORDER BY shop_id, agent_id NULLS FIRST, family, clock) AS series_no
    FROM (
        SELECT shop_id, CAST(NULL AS VARCHAR) AS agent_id, family, clock FROM kpi_histograms
        UNION
        SELECT shop_id, CAST(NULL AS VARCHAR) AS agent_id, family, clock FROM kpi_month_histograms
        UNION
        SELECT shop_id, agent_id, family, clock FROM kpi_histograms WHERE agent_id IS NOT NULL
        UNION
        SELECT shop_id, agent_id, family, clock FROM kpi_month_histograms WHERE agent_id IS NOT NULL
    ) AS s
),
spans AS (
    -- a span of a month, quarter or year (of_months) is summed from months; the others from days
    SELECT DISTINCT span_no, first_day, last_day, of_months FROM period_spans
),
stride AS (
    SELECT count(*) + 1 AS stride FROM spans
),
span_days AS (
    SELECT d.on_date, s.span_no, st.stride
    FROM (SELECT DISTINCT on_date FROM calendar) AS d
    JOIN spans AS s ON d.on_date BETWEEN s.first_day AND s.last_day AND s.of_months = 0
    CROSS JOIN stride AS st
),
span_months AS (
    SELECT DISTINCT CAST(date_trunc('month', d.on_date) AS DATE) AS month_start, s.span_no, st.stride
    FROM (SELECT DISTINCT on_date FROM calendar) AS d
    JOIN spans AS s ON d.on_date BETWEEN s.first_day AND s.last_day AND s.of_months = 1
    CROSS JOIN stride AS st
),
days AS (
    -- each day's histogram under its shop's series and its agent's
    SELECT s.series_no, h.on_date, h.seconds, h.observations
    FROM kpi_histograms AS h
    JOIN series AS s ON s.shop_id = h.shop_id AND s.family = h.family AND s.clock = h.clock AND s.agent_id IS NULL
    UNION ALL
    SELECT s.series_no, h.on_date, h.seconds, h.observations
    FROM kpi_histograms AS h
    JOIN series AS s ON s.shop_id = h.shop_id AND s.family = h.family AND s.clock = h.clock AND s.agent_id = h.agent_id
),
months AS (
    SELECT s.series_no, h.month_start, h.seconds, h.observations
    FROM kpi_month_histograms AS h
    JOIN series AS s ON s.shop_id = h.shop_id AND s.family = h.family AND s.clock = h.clock AND s.agent_id IS NULL
    UNION ALL
    SELECT s.series_no, h.month_start, h.seconds, h.observations
    FROM kpi_month_histograms AS h
    JOIN series AS s ON s.shop_id = h.shop_id AND s.family = h.family AND s.clock = h.clock AND s.agent_id = h.agent_id
),
placed AS (
    -- days into their day and week; months into their month, quarter and year
    SELECT n.series_no * d.stride + d.span_no AS key, n.seconds, n.observations
    FROM days AS n JOIN span_days AS d ON d.on_date = n.on_date
    UNION ALL
    SELECT h.series_no * m.stride + m.span_no, h.seconds, h.observations
    FROM months AS h JOIN span_months AS m ON m.month_start = h.month_start
),
histogram AS (
    SELECT key, seconds, sum(observations) AS observations
    FROM placed
    GROUP BY key, seconds
),
running AS (
    SELECT
        *,
        sum(observations) OVER (
            PARTITION BY key ORDER BY seconds
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS up_to,
        sum(observations) OVER (PARTITION BY key) AS n
    FROM histogram
),
ranks AS (
    SELECT *, (n - 1) / 2 AS h50, (n - 1) * 9 / 10 AS h90
    FROM running
),
order_statistics AS (
    SELECT
        key,
        max(n) AS n, max(h50) AS h50, max(h90) AS h90,
        min(CASE WHEN up_to > floor(h50) THEN seconds END) AS lo50,
        min(CASE WHEN up_to > ceil(h50) THEN seconds END) AS hi50,
        min(CASE WHEN up_to > floor(h90) THEN seconds END) AS lo90,
        min(CASE WHEN up_to > ceil(h90) THEN seconds END) AS hi90
    FROM ranks
    GROUP BY key
),
unpacked AS (
    -- stride is at least 1: NULLIF only states it for Spark's ANSI mode
    SELECT o.*, o.key % NULLIF(st.stride, 0) AS span_no,
           CAST((o.key - o.key % NULLIF(st.stride, 0)) / NULLIF(st.stride, 0) AS BIGINT) AS series_no
    FROM order_statistics AS o CROSS JOIN stride AS st
)
SELECT
    p.grain, p.period, s.shop_id, s.agent_id, s.family, s.clock, o.n,
    o.lo50 + (o.h50 - floor(o.h50)) * (o.hi50 - o.lo50) AS median_seconds,
    o.lo90 + (o.h90 - floor(o.h90)) * (o.hi90 - o.lo90) AS p90_seconds
FROM unpacked AS o
JOIN series AS s ON s.series_no = o.series_no
JOIN period_spans AS p ON p.span_no = o.span_no
