-- turns: the customer turns (回合) of inquiry sessions and the human reply that answers each (SPEC §2.3).
-- Grain: (shop_id, session_id, turn_no).
-- Only customer and human agent messages count: a turn starts at a customer message that is the session's first
-- customer message or follows a human agent message, and is answered by the next human agent message. Bots answer
-- nothing and split nothing. response_seconds is null for an unanswered turn; response_service_seconds is the same
-- in service time (README "Service hours"), null also when no calendar is configured.
-- (message_sessions gives each message the times of the latest customer and agent message before it in the session;
-- at the same time a customer message comes before an agent message, so a tie means the agent came last.)
WITH starts AS (
    -- customer messages with no customer message since the latest agent message (or since the session began)
    SELECT
        m.shop_id, m.session_id, s.started_on, m.sent_at AS started_at, m.last_agent_at,
        row_number() OVER (PARTITION BY m.shop_id, m.session_id ORDER BY m.pos) AS turn_no
    FROM message_sessions AS m
    JOIN sessions AS s ON s.shop_id = m.shop_id AND s.session_id = m.session_id
    WHERE s.is_inquiry
      AND m.sender_role = 'customer'
      AND (m.last_customer_at IS NULL OR m.last_agent_at >= m.last_customer_at)
),
answers AS (
    -- agent messages whose latest customer or agent message before them is a customer message
    SELECT shop_id, session_id, sent_at AS answered_at, agent_id, last_agent_at
    FROM message_sessions
    WHERE sender_role = 'agent'
      AND last_customer_at IS NOT NULL
      AND (last_agent_at IS NULL OR last_customer_at > last_agent_at)
)
-- A turn and its answer see the same latest agent message before them (only customers come between), and no two
-- turns of a session do: that agent message pairs them.
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
    END AS response_seconds,
    CASE WHEN a.answered_at IS NOT NULL THEN answered.clock - asked.clock END AS response_service_seconds
FROM starts AS s
LEFT JOIN answers AS a
    ON a.shop_id = s.shop_id AND a.session_id = s.session_id AND a.last_agent_at IS NOT DISTINCT FROM s.last_agent_at
LEFT JOIN service_clock AS asked ON asked.at = s.started_at
LEFT JOIN service_clock AS answered ON answered.at = a.answered_at
