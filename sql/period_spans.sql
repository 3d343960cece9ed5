-- period_spans: every (grain, period) of `calendar` with the span of its dates (its first and last date with facts)
-- and a number per distinct span. Periods over the same dates (a first month that is all its quarter and year so
-- far, a week of one day) have the same values: kpi_values and kpi_distributions compute them once per span.
-- Grain: (grain, period). of_months is 1 when a month, quarter or year has the span: it then holds whole months.
WITH periods AS (
    SELECT grain, period, period_start, period_end, min(on_date) AS first_day, max(on_date) AS last_day
    FROM calendar
    GROUP BY grain, period, period_start, period_end
),
spans AS (
    SELECT first_day, last_day,
           max(CASE WHEN grain IN ('month', 'quarter', 'year') THEN 1 ELSE 0 END) AS of_months,
           row_number() OVER (ORDER BY first_day, last_day) AS span_no
    FROM periods
    GROUP BY first_day, last_day
)
SELECT p.grain, p.period, p.period_start, p.period_end, s.span_no, s.first_day, s.last_day, s.of_months
FROM periods AS p
JOIN spans AS s ON s.first_day = p.first_day AND s.last_day = p.last_day
