-- pgbench script: the checkout service's hottest queries, as the service issues them.
-- A product lookup (GET /api/v1/products/{id}) and a one-line checkout transaction
-- (POST /api/v1/checkout). Needs the PoC schema (bench/poc/schema.sql).
\set pid random(1, 1000)
\set cust random(1, 100000)
SELECT id, name, price_cents, stock FROM products WHERE id = :pid;
BEGIN;
SELECT id, price_cents FROM products WHERE id = ANY(ARRAY[:pid]);
INSERT INTO orders (customer_id, total_cents) SELECT :cust, price_cents FROM products WHERE id = :pid RETURNING id AS order_id \gset
INSERT INTO order_lines (order_id, product_id, quantity, price_cents) SELECT :order_id, id, 1, price_cents FROM products WHERE id = :pid;
COMMIT;
