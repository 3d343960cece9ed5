-- kpi_facts_reviews: bad-review rate (商品差评率, Table A.2): reviews rated 1 or 2 over all reviews, by created_at.
-- Grain: one row per review. Shop level only.
SELECT 'bad_review_rate' AS kpi, 'wall' AS clock, shop_id, CAST(NULL AS VARCHAR) AS agent_id, CAST(created_at AS DATE) AS on_date,
       CAST(CASE WHEN rating <= 2 THEN 1 ELSE 0 END AS DOUBLE) AS numerator,
       CAST(1 AS DOUBLE) AS denominator
FROM reviews
