"""What the three cluster programs share: the cluster part of a CloudSiteSpec, the names
they give (shorter limits than VMs: a GKE cluster name is at most 40 characters), the
address plan beside the VM site's network, and the kubeconfig they export.

A cluster site is a VM site plus a cluster: the provider's VM program (aws.py, azure.py,
gcp.py) declares the network, the server/client VMs and the load generators exactly as
for a VM site and returns its network parts; k8s_<provider>.py declares the cluster in
the same network and exports `kubernetes` (a kubeconfig as a Pulumi secret among it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stacks.cloud.spec import CloudSiteSpec

# Node subnets beside the VM site's (which uses the first /24s of 10.42.0.0/16): one /20
# per zone from 10.42.16.0, so the autoscaler has room for nodes (and, on EKS, pods).
NODE_SUBNETS = ("10.42.16.0/20", "10.42.32.0/20")
# Pod and Service ranges outside the site's network (AKS overlay, GKE secondary ranges).
POD_CIDR = "10.64.0.0/14"
SERVICE_CIDR = "10.68.0.0/20"
DNS_SERVICE_IP = "10.68.0.10"
GKE_MASTER_CIDR = "172.16.0.32/28"  # the GKE control plane's private /28 (private nodes)
CLUSTER_NAME_MAX = 40  # GKE's limit, the tightest of the three (stacks/cloud/rules_k8s.py)
AUTOSCALER_SA = ("kube-system", "cluster-autoscaler")  # the IRSA role's service account
OUTPUT = "kubernetes"  # the stack output the provisioner reads


@dataclass(frozen=True)
class ClusterSpec:
    """The cluster part of a site, resolved from core.k8s_spec.KubernetesSpec."""

    version: str  # "1.31"
    min_nodes: int
    max_nodes: int
    autoscaler: str  # cluster-autoscaler | karpenter | autopilot

    @classmethod
    def from_site(cls, k8s: Any) -> ClusterSpec | None:
        if k8s is None:
            return None
        return cls(version=k8s.version, min_nodes=k8s.min_nodes, max_nodes=k8s.max_nodes,
                   autoscaler=k8s.autoscaler)


def cluster_spec(spec: CloudSiteSpec) -> ClusterSpec:
    k8s = spec.kubernetes
    if isinstance(k8s, dict):  # a spec read back from JSON (stacks/cloud/worker.py)
        k8s = ClusterSpec(**k8s)
    if k8s is None:
        raise ValueError(f"site {spec.site}: not a cluster site (no kubernetes block)")
    return k8s


def cluster_name(spec: CloudSiteSpec, max_len: int = CLUSTER_NAME_MAX) -> str:
    """'bko-<site>-<digest>' within `max_len`: lowercase, first a letter, last not '-',
    valid for EKS, AKS and GKE alike. Cluster names are set, not auto-named (the
    autoscaler's tags and the kubeconfig name them), so the digest of campaign and site
    keeps two campaigns with the same site name apart in one account; a long site name
    is cut before it."""
    digest = hashlib.sha256(f"{spec.campaign_id}/{spec.site}".encode()).hexdigest()[:6]
    keep = max_len - len(f"bko--{digest}")
    return f"bko-{spec.site_label[:keep].rstrip('-')}-{digest}"


def kubeconfig(name: str, server: str, ca_data: str, user: dict[str, Any]) -> str:
    """A one-cluster kubeconfig (YAML is a superset of JSON, so JSON is written: no YAML
    dependency in the program). `user` is the kubeconfig user entry (exec or token)."""
    import json

    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": name,
        "clusters": [{"name": name, "cluster": {"server": server,
                                                "certificate-authority-data": ca_data}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "users": [{"name": name, "user": user}]}, indent=2)


def exec_user(command: str, args: list[str], env: list[dict[str, str]] | None = None
              ) -> dict[str, Any]:
    """A kubeconfig exec credential plugin entry (client.authentication.k8s.io/v1beta1)."""
    entry: dict[str, Any] = {"apiVersion": "client.authentication.k8s.io/v1beta1",
                             "command": command, "args": args, "interactiveMode": "Never"}
    if env:
        entry["env"] = env
    return {"exec": entry}


def export(provider: str, name: str, autoscaler: str, kubeconfig_text: Any,
           extra: dict[str, Any] | None = None) -> None:
    """The `kubernetes` output: cluster facts in the clear, the kubeconfig as a secret."""
    import pulumi

    pulumi.export(OUTPUT, {"provider": provider, "cluster": name, "autoscaler": autoscaler,
                           "kubeconfig": pulumi.Output.secret(kubeconfig_text),
                           **(extra or {})})
