"""Azure Retail Prices answers in the documented shape, with the noise real answers carry.

Built from the documented item schema (learn.microsoft.com/rest/api/cost-management/
retail-prices/azure-retail-prices, read 2026-12) and a recorded Premium SSD v2 answer's
layout (tierMinimumUnits 0 at price 0, then the priced tier; isPrimaryMeterRegion), NOT from
what the parser expects: every documented field is present, prices are eastus list prices.
Noise: Windows and RHEL products, Low Priority and Spot meters, DevTestConsumption, 1/3/5-year
reservations, non-primary meter-region duplicates, a second page (NextPageLink), a per-month
"Disk Mount" meter, ZRS tiers, a disk reservation, and a second (routing-preference Internet)
bandwidth product.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

REGION, LOCATION = "eastus", "US East"


def item(meter: str, price: float, *, product: str, sku: str, service: str,
         unit: str = "1 Hour", type_: str = "Consumption", arm_sku: str = "",
         term: str | None = None, tier: float = 0.0, primary: bool = True,
         currency: str = "USD", meter_id: str | None = None) -> dict:
    """One item with every documented field, in the API's own key order."""
    mid = meter_id or f"{abs(hash((meter, product, sku))) % 10**12:012d}-meter"
    out = {"currencyCode": currency, "tierMinimumUnits": tier, "retailPrice": price,
           "unitPrice": price, "armRegionName": REGION, "location": LOCATION,
           "effectiveStartDate": "2025-10-01T00:00:00Z", "meterId": mid,
           "meterName": meter, "productId": f"DZH318Z0{abs(hash(product)) % 9999:04d}",
           "skuId": f"DZH318Z0{abs(hash(product)) % 9999:04d}/{abs(hash(sku)) % 999:03d}",
           "productName": product, "skuName": sku, "serviceName": service,
           "serviceId": "DZH313Z7MMC8", "serviceFamily": "Compute" if service ==
           "Virtual Machines" else "Storage" if service == "Storage" else "Networking",
           "unitOfMeasure": unit, "type": type_, "isPrimaryMeterRegion": primary,
           "armSkuName": arm_sku}
    if term:
        out["reservationTerm"] = term
    return out


def vm(arm_sku: str, meter: str, series: str, od: float, *, spot: float | None = None,
       windows: float | None = None, reservations: dict[str, float] | None = None) -> list[dict]:
    product = f"Virtual Machines {series} Series"
    rows = [item(meter, od, product=product, sku=meter, service="Virtual Machines",
                 arm_sku=arm_sku, meter_id=f"{arm_sku}-od"),
            # the same meter listed again for a non-primary region: a duplicate
            item(meter, od, product=product, sku=meter, service="Virtual Machines",
                 arm_sku=arm_sku, meter_id=f"{arm_sku}-od", primary=False)]
    if windows:
        rows.append(item(meter, windows, product=f"{product} Windows", sku=meter,
                         service="Virtual Machines", arm_sku=arm_sku))
        rows.append(item(meter, windows + 0.06, product=f"{product} RHEL", sku=meter,
                         service="Virtual Machines", arm_sku=arm_sku))
    if spot:
        rows.append(item(f"{meter} Spot", spot, product=product, sku=f"{meter} Spot",
                         service="Virtual Machines", arm_sku=arm_sku))
        rows.append(item(f"{meter} Low Priority", spot * 0.8, product=product,
                         sku=f"{meter} Low Priority", service="Virtual Machines",
                         arm_sku=arm_sku))
        rows.append(item(meter, round(od * 0.7, 4), product=product, sku=meter,
                         service="Virtual Machines", arm_sku=arm_sku,
                         type_="DevTestConsumption"))
    for term, price in (reservations or {}).items():
        rows.append(item(meter, price, product=product, sku=meter, service="Virtual Machines",
                         arm_sku=arm_sku, type_="Reservation", term=term))
    return rows


VMS = {
    "Standard_F4s_v2": vm("Standard_F4s_v2", "F4s v2", "FSv2", 0.169, spot=0.0421,
                          windows=0.353, reservations={"1 Year": 876.0, "3 Years": 1752.0,
                                                       "5 Years": 2628.0}),
    "Standard_D4ls_v6": vm("Standard_D4ls_v6", "D4ls v6", "Dlsv6", 0.179),
}

