"""A function site's per-request cost: the usage profile priced from platforms.csv rows.

The profile is the scenario's `usage.functions` (requests a month, billed duration); the
memory is the site's `serverless.memory_mb`. Quantities per provider:

- AWS Lambda (x86_64): requests, and GB-seconds = requests x duration_s x memory_MB/1024.
  Billed per 1 ms (https://aws.amazon.com/lambda/pricing/).
- Azure Functions Flex Consumption (on demand): executions, and GB-seconds of execution
  time with the instance memory (the always-ready baseline is not used: no always-ready
  instances are declared).

A row the snapshot lacks makes that line "price not found" (the site's cost incomplete),
never $0.
- Google Cloud Run (request-based billing, 1 vCPU): requests, vCPU-seconds = requests x
  duration_s x 1, GiB-seconds = requests x duration_s x memory_MiB/1024, the duration
  rounded up to the nearest 100 ms (https://cloud.google.com/run/pricing).

With `free_tier: true` each monthly free allowance (the row's `free_units_per_month`, per
account / subscription / billing account as its `free_scope` says) is taken off before
pricing, and a caveat says the allowance is counted in full for this site.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from core.errors import PriceNotFoundError
from core.scenario import CloudSite, Usage
from scoring.catalog import Catalog

Make = Callable[..., object]
# (service, plan) priced per provider, and the items with their quantity formula's name
PLATFORM = {"aws": ("lambda", "x86_64"), "azure": ("azure_functions", "flex-on-demand"),
            "gcp": ("cloud_run", "request-based")}
ITEMS = {"aws": ("requests", "gb_second"), "azure": ("requests", "gb_second"),
         "gcp": ("requests", "vcpu_second", "gib_second")}
CLOUD_RUN_VCPU = 1  # the programs deploy 1 vCPU per instance
CLOUD_RUN_ROUND_MS = 100


def billed_seconds(provider: str, duration_ms: float) -> float:
    """Billed seconds per request: Cloud Run rounds up to 100 ms; Lambda bills per 1 ms
    (ceil); Flex as stated (its rounding is not held)."""
    if provider == "gcp":
        return math.ceil(duration_ms / CLOUD_RUN_ROUND_MS) * CLOUD_RUN_ROUND_MS / 1000.0
    if provider == "aws":
        return math.ceil(duration_ms) / 1000.0
    return duration_ms / 1000.0


def quantities(provider: str, usage: Usage, memory_mb: int) -> dict[str, float]:
    """Monthly units per item before any free allowance."""
    f = usage.functions
    seconds = f.requests_per_month * billed_seconds(provider, f.duration_ms)
    out = {"requests": f.requests_per_month}
    if provider == "gcp":
        out["vcpu_second"] = seconds * CLOUD_RUN_VCPU
        out["gib_second"] = seconds * memory_mb / 1024.0
    else:
        out["gb_second"] = seconds * memory_mb / 1024.0
    return out


def function_parts(site: CloudSite, usage: Usage, catalog: Catalog,
                   make: Make) -> tuple[list[object], list[str], list[str]]:
    """(components, missing prices, caveats) of the site's function; nothing for a site
    without `serverless:`."""
    if site.serverless is None:
        return [], [], []
    service, plan = PLATFORM[site.provider]
    memory = site.serverless.memory_for(site.provider)
    wanted = quantities(site.provider, usage, memory)
    comps: list[object] = []
    missing: list[str] = []
    caveats: list[str] = []
    for item in ITEMS[site.provider]:
        units = wanted[item]
        try:
            row = catalog.platform(site.provider, site.region, service, plan, item)
        except PriceNotFoundError as e:
            missing.append(f"function {service} {item}: price not found ({e})")
            continue
        free = (row.free_units_per_month or 0.0) if usage.functions.free_tier else 0.0
        billed = max(0.0, units - free)
        note = f"{units:,.0f} {row.unit}(s) a month at {memory} MB"
        if free:
            note += f", less {free:,.0f} free ({row.free_scope})"
            caveats.append(f"{service} free allowance ({row.free_scope}) counted in full "
                           "for this site")
        elif usage.functions.free_tier and row.free_units_per_month is None:
            note += "; no free allowance held for this row"
        comps.append(make(f"function {service} {plan} {item}", billed, row.unit,
                          row.usd_per_unit, f"{row.source_url}: {row.provenance}",
                          "catalog", "function", note, confidence=row.confidence))
    return comps, missing, sorted(set(caveats))
