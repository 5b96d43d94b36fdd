"""A small fake Kubernetes API server for the teardown of cluster sites
(stacks/cloud/k8s_site.py): list Services, PVCs and PVs across namespaces, delete a
Service or a PVC. A deleted object lingers for `linger` further list calls (a cloud load
balancer or disk takes a while to go); names in `stuck` never go (a finalizer that never
completes). Plain HTTP on 127.0.0.1, no dependency. (stacks/k8s_fake/fake_*.py is the
measuring side's scripted cluster; this one only needs these five calls.)
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class ReleaseApi:
    def __init__(self, services: list[tuple[str, str, str]], pvcs: list[tuple[str, str]],
                 linger: int = 2, stuck: tuple[str, ...] = ()):
        self.services = {(ns, n): t for ns, n, t in services}
        self.pvcs = {(ns, n): f"pv-{n}" for ns, n in pvcs}
        self.pvs = set(self.pvcs.values())
        self.deleting: dict[tuple[str, str, str], int] = {}  # (kind, ns, name) -> lists left
        self.linger, self.stuck = linger, stuck
        self.calls: list[str] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def kubeconfig(self, path: Path) -> Path:
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
            "users": [{"name": "fake", "user": {"token": "fake-token"}}]}))
        return path

    def __enter__(self) -> ReleaseApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _tick(self) -> None:
        """One list call: objects being deleted come closer to gone."""
        for key in list(self.deleting):
            if key[2] in self.stuck:
                continue
            self.deleting[key] -= 1
            if self.deleting[key] <= 0:
                del self.deleting[key]
                kind, ns, name = key
                if kind == "svc":
                    self.services.pop((ns, name), None)
                else:
                    self.pvs.discard(self.pvcs.pop((ns, name), ""))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _send(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                with api.lock:
                    api.calls.append(f"GET {path}")
                    if path == "/api/v1/services":
                        api._tick()
                        items = [{"metadata": {"name": n, "namespace": ns},
                                  "spec": {"type": t, "ports": [{"port": 80}]}}
                                 for (ns, n), t in api.services.items()]
                        kind = "ServiceList"
                    elif path == "/api/v1/persistentvolumeclaims":
                        items = [{"metadata": {"name": n, "namespace": ns},
                                  "spec": {"volumeName": pv}}
                                 for (ns, n), pv in api.pvcs.items()]
                        kind = "PersistentVolumeClaimList"
                    elif path == "/api/v1/persistentvolumes":
                        items = [{"metadata": {"name": pv},
                                  "spec": {"persistentVolumeReclaimPolicy": "Delete"}}
                                 for pv in sorted(api.pvs)]
                        kind = "PersistentVolumeList"
                    else:
                        return self._send(404, {"kind": "Status", "code": 404})
                self._send(200, {"kind": kind, "apiVersion": "v1",
                                 "metadata": {"resourceVersion": "1"}, "items": items})

            def do_DELETE(self) -> None:
                m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/(services|persistentvolumeclaims)"
                                 r"/([^/?]+)", self.path.split("?")[0])
                with api.lock:
                    api.calls.append(f"DELETE {self.path.split('?')[0]}")
                    if not m:
                        return self._send(404, {"kind": "Status", "code": 404})
                    ns, what, name = m.groups()
                    kind = "svc" if what == "services" else "pvc"
                    have = api.services if kind == "svc" else api.pvcs
                    if (ns, name) not in have:
                        return self._send(404, {"kind": "Status", "apiVersion": "v1",
                                                "status": "Failure", "code": 404})
                    api.deleting.setdefault((kind, ns, name), api.linger)
                self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})

        return Handler