DISKS = [
    item("P10 LRS Disk", 19.71, product="Premium SSD Managed Disks", sku="P10 LRS",
         service="Storage", unit="1/Month"),
    # a per-month meter that is NOT the disk price (a disk attached to a stopped VM)
    item("P10 LRS Disk Mount", 1.23, product="Premium SSD Managed Disks", sku="P10 LRS",
         service="Storage", unit="1/Month"),
    item("P10 ZRS Disk", 29.57, product="Premium SSD Managed Disks", sku="P10 ZRS",
         service="Storage", unit="1/Month"),
    item("P30 LRS Disk", 135.17, product="Premium SSD Managed Disks", sku="P30 LRS",
         service="Storage", unit="1/Month"),
    item("P30 LRS Disk", 1459.0, product="Premium SSD Managed Disks", sku="P30 LRS",
         service="Storage", unit="1/Month", type_="Reservation", term="1 Year"),
    item("P30 LRS Disk", 135.17, product="Premium SSD Managed Disks", sku="P30 LRS",
         service="Storage", unit="1/Month", primary=False),
]

# Premium SSD v2: hourly meters, each tiered with a free first tier, in the layout of a
# recorded UK West answer (tierMinimumUnits 0 at 0, then the rate from 3,000 IOPS / 125 MB/s).
# The USD values are illustrative (no stored eastus copy): the test checks the arithmetic.
V2 = [
    item("Premium LRS Provisioned Capacity", 0.000112, product="Azure Premium SSD v2",
         sku="Premium LRS", service="Storage", unit="1 GiB/Hour"),
    item("Premium LRS Provisioned IOPS", 0.0, product="Azure Premium SSD v2",
         sku="Premium LRS", service="Storage", unit="1/Hour", meter_id="v2-iops"),
    item("Premium LRS Provisioned IOPS", 0.0000068, product="Azure Premium SSD v2",
         sku="Premium LRS", service="Storage", unit="1/Hour", tier=3000, meter_id="v2-iops"),
    item("Premium LRS Provisioned Throughput (MBps)", 0.0, product="Azure Premium SSD v2",
         sku="Premium LRS", service="Storage", unit="1/Hour", meter_id="v2-mbps"),
    item("Premium LRS Provisioned Throughput (MBps)", 0.000055, product="Azure Premium SSD v2",
         sku="Premium LRS", service="Storage", unit="1/Hour", tier=125, meter_id="v2-mbps"),
]

PG = [
    item("vCore", 0.089, product="Azure Database for PostgreSQL Flexible Server General "
         "Purpose Ddsv5 Series Compute", sku="vCore", service="Azure Database for PostgreSQL"),
    item("vCore", 467.0, product="Azure Database for PostgreSQL Flexible Server General "
         "Purpose Ddsv5 Series Compute", sku="vCore", service="Azure Database for PostgreSQL",
         type_="Reservation", term="1 Year"),
    item("Storage Data Stored", 0.115, product="Az DB for PostgreSQL Flexible Server Storage",
         sku="Storage", service="Azure Database for PostgreSQL", unit="1 GB/Month"),
]


def _bw(product: str, tiers: tuple[tuple[float, float], ...], primary: bool = True) -> list:
    return [item("Standard Data Transfer Out", p, product=product, sku="Standard",
                 service="Bandwidth", unit="1 GB", tier=t, primary=primary,
                 meter_id=f"{product}-{t:g}") for t, p in tiers]


# Internet egress as the API lists it (tierMinimumUnits, retailPrice): the default route
# "Rtn Preference: MGN" starts its tiers at 100, 10,335, 51,295, 153,695 and 512,095 GB (the
# last two both $0.05); the opt-in "Bandwidth - Routing Preference: Internet" product at 100,
# 10,100, 50,100 and 150,100. Not TB x 1,000 or x 1,024: read in mooncitizen/togen @8b82e558
# internal/resolve/azure/cost_test.go and two other projects' Retail Prices fixtures
# (scoring/data/pricing/PROVENANCE.md, egress.csv). tests/test_azure_egress_tiers.py checks
# these starts and the shipped catalog's against each other.
MGN = ((0, 0.0), (100, 0.087), (10335, 0.083), (51295, 0.07), (153695, 0.05), (512095, 0.05))
ROUTING_INTERNET = ((0, 0.0), (100, 0.08), (10100, 0.065), (50100, 0.06), (150100, 0.04))
BANDWIDTH = (_bw("Rtn Preference: MGN", MGN) + _bw("Rtn Preference: MGN", MGN, primary=False)
             + _bw("Bandwidth - Routing Preference: Internet", ROUTING_INTERNET))


