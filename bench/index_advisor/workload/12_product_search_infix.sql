-- weight: 6  (search box: infix ILIKE → trigram)
\set n random(100, 999)
SELECT id, name, price FROM products WHERE name ILIKE '%widget ' || :n || '%' LIMIT 50;
