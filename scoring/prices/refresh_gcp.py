"""GCP prices from the Cloud Billing Catalog API (google-cloud-billing; API key or ADC).

Compute Engine publishes per-vCPU and per-GB-of-RAM SKUs per series and region; a machine
type's price is vCPUs x core price + GB x RAM price, for on-demand, Spot and 1y/3y resource
CUDs. Persistent disks, Cloud SQL for PostgreSQL (zonal and regional vCPU/RAM/storage) and
Premium-tier internet egress (every tier of the 'Network Internet Data Transfer Out from
<source> to Americas' SKU, the default destinations, and of the '... to China' and '... to
Australia' SKUs, priced apart) come from the same API.
"""

from __future__ import annotations

import os
import re
from typing import Any

from scoring.catalog_rows import CommitmentRow, ComputeRow, EgressTier, ManagedDbRow, StorageRow
from scoring.prices.common import ProviderResult, family_of, now_iso
from scoring.prices.snapshot import RefreshError

COMPUTE_SERVICE = "services/6F81-5844-456A"
CLOUDSQL_SERVICE = "services/9662-B51E-5089"
API = "Cloud Billing Catalog API"
CONFIDENCE = "provider_api"
# (series, class) -> {vCPUs: GB}, from Google's machine-type tables
_R = {"highcpu": 2, "standard": 4, "highmem": 8}
SHAPES: dict[tuple[str, str], dict[int, float]] = {
    **{(s, c): {n: n * r for n in (2, 4, 8, 16)} for s in ("c2d", "n4") for c, r in _R.items()},
    **{("c3", c): {n: n * r for n in (4, 8)} for c, r in _R.items()},
    **{("n2", c): {n: n * r for n in (2, 4, 8, 16)}
       for c, r in {"highcpu": 1, "standard": 4, "highmem": 8}.items()},
    ("c4", "highcpu"): {2: 4, 4: 8, 8: 16, 16: 32},
    ("c4", "standard"): {2: 7, 4: 15, 8: 30, 16: 60},
    ("c4", "highmem"): {2: 15, 4: 31, 8: 62, 16: 124},
    ("t2a", "standard"): {n: 4 * n for n in (1, 2, 4, 8, 16)},
    **{("c4a", c): {n: n * r for n in (1, 2, 4, 8, 16)} for c, r in _R.items()},
    # the rest of the series the shipped snapshot holds, so a refresh keeps today's picks
    **{("n2d", c): {n: n * r for n in (2, 4, 8, 16)}
       for c, r in {"highcpu": 1, "standard": 4, "highmem": 8}.items()},
    **{("c3d", c): {n: n * r for n in (4, 8, 16)} for c, r in _R.items()},
    **{("e2", c): {n: n * r for n in (2, 4, 8, 16)}
       for c, r in {"highcpu": 1, "standard": 4, "highmem": 8}.items()},
    ("n1", "standard"): {n: n * 3.75 for n in (1, 2, 4, 8, 16)},
    ("n1", "highcpu"): {n: n * 0.9 for n in (2, 4, 8, 16)},
    ("n1", "highmem"): {n: n * 6.5 for n in (2, 4, 8, 16)},
}
EXPECTED_KINDS = ("compute", "commitments", "storage", "managed_db", "egress")
_EGRESS = re.compile(r"^Network Internet Data Transfer Out from (?P<src>.+) "
                     r"to (?P<dest>Americas|China|Australia)$")
# the SKU to the Americas is priced as every destination but China and Australia (the default)
_DESTINATIONS = {"Americas": "default", "China": "china", "Australia": "australia"}
_UNIT = re.compile(r"^(?:Spot Preemptible )?(?P<series>[A-Z][A-Z0-9]*) (?:AMD |Arm |Intel )?"
                   r"(?:Predefined )?Instance (?P<res>Core|Ram) running in ")
_CUD = re.compile(r"^Commitment v1: (?P<series>[A-Z][A-Z0-9]*) (?:AMD |Arm |Intel )?"
                  r"(?P<res>Cpu|Ram) in ")
_TERMS = {"OnDemand": "od", "Preemptible": "spot", "Commit1Yr": "1y", "Commit3Yr": "3y"}
_DISKS = {"SSD backed PD Capacity": "pd-ssd", "Balanced PD Capacity": "pd-balanced",
          "Storage PD Capacity": "pd-standard"}
_SQL = re.compile(r"^Cloud SQL for PostgreSQL: (Zonal|Regional) - (vCPU|RAM|Standard storage) "
                  r"in ")


