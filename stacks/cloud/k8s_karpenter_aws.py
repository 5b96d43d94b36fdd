"""Karpenter on an EKS cluster site (`kubernetes.autoscaler: karpenter`), pulumi-aws and
pulumi-kubernetes.

k8s_aws.py declares the cluster, the OIDC provider and a managed node group of `min_nodes`
nodes (fixed size: it runs the Karpenter controller and is the floor); this module adds
what the upstream getting-started guide creates with CloudFormation, eksctl and helm, as
Pulumi resources of the site's stack:

- the node role of the nodes Karpenter launches (AmazonEKS_CNI_Policy,
  AmazonEKSWorkerNodePolicy, AmazonEC2ContainerRegistryPullOnly,
  AmazonSSMManagedInstanceCore), its instance profile (declared here, so no IAM object
  lives outside the stack: the EC2NodeClass names it with `instanceProfile`, not `role`)
  and an EKS access entry of type EC2_LINUX (the cluster authenticates by access entries
  only, `authentication_mode: API`);
- the controller's role through IRSA (the cluster's OIDC provider trusts exactly
  `kube-system/karpenter`, the chart's service account), with the controller policy's
  statements scoped as in the guide's cloudformation.yaml;
- the interruption queue (SQS, named as the cluster, 300 s retention, SSE) with its queue
  policy and the four EventBridge rules that feed it;
- `karpenter.sh/discovery: <cluster>` on the private subnets (k8s_aws.py) and on the
  cluster security group (the nodes' security group for EKS managed nodes);
- the pinned Helm release of the `karpenter` chart, and one NodePool + EC2NodeClass
  (pulumi_kubernetes CustomResource) allowing only the site's instance type, on-demand,
  in the site's zones, at most `max_nodes - min_nodes` nodes, and tagging every instance,
  volume and launch template with the campaign's tags (so `bakeoff gc` finds them).

Sources (aws/karpenter-provider-aws at tag v1.14.1, read 2026-12-06):
website/content/en/docs/getting-started/getting-started-with-karpenter/cloudformation.yaml
(roles, policies, queue, rules), .../scripts/step02-create-cluster.sh (IRSA/identity
mapping, discovery tag), step08-apply-helm-chart.sh (`settings.clusterName`,
`settings.interruptionQueue`), step12-add-nodepool.sh (NodePool / EC2NodeClass shape),
charts/karpenter/Chart.yaml (version 1.14.1), pkg/apis/crds/*.yaml (fields and the
EC2NodeClass tag restrictions: stacks/cloud/rules_karpenter.py), website/content/en/docs/
upgrading/compatibility.md (Kubernetes 1.30 .. 1.36). Tested only under Pulumi mocks;
no live cluster has run it.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from stacks.cloud.spec import CloudSiteSpec, SiteSpecError

# An OCI chart: Pulumi's Release takes the full reference as `chart`, no repository_opts
# (the getting-started's `helm upgrade --install karpenter oci://public.ecr.aws/karpenter/
# karpenter`).
CHART = "oci://public.ecr.aws/karpenter/karpenter"
RELEASE_NAME = "karpenter"
CHART_VERSION = "1.14.1"  # pinned: a chart change is a reviewed change here
# compatibility.md at v1.14.1: the oldest minor in its matrix is 1.30, the newest 1.36.
MINORS = ("1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36")
SERVICE_ACCOUNT = ("kube-system", "karpenter")  # the getting-started namespace
NODE_POLICIES = ("AmazonEKS_CNI_Policy", "AmazonEKSWorkerNodePolicy",
                 "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore")
DISCOVERY = "karpenter.sh/discovery"
NODEPOOL = "bko-nodes"
NODECLASS = "bko-nodes"
# Empty or underused Karpenter nodes go after this long: the cluster autoscaler's default
# scale-down delay (bakeoff/cluster_cost.py SCALE_DOWN_S), so both are priced alike.
CONSOLIDATE_AFTER_S = 600
RELEASE_TIMEOUT_S = 600
# cloudformation.yaml's EventBridge rules: (logical suffix, source, detail-type)
EVENT_RULES = (("sched", "aws.health", "AWS Health Event"),
               ("spot", "aws.ec2", "EC2 Spot Instance Interruption Warning"),
               ("rebal", "aws.ec2", "EC2 Instance Rebalance Recommendation"),
               ("state", "aws.ec2", "EC2 Instance State-change Notification"))


def check_version(site: str, version: str) -> None:
    """A minor outside the pinned chart's matrix is refused at plan time."""
    if version not in MINORS:
        raise SiteSpecError(
            f"site {site}: kubernetes.version {version}: Karpenter {CHART_VERSION} (the "
            f"pinned chart, stacks/cloud/k8s_karpenter_aws.py) supports Kubernetes "
            f"{MINORS[0]} to {MINORS[-1]}; pick one of those minors")


