"""Managed-database commitments for `--term 1y/3y`: RDS Reserved Instances, Azure Database
for PostgreSQL reserved capacity, Cloud SQL committed use discounts.

Rows live in `pricing/db_commitments.csv` (the shipped file when a snapshot has none). A row
names one class (`db.m6g.large`, `GP_Standard_D2ds_v5`) with its effective $/h, or `*` for a
spend-based discount on every dedicated-core class of the region (Cloud SQL: 25 % for 1 year,
52 % for 3 years, on vCPU and memory, not storage). A class with no row for the term and
payment is a missing price naming provider, region, class, HA and term: never on-demand.
`bakeoff prices refresh` writes RDS Reserved Instance and Azure reserved-capacity rows here
(an upfront fee spread over the term's hours and kept in `upfront_usd`, as for compute).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator

from core.errors import PriceNotFoundError
from scoring.catalog import Catalog, DbPrice
from scoring.catalog_csv import read_rows
from scoring.catalog_load import DATA_DIR
from scoring.catalog_rows import ConfidentPriceRow, Provider
from scoring.commitments import HOURS_PER_YEAR, OFFERED

FILE = "db_commitments.csv"


class DbCommitmentRow(ConfidentPriceRow):
    provider: Provider
    region: str = Field(min_length=2)
    instance: str = Field(min_length=1, description="a class, or * for every dedicated class")
    ha: bool
    term_years: int = Field(ge=1, le=3)
    payment: str = Field(pattern="^(no_upfront|partial_upfront|all_upfront)$")
    effective_usd_per_hour: float | None = Field(None, gt=0)
    upfront_usd: float | None = Field(None, gt=0, description="paid at purchase; already "
                                      "spread over the term's hours in the effective $/h")
    discount_pct: float | None = Field(None, gt=0, lt=100)
    ondemand_usd_per_hour: float | None = Field(None, gt=0)
    notes: str | None = None

    @model_validator(mode="after")
    def _one_price(self) -> DbCommitmentRow:
        if (self.effective_usd_per_hour is None) == (self.discount_pct is None):
            raise ValueError("give exactly one of effective_usd_per_hour and discount_pct")
        return self


KEY = ("provider", "region", "instance", "ha", "term_years", "payment")


@lru_cache(maxsize=8)
def _cached(path: Path, _mtime_ns: int) -> tuple[DbCommitmentRow, ...]:
    return tuple(read_rows(path, DbCommitmentRow, KEY))


def _rows(path: Path) -> tuple[DbCommitmentRow, ...]:
    """Keyed by modification time too: a refresh rewrites a snapshot at the same path."""
    return _cached(path, path.stat().st_mtime_ns if path.is_file() else 0)


def _file(catalog: Catalog) -> Path:
    own = catalog.path / "pricing" / FILE if catalog.path is not None else None
    return own if own is not None and own.is_file() else DATA_DIR / "pricing" / FILE


def rows_of(catalog: Catalog) -> list[DbCommitmentRow]:
    """The database commitments a catalog prices with (its own file, else the shipped one):
    what a refresh carries and what `prices diff` compares."""
    return list(_rows(_file(catalog)))


def committed(catalog: Catalog, provider: str, region: str, price: DbPrice, term: str,
              payment: str) -> tuple[float, str, str, str]:
    """(usd_per_hour, source, note, confidence) of a catalog-priced database for a term."""
    years = int(term[0])
    rows = [r for r in _rows(_file(catalog))
            if (r.provider, r.region, r.ha, r.term_years, r.payment)
            == (provider, region, price.ha, years, payment)]
    exact = [r for r in rows if r.instance == price.instance]
    spend = [r for r in rows if r.instance == "*" and not price.burstable]
    if exact:
        r = exact[0]
        assert r.effective_usd_per_hour is not None
        how = f"{term} {payment.replace('_', ' ')} reserved"
        if r.upfront_usd:  # the same split the compute commitments show
            hours = years * HOURS_PER_YEAR
            amortised = r.upfront_usd / hours
            how += (f": ${r.upfront_usd:,.2f} upfront / {hours:,} h = ${amortised:.6f}/h "
                    f"amortised + ${r.effective_usd_per_hour - amortised:.6f}/h recurring")
        return (r.effective_usd_per_hour, r.provenance, f"{how}; {r.notes or ''}".strip("; "),
                r.confidence)
    if spend:
        r = spend[0]
        assert r.discount_pct is not None
        rate = price.usd_per_hour * (1 - r.discount_pct / 100)
        return (rate, r.provenance,
                f"{term} committed use discount: {price.usd_per_hour:g}/h x (1 - "
                f"{r.discount_pct:g}%) = {rate:.6f}/h ({price.note}); {r.notes or ''}"
                .strip("; "), r.confidence)
    ha = "HA" if price.ha else "single zone"
    # RDS RIs are paid no/partial/all upfront, Azure reserved capacity upfront or monthly,
    # Cloud SQL CUDs monthly: the same choices as the provider's compute reservations
    offered = OFFERED.get((provider, "reservation"), ())
    why = ("" if payment in offered else f" (not offered: {provider} database commitments "
           f"are paid {' or '.join(p.replace('_', ' ') for p in offered)})")
    raise PriceNotFoundError(
        f"{provider} {region}: no {years}-year {payment.replace('_', ' ')} commitment price "
        f"for managed PostgreSQL {price.instance} ({ha}) in {FILE}{why}; use term on-demand, "
        f"or give price_override.db_terms.{years}y with a reason")
