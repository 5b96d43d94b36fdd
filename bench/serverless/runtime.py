"""One function instance: initialise the function, then serve one request at a time.

Started by the front on a cold request (`python -m bench.serverless.runtime NAME CONFIG`).
It prints one line `READY {"port": P, "parts": {...}}` when its init is done (the parts
are what the function measured of its own init, like Lambda's init phases), then serves
POST /invoke on 127.0.0.1:P, single-threaded: concurrency comes from more instances.
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any


def main(argv: list[str]) -> int:
    start = time.perf_counter()
    from bench.serverless.downstream import send_json
    from bench.serverless.functions import FUNCTIONS, load_config

    name, config_path = argv
    try:
        function = FUNCTIONS[name](load_config(config_path))
    except Exception as exc:  # the front reports it as a failed cold start
        print(f"INIT-FAILED {type(exc).__name__}: {exc}", flush=True)
        return 1
    parts: dict[str, Any] = {"total_ms": round((time.perf_counter() - start) * 1000, 3),
                             **function.parts, "runtime": f"python {sys.version.split()[0]}"}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
                status, doc = function.handle(body if isinstance(body, dict) else {})
            except Exception as exc:  # a function error is a 500, the instance lives on
                status, doc = 500, {"error": f"{type(exc).__name__}: {exc}"}
            send_json(self, status, doc)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    print("READY " + json.dumps({"port": server.server_address[1], "parts": parts}),
          flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
