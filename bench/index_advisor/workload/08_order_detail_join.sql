-- weight: 10  (join: order → items → products)
\set o random(1, @ROWS@)
SELECT o.id, o.created_at, o.status, i.product_id, i.qty, p.name
  FROM orders o JOIN order_items i ON i.order_id = o.id JOIN products p ON p.id = i.product_id
 WHERE o.id = :o;
