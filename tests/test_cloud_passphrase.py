"""A stack's secrets open only with the passphrase they were made with (issue 24).

The out-of-process fake (tests/cloud_fake_engine.py, behind bakeoff's real
AutomationWorkspace and worker) keeps a stack's secrets as Pulumi's passphrase secrets
manager does (tests/cloud_fake_secrets.py): encrypted at the first `up`, and every later
operation but `cancel` fails with Pulumi's "incorrect passphrase" when given another
passphrase. bakeoff must say what happened and what to do, never show a traceback, and
lose nothing: the stack stays up and in the journal until the right passphrase is back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bench.scenarios import parse_campaign
from core.errors import BakeoffError
from stacks.cloud.provisioner import CloudProvisioner
from stacks.cloud.state import CampaignState
from tests.cloud_cli import REPO, kill_strays
from tests.cloud_fake import _running
from tests.cloud_fake_engine import FakeAutomation
from tests.cloud_fake_secrets import INCORRECT
from tests.sshd_support import needs_sshd

pytestmark = needs_sshd

CID = "pp-20261206T100000Z-abc123"
WHAT_TO_DO = "put back the copy the stack was created with"


def _campaign():
    return parse_campaign({"name": "pp", "repetitions": 1, "sites": [{
        "name": "a", "provider": "aws", "region": "us-east-1",
        "zones": ["us-east-1a", "us-east-1b"], "instance_type": "c6i.xlarge",
        "loadgen": 0, "ssh_cidr": "192.0.2.10/32"}], "workloads": []}, "test")


def _provisioner(tmp_path):
    return CloudProvisioner("aws", workspace=FakeAutomation(tmp_path / "stacks"),
                            state_root=tmp_path / "state", detect_ip=lambda: None,
                            ssh_deadline_s=60)


def _bakeoff_down(tmp_path, **env):
    """`bakeoff down` in a new process, on the same fake backend and state directory."""
    full = dict(os.environ, BAKEOFF_STATE_DIR=str(tmp_path / "state"),
                BAKEOFF_FAKE_STACKS=str(tmp_path / "stacks"), **env)
    full.pop("BAKEOFF_CAMPAIGN", None)
    return subprocess.run([sys.executable, "-m", "tests.cloud_cli", "down", CID], cwd=REPO,
                          env=full, capture_output=True, text=True, timeout=300)


def _stack_doc(tmp_path) -> dict:
    (doc,) = [p for p in (tmp_path / "stacks").glob("*.json") if p.name != "knobs.json"]
    return json.loads(doc.read_text())


@pytest.fixture
def kept_up(tmp_path):
    """A site up on the fake, its stack's secrets made with the campaign's passphrase;
    anything left when the test ends is killed."""
    campaign = _campaign()
    prov = _provisioner(tmp_path)
    prov.up(campaign.sites[0], campaign, CID)
    for ex in prov._executors.pop((CID, "a"), []):
        ex.close_quietly()  # as a controller that ended: the stack stays up
    yield campaign
    kill_strays(tmp_path)


def test_a_wrong_passphrase_is_explained_and_nothing_is_lost(tmp_path, kept_up):
    state = CampaignState(CID, tmp_path / "state")
    right = state.passphrase_file.read_text()
    doc = _stack_doc(tmp_path)
    assert doc["secrets"].startswith("v1:") and right not in json.dumps(doc)
    pids = doc["pids"]
    # the file now holds another passphrase (same mode: only its value is wrong)
    state.passphrase_file.write_text("not-the-one-the-stack-was-made-with")
    assert state.passphrase_file.stat().st_mode & 0o777 == 0o600

    # resume: attaching reads the stack's outputs, which hold a secret
    with pytest.raises(BakeoffError) as e:
        _provisioner(tmp_path).up(kept_up.sites[0], kept_up, CID)
    assert "incorrect passphrase" in str(e.value) and WHAT_TO_DO in str(e.value)
    assert str(state.passphrase_file) in str(e.value)
    assert state.site_entry("a")["status"] == "up"

    # down from a new process: a clear message, no traceback, the stack kept
    res = _bakeoff_down(tmp_path)
    text = res.stdout + res.stderr
    assert res.returncode == 13, text  # LEFT_BEHIND: run it again
    assert "Traceback" not in text
    # the problem line (stdout, wrapped at 80 columns: compared without whitespace)
    out = res.stdout
    problem = "".join(out[out.index("not removed:"):out.index("run `bakeoff down")].split())
    for needed in (WHAT_TO_DO, str(state.passphrase_file), "Nothing was destroyed"):
        assert "".join(needed.split()) in problem, out
    # Pulumi's own advice (set PULUMI_CONFIG_PASSPHRASE) is not the one given: bakeoff
    # hands Pulumi the campaign's file itself
    assert "".join(INCORRECT.split()) not in problem
    assert state.site_entry("a")["status"] == "destroy-failed"
    assert "a" in state.live_sites()
    assert _stack_doc(tmp_path)["pids"] == pids and all(_running(p) for p in pids)

    # the right passphrase back: down destroys everything; a stray
    # PULUMI_CONFIG_PASSPHRASE in the user's shell is not what Pulumi gets
    state.passphrase_file.write_text(right)
    res = _bakeoff_down(tmp_path, PULUMI_CONFIG_PASSPHRASE="from-another-project")
    assert res.returncode == 0, res.stdout + res.stderr
    assert state.site_entry("a")["status"] == "destroyed"
    assert [p for p in (tmp_path / "stacks").glob("*.json") if p.name != "knobs.json"] == []
    assert not any(_running(p) for p in pids)


def test_a_stack_made_with_another_passphrase_refuses_every_reading_operation(tmp_path,
                                                                          kept_up):
    """The fake itself: each operation that reads the snapshot fails with Pulumi's text;
    `cancel` reads no secret and works."""
    from tests.cloud_fake import FakeWorkspace
    from tests.cloud_fake_secrets import IncorrectPassphrase

    ws = FakeWorkspace(tmp_path / "stacks")
    (stack,) = ws.stacks()
    wrong = tmp_path / "wrong"
    wrong.write_text("wrong\n")
    for op in (lambda: ws.outputs(stack, wrong), lambda: ws.refresh(stack, wrong, print),
               lambda: ws.destroy(stack, wrong, print)):
        with pytest.raises(IncorrectPassphrase, match="incorrect passphrase"):
            op()
    ws.cancel(stack, wrong)
    right = CampaignState(CID, tmp_path / "state").passphrase_file
    assert ws.outputs(stack, right)["hosts"]["server"]["zone"] == "us-east-1a"
    # whitespace around the file's passphrase is trimmed, as Pulumi trims it
    padded = tmp_path / "padded"
    padded.write_text(f"  {right.read_text().strip()}\n\n")
    assert ws.outputs(stack, padded) is not None
    ws.destroy(stack, right, print)
    assert ws.stacks() == []
