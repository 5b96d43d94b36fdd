"""AWS prices from the public Price List Query API (boto3 `pricing.get_products`).

EC2 Linux shared-tenancy on-demand and Standard Reserved 1y/3y (no, partial and all upfront,
the upfront fee kept so the TCO shows it); Compute Savings Plans from the Savings Plans API
(scoring/prices/aws_savings_plans.py); RDS
for PostgreSQL single/multi-AZ instances, their Reserved Instances (the same `terms.Reserved`
shape as EC2's, into db_commitments) and storage; EBS gp3/io2 (GB, IOPS, throughput);
internet egress tiers and intra-region (cross-AZ) transfer. Spot comes from
`ec2.describe_spot_price_history` only when credentials exist; otherwise it is left empty.
"""

from __future__ import annotations

import json
import re
import statistics
from datetime import UTC, datetime
from typing import Any

from scoring.catalog_rows import (
    CommitmentRow,
    ComputeRow,
    EgressTier,
    ManagedDbRow,
    ServiceRow,
    StorageRow,
)
from scoring.db_commitments import DbCommitmentRow
from scoring.prices.aws_savings_plans import add_compute_savings_plans
from scoring.prices.common import HOURS_PER_YEAR, ProviderResult, now_iso
from scoring.prices.snapshot import RefreshError

API = "AWS Price List Query API (pricing.get_products, us-east-1 endpoint)"
FAMILIES = {"c": "compute", "m": "general", "r": "memory", "t": "general"}
# The families the shipped snapshot holds (like-for-like rule: every vendor and era), so a
# refresh never drops a row equivalents pick today.
DEFAULT_SERIES = ("c6i", "c7i", "c8i", "c6a", "c7a", "c8a", "c7g", "c8g", "m6i", "m7i", "m8i",
                  "m6a", "m7a", "m8a", "m7g", "m8g", "r6i", "r7i", "t3")
EXPECTED_KINDS = ("compute", "commitments", "managed_db", "db_commitments", "storage", "egress",
                  "services")
# AWS free tier: 100 GB/month of data transfer out to the internet, aggregated over all
# regions per account; the Price List's regional tiers start at 0 without it.
FREE_EGRESS_GB = 100.0
FREE_EGRESS_URL = "https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer"
SIZES = ("large", "xlarge", "2xlarge", "4xlarge")
PAYMENT = {"No Upfront": "no_upfront", "Partial Upfront": "partial_upfront",
           "All Upfront": "all_upfront"}
YEARS = {"1yr": 1, "3yr": 3}
CONFIDENCE = "provider_api"


def _f(field: str, value: str) -> dict[str, str]:
    return {"Type": "TERM_MATCH", "Field": field, "Value": value}


def products(client: Any, service: str, filters: list[dict[str, str]]) -> list[dict]:
    """Every product of a query, following NextToken."""
    out: list[dict] = []
    token = None
    while True:
        kw: dict[str, Any] = {"ServiceCode": service, "Filters": filters, "MaxResults": 100}
        if token:
            kw["NextToken"] = token
        page = client.get_products(**kw)
        out.extend(json.loads(p) if isinstance(p, str) else p for p in page["PriceList"])
        token = page.get("NextToken")
        if not token:
            return out


def _dims(offer: dict) -> list[dict]:
    return list(offer.get("priceDimensions", {}).values())


def _usd(dim: dict) -> float:
    return float(dim["pricePerUnit"]["USD"])


def ondemand(item: dict) -> tuple[float, str] | None:
    """(price per unit, unit) of the single on-demand dimension; None when absent or zero."""
    for offer in item.get("terms", {}).get("OnDemand", {}).values():
        for d in _dims(offer):
            if _usd(d) > 0:
                return _usd(d), d.get("unit", "")
    return None


def reserved(item: dict) -> list[tuple[int, str, float, float | None]]:
    """(years, payment, effective $/h, upfront $) for Standard RIs: the upfront fee (a
    "Quantity" dimension) spread over the term's hours plus the hourly one."""
    out = []
    for offer in item.get("terms", {}).get("Reserved", {}).values():
        ta = offer.get("termAttributes", {})
        years, pay = YEARS.get(ta.get("LeaseContractLength", "")), PAYMENT.get(
            ta.get("PurchaseOption", ""))
        if ta.get("OfferingClass") != "standard" or years is None or pay is None:
            continue
        hourly = upfront = 0.0
        for d in _dims(offer):
            if d.get("unit") == "Quantity":
                upfront += _usd(d)
            else:
                hourly += _usd(d)
        out.append((years, pay, hourly + upfront / (years * HOURS_PER_YEAR), upfront or None))
    return out