def unit_price(sku: Any) -> float:
    """The list rate: the first tier with a price. A SKU's tiers (startUsageAmount) are a free
    allowance at 0 and then volume steps; the last tier is a discount reached only at volume,
    so it is never the unit price. Non-USD SKUs are refused."""
    rates = sorted(sku.pricing_info[0].pricing_expression.tiered_rates,
                   key=lambda r: r.start_usage_amount)
    for r in rates:
        if r.unit_price.currency_code not in ("", "USD"):
            raise RefreshError(f"sku {sku.sku_id}: price in {r.unit_price.currency_code}, "
                               "not USD; refusing it")
        price = int(r.unit_price.units or 0) + r.unit_price.nanos / 1e9
        if price > 0:
            return price
    return 0.0


def list_skus(client: Any, service: str) -> list[Any]:
    return list(client.list_skus(request={"parent": service}, timeout=60, retry=None))


def _units(skus: list[Any], region: str) -> dict[tuple[str, str, str], tuple[float, str]]:
    """(series, 'cpu'|'ram', term) -> (price, sku id) for one region."""
    out: dict[tuple[str, str, str], tuple[float, str]] = {}
    for s in skus:
        if region not in s.service_regions:
            continue
        term = _TERMS.get(s.category.usage_type)
        m = _UNIT.match(s.description) or _CUD.match(s.description)
        if term is None or m is None:
            continue
        res = "cpu" if m["res"] in ("Core", "Cpu") else "ram"
        price = unit_price(s)
        if price > 0:  # an all-free SKU is an allowance, never a unit price
            out[(m["series"].lower(), res, term)] = (price, s.sku_id)
    return out


def compose(units: dict[tuple[str, str, str], tuple[float, str]], region: str, when: str,
            res: ProviderResult) -> None:
    for (series, cls), sizes in SHAPES.items():
        cpu, ram = units.get((series, "cpu", "od")), units.get((series, "ram", "od"))
        if cpu is None or ram is None:
            continue
        for n, gb in sizes.items():
            name = f"{series}-{cls}-{n}"
            od = n * cpu[0] + gb * ram[0]
            scpu, sram = units.get((series, "cpu", "spot")), units.get((series, "ram", "spot"))
            spot = n * scpu[0] + gb * sram[0] if scpu and sram else None
            src = f"{API}: {n} x core sku {cpu[1]} + {gb:g} GB x RAM sku {ram[1]}"
            res.add("compute", ComputeRow(
                provider="gcp", region=region, instance_type=name, family=family_of(cls),
                vcpus=n, memory_gib=gb, ondemand_usd_per_hour=round(od, 6),
                spot_usd_per_hour=round(spot, 6) if spot else None, source=src,
                source_date=when[:10], sku=f"{cpu[1]}+{ram[1]}", retrieved_at=when,
                confidence=CONFIDENCE, notes=f"{n} x {cpu[0]:g} + {gb:g} x {ram[0]:g} per hour"))
            for years in (1, 3):
                ccpu = units.get((series, "cpu", f"{years}y"))
                cram = units.get((series, "ram", f"{years}y"))
                if ccpu and cram:
                    res.add("commitments", CommitmentRow(
                        provider="gcp", region=region, instance_type=name, term_years=years,
                        payment="no_upfront",
                        effective_usd_per_hour=round(n * ccpu[0] + gb * cram[0], 6),
                        ondemand_usd_per_hour=round(od, 6),
                        source=f"{API}: CUD skus {ccpu[1]}+{cram[1]}", source_date=when[:10],
                        sku=f"{ccpu[1]}+{cram[1]}", retrieved_at=when, confidence=CONFIDENCE,
                        notes="resource-based CUD, billed monthly over the term"))


def _disks(skus: list[Any], region: str, when: str, res: ProviderResult) -> None:
    for s in skus:
        vol = _DISKS.get(s.description.split(" in ")[0])
        if vol and region in s.service_regions and s.category.usage_type == "OnDemand":
            res.add("storage", StorageRow(
                provider="gcp", region=region, volume_type=vol,
                usd_per_gb_month=unit_price(s), iops_model="included_with_size",
                source=f"{API}: sku {s.sku_id} ({s.description})", source_date=when[:10],
                sku=s.sku_id, retrieved_at=when, confidence=CONFIDENCE,
                notes="performance follows size"))


