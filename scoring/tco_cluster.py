"""A cluster site's monthly components beside its compute (scoring/tco.py).

The nodes are the site's compute component (`usage.instances` nodes of its instance type:
the production profile, not the bake-off's min..max); a cluster adds its control plane
(platforms.csv cluster-hour, `usage.hours_per_month` hours) and, on AKS, the system pool's
node. Load balancer and NAT are the usage block's `load_balancer` / `nat_gateway`
(scoring/tco_services.py). GKE Autopilot bills the Pods' requests, not nodes: its site has
no compute line (scoring/tco.py asks `bills_pods`); the Pods requesting what
`usage.instances` nodes of the site's shape hold are priced instead
(scoring/autopilot_pods.py), on demand only. A missing row is a missing price, never $0.
"""

from __future__ import annotations

from collections.abc import Callable

from core.errors import PriceNotFoundError
from core.scenario import CloudSite, Usage

PLAN = {"aws": ("eks", "standard-support"), "azure": ("aks", "standard"),
        "gcp": ("gke", "standard")}
SERVICE = {"aws": "EKS", "azure": "AKS", "gcp": "GKE"}
SYSTEM_NODES = {"azure": 1}  # stacks/cloud/k8s_azure.py


def bills_pods(site: CloudSite) -> bool:
    """GKE Autopilot: the Pods' requests are billed, the nodes are not."""
    return site.kubernetes is not None and site.kubernetes.autoscaler == "autopilot"


def cluster_parts(site: CloudSite, usage: Usage, catalog, make: Callable[..., object],
                  term: str = "on-demand") -> tuple[list, list[str]]:
    """(components, missing prices) of `site`'s cluster; ([], []) for a VM site."""
    k8s = site.kubernetes
    if k8s is None:
        return [], []
    svc = SERVICE[site.provider]
    if bills_pods(site):
        return _autopilot(site, usage, catalog, make, term)
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


def _autopilot(site: CloudSite, usage: Usage, catalog, make: Callable[..., object],
               term: str) -> tuple[list, list[str]]:
    """Cluster fee and the production Pods' vCPU, memory and ephemeral storage."""
    from scoring.autopilot_pods import priced, production_pods

    out, missing = [], []
    if term != "on-demand":
        missing.append(f"gcp {site.region}: GKE Autopilot at term {term}: no Autopilot "
                       "commitment or Spot Pod price in the snapshot (on-demand only)")
    try:
        row = catalog.platform("gcp", site.region, "gke", "autopilot", "cluster_hour")
        out.append(make("GKE control plane (autopilot)", usage.hours_per_month,
                        "cluster-hours", row.usd_per_unit, row.provenance, "catalog",
                        "compute", row.as_published, confidence=row.confidence))
    except PriceNotFoundError as e:
        missing.append(str(e))
    from scoring.equivalents import site_compute_row

    try:  # the node shape the production Pods fill: an instance type or a `size:`
        node = site_compute_row(site, catalog)
    except PriceNotFoundError as e:
        return out, [*missing, str(e)]
    billed = production_pods(usage.instances, node.vcpus, node.memory_gib,
                             usage.hours_per_month)
    rows, miss = priced(catalog, site.region, billed)
    for label, qty, unit, r in rows:
        out.append(make(label, qty, unit, r.usd_per_unit, r.provenance, "catalog", "compute",
                        f"{billed.what} (scoring/data/autopilot_pods.yaml); {r.as_published}",
                        confidence=r.confidence))
    return out, missing + miss
