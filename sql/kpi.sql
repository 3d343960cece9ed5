-- kpi: the published KPI table (SPEC §4–§6 and README "Reference"): value, band and provisional flag of every
-- kpi_values row, and the medians and 90th percentiles of kpi_distributions.
-- Grain: (grain, period, shop_id, agent_id, kpi, clock).
-- value by the KPI's unit (kpi_units): seconds and hours are numerator / denominator, percent that times 100, count
-- the numerator itself; null (band no_data) when the denominator is 0. A percentile has the value of
-- kpi_distributions, numerator null and the number of values as denominator; it has a row wherever its family's
-- mean has one (frt_seconds, avg_response_seconds).
-- band: from `thresholds` (one row per KPI with levels and/or a pass limit); values are compared unrounded.
-- provisional: a conversion row whose attribution window (to the end of the day after the period's last day) is
-- not yet closed by the latest time seen anywhere in the lake (seen); a 24-hour-rule row whose last deadline (the
-- period's end plus complaint_feedback_window) is not yet passed.
WITH percentiles AS (
    SELECT v.grain, v.period, v.period_start, v.period_end, v.shop_id, v.agent_id,
           p.kpi, v.clock, CAST(NULL AS DOUBLE) AS numerator, v.denominator,
           CASE WHEN p.quantile = 'median' THEN d.median_seconds ELSE d.p90_seconds END AS value
    FROM kpi_values AS v
    JOIN (
        SELECT 'frt_seconds' AS mean_kpi, 'frt' AS family, 'frt_median_seconds' AS kpi, 'median' AS quantile
        UNION ALL SELECT 'frt_seconds', 'frt', 'frt_p90_seconds', 'p90'
        UNION ALL SELECT 'avg_response_seconds', 'response', 'response_median_seconds', 'median'
        UNION ALL SELECT 'avg_response_seconds', 'response', 'response_p90_seconds', 'p90'
    ) AS p ON p.mean_kpi = v.kpi
    LEFT JOIN kpi_distributions AS d
        ON d.grain = v.grain AND d.period = v.period AND d.shop_id = v.shop_id
        AND d.agent_id IS NOT DISTINCT FROM v.agent_id AND d.family = p.family AND d.clock = v.clock
),
valued AS (
    SELECT
        v.*,
        CASE u.unit
            WHEN 'percent' THEN v.numerator * 100 / NULLIF(v.denominator, 0)
            WHEN 'count' THEN v.numerator
            ELSE v.numerator / NULLIF(v.denominator, 0)
        END AS value
    FROM kpi_values AS v
    JOIN kpi_units AS u ON u.kpi = v.kpi
    UNION ALL
    SELECT * FROM percentiles
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
        AND s.seen_until < CAST(b.period_end + INTERVAL 1 DAY AS TIMESTAMP)
        OR b.kpi = 'complaint_feedback_24h_rate'
        AND date_diff('microsecond', CAST(b.period_end AS TIMESTAMP), s.seen_until) < w.complaint_feedback_window_us,
        false
    ) AS provisional,
    b.clock
FROM banded AS b
CROSS JOIN seen AS s
CROSS JOIN settings AS w