def page(items: list[dict], next_link: str | None) -> dict:
    return {"BillingCurrency": "USD", "CustomerEntityId": "Default",
            "CustomerEntityType": "Retail", "Items": items, "NextPageLink": next_link,
            "Count": len(items)}


# Meters the real answers also hold under the services queried, which only a filter keeps
# out: Bandwidth's other meters of the same products, a Standard HDD disk, a PostgreSQL
# meter of another product. A client that drops a filter clause gets them.
OTHER_METERS = [
    item("Standard Data Transfer In", 0.0, product="Rtn Preference: MGN", sku="Standard",
         service="Bandwidth", unit="1 GB"),
    item("Standard Inter-Region Data Transfer", 0.02, product="Rtn Preference: MGN",
         sku="Standard", service="Bandwidth", unit="1 GB"),
    item("Standard Inter-Availability Zone Data Transfer Out", 0.01,
         product="Rtn Preference: MGN", sku="Standard", service="Bandwidth", unit="1 GB"),
    item("S10 LRS Disk", 5.89, product="Standard HDD Managed Disks", sku="S10 LRS",
         service="Storage", unit="1/Month"),
    item("Backup Storage LRS Data Stored", 0.095, product="Azure Database for PostgreSQL "
         "Flexible Server Backup Storage", sku="Backup Storage LRS",
         service="Azure Database for PostgreSQL", unit="1 GB/Month"),
]
# $filter field -> item field (the API filters the item's `type` as `priceType`)
_FIELDS = {"priceType": "type"}
_CLAUSE = re.compile(r"^(\w+) (eq|ne) '([^']*)'$")
PAGE_SIZE = 4  # small, so a VM answer runs onto a second page as long answers do


def odata_filter(flt: str) -> list[tuple[str, str, str]] | str:
    """The clauses of a $filter of `field eq|ne 'value'` joined by ` and ` (all the refresh
    sends), or the error the API gives for anything else."""
    clauses = []
    for part in flt.split(" and "):
        m = _CLAUSE.fullmatch(part.strip())
        if not m:
            return f"Invalid OData filter near {part!r}"
        clauses.append((_FIELDS.get(m[1], m[1]), m[2], m[3]))
    return clauses


def strict_route(vms: dict[str, list[dict]] | None = None, extra: list[dict] | None = None):
    """A fake that answers like the API: every clause of the $filter applied to every item
    (OTHER_METERS included), answers paged with a NextPageLink. It also refuses what a
    careful client must not send: a query without the region, for another region, and VM
    queries without an armSkuName filter (an eastus answer would pass the 200-page cap).
    `extra` items join the answerable ones (a test's own noise)."""
    vms = VMS if vms is None else vms
    everything = ([i for rows in vms.values() for i in rows] + DISKS + V2 + PG + BANDWIDTH
                  + OTHER_METERS + list(extra or []))

    def route(path: str, q: dict, base: str) -> dict | tuple[int, dict]:
        flt = q.get("$filter", [""])[0]
        clauses = odata_filter(flt)
        if isinstance(clauses, str):
            return 400, {"Error": {"Code": "BadRequest", "Message": clauses}}
        region = [v for f, op, v in clauses if f == "armRegionName" and op == "eq"]
        if region != [REGION]:
            return 400, {"Error": {"Message": f"this fake only knows {REGION}: {flt}"}}
        names = {f for f, _, _ in clauses}
        if ("serviceName", "eq", "Virtual Machines") in clauses and "armSkuName" not in names:
            return 400, {"Error": {"Message": "VM query without armSkuName: refused"}}
        rows = [it for it in everything
                if all((str(it.get(f)) == v) == (op == "eq") for f, op, v in clauses)]
        skip = int(q.get("$skip", ["0"])[0])
        rest = rows[skip + PAGE_SIZE:]
        link = (f"{base}/api/retail/prices/page2?{urlencode({'$filter': flt})}"
                f"&$skip={skip + PAGE_SIZE}") if rest else None
        return page(rows[skip:skip + PAGE_SIZE], link)

    return route
