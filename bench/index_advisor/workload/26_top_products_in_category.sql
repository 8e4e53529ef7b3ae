-- weight: 1  (report: join + GROUP BY)
\set c random(1, 200)
SELECT i.product_id, sum(i.qty) AS sold FROM order_items i JOIN products p ON p.id = i.product_id
 WHERE p.category_id = :c GROUP BY i.product_id ORDER BY sold DESC LIMIT 10;
