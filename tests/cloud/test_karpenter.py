"""Karpenter on EKS sites (stacks/cloud/k8s_karpenter_aws.py) under Pulumi mocks, checked
against the provider rules (stacks/cloud/rules_karpenter.py). Expected values are read by
hand from aws/karpenter-provider-aws at v1.14.1 (the getting-started cloudformation.yaml,
step08/step12 scripts, the chart's values.yaml and the CRDs). No live cluster has run it."""

from __future__ import annotations

import json

import pytest

from stacks.cloud import k8s_karpenter_aws as kp
from stacks.cloud import rules_karpenter
from stacks.cloud.preview import preview_program
from stacks.cloud.resolve import sample_spec
from stacks.cloud.rules import ProviderRulesError, Resource, apply, check_site
from stacks.cloud.spec import SiteSpecError
from tests.cloud.test_k8s_sites import LONG, campaign, declared, of

NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"
NODECLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.fixture(scope="module")
def site():
    return declared(campaign({"autoscaler": "karpenter", "min_nodes": 2, "max_nodes": 5},
                             provider="aws"), 0)


def _named(p, token: str, part: str):
    (found,) = [r for r in of(p, token) if part in r.name]
    return found


def test_the_node_group_is_the_floor_and_karpenter_adds_the_rest(site):
    _, p = site
    (group,) = of(p, "aws:eks/nodeGroup:NodeGroup")
    # min_nodes fixed: the node group neither grows nor carries the autoscaler's tags
    assert group.properties["scalingConfig"] == {"desiredSize": 2, "minSize": 2, "maxSize": 2}
    assert not any(k.startswith("k8s.io/cluster-autoscaler") for k in group.properties["tags"])
    (pool,) = of(p, NODEPOOL)
    s = pool.properties["spec"]
    assert s["limits"] == {"nodes": "3"}  # max_nodes 5 - min_nodes 2
    reqs = {r["key"]: r["values"] for r in s["template"]["spec"]["requirements"]}
    assert reqs["node.kubernetes.io/instance-type"] == ["c7i.xlarge"]
    assert reqs["karpenter.sh/capacity-type"] == ["on-demand"]
    assert reqs["topology.kubernetes.io/zone"] == ["us-east-1a", "us-east-1b"]
    assert reqs["kubernetes.io/arch"] == ["amd64"]
    (nodeclass,) = of(p, NODECLASS)
    assert s["template"]["spec"]["nodeClassRef"] == {
        "group": "karpenter.k8s.aws", "kind": "EC2NodeClass",
        "name": nodeclass.properties["metadata"]["name"]}
    # no cluster-autoscaler release beside Karpenter's
    assert [r.properties["chart"] for r in of(p, RELEASE)] == [kp.CHART]


def test_instances_karpenter_launches_carry_the_campaign_tags(site):
    spec, p = site
    (nodeclass,) = of(p, NODECLASS)
    tags = nodeclass.properties["spec"]["tags"]
    for key, value in spec.tags().items():  # what bakeoff gc looks for on EC2 instances
        assert tags[key] == value
    profile = _named(p, "aws:iam/instanceProfile:InstanceProfile", "kp-profile")
    # the mocks give a resource its logical name as `name` (stacks/cloud/preview.py)
    assert nodeclass.properties["spec"]["instanceProfile"] == profile.name
    assert "role" not in nodeclass.properties["spec"]  # exactly one of role/instanceProfile


