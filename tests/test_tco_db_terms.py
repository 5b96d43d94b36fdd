"""A managed database quoted per term (`price_override.db_terms`), as a compute override is
(`terms`): the snapshot has no RDS db.m6i.large or Azure Ddsv5 reserved price (docs/pricing.md),
so a 1-year quote is the user's, labelled `override`, billed every hour of the term; a term
the quote lacks is a missing price naming the key to give, never the on-demand figure.

The quotes below are test inputs (not prices from any source); the expected totals are worked
by hand next to each assertion.
"""

from __future__ import annotations

import pytest

from bench.scenarios import parse_campaign
from scoring.tco import MissingPrices, estimate_site


def _campaign(override: dict):
    site = {"name": "a", "provider": "aws", "region": "us-east-1",
            "zones": ["us-east-1a", "us-east-1b"], "instance_type": "c7i.xlarge",
            "database": {"instance": "db.m6i.large", "ha": True, "storage_gb": 100},
            "price_override": {"terms": {"1y": 0.1}, "db_storage_usd_per_gb_month": 0.23,
                               "reason": "test quotes", **override}}
    return parse_campaign({"name": "t", "sites": [site],
                           "usage": {"hours_per_month": 500, "instances": 2}}, "test")


def _db(cost):
    return next(c for c in cost.components if c.kind == "database")


def test_a_one_year_database_quote_bills_every_hour_of_the_term():
    cost = estimate_site(_campaign({"db_terms": {"on-demand": 0.36, "1y": 0.25}}), "a", term="1y")
    db = _db(cost)
    # a commitment bills 730 h a month whatever usage.hours_per_month (500): 730 x 0.25 = 182.50
    assert (db.quantity, db.unit_price_usd, db.label) == (730, 0.25, "override")
    assert db.monthly_usd == pytest.approx(182.5)
    assert db.commitment_months == 12
    assert not any("db_usd_per_hour" in c for c in cost.caveats)
    # on demand the same override gives its on-demand quote for the hours used: 500 x 0.36
    od = _db(estimate_site(_campaign({"db_terms": {"on-demand": 0.36, "1y": 0.25}}), "a",
                           term="on-demand"))
    assert od.monthly_usd == pytest.approx(180.0) and od.commitment_months == 1


def test_a_term_the_quote_lacks_is_a_named_missing_price():
    with pytest.raises(MissingPrices) as e:
        estimate_site(_campaign({"db_terms": {"on-demand": 0.36}}), "a", term="3y")
    text = "\n".join(e.value.missing)
    assert "db.m6i.large" in text and "price_override.db_terms.3y" in text
    # compute has no 3y quote either (terms has only 1y): both are listed, neither estimated
    assert "c7i.xlarge" in text


def test_a_bare_database_override_is_used_as_stated_with_a_caveat_naming_db_terms():
    cost = estimate_site(_campaign({"db_usd_per_hour": 0.36}), "a", term="1y")
    # as before: the stated $/h for the hours used, 500 x 0.36 = 180.00, and the caveat says
    # where a 1y quote goes
    assert _db(cost).monthly_usd == pytest.approx(180.0)
    assert any("price_override.db_terms.1y" in c for c in cost.caveats)


def test_db_terms_refuses_spot_and_bad_prices():
    with pytest.raises(Exception, match="db_terms"):
        _campaign({"db_terms": {"spot": 0.1}})
    with pytest.raises(Exception, match="db_terms"):
        _campaign({"db_terms": {"1y": -1}})


def test_db_terms_and_a_bare_database_rate_are_not_both_taken():
    """Planted: with both, db_rate read db_terms only and db_usd_per_hour went unused."""
    with pytest.raises(Exception, match=r"db_usd_per_hour .* or db_terms .* not both"):
        _campaign({"db_usd_per_hour": 0.4, "db_terms": {"1y": 0.25}})


def test_compute_terms_and_a_bare_compute_rate_are_not_both_taken():
    """Planted: with both, rate() read terms only and usd_per_hour went unused."""
    with pytest.raises(Exception, match=r"usd_per_hour .* or terms .* not both"):
        _campaign({"usd_per_hour": 0.2, "terms": {"1y": 0.12}})


@pytest.mark.parametrize("database,term", [
    # db.t3.large Single-AZ has an on-demand catalog row but no RDS RI row in
    # db_commitments.csv: the 1y price is missing, and the message says where a quote goes
    ({"instance": "db.t3.large", "ha": False, "storage_gb": 100, "burstable": True}, "1y"),
    # a class the snapshot lacks altogether, under 3y, names the same key
    ({"instance": "db.m6i.large", "ha": True, "storage_gb": 100}, "3y")])
def test_the_catalog_path_names_db_terms_too(database, term):
    site = {"name": "b", "provider": "aws", "region": "us-east-1",
            "zones": ["us-east-1a", "us-east-1b"], "instance_type": "m6a.xlarge",
            "database": database}
    c = parse_campaign({"name": "t", "sites": [site],
                        "usage": {"hours_per_month": 730, "instances": 1}}, "test")
    with pytest.raises(MissingPrices) as e:
        estimate_site(c, "b", term=term)
    assert any(database["instance"] in m and f"price_override.db_terms.{term}" in m
               for m in e.value.missing)
