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
import time

import pytest

from tests.cloud_cli import CloudRun, kill_strays
from tests.cloud_fake import _running
from tests.sshd_support import needs_sshd

pytestmark = needs_sshd
@pytest.fixture(autouse=True)
def _no_strays(tmp_path):
    yield
    kill_strays(tmp_path)


def test_sigkill_while_provisioning_then_down(tmp_path):
    """The worker dies with its controller (its update cancelled, lock released, no
    process left); `bakeoff down` destroys the half-made stack and its VMs now."""
    run = CloudRun(tmp_path, up_delay_s=60)
    run.start()
    run.wait_for("a running up with its VMs", lambda: any(
        d.get("locked") and d.get("pids") for d in run.stack_docs().values()))
    run.kill_controller()
    cid = run.campaign_id
    deadline = time.monotonic() + 60  # no one stops the worker but its parent-death signal
    while run.workers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert run.workers() == [], "the worker outlived its controller"
    log = run.stacks / "cli.log"
    assert all(not d.get("locked") for d in run.stack_docs().values()), \
        f"the cancelled update did not release its lock: {log.exists() and log.read_text()}"
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


ORPHANS = {
    "stops": {},  # the SIGINT its worker forwards stops it
    "slow-cancel": {"cancel_delay_s": 600},  # its delete in flight takes 10 minutes
    "hung": {"deaf_cli": True},  # deaf to SIGINT and SIGTERM: only SIGKILL ends it
}


@pytest.mark.parametrize("orphan", list(ORPHANS))
def test_sigkill_during_teardown_then_resume_finishes_the_teardown(tmp_path, orphan):
    """Before: resume printed "complete", exited 0 and called no workspace. The killed
    controller's destroy goes on as an orphan (its worker and fake CLI hold the lock). It
    stops by itself, or the resume stops it once it outlives its grace: SIGTERM (Pulumi's
    second signal: terminate now, the lock stays), then SIGKILL; only then is its lock
    cancelled (the fake records a cancel under a live holder as a violation)."""
    run = CloudRun(tmp_path, destroy_delay_s=600, **ORPHANS[orphan])
    run.start()
    run.wait_for("teardown", lambda: run.journal().get("a", {}).get("status") == "destroying"
                 and any(d.get("locked") for d in run.stack_docs().values()))
    run.kill_controller()
    cid = run.campaign_id
    run.knobs()  # the resume's own destroy is quick and hears signals
    if orphan != "stops":
        run.env["BAKEOFF_FAKE_ORPHAN_GRACE"] = "5"  # it will not stop: no need to wait long
        assert run.workers(), "the orphaned destroy must still run when the resume starts"
    resumed = run.bakeoff("run", str(run.scenario), "--quiet", "--no-score", "--resume", cid)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    err = resumed.stderr
    if orphan == "stops":  # released its lock itself: nothing signalled, nothing cancelled
        assert "to its process group" not in err and "cancel, refresh" not in err, err
    else:
        assert "controller is dead" in err and "SIGTERM to its process group" in err, err
        assert ("SIGKILL to its process group" in err) == (orphan == "hung"), err
        assert "cancel, refresh" in err, err  # the stopped orphan left its lock
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
    assert "cancel, refresh" not in done.stderr  # it released its lock: nothing to cancel
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
