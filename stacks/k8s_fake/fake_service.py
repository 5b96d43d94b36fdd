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
from typing import Any

from stacks.k8s_fake.loopback_http import JsonHandler, LoopbackServer


class _ReplicaHandler(JsonHandler):
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
            self.send_json(503, {"pod": srv.pod, "error": "queue full"})
            return
        with srv.slots:            # at most `concurrency` requests in service
            with srv.lock:
                srv.waiting -= 1
            time.sleep(srv.service_s)
        with srv.lock:
            srv.served += 1
        self.send_json(200, {"pod": srv.pod})


class ReplicaServer(LoopbackServer):
    """The container of one pod: a fixed service time, bounded concurrency and queue."""

    request_queue_size = 256  # the listen backlog: a refused SYN would add a 1-s retry

    def __init__(self, pod: str, service_ms: float, concurrency: int, queue_limit: int):
        super().__init__(_ReplicaHandler, 0.1, f"replica-{pod}")
        self.pod = pod
        self.service_s = service_ms / 1000.0
        self.slots = threading.BoundedSemaphore(concurrency)
        self.queue_limit = queue_limit
        self.lock = threading.Lock()
        self.waiting = self.served = self.shed = 0
        self.start()


class _FrontHandler(JsonHandler):
    server: ServiceFront

    def do_GET(self) -> None:
        front = self.server
        front.count()
        port = front.pick()
        if port is None:
            self.send_json(503, {"error": "no ready endpoints"})
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
        self.send_bytes(code, body)


class ServiceFront(LoopbackServer):
    """The Service's one address. `endpoints()` gives the ready pods' ports."""

    request_queue_size = 256

    def __init__(self, name: str, endpoints: Any):
        super().__init__(_FrontHandler, 0.1, f"service-{name}")
        self.name = name
        self.endpoints = endpoints
        self._rr = itertools.count()
        self.lock = threading.Lock()
        self.per_second: deque[tuple[int, int]] = deque(maxlen=600)  # (epoch s, requests)
        self.start()

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
