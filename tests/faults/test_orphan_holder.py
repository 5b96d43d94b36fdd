"""Who may be stopped when a stack's lock is held: an orphan yes, a live controller's no.

Real processes stand in for a worker's group (a Python process that ignores SIGTERM, as a
hung Pulumi CLI may); its record is written by the real `_record_worker`, from the test
itself (a live controller) or from a controller process that is then SIGKILLed (an
orphan). The provisioner's wait is the real one (`CloudProvisioner._wait_for_lock_holder`);
only the workspace's stack operations are absent (none is called here).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.errors import BakeoffError
from stacks.cloud import provisioner as prov
from stacks.cloud.state import CampaignState
from stacks.cloud.workspace import AutomationWorkspace, live_holder
from tests.cloud_fake import _running

REPO = Path(__file__).resolve().parents[2]
# a "worker" leading its own group, with a "CLI" child in it; both deaf to SIGINT/SIGTERM
DEAF = ("import signal, subprocess, sys, time\n"
        "for s in (signal.SIGINT, signal.SIGTERM): signal.signal(s, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(600)\n")
# a controller that starts such a worker, records it as bakeoff does, and prints its pids
CONTROLLER = ("import subprocess, sys\n"
              "from pathlib import Path\n"
              "from stacks.cloud.workspace import _record_worker\n"
              "w = subprocess.Popen([sys.executable, '-c', sys.argv[2]], start_new_session=True,"
              " stdout=subprocess.PIPE, text=True)\n"
              "cli = w.stdout.readline().strip()\n"
              "_record_worker(Path(sys.argv[1]), 'st', 'destroy', w.pid)\n"
              "print(w.pid, cli, flush=True)\n"
              "sys.stdin.read()\n")


@pytest.fixture
def state(tmp_path) -> CampaignState:
    st = CampaignState("c1", tmp_path / "state")
    (st.passphrase_file.parent / "workers").mkdir(mode=0o700, exist_ok=True)
    return st


def _provisioner(tmp_path, **waits) -> prov.CloudProvisioner:
    return prov.CloudProvisioner("aws", workspace=AutomationWorkspace(f"file://{tmp_path}"),
                                 on_output=lambda _s, line: said.append(line), **waits)


said: list[str] = []


def _controller(work: Path) -> tuple[subprocess.Popen, int, int]:
    ctl = subprocess.Popen([sys.executable, "-c", CONTROLLER, str(work), DEAF], cwd=REPO,
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                           env=dict(os.environ, PYTHONPATH=str(REPO)))
    worker, cli = map(int, ctl.stdout.readline().split())
    return ctl, worker, cli


def _gone(*pids: int, within_s: float = 60) -> bool:
    deadline = time.monotonic() + within_s
    while any(_running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not any(_running(p) for p in pids)


def test_a_holder_whose_controller_lives_is_waited_for_never_signalled(tmp_path, state):
    said.clear()
    ctl, worker, cli = _controller(state.passphrase_file.parent / "workers")
    try:
        found = live_holder(state.passphrase_file.parent / "workers", "st")
        assert found is not None and found.group == worker and not found.orphaned
        p = _provisioner(tmp_path, holder_wait_s=2, orphan_grace_s=0)
        with pytest.raises(BakeoffError, match="started by a live controller"):
            p._wait_for_lock_holder("st", state, lambda line: said.append(line))
        assert _running(worker) and _running(cli), "a live controller's update was stopped"
        assert not [x for x in said if "to its process group" in x], said
    finally:
        ctl.kill()
        ctl.wait()
        os.killpg(worker, signal.SIGKILL)
        _gone(worker, cli)


def test_an_orphan_is_stopped_by_sigterm_then_sigkill(tmp_path, state, monkeypatch):
    said.clear()
    ctl, worker, cli = _controller(state.passphrase_file.parent / "workers")
    ctl.kill()  # the controller dies as SIGKILL leaves it: nobody will stop its worker
    ctl.wait()
    try:
        found = live_holder(state.passphrase_file.parent / "workers", "st")
        assert found is not None and found.group == worker and found.orphaned
        monkeypatch.setattr(prov, "ORPHAN_LADDER", ((signal.SIGTERM, 2.0),
                                                    (signal.SIGKILL, 30.0)))
        p = _provisioner(tmp_path, holder_wait_s=0, orphan_grace_s=1)
        assert p._wait_for_lock_holder("st", state, lambda line: said.append(line)) is True
        assert not _running(worker) and not _running(cli)
        steps = [x.split(": ")[-1] for x in said if "to its process group" in x]
        assert steps == [f"SIGTERM to its process group {worker}",
                         f"SIGKILL to its process group {worker}"], said
        assert live_holder(state.passphrase_file.parent / "workers", "st") is None
        assert list((state.passphrase_file.parent / "workers").iterdir()) == []
    finally:
        if _running(worker):
            os.killpg(worker, signal.SIGKILL)
        _gone(worker, cli)


def test_a_cli_that_outlived_its_worker_is_found_by_its_group(tmp_path, state):
    """The worker is gone, its CLI still runs in the worker's group: that is the holder;
    once it is gone too, the record is dropped and the lock may be cancelled."""
    ctl, worker, cli = _controller(state.passphrase_file.parent / "workers")
    try:
        os.kill(worker, signal.SIGKILL)
        assert _gone(worker)
        found = live_holder(state.passphrase_file.parent / "workers", "st")
        assert found is not None and (found.pid, found.group) == (cli, worker)
        assert not found.orphaned  # its controller still runs
        os.kill(cli, signal.SIGKILL)
        assert _gone(cli)
        assert live_holder(state.passphrase_file.parent / "workers", "st") is None
    finally:
        ctl.kill()
        ctl.wait()
        for pid in (worker, cli):
            if _running(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_worker_whose_controller_died_before_it_started_starts_nothing(tmp_path):
    """The real worker over the fake engine, told its controller is a process that has
    already exited: it must not start the destroy (nobody would stop it); it exits 130
    ("interrupted")."""
    import json

    from stacks.cloud.workspace import PARENT_ENV, RESULT_PREFIX

    root = tmp_path / "stacks"
    root.mkdir()
    (root / "st.json").write_text(json.dumps({"hosts": {}, "pids": []}))
    (tmp_path / "passphrase").write_text("x")
    gone = subprocess.Popen(["true"])
    gone.wait()
    out = subprocess.run([sys.executable, "-m", "tests.cloud_fake_engine", "destroy", "bakeoff",
                          "st"], cwd=REPO, capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=str(REPO),
                                  PULUMI_BACKEND_URL=f"file://{root}",
                                  PULUMI_CONFIG_PASSPHRASE_FILE=str(tmp_path / "passphrase"),
                                  **{PARENT_ENV: str(gone.pid)}))
    assert out.returncode == 130, out  # "interrupted"; its output went to /dev/null
    assert RESULT_PREFIX not in out.stdout  # nobody reads it: silenced, not a broken pipe
    assert (root / "st.json").exists(), "the orphaned worker ran the destroy"
