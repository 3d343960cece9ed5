-- kpi_facts_service: the additive facts of the session KPIs (SPEC §4): FRT, average response time, FRT buckets,
-- reply rate and inquiry conversion rate, summed per day. Every KPI value is sum(numerator) / sum(denominator) over a
-- period's days.
-- Grain: (kpi, clock, shop_id, agent_id, on_date).
-- agent_id is the agent the KPI is attributed to (see response_times). Reply and conversion are wall-clock only.
-- Summed here, one grouping per source, rather than one row per session or turn summed by kpi_facts: the big
-- grouping of every family's facts then reads a few rows per day instead of about six per inquiry session (at 10M
-- messages 7.8M rows, and kpi_facts spilled 0.6 GB at DuckDB's memory limit).
WITH credited AS (
    SELECT DISTINCT shop_id, session_id FROM conversions
),
timed AS (
    -- response times (null: nothing measured) and, for FRT, the buckets, edges inclusive above: the 0-10 s bucket
    -- is exactly FRT <= 10, Table A.1's AAAAA
    SELECT
        family, clock, shop_id, agent_id, on_date,
        sum(coalesce(seconds, CAST(0 AS DOUBLE))) AS seconds,
        sum(CASE WHEN seconds IS NOT NULL THEN 1 ELSE 0 END) AS answered,
        sum(CASE WHEN seconds <= 10 THEN 1 ELSE 0 END) AS b_0_10,
        sum(CASE WHEN seconds > 10 AND seconds <= 20 THEN 1 ELSE 0 END) AS b_10_20,
        sum(CASE WHEN seconds > 20 AND seconds <= 30 THEN 1 ELSE 0 END) AS b_20_30,
        sum(CASE WHEN seconds > 30 AND seconds <= 60 THEN 1 ELSE 0 END) AS b_30_60,
        sum(CASE WHEN seconds > 60 AND seconds <= 300 THEN 1 ELSE 0 END) AS b_1_5min,
        sum(CASE WHEN seconds > 300 THEN 1 ELSE 0 END) AS b_over_5min
    FROM response_times
    GROUP BY family, clock, shop_id, agent_id, on_date
),
inquiries AS (
    SELECT
        i.shop_id, i.agent_id, i.started_on,
        count(*) AS inquiries,
        sum(CASE WHEN i.replied THEN 1 ELSE 0 END) AS replied,
        sum(CASE WHEN c.session_id IS NOT NULL THEN 1 ELSE 0 END) AS converted
    FROM sessions AS i
    LEFT JOIN credited AS c ON c.shop_id = i.shop_id AND c.session_id = i.session_id
    WHERE i.is_inquiry
    GROUP BY i.shop_id, i.agent_id, i.started_on
)
SELECT CASE WHEN family = 'frt' THEN 'frt_seconds' ELSE 'avg_response_seconds' END AS kpi, clock,
       shop_id, agent_id, on_date, seconds AS numerator, CAST(answered AS DOUBLE) AS denominator
FROM timed
UNION ALL
SELECT 'frt_bucket_0_10s', clock, shop_id, agent_id, on_date, CAST(b_0_10 AS DOUBLE), CAST(answered AS DOUBLE)
FROM timed WHERE family = 'frt'
UNION ALL
SELECT 'frt_bucket_10_20s', clock, shop_id, agent_id, on_date, CAST(b_10_20 AS DOUBLE), CAST(answered AS DOUBLE)
FROM timed WHERE family = 'frt'
UNION ALL
SELECT 'frt_bucket_20_30s', clock, shop_id, agent_id, on_date, CAST(b_20_30 AS DOUBLE), CAST(answered AS DOUBLE)
FROM timed WHERE family = 'frt'
UNION ALL
SELECT 'frt_bucket_30_60s', clock, shop_id, agent_id, on_date, CAST(b_30_60 AS DOUBLE), CAST(answered AS DOUBLE)
FROM timed WHERE family = 'frt'
UNION ALL
SELECT 'frt_bucket_1_5min', clock, shop_id, agent_id, on_date, CAST(b_1_5min AS DOUBLE), CAST(answered AS DOUBLE)
FROM timed WHERE family = 'frt'
UNION ALL
SELECT 'frt_bucket_over_5min', clock, shop_id, agent_id, on_date, CAST(b_over_5min AS DOUBLE),
       CAST(answered AS DOUBLE)
FROM timed WHERE family = 'frt'
UNION ALL
SELECT 'reply_rate', 'wall', shop_id, agent_id, started_on, CAST(replied AS DOUBLE), CAST(inquiries AS DOUBLE)
FROM inquiries
UNION ALL
SELECT 'inquiry_conversion_rate', 'wall', shop_id, agent_id, started_on, CAST(converted AS DOUBLE),
       CAST(inquiries AS DOUBLE)
FROM inquiries
WHERE EXISTS (SELECT 1 FROM lake_kinds WHERE kind = 'orders')
