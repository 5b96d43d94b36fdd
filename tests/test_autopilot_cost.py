"""GKE Autopilot priced from the Pods' resource requests (scoring/autopilot_pods.py, its
assumptions scoring/data/autopilot_pods.yaml): the per-Pod rule, the campaign's Pods, the
TCO month, and the missing ephemeral-storage row kept visible. Every expected value is
worked by hand in the comments from the shipped price rows (platforms.csv gke/autopilot:
vcpu_hour 0.0445, gib_hour 0.0049225, cluster_hour 0.10; compute.csv c3d-highcpu-4
0.149924/h, 4 vCPU / 8 GiB; services.csv gcp lb_first_rules_hour 0.025, nat_vm_hour
0.0014)."""

from __future__ import annotations

import pytest

from bakeoff.campaign_cost import campaign_hours, site_campaign_cost, unit_seconds
from core.errors import BakeoffError, PriceNotFoundError
from core.scenario import Campaign
from core.site_models import SizeSpec
from scoring import autopilot_pods as ap
from scoring.catalog_load import load_catalog
from scoring.tco import MissingPrices, estimate_site

EPHEMERAL_TEST_PRICE = 0.0001  # a test row: the snapshot has no ephemeral storage price


def _campaign(**usage) -> Campaign:
    return Campaign.model_validate({
        "name": "ap", "repetitions": 2,
        "sites": [{"name": "gke-ap", "provider": "gcp", "region": "us-central1",
                   "zones": ["us-central1-a", "us-central1-b"],
                   "instance_type": "c3d-highcpu-4", "loadgen": 1,
                   "kubernetes": {"version": "1.31", "autoscaler": "autopilot"}}],
        "workloads": [{"name": "k8s-pod-scale", "params": {"replicas": 6,
                                                            "cpu_request": "250m"}},
                      {"name": "k8s-time-to-scale"}],
        "usage": {"instances": 2, "hours_per_month": 730, **usage}})


class WithEphemeral:
    """The shipped catalog plus one test row for the item the snapshot lacks."""

    def __init__(self, catalog, price: float):
        self.catalog, self.price = catalog, price

    def __getattr__(self, name):
        return getattr(self.catalog, name)

    def platform(self, provider, region, service, plan, item):
        if (service, plan, item) == ("gke", "autopilot", "ephemeral_gib_hour"):
            from scoring.catalog_platforms import PlatformRow

            return PlatformRow.model_construct(
                provider=provider, region=region, service=service, plan=plan, item=item,
                unit="GiB-hour", usd_per_unit=self.price, as_published="test row",
                source_url="https://example.invalid/test", confidence="test",
                source="test row", provenance="test row (not a price)")
        return self.catalog.platform(provider, region, service, plan, item)


@pytest.mark.parametrize("asked,expected", [
    ((None,), (0.5, 2, 1)),              # nothing stated: Autopilot's defaults
    ((0.5,), (0.5, 2, 1)),               # 2 GiB on 0.5 vCPU = 4 GiB/vCPU: inside 1..6.5
    ((0.25,), (2 / 6.5, 2, 1)),          # 8 GiB/vCPU > 6.5: CPU raised to 2/6.5 = 0.30769
    ((4.0, 2.0), (4.0, 4.0, 1)),         # 0.5 GiB/vCPU < 1: memory raised to 4 x 1 GiB
    ((1.0, 3.0, 10.0), (1.0, 3.0, 10.0)),  # all stated, inside the range: unchanged
])
def test_a_pods_billed_requests_follow_autopilots_rules(asked, expected):
    p = ap.pod(*asked)
    assert (p.cpu, p.memory_gib, p.ephemeral_gib) == pytest.approx(expected)


def test_cpu_quantities():
    assert [ap.cores(x) for x in ("500m", "250m", "1", "1.5")] == [0.5, 0.25, 1.0, 1.5]


