-- turns: the customer turns (回合) of inquiry sessions and the human reply that answers each (SPEC §2.3).
-- Grain: (shop_id, session_id, turn_no).
-- Only customer and human agent messages count: a turn starts at a customer message that is the session's first
-- customer message or follows a human agent message, and is answered by the next human agent message. Bots answer
-- nothing and split nothing. response_seconds is null for an unanswered turn.
WITH talk AS (
    SELECT
        m.shop_id, m.session_id, m.agent_id, m.sender_role, m.sent_at, m.pos,
        s.started_on,
        lag(m.sender_role) OVER (PARTITION BY m.shop_id, m.session_id ORDER BY m.pos) AS prev_role
    FROM message_sessions AS m
    JOIN sessions AS s ON s.shop_id = m.shop_id AND s.session_id = m.session_id
    WHERE s.is_inquiry AND m.sender_role IN ('customer', 'agent')
),
numbered AS (
    SELECT
        *,
        CAST(sum(CASE WHEN sender_role = 'customer' AND (prev_role IS NULL OR prev_role = 'agent') THEN 1 ELSE 0 END)
            OVER (PARTITION BY shop_id, session_id ORDER BY pos
                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS turn_no
    FROM talk
),
starts AS (
    SELECT shop_id, session_id, started_on, turn_no, sent_at AS started_at
    FROM numbered
    WHERE sender_role = 'customer' AND (prev_role IS NULL OR prev_role = 'agent')
),
answers AS (
    SELECT shop_id, session_id, turn_no, sent_at AS answered_at, agent_id
    FROM numbered
    WHERE sender_role = 'agent' AND prev_role = 'customer'
)
SELECT
    s.shop_id,
    s.session_id,
    s.turn_no,
    s.started_on,
    s.started_at,
    a.answered_at,
    a.agent_id,
    CASE
        WHEN a.answered_at IS NOT NULL
        THEN CAST(date_diff('microsecond', s.started_at, a.answered_at) AS DOUBLE) / 1e6
    END AS response_seconds
FROM starts AS s
LEFT JOIN answers AS a
    ON a.shop_id = s.shop_id AND a.session_id = s.session_id AND a.turn_no = s.turn_no
