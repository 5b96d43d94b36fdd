"""AKS cluster site (pulumi-azure-native): the VM site of azure.py plus an AKS cluster in
its VNet.

The nodes take addresses from their own /20 of the site's VNet (Azure CNI overlay: pods
get theirs from an overlay range outside the VNet), have no public addresses, and reach
the internet through the cluster's Standard Load Balancer (outbound type loadBalancer:
private nodes with outbound). Two pools, as AKS advises: a system pool (mode System, one
node of the site's size, for CoreDNS and the other system pods) and a user pool (mode
User) in both of the site's zones with the cluster autoscaler between min and max nodes.
The cluster tier is Standard (the financially backed SLA; priced from platforms.csv) and
the API server accepts only the operator's address.

Sources: https://learn.microsoft.com/azure/aks/use-system-pools,
https://learn.microsoft.com/azure/aks/cluster-autoscaler,
https://learn.microsoft.com/azure/aks/azure-cni-overlay,
https://learn.microsoft.com/azure/aks/egress-outboundtype.
"""

from __future__ import annotations

import base64

import pulumi
from pulumi_azure_native import containerservice, network

from stacks.cloud import azure as vm_site
from stacks.cloud.k8s_common import (
    DNS_SERVICE_IP,
    NODE_SUBNETS,
    POD_CIDR,
    SERVICE_CIDR,
    cluster_name,
    cluster_spec,
    export,
)
from stacks.cloud.spec import CloudSiteSpec

SYSTEM_POOL = "system"  # Linux pool names: 1..12 lowercase letters and digits, a letter first
USER_POOL = "user"
SYSTEM_NODES = 1


def _pool(spec: CloudSiteSpec, subnet: network.Subnet, **kw) -> dict:
    return {"vm_size": spec.instance_type, "os_type": "Linux",
            "type": "VirtualMachineScaleSets", "enable_node_public_ip": False,
            "vnet_subnet_id": subnet.id,
            "availability_zones": [vm_site.az_zone(z) for z in spec.zones], **kw}


def program(spec: CloudSiteSpec) -> None:
    """The VM site (VNet, server/client VMs, load generators), then the cluster."""
    net = vm_site.program(spec)
    k8s = cluster_spec(spec)
    name = cluster_name(spec)
    tags = spec.tags()
    rg = net["rg"]
    # after the VNet's last subnet: concurrent subnet writes on one VNet are refused
    subnet = network.Subnet(
        spec.resource_name("aks-subnet"), resource_group_name=rg.name,
        virtual_network_name=net["vnet"].name, address_prefix=NODE_SUBNETS[0],
        opts=pulumi.ResourceOptions(depends_on=[net["last_subnet"]]))
    cluster = containerservice.ManagedCluster(
        spec.resource_name("aks"), resource_group_name=rg.name, resource_name_=name,
        location=spec.region, dns_prefix=name, kubernetes_version=k8s.version,
        identity={"type": "SystemAssigned"},
        sku={"name": "Base", "tier": "Standard"},
        agent_pool_profiles=[_pool(spec, subnet, name=SYSTEM_POOL, mode="System",
                                   count=SYSTEM_NODES, enable_auto_scaling=False)],
        network_profile={"network_plugin": "azure", "network_plugin_mode": "overlay",
                         "pod_cidr": POD_CIDR, "service_cidr": SERVICE_CIDR,
                         "dns_service_ip": DNS_SERVICE_IP, "outbound_type": "loadBalancer",
                         "load_balancer_sku": "standard"},
        api_server_access_profile={"authorized_ip_ranges": [spec.operator_cidr]},
        node_resource_group=f"{name}-nodes", tags=tags)
    containerservice.AgentPool(
        spec.resource_name("aks-user"), resource_group_name=rg.name,
        resource_name_=cluster.name, agent_pool_name=USER_POOL,
        **_pool(spec, subnet, mode="User", count=k8s.min_nodes, enable_auto_scaling=True,
                min_count=k8s.min_nodes, max_count=k8s.max_nodes, tags=tags),
        opts=pulumi.ResourceOptions(ignore_changes=["count"]))  # the autoscaler's
    creds = containerservice.list_managed_cluster_user_credentials_output(
        resource_group_name=rg.name, resource_name=cluster.name)
    text = creds.kubeconfigs.apply(lambda ks: base64.b64decode(ks[0].value).decode())
    export("azure", name, k8s.autoscaler, text,
           {"resource_group": rg.name, "node_resource_group": f"{name}-nodes",
            "system_nodes": SYSTEM_NODES, "user_pool": USER_POOL})
