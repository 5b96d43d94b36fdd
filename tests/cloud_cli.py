"""`bakeoff` with the cloud provisioners on the out-of-process fake workspace, for tests
that drive the real CLI in a subprocess: `python -m tests.cloud_cli run ...`.

The fake's stacks live in $BAKEOFF_FAKE_STACKS (knobs in its knobs.json); everything else
(state, journal, claim, worker, signals, exit codes) is bakeoff's own.
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

from stacks import registry
from tests.cloud_fake import _running

FAKE_ENV = "BAKEOFF_FAKE_STACKS"
REPO = Path(__file__).resolve().parent.parent


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

    def __init__(self, tmp: Path, scenario: str = SCENARIO, **knobs):
        self.tmp = tmp
        self.stacks = tmp / "stacks"
        self.stacks.mkdir(parents=True, exist_ok=True)
        self.knobs(**knobs)
        self.scenario = tmp / "s.yaml"
        self.scenario.write_text(scenario)
        self.env = dict(os.environ, BAKEOFF_STATE_DIR=str(tmp / "state"),
                        BAKEOFF_FAKE_STACKS=str(self.stacks),
                        BAKEOFF_RESULTS=str(tmp / "results"), BAKEOFF_FAKE_HOLDER_WAIT="150",
                        # an orphaned update's own stop takes milliseconds here (15 s at
                        # most: cancel_delay_s); after this it is signalled, then killed
                        BAKEOFF_FAKE_ORPHAN_GRACE="60")
        self.env.pop("BAKEOFF_CAMPAIGN", None)
        self.proc: subprocess.Popen | None = None
        self.sshds: set[int] = set()

    def knobs(self, **knobs) -> None:
        (self.stacks / "knobs.json").write_text(json.dumps(knobs))

    def start(self, *args: str) -> None:
        self.proc = subprocess.Popen([*CLI, "run", str(self.scenario), "--quiet", "--no-score",
                                      *args], cwd=REPO, env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)

    def bakeoff(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
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

    def vms(self) -> list[int]:
        """Every live sshd of this test's stacks, recorded or not (by its config path)."""
        mark = str(self.stacks).encode()
        out = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if b"sshd" in cmd and mark in cmd and _running(int(entry)):
                out.append(int(entry))
        return out

    def wait_for(self, what: str, cond, timeout_s: float = 300) -> None:
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

    def assert_nothing_left(self, wait_s: float = 60) -> None:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and (self.workers() or self.vms() or any(
                _running(p) for p in self.sshds)):
            time.sleep(0.1)
        assert self.stack_docs() == {}, self.stack_docs()
        assert self.workers() == [], "a worker or fake Pulumi CLI outlived the campaign"
        assert not [p for p in self.sshds if _running(p)], "a VM (sshd) is still running"
        assert self.vms() == [], "a VM (sshd) of these stacks is still running"
        assert not (self.stacks / "violations.log").exists(), \
            (self.stacks / "violations.log").read_text()
        assert {s: e["status"] for s, e in self.journal().items()} == {"a": "destroyed"}



def kill_strays(tmp: Path) -> None:
    """Whatever a failing test left (workers, VMs of its own fake stacks) is killed."""
    mark = str(tmp / "stacks")
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


def _fake(provider: str):
    def make():
        from stacks.cloud.provisioner import CloudProvisioner
        from tests.cloud_fake_engine import FakeAutomation

        return CloudProvisioner(provider, workspace=FakeAutomation(Path(os.environ[FAKE_ENV])),
                                detect_ip=lambda: None, ssh_deadline_s=30,
                                holder_wait_s=float(os.environ.get("BAKEOFF_FAKE_HOLDER_WAIT",
                                                                   "30")),
                                orphan_grace_s=float(os.environ.get("BAKEOFF_FAKE_ORPHAN_GRACE",
                                                                    "60")))
    return make


def main() -> None:
    for provider in ("aws", "azure", "gcp"):
        registry.PROVISIONERS[provider] = _fake(provider)
    from bakeoff.cli import main as bakeoff_main

    bakeoff_main()


if __name__ == "__main__":
    main()
