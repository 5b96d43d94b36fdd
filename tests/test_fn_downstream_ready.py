"""Readiness of a cloud function site's downstream API, checked over SSH before cold-start.

A real sshd on loopback stands in for the server VM; the endpoint is the real
bench/serverless/downstream.py in its own process. This machine has no systemd, so where
the unit must look active a `systemctl` script on the session's PATH answers for it; the
last test uses the real systemctl (no systemd here: the unit is not active) through the
cold-start workload itself, which must fail before its probe sends anything."""

from __future__ import annotations

import getpass
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.serverless import downstream
from bench.serverless.downstream_check import PORT, UNIT, DownstreamNotReady, check_downstream
from bench.workloads.cold_start import ColdStart, Params
from core.environment import Environment, Host
from stacks.cloud.cloudinit import new_host_key
from stacks.cloud.fn_common import DOWNSTREAM_PORT
from stacks.cloud.userdata import DOWNSTREAM_UNIT
from stacks.executors.ssh import SshExecutor, SshTarget
from tests.cloud_fake import start_sshd, stop_pid
from tests.sshd_support import _free_port, needs_sshd

pytestmark = needs_sshd


@pytest.fixture
def vm(tmp_path):
    """An SSH executor to a real sshd on 127.0.0.1 (the "server VM")."""
    login = new_host_key("operator")
    key = tmp_path / "id_ed25519"
    key.write_text(login.private_openssh)
    key.chmod(0o600)
    host = new_host_key("vm")
    pid, port = start_sshd(tmp_path / "sshd", host.private_openssh, login.public_openssh)
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {host.public_openssh}\n")
    ex = SshExecutor(SshTarget(getpass.getuser(), "127.0.0.1", port), key=key,
                     known_hosts=known, connect_timeout_s=5)
    try:
        yield ex
    finally:
        ex.close_quietly()
        stop_pid(pid)


def _systemctl(tmp_path, state: str) -> dict[str, str]:
    """PATH for the session with a `systemctl` that reports `state` for our unit only."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "systemctl"
    script.write_text(f'#!/bin/sh\n[ "$1" = is-active ] && [ "$2" = {UNIT} ] && '
                      f'{{ echo {state}; [ {state} = active ]; exit $?; }}\nexit 4\n')
    script.chmod(0o755)
    return {"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin"}


@pytest.fixture
def endpoint():
    """The real downstream API in its own process, on a free loopback port."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, downstream.__file__, "--address", "127.0.0.1",
                             "--port", str(port)])
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_names_match_what_cloud_init_installs():
    assert UNIT == DOWNSTREAM_UNIT and PORT == DOWNSTREAM_PORT


def test_active_unit_and_answering_endpoint_pass(vm, tmp_path, endpoint):
    quote = check_downstream(vm, "vm", port=endpoint, env=_systemctl(tmp_path, "active"))
    # what downstream.py answers for total=1: the flat quote, read back over SSH
    assert quote == {"carrier": "bakeoff", "shipping_cents": 499, "total_cents": 1}


@pytest.mark.parametrize("state", ["failed", "inactive", "activating"])
def test_a_unit_that_is_not_active_fails_with_the_reason(vm, tmp_path, endpoint, state):
    with pytest.raises(DownstreamNotReady) as info:
        check_downstream(vm, "web's server VM", port=endpoint, env=_systemctl(tmp_path, state))
    msg = str(info.value)
    assert f"{UNIT} on web's server VM is '{state}'" in msg and "journalctl -u" in msg


def test_an_active_unit_with_nothing_listening_fails(vm, tmp_path):
    port = _free_port()  # nothing listens here
    with pytest.raises(DownstreamNotReady) as info:
        check_downstream(vm, "vm", port=port, wait_s=0.5, env=_systemctl(tmp_path, "active"))
    assert "is active but GET http://127.0.0.1:" in str(info.value)


def test_another_service_on_the_port_is_not_taken_for_the_api(vm, tmp_path):
    class Other(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Other)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(DownstreamNotReady) as info:
            check_downstream(vm, "vm", port=server.server_address[1],
                             env=_systemctl(tmp_path, "active"))
    finally:
        server.shutdown()
        server.server_close()
    assert "not a shipping quote" in str(info.value)


def test_cold_start_on_a_cloud_site_fails_before_its_probe_when_the_unit_is_down(
        vm, monkeypatch):
    """The workload's own hook, with this machine's real systemctl (no systemd: the unit
    is not active). The function URL and the AWS endpoint (what forcing a cold start
    would call) point at a local listener that counts requests: none may arrive."""
    hits: list[str] = []

    class Function(BaseHTTPRequestHandler):
        def _any(self) -> None:
            hits.append(f"{self.command} {self.path}")
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = do_PATCH = _any

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Function)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    local = f"http://127.0.0.1:{server.server_address[1]}"
    for key, value in {"AWS_ENDPOINT_URL": local, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_MAX_ATTEMPTS": "1"}.items():
        monkeypatch.setenv(key, value)
    host = Host("server", "zone-a", "127.0.0.1", vm)
    env = Environment(site="lambda", provider="aws", region="us-east-1",
                      instance_type="c7i.large", hosts={"server": host, "client": host},
                      network="vpc", notes={"function": {
                          "kind": "cloud-function", "provider": "aws",
                          "url": local, "cold_force": {
                              "method": "lambda-update-function-configuration",
                              "region": "us-east-1", "function_name": "bko-lambda-fn"}}})
    try:
        with pytest.raises(DownstreamNotReady) as info:
            ColdStart().run(Params(force="version", samples=1, timeout_s=5), env)
    finally:
        server.shutdown()
        server.server_close()
    assert f"{UNIT} on lambda's server VM" in str(info.value) and "not active" in str(info.value)
    assert hits == []  # nothing was sent to the function
