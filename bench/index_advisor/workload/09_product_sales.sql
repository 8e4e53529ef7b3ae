-- weight: 3  (aggregate over one product's items: covering index)
\set p random(1, @PRODUCTS@)
SELECT count(*), sum(qty) FROM order_items WHERE product_id = :p;
