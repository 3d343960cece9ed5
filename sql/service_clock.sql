-- service_clock: the service-time clock reading at every moment a response time starts or ends (README "Service
-- hours"). Empty when no calendar is configured (service_days is empty).
-- Grain: one row per distinct sent_at of a customer or human agent message.
-- clock: service seconds from the first date of service_days to the moment, i.e. that date's clock_before plus the
-- elapsed part of each of the date's windows opened before the moment. A response's service time is the difference
-- of two readings: the clock stops outside the windows, and a message outside them starts it at the next opening.
WITH moments AS (
    SELECT DISTINCT sent_at AS at
    FROM message_sessions
    WHERE sender_role IN ('customer', 'agent')
      AND EXISTS (SELECT 1 FROM service_days)
)
SELECT
    m.at,
    d.clock_before + sum(
        CASE
            WHEN w.opens_at < m.at
            THEN CAST(date_diff('microsecond', w.opens_at, least(m.at, w.closes_at)) AS DOUBLE) / 1e6
            ELSE CAST(0 AS DOUBLE)
        END
    ) AS clock
FROM moments AS m
JOIN service_days AS d ON d.on_date = CAST(m.at AS DATE)
LEFT JOIN service_windows AS w ON w.on_date = d.on_date
GROUP BY m.at, d.clock_before
