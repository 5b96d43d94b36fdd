"""EKS cluster site (pulumi-aws): the VM site of aws.py plus an EKS cluster in its VPC.

Beside the VM site's public subnets: one private /20 per zone for the nodes, whose
egress is a NAT gateway in the first public subnet (private nodes with egress). The
control plane gets the cluster IAM role (AmazonEKSClusterPolicy); the managed node group
(the site's instance type, min..max nodes across both private subnets) gets the node
role with the three managed policies every EKS node needs. The cluster's OIDC issuer is
registered as an IAM OIDC provider so the autoscaler runs with its own IAM role through
IRSA (IAM roles for service accounts). The node group carries the cluster autoscaler's
auto-discovery tags; the autoscaler itself is installed from its Helm chart after the
node group (k8s_autoscaler_aws.py). With `autoscaler: karpenter` the node group keeps
`min_nodes` (fixed) and Karpenter adds up to `max_nodes - min_nodes` nodes
(k8s_karpenter_aws.py: its roles, queue, chart, NodePool and EC2NodeClass).

Sources: https://docs.aws.amazon.com/eks/latest/userguide/cluster-iam-role.html,
.../create-node-role.html (the three policies), .../enable-iam-roles-for-service-accounts.html,
https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/cloudprovider/aws/README.md
(auto-discovery tags and the IAM actions).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pulumi
import pulumi_aws as aws

from stacks.cloud import aws as vm_site
from stacks.cloud import k8s_autoscaler_aws as autoscaler
from stacks.cloud import k8s_karpenter_aws as karpenter
from stacks.cloud.k8s_common import (
    AUTOSCALER_SA,
    NODE_SUBNETS,
    cluster_name,
    cluster_spec,
    exec_user,
    export,
    kubeconfig,
)
from stacks.cloud.spec import CloudSiteSpec

NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy",
                 "AmazonEC2ContainerRegistryReadOnly")
CLUSTER_POLICY = "AmazonEKSClusterPolicy"
POLICY_ARN = "arn:aws:iam::aws:policy/{}"
# cluster-autoscaler's AWS README, "Full Cluster Autoscaler Features Policy (Recommended)".
AUTOSCALER_ACTIONS = [
    "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags", "autoscaling:SetDesiredCapacity",
    "autoscaling:TerminateInstanceInAutoScalingGroup", "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements", "eks:DescribeNodegroup"]

def _assume(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def _irsa_trust(oidc_arn: str, issuer: str, namespace: str, account: str) -> str:
    host = issuer.removeprefix("https://")
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": oidc_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:sub": f"system:serviceaccount:{namespace}:"
                                                      f"{account}",
                                       f"{host}:aud": "sts.amazonaws.com"}}}]})


def node_role_with_policies(spec: CloudSiteSpec, prefix: str, opts: pulumi.ResourceOptions,
                            named: Callable[[str], dict[str, str]],
                            policies: tuple[str, ...] = NODE_POLICIES
                            ) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
    """The IAM role EC2 nodes join the cluster with, and its managed-policy attachments
    (the managed node group's and Karpenter's nodes each get their own)."""
    role = aws.iam.Role(spec.resource_name(f"{prefix}-role"),
                        assume_role_policy=_assume("ec2.amazonaws.com"),
                        tags=named(f"{prefix}-role"), opts=opts)
    attached = [aws.iam.RolePolicyAttachment(
        spec.resource_name(f"{prefix}-policy-{i}"), role=role.name,
        policy_arn=POLICY_ARN.format(p), opts=opts) for i, p in enumerate(policies)]
    return role, attached


def program(spec: CloudSiteSpec) -> None:
    """The VM site (network, server/client VMs, load generators), then the cluster."""
    k8s = cluster_spec(spec)
    kp = k8s.autoscaler == "karpenter"
    if kp:  # a minor outside the pinned chart's matrix: refused up front
        karpenter.check_version(spec.site, k8s.version)
    else:
        autoscaler.image_tag(spec.site, k8s.version)
    net = vm_site.program(spec)
    name = cluster_name(spec)
    tags = spec.tags()
    opts = pulumi.ResourceOptions(provider=net["provider"])

    def named(suffix: str) -> dict[str, str]:
        return {**tags, "Name": spec.resource_name(suffix)}

    public = list(net["subnets"].values())
    eip = aws.ec2.Eip(spec.resource_name("nat-ip"), domain="vpc", tags=named("nat-ip"),
                      opts=opts)
    nat = aws.ec2.NatGateway(spec.resource_name("nat"), allocation_id=eip.id,
                             subnet_id=public[0].id, tags=named("nat"),
                             opts=pulumi.ResourceOptions(provider=net["provider"],
                                                         depends_on=[net["igw"]]))
    private_rt = aws.ec2.RouteTable(
        spec.resource_name("rt-private"), vpc_id=net["vpc"].id,
        routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
        tags=named("rt-private"), opts=opts)
    # internal-elb: where Kubernetes puts internal load balancers; the cluster tag lets
    # the AWS cloud provider and Karpenter find the subnets (EKS VPC requirements page)
    discovery = {f"kubernetes.io/cluster/{name}": "shared", "kubernetes.io/role/internal-elb": "1",
                 **({karpenter.DISCOVERY: name} if kp else {})}
    # public subnets (the VM site's) for internet-facing load balancers of Services
    for i, subnet in enumerate(public):
        for j, (key, value) in enumerate(((f"kubernetes.io/cluster/{name}", "shared"),
                                          ("kubernetes.io/role/elb", "1"))):
            aws.ec2.Tag(spec.resource_name(f"elb-tag-{i}-{j}"),
                        resource_id=subnet.id, key=key, value=value, opts=opts)
    private = []
    for i, (zone, cidr) in enumerate(zip(spec.zones, NODE_SUBNETS, strict=True)):
        subnet = aws.ec2.Subnet(spec.resource_name(f"nodes-{i}"), vpc_id=net["vpc"].id,
                                cidr_block=cidr, availability_zone=zone,
                                map_public_ip_on_launch=False,
                                tags={**named(f"nodes-{i}"), **discovery}, opts=opts)
        aws.ec2.RouteTableAssociation(spec.resource_name(f"rta-nodes-{i}"),
                                      subnet_id=subnet.id, route_table_id=private_rt.id,
                                      opts=opts)
        private.append(subnet)

    cluster_role = aws.iam.Role(spec.resource_name("eks-role"),
                                assume_role_policy=_assume("eks.amazonaws.com"),
                                tags=named("eks-role"), opts=opts)
    attach = aws.iam.RolePolicyAttachment(
        spec.resource_name("eks-role-policy"), role=cluster_role.name,
        policy_arn=POLICY_ARN.format(CLUSTER_POLICY), opts=opts)
    cluster = aws.eks.Cluster(
        spec.resource_name("eks"), name=name, version=k8s.version,
        role_arn=cluster_role.arn,
        vpc_config=aws.eks.ClusterVpcConfigArgs(
            subnet_ids=[s.id for s in private], endpoint_private_access=True,
            endpoint_public_access=True, public_access_cidrs=[spec.operator_cidr]),
        access_config=aws.eks.ClusterAccessConfigArgs(
            authentication_mode="API", bootstrap_cluster_creator_admin_permissions=True),
        tags=named("eks"),
        opts=pulumi.ResourceOptions(provider=net["provider"], depends_on=[attach]))

    node_role, node_policies = node_role_with_policies(spec, "node", opts, named)
    autoscaler_tags = {} if kp else {"k8s.io/cluster-autoscaler/enabled": "true",
                                     f"k8s.io/cluster-autoscaler/{name}": "owned"}
    group_max = k8s.min_nodes if kp else k8s.max_nodes  # Karpenter adds the rest
    arm = vm_site.arch_of(spec.instance_type) == "arm64"
    node_group = aws.eks.NodeGroup(
        spec.resource_name("nodes"), cluster_name=cluster.name, node_group_name="bko-nodes",
        node_role_arn=node_role.arn, subnet_ids=[s.id for s in private],
        instance_types=[spec.instance_type], capacity_type="ON_DEMAND",
        ami_type="AL2023_ARM_64_STANDARD" if arm else "AL2023_x86_64_STANDARD",
        scaling_config=aws.eks.NodeGroupScalingConfigArgs(
            desired_size=k8s.min_nodes, min_size=k8s.min_nodes, max_size=group_max),
        tags={**named("nodes"), **autoscaler_tags},
        opts=pulumi.ResourceOptions(provider=net["provider"], depends_on=node_policies,
                                    # the autoscaler changes the desired size
                                    ignore_changes=["scalingConfig.desiredSize"]))

    issuer = cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
    oidc = aws.iam.OpenIdConnectProvider(spec.resource_name("oidc"), url=issuer,
                                         client_id_lists=["sts.amazonaws.com"],
                                         tags=named("oidc"), opts=opts)
    text = pulumi.Output.all(cluster.endpoint, cluster.certificate_authority.data).apply(
        lambda a: kubeconfig(name, a[0], a[1], exec_user(
            "aws", ["eks", "get-token", "--cluster-name", name, "--region", spec.region,
                    "--output", "json"])))
    if kp:
        facts = karpenter.declare(spec, net, cluster, name, k8s, oidc, issuer, text,
                                  node_group, _irsa_trust, "arm64" if arm else "amd64")
        export("aws", name, k8s.autoscaler, text,
               {"region": spec.region, "node_group": "bko-nodes", **facts})
        return
    namespace, account = AUTOSCALER_SA
    scaler_role = aws.iam.Role(
        spec.resource_name("scaler-role"),
        assume_role_policy=pulumi.Output.all(oidc.arn, issuer).apply(
            lambda a: _irsa_trust(a[0], a[1], namespace, account)),
        tags=named("scaler-role"), opts=opts)
    scaler_policy = aws.iam.RolePolicy(
        spec.resource_name("scaler-policy"), role=scaler_role.id,
        policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": AUTOSCALER_ACTIONS, "Resource": "*"}]}),
        opts=opts)
    autoscaler.install(spec, name, k8s.version, text, scaler_role.arn,
                       depends_on=[node_group, scaler_policy])
    export("aws", name, k8s.autoscaler, text,
           {"region": spec.region, "autoscaler_role_arn": scaler_role.arn,
            "service_account": f"{namespace}/{account}", "node_group": "bko-nodes"})