def controller_policy(cluster: str, cluster_arn: str, region: str, queue_arn: str,
                      node_role_arn: str) -> dict[str, Any]:
    """The controller's permissions: cloudformation.yaml's NodeLifecycle, EKSIntegration,
    Interruption and ResourceDiscovery policies, and IAMIntegration's PassRole (the
    instance profile is bakeoff's, so Karpenter creates none)."""
    ec2 = f"arn:aws:ec2:{region}"
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/{cluster}": "owned"}
    request = {f"aws:RequestTag/kubernetes.io/cluster/{cluster}": "owned",
               "aws:RequestTag/eks:eks-cluster-name": cluster}
    created = [f"{ec2}:*:{kind}/*" for kind in ("fleet", "instance", "volume",
                                                 "network-interface", "launch-template",
                                                 "spot-instances-request")]
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "AllowScopedEC2InstanceAccessActions", "Effect": "Allow",
         "Resource": [f"{ec2}::image/*", f"{ec2}::snapshot/*", f"{ec2}:*:security-group/*",
                      f"{ec2}:*:subnet/*", f"{ec2}:*:capacity-reservation/*"],
         "Action": ["ec2:RunInstances", "ec2:CreateFleet"]},
        {"Sid": "AllowScopedEC2LaunchTemplateAccessActions", "Effect": "Allow",
         "Resource": f"{ec2}:*:launch-template/*",
         "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
         "Condition": {"StringEquals": owned,
                       "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}}},
        {"Sid": "AllowScopedEC2InstanceActionsWithTags", "Effect": "Allow",
         "Resource": created,
         "Action": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
         "Condition": {"StringEquals": request,
                       "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}}},
        {"Sid": "AllowScopedResourceCreationTagging", "Effect": "Allow",
         "Resource": created, "Action": "ec2:CreateTags",
         "Condition": {"StringEquals": {**request, "ec2:CreateAction": [
             "RunInstances", "CreateFleet", "CreateLaunchTemplate"]},
                       "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}}},
        {"Sid": "AllowScopedResourceTagging", "Effect": "Allow",
         "Resource": f"{ec2}:*:instance/*", "Action": "ec2:CreateTags",
         "Condition": {"StringEquals": owned,
                       "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                       "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": cluster},
                       "ForAllValues:StringEquals": {"aws:TagKeys": [
                           "eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]}}},
        {"Sid": "AllowScopedDeletion", "Effect": "Allow",
         "Resource": [f"{ec2}:*:instance/*", f"{ec2}:*:launch-template/*"],
         "Action": ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
         "Condition": {"StringEquals": owned,
                       "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}}},
        {"Sid": "AllowPassingInstanceRole", "Effect": "Allow", "Resource": node_role_arn,
         "Action": "iam:PassRole",
         "Condition": {"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com"]}}},
        {"Sid": "AllowAPIServerEndpointDiscovery", "Effect": "Allow",
         "Resource": cluster_arn, "Action": "eks:DescribeCluster"},
        {"Sid": "AllowInterruptionQueueActions", "Effect": "Allow", "Resource": queue_arn,
         "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"]},
        {"Sid": "AllowRegionalReadActions", "Effect": "Allow", "Resource": "*",
         "Action": ["ec2:DescribeCapacityReservations", "ec2:DescribeImages",
                    "ec2:DescribeInstances", "ec2:DescribeInstanceTypeOfferings",
                    "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplates",
                    "ec2:DescribeSecurityGroups", "ec2:DescribeSpotPriceHistory",
                    "ec2:DescribeSubnets"],
         "Condition": {"StringEquals": {"aws:RequestedRegion": region}}},
        {"Sid": "AllowSSMReadActions", "Effect": "Allow",
         "Resource": f"arn:aws:ssm:{region}::parameter/aws/service/*",
         "Action": "ssm:GetParameter"},
        {"Sid": "AllowPricingReadActions", "Effect": "Allow", "Resource": "*",
         "Action": "pricing:GetProducts"},
        {"Sid": "AllowInstanceProfileReadActions", "Effect": "Allow", "Resource": "*",
         "Action": ["iam:GetInstanceProfile", "iam:ListInstanceProfiles"]},
    ]}


def queue_policy(queue_arn: str) -> str:
    """Only EventBridge (and SQS) may send; plain HTTP is denied (cloudformation.yaml)."""
    return json.dumps({"Id": "EC2InterruptionPolicy", "Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": ["events.amazonaws.com",
                                                      "sqs.amazonaws.com"]},
         "Action": "sqs:SendMessage", "Resource": queue_arn},
        {"Sid": "DenyHTTP", "Effect": "Deny", "Principal": "*", "Action": "sqs:*",
         "Resource": queue_arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})


def node_pool(spec: CloudSiteSpec, arch: str, extra_nodes: int) -> dict[str, Any]:
    """The NodePool's spec: the site's type only, on-demand, its zones, at most
    `extra_nodes` nodes above the managed group (`limits.nodes`, "constrains maximum node
    count during scaling": website/content/en/docs/concepts/nodepools.md at v1.14.1)."""
    return {"template": {"spec": {
        "requirements": [
            {"key": "node.kubernetes.io/instance-type", "operator": "In",
             "values": [spec.instance_type]},
            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
            {"key": "topology.kubernetes.io/zone", "operator": "In", "values": list(spec.zones)},
            {"key": "kubernetes.io/arch", "operator": "In", "values": [arch]},
            {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}],
        "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass",
                         "name": NODECLASS},
        "expireAfter": "720h"}},
        "limits": {"nodes": str(extra_nodes)},
        "disruption": {"consolidationPolicy": "WhenEmptyOrUnderutilized",
                       "consolidateAfter": f"{CONSOLIDATE_AFTER_S}s"}}


def node_class(spec: CloudSiteSpec, cluster: str, profile: Any) -> dict[str, Any]:
    """The EC2NodeClass's spec: AL2023, the discovery-tagged subnets and security group,
    bakeoff's instance profile, and the campaign's tags on what Karpenter creates."""
    selector = [{"tags": {DISCOVERY: cluster}}]
    return {"amiSelectorTerms": [{"alias": "al2023@latest"}],
            "instanceProfile": profile,
            "subnetSelectorTerms": selector, "securityGroupSelectorTerms": selector,
            "tags": {**spec.tags(), "Name": spec.resource_name("karpenter-node")}}


def chart_values(cluster: str, queue: Any, role_arn: Any, min_nodes: int) -> dict[str, Any]:
    """values.yaml at 1.14.1: settings.clusterName / interruptionQueue, the service account
    the IRSA role trusts; at most one controller replica per managed node (the chart's
    anti-affinity keeps replicas on distinct nodes, off Karpenter's own nodes)."""
    _, account = SERVICE_ACCOUNT
    return {"settings": {"clusterName": cluster, "interruptionQueue": queue},
            "serviceAccount": {"create": True, "name": account,
                               "annotations": {"eks.amazonaws.com/role-arn": role_arn}},
            "replicas": min(2, min_nodes),
            "controller": {"resources": {"requests": {"cpu": "1", "memory": "1Gi"},
                                         "limits": {"cpu": "1", "memory": "1Gi"}}}}


def declare(spec: CloudSiteSpec, net: dict[str, Any], cluster: Any, name: str, k8s: Any,
            oidc: Any, issuer: Any, kubeconfig_text: Any, node_group: Any,
            irsa_trust: Any, arch: str) -> dict[str, Any]:
    """Everything above; returns the facts the stack exports."""
    import pulumi_kubernetes as kube
    from pulumi_kubernetes.apiextensions import CustomResource
    from pulumi_kubernetes.helm.v3 import Release

    from stacks.cloud.k8s_aws import node_role_with_policies

    tags = spec.tags()
    opts = pulumi.ResourceOptions(provider=net["provider"])

    def named(suffix: str) -> dict[str, str]:
        return {**tags, "Name": spec.resource_name(suffix)}

    node_role, attached = node_role_with_policies(spec, "kp-node", opts, named,
                                                  NODE_POLICIES)
    profile = aws.iam.InstanceProfile(spec.resource_name("kp-profile"), role=node_role.name,
                                      tags=named("kp-profile"), opts=opts)
    access = aws.eks.AccessEntry(spec.resource_name("kp-access"), cluster_name=cluster.name,
                                 principal_arn=node_role.arn, type="EC2_LINUX",
                                 tags=named("kp-access"), opts=opts)
    queue = aws.sqs.Queue(spec.resource_name("kp-queue"), name=name,
                          message_retention_seconds=300, sqs_managed_sse_enabled=True,
                          tags=named("kp-queue"), opts=opts)
    aws.sqs.QueuePolicy(spec.resource_name("kp-queue-policy"), queue_url=queue.id,
                        policy=queue.arn.apply(queue_policy), opts=opts)
    for suffix, source, detail in EVENT_RULES:
        rule = aws.cloudwatch.EventRule(
            spec.resource_name(f"kp-{suffix}"),
            event_pattern=json.dumps({"source": [source], "detail-type": [detail]}),
            tags=named(f"kp-{suffix}"), opts=opts)
        aws.cloudwatch.EventTarget(spec.resource_name(f"kp-{suffix}-target"), rule=rule.name,
                                   target_id="KarpenterInterruptionQueueTarget",
                                   arn=queue.arn, opts=opts)
    # the cluster security group: what EKS managed nodes (and so Karpenter's) run in
    aws.ec2.Tag(spec.resource_name("kp-sg-tag"), key=DISCOVERY, value=name,
                resource_id=cluster.vpc_config.apply(lambda v: v.cluster_security_group_id),
                opts=opts)
    namespace, account = SERVICE_ACCOUNT
    role = aws.iam.Role(spec.resource_name("kp-ctrl-role"),
                        assume_role_policy=pulumi.Output.all(oidc.arn, issuer).apply(
                            lambda a: irsa_trust(a[0], a[1], namespace, account)),
                        tags=named("kp-ctrl-role"), opts=opts)
    policy = aws.iam.RolePolicy(
        spec.resource_name("kp-ctrl-policy"), role=role.id,
        policy=pulumi.Output.all(cluster.arn, queue.arn, node_role.arn).apply(
            lambda a: json.dumps(controller_policy(name, a[0], spec.region, a[1], a[2]))),
        opts=opts)

    provider = kube.Provider(spec.resource_name("k8s"),
                             kubeconfig=pulumi.Output.secret(kubeconfig_text),
                             delete_unreachable=True)
    values = pulumi.Output.all(queue.name, role.arn).apply(
        lambda a: chart_values(name, a[0], a[1], k8s.min_nodes))
    release = Release(spec.resource_name("karpenter"), name=RELEASE_NAME, chart=CHART,
                      version=CHART_VERSION, namespace=namespace, values=values,
                      timeout=RELEASE_TIMEOUT_S,
                      opts=pulumi.ResourceOptions(provider=provider,
                                                  depends_on=[node_group, policy]))
    after = pulumi.ResourceOptions(provider=provider, depends_on=[release, access, *attached])
    nodeclass = CustomResource(
        spec.resource_name("kp-nodeclass"), api_version="karpenter.k8s.aws/v1",
        kind="EC2NodeClass", metadata={"name": NODECLASS},
        spec=node_class(spec, name, profile.name), opts=after)
    CustomResource(spec.resource_name("kp-nodepool"), api_version="karpenter.sh/v1",
                   kind="NodePool", metadata={"name": NODEPOOL},
                   spec=node_pool(spec, arch, k8s.max_nodes - k8s.min_nodes),
                   opts=pulumi.ResourceOptions(provider=provider, depends_on=[nodeclass]))
    return {"karpenter_role_arn": role.arn, "interruption_queue": queue.name,
            "node_pool": NODEPOOL, "service_account": f"{namespace}/{account}"}
