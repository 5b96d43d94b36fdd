"""Campaign rules that a plausible one-line bug used to slip past (issue 24, Build 1):
resume trusting a raw file whose content changed, gc taking a live campaign's lock, the
budget never refusing or never stopping. Real tiny campaigns, real locks held by another
process; each test was run against its planted mutation (scripts/planted_mutations.py)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bakeoff.campaign_cost import check_budget
from bench import leftovers
from bench.lock import CampaignClaim, is_live
from bench.orchestrator import Orchestrator
from bench.scenarios import parse_campaign
from bench.verify import verify_campaign
from core.errors import BakeoffError
from tests.conftest import REPO, bakeoff

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def own_lock_and_state(tmp_path, monkeypatch):
    """This module's campaigns wait for nobody else's (their own lock and state root)."""
    monkeypatch.setenv("BAKEOFF_MACHINE_LOCK", str(tmp_path / "machine.lock"))
    monkeypatch.setenv("BAKEOFF_STATE_DIR", str(tmp_path / "state"))


def _local(repetitions: int = 2, **extra):
    return parse_campaign({
        "name": "bite", "repetitions": repetitions,
        "sites": [{"name": "a", "provider": "local", "cpus": 1, "hourly_usd": 0.04,
                   "network": "loopback"}],
        "workloads": [{"name": "sysbench-cpu", "params": {"time_s": 1}}],
        "criteria": [{"name": "cpu", "weight": 4}, {"name": "tco", "weight": 3}], **extra})


# -- resume: a raw file's checksum, not only its presence -------------------------------

def test_resume_remeasures_a_unit_whose_raw_output_was_altered(tmp_path):
    campaign = _local()
    folder = Orchestrator(campaign, tmp_path / "r", quiet=True).run()
    manifest = json.loads((folder / "manifest.json").read_text())
    unit = manifest["units"]["a/sysbench-cpu/1"]
    raw = folder / unit["raw"]
    kept = folder / "units" / "a" / "sysbench-cpu" / "0.json"
    kept_bytes = kept.read_bytes()
    # same size, same file, one digit changed: only its checksum can tell
    text = raw.read_text()
    digit = next(i for i, ch in enumerate(text) if ch.isdigit())
    altered = text[:digit] + str((int(text[digit]) + 1) % 10) + text[digit + 1:]
    raw.write_text(altered)
    assert verify_campaign(folder)  # verify sees it ...
    Orchestrator(campaign, tmp_path / "r", quiet=True).run(folder.name, resume=True)
    # ... and resume measured that unit again: a new raw output whose checksum is recorded
    assert raw.read_text() != altered
    after = json.loads((folder / "manifest.json").read_text())["units"]["a/sysbench-cpu/1"]
    import hashlib

    assert after["raw_sha256"] == hashlib.sha256(raw.read_bytes()).hexdigest()
    assert kept.read_bytes() == kept_bytes  # the intact unit was not touched
    assert verify_campaign(folder) == []


# -- gc: the dead campaign's lock is taken with flock ------------------------------------

HOLDER = """
import sys
from bench.lock import CampaignClaim
from pathlib import Path
CampaignClaim(sys.argv[1], Path(sys.argv[2])).acquire()
print("held", flush=True)
sys.stdin.readline()
"""


def test_gc_does_not_collect_a_campaign_that_came_alive(tmp_path):
    """Listed dead, then its owner comes back before gc acts: gc must see the flock."""
    cid, root = "bite-gc", tmp_path / "state" / "campaigns"
    claim = CampaignClaim(cid, root).acquire()
    temp = tmp_path / "campaign-temp"
    temp.mkdir()
    claim.tracker().record("tempdir", path=str(temp))
    claim.release()  # the owner is gone: dead, with a leftover
    (state,) = leftovers.campaign_states(cid, root)
    assert not state.live and state.leftovers
    owner = subprocess.Popen([sys.executable, "-c", HOLDER, cid, str(root)], cwd=REPO,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert owner.stdout.readline().strip() == "held"
        assert is_live(root / cid)
        assert not CampaignClaim(cid, root).try_acquire_dead()  # a second holder is refused
        problems = leftovers.collect_dead(state)
        assert problems == [f"campaign {cid} came alive again; not touched"]
        assert temp.is_dir() and (root / cid / "lock").exists()
    finally:
        owner.stdin.close()
        owner.wait(timeout=30)
    # the owner ended for good: now gc collects it
    assert CampaignClaim(cid, root).try_acquire_dead()


# -- budget: refused before anything is created, stopped once spent ----------------------

def _aws_campaign(budget: float | None):
    return parse_campaign({
        "name": "budget", "repetitions": 3, "budget_usd": budget,
        "sites": [{"name": "aws1", "provider": "aws", "region": "us-east-1",
                   "zones": ["us-east-1a", "us-east-1b"], "instance_type": "c6i.xlarge",
                   "ssh_cidr": "192.0.2.10/32"}],
        "workloads": [{"name": "sysbench-cpu", "params": {"time_s": 10}}],
        "criteria": [{"name": "cpu", "weight": 1}]})


def _catalog_price(provider: str, region: str, itype: str) -> float:
    """Read straight from the shipped CSV, not through the catalog code."""
    with open(REPO / "scoring" / "data" / "pricing" / "compute.csv") as f:
        for row in csv.DictReader(f):
            if (row["provider"], row["region"], row["instance_type"]) == (provider, region,
                                                                         itype):
                return float(row["ondemand_usd_per_hour"])
    raise AssertionError("price row missing")


def test_budget_estimate_refuses_over_and_passes_under():
    # by hand (docs/clouds.md formula): 3 units x (10 s + 30 s overhead) = 120 s = 1/30 h,
    # plus 0.25 h to create and destroy -> 0.28333 h; 3 VMs (server, client and the one
    # default load generator) x $0.17/h = $0.51/h -> $0.1445, rounded to $0.14
    rate = _catalog_price("aws", "us-east-1", "c6i.xlarge")
    assert rate == 0.17
    expected = round((0.25 + 3 * 40 / 3600) * 3 * rate, 2)
    assert expected == 0.14
    assert check_budget(_aws_campaign(0.15)) == pytest.approx(expected)
    assert check_budget(_aws_campaign(None)) == pytest.approx(expected)
    with pytest.raises(BakeoffError, match=r"estimated cost \$0.14 exceeds budget_usd \$0.13"):
        check_budget(_aws_campaign(0.13))


def test_run_over_budget_is_refused_before_anything_is_created(tmp_path):
    scenario = tmp_path / "budget.yaml"
    scenario.write_text(yaml.safe_dump(_aws_campaign(0.05).model_dump(mode="json")))
    res = bakeoff("run", str(scenario), "--results", str(tmp_path / "results"))
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert "exceeds budget_usd $0.05" in " ".join((res.stdout + res.stderr).split())
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir())
    state = Path(os.environ["BAKEOFF_STATE_DIR"])
    assert not state.exists() or not any(state.rglob("resources.jsonl"))


def test_campaign_stops_when_its_spend_passes_the_budget(tmp_path):
    # $36/h is a cent a second; the budget is half a cent. The first unit starts at ~0 s
    # spent (or the check already stops it), and a 1-second sysbench unit alone spends
    # more than the budget, so at most one of the 4 units can ever run.
    campaign = _local(repetitions=4, budget_usd=0.005)
    orch = Orchestrator(campaign, tmp_path / "r", quiet=True, spend_usd_per_hour=36.0)
    with pytest.raises(BakeoffError, match=r"budget_usd \$0.01 reached"):
        orch.run()
    (folder,) = (tmp_path / "r").iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "budget_usd" in manifest["error"]
    assert len(list((folder / "units").rglob("*.json"))) <= 1
