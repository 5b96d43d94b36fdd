"""Azure prices from the public Retail Prices API (no credentials, paginated by NextPageLink).

Virtual machines, one query per size (armSkuName filter, so no region answer grows past the
page cap): Linux pay-as-you-go, Spot, 1y/3y reservations (paid upfront, and monthly at the same
total) and savings plans (Windows/RHEL/SUSE, Low Priority and DevTest meters dropped, 5-year
terms listed as skipped); Premium SSD managed disks
per tier, LRS and ZRS apart (the "Disk Mount" meter is another charge); Azure Database for
PostgreSQL Flexible Server vCore compute, its reserved capacity (per vCore, 1y/3y) and
storage; internet bandwidth tiers of the default
routing. Non-USD answers are refused; non-primary meter-region duplicates dropped
(scoring/prices/azure_items.py).
"""

from __future__ import annotations

import os
import re

import httpx

from scoring.catalog_rows import (
    CommitmentRow,
    ComputeRow,
    DiskTierRow,
    EgressTier,
    ManagedDbRow,
    StorageRow,
)
from scoring.db_commitments import DbCommitmentRow
from scoring.prices.azure_items import (
    TERM_YEARS,
    bandwidth_tiers,
    check_currency,
    is_linux_vm,
    primary_only,
    reservation_years,
)
from scoring.prices.common import HOURS_PER_MONTH, HOURS_PER_YEAR, ProviderResult, now_iso
from scoring.prices.snapshot import RefreshError

BASE_URL = "https://prices.azure.com/api/retail/prices"
API = "Azure Retail Prices API"
MAX_PAGES = 200
CONFIDENCE = "provider_api"
# series -> (family, GiB per vCPU); sizes 2/4/8/16 vCPU
SERIES = {"Fsv2": ("compute", 2), "Dsv5": ("general", 4), "Dpsv5": ("general", 4),
          "Esv5": ("memory", 8), "Dsv6": ("general", 4), "Dlsv5": ("compute", 2),
          "Dlsv6": ("compute", 2), "Dalsv6": ("compute", 2), "Falsv6": ("compute", 2),
          "Dasv6": ("general", 4), "Fasv6": ("general", 4), "Dpsv6": ("general", 4),
          "Esv6": ("memory", 8), "Easv6": ("memory", 8)}
EXPECTED_KINDS = ("compute", "commitments", "disk_tiers", "storage", "managed_db",
                  "db_commitments", "egress")
# Premium SSD tier -> max GiB (Azure managed disk sizes)
P_TIERS = {"P1": 4, "P2": 8, "P3": 16, "P4": 32, "P6": 64, "P10": 128, "P15": 256,
           "P20": 512, "P30": 1024, "P40": 2048, "P50": 4096, "P60": 8192, "P70": 16384,
           "P80": 32767}
# Flexible Server vCore series -> GiB per vCore
DB_SERIES = {"Ddsv5": ("GP_Standard_D{n}ds_v5", 4), "Edsv5": ("MO_Standard_E{n}ds_v5", 8)}


def _vm_name(series: str, n: int) -> str:
    """Fsv2, 4 -> Standard_F4s_v2; Dpsv5, 2 -> Standard_D2ps_v5."""
    m = re.fullmatch(r"([A-Z])([a-z]*)v(\d)", series)
    assert m, series
    return f"Standard_{m[1]}{n}{m[2]}_v{m[3]}"


def pages(client: httpx.Client, base_url: str, flt: str) -> list[dict]:
    """Every item of a filtered query, following NextPageLink (bounded)."""
    url: str | None = base_url
    params: dict[str, str] | None = {"$filter": flt, "api-version": "2023-01-01-preview"}
    items: list[dict] = []
    for _ in range(MAX_PAGES):
        if url is None:
            return items
        r = client.get(url, params=params)
        if r.status_code != 200:
            raise RefreshError(f"{url} answered HTTP {r.status_code}: {r.text[:200]}")
        body = r.json()
        items.extend(body.get("Items", []))
        url, params = body.get("NextPageLink"), None
    raise RefreshError(f"more than {MAX_PAGES} pages for {flt!r}; refusing a partial answer")


def query(client: httpx.Client, base: str, flt: str, what: str) -> list[dict]:
    """One filtered query, USD only, non-primary meter-region duplicates dropped."""
    items = pages(client, base, flt)
    check_currency(items, what)
    return primary_only(items)