def test_the_campaigns_pods_by_hand():
    camp = _campaign()
    a, b = ap.campaign_pods(camp, unit_seconds)
    # each unit: 60 s default + 30 s overhead, x 2 repetitions = 180 s = 0.05 h
    # k8s-pod-scale: 6 Pods x 0.307692 vCPU (250m raised by the ratio) x 0.05 h
    assert (a.vcpu_hours, a.gib_hours, a.ephemeral_gib_hours) == pytest.approx(
        (6 * (2 / 6.5) * 0.05, 6 * 2 * 0.05, 6 * 1 * 0.05))
    # k8s-time-to-scale: max_replicas 10 (default) x 0.5 vCPU (default 500m)
    assert (b.vcpu_hours, b.gib_hours, b.ephemeral_gib_hours) == pytest.approx(
        (10 * 0.5 * 0.05, 10 * 2 * 0.05, 10 * 1 * 0.05))


def test_campaign_cost_by_hand_with_every_row(monkeypatch):
    import scoring.catalog_load as cl

    real = cl.load_catalog()
    monkeypatch.setattr(cl, "load_catalog", lambda *a, **k: WithEphemeral(real,
                                                                          EPHEMERAL_TEST_PRICE))
    camp = _campaign()
    site = camp.sites[0]
    cost = site_campaign_cost(camp, site)
    hours = campaign_hours(camp, site)
    # 0.25 VMs + 0.5 cluster + 4 units x 90 s (0.1 h) = 0.85 h
    assert hours == pytest.approx(0.85)
    vms = 3 * 0.149924 * 0.85                       # server, client, load generator
    control = 0.10 * 0.85
    vcpu = (6 * (2 / 6.5) * 0.05 + 10 * 0.5 * 0.05) * 0.0445
    memory = (6 * 2 * 0.05 + 10 * 2 * 0.05) * 0.0049225
    ephemeral = (6 * 0.05 + 10 * 0.05) * EPHEMERAL_TEST_PRICE
    lb = 0.025 * 0.85
    nat = 4 * 0.0014 * 0.85                          # max_nodes 4 (default) node VMs
    assert cost.hourly_usd * hours == pytest.approx(
        vms + control + vcpu + memory + ephemeral + lb + nat, rel=1e-9)
    labels = " | ".join(p[0] for p in cost.parts)
    assert "GKE control plane (autopilot)" in labels and "Pods' ephemeral storage" in labels
    assert "min_nodes" not in labels and "above min" not in labels  # no node priced


def test_the_missing_ephemeral_row_is_a_visible_missing_price():
    camp = _campaign()
    with pytest.raises(PriceNotFoundError) as e:
        site_campaign_cost(camp, camp.sites[0])
    msg = str(e.value)
    assert "ephemeral_gib_hour" in msg and "ephemeral storage (0.3000 GiB-hours)" in msg
    assert "priced: GKE control plane (autopilot)" in msg  # what is priced stays shown


def test_the_tco_month_prices_pods_not_nodes():
    camp = _campaign()
    with pytest.raises(MissingPrices) as e:
        estimate_site(camp, "gke-ap", load_catalog())
    cost = e.value.partial
    names = [c.name for c in cost.components]
    assert not any(n.startswith("compute ") for n in names)  # no node compute line
    got = {c.name: (c.quantity, c.monthly_usd) for c in cost.components}
    # 2 nodes' worth of c3d-highcpu-4 (4 vCPU, 8 GiB) for 730 h
    assert got["GKE control plane (autopilot)"] == pytest.approx((730, 73.0))
    assert got["GKE Autopilot Pods' vCPU"] == pytest.approx((5840, 5840 * 0.0445))
    assert got["GKE Autopilot Pods' memory"] == pytest.approx((11680, 11680 * 0.0049225))
    # 16 Pods of 0.5 vCPU x 1 GiB x 730 h = 11680 GiB-hours: no row, so missing
    assert any("ephemeral storage (11680.0000 GiB-hours)" in m for m in e.value.missing)
    cost_all = estimate_site(camp, "gke-ap", WithEphemeral(load_catalog(), 0.0001))
    eph = next(c for c in cost_all.components if "ephemeral" in c.name)
    assert eph.quantity == pytest.approx(11680) and eph.unit == "GiB-hours"


