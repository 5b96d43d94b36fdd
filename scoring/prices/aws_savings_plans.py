"""AWS Compute Savings Plans rates for the EC2 types a refresh priced.

The Price List Query API does not hold Savings Plans; the Savings Plans API does:
`savingsplans.describe_savings_plans_offering_rates` (a global endpoint, signed with the
same credentials as `pricing.get_products`; IAM `savingsplans:DescribeSavingsPlansOfferingRates`).
Each result is one offering's hourly rate for one usage type: `savingsPlanOffering`
{offeringId, paymentOption, planType, durationSeconds, currency}, `rate`, `unit`, `usageType`,
`operation` and `properties` [{name: region|instanceType|productDescription|tenancy, value}]
(botocore's savingsplans service model). The rate is what an hour of that type costs under
the plan; with partial or all upfront part of the plan's hourly commitment is prepaid, an
amount that depends on the commitment bought, not on the instance, so none is kept per type.
"""

from __future__ import annotations

import re
from typing import Any

from scoring.catalog_rows import CommitmentRow
from scoring.prices.common import ProviderResult
from scoring.prices.snapshot import RefreshError

API = "AWS Savings Plans API (savingsplans.describe_savings_plans_offering_rates)"
PAYMENT = {"No Upfront": "no_upfront", "Partial Upfront": "partial_upfront",
           "All Upfront": "all_upfront"}
SECONDS_PER_YEAR = 365 * 86400  # durationSeconds: 31,536,000 (1 year), 94,608,000 (3 years)


def _rates(client: Any, region: str, types: list[str]) -> list[dict]:
    out: list[dict] = []
    kw: dict[str, Any] = {
        "savingsPlanTypes": ["Compute"], "products": ["EC2"], "serviceCodes": ["AmazonEC2"],
        "operations": ["RunInstances"], "maxResults": 1000,
        "filters": [{"name": "region", "values": [region]},
                    {"name": "instanceType", "values": sorted(types)},
                    {"name": "productDescription", "values": ["Linux/UNIX"]},
                    {"name": "tenancy", "values": ["shared"]}]}
    for _ in range(100):  # bounded paging
        page = client.describe_savings_plans_offering_rates(**kw)
        out.extend(page.get("searchResults", []))
        if not page.get("nextToken"):
            return out
        kw["nextToken"] = page["nextToken"]
    raise RefreshError(f"aws {region}: more than 100 pages of Savings Plans rates")


def add_compute_savings_plans(client: Any, region: str, res: ProviderResult,
                              when: str) -> None:
    """Savings-plan commitment rows for the region's priced compute rows. Only Compute plans,
    shared-tenancy Linux `BoxUsage` at the types asked; 1- and 3-year terms (others noted);
    a non-USD rate, or two rates for one (type, term, payment), is refused."""
    od = {r.instance_type: r.ondemand_usd_per_hour for r in res.rows.get("compute", [])
          if r.region == region}
    if not od:
        return
    seen: dict[tuple[str, int, str], float] = {}
    skipped = 0
    for hit in _rates(client, region, list(od)):
        offer = hit.get("savingsPlanOffering", {})
        props = {p.get("name"): p.get("value") for p in hit.get("properties", [])}
        itype = props.get("instanceType", "")
        if (offer.get("planType") != "Compute" or hit.get("unit") != "Hrs"
                or itype not in od or props.get("region") != region
                or props.get("productDescription") != "Linux/UNIX"
                or props.get("tenancy") != "shared"
                or not re.fullmatch(rf"([A-Z0-9]+-)?BoxUsage:{re.escape(itype)}",
                                    hit.get("usageType", ""))):
            continue  # dedicated/host usage, other OS, other types or regions
        if offer.get("currency") != "USD":
            raise RefreshError(f"aws {region}: Savings Plans rate in {offer.get('currency')}, "
                               "not USD; refusing it")
        years = {1: 1, 3: 3}.get(int(offer.get("durationSeconds", 0)) // SECONDS_PER_YEAR)
        pay = PAYMENT.get(offer.get("paymentOption", ""))
        if years is None or pay is None:
            skipped += 1
            continue
        rate = float(hit["rate"])
        key = (itype, years, pay)
        if key in seen:
            if seen[key] != rate:
                raise RefreshError(f"aws {region}: two Compute Savings Plans rates for {itype} "
                                   f"{years}y {pay} ({seen[key]} and {rate}); refusing them")
            continue
        seen[key] = rate
        res.add("commitments", CommitmentRow(
            provider="aws", region=region, instance_type=itype, term_years=years,
            payment=pay, instrument="savings_plan", effective_usd_per_hour=rate,
            ondemand_usd_per_hour=od[itype],
            source=f"{API}: offering {offer.get('offeringId')} ({hit.get('usageType')})",
            source_date=when[:10], sku=offer.get("offeringId"), retrieved_at=when,
            confidence="provider_api",
            notes="Compute Savings Plan rate for this type; with partial/all upfront part of "
                  "the plan's hourly commitment is prepaid (depends on the commitment bought)"))
    if skipped:
        res.notes.append(f"{region}: {skipped} Savings Plans rate(s) of another term or "
                         "payment skipped")
