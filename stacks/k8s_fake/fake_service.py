"""Real HTTP behind the fake cluster: one server per running pod, one Service address.

Why real: k8s-time-to-scale measures request latency under a spike, so the simulated
cluster must queue requests the way an overloaded service does. Each running pod of the
fake cluster is a `ReplicaServer` on 127.0.0.1 (a thread-per-connection HTTP server)
that serves at most `concurrency` requests at once, each taking `service_time_ms`; more
wait in its queue, and beyond `queue_limit` waiting it answers 503 (a real overloaded
pod sheds load or times out the same way). A `ServiceFront` is the Service's address:
it forwards each request round-robin to the ready replicas of its selector (kube-proxy
picks among ready endpoints), answers 503 when there is none, and counts requests per
second so the scripted HPA can read the load, as metrics-server reads CPU.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:
        pass

    def _answer(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _ReplicaHandler(_Quiet):
    server: ReplicaServer

    def do_GET(self) -> None:
        srv = self.server
        with srv.lock:
            if srv.waiting >= srv.queue_limit:
                srv.shed += 1
                full = True
            else:
                srv.waiting += 1
                full = False
        if full:
            self._answer(503, {"pod": srv.pod, "error": "queue full"})
            return
        with srv.slots:            # at most `concurrency` requests in service
            with srv.lock:
                srv.waiting -= 1
            time.sleep(srv.service_s)
        with srv.lock:
            srv.served += 1
        self._answer(200, {"pod": srv.pod})


class ReplicaServer(ThreadingHTTPServer):
    """The container of one pod: a fixed service time, bounded concurrency and queue."""

    daemon_threads = True
    request_queue_size = 256  # the listen backlog: a refused SYN would add a 1-s retry

    def __init__(self, pod: str, service_ms: float, concurrency: int, queue_limit: int):
        super().__init__(("127.0.0.1", 0), _ReplicaHandler)
        self.pod = pod
        self.service_s = service_ms / 1000.0
        self.slots = threading.BoundedSemaphore(concurrency)
        self.queue_limit = queue_limit
        self.lock = threading.Lock()
        self.waiting = self.served = self.shed = 0
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True, name=f"replica-{pod}").start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class _FrontHandler(_Quiet):
    server: ServiceFront

    def do_GET(self) -> None:
        front = self.server
        front.count()
        port = front.pick()
        if port is None:
            self._answer(503, {"error": "no ready endpoints"})
            return
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("GET", self.path)
            resp = conn.getresponse()
            body = resp.read()
            code = resp.status
        except OSError as exc:  # the pod went away under the request
            code, body = 502, json.dumps({"error": str(exc)}).encode()
        finally:
            conn.close()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ServiceFront(ThreadingHTTPServer):
    """The Service's one address. `endpoints()` gives the ready pods' ports."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, name: str, endpoints: Any):
        super().__init__(("127.0.0.1", 0), _FrontHandler)
        self.name = name
        self.endpoints = endpoints
        self._rr = itertools.count()
        self.lock = threading.Lock()
        self.per_second: deque[tuple[int, int]] = deque(maxlen=600)  # (epoch s, requests)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True, name=f"service-{name}").start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def count(self) -> None:
        sec = int(time.time())
        with self.lock:
            if self.per_second and self.per_second[-1][0] == sec:
                self.per_second[-1] = (sec, self.per_second[-1][1] + 1)
            else:
                self.per_second.append((sec, 1))

    def rate_at(self, epoch_s: float, window_s: int = 3) -> float:
        """Requests per second over the `window_s` whole seconds before `epoch_s`."""
        end = int(epoch_s)
        with self.lock:
            n = sum(c for s, c in self.per_second if end - window_s <= s < end)
        return n / window_s

    def pick(self) -> int | None:
        ports = self.endpoints()
        return ports[next(self._rr) % len(ports)] if ports else None

    def close(self) -> None:
        self.shutdown()
        self.server_close()