def _ec2(client: Any, region: str, series: tuple[str, ...], res: ProviderResult,
         when: str) -> list[str]:
    items = products(client, "AmazonEC2", [
        _f("regionCode", region), _f("operatingSystem", "Linux"), _f("tenancy", "Shared"),
        _f("preInstalledSw", "NA"), _f("capacitystatus", "Used"),
        _f("licenseModel", "No License required")])
    wanted = {f"{s}.{z}" for s in series for z in SIZES}
    types = []
    for it in items:
        a, sku = it["product"]["attributes"], it["product"]["sku"]
        itype = a.get("instanceType", "")
        # odd SKUs: Windows/SQL operations, reservations, dedicated, non-wanted types
        if itype not in wanted or a.get("operation") != "RunInstances":
            continue
        od = ondemand(it)
        if od is None:
            continue
        mem = float(re.sub(r"[^0-9.]", "", a["memory"].replace(",", "")))
        src = f"{API}: AmazonEC2 sku {sku}"
        res.add("compute", ComputeRow(
            provider="aws", region=region, instance_type=itype,
            family=FAMILIES[itype[0]], vcpus=int(a["vcpu"]), memory_gib=mem,
            ondemand_usd_per_hour=od[0], source=src, source_date=when[:10], sku=sku,
            retrieved_at=when, confidence=CONFIDENCE))
        types.append(itype)
        for years, pay, eff, upfront in reserved(it):
            res.add("commitments", CommitmentRow(
                provider="aws", region=region, instance_type=itype, term_years=years,
                payment=pay, effective_usd_per_hour=round(eff, 6), upfront_usd=upfront,
                instrument="reservation",
                ondemand_usd_per_hour=od[0], source=src, source_date=when[:10], sku=sku,
                retrieved_at=when, confidence=CONFIDENCE,
                notes="Standard Reserved Instance; upfront fee spread over the term's hours"))
    return types


def _rds(client: Any, region: str, res: ProviderResult, when: str) -> None:
    items = products(client, "AmazonRDS", [_f("regionCode", region),
                                           _f("databaseEngine", "PostgreSQL")])
    storage: dict[str, float] = {}
    instances = []
    for it in items:
        a, fam = it["product"]["attributes"], it["product"].get("productFamily")
        dep = a.get("deploymentOption")
        if dep not in ("Single-AZ", "Multi-AZ"):
            continue  # readable-standby clusters and Outposts are other products
        if (a.get("databaseEngine", "PostgreSQL"), a.get("regionCode", region)) != (
                "PostgreSQL", region):
            continue  # the query filters both; an answer that holds others is not trusted
        od = ondemand(it)
        if od is None:
            continue
        if fam == "Database Storage" and a.get("volumeType") == "General Purpose-GP3":
            storage[dep] = od[0]
        elif fam == "Database Instance":
            instances.append((it, a, dep, od[0]))
    for it, a, dep, price in instances:
        sku = it["product"]["sku"]
        store = storage.get(dep)
        res.add("managed_db", ManagedDbRow(
            provider="aws", region=region, engine="postgresql",
            tier_or_instance=a["instanceType"], vcpus=int(a["vcpu"]),
            memory_gib=float(re.sub(r"[^0-9.]", "", a["memory"])), ha=dep == "Multi-AZ",
            burstable=a["instanceType"].startswith("db.t"), usd_per_hour=price,
            storage_usd_per_gb_month=store, source=f"{API}: AmazonRDS sku {sku}",
            source_date=when[:10], sku=sku, retrieved_at=when, confidence=CONFIDENCE,
            notes=f"{dep}; storage = gp3 {dep} GB-month" if store else dep))
        # RDS Reserved Instances: the product's terms.Reserved, read like EC2's (Standard
        # class, 1yr/3yr, no/partial/all upfront; the upfront fee spread over the term's hours)
        for years, pay, eff, upfront in reserved(it):
            res.add("db_commitments", DbCommitmentRow(
                provider="aws", region=region, instance=a["instanceType"],
                ha=dep == "Multi-AZ", term_years=years, payment=pay,
                effective_usd_per_hour=round(eff, 6), upfront_usd=upfront,
                ondemand_usd_per_hour=price, source=f"{API}: AmazonRDS sku {sku}",
                source_date=when[:10], sku=sku, retrieved_at=when, confidence=CONFIDENCE,
                notes=f"RDS Reserved Instance, {dep}; upfront fee spread over the term's "
                      "hours"))


