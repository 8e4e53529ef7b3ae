-- weight: 20  (children of a parent)
\set o random(1, @ROWS@)
SELECT product_id, qty, unit_price FROM order_items WHERE order_id = :o;
