-- calendar: each local date that holds a fact, in each grain's period (SPEC §3). The days orders were paid on are
-- among them: each holds its sales (kpi_facts_sales).
-- Grain: (on_date, grain). period_end is the first date after the period.
-- ISO weeks start on Monday; the ISO year and week number are those of the week's Thursday.
WITH dates AS (
    SELECT DISTINCT on_date FROM kpi_facts
),
weeks AS (
    SELECT
        on_date,
        CAST(date_trunc('week', on_date) AS DATE) AS week_start,
        CAST(CAST(date_trunc('week', on_date) AS DATE) + INTERVAL 3 DAY AS DATE) AS thursday
    FROM dates
)
SELECT on_date, 'day' AS grain, strftime(on_date, '%Y-%m-%d') AS period,
       on_date AS period_start, CAST(on_date + INTERVAL 1 DAY AS DATE) AS period_end
FROM dates
UNION ALL
SELECT on_date, 'week',
       CAST(year(thursday) AS VARCHAR) || '-W'
           || lpad(CAST(CAST(floor((dayofyear(thursday) - 1) / 7) AS INTEGER) + 1 AS VARCHAR), 2, '0'),
       week_start, CAST(week_start + INTERVAL 7 DAY AS DATE)
FROM weeks
UNION ALL
SELECT on_date, 'month', strftime(on_date, '%Y-%m'),
       CAST(date_trunc('month', on_date) AS DATE),
       CAST(CAST(date_trunc('month', on_date) AS DATE) + INTERVAL 1 MONTH AS DATE)
FROM dates
UNION ALL
SELECT on_date, 'quarter', CAST(year(on_date) AS VARCHAR) || '-Q' || CAST(quarter(on_date) AS VARCHAR),
       CAST(date_trunc('quarter', on_date) AS DATE),
       CAST(CAST(date_trunc('quarter', on_date) AS DATE) + INTERVAL 3 MONTH AS DATE)
FROM dates
UNION ALL
SELECT on_date, 'year', CAST(year(on_date) AS VARCHAR),
       CAST(date_trunc('year', on_date) AS DATE),
       CAST(CAST(date_trunc('year', on_date) AS DATE) + INTERVAL 1 YEAR AS DATE)
FROM dates
