"""Azure refresh against recorded Retail Prices pages served on loopback (NextPageLink paging)."""

from __future__ import annotations

import pytest

from scoring.prices import refresh_azure
from scoring.prices.snapshot import RefreshError
from tests.prices_support import json_server


def _vm(sku: str, price: float, *, sku_name: str | None = None, product: str = "Virtual "
        "Machines FSv2 Series", type_: str = "Consumption", term: str | None = None,
        meter: str = "F4s v2") -> dict:
    item = {"currencyCode": "USD", "retailPrice": price, "unitPrice": price,
            "armRegionName": "eastus", "meterId": f"m-{sku}-{type_}-{sku_name}",
            "meterName": meter, "productName": product, "skuName": sku_name or meter,
            "skuId": f"DZH318Z0BQ4L/{sku}", "serviceName": "Virtual Machines",
            "unitOfMeasure": "1 Hour", "type": type_, "armSkuName": sku}
    if term:
        item["reservationTerm"] = term
        item["unitOfMeasure"] = "1 Hour"
    return item


VM_PAGE_1 = [
    _vm("Standard_F4s_v2", 0.169),
    _vm("Standard_F4s_v2", 0.353, product="Virtual Machines FSv2 Series Windows"),
    _vm("Standard_F4s_v2", 0.0338, sku_name="F4s v2 Low Priority", meter="F4s v2 Low Priority"),
]
VM_PAGE_2 = [
    _vm("Standard_F4s_v2", 0.0421, sku_name="F4s v2 Spot"),
    _vm("Standard_F4s_v2", 0.12, type_="DevTestConsumption"),
    _vm("Standard_F4s_v2", 876.0, type_="Reservation", term="1 Year"),
    _vm("Standard_F4s_v2", 1752.0, type_="Reservation", term="3 Years"),
    _vm("Standard_NC6", 0.9),  # not a wanted series
]
DISKS = [{"retailPrice": 19.71, "unitPrice": 19.71, "meterId": "d10", "meterName": "P10 LRS Disk",
          "skuName": "P10 LRS", "skuId": "s/p10", "productName": "Premium SSD Managed Disks",
          "unitOfMeasure": "1/Month", "type": "Consumption"},
         {"retailPrice": 0.0, "unitPrice": 0.0, "meterId": "b10",
          "meterName": "P10 LRS Disk Mount", "skuName": "P10 LRS", "skuId": "s/p10m",
          "productName": "Premium SSD Managed Disks", "unitOfMeasure": "1/Hour",
          "type": "Consumption"}]
PG = [{"retailPrice": 0.0890, "unitPrice": 0.0890, "meterId": "pg1", "meterName": "vCore",
       "productName": "Azure Database for PostgreSQL Flexible Server General Purpose Ddsv5 "
       "Series Compute", "skuName": "vCore", "skuId": "s/pg", "unitOfMeasure": "1 Hour",
       "type": "Consumption"},
      {"retailPrice": 0.115, "unitPrice": 0.115, "meterId": "pgs",
       "meterName": "Storage Data Stored",
       "productName": "Az DB for PostgreSQL Flexible Server Storage", "skuName": "Storage",
       "skuId": "s/pgs", "unitOfMeasure": "1 GB/Month", "type": "Consumption"}]
BW = [{"retailPrice": p, "unitPrice": p, "tierMinimumUnits": t, "meterId": f"bw{t}",
       "meterName": "Standard Data Transfer Out", "productName": "Rtn Preference: MGN",
       "skuId": "s/bw", "unitOfMeasure": "1 GB", "type": "Consumption"}
      for t, p in ((0, 0.0), (100, 0.087), (10240, 0.083), (51200, 0.07), (153600, 0.05))]


def route(path: str, q: dict, base: str) -> dict:
    if path.endswith("/page2"):
        return {"Items": VM_PAGE_2, "NextPageLink": None}
    flt = q.get("$filter", [""])[0]
    if "Virtual Machines" in flt:
        return {"Items": VM_PAGE_1, "NextPageLink": f"{base}/api/retail/prices/page2"}
    if "Managed Disks" in flt:
        return {"Items": DISKS, "NextPageLink": None}
    if "PostgreSQL" in flt:
        return {"Items": PG, "NextPageLink": None}
    if "Bandwidth" in flt:
        return {"Items": BW, "NextPageLink": None}
    return {"Items": [], "NextPageLink": None}


def test_azure_pages_filters_and_terms():
    with json_server(route) as (base, log):
        res = refresh_azure.fetch(["eastus"], base_url=f"{base}/api/retail/prices")
    assert any(p.endswith("/page2") for p in log), "NextPageLink was not followed"
    (vm,) = res.rows["compute"]  # Windows, Low Priority, DevTest and NC6 dropped
    assert (vm.instance_type, vm.ondemand_usd_per_hour, vm.spot_usd_per_hour) == (
        "Standard_F4s_v2", 0.169, 0.0421)
    assert (vm.vcpus, vm.memory_gib, vm.family) == (4, 8, "compute")
    assert vm.sku and vm.retrieved_at and vm.confidence == "provider_api"
    terms = {c.term_years: c.effective_usd_per_hour for c in res.rows["commitments"]}
    assert terms == {1: pytest.approx(876 / 8760, abs=1e-6),
                     3: pytest.approx(1752 / 26280, abs=1e-6)}
    (p10,) = res.rows["disk_tiers"]
    assert (p10.tier, p10.max_gb, p10.usd_per_month) == ("P10", 128, 19.71)
    db = {(r.tier_or_instance, r.ha): r for r in res.rows["managed_db"]}
    assert db[("GP_Standard_D2ds_v5", False)].usd_per_hour == pytest.approx(2 * 0.089)
    assert db[("GP_Standard_D2ds_v5", True)].usd_per_hour == pytest.approx(4 * 0.089)
    assert db[("GP_Standard_D2ds_v5", True)].storage_usd_per_gb_month == pytest.approx(0.23)
    assert db[("GP_Standard_D2ds_v5", False)].memory_gib == 8
    eg = [(t.tier_start_gb, t.tier_end_gb, t.usd_per_gb) for t in res.rows["egress"]]
    assert eg[0] == (0, 100, 0.0) and eg[-1] == (153600, None, 0.05)


def test_azure_unreachable_is_a_clear_refresh_error():
    with json_server(route) as (base, _):
        pass  # server closed: its port now refuses connections
    with pytest.raises(RefreshError, match="cannot reach the Azure Retail Prices API"):
        refresh_azure.fetch(["eastus"], base_url=f"{base}/api/retail/prices")
