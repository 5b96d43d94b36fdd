"""`bakeoff run --canary`: each cloud site at its cheapest, up, SSH, cloud-init, ping, gone.

The real CLI in a subprocess with its cloud provisioners on the out-of-process fake
workspace (tests/cloud_cli.py): the canary goes through the same worker, journal,
SSH readiness, workload and teardown as a campaign.
"""

from __future__ import annotations

import json

import pytest

from tests.cloud_cli import CloudRun, kill_strays
from tests.sshd_support import needs_sshd

pytestmark = needs_sshd

SCENARIO = """
name: big
repetitions: 3
sites:
  - name: a
    provider: aws
    region: us-east-1
    zones: [us-east-1a, us-east-1b]
    instance_type: c6i.2xlarge
    loadgen: 2
    disk_gb: 200
    ssh_cidr: 192.0.2.10/32
    database: {engine: postgresql, instance: db.m6i.large, storage_gb: 100, ha: true}
workloads:
  - name: sysbench-cpu
    params: {time_s: 30}
criteria:
  - {name: cpu, weight: 3}
"""


def _cheapest_by_hand(provider: str, region: str, like: str) -> str:
    """A second method: the shipped CSVs through pandas and re, not the catalog code."""
    import re

    import pandas as pd

    from tests.conftest import REPO

    data = REPO / "scoring" / "data"
    rows = pd.read_csv(data / "pricing" / "compute.csv")
    rows = rows[(rows.provider == provider) & (rows.region == region)]
    arm = [re.compile(p) for p in pd.read_csv(data / "architectures.csv").query(
        "provider == @provider and arch == 'arm64'").pattern]
    is_arm = rows.instance_type.map(lambda t: any(p.search(t) for p in arm))
    family = rows.set_index("instance_type").family[like]
    want_arm = is_arm[rows.instance_type == like].item()
    pick = rows[(rows.family == family) & (is_arm == want_arm) & (rows.vcpus >= 2)]
    return pick.sort_values(["ondemand_usd_per_hour", "vcpus", "instance_type"]
                            ).instance_type.iloc[0]


@pytest.fixture(autouse=True)
def _no_strays(tmp_path):
    yield
    kill_strays(tmp_path)


def test_run_canary_proves_each_cloud_site_at_its_cheapest_and_destroys_it(tmp_path):
    run = CloudRun(tmp_path, scenario=SCENARIO)
    run.start("--canary")
    _, err = run.proc.communicate(timeout=120)
    assert run.proc.returncode == 0, err
    assert "canary passed" in err
    cid = run.campaign_id
    assert cid.startswith("big-canary-")
    manifest = json.loads((tmp_path / "results" / cid / "manifest.json").read_text())
    # c6i.2xlarge is "compute", x86_64: the canary takes the cheapest x86_64 compute type
    # with >= 2 vCPUs in us-east-1 (with the 2026-12 snapshot: c6a.large at $0.0765/h;
    # c7g.large, $0.0725, is arm64), read from the CSV files directly below
    site = manifest["sites"]["a"]
    assert site["instance_type"] == _cheapest_by_hand("aws", "us-east-1", "c6i.2xlarge")
    assert site["database"] is None and site["notes"]["loadgens"] == []
    assert set(manifest["units"]) == {"a/ping/0"}
    assert manifest["units"]["a/ping/0"]["status"] == "ok"
    run.assert_nothing_left()


def test_canary_refuses_resume_and_doctor_canary_needs_passing_checks(tmp_path):
    run = CloudRun(tmp_path, scenario=SCENARIO)
    res = run.bakeoff("run", str(run.scenario), "--canary", "--resume", "x")
    assert res.returncode == 1 and "does not resume" in res.stderr
    env_path = "/usr/bin:/bin"  # no Pulumi CLI: doctor fails, the canary is not started
    run.env.update(PATH=env_path, AWS_EC2_METADATA_DISABLED="true",
                   AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
                   AWS_CONFIG_FILE=str(tmp_path / "none"))
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        run.env.pop(var, None)
    res = run.bakeoff("doctor", str(run.scenario), "--canary")
    assert res.returncode == 3, res.stdout + res.stderr
    assert "the canary was not started" in res.stdout
    assert run.stack_docs() == {} and not (tmp_path / "results").exists()