def _ebs(client: Any, region: str, res: ProviderResult, when: str) -> None:
    items = [it for fam in ("Storage", "System Operation", "Provisioned Throughput")
             for it in products(client, "AmazonEC2", [_f("regionCode", region),
                                                      _f("productFamily", fam)])]
    by: dict[tuple[str, str], tuple[float, str]] = {}
    for it in items:
        a, fam = it["product"]["attributes"], it["product"].get("productFamily", "")
        vol = a.get("volumeApiName")
        od = ondemand(it)
        if vol in ("gp3", "io2", "gp2") and od is not None:
            kind = {"Storage": "gb", "System Operation": "iops",
                    "Provisioned Throughput": "mbps"}.get(fam)
            if ".tier" in a.get("usagetype", ""):
                continue  # io2 IOPS above 32,000 (tier2) and 64,000 (tier3): cheaper tiers
            if kind:
                by[(vol, kind)] = (od[0], it["product"]["sku"])
    for vol in ("gp3", "io2", "gp2"):
        gb = by.get((vol, "gb"))
        if gb is None:
            continue
        iops = by.get((vol, "iops"))
        res.add("storage", StorageRow(
            provider="aws", region=region, volume_type=vol, usd_per_gb_month=gb[0],
            iops_model="per_iops" if iops else "included_with_size",
            iops_usd_per_month=iops[0] if iops else None,
            iops_included=3000 if vol == "gp3" else (0 if iops else None),
            source=f"{API}: AmazonEC2 sku {gb[1]}" + (f", IOPS sku {iops[1]}" if iops else ""),
            source_date=when[:10], sku=gb[1], retrieved_at=when, confidence=CONFIDENCE,
            notes="gp3: 3,000 IOPS and 125 MB/s included per volume" if vol == "gp3" else (
                "io2: the IOPS rate of the first 32,000 IOPS (tier 1); the tier2/tier3 rates "
                "above are not held" if vol == "io2" else None)))


def _transfer(client: Any, region: str, res: ProviderResult, when: str) -> None:
    items = products(client, "AWSDataTransfer", [_f("fromRegionCode", region)])
    for it in items:
        a, sku = it["product"]["attributes"], it["product"]["sku"]
        ttype = a.get("transferType")
        if ttype == "AWS Outbound" and a.get("toLocation") == "External":
            for offer in it["terms"].get("OnDemand", {}).values():
                for start, end, price, text in _with_free_tier(_dims(offer)):
                    res.add("egress", EgressTier(
                        provider="aws", region_scope=region, destination="all",
                        tier_start_gb=start, tier_end_gb=end,
                        usd_per_gb=price, tier_as_published=text,
                        source=f"{API}: AWSDataTransfer sku {sku}",
                        source_url="https://pricing.us-east-1.amazonaws.com",
                        source_date=when[:10], sku=sku, retrieved_at=when,
                        confidence=CONFIDENCE))
        elif ttype == "IntraRegion":
            od = ondemand(it)
            if od is not None:
                res.add("services", ServiceRow(
                    provider="aws", region=region, item="cross_az_gb", unit="GB",
                    usd_per_unit=od[0], as_published="intra-region transfer, per GB each way",
                    source=f"{API}: AWSDataTransfer sku {sku}", source_date=when[:10],
                    sku=sku, retrieved_at=when, confidence=CONFIDENCE))


