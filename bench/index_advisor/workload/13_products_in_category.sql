-- weight: 5  (category page: equality then ORDER BY price LIMIT)
\set c random(1, 200)
SELECT id, name, price FROM products WHERE category_id = :c AND active ORDER BY price LIMIT 20;