def _vms(client: httpx.Client, base: str, region: str, res: ProviderResult, when: str) -> None:
    wanted = {_vm_name(s, n): (s, n) for s in SERIES for n in (2, 4, 8, 16)}
    items: list[dict] = []
    for name in wanted:
        items += query(client, base, f"serviceName eq 'Virtual Machines' and armRegionName eq "
                                     f"'{region}' and armSkuName eq '{name}' and priceType ne "
                                     "'DevTestConsumption'", f"azure {region} {name}")
    od: dict[str, dict] = {}
    spot: dict[str, float] = {}
    resv: list[dict] = []
    for it in items:
        name = it.get("armSkuName", "")
        if name not in wanted or not is_linux_vm(it) or it.get("unitPrice", 0) <= 0:
            continue
        if it["type"] == "Reservation":
            resv.append(it)
        elif it.get("skuName", "").endswith(" Spot"):
            spot[name] = it["retailPrice"]
        else:
            od[name] = it
    for name, it in sorted(od.items()):
        series, n = wanted[name]
        fam, ratio = SERIES[series]
        src = f"{API}: meterId {it['meterId']} ({it['productName']} / {it['skuName']})"
        res.add("compute", ComputeRow(
            provider="azure", region=region, instance_type=name, family=fam, vcpus=n,
            memory_gib=n * ratio, ondemand_usd_per_hour=it["retailPrice"],
            spot_usd_per_hour=spot.get(name), source=src, source_date=when[:10],
            sku=it.get("skuId"), retrieved_at=when, confidence=CONFIDENCE,
            notes=f"memory = {ratio} GiB per vCPU ({series} series)"))
    skipped = 0
    for it in resv:
        name = it["armSkuName"]
        if name not in od:
            continue
        years = reservation_years(it)
        if years is None:
            skipped += 1
            continue
        _reservation_rows(res, region, name, it, od[name]["retailPrice"], years, when)
    for name, it in sorted(od.items()):
        skipped += _savings_plan_rows(res, region, name, it, when)
    if skipped:
        res.notes.append(f"{region}: {skipped} 5-year reservation or savings-plan price(s) "
                         "skipped (the catalog holds 1- and 3-year terms)")


def _reservation_rows(res: ProviderResult, region: str, name: str, it: dict, od: float,
                      years: int, when: str) -> None:
    """A reservation's term price paid upfront (the fee kept, so the TCO shows it) and the
    same total paid monthly (Azure's monthly billing adds no charge)."""
    total, hours = it["retailPrice"], years * HOURS_PER_YEAR
    common = dict(provider="azure", region=region, instance_type=name, term_years=years,
                  effective_usd_per_hour=round(total / hours, 6), ondemand_usd_per_hour=od,
                  instrument="reservation",
                  source=f"{API}: meterId {it['meterId']} reservation {it['reservationTerm']}",
                  source_date=when[:10], sku=it.get("skuId"), retrieved_at=when,
                  confidence=CONFIDENCE)
    res.add("commitments", CommitmentRow(**common, payment="all_upfront", upfront_usd=total,
                                         notes=f"term price {total} / {hours} h"))
    res.add("commitments", CommitmentRow(
        **common, payment="no_upfront", notes=f"the same reservation paid in {12 * years} "
        f"monthly instalments (same total); {total} / {hours} h"))


def _savings_plan_rows(res: ProviderResult, region: str, name: str, od: dict,
                       when: str) -> int:
    """The savings-plan hourly rates of a size's Consumption item (its `savingsPlan` array,
    present with api-version 2023-01-01-preview). Returns the 5-year terms skipped."""
    skipped = 0
    for sp in od.get("savingsPlan") or []:
        years = TERM_YEARS.get(sp.get("term", ""))
        price = sp.get("unitPrice", sp.get("retailPrice"))
        if years is None or not price:
            skipped += 1
            continue
        res.add("commitments", CommitmentRow(
            provider="azure", region=region, instance_type=name, term_years=years,
            payment="no_upfront", instrument="savings_plan", effective_usd_per_hour=price,
            ondemand_usd_per_hour=od["retailPrice"],
            source=f"{API}: meterId {od['meterId']} savingsPlan {sp.get('term')}",
            source_date=when[:10], sku=od.get("skuId"), retrieved_at=when,
            confidence=CONFIDENCE, notes="savings plan for compute, hourly rate of this size"))
    return skipped


def _disks(client: httpx.Client, base: str, region: str, res: ProviderResult,
           when: str) -> None:
    items = query(client, base, f"serviceName eq 'Storage' and armRegionName eq '{region}' "
                                "and productName eq 'Premium SSD Managed Disks'",
                  f"azure {region} disks")
    for it in items:
        m = re.fullmatch(r"(P\d+) (LRS|ZRS)", it.get("skuName", ""))
        if not m or m[1] not in P_TIERS or it.get("unitOfMeasure") != "1/Month":
            continue
        if it.get("meterName") != f"{m[1]} {m[2]} Disk" or it.get("type") != "Consumption":
            continue  # "Disk Mount" (also per month), bursting, reservations: other charges
        res.add("disk_tiers", DiskTierRow(
            provider="azure", region=region,
            volume_type="premium-ssd" if m[2] == "LRS" else "premium-ssd-zrs", tier=m[1],
            max_gb=P_TIERS[m[1]], usd_per_month=it["retailPrice"],
            source=f"{API}: meterId {it['meterId']} ({it['meterName']})",
            source_date=when[:10], sku=it.get("skuId"), retrieved_at=when,
            confidence=CONFIDENCE, notes="billed per disk at the tier its size rounds up to"))


