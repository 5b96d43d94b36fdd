"""Cloud Run entry point: a small HTTP server on $PORT serving POST /fn/<name>.

Standard library only (no web framework to import at cold start); one request at a time
per instance (the service sets containerConcurrency 1, as Lambda runs one per instance).
"""

from __future__ import annotations

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bakeoff_fn.adapter import call


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        if not self.path.startswith("/fn/"):
            self.send_error(404)
            return
        length = int(self.headers.get("Content-Length") or 0)
        status, answer, headers = call(self.rfile.read(length), self.path)
        data = json.dumps(answer).encode()
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return


def serve(port: int) -> ThreadingHTTPServer:
    return ThreadingHTTPServer(("", port), Handler)


if __name__ == "__main__":
    serve(int(os.environ.get("PORT", "8080"))).serve_forever()
