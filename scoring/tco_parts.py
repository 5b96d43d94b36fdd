"""The TCO parts beyond VM hours: disks as billed and the GCP sustained-use discount.

Each function returns components and the prices it could not find (named), so `tco` can list
every missing price of a scenario in one pass. Formulas and defaults: docs/pricing.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from core.disk_rule import PROVISIONED, plan_disk
from core.errors import PriceNotFoundError
from core.provider_facts import ProviderLimitError
from core.scenario import CloudSite, Usage
from scoring.catalog import Catalog
from scoring.catalog_csv import confidence_level

# The disk a site gets when it names none: the same defaults as the cloud programs
# (stacks/cloud/spec.py DEFAULT_DISK_TYPE), so the price is that of what is provisioned.
DEFAULT_VOLUME = {"aws": "gp3", "gcp": "pd-balanced", "azure": "premium-ssd"}
# Premium_ZRS bills at its own (higher) tier prices: priced only from premium-ssd-zrs rows.
VOLUME_ALIASES = {"Premium_LRS": "premium-ssd", "premium_lrs": "premium-ssd",
                  "Premium_ZRS": "premium-ssd-zrs", "PremiumV2_LRS": "premium-ssd-v2"}
RAW_TYPE = {"premium-ssd": "Premium_LRS", "premium-ssd-zrs": "Premium_ZRS"}
# Provisioned-IOPS types checked against the same limits as the programs (500 IOPS per GiB...)
PROVISIONED_RAW = {"premium-ssd-v2": "PremiumV2_LRS", "gp3": "gp3"}
# What a disk delivers and the size it needs: core/disk_rule.py, shared with the programs.
# GCP sustained-use discount: share of the base rate per quarter of the month used.
# Series and bands as cloud.google.com/compute/docs/sustained-use-discounts gives them
# (mirrored in Cyclenerd/google-cloud-pricing-cost-calculator build/pricing.pl).
SUD_BANDS = {"n1": (1, 0.8, 0.6, 0.4), "n2": (1, 0.8678, 0.733, 0.6)}
SUD_SERIES = {"n1": "n1", "f1": "n1", "g1": "n1", "m1": "n2", "m2": "n2", "n2": "n2",
              "n2d": "n2", "c2": "n2"}

Make = Callable[..., object]


def sud_multiplier(instance_type: str, hours: float, month_hours: float = 730) -> float | None:
    """Average share of the base rate for `hours` of use in a month; None when not eligible."""
    series = instance_type.split("-")[0]
    bands = SUD_BANDS.get(SUD_SERIES.get(series, ""))
    if bands is None or hours <= 0:
        return None
    used = min(1.0, hours / month_hours)
    paid = sum(b * max(0.0, min(used, (i + 1) / 4) - i / 4) for i, b in enumerate(bands))
    return paid / used


def volume_type(site: CloudSite) -> str:
    raw = site.disk_type or DEFAULT_VOLUME[site.provider]
    return VOLUME_ALIASES.get(raw, raw)


def disk_parts(site: CloudSite, usage: Usage, catalog: Catalog, make: Make
               ) -> tuple[list, list[str]]:
    """One volume of disk_gb per instance (+ usage.storage_gb as one more), billed per volume."""
    vol = volume_type(site)
    volumes = []
    if "disk_gb" in site.model_fields_set:  # the default 50 GB is a provisioning default only
        volumes.append((f"disk {vol} {site.disk_gb:g} GB x{usage.instances}", site.disk_gb,
                        site.disk_iops or 0, usage.instances))
    if usage.storage_gb > 0:
        volumes.append((f"block storage ({vol})", usage.storage_gb, usage.provisioned_iops, 1))
    ov = site.price_override
    out: list = []
    missing: list[str] = []
    for name, gb, iops, count in volumes:
        try:
            if ov is not None and ov.storage_usd_per_gb_month is not None:
                out.append(make(name.replace(f"({vol})", "").strip(), gb * count, "GB-month",
                                ov.storage_usd_per_gb_month, f"price_override: {ov.reason}",
                                "override", "storage"))
                if iops and ov.iops_usd_per_month is not None:
                    out.append(make("provisioned IOPS", iops * count, "IOPS-month",
                                    ov.iops_usd_per_month, f"price_override: {ov.reason}",
                                    "override", "iops", "override applied to every IOPS"))
                continue
            tiers = catalog.disk_tiers(site.provider, site.region, vol)
            if tiers or vol in RAW_TYPE:
                out += _tiered(site, vol, name, gb, iops, count, tiers, make)
            else:
                out += _per_gb(site, vol, name, gb, iops, count, catalog, make)
        except (PriceNotFoundError, ProviderLimitError) as e:
            missing.append(str(e))
    return out, missing


def _tiered(site: CloudSite, vol: str, name: str, gb: float, iops: int, count: int,
            tiers: list, make: Make) -> list:
    if not tiers:
        raise PriceNotFoundError(
            f"{site.provider} {site.region}: no block storage price: no {vol} disk tier prices "
            "in the snapshot (Azure bills Premium SSD per disk tier); give "
            "price_override.storage_usd_per_gb_month with a reason")
    plan = plan_disk(RAW_TYPE.get(vol, vol), gb, iops or None, site.disk_throughput_mbps)
    t = next((x for x in tiers if x.tier == plan.tier), None)
    if t is None:
        raise PriceNotFoundError(
            f"{site.provider} {site.region}: no {vol} price for tier {plan.tier} ({plan.note}) "
            f"in the snapshot (tiers priced: {', '.join(x.tier for x in tiers) or 'none'}); "
            "give price_override.storage_usd_per_gb_month with a reason")
    note = f"{plan.note}; billed per disk"
    return [make(f"{name} as {t.tier}", count, "disk-months", t.usd_per_month, t.provenance,
                 "catalog", "storage", note, confidence=t.confidence)]


def _per_gb(site: CloudSite, vol: str, name: str, gb: float, iops: int, count: int,
            catalog: Catalog, make: Make) -> list:
    row = catalog.storage(site.provider, site.region, vol)
    if vol in PROVISIONED_RAW:  # refuses what the program would refuse (core/disk_rule.py)
        plan_disk(PROVISIONED_RAW[vol], gb, iops or None, site.disk_throughput_mbps)
    size_note = ""
    if row.iops_model == "included_with_size":
        plan = plan_disk(vol, gb, iops or None, site.disk_throughput_mbps)
        if plan.size_gb > math.ceil(gb):
            size_note = f"{plan.note}; {iops} IOPS were asked"
            gb = plan.size_gb
    out = [make(name, gb * count, "GB-month", row.usd_per_gb_month, row.provenance, "catalog",
                "storage", size_note, confidence=row.confidence)]
    if iops and row.iops_model == "per_iops":
        assert row.iops_usd_per_month is not None
        free = row.iops_included or 0
        billable = max(0, iops - free)
        out.append(make(f"provisioned IOPS ({vol})", billable * count, "IOPS-month",
                        row.iops_usd_per_month, row.provenance, "catalog", "iops",
                        f"{iops} per volume x {count}, first {free} per volume included",
                        confidence=row.confidence))
    elif iops:
        out.append(make(f"provisioned IOPS ({vol})", iops * count, "IOPS-month", 0.0,
                        row.provenance, "catalog", "iops",
                        size_note or "not billed separately: performance scales with size",
                        confidence=row.confidence))
    mbps = site.disk_throughput_mbps or 0
    if mbps and row.throughput_usd_per_mbps_month is not None:
        free_m = row.throughput_included_mbps or 0
        out.append(make(f"provisioned throughput ({vol})", max(0, mbps - free_m) * count,
                        "MBps-month", row.throughput_usd_per_mbps_month, row.provenance,
                        "catalog", "iops", f"{mbps} MB/s per volume x {count}, first {free_m} "
                        "MB/s per volume included", confidence=row.confidence))
    elif vol in PROVISIONED_RAW and mbps > PROVISIONED[PROVISIONED_RAW[vol]][1]:
        # billed above the free baseline (gp3, Premium SSD v2): no rate is a missing price
        raise PriceNotFoundError(
            f"{site.provider} {site.region}: no provisioned throughput price for {vol} in "
            f"the snapshot (storage.csv throughput_usd_per_mbps_month), and disk_throughput_"
            f"mbps {mbps} is above the {PROVISIONED[PROVISIONED_RAW[vol]][1]} MB/s included; "
            "give price_override.storage_usd_per_gb_month with a reason")
    return out


def is_secondary(confidence: str | None) -> bool:
    return confidence_level(confidence) == "secondary"
