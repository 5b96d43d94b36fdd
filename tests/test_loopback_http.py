"""The fakes' shared loopback server frees its port on close, started or not. Planted: an
unconditional shutdown() waits forever for a serve loop that never ran (a constructor that
fails after binding would hang its cleanup)."""

from __future__ import annotations

import json
import socket
import threading
import urllib.request

from stacks.k8s_fake.loopback_http import JsonHandler, LoopbackServer


class _Hello(JsonHandler):
    def do_GET(self) -> None:
        self.send_json(200, {"path": self.path})


def _close_within(server: LoopbackServer, seconds: float) -> bool:
    done = threading.Thread(target=server.close, daemon=True)
    done.start()
    done.join(seconds)
    return not done.is_alive()


def test_a_started_server_answers_and_closes():
    server = LoopbackServer(_Hello, 0.05)
    server.start()
    with urllib.request.urlopen(f"{server.url}/x", timeout=10) as r:
        assert json.loads(r.read()) == {"path": "/x"}
    assert _close_within(server, 10)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", server.port)) != 0  # the port is free


def test_a_server_never_started_closes_at_once():
    server = LoopbackServer(_Hello, 0.05)
    assert _close_within(server, 10)
