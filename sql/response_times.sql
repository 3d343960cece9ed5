-- response_times: every response time a KPI measures, on every active clock (SPEC §4; README "Service hours",
-- "Response-time distributions").
-- Grain: (family, clock, inquiry session) for family 'frt'; (family, clock, turn) for family 'response'.
-- seconds is null where nothing is measured (an unanswered session; an unanswered turn, unless the configured
-- unanswered_turn_cap counts it at the cap). agent_id is the agent the time is attributed to: the session's agent
-- for FRT, the answering agent for a turn, the session's agent for an unanswered turn counted at the cap.
WITH clocked_sessions AS (
    SELECT s.shop_id, s.agent_id, s.started_on, k.clock,
           CASE WHEN k.clock = 'wall' THEN s.frt_seconds ELSE s.frt_service_seconds END AS seconds
    FROM sessions AS s
    CROSS JOIN clocks AS k
    WHERE s.is_inquiry
),
answered_turns AS (
    SELECT t.shop_id, t.agent_id, t.started_on, k.clock,
           CASE WHEN k.clock = 'wall' THEN t.response_seconds ELSE t.response_service_seconds END AS seconds
    FROM turns AS t
    CROSS JOIN clocks AS k
    WHERE t.answered_at IS NOT NULL
),
unanswered_left_out AS (
    -- 0 of 0: the turn measures nothing, but its period still has a PT row (as every inquiry has a turn)
    SELECT t.shop_id, CAST(NULL AS VARCHAR) AS agent_id, t.started_on, k.clock, CAST(NULL AS DOUBLE) AS seconds
    FROM turns AS t
    CROSS JOIN clocks AS k
    WHERE t.answered_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM settings WHERE unanswered_turn_cap_seconds IS NOT NULL)
),
unanswered_capped AS (
    SELECT t.shop_id, s.agent_id, t.started_on, k.clock, c.unanswered_turn_cap_seconds AS seconds
    FROM turns AS t
    JOIN sessions AS s ON s.shop_id = t.shop_id AND s.session_id = t.session_id
    CROSS JOIN clocks AS k
    CROSS JOIN settings AS c
    WHERE t.answered_at IS NULL
      AND c.unanswered_turn_cap_seconds IS NOT NULL
)
SELECT 'frt' AS family, clock, shop_id, agent_id, started_on AS on_date, seconds FROM clocked_sessions
UNION ALL
SELECT 'response', clock, shop_id, agent_id, started_on, seconds FROM answered_turns
UNION ALL
SELECT 'response', clock, shop_id, agent_id, started_on, seconds FROM unanswered_left_out
UNION ALL
SELECT 'response', clock, shop_id, agent_id, started_on, seconds FROM unanswered_capped
