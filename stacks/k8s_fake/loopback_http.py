"""The loopback HTTP server the simulated cluster's fakes share.

The fake API server (fake_api.py) and each pod's and Service's server (fake_service.py)
are standard-library threading HTTP servers on 127.0.0.1, on a port the kernel picks,
served from a daemon thread, answering JSON over HTTP/1.1 keep-alive without logging
every request. This is that part, written once; each fake keeps its own routes.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 (keep-alive, as Kubernetes clients and Locust use it), no request log."""

    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet in tests
        pass

    def send_json(self, code: int, body: dict[str, Any]) -> None:
        self.send_bytes(code, json.dumps(body).encode())

    def send_bytes(self, code: int, data: bytes) -> None:
        """A whole JSON body with its length (the connection stays open)."""
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class LoopbackServer(ThreadingHTTPServer):
    """A server on 127.0.0.1:<free port>; `start()` serves it from a daemon thread,
    `close()` stops it and frees the port."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], poll_interval: float,
                 thread_name: str | None = None):
        super().__init__(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self.serve_forever,
                                        kwargs={"poll_interval": poll_interval},
                                        daemon=True, name=thread_name)

    def start(self) -> None:
        self._thread.start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        if self._thread.is_alive():  # shutdown() waits forever for a loop never started
            self.shutdown()
        self.server_close()
