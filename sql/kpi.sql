-- kpi: the published KPI table (SPEC §4–§6 and README "Reference"): value, band and provisional flag of every
-- kpi_values row, and the medians and 90th percentiles of kpi_distributions.
-- Grain: (grain, period, shop_id, agent_id, kpi, clock).
-- value by the KPI's unit (kpi_units): seconds and hours are numerator / denominator, percent that times 100, count
-- the numerator itself; null (band no_data) when the denominator is 0. A percentile has the value of
-- kpi_distributions, numerator null and the number of values as denominator; it has a row wherever its family's
-- mean has one (frt_seconds, avg_response_seconds).
-- band: from `thresholds` (one row per KPI with levels and/or a pass limit); values are compared unrounded, a
-- percent or seconds value exactly, as a ratio of decimals (compared).
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
    -- scale: what a value multiplies numerator / denominator by, where its band compares those two exactly
    -- (percent, seconds); null where the band compares the value itself (count, hours, percentiles).
    SELECT
        v.*,
        CASE u.unit
            WHEN 'percent' THEN CAST(CAST(v.numerator AS DECIMAL(38, 6)) * 100 AS DOUBLE) / NULLIF(v.denominator, 0)
            WHEN 'count' THEN v.numerator
            ELSE v.numerator / NULLIF(v.denominator, 0)
        END AS value,
        CASE u.unit WHEN 'percent' THEN 100 WHEN 'seconds' THEN 1 END AS scale
    FROM kpi_values AS v
    JOIN kpi_units AS u ON u.kpi = v.kpi
    UNION ALL
    SELECT *, CAST(NULL AS INTEGER) AS scale FROM percentiles
),
compared AS (
    -- The sign of value - threshold for each threshold (null where there is none). A ratio of counts, of money (to
    -- 1/10000 yuan) or of durations (to the microsecond) within a billionth of a threshold is decided exactly:
    -- scale * numerator against threshold * denominator, in DECIMAL(38, 6), whose cast of each DOUBLE gives back the
    -- decimal it stands for. So a value exactly on a threshold is on it (SPEC §5: compared unrounded), whatever the
    -- last bit of its DOUBLE. Further away the DOUBLE's sign is the exact one (and costs a tenth as much).
    SELECT
        v.*, t.better, t.pass_limit, t.aaa, t.aaaaa_strict, t.aaaa_strict, t.aaa_strict,
        CASE WHEN v.scale IS NOT NULL AND abs(v.value - t.pass_limit) <= 1e-9 * (abs(t.pass_limit) + 1)
             THEN sign(v.scale * CAST(v.numerator AS DECIMAL(38, 6))
                       - CAST(t.pass_limit AS DECIMAL(38, 6)) * CAST(v.denominator AS DECIMAL(38, 6)))
             ELSE sign(v.value - t.pass_limit) END AS vs_limit,
        CASE WHEN v.scale IS NOT NULL AND abs(v.value - t.aaaaa) <= 1e-9 * (abs(t.aaaaa) + 1)
             THEN sign(v.scale * CAST(v.numerator AS DECIMAL(38, 6))
                       - CAST(t.aaaaa AS DECIMAL(38, 6)) * CAST(v.denominator AS DECIMAL(38, 6)))
             ELSE sign(v.value - t.aaaaa) END AS vs_aaaaa,
        CASE WHEN v.scale IS NOT NULL AND abs(v.value - t.aaaa) <= 1e-9 * (abs(t.aaaa) + 1)
             THEN sign(v.scale * CAST(v.numerator AS DECIMAL(38, 6))
                       - CAST(t.aaaa AS DECIMAL(38, 6)) * CAST(v.denominator AS DECIMAL(38, 6)))
             ELSE sign(v.value - t.aaaa) END AS vs_aaaa,
        CASE WHEN v.scale IS NOT NULL AND abs(v.value - t.aaa) <= 1e-9 * (abs(t.aaa) + 1)
             THEN sign(v.scale * CAST(v.numerator AS DECIMAL(38, 6))
                       - CAST(t.aaa AS DECIMAL(38, 6)) * CAST(v.denominator AS DECIMAL(38, 6)))
             ELSE sign(v.value - t.aaa) END AS vs_aaa
    FROM valued AS v
    LEFT JOIN thresholds AS t ON t.kpi = v.kpi
),
banded AS (
    -- better 'higher': a level is reached above its threshold, or on it unless the level is strict; 'lower' below
    SELECT
        c.*,
        CASE
            WHEN c.value IS NULL THEN 'no_data'
            WHEN c.pass_limit IS NOT NULL THEN
                CASE
                    WHEN c.better = 'lower' AND c.vs_limit <= 0 THEN 'pass'
                    WHEN c.better = 'higher' AND c.vs_limit >= 0 THEN 'pass'
                    ELSE 'fail'
                END
            WHEN c.aaa IS NULL THEN 'unrated'
            WHEN c.better = 'lower' THEN
                CASE
                    WHEN c.vs_aaaaa < 0 OR (c.vs_aaaaa = 0 AND NOT c.aaaaa_strict) THEN 'AAAAA'
                    WHEN c.vs_aaaa < 0 OR (c.vs_aaaa = 0 AND NOT c.aaaa_strict) THEN 'AAAA'
                    WHEN c.vs_aaa < 0 OR (c.vs_aaa = 0 AND NOT c.aaa_strict) THEN 'AAA'
                    ELSE 'below'
                END
            ELSE
                CASE
                    WHEN c.vs_aaaaa > 0 OR (c.vs_aaaaa = 0 AND NOT c.aaaaa_strict) THEN 'AAAAA'
                    WHEN c.vs_aaaa > 0 OR (c.vs_aaaa = 0 AND NOT c.aaaa_strict) THEN 'AAAA'
                    WHEN c.vs_aaa > 0 OR (c.vs_aaa = 0 AND NOT c.aaa_strict) THEN 'AAA'
                    ELSE 'below'
                END
        END AS band
    FROM compared AS c
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
