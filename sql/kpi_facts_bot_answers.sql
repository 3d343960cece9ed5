-- kpi_facts_bot_answers: AI answer accuracy (AI客服系统应答准确率, Table A.2 note a) on an audit sample of bot
-- replies: intent understood, answer right, and both, each over the audited replies, by answered_at.
-- Grain: one row per (kpi, audited reply). Shop level only.
SELECT 'bot_intent_accuracy' AS kpi, 'wall' AS clock, shop_id, CAST(NULL AS VARCHAR) AS agent_id,
       CAST(answered_at AS DATE) AS on_date,
       CAST(CASE WHEN intent_correct THEN 1 ELSE 0 END AS DOUBLE) AS numerator,
       CAST(1 AS DOUBLE) AS denominator
FROM bot_answers
UNION ALL
SELECT 'bot_answer_accuracy', 'wall', shop_id, CAST(NULL AS VARCHAR), CAST(answered_at AS DATE),
       CAST(CASE WHEN answer_correct THEN 1 ELSE 0 END AS DOUBLE), CAST(1 AS DOUBLE)
FROM bot_answers
UNION ALL
SELECT 'bot_accuracy', 'wall', shop_id, CAST(NULL AS VARCHAR), CAST(answered_at AS DATE),
       CAST(CASE WHEN intent_correct AND answer_correct THEN 1 ELSE 0 END AS DOUBLE), CAST(1 AS DOUBLE)
FROM bot_answers
