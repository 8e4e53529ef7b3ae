-- weight: 8  (natural key lookup)
\set p random(1, @PRODUCTS@)
SELECT id, name, price FROM products WHERE sku = 'SKU-' || lpad(:p || '', 8, '0');