def test_a_site_sized_by_shape_fills_pods_of_the_resolved_type():
    """Planted: catalog.compute(str(instance_type)) priced `size:` sites as type 'None'."""
    camp = _campaign()
    site = camp.sites[0].model_copy(update={"instance_type": None, "size": SizeSpec(
        family="compute", vcpus=4, cpu_vendor="amd")})
    camp = camp.model_copy(update={"sites": [site]})
    by_type = {c.name: c.monthly_usd for c in estimate_site(
        _campaign(), "gke-ap", WithEphemeral(load_catalog(), EPHEMERAL_TEST_PRICE)).components}
    by_size = {c.name: c.monthly_usd for c in estimate_site(
        camp, "gke-ap", WithEphemeral(load_catalog(), EPHEMERAL_TEST_PRICE)).components}
    # compute/4 vCPU/amd resolves to c3d-highcpu-4 (4 vCPU, 8 GiB), the type above: same Pods
    assert by_size == by_type


def test_a_committed_term_has_no_autopilot_price():
    camp = _campaign()
    with pytest.raises(MissingPrices) as e:
        estimate_site(camp, "gke-ap", WithEphemeral(load_catalog(), 0.0001), term="1y")
    assert any("Autopilot at term 1y" in m for m in e.value.missing)


def test_a_bad_assumptions_file_names_file_and_field(tmp_path):
    bad = tmp_path / "a.yaml"
    bad.write_text(ap.ASSUMPTIONS.read_text().replace("max_gib_per_vcpu: 6.5",
                                                      "max_gib_per_vcpu: -1"))
    with pytest.raises(BakeoffError, match=r"a\.yaml: ratio\.max_gib_per_vcpu"):
        ap.assumptions(bad)
    bad.write_text("defaults: [")
    with pytest.raises(BakeoffError, match="cannot be read"):
        ap.assumptions(bad)


def test_a_k8s_workload_without_a_pod_count_is_an_error_not_zero():
    camp = _campaign()
    a = ap.assumptions().model_copy(update={"campaign": ap.CampaignPods(pods={})})
    with pytest.raises(BakeoffError, match="no entry for workload k8s-pod-scale"):
        ap.campaign_pods(camp, unit_seconds, a)


def test_a_pod_count_naming_no_parameter_is_an_error_naming_the_field():
    """Planted: getattr on a misspelt name was an AttributeError traceback."""
    camp = _campaign()
    a = ap.assumptions().model_copy(update={"campaign": ap.CampaignPods(
        pods={"k8s-pod-scale": "replica"})})
    with pytest.raises(BakeoffError, match=r"campaign\.pods\.k8s-pod-scale: 'replica' is "
                       r"not a replica-count parameter of k8s-pod-scale \(its parameters: "
                       r".*replicas"):
        ap.campaign_pods(camp, unit_seconds, a)


def test_plan_shows_the_pod_components_and_the_missing_row(tmp_path):
    import yaml
    from typer.testing import CliRunner

    from bakeoff.cli import app

    path = tmp_path / "ap.yaml"
    path.write_text(yaml.safe_dump(_campaign().model_dump(mode="json", exclude_unset=True)))
    env = {"BAKEOFF_OWNER": "t", "PATH": "/usr/bin:/bin", "COLUMNS": "200",
           "GOOGLE_CLOUD_PROJECT": ""}
    res = CliRunner().invoke(app, ["plan", str(path)], env=env)
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "GKE 1.31, Pods billed by request (autopilot)" in text
    assert "price missing" in text and "ephemeral_gib_hour" in text
    # the priced parts with their quantities (by hand above: 0.0923 vCPU-h, 0.6 GiB-h)
    assert "GKE Autopilot Pods' vCPU: 0.0923 vCPU-hours x 0.0445" in text
    assert "GKE Autopilot Pods' memory: 0.6000 GiB-hours x 0.0049225" in text
