"""`bakeoff plan` of an EKS site with `autoscaler: karpenter`: the Karpenter parts are
previewed and pass the rules, and the campaign cost prices Karpenter's nodes as the node
group's (the site's type x hours), worked by hand."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bakeoff.cli import app

OFFLINE = {"BAKEOFF_OWNER": "golden-owner", "PATH": "/usr/bin:/bin", "COLUMNS": "200",
           "AZURE_SUBSCRIPTION_ID": "", "GOOGLE_CLOUD_PROJECT": ""}
SCENARIO = """
name: plan-karpenter
ttl_minutes: 120
budget_usd: 10
repetitions: 1
sites:
  - name: eks-kp
    provider: aws
    region: us-east-1
    zones: [us-east-1a, us-east-1b]
    instance_type: c7i.xlarge
    loadgen: 1
    kubernetes: {version: "1.31", min_nodes: 2, max_nodes: 5, autoscaler: karpenter}
workloads:
  - name: k8s-pod-scale
"""


def test_plan_previews_karpenter_and_prices_its_nodes_by_hand(tmp_path):
    path = tmp_path / "kp.yaml"
    path.write_text(SCENARIO)
    res = CliRunner().invoke(app, ["plan", str(path), "--json"], env=OFFLINE)
    assert res.exit_code == 0, res.output
    (site,) = json.loads(res.output)["sites"]
    assert site["rule_violations"] == [] and "error" not in site
    kinds = {r["type"] for r in site["resources"]}
    assert {"kubernetes:karpenter.sh/v1:NodePool", "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",
            "aws:sqs/queue:Queue", "aws:cloudwatch/eventRule:EventRule",
            "aws:iam/instanceProfile:InstanceProfile", "aws:eks/accessEntry:AccessEntry",
            "kubernetes:helm.sh/v3:Release"} <= kinds
    # By hand (scoring/data/pricing: c7i.xlarge 0.1785/h, EKS 0.10, lb_hour 0.0225, NAT
    # 0.045). Hours: 0.25 VMs + 0.5 cluster + one k8s-pod-scale unit (60 s default + 30 s
    # overhead) = 0.775 h. Whole campaign: server, client, load generator and 2 nodes =
    # 5 x 0.1785, + 0.10 + 0.0225 + 0.045 = 1.06/h -> 0.8215. Karpenter's 3 nodes above
    # min for (90 + 600 consolidateAfter) s = 0.191667 h: 3 x 0.1785 x 0.191667 = 0.102638.
    assert site["estimated_campaign_usd"] == pytest.approx(0.8215 + 0.102638, abs=0.006)
    text = CliRunner().invoke(app, ["plan", str(path)], env=OFFLINE).output
    assert "nodes above min (Karpenter NodePool)" in text
