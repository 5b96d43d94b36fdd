"""The functions a function site deploys: `checkout` (the realistic one) and `hello`.

`checkout` is the reference checkout handler (bench/poc/app.py) as a function: its init
reads its configuration and opens a connection pool to the site's PostgreSQL, so a cold
start pays what a real service pays; each request runs the checkout queries in one
transaction and calls the site's downstream HTTP endpoint. `hello` does nothing on init
and answers a constant: the baseline that shows what a hello-world benchmark misses.
"""

from __future__ import annotations

import json
import random
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
Parts = dict[str, float]
Response = tuple[int, dict[str, Any]]


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 3)


class Hello:
    """The baseline: nothing to initialise."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.parts: Parts = {}

    def handle(self, body: dict[str, Any]) -> Response:
        return 200, {"message": "hello"}


class Checkout:
    """Init: configuration, then a psycopg pool to PostgreSQL (connections really opened)."""

    def __init__(self, config: dict[str, Any]) -> None:
        start = time.perf_counter()
        from psycopg_pool import ConnectionPool  # a real cold start imports its driver

        self.parts: Parts = {"import_ms": _ms(start)}
        start = time.perf_counter()
        self.downstream = str(config["downstream_url"])
        pool_size = int(config.get("pool_size", 2))
        self.parts["config_ms"] = _ms(start)
        start = time.perf_counter()
        self.pool = ConnectionPool(str(config["conninfo"]), min_size=pool_size,
                                   max_size=pool_size, open=False)
        self.pool.open(wait=True, timeout=30)
        with self.pool.connection() as conn:  # the service's own check: schema present
            conn.execute("SELECT 1 FROM products LIMIT 1")
        self.parts["db_connect_ms"] = _ms(start)

    def handle(self, body: dict[str, Any]) -> Response:
        customer = body.get("customer_id", random.randint(1, 100_000))
        pid = body.get("product_id", random.randint(1, 1000))
        qty = body.get("quantity", 1)
        if not all(isinstance(v, int) and v > 0 for v in (customer, pid, qty)):
            return 400, {"error": "customer_id, product_id and quantity must be positive "
                                  "integers"}
        with self.pool.connection() as conn, conn.transaction():
            row = conn.execute("SELECT id, price_cents FROM products WHERE id = ANY(%s)",
                               ([pid],)).fetchone()
            if row is None:
                return 404, {"error": f"no product {pid}"}
            total = row[1] * qty
            order_id = conn.execute("INSERT INTO orders (customer_id, total_cents) VALUES "
                                    "(%s, %s) RETURNING id", (customer, total)).fetchone()[0]
            conn.execute("INSERT INTO order_lines (order_id, product_id, quantity, "
                         "price_cents) VALUES (%s, %s, %s, %s)", (order_id, pid, qty, row[1]))
        with _OPENER.open(f"{self.downstream}/quote?total={total}",
                                    timeout=10) as resp:
            quote = json.loads(resp.read())
        return 201, {"order_id": order_id, "total_cents": total, "shipping": quote}


FUNCTIONS: dict[str, Callable[[dict[str, Any]], Any]] = {"checkout": Checkout, "hello": Hello}


def load_config(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text())
