-- Schema and seed data of the PoC checkout service. Idempotent: safe to run on every start.
CREATE TABLE IF NOT EXISTS products (
    id          integer PRIMARY KEY,
    name        text    NOT NULL,
    price_cents integer NOT NULL CHECK (price_cents > 0),
    stock       integer NOT NULL DEFAULT 1000
);

CREATE TABLE IF NOT EXISTS orders (
    id          bigserial   PRIMARY KEY,
    customer_id integer     NOT NULL,
    total_cents bigint      NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS order_lines (
    order_id    bigint  NOT NULL REFERENCES orders (id),
    product_id  integer NOT NULL REFERENCES products (id),
    quantity    integer NOT NULL CHECK (quantity > 0),
    price_cents integer NOT NULL,
    PRIMARY KEY (order_id, product_id)
);

-- 1000 products with deterministic names and prices (1.00 .. 100.99).
INSERT INTO products (id, name, price_cents)
SELECT g, 'product-' || g, 100 + (g * 7919) % 10000
FROM generate_series(1, 1000) AS g
ON CONFLICT (id) DO NOTHING;

ANALYZE products;
