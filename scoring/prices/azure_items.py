"""Cleaning Azure Retail Prices items before they become rows: the noise real answers carry.

Documented item fields (https://learn.microsoft.com/rest/api/cost-management/retail-prices/
azure-retail-prices, read 2026-12): currencyCode, tierMinimumUnits, retailPrice, unitPrice,
armRegionName, location, effectiveStartDate, meterId, meterName, productId, skuId,
productName, skuName, serviceName, serviceId, serviceFamily, unitOfMeasure, type
(Consumption | Reservation | DevTestConsumption), isPrimaryMeterRegion, armSkuName,
reservationTerm ("1 Year", "3 Years", "5 Years"), savingsPlan. A page is
{BillingCurrency, CustomerEntityId, CustomerEntityType, Items, NextPageLink, Count}.
"""

from __future__ import annotations

from scoring.prices.snapshot import RefreshError

# Products that are not the Linux pay-as-you-go VM price: OS and licence surcharges.
LICENSED = ("Windows", "RHEL", "Red Hat", "SUSE", "SLES", "SQL", "Ubuntu Pro")
TERM_YEARS = {"1 Year": 1, "3 Years": 3}  # "5 Years" exists; the catalog holds 1 and 3


def check_currency(items: list[dict], what: str) -> None:
    """Every price must be USD: a mixed or other-currency answer is refused, not converted."""
    other = sorted({str(it.get("currencyCode")) for it in items} - {"USD"})
    if other:
        raise RefreshError(f"{what}: the answer holds prices in {', '.join(other)}, not USD; "
                           "refusing it (ask with currencyCode='USD')")


def primary_only(items: list[dict]) -> list[dict]:
    """Drop the duplicates a meter shows for its non-primary regions: where the same meter
    (meterId, skuName, type, reservationTerm, tierMinimumUnits) appears with
    isPrimaryMeterRegion true and false, keep the primary one."""
    def key(it: dict) -> tuple:
        return (it.get("meterId"), it.get("skuName"), it.get("type"),
                it.get("reservationTerm"), it.get("tierMinimumUnits", 0))

    primary = {key(it) for it in items if it.get("isPrimaryMeterRegion") is True}
    out, seen = [], set()
    for it in items:
        k = key(it)
        if (it.get("isPrimaryMeterRegion") is False and k in primary) or k in seen:
            continue
        seen.add(k)
        out.append(it)
    return out


def is_linux_vm(it: dict) -> bool:
    """Linux, dedicated (not Low Priority), Consumption or Reservation."""
    text = f"{it.get('productName', '')} {it.get('skuName', '')} {it.get('meterName', '')}"
    return (not any(w in it.get("productName", "") for w in LICENSED)
            and "Low Priority" not in text
            and it.get("type") in ("Consumption", "Reservation"))


def reservation_years(it: dict) -> int | None:
    """1 or 3 for a reservation the catalog can hold; None for 5 years (listed as skipped)."""
    term = it.get("reservationTerm")
    if term in TERM_YEARS:
        return TERM_YEARS[term]
    if term == "5 Years":
        return None
    raise RefreshError(f"reservation meter {it.get('meterId')}: unknown reservationTerm "
                       f"{term!r} (expected 1 Year, 3 Years or 5 Years)")


def bandwidth_tiers(items: list[dict], region: str) -> list[dict]:
    """Internet egress tiers of one product, in order. Azure lists a second product for the
    'Internet' routing preference (cheaper, opt-in per public IP); the default route over
    Microsoft's network is priced. Two products left, or two tiers starting at the same GB,
    is an answer this code does not understand: refused."""
    cons = [it for it in items if it.get("type") == "Consumption"
            and "Internet" not in it.get("productName", "")]
    products = sorted({it.get("productName", "") for it in cons})
    if len(products) > 1:
        raise RefreshError(f"azure {region} bandwidth: more than one egress product "
                           f"({'; '.join(products)}); cannot tell which is the default route")
    tiers = sorted(cons, key=lambda it: float(it.get("tierMinimumUnits", 0)))
    starts = [float(it.get("tierMinimumUnits", 0)) for it in tiers]
    if len(set(starts)) != len(starts):
        raise RefreshError(f"azure {region} bandwidth: two tiers start at the same GB "
                           f"({starts}); refusing zero-width tiers")
    return tiers