def _with_free_tier(dims: list[dict]) -> list[tuple[float, float | None, float, str]]:
    """(start, end, $/GB, text) per tier, with the free first 100 GB the Price List leaves
    out: a first tier from 0 at a price is split at 100 GB (documented AWS free tier)."""
    out = []
    for d in sorted(dims, key=lambda d: float(d["beginRange"])):
        end = None if d["endRange"] == "Inf" else float(d["endRange"])
        price, text = _usd(d), d.get("description", "")
        out.append((float(d["beginRange"]), end, price, text + ("" if price else " (free)")))
    if out and out[0][0] == 0 and out[0][2] > 0 and (out[0][1] or 1e18) > FREE_EGRESS_GB:
        _, end, price, text = out[0]
        out[0:1] = [(0.0, FREE_EGRESS_GB, 0.0, "First 100 GB/month free (AWS free tier, per "
                     f"account across regions; {FREE_EGRESS_URL})"),
                    (FREE_EGRESS_GB, end, price, text)]
    return out


def _spot(ec2: Any, region: str, types: list[str], res: ProviderResult) -> None:
    hist = ec2.describe_spot_price_history(InstanceTypes=types, MaxResults=1000,
                                           ProductDescriptions=["Linux/UNIX"],
                                           StartTime=datetime.now(UTC))
    prices: dict[str, list[float]] = {}
    for h in hist.get("SpotPriceHistory", []):
        prices.setdefault(h["InstanceType"], []).append(float(h["SpotPrice"]))
    rows = res.rows.get("compute", [])
    for i, r in enumerate(rows):
        if r.region == region and r.instance_type in prices:
            p = prices[r.instance_type]
            rows[i] = r.model_copy(update={
                "spot_usd_per_hour": statistics.median(p),
                "notes": f"spot: median of {len(p)} AZ prices {min(p)}-{max(p)} "
                         "(describe_spot_price_history)"})


def fetch(regions: list[str], *, client: Any = None, ec2_factory: Any = None,
          sp_client: Any = None, series: tuple[str, ...] = DEFAULT_SERIES) -> ProviderResult:
    """Ask the Price List API for each region; raise RefreshError with the reason on failure.
    Compute Savings Plans come from the Savings Plans API (`sp_client`); a caller that
    injects the pricing client and no `sp_client` gets none (and a note)."""
    when = now_iso()
    res = ProviderResult("aws", API, list(regions), when, expected=EXPECTED_KINDS)
    try:
        import boto3
        import botocore.exceptions as bx
    except ImportError:
        raise RefreshError("boto3 is not installed (pip install 'cloud-bakeoff[prices]')"
                           ) from None
    try:
        creds = boto3.session.Session().get_credentials() if ec2_factory is None else True
        injected = client is not None
        client = client or boto3.client("pricing", region_name="us-east-1")
        if sp_client is None and not injected:
            sp_client = boto3.client("savingsplans", region_name="us-east-1")
        for region in regions:
            types = _ec2(client, region, series, res, when)
            _rds(client, region, res, when)
            _ebs(client, region, res, when)
            _transfer(client, region, res, when)
            if sp_client is not None:
                try:
                    add_compute_savings_plans(sp_client, region, res, when)
                except bx.ClientError as e:  # pricing:GetProducts alone is a valid setup
                    if "AccessDenied" not in e.response.get("Error", {}).get("Code", ""):
                        raise
                    res.notes.append(f"{region}: Compute Savings Plans not read (these "
                                     "credentials may not call savingsplans:DescribeSavings"
                                     "PlansOfferingRates)")
            else:
                res.notes.append(f"{region}: Compute Savings Plans not read (no Savings Plans "
                                 "API client)")
            if creds and types:
                ec2 = (ec2_factory or (lambda r: boto3.client("ec2", region_name=r)))(region)
                _spot(ec2, region, types, res)
            else:
                res.notes.append(f"{region}: spot left empty (no AWS credentials for "
                                 "describe_spot_price_history)")
    except bx.ProfileNotFound as e:  # AWS_PROFILE names no configured profile
        raise RefreshError(f"{e}; unset AWS_PROFILE or create it (aws configure --profile "
                           "NAME)") from None
    except bx.NoCredentialsError:
        raise RefreshError("the Price List Query API needs AWS credentials (any IAM user "
                           "with pricing:GetProducts and savingsplans:"
                           "DescribeSavingsPlansOfferingRates); none were found") from None
    except (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError) as e:
        raise RefreshError(f"cannot reach the AWS Price List API ({e})") from None
    except bx.ClientError as e:
        raise RefreshError(f"the AWS Price List API refused the query: {e}") from None
    except (KeyError, ValueError) as e:
        raise RefreshError(f"unexpected Price List item shape ({e!r})") from None
    return res