def _premium_v2(client: httpx.Client, base: str, region: str, res: ProviderResult,
                when: str) -> None:
    """Premium SSD v2: capacity per GiB-hour, IOPS and MB/s per hour, each tiered with a free
    first tier (tierMinimumUnits 0 at price 0, then 3,000 IOPS / 125 MB/s at the rate): the
    rate is the priced tier, and its start is what is included."""
    items = query(client, base, f"serviceName eq 'Storage' and armRegionName eq '{region}' "
                                "and productName eq 'Azure Premium SSD v2'",
                  f"azure {region} premium ssd v2")
    meters: dict[str, dict] = {}
    for it in items:
        if it.get("type") != "Consumption" or it.get("skuName") != "Premium LRS":
            continue
        name = it.get("meterName", "")
        if it.get("retailPrice", 0) > 0 and (name not in meters or it.get(
                "tierMinimumUnits", 0) < meters[name].get("tierMinimumUnits", 0)):
            meters[name] = it  # the first priced tier
    cap = meters.get("Premium LRS Provisioned Capacity")
    iops = meters.get("Premium LRS Provisioned IOPS")
    mbps = meters.get("Premium LRS Provisioned Throughput (MBps)")
    if cap is None or iops is None:
        return
    free_iops = int(iops.get("tierMinimumUnits", 0))
    res.add("storage", StorageRow(
        provider="azure", region=region, volume_type="premium-ssd-v2",
        usd_per_gb_month=round(cap["retailPrice"] * HOURS_PER_MONTH, 6),
        iops_model="per_iops", iops_usd_per_month=round(iops["retailPrice"] * HOURS_PER_MONTH, 6),
        iops_included=free_iops,
        throughput_usd_per_mbps_month=(round(mbps["retailPrice"] * HOURS_PER_MONTH, 6)
                                       if mbps else None),
        throughput_included_mbps=int(mbps.get("tierMinimumUnits", 0)) if mbps else None,
        source=f"{API}: meterIds {cap['meterId']} (capacity), {iops['meterId']} (IOPS)"
        + (f", {mbps['meterId']} (MB/s)" if mbps else ""),
        source_date=when[:10], sku=cap.get("skuId"), retrieved_at=when, confidence=CONFIDENCE,
        notes=f"hourly meters x {HOURS_PER_MONTH} h; first {free_iops} IOPS free"
        + (f", first {mbps.get('tierMinimumUnits', 0):g} MB/s free" if mbps
           else "; no throughput meter: MB/s above the baseline not priced")))


def _postgres(client: httpx.Client, base: str, region: str, res: ProviderResult,
              when: str) -> None:
    items = query(client, base, f"serviceName eq 'Azure Database for PostgreSQL' and "
                                f"armRegionName eq '{region}'", f"azure {region} postgres")
    vcore: dict[str, dict] = {}
    reserved: list[tuple[str, dict]] = []
    storage = None
    for it in items:
        prod, meter = it.get("productName", ""), it.get("meterName", "")
        m = re.search(r"(Ddsv5|Edsv5) Series Compute", prod)
        if "Flexible Server" in prod and m and meter == "vCore" and it.get(
                "type") == "Reservation":
            reserved.append((m[1], it))
        if "Flexible Server" not in prod or it.get("type") != "Consumption":
            continue
        if m and meter == "vCore" and it.get("unitOfMeasure") == "1 Hour":
            vcore[m[1]] = it
        elif "Storage" in prod and meter == "Storage Data Stored":
            storage = it
    for series, it in vcore.items():
        pattern, ratio = DB_SERIES[series]
        for n in (2, 4, 8):
            for ha in (False, True):
                mult = 2 if ha else 1
                res.add("managed_db", ManagedDbRow(
                    provider="azure", region=region, engine="postgresql",
                    tier_or_instance=pattern.format(n=n), vcpus=n, memory_gib=n * ratio,
                    ha=ha, usd_per_hour=round(mult * n * it["retailPrice"], 6),
                    storage_usd_per_gb_month=(mult * storage["retailPrice"]) if storage
                    else None,
                    source=f"{API}: meterId {it['meterId']} (vCore)"
                    + (f", storage meterId {storage['meterId']}" if storage else ""),
                    source_date=when[:10], sku=it.get("skuId"), retrieved_at=when,
                    confidence=CONFIDENCE,
                    notes=f"{n} vCores x {it['retailPrice']}/vCore-hour"
                    + ("; zone-redundant HA bills the standby like the primary (x2)"
                       if ha else "")))
    skipped = sum(_db_reservation_rows(res, region, series, it, vcore, when)
                  for series, it in reserved)
    if skipped:
        res.notes.append(f"{region}: {skipped} 5-year PostgreSQL reserved-capacity price(s) "
                         "skipped (the catalog holds 1- and 3-year terms)")


