"""A local HTTP server answering cloud REST calls with recorded responses.

The real SDK clients (azure-mgmt-*, google-cloud-compute, a requests session for Cloud
SQL) are pointed at it, so paths, query strings and response parsing are the SDKs' own.
Every request is kept, so a test can assert what was (and was not) deleted.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

RECORDED = Path(__file__).parent / "recorded"


class RecordedApi:
    """Routes are 'METHOD /path' -> JSON body (status 200), or [status, body], or [status,
    body, headers] ("{base}" in a header value becomes this server's URL)."""

    def __init__(self, routes: dict[str, Any]) -> None:
        self.routes = {self._key(k): v for k, v in routes.items()}
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                api.requests.append((self.command, url.path, parse_qs(url.query)))
                found = api.routes.get(api._key(f"{self.command} {url.path}"))
                status, body, *extra = (found if isinstance(found, list) else (200, found)) \
                    if found is not None else (404, {"error": {
                        "code": "NotRecorded", "message": f"{self.command} {url.path}"}})
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for name, value in (extra[0] if extra else {}).items():
                    self.send_header(name, value.replace("{base}", api.url))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @staticmethod
    def _key(route: str) -> str:
        method, _, path = route.partition(" ")
        return f"{method.upper()} {path.rstrip('/').lower()}"

    def __enter__(self) -> RecordedApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def calls(self, method: str) -> list[str]:
        return [path for m, path, _ in self.requests if m == method]


def load(name: str) -> dict[str, Any]:
    return json.loads((RECORDED / name).read_text())
