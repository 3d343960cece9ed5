-- kpi_facts_feedback: feedback handling rate (客户反馈处理率, Table A.2): feedback handled over feedback received, by
-- received_at. Handled: the `handled` flag where the export gives one, else a `handled_at` time is set.
-- Grain: one row per feedback. Shop level only.
SELECT 'feedback_handling_rate' AS kpi, 'wall' AS clock, shop_id, CAST(NULL AS VARCHAR) AS agent_id,
       CAST(received_at AS DATE) AS on_date,
       CAST(CASE WHEN coalesce(handled, handled_at IS NOT NULL) THEN 1 ELSE 0 END AS DOUBLE) AS numerator,
       CAST(1 AS DOUBLE) AS denominator
FROM feedback
