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


MGN = ((0, 0.0), (100, 0.087), (10240, 0.083), (51200, 0.07), (153600, 0.05))
BANDWIDTH = (_bw("Rtn Preference: MGN", MGN) + _bw("Rtn Preference: MGN", MGN, primary=False)
             + _bw("Rtn Preference: Internet", ((0, 0.0), (100, 0.08), (10240, 0.065),
                                                 (51200, 0.06), (153600, 0.04))))


def page(items: list[dict], next_link: str | None) -> dict:
    return {"BillingCurrency": "USD", "CustomerEntityId": "Default",
            "CustomerEntityType": "Retail", "Items": items, "NextPageLink": next_link,
            "Count": len(items)}


def strict_route(vms: dict[str, list[dict]] | None = None):
    """A fake that answers like the API and refuses what a careful client must not send: VM
    queries without an armSkuName filter (an eastus answer would pass the 200-page cap) or
    without the region, and any query for another region."""
    vms = VMS if vms is None else vms

    def route(path: str, q: dict, base: str) -> dict | tuple[int, dict]:
        flt = q.get("$filter", [""])[0]
        if path.endswith("/page2"):
            sku = q.get("sku", [""])[0]
            return page(vms.get(sku, [])[4:], None)
        if f"armRegionName eq '{REGION}'" not in flt:
            return 400, {"Error": {"Message": f"this fake only knows {REGION}: {flt}"}}
        if "serviceName eq 'Virtual Machines'" in flt:
            m = re.search(r"armSkuName eq '([^']+)'", flt)
            if not m:
                return 400, {"Error": {"Message": "VM query without armSkuName: refused"}}
            rows = vms.get(m[1], [])
            if len(rows) > 4:  # the rest on a second page, as the API pages
                return page(rows[:4], f"{base}/api/retail/prices/page2?sku={m[1]}")
            return page(rows, None)
        if "Azure Premium SSD v2" in flt:
            return page(V2, None)
        if "Premium SSD Managed Disks" in flt:
            return page(DISKS, None)
        if "PostgreSQL" in flt:
            return page(PG, None)
        if "serviceName eq 'Bandwidth'" in flt:
            return page(BANDWIDTH, None)
        return page([], None)

    return route
