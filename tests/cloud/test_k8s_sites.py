"""Cluster sites (issue 20, cloud side): the EKS/AKS/GKE programs under Pulumi mocks,
checked against the provider rules; validation; kubeconfig notes; the release of what
Kubernetes created before the cluster is destroyed (against tests/k8s_release_fake.py).
No live cluster has run any of this."""

from __future__ import annotations

import stat

import pytest

from core.errors import BakeoffError
from core.scenario import Campaign
from stacks.cloud import k8s_azure, k8s_gcp
from stacks.cloud.k8s_site import cluster_notes, kubeconfig_path, release_cloud_objects
from stacks.cloud.preview import preview_program
from stacks.cloud.resolve import sample_spec
from stacks.cloud.rules import ProviderRulesError, check_site
from stacks.cloud.state import CampaignState
from tests.k8s_release_fake import ReleaseApi

LONG = "a" * 9 + "-" + "b" * 30  # 40 characters: the longest site name allowed


def campaign(k8s: dict, name: str = "c", provider: str = "all", **site) -> Campaign:
    sites = {
        "aws": {"provider": "aws", "region": "us-east-1", "zones": ["us-east-1a", "us-east-1b"],
                "instance_type": "c7i.xlarge"},
        "azure": {"provider": "azure", "region": "eastus", "zones": ["1", "2"],
                  "instance_type": "Standard_F4s_v2"},
        "gcp": {"provider": "gcp", "region": "us-central1",
                "zones": ["us-central1-a", "us-central1-b"], "instance_type": "c3d-highcpu-4"}}
    chosen = sites if provider == "all" else {provider: sites[provider]}
    return Campaign.model_validate({
        "name": "k8s-test", "workloads": [{"name": "sysbench-cpu", "params": {"time_s": 5}}],
        "sites": [{"name": f"{name[:37]}-{p[:2]}" if name != "c" else p, **s,
                   "kubernetes": k8s, **site} for p, s in chosen.items()]})


def declared(camp: Campaign, index: int):
    spec = sample_spec(camp.sites[index], camp)
    return spec, preview_program(spec)


def of(preview, token: str) -> list:
    return [r for r in preview.resources if r.type == token]


@pytest.mark.parametrize("site_name", ["c", LONG])
def test_three_clusters_pass_the_provider_rules(site_name):
    camp = campaign({"min_nodes": 2, "max_nodes": 5}, name=site_name, loadgen=2)
    for i in range(3):
        spec = sample_spec(camp.sites[i], camp)
        assert check_site(spec) == []


