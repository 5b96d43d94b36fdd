"""TCO rules the mutation run found untested (docs/testing.md, "Mutation score"): which
commitment row a term takes, what a committed or overridden compute line says and bills,
the spot caveat, and GCP's sustained-use discount line. Every expected value
is worked by hand from the shipped rows (scoring/data/pricing/*.csv) next to it.
"""

from __future__ import annotations

import pytest

from bench.scenarios import parse_campaign
from scoring.tco import SPOT_CAVEAT, estimate_site

# aws us-east-1 m6a.xlarge (commitments.csv): 1y reservation no_upfront 0.11431,
# partial_upfront 0.108882, 1y savings plan no_upfront 0.13965; on-demand 0.1728 (compute.csv)
M6A = {"provider": "aws", "region": "us-east-1", "zones": ["us-east-1a"],
       "instance_type": "m6a.xlarge"}
N2 = {"provider": "gcp", "region": "us-central1", "zones": ["us-central1-a"],
      "instance_type": "n2-standard-4"}


def cost(site: dict, term: str | None = None, **usage):
    c = parse_campaign({"name": "t", "sites": [{"name": "s", **site}],
                        "usage": {"hours_per_month": 730, "instances": 1, **usage}})
    return estimate_site(c, "s", term=term)


def compute(site: dict, term: str | None = None, **usage):
    (c,) = [x for x in cost(site, term, **usage).components if x.kind == "compute"]
    return c


@pytest.mark.parametrize(("commitment", "payment", "rate"), [
    ("reservation", "no_upfront", 0.11431),
    ("reservation", "partial_upfront", 0.108882),
    ("savings_plan", "no_upfront", 0.13965),
])
def test_a_term_takes_the_commitment_row_the_usage_names(commitment, payment, rate):
    c = compute(M6A, "1y", commitment=commitment, commitment_payment=payment)
    assert c.unit_price_usd == rate
    assert c.monthly_usd == pytest.approx(730 * rate)  # e.g. 730 x 0.13965 = 101.9445


def test_a_committed_line_bills_every_hour_of_the_term_in_whole_terms():
    # 200 h/month of use, 2 instances: a 1y term still bills 730 h x 2 = 1,460 h a month
    c = compute(M6A, "1y", hours_per_month=200, instances=2)
    assert c.quantity == 1460 and c.commitment_months == 12
    assert c.note.startswith("commitments bill every hour of the term (730 h/month) "
                             "whatever the usage;")
    # the commitment row's own confidence, not the on-demand row's
    assert c.confidence.startswith("api_derived (Vantage's copy of the AWS Price List")
    od = compute(M6A, "on-demand", hours_per_month=200, instances=2)
    assert od.quantity == 400 and od.commitment_months == 1
    assert od.note.startswith("200 h/month;")
    assert od.confidence == "api_derived (generated from the AWS Price List API)"


def test_the_spot_caveat_carries_the_rows_own_note():
    # compute.csv's c6i.xlarge row notes how its spot price was taken (a median of AZs)
    site = {**M6A, "instance_type": "c6i.xlarge"}
    caveats = cost(site, "spot").caveats
    (spot,) = [c for c in caveats if c.startswith(SPOT_CAVEAT)]
    assert spot.startswith(f"{SPOT_CAVEAT} (spot=median of 5 AZ")


def test_an_override_prices_a_type_the_catalog_lacks_and_keeps_its_term():
    # m6a.48xlarge is not in the snapshot: the stated price is used, and said to be
    site = {**M6A, "instance_type": "m6a.48xlarge",
            "price_override": {"usd_per_hour": 8.2944, "reason": "vendor quote 2026-11"}}
    c = compute(site)
    assert (c.name, c.label, c.unit_price_usd) == ("compute m6a.48xlarge x1 (on-demand)",
                                                   "override", 8.2944)
    assert c.source == "price_override: vendor quote 2026-11"
    assert "not in catalog" in c.note and c.monthly_usd == pytest.approx(730 * 8.2944)
    # a quoted 1y rate for a type the catalog has is a 1y commitment: billed in whole
    # 12-month terms, every hour (730 h), the catalog's on-demand rate named beside it
    quoted = {**M6A, "price_override": {"terms": {"1y": 0.1}, "reason": "vendor quote"}}
    c = compute(quoted, "1y", hours_per_month=300)
    assert (c.commitment_months, c.quantity, c.unit_price_usd) == (12, 730, 0.1)
    assert c.note == ("commitments bill every hour of the term (730 h/month) whatever the "
                      "usage; catalog on-demand 0.1728/h; quoted for 1y")


def test_the_sustained_use_line_says_what_it_takes_off():
    # N2 at 730 h: multiplier (1 + 0.8678 + 0.733 + 0.6) / 4 = 0.80020 -> 19.98 % off
    # 0.194236 $/h on-demand (compute.csv): -0.19980 x 0.194236 = -0.0388083 $/h over 730 h
    (sud,) = [c for c in cost(N2).components if c.kind == "discount"]
    assert sud.note == "730 h/month: 19.98% off the on-demand rate"
    assert (sud.quantity, sud.unit, sud.label) == (730, "instance-hours", "catalog")
    assert sud.unit_price_usd == pytest.approx(-(1 - 0.80020) * 0.194236)
    assert sud.confidence == "primary_page"
    assert sud.source.startswith("cloud.google.com/compute/docs/sustained-use-discounts")


def test_no_sustained_use_line_without_a_discount_or_on_a_stated_price():
    # 100 h is under a quarter of the month: multiplier exactly 1, nothing to take off
    assert not [c for c in cost(N2, hours_per_month=100).components if c.kind == "discount"]
    # a stated price is what the user pays: no discount is taken off it
    quoted = {**N2, "price_override": {"usd_per_hour": 0.15, "reason": "negotiated rate"}}
    assert not [c for c in cost(quoted).components if c.kind == "discount"]
