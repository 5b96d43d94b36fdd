"""`bakeoff plan` of cluster sites: the golden, the campaign cost by hand, the TCO's
control-plane line, and the shipped three-cloud scenario."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bakeoff.cli import app
from tests.conftest import REPO
from tests.golden_support import assert_json_golden

GOLDEN = REPO / "tests" / "golden" / "plan"
runner = CliRunner()
OFFLINE = {"BAKEOFF_OWNER": "golden-owner", "PATH": "/usr/bin:/bin", "COLUMNS": "200",
           "AZURE_SUBSCRIPTION_ID": "", "GOOGLE_CLOUD_PROJECT": ""}
HOURS = 0.25 + 0.5 + 150 / 3600  # VMs + cluster overhead + (10+30 + 5+30) s x 2 reps


def test_plan_json_of_three_clusters_matches_golden_and_cost_by_hand():
    res = runner.invoke(app, ["plan", str(GOLDEN / "k8s-sites.yaml"), "--json"], env=OFFLINE)
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    assert_json_golden(GOLDEN / "k8s-sites.json", got)  # BAKEOFF_REGEN_GOLDEN: reviewed diff
    sites = {s["site"]: s for s in got["sites"]}
    assert all(not s["rule_violations"] and "error" not in s for s in sites.values())
    kinds = {name: {r["type"] for r in s["resources"]} for name, s in sites.items()}
    assert "aws:eks/cluster:Cluster" in kinds["eks"]
    assert "azure-native:containerservice:ManagedCluster" in kinds["aks"]
    assert "gcp:container/nodePool:NodePool" in kinds["gke"]
    assert "container.googleapis.com" in sites["gke"]["requires"]
    assert "Microsoft.ContainerService" in sites["aks"]["requires"]
    # by hand from scoring/data/pricing/*.csv (0 k8s units: no hours above min_nodes):
    # eks: 3 VMs + 2 nodes x 0.1785 c7i.xlarge + 0.10 EKS + 0.0225 lb_hour + 0.045 NAT
    eks = (5 * 0.1785 + 0.10 + 0.0225 + 0.045) * HOURS
    # aks: 3 VMs + 2 nodes + 1 system node x 0.169 + 0.10 AKS Standard + 0.025 LB
    aks = (6 * 0.169 + 0.10 + 0.025) * HOURS
    # gke: 3 VMs + 2 nodes x 0.149924 + 0.10 GKE + 0.025 forwarding rules + 5 x 0.0014 NAT
    gke = (5 * 0.149924 + 0.10 + 0.025 + 5 * 0.0014) * HOURS
    for name, usd in (("eks", eks), ("aks", aks), ("gke", gke)):
        assert sites[name]["estimated_campaign_usd"] == pytest.approx(usd, abs=0.006), name


def test_nodes_above_min_are_priced_for_the_k8s_units_only():
    from bakeoff.campaign_cost import campaign_hours, site_campaign_cost
    from bench.scenarios import load_campaign_file as load_scenario
    from core.scenario import WorkloadSpec

    camp = load_scenario(GOLDEN / "k8s-sites.yaml")
    unit = WorkloadSpec.model_construct(name="k8s-pod-scale", params={"duration_s": 60},
                                        repetitions=None)
    camp = camp.model_copy(update={"workloads": [*camp.workloads, unit]})
    cost = site_campaign_cost(camp, camp.sites[0])
    # by hand: (60 s + 30 s overhead + 600 s scale-down) x 2 reps = 0.38333 h of 3 nodes
    (burst,) = [p for p in cost.parts if "above min" in p[0]]
    hours = campaign_hours(camp, camp.sites[0])  # unrounded (cost.hours is shown rounded)
    assert burst[1] * hours == pytest.approx(3 * 0.1785 * 1380 / 3600, rel=1e-9)


def test_tco_has_the_control_plane_and_autopilot_is_a_missing_price():
    from bench.scenarios import load_campaign_file as load_scenario
    from core.errors import PriceNotFoundError
    from scoring.tco import estimate_site

    camp = load_scenario(GOLDEN / "k8s-sites.yaml")
    comps = {c.name: c for c in estimate_site(camp, "eks").components}
    assert comps["EKS control plane (standard-support)"].monthly_usd == pytest.approx(73.0)
    aks = {c.name: c for c in estimate_site(camp, "aks").components}
    assert aks["AKS system pool Standard_F4s_v2 x1"].monthly_usd == pytest.approx(730 * 0.169)
    gke = camp.sites[2]
    auto = gke.model_copy(update={"kubernetes": gke.kubernetes.model_copy(
        update={"autoscaler": "autopilot"})})
    with pytest.raises(PriceNotFoundError, match="Autopilot"):
        estimate_site(camp.model_copy(update={"sites": [auto]}), auto)


def test_shipped_kubernetes_scenario_plans_three_clusters():
    res = runner.invoke(app, ["plan", str(REPO / "scenarios" / "kubernetes.yaml"), "--json"],
                        env=OFFLINE)
    assert res.exit_code == 0, res.output
    sites = {s["site"]: s for s in json.loads(res.output)["sites"]}
    assert set(sites) == {"eks", "aks", "gke"}
    assert all(s["estimated_campaign_usd"] and not s["rule_violations"] for s in sites.values())