def test_discovery_tags_on_private_subnets_and_the_cluster_security_group(site):
    _, p = site
    (cluster,) = of(p, "aws:eks/cluster:Cluster")
    name = cluster.properties["name"]
    nodes = [r for r in of(p, "aws:ec2/subnet:Subnet") if "nodes" in r.name]
    assert len(nodes) == 2 and all(r.properties["tags"]["karpenter.sh/discovery"] == name
                                   for r in nodes)
    public = [r for r in of(p, "aws:ec2/subnet:Subnet") if "nodes" not in r.name]
    assert not any("karpenter.sh/discovery" in (r.properties.get("tags") or {})
                   for r in public)
    tag = _named(p, "aws:ec2/tag:Tag", "kp-sg-tag")
    assert (tag.properties["key"], tag.properties["value"]) == ("karpenter.sh/discovery", name)
    (nodeclass,) = of(p, NODECLASS)
    selector = [{"tags": {"karpenter.sh/discovery": name}}]
    assert nodeclass.properties["spec"]["subnetSelectorTerms"] == selector
    assert nodeclass.properties["spec"]["securityGroupSelectorTerms"] == selector


def test_node_role_profile_and_access_entry_let_nodes_join(site):
    _, p = site
    role = _named(p, "aws:iam/role:Role", "kp-node-role")
    trust = json.loads(role.properties["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "ec2.amazonaws.com"}
    attached = {r.properties["policyArn"].rsplit("/", 1)[1]
                for r in of(p, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                if "kp-node-policy" in r.name}
    # cloudformation.yaml KarpenterNodeRole.ManagedPolicyArns (v1.14.1), by hand
    assert attached == {"AmazonEKS_CNI_Policy", "AmazonEKSWorkerNodePolicy",
                        "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore"}
    (entry,) = of(p, "aws:eks/accessEntry:AccessEntry")
    assert entry.properties["type"] == "EC2_LINUX"
    assert entry.properties["principalArn"] == f"arn:preview:{role.name}"


def test_the_controller_runs_as_its_irsa_role_with_the_queue(site):
    _, p = site
    (release,) = of(p, RELEASE)
    r = release.properties
    # step08-apply-helm-chart.sh: oci://public.ecr.aws/karpenter/karpenter, release karpenter
    assert (r["name"], r["chart"], r["version"], r["namespace"]) == \
        ("karpenter", "oci://public.ecr.aws/karpenter/karpenter", "1.14.1", "kube-system")
    assert "repositoryOpts" not in r
    (cluster,) = of(p, "aws:eks/cluster:Cluster")
    (queue,) = of(p, "aws:sqs/queue:Queue")
    values = r["values"]
    assert values["settings"] == {"clusterName": cluster.properties["name"],
                                  "interruptionQueue": queue.properties["name"]}
    ctrl = _named(p, "aws:iam/role:Role", "kp-ctrl-role")
    account = values["serviceAccount"]
    assert account["annotations"]["eks.amazonaws.com/role-arn"] == f"arn:preview:{ctrl.name}"
    cond = json.loads(ctrl.properties["assumeRolePolicy"])["Statement"][0]["Condition"]
    subjects = [v for k, v in cond["StringEquals"].items() if k.endswith(":sub")]
    assert subjects == [f"system:serviceaccount:{r['namespace']}:{account['name']}"]
    # the queue as cloudformation.yaml: retention 300 s, SSE
    assert queue.properties["messageRetentionSeconds"] == 300
    assert queue.properties["sqsManagedSseEnabled"] is True


def test_the_controller_policy_is_scoped_to_this_cluster_and_queue(site):
    _, p = site
    (cluster,) = of(p, "aws:eks/cluster:Cluster")
    name = cluster.properties["name"]
    doc = json.loads(_named(p, "aws:iam/rolePolicy:RolePolicy", "kp-ctrl-policy")
                     .properties["policy"])
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    (queue,) = of(p, "aws:sqs/queue:Queue")
    assert by_sid["AllowInterruptionQueueActions"]["Resource"] == f"arn:preview:{queue.name}"
    assert by_sid["AllowAPIServerEndpointDiscovery"]["Resource"] == \
        f"arn:preview:{cluster.name}"
    node_role = _named(p, "aws:iam/role:Role", "kp-node-role")
    assert by_sid["AllowPassingInstanceRole"]["Resource"] == f"arn:preview:{node_role.name}"
    # instances may be terminated only when they are this cluster's and Karpenter's
    delete = by_sid["AllowScopedDeletion"]
    assert delete["Condition"]["StringEquals"] == {
        f"aws:ResourceTag/kubernetes.io/cluster/{name}": "owned"}
    assert set(delete["Action"]) == {"ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"}
    assert not any(a.startswith("iam:CreateInstanceProfile") for s in doc["Statement"]
                   for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))


def test_four_eventbridge_rules_feed_the_queue(site):
    _, p = site
    rules = of(p, "aws:cloudwatch/eventRule:EventRule")
    patterns = {(json.loads(r.properties["eventPattern"])["source"][0],
                 json.loads(r.properties["eventPattern"])["detail-type"][0]) for r in rules}
    assert patterns == {("aws.health", "AWS Health Event"),
                        ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
                        ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
                        ("aws.ec2", "EC2 Instance State-change Notification")}
    (queue,) = of(p, "aws:sqs/queue:Queue")
    targets = of(p, "aws:cloudwatch/eventTarget:EventTarget")
    assert len(targets) == 4 and {t.properties["arn"] for t in targets} == \
        {f"arn:preview:{queue.name}"}
    assert {t.properties["rule"] for t in targets} == {r.name for r in rules}
    policy = json.loads(of(p, "aws:sqs/queuePolicy:QueuePolicy")[0].properties["policy"])
    allow = policy["Statement"][0]
    assert allow["Principal"]["Service"] == ["events.amazonaws.com", "sqs.amazonaws.com"]


def test_the_stack_exports_the_karpenter_facts(site):
    _, p = site
    out = p.outputs["kubernetes"]
    assert out["autoscaler"] == "karpenter" and out["node_pool"] == kp.NODEPOOL
    assert out["service_account"] == "kube-system/karpenter"


@pytest.mark.parametrize("site_name", ["c", LONG])
def test_karpenter_sites_pass_the_provider_rules(site_name):
    camp = campaign({"autoscaler": "karpenter"}, name=site_name, provider="aws", loadgen=2)
    assert check_site(sample_spec(camp.sites[0], camp)) == []


def test_a_minor_outside_the_charts_matrix_is_refused():
    camp = campaign({"autoscaler": "karpenter", "version": "1.29"}, provider="aws")
    with pytest.raises(SiteSpecError, match=r"kubernetes.version 1.29.*1\.30 to 1\.36"):
        preview_program(sample_spec(camp.sites[0], camp))


def test_arm_nodes_ask_for_arm64():
    camp = campaign({"autoscaler": "karpenter"}, provider="aws", instance_type="c7g.xlarge")
    _, p = declared(camp, 0)
    (pool,) = of(p, NODEPOOL)
    reqs = {r["key"]: r["values"] for r in pool.properties["spec"]["template"]["spec"]
            ["requirements"]}
    assert reqs["kubernetes.io/arch"] == ["arm64"]


# -- the rules bite: each planted value is one a live API (or Karpenter's CRD) refuses ---
# For tests/cloud/test_provider_rules.py (every rule has a planted violation): (provider,
# type, path, refused, accepted); '@name' cases are logical names (+ 8 suffix characters).
KARPENTER_CASES = [
    ("aws", rules_karpenter.QUEUE, "@name", "q" * 73, "bko-kp-queue"),  # 73 + 8 = 81 > 80
    ("aws", rules_karpenter.EVENT_RULE, "@name", "r" * 57, "bko-kp-spot"),  # 65 > 64
    ("aws", rules_karpenter.EVENT_TARGET, "targetId", "Karpenter Target",
     "KarpenterInterruptionQueueTarget"),
    ("aws", rules_karpenter.PROFILE, "@name", "p" * 121, "bko-kp-profile"),  # 129 > 128
    ("aws", rules_karpenter.ACCESS, "type", "EC2_LINUX_NODE", "EC2_LINUX"),
    ("aws", NODECLASS, "spec.tags", {"karpenter.sh/nodeclaim": "x"}, {"owner": "x"}),
    ("aws", NODECLASS, "spec.tags", {"owner": "o'brien"}, {"owner": "obrien"}),
    ("aws", NODEPOOL, "spec.limits", {"nodes": "three"}, {"nodes": "3"}),
    ("aws", NODEPOOL, "spec.disruption.consolidateAfter", "10min", "600s"),
    ("aws", NODEPOOL, "spec.template.spec.expireAfter", "30d", "720h"),
]


def _violations(token: str, props: dict, name: str = "bko-x") -> list:
    return apply(rules_karpenter.RULES, [Resource(token, name, props)],
                 rules_karpenter.NAMES)


@pytest.mark.parametrize("token,props,bad", [
    (rules_karpenter.QUEUE, {"name": "a" * 81}, "81 characters"),  # SQS: at most 80
    (rules_karpenter.QUEUE, {"name": "bko.queue"}, "does not match"),  # no '.' in SQS names
    (rules_karpenter.EVENT_TARGET, {"targetId": "Karpenter Target"}, "does not match"),
    (rules_karpenter.PROFILE, {"name": "p" * 129}, "129 characters"),
    (rules_karpenter.ACCESS, {"type": "EC2_LINUX_NODE"}, "not one of"),
    (NODECLASS, {"spec": {"tags": {"karpenter.sh/nodepool": "x"}}}, "restricted"),
    (NODECLASS, {"spec": {"tags": {"kubernetes.io/cluster/bko": "owned"}}}, "restricted"),
    (NODECLASS, {"spec": {"tags": {"owner": "o'brien"}}}, "not allowed"),
    (NODEPOOL, {"spec": {"limits": {"nodes": "three"}}}, "quantity"),
    (NODEPOOL, {"spec": {"disruption": {"consolidateAfter": "10min"}}}, "does not match"),
])
def test_a_value_the_api_refuses_is_a_violation(token, props, bad):
    found = _violations(token, props)
    assert found and bad in found[0].problem, found


@pytest.mark.parametrize("token,props", [
    (rules_karpenter.QUEUE, {"name": "a" * 80}),
    (rules_karpenter.QUEUE, {"name": "bko-aws_67adbe"}),
    (rules_karpenter.EVENT_TARGET, {"targetId": "KarpenterInterruptionQueueTarget"}),
    (rules_karpenter.ACCESS, {"type": "EC2_LINUX"}),
    (NODECLASS, {"spec": {"tags": {"bakeoff-campaign": "c-20261231T235959Z-a1b2c3",
                                   "Name": "bko-aws-karpenter-node"}}}),
    (NODEPOOL, {"spec": {"limits": {"nodes": "3", "cpu": "1000", "memory": "64Gi"},
                         "disruption": {"consolidateAfter": "1m30s"}}}),
])
def test_a_value_the_api_accepts_is_not(token, props):
    assert _violations(token, props) == []


def test_a_planted_restricted_tag_stops_the_site(monkeypatch):
    real = kp.node_class

    def planted(spec, cluster, profile):
        out = real(spec, cluster, profile)
        out["tags"]["eks:eks-cluster-name"] = cluster  # Karpenter refuses to be told this
        return out

    monkeypatch.setattr(kp, "node_class", planted)
    camp = campaign({"autoscaler": "karpenter"}, provider="aws")
    with pytest.raises(ProviderRulesError, match="eks:eks-cluster-name"):
        check_site(sample_spec(camp.sites[0], camp))


def test_the_consolidation_delay_is_the_one_the_cost_assumes():
    from bakeoff.cluster_cost import SCALE_DOWN_S

    assert kp.CONSOLIDATE_AFTER_S == SCALE_DOWN_S
