"""The Kubernetes cluster-autoscaler installed into an EKS cluster site (pulumi-kubernetes).

EKS has no managed autoscaler: without its Deployment the node group never grows, so
k8s-pod-scale and k8s-time-to-scale could not pass on a live cluster. k8s_aws.py declares
the IAM side (OIDC provider, the IRSA role for `kube-system/cluster-autoscaler`, the
auto-discovery tags on the node group); this module adds a Kubernetes provider built from
the cluster's kubeconfig and a Helm release of the official chart, after the node group
(the autoscaler's pod needs a node to run on).

Sources: the chart's values (https://github.com/kubernetes/autoscaler,
charts/cluster-autoscaler/values.yaml at chart 9.51.0, commit f33f490abc:
`autoDiscovery.clusterName`, `awsRegion`, `cloudProvider`, `image.repository`/`image.tag`,
`rbac.serviceAccount.{name,annotations}`), served from https://kubernetes.github.io/autoscaler;
the AWS README (cluster-autoscaler/cloudprovider/aws/README.md: IRSA through the service
account's `eks.amazonaws.com/role-arn` annotation); "use the autoscaler release whose minor
matches the cluster's" (cluster-autoscaler/README.md, "Releases"). Image tags: the newest
`cluster-autoscaler-1.MINOR.PATCH` git tag of each minor in that repository (snapshot of
2026-08-22). Tested only under Pulumi mocks; no live cluster has run it.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.helm.v3 import Release, RepositoryOptsArgs

from stacks.cloud.k8s_common import AUTOSCALER_SA
from stacks.cloud.spec import CloudSiteSpec, SiteSpecError

CHART_REPO = "https://kubernetes.github.io/autoscaler"
CHART = "cluster-autoscaler"
CHART_VERSION = "9.51.0"  # pinned: a chart change is a reviewed change here
IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler"
# Kubernetes minor -> the autoscaler image of the same minor (newest patch tag, see above).
IMAGE_TAGS = {"1.28": "v1.28.7", "1.29": "v1.29.5", "1.30": "v1.30.7", "1.31": "v1.31.5",
              "1.32": "v1.32.7", "1.33": "v1.33.6", "1.34": "v1.34.5", "1.35": "v1.35.2",
              "1.36": "v1.36.1"}
RELEASE_TIMEOUT_S = 600  # helm waits for the Deployment to be ready


def image_tag(site: str, version: str) -> str:
    """The autoscaler image for a cluster of `version` ("1.31"); an unpinned minor is a
    site error at plan time (a mismatched autoscaler is unsupported upstream)."""
    try:
        return IMAGE_TAGS[version]
    except KeyError:
        raise SiteSpecError(
            f"site {site}: kubernetes.version {version}: no cluster-autoscaler release is "
            f"pinned for it (stacks/cloud/k8s_autoscaler_aws.py IMAGE_TAGS has "
            f"{', '.join(IMAGE_TAGS)}); pick one of those minors") from None


def chart_values(cluster: str, region: str, role_arn: Any, version: str, site: str
                 ) -> dict[str, Any]:
    """The chart values: auto-discovery of the node group by its tags (k8s_aws.py sets
    them), the region, IRSA through the service account's role annotation."""
    _, account = AUTOSCALER_SA
    return {
        "cloudProvider": "aws", "awsRegion": region,
        "autoDiscovery": {"clusterName": cluster},
        "image": {"repository": IMAGE, "tag": image_tag(site, version)},
        # the IRSA role trusts exactly this service account (k8s_aws._irsa_trust)
        "rbac": {"create": True, "serviceAccount": {
            "create": True, "name": account,
            "annotations": {"eks.amazonaws.com/role-arn": role_arn}}},
        "extraArgs": {"balance-similar-node-groups": True},
    }


def install(spec: CloudSiteSpec, cluster: str, version: str, kubeconfig_text: Any,
            role_arn: Any, depends_on: list[pulumi.Resource]) -> Release:
    """A Kubernetes provider on the cluster and the chart's release in kube-system,
    created after `depends_on` (the node group and the IRSA role's policy)."""
    namespace, _ = AUTOSCALER_SA
    provider = k8s.Provider(
        spec.resource_name("k8s"), kubeconfig=pulumi.Output.secret(kubeconfig_text),
        # a teardown whose API server is already gone (BAKEOFF_K8S_SKIP_RELEASE) must
        # still let the stack go: drop the in-cluster release from the state then
        delete_unreachable=True)
    values = pulumi.Output.from_input(role_arn).apply(
        lambda arn: chart_values(cluster, spec.region, arn, version, spec.site))
    return Release(
        spec.resource_name("cluster-autoscaler"), name=CHART, chart=CHART,
        version=CHART_VERSION, namespace=namespace,
        repository_opts=RepositoryOptsArgs(repo=CHART_REPO), values=values,
        timeout=RELEASE_TIMEOUT_S,
        opts=pulumi.ResourceOptions(provider=provider, depends_on=depends_on))
