"""Azure refresh against Retail Prices answers in the documented shape, noise included
(tests/prices_azure_fixture.py), served on loopback by a fake that checks the filters sent."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.prices import azure_items, refresh_azure
from scoring.prices.snapshot import RefreshError
from tests.prices_azure_fixture import VMS, item, strict_route, vm
from tests.prices_support import json_server

BASE = "/api/retail/prices"


def _fetch(route):
    with json_server(route) as (base, log):
        return refresh_azure.fetch(["eastus"], base_url=f"{base}{BASE}"), log


def test_azure_real_shapes_with_their_noise():
    res, log = _fetch(strict_route())
    assert any("/page2" in p for p in log), "NextPageLink was not followed"
    vms = {r.instance_type: r for r in res.rows["compute"]}
    # only the Linux pay-as-you-go meter: Windows 0.353, RHEL 0.413, Low Priority, DevTest
    # 0.1183 and the non-primary duplicate all dropped; spot from the "Spot" meter
    assert set(vms) == {"Standard_F4s_v2", "Standard_D4ls_v6"}
    f4 = vms["Standard_F4s_v2"]
    assert (f4.ondemand_usd_per_hour, f4.spot_usd_per_hour) == (0.169, 0.0421)
    assert (f4.vcpus, f4.memory_gib, f4.family) == (4, 8, "compute")
    assert vms["Standard_D4ls_v6"].family == "compute"   # Dlsv6: 2 GiB per vCPU
    # reservations: 1 and 3 years as term price / term hours, paid upfront (the fee kept)
    # and monthly at the same total; 5 years skipped and said
    terms = {(c.term_years, c.payment): (c.effective_usd_per_hour, c.upfront_usd)
             for c in res.rows["commitments"]}
    assert terms == {(1, "all_upfront"): (pytest.approx(876 / 8760, abs=1e-6), 876.0),
                     (1, "no_upfront"): (pytest.approx(876 / 8760, abs=1e-6), None),
                     (3, "all_upfront"): (pytest.approx(1752 / 26280, abs=1e-6), 1752.0),
                     (3, "no_upfront"): (pytest.approx(1752 / 26280, abs=1e-6), None)}
    assert any("5-year reservation" in n for n in res.notes)
    # disks: P10 is 19.71 (the per-month "Disk Mount" meter is not a second P10), ZRS apart,
    # the P30 reservation and the non-primary duplicate dropped
    tiers = {(t.volume_type, t.tier): t.usd_per_month for t in res.rows["disk_tiers"]}
    assert tiers == {("premium-ssd", "P10"): 19.71, ("premium-ssd-zrs", "P10"): 29.57,
                     ("premium-ssd", "P30"): 135.17}
    # Premium SSD v2: the priced tiers, x 730 h: 0.000112 x 730 = 0.08176 per GiB-month;
    # IOPS 0.0000068 x 730 = 0.004964 per IOPS-month above the 3,000 the tier starts at
    (v2,) = res.rows["storage"]
    assert v2.volume_type == "premium-ssd-v2" and v2.iops_included == 3000
    assert v2.usd_per_gb_month == pytest.approx(0.08176)
    assert v2.iops_usd_per_month == pytest.approx(0.004964)
    # throughput 0.000055 x 730 = 0.04015 per MB/s-month above the 125 its tier starts at
    assert v2.throughput_usd_per_mbps_month == pytest.approx(0.04015)
    assert v2.throughput_included_mbps == 125
    db = {(r.tier_or_instance, r.ha): r for r in res.rows["managed_db"]}
    assert db[("GP_Standard_D2ds_v5", False)].usd_per_hour == pytest.approx(2 * 0.089)
    assert db[("GP_Standard_D2ds_v5", True)].storage_usd_per_gb_month == pytest.approx(0.23)
    # egress: the default (Microsoft network) product only, no zero-width tiers
    eg = [(t.tier_start_gb, t.tier_end_gb, t.usd_per_gb) for t in res.rows["egress"]]
    assert eg == [(0, 100, 0.0), (100, 10335, 0.087), (10335, 51295, 0.083),
                  (51295, 153695, 0.07), (153695, 512095, 0.05), (512095, None, 0.05)]


def test_azure_savings_plans_from_the_consumption_item():
    """api-version 2023-01-01-preview adds a savingsPlan array to a Consumption item (the
    documented shape: unitPrice, retailPrice, term): its 1- and 3-year hourly rates become
    savings_plan rows; 5 years is skipped and said; sizes without the array get none."""
    plans = [{"unitPrice": 0.1183, "retailPrice": 0.1183, "term": "1 Year"},
             {"unitPrice": 0.0826, "retailPrice": 0.0826, "term": "3 Years"},
             {"unitPrice": 0.0611, "retailPrice": 0.0611, "term": "5 Years"}]
    vms = dict(VMS)
    vms["Standard_F4s_v2"] = [dict(i, savingsPlan=plans) if i["type"] == "Consumption" and
                              i["skuName"] == "F4s v2" and "Windows" not in i["productName"]
                              and "RHEL" not in i["productName"] else i
                              for i in VMS["Standard_F4s_v2"]]
    res, _ = _fetch(strict_route(vms))
    sp = {(c.instance_type, c.term_years): c for c in res.rows["commitments"]
          if c.instrument == "savings_plan"}
    assert set(sp) == {("Standard_F4s_v2", 1), ("Standard_F4s_v2", 3)}
    assert sp[("Standard_F4s_v2", 1)].effective_usd_per_hour == 0.1183
    assert sp[("Standard_F4s_v2", 3)].effective_usd_per_hour == 0.0826
    assert sp[("Standard_F4s_v2", 1)].payment == "no_upfront"
    assert sp[("Standard_F4s_v2", 1)].ondemand_usd_per_hour == 0.169
    assert any("5-year reservation or savings-plan" in n for n in res.notes)


def test_every_vm_query_names_the_sku_and_the_region():
    _, log = _fetch(strict_route())
    vm_queries = [p for p in log if ("Virtual%20Machines" in p or "Virtual+Machines" in p)
                  and "/page2" not in p]  # a NextPageLink repeats its query's filter
    # one query per wanted size: 15 series x 4 sizes
    assert len(vm_queries) == len(refresh_azure.SERIES) * 4
    assert all("armSkuName" in p and "eastus" in p for p in vm_queries)


def test_other_currencies_are_refused():
    eur = dict(VMS)
    eur["Standard_D4ls_v6"] = [dict(i, currencyCode="EUR") for i in
                               vm("Standard_D4ls_v6", "D4ls v6", "Dlsv6", 0.165)]
    with pytest.raises(RefreshError, match="EUR, not USD"):
        _fetch(strict_route(eur))


def test_an_unknown_reservation_term_is_refused():
    odd = dict(VMS)
    odd["Standard_D4ls_v6"] = VMS["Standard_D4ls_v6"] + [
        item("D4ls v6", 900.0, product="Virtual Machines Dlsv6 Series", sku="D4ls v6",
             service="Virtual Machines", arm_sku="Standard_D4ls_v6", type_="Reservation",
             term="2 Years")]
    with pytest.raises(RefreshError, match="unknown reservationTerm '2 Years'"):
        _fetch(strict_route(odd))


def test_azure_unreachable_is_a_clear_refresh_error():
    with json_server(strict_route()) as (base, _):
        pass  # server closed: its port now refuses connections
    with pytest.raises(RefreshError, match="cannot reach the Azure Retail Prices API"):
        refresh_azure.fetch(["eastus"], base_url=f"{base}{BASE}")


_value = st.one_of(st.none(), st.booleans(), st.integers(-5, 5000), st.floats(allow_nan=True),
                   st.text(max_size=12), st.sampled_from(
                       ["USD", "EUR", "Consumption", "Reservation", "1 Year", "5 Years",
                        "Rtn Preference: Internet", "Rtn Preference: MGN", "P10 LRS Disk"]))
_items = st.lists(st.dictionaries(st.sampled_from(
    ["currencyCode", "tierMinimumUnits", "retailPrice", "unitPrice", "meterId", "meterName",
     "productName", "skuName", "type", "isPrimaryMeterRegion", "armSkuName",
     "reservationTerm", "unitOfMeasure"]), _value, max_size=13), max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_items)
def test_hostile_items_are_refused_never_a_crash(items):
    # what fetch() turns into a RefreshError (it maps KeyError/ValueError/TypeError); anything
    # else escaping the item cleaners would be a traceback for the user
    for step in (lambda: azure_items.check_currency(items, "x"),
                 lambda: azure_items.primary_only(items),
                 lambda: [azure_items.is_linux_vm(i) for i in items],
                 lambda: azure_items.bandwidth_tiers(items, "eastus"),
                 lambda: [azure_items.reservation_years(i) for i in items]):
        with contextlib.suppress(RefreshError, KeyError, ValueError, TypeError):
            step()
