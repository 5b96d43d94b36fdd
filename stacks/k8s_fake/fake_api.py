"""A local fake Kubernetes API server on 127.0.0.1 over a scripted FakeCluster.

It speaks the parts of the API the pod-scale measurement uses, the way a real API
server does: list returns `metadata.resourceVersion`; `?watch=true` streams one JSON
event per line over chunked HTTP/1.1 (ADDED/MODIFIED/DELETED, BOOKMARK when asked);
a resourceVersion older than the last compaction gets an ERROR event with a 410
Expired Status; `timeoutSeconds` ends a watch; Faults can cut a watch mid-stream (no
final chunk, so the client sees a broken connection) and compact history at that
moment. The Date header is the cluster's (virtual) clock, so clock offsets show.
"""

from __future__ import annotations

import json
import re
import threading
import time
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, urlparse

from stacks.k8s_fake.fake_cluster import ClusterScript, FakeCluster, Faults, VirtualClock
from stacks.k8s_fake.loopback_http import JsonHandler, LoopbackServer

_ROUTES = [
    (re.compile(r"^/api/v1/nodes$"), "Node", "v1"),
    (re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/pods$"), "Pod", "v1"),
    (re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/events$"), "Event", "v1"),
    (re.compile(r"^/apis/apps/v1/namespaces/(?P<ns>[^/]+)/deployments$"), "Deployment", "apps/v1"),
    (re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/services$"), "Service", "v1"),
    (re.compile(r"^/apis/autoscaling/v2/namespaces/(?P<ns>[^/]+)/horizontalpodautoscalers$"),
     "HorizontalPodAutoscaler", "autoscaling/v2"),
]
_ONE = re.compile(r"^/(?:api/v1|apis/apps/v1|apis/autoscaling/v2)/namespaces/(?P<ns>[^/]+)/"
                  r"(?P<plural>deployments|services|horizontalpodautoscalers)/(?P<name>[^/]+)$")
_KIND = {"deployments": "Deployment", "services": "Service",
         "horizontalpodautoscalers": "HorizontalPodAutoscaler"}
_CREATE = {"Deployment": "create_deployment", "Service": "create_service",
           "HorizontalPodAutoscaler": "create_hpa"}


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def _matches(obj: dict[str, Any], kind: str, ns: str | None, selector: dict[str, str]) -> bool:
    if obj["kind"] != kind:
        return False
    if ns is not None and obj["metadata"].get("namespace") != ns:
        return False
    labels = obj["metadata"].get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def _selector(text: str) -> dict[str, str]:
    out = {}
    for part in filter(None, text.split(",")):
        key, _, value = part.partition("=")
        out[key.strip()] = value.lstrip("=").strip()
    return out


class _Handler(JsonHandler):
    server: FakeApiServer

    def date_time_string(self, timestamp: float | None = None) -> str:
        return formatdate(self.server.cluster.clock.now(), usegmt=True)

    def _route(self) -> tuple[str, str, str | None, dict[str, list[str]]] | None:
        url = urlparse(self.path)
        for pattern, kind, api in _ROUTES:
            m = pattern.match(url.path)
            if m:
                return kind, api, m.groupdict().get("ns"), parse_qs(url.query)
        return None

    def do_GET(self) -> None:
        if urlparse(self.path).path.rstrip("/") == "/version":
            self.send_json(200, {"major": "1", "minor": "29", "gitVersion": "v1.29.0-fake",
                             "gitCommit": "0" * 40, "gitTreeState": "clean",
                             "buildDate": "2024-01-01T00:00:00Z", "goVersion": "go1.21.5",
                             "compiler": "gc", "platform": "linux/amd64"})
            return
        one = _ONE.match(urlparse(self.path).path)
        if one:
            obj = self.server.cluster.store.get(_KIND[one["plural"]], one["ns"], one["name"])
            if obj is None:
                self.send_json(404, _status(404, "NotFound", f'{one["plural"]} "{one["name"]}" '
                                        "not found"))
            else:
                self.send_json(200, obj)
            return
        route = self._route()
        if route is None:
            self.send_json(404, _status(404, "NotFound", f"no route {self.path}"))
            return
        kind, api, ns, q = route
        sel = _selector(q.get("labelSelector", [""])[0])
        if q.get("watch", ["false"])[0] in ("true", "1"):
            self._watch(kind, api, ns, sel, q)
            return
        store = self.server.cluster.store
        with store.cond:
            items = [o for o in store.objects.values() if _matches(o, kind, ns, sel)]
            rv = str(store.rv)
        items.sort(key=lambda o: int(o["metadata"]["resourceVersion"]))
        self.send_json(200, {"kind": f"{kind}List", "apiVersion": api,
                         "metadata": {"resourceVersion": rv}, "items": items})

    def do_POST(self) -> None:
        route = self._route()
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if route is None or route[0] not in _CREATE:
            self.send_json(405, _status(405, "MethodNotAllowed", f"cannot create at {self.path}"))
            return
        kind, ns = route[0], route[2] or "default"
        cluster = self.server.cluster
        if cluster.store.get(kind, ns, body["metadata"]["name"]):
            name = body["metadata"]["name"]
            msg = f'{kind.lower()}s "{name}" already exists'
            self.send_json(409, _status(409, "AlreadyExists", msg))
            return
        owner = cluster if kind == "Deployment" else cluster.serving
        self.send_json(201, getattr(owner, _CREATE[kind])(ns, body))

    def do_DELETE(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        m = _ONE.match(urlparse(self.path).path)
        cluster = self.server.cluster
        delete = {"deployments": cluster.delete_deployment,
                  "services": cluster.serving.delete_service,
                  "horizontalpodautoscalers": cluster.serving.delete_hpa}
        gone = delete[m["plural"]](m["ns"], m["name"]) if m else None
        if gone is None:
            self.send_json(404, _status(404, "NotFound", f"not found: {self.path}"))
            return
        if m["plural"] == "services":  # a real API server answers a Service DELETE with it
            self.send_json(200, gone)
            return
        self.send_json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                         "status": "Success",
                         "details": {"name": m["name"], "kind": m["plural"]}})

    # -- watch -----------------------------------------------------------------------
    def _chunk(self, event: dict[str, Any]) -> None:
        line = json.dumps(event).encode() + b"\n"
        self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
        self.wfile.flush()

    def _watch(self, kind: str, api: str, ns: str | None, sel: dict[str, str],
               q: dict[str, list[str]]) -> None:
        srv = self.server
        store = srv.cluster.store
        faults = srv.cluster.faults
        with srv.lock:
            conn_no = srv.watches
            srv.watches += 1
        drop_after = faults.drop_after if conn_no < faults.drops else None
        timeout = float(q.get("timeoutSeconds", ["300"])[0])
        bookmarks = q.get("allowWatchBookmarks", ["false"])[0] == "true"
        rv_text = q.get("resourceVersion", [""])[0]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        with store.cond:
            if rv_text in ("", "0"):
                last = store.rv
                pending = [{"type": "ADDED", "object": o} for o in store.objects.values()
                           if _matches(o, kind, ns, sel)]
            elif int(rv_text) < store.compacted_rv:
                srv.gone += 1
                self._chunk({"type": "ERROR", "object": _status(
                    410, "Expired", f"too old resource version: {rv_text} ({store.compacted_rv})")})
                self.wfile.write(b"0\r\n\r\n")
                return
            else:
                last = int(rv_text)
                pending = []
        deadline = time.monotonic() + timeout
        sent = 0
        next_bookmark = time.monotonic() + srv.bookmark_interval
        try:
            while time.monotonic() < deadline and not srv.stopping:
                with store.cond:
                    fresh = [(rv, t, o) for rv, t, k, o in store.history
                             if rv > last and _matches(o, kind, ns, sel)]
                    last = store.rv
                    if not fresh and not pending:
                        store.cond.wait(min(0.05, max(0.0, deadline - time.monotonic())))
                pending += [{"type": t, "object": o} for _, t, o in fresh]
                for event in pending:
                    self._chunk(event)
                    sent += 1
                    if drop_after is not None and sent >= drop_after:
                        self._drop()
                        return
                pending = []
                if bookmarks and time.monotonic() >= next_bookmark:
                    self._chunk({"type": "BOOKMARK", "object": {
                        "kind": kind, "apiVersion": api,
                        "metadata": {"resourceVersion": str(last)}}})
                    next_bookmark = time.monotonic() + srv.bookmark_interval
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _drop(self) -> None:
        """Cut the stream without its final chunk, as a dying load balancer would."""
        srv = self.server
        srv.drops += 1
        if srv.cluster.faults.compact_on_drop:
            srv.cluster.store.compact()
        self.close_connection = True
        self.wfile.flush()
        self.connection.close()


class FakeApiServer(LoopbackServer):
    """`with FakeApiServer(script) as api:` serves on api.url until the block ends."""

    def __init__(self, script: ClusterScript | None = None, *, scale: float = 50.0,
                 clock_origin: float | None = None, faults: Faults | None = None,
                 bookmark_interval: float = 0.2):
        super().__init__(_Handler, 0.05)
        origin = time.time() if clock_origin is None else clock_origin
        self.cluster = FakeCluster(script or ClusterScript(), VirtualClock(origin, scale), faults)
        self.bookmark_interval = bookmark_interval
        self.lock = threading.Lock()
        self.watches = self.drops = self.gone = 0
        self.stopping = False

    def __enter__(self) -> FakeApiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping = True
        self.close()
        self.cluster.close()
