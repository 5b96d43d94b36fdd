"""SIGKILL of a cloud campaign's controller, then `bakeoff down` or `--resume`.

The real CLI runs in a subprocess (`python -m tests.cloud_cli`: bakeoff with its cloud
provisioners on the out-of-process fake workspace, tests/cloud_fake_engine.py): the real
AutomationWorkspace starts the real worker, which runs a fake Pulumi CLI in its process
group; that CLI holds the stack's lock with its pid and starts loopback sshds as VMs.
After each kill and recovery nothing may be left: no stack, no worker or CLI process, no
VM (sshd) process, and no lock was ever cancelled under a live holder.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cloud_fake import _running
from tests.conftest import REPO
from tests.sshd_support import needs_sshd

pytestmark = needs_sshd
CLI = [sys.executable, "-m", "tests.cloud_cli"]
SCENARIO = """
name: cloudkill
repetitions: 2
sites:
  - name: a
    provider: aws
    region: us-east-1
    zones: [us-east-1a, us-east-1b]
    instance_type: c6i.xlarge
    loadgen: 0
    ssh_cidr: 192.0.2.10/32
workloads:
  - name: sysbench-cpu
    params: {time_s: 1}
criteria:
  - {name: cpu, weight: 3}
"""


class CloudRun:
    """One controller in a subprocess, with its own state, results and fake stacks."""

    def __init__(self, tmp: Path, **knobs):
        self.tmp = tmp
        self.stacks = tmp / "stacks"
        self.stacks.mkdir(parents=True, exist_ok=True)
        self.knobs(**knobs)
        self.scenario = tmp / "s.yaml"
        self.scenario.write_text(SCENARIO)
        self.env = dict(os.environ, BAKEOFF_STATE_DIR=str(tmp / "state"),
                        BAKEOFF_FAKE_STACKS=str(self.stacks),
                        BAKEOFF_RESULTS=str(tmp / "results"), BAKEOFF_FAKE_HOLDER_WAIT="40")
        self.env.pop("BAKEOFF_CAMPAIGN", None)
        self.proc: subprocess.Popen | None = None
        self.sshds: set[int] = set()

    def knobs(self, **knobs) -> None:
        (self.stacks / "knobs.json").write_text(json.dumps(knobs))

    def start(self, *args: str) -> None:
        self.proc = subprocess.Popen([*CLI, "run", str(self.scenario), "--quiet", "--no-score",
                                      *args], cwd=REPO, env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)

    def bakeoff(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([*CLI, *args], cwd=REPO, env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    @property
    def campaign_id(self) -> str:
        found = list((self.tmp / "results").glob("*/manifest.json"))
        return found[0].parent.name if found else ""

    def journal(self) -> dict:
        cid = self.campaign_id
        p = self.tmp / "state" / "campaigns" / cid / "journal.json"
        try:
            return json.loads(p.read_text())["sites"] if cid else {}
        except (OSError, ValueError):
            return {}

    def stack_docs(self) -> dict[str, dict]:
        out = {}
        for p in self.stacks.glob("*.json"):
            if p.name != "knobs.json":
                try:
                    out[p.stem] = json.loads(p.read_text())
                except ValueError:  # being rewritten
                    continue
        return out

    def workers(self) -> list[int]:
        """Worker and fake-CLI processes of this test (their cmdline names its stacks or
        the fake engine and their environment its fake backend)."""
        mark = f"PULUMI_BACKEND_URL=file://{self.stacks}".encode()
        out = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                env = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if mark in env and _running(int(entry)):
                out.append(int(entry))
        return out

    def wait_for(self, what: str, cond, timeout_s: float = 45) -> None:
        deadline = time.monotonic() + timeout_s
        while not cond():
            assert self.proc is None or self.proc.poll() is None, \
                f"the run ended before {what}: {self.proc.stderr.read()[-2000:]}"
            assert time.monotonic() < deadline, f"{what} not reached in {timeout_s} s"
            time.sleep(0.05)
        for doc in self.stack_docs().values():
            self.sshds.update(doc.get("pids", []))

    def kill_controller(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)  # the controller alone, as the OOM killer does
        self.proc.wait(timeout=30)

    def assert_nothing_left(self, wait_s: float = 20) -> None:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and (self.workers() or any(
                _running(p) for p in self.sshds)):
            time.sleep(0.1)
        assert self.stack_docs() == {}, self.stack_docs()
        assert self.workers() == [], "a worker or fake Pulumi CLI outlived the campaign"
        assert not [p for p in self.sshds if _running(p)], "a VM (sshd) is still running"
        assert not (self.stacks / "violations.log").exists(), \
            (self.stacks / "violations.log").read_text()
        assert {s: e["status"] for s, e in self.journal().items()} == {"a": "destroyed"}


@pytest.fixture(autouse=True)
def _no_strays(tmp_path):
    """Whatever a failing test left (workers, VMs of its own fake stacks) is killed."""
    yield
    mark = str(tmp_path / "stacks")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
            env = Path(f"/proc/{entry}/environ").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if mark in cmd or f"file://{mark}" in env:
            with contextlib.suppress(OSError):
                os.kill(int(entry), signal.SIGKILL)


def test_sigkill_while_provisioning_then_down(tmp_path):
    """The worker dies with its controller (its update cancelled, lock released, no
    process left); `bakeoff down` destroys the half-made stack and its VMs now."""
    run = CloudRun(tmp_path, up_delay_s=60)
    run.start()
    run.wait_for("a running up with its VMs", lambda: any(
        d.get("locked") and d.get("pids") for d in run.stack_docs().values()))
    run.kill_controller()
    cid = run.campaign_id
    deadline = time.monotonic() + 20  # no one stops the worker but its parent-death signal
    while run.workers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert run.workers() == [], "the worker outlived its controller"
    assert all(not d.get("locked") for d in run.stack_docs().values()), \
        "the cancelled update did not release its lock"
    done = run.bakeoff("down", cid)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 stack(s) destroyed" in done.stdout
    run.assert_nothing_left()
    manifest = json.loads((tmp_path / "results" / cid / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and "bakeoff down" in manifest["interrupted_by"]


def test_sigkill_while_measuring_then_resume_finishes_and_tears_down(tmp_path):
    run = CloudRun(tmp_path)
    run.start()
    run.wait_for("measuring", lambda: run.campaign_id and json.loads(
        (tmp_path / "results" / run.campaign_id / "manifest.json").read_text()).get("sites"))
    run.kill_controller()
    cid = run.campaign_id
    assert run.stack_docs(), "the stack must still be up after the kill"
    resumed = run.bakeoff("run", str(run.scenario), "--quiet", "--no-score", "--resume", cid)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    run.assert_nothing_left()
    manifest = json.loads((tmp_path / "results" / cid / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert [c for c in manifest["units"]] == ["a/sysbench-cpu/0", "a/sysbench-cpu/1"]


def test_sigkill_during_teardown_then_resume_finishes_the_teardown(tmp_path):
    """Before: resume printed "complete", exited 0 and called no workspace."""
    run = CloudRun(tmp_path, destroy_delay_s=60)
    run.start()
    run.wait_for("teardown", lambda: run.journal().get("a", {}).get("status") == "destroying"
                 and any(d.get("locked") for d in run.stack_docs().values()), timeout_s=55)
    run.kill_controller()
    cid = run.campaign_id
    run.knobs()  # destroys are quick again
    resumed = run.bakeoff("run", str(run.scenario), "--quiet", "--no-score", "--resume", cid)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    run.assert_nothing_left()


def test_down_waits_for_a_live_holder_and_refuses_a_live_campaign(tmp_path):
    """A killed controller's worker that takes long to stop keeps its lock: `down` waits
    for it instead of cancelling under it. `down` of a running campaign is refused."""
    run = CloudRun(tmp_path, up_delay_s=60, cancel_delay_s=15)
    run.start()
    run.wait_for("a running up", lambda: any(d.get("locked") and d.get("pids")
                                             for d in run.stack_docs().values()))
    cid = run.campaign_id
    refused = run.bakeoff("down", cid)
    assert refused.returncode == 7 and "is running" in refused.stderr, refused.stderr
    assert run.stack_docs(), "a refused down touched the live campaign"
    run.kill_controller()
    stopping = run.workers()
    assert stopping, "the worker is still stopping its update (cancel_delay_s)"
    swept = run.bakeoff("gc", "--delete", "--campaign", cid)  # this machine's sweep
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert all(_running(p) for p in stopping), "the sweep killed a live worker mid-update"
    done = run.bakeoff("down", cid)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "held by a live update" in done.stderr
    run.assert_nothing_left()


def test_down_cancels_the_lock_of_a_dead_holder(tmp_path):
    """Worker and CLI killed outright: the lock stays (as a killed pulumi leaves it); its
    holder is dead, so `down` cancels it, refreshes and destroys."""
    run = CloudRun(tmp_path, up_delay_s=60)
    run.start()
    run.wait_for("a running up", lambda: any(d.get("locked") and d.get("pids")
                                             for d in run.stack_docs().values()))
    workers = run.workers()
    assert workers
    for pid in workers:
        with contextlib.suppress(OSError):
            os.killpg(os.getpgid(pid), signal.SIGKILL)
    run.kill_controller()
    assert any(d.get("locked") for d in run.stack_docs().values())
    done = run.bakeoff("down", run.campaign_id)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cancel, refresh" in done.stderr
    run.assert_nothing_left()


def test_failed_destroy_exits_13_with_the_command_that_removes_it(tmp_path):
    """A destroy that fails is not "complete": exit 13, what is left, the exact command."""
    run = CloudRun(tmp_path, fail_destroy=["a"])
    run.start()
    _, err = run.proc.communicate(timeout=120)
    cid = run.campaign_id
    assert run.proc.returncode == 13, err
    assert f"pulumi stack {cid}--a (a)" in err and f"bakeoff down {cid}" in err, err
    assert list(run.stack_docs()) == [f"{cid}--a"]
    manifest = json.loads((tmp_path / "results" / cid / "manifest.json").read_text())
    assert manifest["left_behind"] == {"items": [f"pulumi stack {cid}--a (a)"],
                                       "command": f"bakeoff down {cid}"}
    run.knobs()  # the cause is fixed: the printed command now removes it
    done = run.bakeoff(*manifest["left_behind"]["command"].split()[1:])
    assert done.returncode == 0, done.stdout + done.stderr
    run.assert_nothing_left()