def _egress(skus: list[Any], region: str, when: str, res: ProviderResult) -> None:
    """Every tier of the region's internet egress SKUs to the Americas (the default
    destinations), China and Australia (startUsageAmount in GiB a month: 0, 1,024, 10,240 ->
    0.12, 0.11, 0.08 / 0.23, 0.22, 0.20 / 0.19, 0.18, 0.15 for us-central1). Each destination
    is its own SKU with its own tiers; a second SKU for the same destination is refused."""
    seen: dict[str, str] = {}
    for s in skus:
        m = _EGRESS.match(s.description)
        if not m or region not in s.service_regions or s.category.usage_type != "OnDemand":
            continue
        dest = _DESTINATIONS[m["dest"]]
        if dest in seen:
            raise RefreshError(f"gcp {region} egress to {m['dest']}: two SKUs ({seen[dest]}, "
                               f"{s.sku_id}); refusing to guess which one bills")
        seen[dest] = s.sku_id
        rates = sorted(s.pricing_info[0].pricing_expression.tiered_rates,
                       key=lambda r: r.start_usage_amount)
        for i, r in enumerate(rates):
            if r.unit_price.currency_code not in ("", "USD"):
                raise RefreshError(f"sku {s.sku_id}: price in {r.unit_price.currency_code}, "
                                   "not USD; refusing it")
            price = int(r.unit_price.units or 0) + r.unit_price.nanos / 1e9
            start = float(r.start_usage_amount)
            end = float(rates[i + 1].start_usage_amount) if i + 1 < len(rates) else None
            res.add("egress", EgressTier(
                provider="gcp", region_scope=region, destination=dest, tier_start_gb=start,
                tier_end_gb=end, usd_per_gb=price,
                tier_as_published=f"{s.description}, from {start:g} GiB"
                + (" (free)" if price == 0 else ""),
                source=f"{API}: sku {s.sku_id}", source_url="https://cloudbilling.googleapis.com",
                source_date=when[:10], sku=s.sku_id, retrieved_at=when, confidence=CONFIDENCE))
    lacking = sorted(set(_DESTINATIONS.values()) - set(seen))
    if seen and lacking:  # no egress at all is caught by the per-kind completeness check
        res.notes.append(f"gcp {region}: no internet egress SKU to {', '.join(lacking)}; "
                         "those destinations are carried from the previous snapshot")


def _cloudsql(skus: list[Any], region: str, when: str, res: ProviderResult) -> None:
    units: dict[tuple[bool, str], tuple[float, str]] = {}
    for s in skus:
        m = _SQL.match(s.description)
        if m and region in s.service_regions and s.category.usage_type == "OnDemand":
            units[(m[1] == "Regional", m[2])] = (unit_price(s), s.sku_id)
    for ha in (False, True):
        cpu, ram, disk = (units.get((ha, k)) for k in ("vCPU", "RAM", "Standard storage"))
        if not (cpu and ram):
            continue
        store = disk[0] if disk else None
        for name, price, sku in (("enterprise:per-vCPU-hour", cpu[0], cpu[1]),
                                 ("enterprise:per-GiB-RAM-hour", ram[0], ram[1])):
            res.add("managed_db", ManagedDbRow(
                provider="gcp", region=region, engine="postgresql", tier_or_instance=name,
                vcpus=1 if "vCPU" in name else None, memory_gib=1 if "RAM" in name else None,
                ha=ha, usd_per_hour=price, storage_usd_per_gb_month=store,
                source=f"{API}: Cloud SQL sku {sku}", source_date=when[:10], sku=sku,
                retrieved_at=when, confidence=CONFIDENCE,
                notes="unit price; db-custom-N-M = N x vCPU + M/1024 x RAM"))


def make_client(api_key: str | None = None) -> Any:
    try:
        from google.cloud import billing_v1
    except ImportError:
        raise RefreshError("google-cloud-billing is not installed (pip install "
                           "'cloud-bakeoff[prices]')") from None
    key = api_key or os.environ.get("GOOGLE_API_KEY")
    opts = {"api_key": key} if key else None
    return billing_v1.CloudCatalogClient(transport="rest", client_options=opts)


def fetch(regions: list[str], *, client: Any = None) -> ProviderResult:
    when = now_iso()
    res = ProviderResult("gcp", API, list(regions), when, expected=EXPECTED_KINDS)
    try:
        client = client or make_client()
        compute = list_skus(client, COMPUTE_SERVICE)
        sql = list_skus(client, CLOUDSQL_SERVICE)
    except RefreshError:
        raise
    except Exception as e:  # google-auth, api-core and requests each raise their own kinds
        raise RefreshError(_explain(e)) from None
    for region in regions:
        compose(_units(compute, region), region, when, res)
        _disks(compute, region, when, res)
        _egress(compute, region, when, res)
        _cloudsql(sql, region, when, res)
    res.notes.append("internet egress: Premium tier, per destination group (default = the "
                     "SKU to the Americas; China and Australia apart)")
    return res


def _explain(e: Exception) -> str:
    name = type(e).__name__
    if "DefaultCredentials" in name:
        return ("no Google credentials: set GOOGLE_API_KEY (an API key with the Cloud Billing "
                "API enabled) or application default credentials")
    return f"cannot read the Cloud Billing Catalog ({name}: {str(e)[:300]})"
