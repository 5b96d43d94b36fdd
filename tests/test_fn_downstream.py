"""The site's downstream API (bench/serverless/downstream.py) for real on loopback, and the
cloud-init that starts it on a cloud function site's server VM: rendered, its embedded
copy of the endpoint extracted and run as the VM's systemd unit would run it."""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
import yaml

from bench.scenarios import load_campaign_file
from bench.serverless.downstream import serve
from stacks.cloud.resolve import sample_spec
from stacks.cloud.userdata import user_data
from tests.conftest import REPO

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
CAMPAIGN = load_campaign_file(REPO / "scenarios" / "serverless.yaml")
UNIT = "/etc/systemd/system/bakeoff-downstream.service"


def _get(url: str) -> tuple[int, dict]:
    try:
        with OPENER.open(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_the_endpoint_quotes_on_loopback():
    server = serve("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert _get(f"{base}/quote?total=1234") == (200, {"carrier": "bakeoff",
                                                          "shipping_cents": 499,
                                                          "total_cents": 1234})
        assert _get(f"{base}/quote?total=-5")[0] == 400
        assert _get(f"{base}/nope")[0] == 404
    finally:
        server.shutdown()
        server.server_close()


def _doc(provider: str, role: str, serverless: bool = True) -> dict:
    site = next(s for s in CAMPAIGN.sites if s.provider == provider)
    if not serverless:
        site = site.model_copy(update={"serverless": None})
    text = user_data(sample_spec(site, CAMPAIGN), role)
    assert text.startswith("#cloud-config\n")
    return yaml.safe_load(text)


@pytest.mark.parametrize("provider", ["aws", "azure", "gcp"])
def test_the_server_vm_of_a_function_site_starts_it(provider):
    doc = _doc(provider, "server")
    files = {f["path"]: f["content"] for f in doc["write_files"]}
    unit = files[UNIT]
    assert "Restart=always" in unit and "WantedBy=multi-user.target" in unit
    exec_start = next(ln for ln in unit.splitlines() if ln.startswith("ExecStart="))
    argv = shlex.split(exec_start.removeprefix("ExecStart="))
    assert argv[0] == "/usr/bin/python3" and argv[1] in files
    assert argv[argv.index("--port") + 1] == "8099"
    steps = doc["runcmd"]
    start = steps.index(["systemctl", "enable", "--now", "bakeoff-downstream.service"])
    assert steps.index(["systemctl", "daemon-reload"]) < start
    assert start < len(steps) - 1  # the tools setup still runs after it
    assert steps[0][:2] == ["sh", "-c"]  # the TTL power-off stays first
    # the VM's other parts are untouched: login user, host key, the tools' setup script
    assert any(isinstance(u, dict) and u.get("name") for u in doc["users"])
    assert "/var/lib/bakeoff/setup.sh" in files


def test_only_the_server_of_a_function_site_gets_it():
    for doc in (_doc("aws", "client"), _doc("aws", "server", serverless=False)):
        assert UNIT not in {f["path"] for f in doc.get("write_files", [])}
        assert "bakeoff-downstream.service" not in json.dumps(doc["runcmd"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_copy_in_the_cloud_init_runs(tmp_path):
    """The endpoint file as cloud-init writes it, run with the unit's arguments (address
    moved to loopback, a free port): what the VM runs, on this machine."""
    doc = _doc("gcp", "server")
    files = {f["path"]: f["content"] for f in doc["write_files"]}
    exec_start = next(ln for ln in files[UNIT].splitlines() if ln.startswith("ExecStart="))
    argv = shlex.split(exec_start.removeprefix("ExecStart="))
    script = tmp_path / "downstream.py"
    script.write_text(files[argv[1]])
    port = _free_port()
    args = [a if a != "0.0.0.0" else "127.0.0.1" for a in argv[2:]]
    args[args.index("--port") + 1] = str(port)
    proc = subprocess.Popen([sys.executable, str(script), *args], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/quote?total=2000")
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "the endpoint did not start in 30 s"
                time.sleep(0.1)
        assert status == 200 and body["total_cents"] == 2000 and body["shipping_cents"] == 499
    finally:
        proc.terminate()
        proc.wait(timeout=10)
