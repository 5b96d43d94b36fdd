"""Compute commitments for `--term 1y/3y`: which row, and the upfront part made visible.

A commitment row (pricing/commitments.csv) is keyed by provider, region, instance type,
term, payment (no/partial/all upfront) and instrument (reservation: AWS Reserved Instance,
Azure reservation, GCP resource-based CUD; or savings_plan: AWS Compute Savings Plan, Azure
savings plan). Its effective $/h already includes any upfront fee spread over the term's
hours (8,760 a year); the component's note splits it back into the amortised upfront and
the recurring hourly part, and the site gets a caveat with the cash paid at purchase.
A commitment the snapshot lacks for the asked payment and instrument is an error that names
provider, region, type, term and what exists instead: never a silent on-demand price.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import PriceNotFoundError
from scoring.catalog import Catalog, CommitmentRow, ComputeRow

HOURS_PER_YEAR = 8760  # 12 x the snapshot's 730-hour month

# How each provider lets an instrument be paid, so a payment it does not offer is reported
# as such rather than as a price the snapshot happens to lack. Sources: AWS EC2 Reserved
# Instances and Savings Plans (no, partial, all upfront); Azure reservations and savings
# plans (paid upfront or monthly at the same total: `no_upfront` here); GCP resource-based
# CUDs (billed monthly over the term; GCP sells no savings plan, and its spend-based
# flexible CUDs are not modelled).
OFFERED: dict[tuple[str, str], tuple[str, ...]] = {
    ("aws", "reservation"): ("no_upfront", "partial_upfront", "all_upfront"),
    ("aws", "savings_plan"): ("no_upfront", "partial_upfront", "all_upfront"),
    ("azure", "reservation"): ("no_upfront", "all_upfront"),
    ("azure", "savings_plan"): ("no_upfront", "all_upfront"),
    ("gcp", "reservation"): ("no_upfront",),
    ("gcp", "savings_plan"): (),
}


@dataclass(frozen=True)
class Commitment:
    row: CommitmentRow
    usd_per_hour: float
    note: str

    @property
    def upfront_usd(self) -> float:
        return self.row.upfront_usd or 0.0


def find(catalog: Catalog, row: ComputeRow, years: int, instrument: str = "reservation",
         payment: str = "no_upfront") -> Commitment:
    """The commitment for this compute row, term, instrument and payment, or an error."""
    held = [c for c in catalog.all_rows()["commitments"]
            if (c.provider, c.region, c.instance_type, c.term_years)
            == (row.provider, row.region, row.instance_type, years)]
    match = [c for c in held if (c.instrument, c.payment) == (instrument, payment)]
    what = f"{row.provider} {row.region} {row.instance_type}"
    if not match:
        other = ", ".join(sorted(f"{c.instrument} {c.payment}" for c in held))
        raise PriceNotFoundError(
            f"{what}: no {years}-year {instrument.replace('_', ' ')} price paid "
            f"{payment.replace('_', ' ')} in the snapshot (commitments.csv has for it: "
            f"{other or 'nothing'}){_not_offered(row.provider, instrument, payment)}; set "
            "usage.commitment / usage.commitment_payment to one it has, use term on-demand, "
            f"or give price_override.terms.{years}y with a reason")
    c = match[0]
    return Commitment(c, c.effective_usd_per_hour, _note(c))


def _not_offered(provider: str, instrument: str, payment: str) -> str:
    """' (not offered: ...)' when the provider sells no such payment, else ''."""
    offered = OFFERED.get((provider, instrument))
    if offered is None or payment in offered:
        return ""
    kind = instrument.replace("_", " ")
    if not offered:
        return f" (not offered: {provider} sells no {kind})"
    how = " or ".join(p.replace("_", " ") for p in offered)
    return f" (not offered: {provider} {kind}s are paid {how})"


def _note(c: CommitmentRow) -> str:
    kind = f"{c.instrument.replace('_', ' ')}, {c.payment.replace('_', ' ')}"
    hours = c.term_years * HOURS_PER_YEAR
    if c.upfront_usd:
        amortised = c.upfront_usd / hours
        return (f"{kind}: ${c.upfront_usd:,.2f} upfront / {hours:,} h = ${amortised:.6f}/h "
                f"amortised + ${c.effective_usd_per_hour - amortised:.6f}/h recurring = "
                f"${c.effective_usd_per_hour:.6f}/h; {c.notes or ''}").strip("; ")
    return f"{kind}; {c.notes or ''}".strip("; ")


def upfront_caveat(c: Commitment, instances: int, term: str) -> str | None:
    """The cash paid at purchase, which the monthly figures spread over the term."""
    if not c.upfront_usd:
        return None
    return (f"{term} {c.row.payment.replace('_', ' ')}: ${c.upfront_usd * instances:,.2f} paid "
            f"at purchase ({instances} x ${c.upfront_usd:,.2f}), shown spread over the "
            f"term's {c.row.term_years * HOURS_PER_YEAR:,} hours")
