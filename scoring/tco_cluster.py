"""A cluster site's monthly components beside its compute (scoring/tco.py).

The nodes are the site's compute component (`usage.instances` nodes of its instance type:
the production profile, not the bake-off's min..max); a cluster adds its control plane
(platforms.csv cluster-hour, `usage.hours_per_month` hours) and, on AKS, the system pool's
node. Load balancer and NAT are the usage block's `load_balancer` / `nat_gateway`
(scoring/tco_services.py). GKE Autopilot bills pods' requests, which the usage profile
does not state (not built): a missing price, never $0.
"""

from __future__ import annotations

from collections.abc import Callable

from core.errors import PriceNotFoundError
from core.scenario import CloudSite, Usage

PLAN = {"aws": ("eks", "standard-support"), "azure": ("aks", "standard"),
        "gcp": ("gke", "standard")}
SERVICE = {"aws": "EKS", "azure": "AKS", "gcp": "GKE"}
SYSTEM_NODES = {"azure": 1}  # stacks/cloud/k8s_azure.py


def cluster_parts(site: CloudSite, usage: Usage, catalog, make: Callable[..., object]
                  ) -> tuple[list, list[str]]:
    """(components, missing prices) of `site`'s cluster; ([], []) for a VM site."""
    k8s = site.kubernetes
    if k8s is None:
        return [], []
    svc = SERVICE[site.provider]
    if k8s.autoscaler == "autopilot":
        return [], [f"{site.provider} {site.region}: GKE Autopilot bills the pods' requested "
                    "vCPU and memory; the TCO has no pod-request profile to price them with "
                    "(not built)"]
    out, missing = [], []
    service, plan = PLAN[site.provider]
    try:
        row = catalog.platform(site.provider, site.region, service, plan, "cluster_hour")
        out.append(make(f"{svc} control plane ({plan})", usage.hours_per_month,
                        "cluster-hours", row.usd_per_unit, row.provenance, "catalog",
                        "compute", f"{row.as_published}; nodes: the compute line "
                        f"(usage.instances = {usage.instances} nodes)",
                        confidence=row.confidence))
    except PriceNotFoundError as e:
        missing.append(str(e))
    n = SYSTEM_NODES.get(site.provider, 0)
    if n and site.instance_type:
        try:
            node = catalog.compute(site.provider, site.region, site.instance_type)
            out.append(make(f"{svc} system pool {site.instance_type} x{n}",
                            usage.hours_per_month * n, "instance-hours",
                            node.ondemand_usd_per_hour, node.provenance, "catalog", "compute",
                            "the system pool's node runs beside the user pool's",
                            confidence=node.confidence))
        except PriceNotFoundError as e:
            missing.append(str(e))
    return out, missing
