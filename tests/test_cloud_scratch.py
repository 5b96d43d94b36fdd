"""A resumed cloud run removes the scratch directories its killed predecessor left.

Before: a controller killed while measuring left its hosts' scratch directories (with
bakeoff's shipped source in them) on VMs that lived on, and the resume that attached to
them made new ones; only those were removed at teardown. On the loopback "VMs" of
tests/faults/test_cloud_kills.py that left /tmp/bakeoff-a-client-* and -server-* behind
after every full test run. Here the fake workspace's VMs are real loopback sshds, so their
file system is this machine's and the test looks at the directories themselves.
"""

from __future__ import annotations

import glob
import os
import shutil
import uuid

from stacks.cloud.provisioner import CloudProvisioner
from stacks.cloud.scratch import is_scratch_path
from stacks.cloud.state import CampaignState
from tests.cloud_fake import FakeWorkspace
from tests.sshd_support import needs_sshd
from tests.test_cloud_lifecycle import _campaign, _site


def _provisioner(tmp_path, ws, said):
    return CloudProvisioner("aws", workspace=ws, state_root=tmp_path / "state",
                            detect_ip=lambda: None, ssh_deadline_s=30,
                            on_output=lambda site, line: said.append(line))


def _ours(site: str) -> list[str]:
    """Every scratch directory of this site on this machine, found without bakeoff."""
    return sorted(glob.glob(f"/tmp/bakeoff-{site}-*"))


@needs_sshd
def test_resume_removes_the_killed_runs_scratch_and_teardown_the_rest(tmp_path):
    site = f"scr-{uuid.uuid4().hex[:6]}"  # no other test (or earlier run) shares its dirs
    campaign = _campaign(_site(site))
    ws, said = FakeWorkspace(tmp_path / "stacks"), []
    killed = _provisioner(tmp_path, ws, said)
    env = killed.up(campaign.sites[0], campaign, "k1")  # this run is "killed": no down
    left = {r: env.hosts[r].facts["scratch_dir"] for r in ("client", "server")}
    resumed = _provisioner(tmp_path, ws, said)
    try:
        assert _ours(site) == sorted(left.values())
        assert all(os.path.isdir(f"{p}/bakeoff-src/bench") for p in left.values())
        env2 = resumed.up(campaign.sites[0], campaign, "k1")
        assert "attaching to existing stack" in " ".join(said)
        fresh = {r: env2.hosts[r].facts["scratch_dir"] for r in ("client", "server")}
        assert set(fresh.values()).isdisjoint(left.values())
        assert _ours(site) == sorted(fresh.values()), "the killed run's scratch is still there"
        assert not [line for line in said if "WARNING" in line], said
        resumed.down(env2)
        assert _ours(site) == []
        assert CampaignState("k1", tmp_path / "state").site_entry(site)["status"] == "destroyed"
    finally:
        killed.down_site("k1", site)
        for path in _ours(site):  # a failing run leaves nothing either
            shutil.rmtree(path, ignore_errors=True)


@needs_sshd
def test_a_journal_naming_another_path_never_gets_it_removed(tmp_path):
    site = f"scr-{uuid.uuid4().hex[:6]}"
    campaign = _campaign(_site(site))
    ws, said = FakeWorkspace(tmp_path / "stacks"), []
    first = _provisioner(tmp_path, ws, said)
    env = first.up(campaign.sites[0], campaign, "k2")
    victims = {"server": tmp_path / "precious",  # not bakeoff's shape at all
               "client": tmp_path / f"bakeoff-{site}-client-ABC123" / ".."}  # escapes
    for path in victims.values():
        path.mkdir(parents=True, exist_ok=True)
        (path / "keep.txt").write_text("x")
    state = CampaignState("k2", tmp_path / "state")
    state.record(site, scratch={r: str(p) for r, p in victims.items()})  # edited by hand
    again = _provisioner(tmp_path, ws, said)
    try:
        env2 = again.up(campaign.sites[0], campaign, "k2")
        assert all((p / "keep.txt").read_text() == "x" for p in victims.values())
        warnings = " ".join(line for line in said if "left alone" in line)
        assert all(str(p) in warnings for p in victims.values()), said
        again.down(env2)
        first.down(env)
    finally:
        first.down_site("k2", site)
        for path in _ours(site):
            shutil.rmtree(path, ignore_errors=True)


def test_scratch_path_shape():
    # the shapes stacks/static.py's and stacks/cloud/datadisk.py's mktemp templates make
    # (XXXXXX: six letters or digits), written out by hand
    assert is_scratch_path("/tmp/bakeoff-a-client-HMRgTa", "a", "client", None)
    assert is_scratch_path("/data/bakeoff-web-loadgen-0-x1Y2z3", "web", "loadgen-0", "/data/")
    assert not is_scratch_path("/data/bakeoff-web-server-x1Y2z3", "web", "server", None)
    assert not is_scratch_path("/tmp/bakeoff-a-server-HMRgTa", "a", "client", None)
    assert not is_scratch_path("/tmp/bakeoff-ab-client-HMRgTa", "a", "client", None)
    assert not is_scratch_path("/tmp/bakeoff-a-client-HMRgTa/..", "a", "client", None)
    assert not is_scratch_path("/tmp/bakeoff-a-client-../../x", "a", "client", None)
    assert not is_scratch_path("/tmp", "a", "client", None)
