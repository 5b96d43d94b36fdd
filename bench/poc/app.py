"""The PoC checkout microservice (Starlette on uvicorn, PostgreSQL through a psycopg pool).

Endpoints: GET /api/v1/products/{id}, POST /api/v1/checkout (one transaction writing an
order and its lines), GET /healthz, GET /metrics (Prometheus histograms of request and
DB-query durations, aggregated over uvicorn workers with prometheus-client's
multiprocess mode: PROMETHEUS_MULTIPROC_DIR must be set before this module is imported,
which `bench.poc.serve` does).
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUEST_SECONDS = Histogram("poc_request_duration_seconds", "HTTP request duration",
                            ["method", "route", "status"], buckets=BUCKETS)
DB_QUERY_SECONDS = Histogram("poc_db_query_duration_seconds", "PostgreSQL query duration",
                             ["query"], buckets=BUCKETS)

MAX_ITEMS = 50
Handler = Callable[[Request], Awaitable[Response]]


@contextmanager
def timed_query(name: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        DB_QUERY_SECONDS.labels(name).observe(time.perf_counter() - start)


def instrumented(method: str, route: str) -> Callable[[Handler], Handler]:
    """Observe the handler's duration under its route template (not the concrete path)."""
    def wrap(handler: Handler) -> Handler:
        async def inner(request: Request) -> Response:
            start = time.perf_counter()
            status = 500
            try:
                response = await handler(request)
                status = response.status_code
                return response
            finally:
                REQUEST_SECONDS.labels(method, route, str(status)).observe(
                    time.perf_counter() - start)
        return inner
    return wrap


def _bad(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _parse_checkout(body: Any) -> tuple[int, dict[int, int]] | str:
    """Validated (customer_id, {product_id: quantity}) or an error message."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    customer = body.get("customer_id")
    items = body.get("items")
    if not isinstance(customer, int) or customer <= 0:
        return "customer_id must be a positive integer"
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        return f"items must be a list of 1..{MAX_ITEMS} entries"
    lines: dict[int, int] = {}
    for item in items:
        pid = item.get("product_id") if isinstance(item, dict) else None
        qty = item.get("quantity", 1) if isinstance(item, dict) else None
        if not isinstance(pid, int) or not isinstance(qty, int) or not 1 <= qty <= 100:
            return "each item needs an integer product_id and a quantity of 1..100"
        lines[pid] = lines.get(pid, 0) + qty
    return customer, lines


def create_app() -> Starlette:
    """The ASGI app; the DSN comes from BAKEOFF_POC_DSN (uvicorn workers import a factory)."""
    dsn = os.environ["BAKEOFF_POC_DSN"]
    pool = AsyncConnectionPool(dsn, min_size=2, max_size=int(os.environ.get("BAKEOFF_POC_POOL",
                                                                              "10")), open=False)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await pool.open(wait=True, timeout=30)
        try:
            yield
        finally:
            await pool.close()

    async def healthz(_request: Request) -> Response:
        try:
            async with pool.connection(timeout=5) as conn:
                await conn.execute("SELECT 1")
        except Exception as exc:  # any DB failure means unhealthy
            return _bad(f"database unavailable: {type(exc).__name__}", 503)
        return JSONResponse({"status": "ok"})

    @instrumented("GET", "/api/v1/products/{id}")
    async def product(request: Request) -> Response:
        pid = request.path_params["id"]
        async with pool.connection() as conn:
            with timed_query("select_product"):
                cur = await conn.execute(
                    "SELECT id, name, price_cents, stock FROM products WHERE id = %s", (pid,))
                row = await cur.fetchone()
        if row is None:
            return _bad(f"no product {pid}", 404)
        return JSONResponse({"id": row[0], "name": row[1], "price_cents": row[2],
                             "stock": row[3]})

    @instrumented("POST", "/api/v1/checkout")
    async def checkout(request: Request) -> Response:
        try:
            parsed = _parse_checkout(await request.json())
        except ValueError:
            return _bad("body is not valid JSON")
        if isinstance(parsed, str):
            return _bad(parsed)
        customer, lines = parsed
        async with pool.connection() as conn, conn.transaction():
            with timed_query("select_prices"):
                cur = await conn.execute(
                    "SELECT id, price_cents FROM products WHERE id = ANY(%s)", (list(lines),))
                prices = dict(await cur.fetchall())
            missing = sorted(set(lines) - set(prices))
            if missing:
                return _bad(f"unknown product(s): {missing}", 404)
            total = sum(prices[p] * q for p, q in lines.items())
            with timed_query("insert_order"):
                cur = await conn.execute(
                    "INSERT INTO orders (customer_id, total_cents) VALUES (%s, %s) RETURNING id",
                    (customer, total))
                order_id = (await cur.fetchone())[0]
            with timed_query("insert_lines"):
                async with conn.cursor() as lc:
                    await lc.executemany(
                        "INSERT INTO order_lines (order_id, product_id, quantity, price_cents)"
                        " VALUES (%s, %s, %s, %s)",
                        [(order_id, p, q, prices[p]) for p, q in sorted(lines.items())])
        return JSONResponse({"order_id": order_id, "total_cents": total}, status_code=201)

    async def metrics(_request: Request) -> Response:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[
        Route("/healthz", healthz),
        Route("/api/v1/products/{id:int}", product),
        Route("/api/v1/checkout", checkout, methods=["POST"]),
        Route("/metrics", metrics),
    ], lifespan=lifespan)
