-- sessions: one row per session (咨询) with its start, inquiry flag, agent and first response (SPEC §2.2).
-- Grain: (shop_id, session_id).
-- An inquiry (顾客发起咨询) has a customer message before any human agent message. Its agent is the agent_id of
-- its first human agent message, or, with no human agent message, the agent_id on its first customer message.
-- frt_seconds is null for a session that is not an answered inquiry; frt_service_seconds is the same in service
-- time (README "Service hours"), null also when no calendar is configured. session_no is the session's number in
-- its conversation when it was cut (null: exported); last_customer_at and last_agent_at are the times of its latest
-- customer and human agent message (an increment seeds a conversation's next sessions with them).
WITH per_session AS (
    SELECT
        shop_id,
        session_id,
        min(customer_id) AS customer_id,
        min(sent_at) AS started_at,
        max(sent_at) AS ended_at,
        count(*) AS messages,
        min(CASE WHEN sender_role = 'customer' THEN sent_at END) AS first_customer_at,
        min(CASE WHEN sender_role = 'agent' THEN sent_at END) AS first_agent_at,
        max(CASE WHEN sender_role = 'customer' THEN sent_at END) AS last_customer_at,
        max(CASE WHEN sender_role = 'agent' THEN sent_at END) AS last_agent_at,
        max(session_no) AS session_no,
        max(CASE WHEN sender_role = 'agent' AND last_agent_at IS NULL THEN agent_id END) AS first_agent_id,
        max(CASE WHEN sender_role = 'customer' AND last_customer_at IS NULL THEN agent_id END) AS routed_agent_id
    FROM message_sessions
    GROUP BY shop_id, session_id
),
classified AS (
    -- at the same time a customer message comes before an agent message (§2.1): a tie is an inquiry
    SELECT
        *,
        first_customer_at IS NOT NULL
            AND (first_agent_at IS NULL OR first_customer_at <= first_agent_at) AS is_inquiry
    FROM per_session
)
SELECT
    c.shop_id,
    c.session_id,
    c.customer_id,
    c.started_at,
    c.ended_at,
    CAST(c.started_at AS DATE) AS started_on,
    c.messages,
    c.is_inquiry,
    CASE WHEN c.first_agent_at IS NOT NULL THEN c.first_agent_id ELSE c.routed_agent_id END AS agent_id,
    c.first_customer_at,
    c.first_agent_at,
    c.is_inquiry AND c.first_agent_at IS NOT NULL AS replied,
    CASE
        WHEN c.is_inquiry AND c.first_agent_at IS NOT NULL
        THEN CAST(date_diff('microsecond', c.first_customer_at, c.first_agent_at) AS DOUBLE) / 1e6
    END AS frt_seconds,
    CASE WHEN c.is_inquiry AND c.first_agent_at IS NOT NULL THEN answered.clock - asked.clock END AS frt_service_seconds,
    c.session_no,
    c.last_customer_at,
    c.last_agent_at
FROM classified AS c
LEFT JOIN service_clock AS asked ON asked.at = c.first_customer_at
LEFT JOIN service_clock AS answered ON answered.at = c.first_agent_at
