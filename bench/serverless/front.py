"""The local function site's front: an instance per cold request, idle ones reaped.

`python -m bench.serverless.front --address A --port P --idle-s S --max-instances N
--conninfo ...` serves:

- POST /fn/<name>: routed to an idle warm instance of <name>; when none is idle a new
  instance process is started (a cold start: process start + the function's init) unless
  <name> already has `max_instances`, then 429 (a throttle, as Lambda's concurrency
  limit). Every answer carries X-Bakeoff-Cold (1/0), X-Bakeoff-Init-Ms (spawn to ready,
  what the platform reports as init) and X-Bakeoff-Init-Parts (the function's own parts).
- POST /_admin/recycle: stop every idle instance now (forces the next request cold).
- GET /_admin/stats, GET /healthz.

It also serves the site's downstream API (GET /quote) on a second port of 127.0.0.1 in
the same namespace, which the checkout function calls per request. Instances idle for
longer than `idle_s` are stopped by a reaper thread. Everything runs in the front's
process group, so stopping the front's group stops every instance.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.serverless.downstream import send_json
from bench.serverless.downstream import serve as serve_downstream
from bench.serverless.functions import FUNCTIONS

NODE_RUNTIME = Path(__file__).resolve().parent / "node" / "runtime.js"

INIT_TIMEOUT_S = 60.0


@dataclass
class Instance:
    name: str
    proc: subprocess.Popen
    port: int = 0
    init_ms: float = 0.0
    parts: dict[str, Any] = field(default_factory=dict)
    busy: bool = True
    last_used: float = 0.0


class Fleet:
    """The instances of every function, behind one lock."""

    def __init__(self, config_path: str, idle_s: float, max_instances: int,
                 command: list[str] | None = None) -> None:
        self.config_path = config_path
        # what starts one instance (NAME CONFIG appended): the Python runtime, or
        # instance_command("node", ...) for the JavaScript handler
        self.command = command or [sys.executable, "-m", "bench.serverless.runtime"]
        self.idle_s = idle_s
        self.max_instances = max_instances
        self.lock = threading.Lock()
        self.instances: list[Instance] = []
        self.stats = {"cold_starts": 0, "reaped": 0, "recycled": 0, "throttled": 0,
                      "init_failures": 0}

    def acquire(self, name: str) -> tuple[Instance | None, bool]:
        """(instance, cold); (None, False) means throttled."""
        with self.lock:
            # an idle instance that died (crashed, killed) is gone, not a slot held
            self.instances = [i for i in self.instances if i.busy or i.proc.poll() is None]
            for inst in self.instances:
                if inst.name == name and not inst.busy:
                    inst.busy = True
                    return inst, False
            if sum(i.name == name for i in self.instances) >= self.max_instances:
                self.stats["throttled"] += 1
                return None, False
            self.stats["cold_starts"] += 1
            start = time.perf_counter()
            proc = subprocess.Popen(
                [*self.command, name, self.config_path],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            inst = Instance(name, proc, init_ms=start)  # init_ms holds the start until ready
            self.instances.append(inst)
        return inst, True

    def ready(self, inst: Instance) -> str | None:
        """Wait for the instance's READY line; an error text when its init failed."""
        assert inst.proc.stdout is not None
        readable, _, _ = select.select([inst.proc.stdout], [], [], INIT_TIMEOUT_S)
        line = inst.proc.stdout.readline() if readable else "init timed out"
        if not line.startswith("READY "):
            self.drop(inst)
            with self.lock:
                self.stats["init_failures"] += 1
            return line.strip() or f"instance exited with {inst.proc.wait(5)} during init"
        doc = json.loads(line[6:])
        inst.init_ms = round((time.perf_counter() - inst.init_ms) * 1000, 3)
        inst.port, inst.parts = int(doc["port"]), doc["parts"]
        return None

    def release(self, inst: Instance) -> None:
        with self.lock:
            inst.busy = False
            inst.last_used = time.monotonic()

    def drop(self, inst: Instance) -> None:
        with self.lock:
            if inst in self.instances:
                self.instances.remove(inst)
        inst.proc.kill()
        inst.proc.wait(10)

    def stop_idle(self, older_than_s: float, reason: str) -> int:
        now = time.monotonic()
        with self.lock:
            gone = [i for i in self.instances
                    if not i.busy and now - i.last_used >= older_than_s]
            for inst in gone:
                self.instances.remove(inst)
            self.stats[reason] += len(gone)
        for inst in gone:
            inst.proc.kill()
            inst.proc.wait(10)
        return len(gone)

    def reap_forever(self) -> None:
        while True:
            time.sleep(min(0.05, self.idle_s / 4))
            self.stop_idle(self.idle_s, "reaped")


