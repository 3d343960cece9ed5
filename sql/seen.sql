-- seen: the latest time seen anywhere in the lake, which closes the windows that keep a KPI provisional (kpi).
-- Grain: one row.
SELECT max(t) AS seen_until FROM (
    SELECT max(sent_at) AS t FROM messages
    UNION ALL SELECT max(rated_at) FROM ratings
    UNION ALL SELECT greatest(max(created_at), max(paid_at)) FROM orders  -- greatest skips nulls
    UNION ALL SELECT greatest(max(created_at), max(responded_at), max(resolved_at)) FROM complaints
    UNION ALL SELECT max(created_at) FROM reviews
    UNION ALL SELECT greatest(max(requested_at), max(completed_at)) FROM refunds
    UNION ALL SELECT greatest(max(opened_at), max(closed_at)) FROM disputes
    UNION ALL SELECT greatest(max(received_at), max(handled_at)) FROM feedback
    UNION ALL SELECT max(answered_at) FROM bot_answers
) AS times
