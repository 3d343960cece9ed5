-- conversions: each paid order and the inquiry session it credits (询单转化, SPEC §2.4).
-- Grain: one row per paid order that credits a session (order_id).
-- The credited session is the latest inquiry session of the same shop and customer that started at or before
-- paid_at, provided paid_at is before the end of the calendar day after that session's start day.
WITH paid AS (
    SELECT order_id, shop_id, customer_id, paid_at, amount
    FROM orders
    WHERE paid_at IS NOT NULL
),
latest_inquiry AS (
    SELECT
        p.order_id, p.shop_id, p.customer_id, p.paid_at, p.amount,
        s.session_id, s.started_at, s.started_on,
        row_number() OVER (
            PARTITION BY p.order_id ORDER BY s.started_at DESC, s.session_id DESC
        ) AS recency
    FROM paid AS p
    JOIN sessions AS s
        ON s.shop_id = p.shop_id AND s.customer_id = p.customer_id
       AND s.is_inquiry AND s.started_at <= p.paid_at
)
SELECT order_id, shop_id, customer_id, paid_at, amount, session_id, started_at AS session_started_at
FROM latest_inquiry
WHERE recency = 1
  AND paid_at < CAST(started_on + INTERVAL 2 DAY AS TIMESTAMP)
