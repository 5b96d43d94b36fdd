"""What a cluster site adds to the campaign's own cost (bakeoff/campaign_cost.py).

Parts, each `(what, usd per hour over the site's campaign hours, source)`:

- control plane: the provider's cluster-hour price (scoring/data/pricing/platforms.csv:
  EKS standard support, AKS Standard tier, GKE Standard); the GKE free credit (one zonal
  or Autopilot cluster per billing account) is NOT applied: it is per account, and the
  site's cluster is regional;
- nodes: `min_nodes` of the site's instance type for the whole campaign, plus
  `max_nodes - min_nodes` for the hours the autoscaler may hold them: each k8s unit's
  run time plus the cluster autoscaler's default scale-down delay (10 min; Karpenter's
  NodePool consolidates after the same 600 s, stacks/cloud/k8s_karpenter_aws.py), as an
  average over the campaign hours (so rate x hours is that cost); AKS adds its system
  pool's node for the whole campaign;
- load balancer: the one a Service of type LoadBalancer makes (AKS: the cluster's own
  Standard Load Balancer, which also carries the nodes' outbound traffic), whole campaign;
- NAT: AWS's NAT gateway hour; GCP Cloud NAT per VM-hour for the nodes at most.

GKE Autopilot bills the Pods' requested vCPU, memory and ephemeral storage, not nodes: the
k8s units' Pods are priced instead (scoring/autopilot_pods.py; Cloud NAT as above, with
max_nodes as the most node VMs behind it). A missing row is a missing price, never $0.
"""

from __future__ import annotations

from core.errors import PriceNotFoundError
from core.scenario import Campaign, CloudSite

CLUSTER_OVERHEAD_H = 0.5  # a control plane and node pool: ~15 min to create, ~10 to delete
SCALE_DOWN_S = 600.0  # cluster autoscaler --scale-down-unneeded-time default (10 min)
SERVICE = {"aws": "EKS", "azure": "AKS", "gcp": "GKE"}
PLAN = {"aws": ("eks", "standard-support"), "azure": ("aks", "standard"),
        "gcp": ("gke", "standard")}
LB_ITEM = {"aws": "lb_hour", "azure": "lb_first_rules_hour", "gcp": "lb_first_rules_hour"}
SYSTEM_NODES = {"azure": 1}  # stacks/cloud/k8s_azure.py SYSTEM_NODES
GCP_NAT_VM_CAP = 32


def burst_hours(campaign: Campaign, hours: float) -> float:
    """Hours the nodes above min may run: every k8s unit plus the scale-down delay."""
    from bakeoff.campaign_cost import unit_seconds

    seconds = sum((unit_seconds(w) + SCALE_DOWN_S) * (w.repetitions or campaign.repetitions)
                  for w in campaign.workloads if w.name.startswith("k8s-"))
    return min(seconds / 3600.0, hours)


def cluster_parts(campaign: Campaign, site: CloudSite, catalog, itype: str,
                  hours: float) -> list[tuple[str, float, str]]:
    """The cluster's parts; raises PriceNotFoundError naming a missing price."""
    k8s = site.kubernetes
    assert k8s is not None
    if k8s.autoscaler == "autopilot":  # the Pods' requests, not nodes
        parts = _autopilot_parts(campaign, site, catalog, hours)
    else:
        parts = _node_parts(campaign, site, catalog, itype, hours)
    lb = _service(site, catalog, LB_ITEM[site.provider])
    parts.append((f"load balancer ({LB_ITEM[site.provider]}: {lb.as_published})",
                  lb.usd_per_unit, lb.provenance))
    if site.provider == "aws":
        nat = _service(site, catalog, "nat_hour")
        parts.append(("NAT gateway (private nodes' egress)", nat.usd_per_unit, nat.provenance))
    elif site.provider == "gcp":
        nat = _service(site, catalog, "nat_vm_hour")
        vms = min(k8s.max_nodes, GCP_NAT_VM_CAP)
        parts.append((f"Cloud NAT x{vms} node VMs at most (private nodes' egress)",
                      vms * nat.usd_per_unit, nat.provenance))
    return parts


def _node_parts(campaign: Campaign, site: CloudSite, catalog, itype: str,
                hours: float) -> list[tuple[str, float, str]]:
    """Control plane and nodes of a node-based cluster (every autoscaler but Autopilot)."""
    k8s = site.kubernetes
    assert k8s is not None
    svc = SERVICE[site.provider]
    service, plan = PLAN[site.provider]
    cp = catalog.platform(site.provider, site.region, service, plan, "cluster_hour")
    parts = [(f"{svc} control plane ({plan})", cp.usd_per_unit, cp.provenance)]
    rate, source = _node_rate(site, catalog, itype)
    parts.append((f"{itype} x{k8s.min_nodes} nodes (min_nodes, whole campaign)",
                  k8s.min_nodes * rate, source))
    extra = k8s.max_nodes - k8s.min_nodes
    burst = burst_hours(campaign, hours)
    if extra:
        who = " (Karpenter NodePool)" if k8s.autoscaler == "karpenter" else ""
        parts.append((f"{itype} x{extra} nodes above min{who} during the k8s units "
                      f"({burst:.3f} h of {hours:.3f} h, averaged)",
                      extra * rate * burst / hours if hours else 0.0, source))
    if SYSTEM_NODES.get(site.provider):
        n = SYSTEM_NODES[site.provider]
        parts.append((f"{itype} x{n} ({svc} system pool)", n * rate, source))
    return parts


def _autopilot_parts(campaign: Campaign, site: CloudSite, catalog,
                     hours: float) -> list[tuple[str, float, str]]:
    """Control plane and the k8s units' Pods (scoring/autopilot_pods.py, its assumptions in
    scoring/data/autopilot_pods.yaml), each averaged over the campaign hours; a missing
    row raises naming it and what was priced."""
    from bakeoff.campaign_cost import unit_seconds
    from scoring.autopilot_pods import campaign_pods, priced

    cp = catalog.platform(site.provider, site.region, "gke", "autopilot", "cluster_hour")
    parts = [("GKE control plane (autopilot)", cp.usd_per_unit, cp.provenance)]
    missing: list[str] = []
    for billed in campaign_pods(campaign, unit_seconds):
        rows, miss = priced(catalog, site.region, billed)
        missing += miss
        parts += [(f"{label}: {qty:.4f} {unit} x {row.usd_per_unit:g} ({billed.what}; "
                   f"averaged over {hours:.3f} h)",
                   qty * row.usd_per_unit / hours if hours else 0.0, row.provenance)
                  for label, qty, unit, row in rows]
    if missing:
        raise PriceNotFoundError(
            f"site {site.name}: " + "; ".join(missing) + " (priced: "
            + "; ".join(f"{p[0]} ${p[1]:.4f}/h" for p in parts) + ")")
    return parts


def _node_rate(site: CloudSite, catalog, itype: str) -> tuple[float, str]:
    """Nodes run on-demand (the node pools ask for no spot capacity); a price_override
    quoting on-demand for the site's type wins, as for its VMs."""
    ov = site.price_override
    quoted = ov.compute_rate("on-demand") if ov else None
    if quoted is not None and ov is not None:
        return quoted, f"price_override: {ov.reason}"
    row = catalog.compute(site.provider, site.region, itype)
    return row.ondemand_usd_per_hour, row.provenance


def _service(site: CloudSite, catalog, item: str):
    return catalog.service(site.provider, site.region, item)
