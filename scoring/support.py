"""Support plans as the providers bill them: a monthly minimum or a share of the bill in bands.

AWS Business is the greater of $100 or 10 % of the first $10K of monthly usage, 7 % of the
next $70K, 5 % up to $250K and 3 % above (like a tax bracket); Azure Standard is a flat $100;
GCP Standard the greater of $29 or 3 %. The rows live in `pricing/support_plans.csv` of the
snapshot (the shipped one when a snapshot has none), each with its source and confidence.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator

from core.errors import PriceNotFoundError
from core.scenario import CloudSite, Usage
from scoring.catalog import Catalog
from scoring.catalog_csv import parse_pairs, read_rows
from scoring.catalog_load import DATA_DIR
from scoring.catalog_rows import ConfidentPriceRow, Provider

FILE = "support_plans.csv"


class SupportPlanRow(ConfidentPriceRow):
    provider: Provider
    plan: str = Field(min_length=2)
    minimum_usd_per_month: float = Field(ge=0)
    bands: tuple[tuple[float, float], ...] = Field(
        default=(), description="'0:10;10000:7' = 10 % from $0, 7 % from $10,000")
    as_published: str
    notes: str | None = None

    @field_validator("bands", mode="before")
    @classmethod
    def _parse(cls, v: object) -> object:
        out = parse_pairs(v, "from_usd:percent")
        if isinstance(v, str) and out and (
                [s for s, _ in out] != sorted(s for s, _ in out) or out[0][0] != 0):
            raise ValueError("bands must start at 0 and ascend")
        return out


@lru_cache(maxsize=8)
def _rows(path: Path) -> tuple[SupportPlanRow, ...]:
    return tuple(read_rows(path, SupportPlanRow, ("provider", "plan")))


def plan_file(catalog: Catalog) -> Path:
    own = catalog.path / "pricing" / FILE if catalog.path is not None else None
    return own if own is not None and own.is_file() else DATA_DIR / "pricing" / FILE


def plan(catalog: Catalog, provider: str, name: str) -> SupportPlanRow:
    rows = _rows(plan_file(catalog))
    for r in rows:
        if (r.provider, r.plan) == (provider, name):
            return r
    have = ", ".join(sorted(r.plan for r in rows if r.provider == provider)) or "none"
    raise PriceNotFoundError(f"{provider}: no price for support plan {name!r} in {FILE} "
                             f"(plans priced for {provider}: {have}); fix usage.support."
                             f"{provider}")


def charge(row: SupportPlanRow, base: float) -> tuple[float, str]:
    """(monthly charge, the arithmetic) for a bill of `base` USD before support."""
    parts, total = [], 0.0
    for i, (start, pct) in enumerate(row.bands):
        end = row.bands[i + 1][0] if i + 1 < len(row.bands) else float("inf")
        amount = max(0.0, min(base, end) - start)
        if amount > 0:
            total += amount * pct / 100
            parts.append(f"{pct:g}% x ${amount:,.2f}")
    banded = " + ".join(parts) + f" = ${total:,.2f}" if parts else "no share of the bill"
    if row.minimum_usd_per_month >= total:
        return row.minimum_usd_per_month, (f"greater of the ${row.minimum_usd_per_month:,.2f} "
                                           f"minimum or {banded}: the minimum")
    return total, f"greater of the ${row.minimum_usd_per_month:,.2f} minimum or {banded}"


def support_component(site: CloudSite, usage: Usage, catalog: Catalog,
                      make: Callable[..., object], base: float) -> object:
    """The site's support plan (usage.support) on a bill of `base` USD before support."""
    name = usage.support[site.provider]  # type: ignore[index]
    row = plan(catalog, site.provider, name)
    usd, text = charge(row, base)
    return make(f"support plan {site.provider} {name}", 1, "month", usd, row.provenance,
                "catalog", "support", f"bill before support ${base:,.2f}; {text}; "
                f"{row.as_published}", confidence=row.confidence)
