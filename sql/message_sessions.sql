-- message_sessions: every non-system chat message with the session it belongs to (SPEC §2.1, §2.2).
-- Grain: one row per message of `messages` whose sender_role is customer, agent or bot.
-- Parameters: $session_gap_us, $late_reply_us (microseconds).
-- A message with a session_id keeps (shop_id, session_id). Messages without one are cut into sessions per
-- conversation (shop_id, customer_id): a gap of more than $session_gap_us opens a new session, except for a human
-- agent message that answers a customer still waiting for at most $late_reply_us. Cut sessions are named
-- '<customer_id>#<n>', n counting from 1 in the conversation.
WITH chat AS (
    SELECT
        shop_id, customer_id, session_id, message_id, agent_id, sender_role, sent_at, _seq, _line,
        CASE sender_role WHEN 'customer' THEN 0 WHEN 'agent' THEN 1 ELSE 2 END AS role_rank
    FROM messages
    WHERE sender_role <> 'system'
),
cut_ordered AS (
    -- Conversation order of the messages that carry no session_id (§2.1 tie-breaks, then lake position).
    SELECT
        *,
        row_number() OVER (
            PARTITION BY shop_id, customer_id
            ORDER BY sent_at, role_rank, message_id NULLS LAST, _seq, _line
        ) AS conv_pos
    FROM chat
    WHERE session_id IS NULL
),
cut_context AS (
    SELECT
        *,
        lag(sent_at) OVER w_conv AS prev_at,
        max(CASE WHEN sender_role = 'customer' THEN conv_pos END) OVER w_before AS last_customer_pos,
        max(CASE WHEN sender_role = 'customer' THEN sent_at END) OVER w_before AS last_customer_at,
        max(CASE WHEN sender_role = 'agent' THEN conv_pos END) OVER w_before AS last_agent_pos
    FROM cut_ordered
    WINDOW
        w_conv AS (PARTITION BY shop_id, customer_id ORDER BY conv_pos),
        w_before AS (PARTITION BY shop_id, customer_id ORDER BY conv_pos
                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
cut_flags AS (
    SELECT
        *,
        CASE
            WHEN prev_at IS NULL THEN 1
            WHEN date_diff('microsecond', prev_at, sent_at) <= $session_gap_us THEN 0
            -- the late-reply exception: the first human reply to a waiting customer stays in that session
            WHEN sender_role = 'agent'
                 AND last_customer_pos IS NOT NULL
                 AND (last_agent_pos IS NULL OR last_agent_pos < last_customer_pos)
                 AND date_diff('microsecond', last_customer_at, sent_at) <= $late_reply_us THEN 0
            ELSE 1
        END AS opens_session
    FROM cut_context
),
cut_sessions AS (
    SELECT
        shop_id, customer_id, message_id, agent_id, sender_role, sent_at, role_rank, _seq, _line,
        customer_id || '#' || CAST(
            sum(opens_session) OVER (
                PARTITION BY shop_id, customer_id ORDER BY conv_pos
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS VARCHAR
        ) AS session_id
    FROM cut_flags
),
all_sessions AS (
    SELECT shop_id, customer_id, message_id, agent_id, sender_role, sent_at, role_rank, _seq, _line, session_id
    FROM chat
    WHERE session_id IS NOT NULL
    UNION ALL
    SELECT shop_id, customer_id, message_id, agent_id, sender_role, sent_at, role_rank, _seq, _line, session_id
    FROM cut_sessions
)
SELECT
    shop_id,
    session_id,
    customer_id,
    message_id,
    agent_id,
    sender_role,
    sent_at,
    row_number() OVER (
        PARTITION BY shop_id, session_id
        ORDER BY sent_at, role_rank, message_id NULLS LAST, _seq, _line
    ) AS pos
FROM all_sessions