def instance_command(runtime: str, node_modules: str | None) -> list[str]:
    """argv that starts one instance of `runtime` (NAME CONFIG follow). node runs
    bench/serverless/node/runtime.js, its `pg` found through NODE_PATH (set by main)."""
    if runtime == "python":
        return [sys.executable, "-m", "bench.serverless.runtime"]
    node = shutil.which("node")
    if node is None or not node_modules:
        raise SystemExit("front: runtime node needs `node` on PATH and --node-modules")
    return [node, str(NODE_RUNTIME)]


def front_handler(fleet: Fleet) -> type[BaseHTTPRequestHandler]:
    class Front(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path == "/healthz":
                send_json(self, 200, b'{"status": "ok"}')
            elif self.path == "/_admin/stats":
                with fleet.lock:
                    doc = {**fleet.stats, "instances": len(fleet.instances),
                           "idle_s": fleet.idle_s, "max_instances": fleet.max_instances}
                send_json(self, 200, json.dumps(doc).encode())
            else:
                send_json(self, 404, b'{"error": "not found"}')

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/_admin/recycle":
                n = fleet.stop_idle(0.0, "recycled")
                send_json(self, 200, json.dumps({"recycled": n}).encode())
                return
            name = self.path.removeprefix("/fn/")
            if not self.path.startswith("/fn/") or name not in FUNCTIONS:
                send_json(self, 404, json.dumps({"error": f"no function {name!r}"}).encode())
                return
            self._invoke(name, body)

        def _invoke(self, name: str, body: bytes) -> None:
            inst, cold = fleet.acquire(name)
            if inst is None:
                send_json(self, 429, b'{"error": "concurrency limit reached"}',
                       {"Retry-After": "1"})
                return
            if cold:
                failed = fleet.ready(inst)
                if failed is not None:
                    send_json(self, 502, json.dumps({"error": f"init failed: {failed}"}).encode(),
                           {"X-Bakeoff-Cold": "1"})
                    return
            try:
                conn = http.client.HTTPConnection("127.0.0.1", inst.port, timeout=60)
                conn.request("POST", "/invoke", body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                status, data = resp.status, resp.read()
                conn.close()
            except OSError as exc:
                fleet.drop(inst)
                send_json(self, 502, json.dumps({"error": f"instance: {exc}"}).encode())
                return
            fleet.release(inst)
            send_json(self, status, data, {
                "X-Bakeoff-Cold": "1" if cold else "0",
                "X-Bakeoff-Init-Ms": f"{inst.init_ms:g}" if cold else "0",
                "X-Bakeoff-Init-Parts": json.dumps(inst.parts) if cold else "{}"})

        def log_message(self, *args: Any) -> None:
            pass

    return Front


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--address", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--idle-s", type=float, required=True)
    p.add_argument("--max-instances", type=int, required=True)
    p.add_argument("--conninfo", required=True, help="libpq conninfo, password in PGPASSFILE")
    p.add_argument("--pool-size", type=int, default=2)
    p.add_argument("--runtime", choices=["python", "node"], default="python")
    p.add_argument("--node-modules", default=None, help="the vendored pg (runtime node)")
    p.add_argument("--scratch", default=None, help="where the instances' config is written "
                   "(the site's scratch directory, removed at teardown)")
    args = p.parse_args(argv)
    command = instance_command(args.runtime, args.node_modules)
    downstream = serve_downstream("127.0.0.1", 0)  # the same code a cloud server VM runs
    threading.Thread(target=downstream.serve_forever, daemon=True).start()
    fd, config_path = tempfile.mkstemp(prefix="bakeoff-fn-", suffix=".json", dir=args.scratch)
    with os.fdopen(fd, "w") as fh:
        json.dump({"conninfo": args.conninfo, "pool_size": args.pool_size,
                   "downstream_url": f"http://127.0.0.1:{downstream.server_address[1]}"}, fh)
    if args.node_modules:
        os.environ["NODE_PATH"] = args.node_modules  # inherited by every node instance
    fleet = Fleet(config_path, args.idle_s, args.max_instances, command)
    threading.Thread(target=fleet.reap_forever, daemon=True).start()
    server = ThreadingHTTPServer((args.address, args.port), front_handler(fleet))
    server.daemon_threads = True
    try:
        server.serve_forever()
    finally:
        os.unlink(config_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
