"""Network services as billed: load balancer, public IPv4, NAT, cross-AZ traffic, DB backup.

Each provider bills its load balancer differently (docs/pricing.md, "Load balancers"):

- AWS ALB: hours + LCU-hours, where the LCUs are the largest of data processed (1 GB per hour
  per LCU, EC2 targets), new connections (25/s per LCU) and active connections (3,000 per
  LCU), unless `usage.lb_capacity_units` states them. Its nodes hold one public IPv4 per zone,
  billed like any public IPv4 since February 2024.
- Azure Standard Load Balancer: the first-5-rules hourly price, then each rule beyond 5, plus
  data processed; one frontend public IPv4.
- GCP Cloud Load Balancing: the first-5-forwarding-rules hourly price, then each rule beyond 5,
  plus data processed; the forwarding rule's address is not charged (a $0 row with its source).
GCP Cloud NAT is billed per VM using it ($0.0014 per VM-hour, the gateway price above 32 VMs).
"""

from __future__ import annotations

from collections.abc import Callable

from core.errors import PriceNotFoundError
from core.provider_facts import provisioned_db_storage_gb
from core.scenario import CloudSite, Usage
from scoring.catalog import Catalog

Make = Callable[..., object]
# AWS ALB LCU dimensions (aws.amazon.com/elasticloadbalancing/pricing): one LCU is
LCU_GB_PER_HOUR = 1.0  # 1 GB processed per hour (EC2 instance and IP targets)
LCU_NEW_CONNECTIONS = 25.0  # 25 new connections per second
LCU_ACTIVE_CONNECTIONS = 3000.0  # 3,000 active connections (per minute)
FIRST_RULES = 5  # Azure and GCP: one hourly price covers the first 5 rules
GCP_NAT_VM_CAP = 32  # above 32 VMs the Cloud NAT gateway is billed at its flat hourly price
# Who holds the load balancer's public address(es), and which row prices them.
LB_IPV4_ITEM = {"aws": "public_ipv4_hour", "azure": "public_ipv4_hour", "gcp": "lb_ipv4_hour"}

Wanted = list[tuple[str, float, str, str, str]]  # item, quantity, name, unit, note


def _svc(site: CloudSite, catalog: Catalog, item: str, qty: float, name: str, unit: str,
         make: Make, note: str = "") -> object:
    ov = site.price_override
    if ov is not None and ov.services and item in ov.services:
        return make(name, qty, unit, ov.services[item], f"price_override: {ov.reason}",
                    "override", "network", note)
    row = catalog.service(site.provider, site.region, item)
    return make(name, qty, unit, row.usd_per_unit, row.provenance, "catalog", "network",
                "; ".join(x for x in (note, row.as_published) if x),
                confidence=row.confidence)


def lcus(usage: Usage, lb_gb: float) -> tuple[float, str]:
    """(LCUs, the arithmetic) for an AWS ALB: the largest dimension, or the stated figure."""
    if usage.lb_capacity_units is not None:
        return usage.lb_capacity_units, f"{usage.lb_capacity_units:g} LCU stated in the scenario"
    h = usage.hours_per_month
    dims = {"data processed": lb_gb / h / LCU_GB_PER_HOUR,
            "new connections": usage.lb_new_connections_per_s / LCU_NEW_CONNECTIONS,
            "active connections": usage.lb_active_connections / LCU_ACTIVE_CONNECTIONS}
    which = max(dims, key=lambda k: dims[k])
    text = (f"LCU = max({lb_gb:g} GB / {h:g} h / 1 GB/h = {dims['data processed']:.4f}, "
            f"{usage.lb_new_connections_per_s:g} new conn/s / 25 = "
            f"{dims['new connections']:.4f}, {usage.lb_active_connections:g} active / 3,000 = "
            f"{dims['active connections']:.4f}) = {dims[which]:.4f} ({which})")
    return dims[which], text