def test_eks_program_declares_roles_nodes_oidc_and_private_subnets():
    spec, p = declared(campaign({"min_nodes": 2, "max_nodes": 5}, provider="aws"), 0)
    (cluster,) = of(p, "aws:eks/cluster:Cluster")
    assert cluster.properties["version"] == "1.31"
    assert len(cluster.properties["name"]) <= 40
    (group,) = of(p, "aws:eks/nodeGroup:NodeGroup")
    assert group.properties["scalingConfig"] == {"desiredSize": 2, "minSize": 2, "maxSize": 5}
    assert group.properties["instanceTypes"] == ["c7i.xlarge"]
    name = cluster.properties["name"]
    assert group.properties["tags"][f"k8s.io/cluster-autoscaler/{name}"] == "owned"
    assert group.properties["tags"]["bakeoff-campaign"] == spec.campaign_id
    policies = {r.properties["policyArn"].rsplit("/", 1)[1]
                for r in of(p, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
    assert policies == {"AmazonEKSClusterPolicy", "AmazonEKSWorkerNodePolicy",
                        "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"}
    (oidc,) = of(p, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert oidc.properties["clientIdLists"] == ["sts.amazonaws.com"]
    trust = next(r for r in of(p, "aws:iam/role:Role") if "scaler" in r.name)
    assert "system:serviceaccount:kube-system:cluster-autoscaler" in \
        trust.properties["assumeRolePolicy"]
    nodes = [r for r in of(p, "aws:ec2/subnet:Subnet") if "nodes" in r.name]
    assert {r.properties["availabilityZone"] for r in nodes} == set(spec.zones)
    assert not any(r.properties["mapPublicIpOnLaunch"] for r in nodes)
    assert of(p, "aws:ec2/natGateway:NatGateway")
    elb = {(r.properties["key"], r.properties["value"]) for r in of(p, "aws:ec2/tag:Tag")}
    assert ("kubernetes.io/role/elb", "1") in elb  # public subnets for Service LBs
    # the load generators are the VM site's: 2 fixed roles + 1 load generator
    assert len(of(p, "aws:ec2/instance:Instance")) == 3
    assert p.outputs["kubernetes"]["cluster"] == name


def test_aks_program_has_system_and_autoscaled_user_pool_in_two_zones():
    spec, p = declared(campaign({"min_nodes": 1, "max_nodes": 4}, provider="azure"), 0)
    (cluster,) = of(p, "azure-native:containerservice:ManagedCluster")
    (system,) = cluster.properties["agentPoolProfiles"]
    assert system["mode"] == "System" and system["enableNodePublicIP"] is False
    (user,) = of(p, "azure-native:containerservice:AgentPool")
    u = user.properties
    assert (u["mode"], u["enableAutoScaling"], u["minCount"], u["maxCount"]) == \
        ("User", True, 1, 4)
    assert u["availabilityZones"] == ["1", "2"] and u["enableNodePublicIP"] is False
    assert cluster.properties["networkProfile"]["outboundType"] == "loadBalancer"
    assert cluster.properties["tags"]["bakeoff-site"] == spec.site


def test_gke_standard_private_nodes_autoscale_in_two_zones_and_autopilot():
    spec, p = declared(campaign({"min_nodes": 1, "max_nodes": 6}, provider="gcp"), 0)
    (cluster,) = of(p, "gcp:container/cluster:Cluster")
    assert cluster.properties["privateClusterConfig"]["enablePrivateNodes"] is True
    assert cluster.properties["nodeLocations"] == list(spec.zones)
    assert cluster.properties["resourceLabels"]["bakeoff-site"] == spec.site
    (pool,) = of(p, "gcp:container/nodePool:NodePool")
    assert pool.properties["autoscaling"]["totalMinNodeCount"] == 1
    assert pool.properties["autoscaling"]["totalMaxNodeCount"] == 6
    assert pool.properties["nodeConfig"]["gvnic"] == {"enabled": True}  # c3d: gVNIC only
    assert of(p, "gcp:compute/routerNat:RouterNat")
    _, auto = declared(campaign({"autoscaler": "autopilot"}, provider="gcp"), 0)
    (ap,) = of(auto, "gcp:container/cluster:Cluster")
    assert ap.properties["enableAutopilot"] is True
    assert not of(auto, "gcp:container/nodePool:NodePool")


def test_kubeconfig_is_exported_as_a_secret():
    import pulumi
    from pulumi.runtime.sync_await import _sync_await

    from stacks.cloud import k8s_aws

    captured = {}
    real = pulumi.export

    def spy(name, value):
        captured[name] = value
        real(name, value)

    camp = campaign({}, provider="aws")
    pulumi.export = spy
    try:
        preview_program(sample_spec(camp.sites[0], camp), program=k8s_aws.program)
    finally:
        pulumi.export = real
    assert _sync_await(captured["kubernetes"]["kubeconfig"].is_secret())


def test_long_site_name_cluster_names_fit_gke_40_and_differ():
    # by hand: "bko-" (4) + site cut to 40 - 11 = 29 characters + "-" + 6 hex = 40
    camp = campaign({}, name=LONG, provider="gcp")
    spec, p = declared(camp, 0)
    name = of(p, "gcp:container/cluster:Cluster")[0].properties["name"]
    assert len(name) == 40 and name.startswith("bko-" + spec.site_label[:29])
    other = campaign({}, name="x" + LONG[1:], provider="gcp")
    assert of(declared(other, 0)[1], "gcp:container/cluster:Cluster")[0].properties["name"] \
        != name


@pytest.mark.parametrize("provider,module,attr,bad,rule", [
    ("gcp", k8s_gcp, "cluster_name", lambda spec, *a: "bko-" + "x" * 37, "GKE cluster name"),
    ("gcp", k8s_gcp, "NODE_POOL", "Bko_Nodes", "node pool name"),
    ("azure", k8s_azure, "USER_POOL", "userpool-0001", "Linux node pool name"),
    ("azure", k8s_azure, "cluster_name", lambda spec, *a: "-bko." + "x" * 60,
     "AKS cluster name"),
])
def test_a_planted_bad_name_is_refused(monkeypatch, provider, module, attr, bad, rule):
    monkeypatch.setattr(module, attr, bad)
    camp = campaign({}, provider=provider)
    with pytest.raises(ProviderRulesError) as e:
        check_site(sample_spec(camp.sites[0], camp))
    assert rule in str(e.value)


def test_eks_planted_names_are_refused(monkeypatch):
    from stacks.cloud import k8s_aws

    monkeypatch.setattr(k8s_aws, "cluster_name", lambda spec, *a: "bko.cluster")
    camp = campaign({}, provider="aws")
    with pytest.raises(ProviderRulesError, match="EKS cluster name"):
        check_site(sample_spec(camp.sites[0], camp))


@pytest.mark.parametrize("provider,autoscaler,offered", [
    ("azure", "karpenter", "offers cluster-autoscaler"),
    ("aws", "autopilot", "offers cluster-autoscaler, karpenter"),
    ("gcp", "karpenter", "offers cluster-autoscaler, autopilot")])
def test_an_autoscaler_on_the_wrong_provider_is_a_clear_error(provider, autoscaler, offered):
    with pytest.raises(Exception) as e:
        campaign({"autoscaler": autoscaler}, provider=provider)
    assert "kubernetes.autoscaler" in str(e.value) and offered in str(e.value)


def test_min_above_max_and_patch_versions_are_refused():
    with pytest.raises(Exception, match="min_nodes 5 exceeds max_nodes 2"):
        campaign({"min_nodes": 5, "max_nodes": 2}, provider="aws")
    with pytest.raises(Exception, match="version"):
        campaign({"version": "1.31.2"}, provider="aws")


def test_cluster_notes_write_a_private_kubeconfig_under_state(tmp_path):
    state = CampaignState("camp-1", tmp_path / "state")
    notes = cluster_notes(state, "eks", {"kubernetes": {
        "provider": "aws", "cluster": "bko-eks-abc123", "autoscaler": "karpenter",
        "kubeconfig": "apiVersion: v1\n", "region": "us-east-1"}})["kubernetes"]
    path = kubeconfig_path(state, "eks")
    assert notes["kubeconfig"] == str(path.resolve())
    assert str(tmp_path / "state") in notes["kubeconfig"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text() == "apiVersion: v1\n"
    assert notes["label"] == "EKS bko-eks-abc123 (karpenter)"
    assert (notes["provider"], notes["cluster"], notes["autoscaler"]) == \
        ("aws", "bko-eks-abc123", "karpenter")
    assert cluster_notes(state, "vm", {"hosts": {}}) == {}


def _state_with(tmp_path, api: ReleaseApi) -> CampaignState:
    state = CampaignState("camp-2", tmp_path)
    path = kubeconfig_path(state, "eks")
    path.parent.mkdir(parents=True)
    api.kubeconfig(path)
    return state


def test_release_deletes_load_balancers_and_volumes_and_waits_until_gone(tmp_path):
    services = [("default", "web", "LoadBalancer"), ("default", "internal", "ClusterIP"),
                ("shop", "front", "LoadBalancer")]
    with ReleaseApi(services, [("shop", "data")], linger=3) as api:
        state = _state_with(tmp_path, api)
        said = []
        deleted = release_cloud_objects(state, "eks", said.append, timeout_s=30, poll_s=0.02)
        assert deleted == ["service default/web", "service shop/front", "pvc shop/data"]
        assert api.services == {("default", "internal"): "ClusterIP"}  # only LBs go
        assert not api.pvcs and not api.pvs
        deletes = [c for c in api.calls if c.startswith("DELETE")]
        assert len(deletes) == 3 and "internal" not in " ".join(deletes)
        assert said and "service default/web" in said[0]


def test_release_that_cannot_finish_names_what_is_left_and_the_command(tmp_path):
    with ReleaseApi([("default", "web", "LoadBalancer")], [("shop", "data")],
                    stuck=("web",)) as api:
        state = _state_with(tmp_path, api)
        with pytest.raises(BakeoffError) as e:
            release_cloud_objects(state, "eks", lambda _: None, timeout_s=0.5, poll_s=0.02)
    msg = str(e.value)
    assert "NOT destroyed" in msg and "Service default/web (LoadBalancer)" in msg
    assert f"kubectl --kubeconfig {kubeconfig_path(state, 'eks')} delete service -n default web" \
        in msg
    assert "PersistentVolumeClaim" not in msg  # the volume did go


def test_release_with_an_unreachable_api_server_is_an_error_not_a_traceback(tmp_path):
    api = ReleaseApi([], [])
    state = _state_with(tmp_path, api)  # never started: nothing listens on its port
    api.server.server_close()
    with pytest.raises(BakeoffError, match="could not be asked"):
        release_cloud_objects(state, "eks", lambda _: None, timeout_s=1, poll_s=0.02)


def test_down_site_releases_before_destroy_and_keeps_the_stack_on_failure(tmp_path,
                                                                          monkeypatch):
    import stacks.cloud.k8s_site as site_mod
    from stacks.cloud.provisioner import CloudProvisioner

    monkeypatch.setattr(site_mod, "POLL_S", 0.02)
    monkeypatch.setattr(site_mod, "RELEASE_TIMEOUT_S", 0.3)

    order = []

    class Workspace:
        backend_url = "file:///nowhere"

        def destroy(self, stack, passphrase, say):
            order.append(("destroy", stack))

    with ReleaseApi([("default", "web", "LoadBalancer")], [], linger=1) as api:
        state = _state_with(tmp_path, api)
        state.record("eks", provider="aws", stack="camp-2--eks", status="up")
        prov = CloudProvisioner("aws", workspace=Workspace(), state_root=tmp_path)
        prov.down_site("camp-2", "eks")
        assert "DELETE /api/v1/namespaces/default/services/web" in api.calls
        assert order == [("destroy", "camp-2--eks")]
        assert state.site_entry("eks")["status"] == "destroyed"
        assert not kubeconfig_path(state, "eks").exists()  # a credential of a gone cluster
    with ReleaseApi([("default", "web", "LoadBalancer")], [], stuck=("web",)) as api:
        state = CampaignState("camp-3", tmp_path)
        path = kubeconfig_path(state, "eks")
        path.parent.mkdir(parents=True)
        api.kubeconfig(path)
        state.record("eks", provider="aws", stack="camp-3--eks", status="up")
        order.clear()
        prov = CloudProvisioner("aws", workspace=Workspace(), state_root=tmp_path)
        with pytest.raises(BakeoffError, match="Service default/web"):
            prov.down_site("camp-3", "eks")
        assert order == []  # the cluster was not destroyed under its load balancer
        assert state.site_entry("eks")["status"] == "destroy-failed"
        assert kubeconfig_path(state, "eks").exists()  # kept for the next attempt


def test_a_cluster_site_needs_its_credential_plugin_on_path(tmp_path, monkeypatch):
    from stacks.cloud.k8s_site import cluster_problems

    camp = campaign({}, provider="all")
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no plugin anywhere
    probs = {s.provider: cluster_problems(s) for s in camp.sites}
    assert any("`aws` is not on PATH" in p for p in probs["aws"])
    assert any("gke-gcloud-auth-plugin" in p for p in probs["gcp"])
    assert probs["azure"] == []  # AKS hands out a client certificate
    (tmp_path / "aws").write_text("#!/bin/sh\n")
    (tmp_path / "aws").chmod(0o755)
    assert cluster_problems(camp.sites[0]) == []
    vm = camp.sites[0].model_copy(update={"kubernetes": None})
    assert cluster_problems(vm) == []


def test_the_worker_reads_back_a_cluster_spec_as_written():
    """`up` runs in a worker process from spec.json (stacks/cloud/worker.py): the cluster
    part must survive the round trip, or the worker would declare a VM site."""
    from stacks.cloud.k8s_common import ClusterSpec
    from stacks.cloud.provisioner import spec_to_json
    from stacks.cloud.spec import program_of
    from stacks.cloud.worker import spec_from_json

    camp = campaign({"min_nodes": 3, "max_nodes": 7, "autoscaler": "karpenter"},
                    provider="aws")
    spec = sample_spec(camp.sites[0], camp)
    back = spec_from_json(spec_to_json(spec))
    assert back == spec
    assert back.kubernetes == ClusterSpec("1.31", 3, 7, "karpenter")
    assert program_of(back).__module__ == "stacks.cloud.k8s_aws"
    vm = sample_spec(camp.sites[0].model_copy(update={"kubernetes": None}), camp)
    assert program_of(spec_from_json(spec_to_json(vm))).__module__ == "stacks.cloud.aws"


def test_an_eks_site_needs_pulumi_kubernetes_for_its_autoscaler(tmp_path, monkeypatch):
    """Without pulumi-kubernetes the EKS program cannot install the cluster autoscaler:
    a prerequisite message before `up`, not an import error from inside the program."""
    import importlib.util

    from stacks.cloud.k8s_site import cluster_problems

    camp = campaign({}, provider="all")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pulumi_kubernetes" else real(name, *a))
    probs = {s.provider: cluster_problems(s) for s in camp.sites}
    assert any("pulumi-kubernetes is not installed" in p for p in probs["aws"])
    assert not any("pulumi-kubernetes" in p for p in probs["azure"] + probs["gcp"])