def _db_reservation_rows(res: ProviderResult, region: str, series: str, it: dict,
                         vcore: dict[str, dict], when: str) -> int:
    """Flexible Server reserved capacity is bought per vCore: the item's price is one vCore
    for the whole term (like a VM reservation's, the term's total), so a class costs
    vCores x price / term hours, and zone-redundant HA reserves the standby's vCores too
    (x2, as billed on demand). Paid upfront (the fee kept) or monthly at the same total.
    Returns 1 for a 5-year term (skipped), else 0."""
    years = reservation_years(it)
    if years is None:
        return 1
    pattern = DB_SERIES[series][0]
    od = vcore.get(series)
    hours = years * HOURS_PER_YEAR
    for n in (2, 4, 8):
        for ha in (False, True):
            vcores = n * (2 if ha else 1)
            total = round(vcores * it["retailPrice"], 6)
            common = dict(
                provider="azure", region=region, instance=pattern.format(n=n), ha=ha,
                term_years=years, effective_usd_per_hour=round(total / hours, 6),
                ondemand_usd_per_hour=round(vcores * od["retailPrice"], 6) if od else None,
                source=f"{API}: meterId {it['meterId']} (vCore reservation "
                       f"{it['reservationTerm']})", source_date=when[:10],
                sku=it.get("skuId"), retrieved_at=when, confidence=CONFIDENCE)
            what = (f"{vcores} vCores x {it['retailPrice']} per vCore for "
                    f"{it['reservationTerm']} = {total} / {hours} h"
                    + (" (zone-redundant HA: the standby's vCores reserved too)" if ha else ""))
            res.add("db_commitments", DbCommitmentRow(**common, payment="all_upfront",
                                                      upfront_usd=total, notes=what))
            res.add("db_commitments", DbCommitmentRow(
                **common, payment="no_upfront",
                notes=f"{what}, paid in {12 * years} monthly instalments (same total)"))
    return 0


def _bandwidth(client: httpx.Client, base: str, region: str, res: ProviderResult,
               when: str) -> None:
    items = query(client, base, f"serviceName eq 'Bandwidth' and armRegionName eq '{region}' "
                                "and meterName eq 'Standard Data Transfer Out'",
                  f"azure {region} bandwidth")
    tiers = bandwidth_tiers(items, region)
    for i, it in enumerate(tiers):
        start = float(it.get("tierMinimumUnits", 0))
        end = float(tiers[i + 1]["tierMinimumUnits"]) if i + 1 < len(tiers) else None
        price = it["retailPrice"]
        res.add("egress", EgressTier(
            provider="azure", region_scope=region, destination="all", tier_start_gb=start,
            tier_end_gb=end,
            usd_per_gb=price, tier_as_published=f"{it.get('productName', '')} from "
            f"{start:g} GB" + (" (free)" if price == 0 else ""),
            source=f"{API}: meterId {it['meterId']}", source_url=BASE_URL,
            source_date=when[:10], sku=it.get("skuId"), retrieved_at=when,
            confidence=CONFIDENCE))


def fetch(regions: list[str], *, base_url: str | None = None,
          transport: httpx.BaseTransport | None = None) -> ProviderResult:
    base_url = base_url or os.environ.get("BAKEOFF_AZURE_PRICES_URL", BASE_URL)
    when = now_iso()
    res = ProviderResult("azure", f"{API} ({base_url})", list(regions), when,
                         expected=EXPECTED_KINDS)
    try:
        with httpx.Client(timeout=30, transport=transport, follow_redirects=True) as c:
            for region in regions:
                _vms(c, base_url, region, res, when)
                _disks(c, base_url, region, res, when)
                _premium_v2(c, base_url, region, res, when)
                _postgres(c, base_url, region, res, when)
                _bandwidth(c, base_url, region, res, when)
    except httpx.HTTPError as e:
        raise RefreshError(f"cannot reach the Azure Retail Prices API at {base_url} "
                           f"({type(e).__name__}: {e})") from None
    except (KeyError, ValueError, TypeError) as e:
        raise RefreshError(f"unexpected Retail Prices item shape ({e!r})") from None
    if not any(r.volume_type == "premium-ssd" for r in res.rows.get("disk_tiers", [])):
        res.notes.append("no Premium SSD disk tiers in the answer")
    return res
