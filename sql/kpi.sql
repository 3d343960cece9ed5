-- kpi: the published KPI table (SPEC §4–§6): value, band and provisional flag of every kpi_values row.
-- Grain: (grain, period, shop_id, agent_id, kpi).
-- value: seconds for the two response times, else a percentage; null (band no_data) when the denominator is 0.
-- band: from `thresholds` (one row per KPI with levels and/or a pass limit); values are compared unrounded.
-- provisional: a conversion row whose attribution window (to the end of the day after the period's last day) is
-- not yet closed by the latest time seen anywhere in the lake.
WITH seen AS (
    SELECT max(t) AS seen_until FROM (
        SELECT max(sent_at) AS t FROM messages
        UNION ALL SELECT max(rated_at) FROM ratings
        UNION ALL SELECT greatest(max(created_at), max(paid_at)) FROM orders  -- greatest skips nulls
        UNION ALL SELECT greatest(max(created_at), max(responded_at), max(resolved_at)) FROM complaints
        UNION ALL SELECT max(created_at) FROM reviews
    ) AS times
),
valued AS (
    SELECT
        v.*,
        CASE
            WHEN v.kpi IN ('frt_seconds', 'avg_response_seconds') THEN v.numerator / NULLIF(v.denominator, 0)
            ELSE v.numerator * 100 / NULLIF(v.denominator, 0)
        END AS value
    FROM kpi_values AS v
),
banded AS (
    SELECT
        v.*,
        CASE
            WHEN v.value IS NULL THEN 'no_data'
            WHEN t.pass_limit IS NOT NULL THEN
                CASE
                    WHEN t.better = 'lower' AND v.value <= t.pass_limit THEN 'pass'
                    WHEN t.better = 'higher' AND v.value >= t.pass_limit THEN 'pass'
                    ELSE 'fail'
                END
            WHEN t.aaa IS NULL THEN 'unrated'
            WHEN t.better = 'lower' THEN
                CASE
                    WHEN v.value < t.aaaaa OR (v.value = t.aaaaa AND NOT t.aaaaa_strict) THEN 'AAAAA'
                    WHEN v.value < t.aaaa OR (v.value = t.aaaa AND NOT t.aaaa_strict) THEN 'AAAA'
                    WHEN v.value < t.aaa OR (v.value = t.aaa AND NOT t.aaa_strict) THEN 'AAA'
                    ELSE 'below'
                END
            ELSE
                CASE
                    WHEN v.value > t.aaaaa OR (v.value = t.aaaaa AND NOT t.aaaaa_strict) THEN 'AAAAA'
                    WHEN v.value > t.aaaa OR (v.value = t.aaaa AND NOT t.aaaa_strict) THEN 'AAAA'
                    WHEN v.value > t.aaa OR (v.value = t.aaa AND NOT t.aaa_strict) THEN 'AAA'
                    ELSE 'below'
                END
        END AS band
    FROM valued AS v
    LEFT JOIN thresholds AS t ON t.kpi = v.kpi
)
SELECT
    b.grain,
    b.period,
    b.period_start,
    b.shop_id,
    b.agent_id,
    b.kpi,
    b.value,
    b.numerator,
    b.denominator,
    b.band,
    coalesce(
        b.kpi = 'inquiry_conversion_rate'
        AND s.seen_until < CAST(b.period_end + INTERVAL 1 DAY AS TIMESTAMP),
        false
    ) AS provisional
FROM banded AS b
CROSS JOIN seen AS s
