"""GKE cluster site (pulumi-gcp): the VM site of gcp.py plus a GKE cluster in its VPC.

A regional cluster (its control plane replicated across the region's zones, like EKS's
and AKS Standard's) with nodes only in the site's two zones. Standard: the default pool is
removed and one node pool autoscales between min and max nodes IN TOTAL across both
zones (total_min/total_max_node_count); Autopilot: Google runs the nodes, so there is no
pool and min/max do not apply. Nodes are private (no external addresses; the control
plane keeps a public endpoint open to the operator's address only) and reach the internet
through Cloud NAT. Pods and Services take the subnet's secondary ranges (VPC-native).

Sources: https://cloud.google.com/kubernetes-engine/docs/how-to/private-clusters (the
/28 for the control plane), .../cluster-autoscaler (total limits),
https://cloud.google.com/nat/docs/gke-example, .../concepts/autopilot-overview.
"""

from __future__ import annotations

import math

import pulumi
from pulumi_gcp import compute, container

from stacks.cloud import gcp as vm_site
from stacks.cloud.k8s_common import (
    GKE_MASTER_CIDR,
    NODE_SUBNETS,
    POD_CIDR,
    SERVICE_CIDR,
    cluster_name,
    cluster_spec,
    exec_user,
    export,
    kubeconfig,
)
from stacks.cloud.spec import CloudSiteSpec

NODE_POOL = "bko-nodes"
# Series whose only NIC is gVNIC (stacks/cloud/rules_gcp.py GVNIC_ONLY; a node pool must
# enable it: https://cloud.google.com/kubernetes-engine/docs/how-to/using-gvnic).
GVNIC_ONLY = ("c3", "c3d", "c4", "c4a", "c4d", "n4", "n4a", "n4d", "h3", "a3", "x4")
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]


def program(spec: CloudSiteSpec) -> None:
    """The VM site (VPC, server/client VMs, load generators), then the cluster."""
    net = vm_site.program(spec)
    k8s = cluster_spec(spec)
    name = cluster_name(spec)
    labels, described = net["labels"], net["described"]
    subnet = compute.Subnetwork(
        spec.resource_name("gke-subnet"), network=net["net"].id, region=spec.region,
        ip_cidr_range=NODE_SUBNETS[0], private_ip_google_access=True, description=described,
        secondary_ip_ranges=[{"range_name": "pods", "ip_cidr_range": POD_CIDR},
                             {"range_name": "services", "ip_cidr_range": SERVICE_CIDR}])
    router = compute.Router(spec.resource_name("router"), network=net["net"].id,
                            region=spec.region, description=described)
    compute.RouterNat(spec.resource_name("nat"), router=router.name, region=spec.region,
                      nat_ip_allocate_option="AUTO_ONLY",
                      source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES")
    autopilot = k8s.autoscaler == "autopilot"
    series = spec.instance_type.split("-", 1)[0]
    common = {
        "name": name, "location": spec.region, "network": net["net"].id,
        "subnetwork": subnet.id, "resource_labels": labels, "deletion_protection": False,
        "min_master_version": k8s.version, "release_channel": {"channel": "REGULAR"},
        "ip_allocation_policy": {"cluster_secondary_range_name": "pods",
                                 "services_secondary_range_name": "services"},
        "private_cluster_config": {"enable_private_nodes": True,
                                   "enable_private_endpoint": False,
                                   "master_ipv4_cidr_block": GKE_MASTER_CIDR},
        "master_authorized_networks_config": {"cidr_blocks": [
            {"cidr_block": spec.operator_cidr, "display_name": "operator"}]},
        "node_locations": list(spec.zones)}
    if autopilot:
        cluster = container.Cluster(spec.resource_name("gke"), enable_autopilot=True, **common)
    else:
        cluster = container.Cluster(spec.resource_name("gke"), remove_default_node_pool=True,
                                    initial_node_count=1, **common)
        container.NodePool(
            spec.resource_name("gke-nodes"), name=NODE_POOL, cluster=cluster.id,
            location=spec.region, node_locations=list(spec.zones),
            # per zone at creation; the autoscaler keeps the TOTAL within min..max
            initial_node_count=max(1, math.ceil(k8s.min_nodes / len(spec.zones))),
            autoscaling={"total_min_node_count": k8s.min_nodes,
                         "total_max_node_count": k8s.max_nodes,
                         "location_policy": "BALANCED"},
            node_config={"machine_type": spec.instance_type, "resource_labels": labels,
                         "labels": {"bakeoff-site": labels["bakeoff-site"]},
                         "oauth_scopes": SCOPES, "tags": ["bakeoff"],
                         # the series' boot disk (Hyperdisk-only series) and NIC (gVNIC)
                         "disk_type": vm_site.boot_disk_type(spec.instance_type),
                         "gvnic": {"enabled": series in GVNIC_ONLY}},
            opts=pulumi.ResourceOptions(ignore_changes=["initialNodeCount"]))
    text = pulumi.Output.all(cluster.endpoint, cluster.master_auth).apply(
        lambda a: kubeconfig(name, f"https://{a[0]}", _ca(a[1]), exec_user(
            "gke-gcloud-auth-plugin", [])))
    export("gcp", name, k8s.autoscaler, text, {"location": spec.region,
                                                "node_pool": None if autopilot else NODE_POOL})


def _ca(master_auth) -> str:
    """The cluster CA (base64 PEM) from master_auth, a dict or an output type."""
    if isinstance(master_auth, dict):
        return master_auth.get("clusterCaCertificate") or master_auth.get(
            "cluster_ca_certificate") or ""
    return getattr(master_auth, "cluster_ca_certificate", None) or ""
