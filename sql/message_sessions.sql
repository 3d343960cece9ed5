-- message_sessions: every non-system chat message with the session it belongs to (SPEC §2.1, §2.2).
-- Grain: one row per message of `messages` whose sender_role is customer, agent or bot.
-- Parameters: $session_gap_us, $late_reply_us (microseconds).
-- A message with a session_id keeps (shop_id, session_id). Messages without one are cut into sessions per
-- conversation (shop_id, customer_id): a gap of more than $session_gap_us opens a new session, except for a human
-- agent message that answers a customer still waiting for at most $late_reply_us. Cut sessions are named
-- '<customer_id>#<n>', n counting from 1 in the conversation (session_no; null on exported sessions).
-- conversation_seeds carries what came before into a conversation whose messages start later than its first: an
-- increment derives a conversation again from its last session on, seeded with the number of sessions before and
-- the times of the latest customer and human agent message before (a full computation has no seeds).
-- pos numbers a session's messages in conversation order; last_customer_at and last_agent_at are the times of the
-- latest customer and human agent message before it in its session (null: none). Compared by time, they tell which
-- came last because at the same time a customer message comes before an agent message (§2.1).
-- Sorting is the cost: exported sessions are ordered once; cut conversations are ordered once, then only the first
-- message of each session is ordered again, to number the sessions (a second sort of every message was 0.5 s more
-- per 2M messages), and each message joins the session its latest first message opened.
WITH given_messages AS (
    -- Read once per branch rather than shared: a CTE read twice would be written out in full first.
    SELECT *, CASE sender_role WHEN 'customer' THEN 0 WHEN 'agent' THEN 1 ELSE 2 END AS role_rank
    FROM messages
    WHERE sender_role <> 'system' AND session_id IS NOT NULL
),
cut_messages AS (
    SELECT *, CASE sender_role WHEN 'customer' THEN 0 WHEN 'agent' THEN 1 ELSE 2 END AS role_rank
    FROM messages
    WHERE sender_role <> 'system' AND session_id IS NULL
),
given AS (
    -- Exported sessions: order within the session (§2.1 tie-breaks, then lake position).
    SELECT
        shop_id, session_id, customer_id, message_id, agent_id, sender_role, sent_at,
        CAST(NULL AS BIGINT) AS session_no,
        row_number() OVER w_session AS pos,
        max(CASE WHEN sender_role = 'customer' THEN sent_at END) OVER w_before AS last_customer_at,
        max(CASE WHEN sender_role = 'agent' THEN sent_at END) OVER w_before AS last_agent_at
    FROM given_messages
    WINDOW
        w_session AS (PARTITION BY shop_id, session_id
                      ORDER BY sent_at, role_rank, message_id NULLS LAST, _seq, _line),
        w_before AS (PARTITION BY shop_id, session_id
                     ORDER BY sent_at, role_rank, message_id NULLS LAST, _seq, _line
                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
cut_context AS (
    -- Messages without a session_id, in conversation order (§2.1 tie-breaks, then lake position).
    SELECT
        shop_id, customer_id, message_id, agent_id, sender_role, sent_at,
        row_number() OVER w_conv AS conv_pos,
        lag(sent_at) OVER w_conv AS prev_at,
        max(CASE WHEN sender_role = 'customer' THEN sent_at END) OVER w_before AS customer_before,
        max(CASE WHEN sender_role = 'agent' THEN sent_at END) OVER w_before AS agent_before
    FROM cut_messages
    WINDOW
        w_conv AS (PARTITION BY shop_id, customer_id
                   ORDER BY sent_at, role_rank, message_id NULLS LAST, _seq, _line),
        w_before AS (PARTITION BY shop_id, customer_id
                     ORDER BY sent_at, role_rank, message_id NULLS LAST, _seq, _line
                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
cut_seeded AS (
    -- a seed's times are earlier than all of its conversation's messages here
    SELECT
        c.*,
        coalesce(s.sessions_before, 0) AS sessions_before,
        coalesce(c.customer_before, s.last_customer_at) AS last_customer_at,
        coalesce(c.agent_before, s.last_agent_at) AS last_agent_at
    FROM cut_context AS c
    LEFT JOIN conversation_seeds AS s ON s.shop_id = c.shop_id AND s.customer_id = c.customer_id
),
cut_flags AS (
    SELECT
        *,
        CASE
            WHEN prev_at IS NULL THEN 1
            WHEN date_diff('microsecond', prev_at, sent_at) <= $session_gap_us THEN 0
            -- the late-reply exception: the first human reply to a waiting customer stays in that session
            -- (no agent message since the customer's: a tie in time means the agent's came after)
            WHEN sender_role = 'agent'
                 AND last_customer_at IS NOT NULL
                 AND (last_agent_at IS NULL OR last_agent_at < last_customer_at)
                 AND date_diff('microsecond', last_customer_at, sent_at) <= $late_reply_us THEN 0
            ELSE 1
        END AS opens_session
    FROM cut_seeded
),
openers AS (
    -- the first message of each session, numbered in its conversation
    SELECT
        shop_id, customer_id, conv_pos AS first_pos, sent_at AS started_at,
        CAST(sessions_before + row_number() OVER w_open AS BIGINT) AS session_no,
        lead(conv_pos) OVER w_open AS next_first_pos
    FROM cut_flags
    WHERE opens_session = 1
    WINDOW w_open AS (PARTITION BY shop_id, customer_id ORDER BY conv_pos)
),
cut_runs AS (
    -- each message joins the session its latest opener (at or before it) opened
    SELECT c.*, o.session_no, o.first_pos AS session_first_pos, o.started_at AS session_started_at
    FROM cut_flags AS c
    JOIN openers AS o
      ON o.shop_id = c.shop_id AND o.customer_id = c.customer_id
     AND c.conv_pos >= o.first_pos AND (o.next_first_pos IS NULL OR c.conv_pos < o.next_first_pos)
),
cut AS (
    -- session_gap is positive, so a session starts later than every message of the conversation's earlier
    -- sessions: the latest customer (agent) message before is in the session iff it is not earlier than its start.
    SELECT
        shop_id,
        customer_id || '#' || CAST(session_no AS VARCHAR) AS session_id,
        customer_id, message_id, agent_id, sender_role, sent_at, session_no,
        conv_pos - session_first_pos + 1 AS pos,
        CASE WHEN last_customer_at >= session_started_at THEN last_customer_at END AS last_customer_at,
        CASE WHEN last_agent_at >= session_started_at THEN last_agent_at END AS last_agent_at
    FROM cut_runs
)
SELECT shop_id, session_id, customer_id, message_id, agent_id, sender_role, sent_at,
       session_no, pos, last_customer_at, last_agent_at
FROM given
UNION ALL
SELECT shop_id, session_id, customer_id, message_id, agent_id, sender_role, sent_at,
       session_no, pos, last_customer_at, last_agent_at
FROM cut
