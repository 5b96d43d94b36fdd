"""The cluster autoscaler on EKS sites (stacks/cloud/k8s_autoscaler_aws.py) under Pulumi
mocks: the Helm release exists, comes after the node group, and carries the cluster's name,
region, the IRSA role and an image of the cluster's minor; unpinned minors are refused
before anything is declared (Karpenter: tests/cloud/test_karpenter.py). No live cluster
has run any of this."""

from __future__ import annotations

import json

import pytest

from stacks.cloud import k8s_autoscaler_aws
from stacks.cloud.preview import preview_program
from stacks.cloud.resolve import sample_spec
from stacks.cloud.rules import check_site
from stacks.cloud.spec import SiteSpecError
from tests.cloud.test_k8s_sites import campaign, declared, of

RELEASE = "kubernetes:helm.sh/v3:Release"


def _release(p):
    (release,) = of(p, RELEASE)
    return release


def test_the_autoscaler_release_carries_cluster_region_and_irsa_role():
    spec, p = declared(campaign({"min_nodes": 2, "max_nodes": 5}, provider="aws"), 0)
    r = _release(p).properties
    (cluster,) = of(p, "aws:eks/cluster:Cluster")
    scaler = next(x for x in of(p, "aws:iam/role:Role") if "scaler" in x.name)
    # the official chart, pinned (charts/cluster-autoscaler/Chart.yaml at f33f490abc)
    assert (r["chart"], r["version"], r["repositoryOpts"]["repo"], r["namespace"]) == \
        ("cluster-autoscaler", "9.51.0", "https://kubernetes.github.io/autoscaler",
         "kube-system")
    values = r["values"]
    assert values["autoDiscovery"]["clusterName"] == cluster.properties["name"]
    assert values["awsRegion"] == "us-east-1" and values["cloudProvider"] == "aws"
    # the mocks give every resource the arn "arn:preview:<its name>" (stacks/cloud/preview.py)
    account = values["rbac"]["serviceAccount"]
    assert account["annotations"]["eks.amazonaws.com/role-arn"] == f"arn:preview:{scaler.name}"
    # the service account the IRSA role trusts is the one the chart creates
    trust = json.loads(scaler.properties["assumeRolePolicy"])["Statement"][0]["Condition"]
    subjects = [v for k, v in trust["StringEquals"].items() if k.endswith(":sub")]
    assert subjects == [f"system:serviceaccount:{r['namespace']}:{account['name']}"]
    # 1.31 by hand: the newest cluster-autoscaler-1.31.* git tag is cluster-autoscaler-1.31.5
    assert values["image"] == {"repository": "registry.k8s.io/autoscaling/cluster-autoscaler",
                               "tag": "v1.31.5"}
    (k8s,) = of(p, "pulumi:providers:kubernetes")
    kubeconfig = k8s.properties["kubeconfig"]
    assert set(kubeconfig) == {"4dabf18193072939515e22adb298388d", "value"}  # a secret
    assert cluster.properties["name"] in kubeconfig["value"]
    assert check_site(spec) == []


@pytest.mark.parametrize("version,tag", [("1.33", "v1.33.6"), ("1.28", "v1.28.7")])
def test_the_image_follows_the_cluster_minor(version, tag):
    _, p = declared(campaign({"version": version}, provider="aws"), 0)
    (cluster,) = of(p, "aws:eks/cluster:Cluster")
    assert cluster.properties["version"] == version
    assert _release(p).properties["values"]["image"]["tag"] == tag  # git tags, by hand


def test_every_pinned_image_is_of_its_own_minor():
    for minor, tag in k8s_autoscaler_aws.IMAGE_TAGS.items():
        assert tag.startswith(f"v{minor}.") and tag.count(".") == 2, (minor, tag)


def test_the_release_waits_for_the_node_group_and_the_role_policy(monkeypatch):
    import pulumi_aws as aws

    seen = []
    real = k8s_autoscaler_aws.Release

    def recording(*args, **kwargs):
        seen.append(kwargs["opts"])
        return real(*args, **kwargs)

    monkeypatch.setattr(k8s_autoscaler_aws, "Release", recording)
    declared(campaign({}, provider="aws"), 0)
    (opts,) = seen
    kinds = {type(d) for d in opts.depends_on}
    assert aws.eks.NodeGroup in kinds and aws.iam.RolePolicy in kinds
    assert opts.provider is not None  # the cluster's own provider, not the default one


def test_a_minor_without_a_pinned_autoscaler_is_refused():
    camp = campaign({"version": "1.27"}, provider="aws")
    with pytest.raises(SiteSpecError, match=r"kubernetes.version 1.27.*1\.28, 1\.29"):
        preview_program(sample_spec(camp.sites[0], camp))
