"""A loopback HTTP server that answers GET requests from a routing function (recorded pages)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

Route = Callable[[str, dict[str, list[str]], str], "dict | tuple[int, dict]"]


@contextmanager
def json_server(route: Route) -> Iterator[tuple[str, list[str]]]:
    """Serve route(path, query, base_url) as JSON on 127.0.0.1; yields (base url, request log).
    A route may answer (status, body) to refuse a request the real API would refuse."""
    log: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            u = urlparse(self.path)
            log.append(self.path)
            answer = route(u.path, parse_qs(u.query), base)
            status, answer = answer if isinstance(answer, tuple) else (200, answer)
            body = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield base, log
    finally:
        server.shutdown()
        server.server_close()
        t.join(5)
