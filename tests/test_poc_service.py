"""The PoC checkout service, for real: uvicorn + PostgreSQL, endpoints, metrics, cleanup."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import psycopg
import pytest

from bench.poc import promtext
from bench.poc.launcher import PocService
from core.environment import DatabaseEndpoint
from core.errors import BakeoffError
from tests.load_support import assert_nothing_left, local_env

pytestmark = pytest.mark.integration


def _call(url: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_endpoints_metrics_and_cleanup(database, tmp_path):
    env = local_env(database, scratch=tmp_path)
    service = PocService(env.server, database, workers=2)
    try:
        url = service.start(env.hosts["loadgen"])
        status, product = _call(f"{url}/api/v1/products/7")
        assert status == 200 and product["id"] == 7 and product["price_cents"] > 0
        assert _call(f"{url}/api/v1/products/999999")[0] == 404
        status, order = _call(f"{url}/api/v1/checkout", {
            "customer_id": 42, "items": [{"product_id": 7, "quantity": 2},
                                         {"product_id": 9, "quantity": 1}]})
        assert status == 201
        with psycopg.connect(database.dsn) as conn:
            lines = conn.execute("SELECT product_id, quantity, price_cents FROM order_lines "
                                 "WHERE order_id = %s ORDER BY product_id",
                                 (order["order_id"],)).fetchall()
            total = conn.execute("SELECT total_cents FROM orders WHERE id = %s",
                                 (order["order_id"],)).fetchone()[0]
        assert [(p, q) for p, q, _ in lines] == [(7, 2), (9, 1)]
        assert total == order["total_cents"] == sum(q * c for _, q, c in lines)
        assert _call(f"{url}/api/v1/checkout", {"customer_id": 1, "items": []})[0] == 400
        assert _call(f"{url}/api/v1/checkout", {"customer_id": 1,
                                                "items": [{"product_id": 5_000_000}]})[0] == 404
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as r:
            text = r.read().decode()
        db_hist = promtext.histograms(text, "poc_db_query_duration_seconds")
        queries = {e["labels"]["query"] for e in db_hist.values()}
        assert {"select_product", "select_prices", "insert_order", "insert_lines"} <= queries
        req_hist = promtext.histograms(text, "poc_request_duration_seconds")
        assert any(e["labels"]["route"] == "/api/v1/checkout" for e in req_hist.values())
    finally:
        service.stop()
    assert_nothing_left(tmp_path)  # ours only, not machine-wide


def test_unreachable_database_is_a_clear_error_and_leaves_nothing(database, tmp_path):
    env = local_env(database, scratch=tmp_path)
    bad = DatabaseEndpoint("127.0.0.1", 1, "nobody", "x", "nothing", "local-postgres")
    service = PocService(env.server, bad, workers=1)
    with pytest.raises(BakeoffError, match="did not become healthy"):
        service.start(env.hosts["loadgen"], ready_timeout_s=10)
    assert_nothing_left(tmp_path)  # ours only, not machine-wide


def test_prometheus_delta_and_quantile():
    def text(n: int, total: float) -> str:
        return ('# TYPE h histogram\nh_bucket{le="0.001",query="q"} 1\n'
                f'h_bucket{{le="0.01",query="q"}} {n}\nh_bucket{{le="+Inf",query="q"}} {n}\n'
                f'h_sum{{query="q"}} {total}\nh_count{{query="q"}} {n}\n')
    before, after = text(2, 0.005), text(12, 0.055)
    d = promtext.delta(promtext.histograms(before, "h"), promtext.histograms(after, "h"))
    (entry,) = d.values()
    assert entry["count"] == 10 and entry["sum"] == pytest.approx(0.05)
    assert promtext.quantile(entry, 0.5) == pytest.approx(0.001 + 0.009 * 0.5)
