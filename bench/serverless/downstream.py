"""The site's downstream API: a shipping quote, which the checkout function calls per request.

Standard library only and self-contained, because it runs in two places: beside the local
function site's front (bench/serverless/front.py, on loopback) and on a cloud function
site's server VM, where cloud-init writes this file and starts it as a systemd service
before bakeoff's own modules are shipped (stacks/cloud/userdata.py). There it listens on
PORT; the VM programs admit that port from the site's VPC CIDR only.

`python3 downstream.py --address 0.0.0.0 --port 8099`; GET /quote?total=<cents> answers
{"carrier": ..., "shipping_cents": ..., "total_cents": <total>}; GET /healthz answers ok.
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PORT = 8099  # stacks/cloud/fn_common.py DOWNSTREAM_PORT is the same number
SHIPPING_CENTS = 499


def send_json(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any] | bytes,
              headers: dict[str, str] | None = None) -> None:
    """Answer `status` with a JSON body (a document, or bytes already encoded) and its
    length: the one reply helper of the downstream API, the function runtime and the
    local front (bench/serverless/runtime.py, front.py import it from here, since this file
    must stay standard-library-only and self-contained for the server VM)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    handler.send_response(status)
    for key, value in {"Content-Type": "application/json", **(headers or {})}.items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class Downstream(BaseHTTPRequestHandler):
    """GET /quote: a flat shipping quote for the order total."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/healthz":
            self._reply(200, {"ok": True})
            return
        if url.path != "/quote":
            self._reply(404, {"error": f"no route {url.path}"})
            return
        total = parse_qs(url.query).get("total", ["0"])[0]
        if not total.isdigit():
            self._reply(400, {"error": "total must be a non-negative integer (cents)"})
            return
        self._reply(200, {"carrier": "bakeoff", "shipping_cents": SHIPPING_CENTS,
                          "total_cents": int(total)})

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        send_json(self, status, body)

    def log_message(self, *args: Any) -> None:
        pass


def serve(address: str, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((address, port), Downstream)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="the site's downstream API (a shipping quote)")
    p.add_argument("--address", default="0.0.0.0")
    p.add_argument("--port", type=int, default=PORT)
    args = p.parse_args(argv)
    serve(args.address, args.port).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