def _load_balancer(site: CloudSite, usage: Usage, lb_gb: float) -> Wanted:
    h = usage.hours_per_month
    p = site.provider
    out: Wanted = []
    if p == "aws":
        lcu, text = lcus(usage, lb_gb)
        out += [("lb_hour", h, "load balancer (ALB hours)", "hours", ""),
                ("lb_lcu_hour", h * lcu, "load balancer (ALB LCU-hours)", "LCU-hours",
                 f"{text}; x {h:g} h")]
    else:
        extra = max(0, usage.lb_rules - FIRST_RULES)
        kind = "rules" if p == "azure" else "forwarding rules"
        out.append(("lb_first_rules_hour", h, f"load balancer (first {FIRST_RULES} {kind})",
                    "hours", f"{usage.lb_rules} {kind}: the first {FIRST_RULES} share one "
                    "hourly price"))
        if extra:
            out.append(("lb_rule_hour", h * extra, f"load balancer ({kind} beyond "
                        f"{FIRST_RULES})", "rule-hours", f"{extra} rule(s) x {h:g} h"))
        out.append(("lb_data_gb", lb_gb, "load balancer (data processed)", "GB", ""))
    n_ip = max(1, len(site.zones)) if p == "aws" else 1
    holder = {"aws": "ALB node per zone", "azure": "LB frontend",
              "gcp": "forwarding rule address"}[p]
    out.append((LB_IPV4_ITEM[p], n_ip * h, f"public IPv4 of the load balancer x{n_ip}",
                "IP-hours", f"{n_ip} x {h:g} h ({holder})"))
    return out


def _nat(site: CloudSite, usage: Usage) -> Wanted:
    h = usage.hours_per_month
    out: Wanted = []
    n = usage.instances
    if site.provider == "gcp" and n <= GCP_NAT_VM_CAP:
        out.append(("nat_vm_hour", n * h, f"Cloud NAT x{n} VM(s)", "VM-hours",
                    f"billed per VM using the gateway: {n} VM x {h:g} h"))
    elif site.provider == "gcp":
        out.append(("nat_hour", h, "Cloud NAT (more than 32 VMs: flat hourly)", "hours",
                    f"{n} VMs > {GCP_NAT_VM_CAP}: the gateway's capped hourly price"))
    else:
        out.append(("nat_hour", h, "NAT gateway", "hours", ""))
    if usage.nat_data_gb_per_month:
        out.append(("nat_data_gb", usage.nat_data_gb_per_month, "NAT data processed", "GB",
                    ""))
    return out


def service_parts(site: CloudSite, usage: Usage, catalog: Catalog, make: Make
                  ) -> tuple[list, list[str]]:
    """Load balancer, public IPv4, NAT gateway, cross-AZ traffic, DB backup beyond free."""
    h = usage.hours_per_month
    lb_gb = usage.egress_gb_per_month if usage.lb_data_gb_per_month is None else \
        usage.lb_data_gb_per_month
    wanted: Wanted = []
    if usage.load_balancer:
        wanted += _load_balancer(site, usage, lb_gb)
    if usage.public_ipv4:
        wanted.append(("public_ipv4_hour", usage.public_ipv4 * h,
                       f"public IPv4 x{usage.public_ipv4}", "IP-hours",
                       "addresses besides the load balancer's"))
    if usage.nat_gateway:
        wanted += _nat(site, usage)
    if usage.cross_az_gb_per_month and site.database is not None:
        both = site.provider == "aws"
        wanted.append(("cross_az_gb", usage.cross_az_gb_per_month * (2 if both else 1),
                       "cross-AZ traffic app <-> DB primary", "GB",
                       "billed on both sides (out of one AZ, into the other)" if both else ""))
    if usage.db_backup_gb and site.database is not None:
        free = (float(provisioned_db_storage_gb(site.provider, site.database.storage_gb))
                if site.provider in ("aws", "azure") else 0.0)
        extra = max(0.0, usage.db_backup_gb - free)
        wanted.append(("db_backup_gb_month", extra, "DB backup storage beyond free", "GB-month",
                       f"{usage.db_backup_gb:g} GB kept, {free:g} GB free (= provisioned "
                       "storage)" if free else f"{usage.db_backup_gb:g} GB kept, no free "
                       "allowance"))
    out, missing = [], []
    for item, qty, name, unit, note in wanted:
        try:
            out.append(_svc(site, catalog, item, qty, name, unit, make, note))
        except PriceNotFoundError as e:
            missing.append(str(e))
    return out, missing
