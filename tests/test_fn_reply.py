"""One JSON reply helper for the downstream API, the function runtime and the local front
(bench/serverless/downstream.py send_json): no second copy, and its answers are right on
the wire (a real server, read back with http.client)."""

from __future__ import annotations

import ast
import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.serverless.downstream import send_json

SERVERLESS = Path(__file__).resolve().parents[1] / "bench" / "serverless"


def test_only_the_helper_writes_an_http_answer_in_bench_serverless():
    writers = []
    for path in sorted(SERVERLESS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                calls = {c.func.attr for c in ast.walk(node) if isinstance(c, ast.Call)
                         and isinstance(c.func, ast.Attribute)}
                if "send_response" in calls:
                    writers.append(f"{path.name}:{node.name}")
    assert writers == ["downstream.py:send_json"]


def _answer(reply):
    """(response, body) of one GET to a real server whose handler calls `reply`."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reply(self)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        conn.request("GET", "/")
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
    finally:
        server.shutdown()
        server.server_close()
    return resp, body


def test_a_document_is_encoded_with_its_length_and_type():
    doc = {"carrier": "bakeoff", "note": "é ü", "n": [1, 2]}
    resp, body = _answer(lambda h: send_json(h, 201, doc, {"X-Bakeoff-Cold": "1"}))
    assert resp.status == 201 and json.loads(body) == doc
    assert int(resp.getheader("Content-Length")) == len(body)  # bytes, not characters
    assert resp.getheader("Content-Type") == "application/json"
    assert resp.getheader("X-Bakeoff-Cold") == "1"


def test_bytes_pass_through_untouched_and_headers_may_override_the_type():
    raw = b'{"already": "encoded"}'
    resp, body = _answer(lambda h: send_json(h, 429, raw, {"Retry-After": "1"}))
    assert resp.status == 429 and body == raw and resp.getheader("Retry-After") == "1"
