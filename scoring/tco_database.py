"""The managed PostgreSQL of a site as billed: instance hours (on-demand or committed) and
the storage the program provisions (core/provider_facts.py), with overrides labelled."""

from __future__ import annotations

from collections.abc import Callable

from core.errors import PriceNotFoundError
from core.provider_facts import DB_STORAGE, provisioned_db_storage_gb
from core.scenario import CloudSite, Usage
from scoring.catalog import Catalog
from scoring.db_commitments import committed

Make = Callable[..., object]
TERM_MONTHS = {"on-demand": 1, "spot": 1, "1y": 12, "3y": 36}
HOURS_PER_MONTH_COMMITTED = 730  # a commitment bills every hour of the 730-hour month


def database_parts(site: CloudSite, usage: Usage, catalog: Catalog, term: str,
                   _component: Make) -> list:
    db = site.database
    if db is None:
        return []
    ov = site.price_override
    ha = "HA" if db.ha else "single zone"
    name = f"managed PostgreSQL {db.instance or ''} ({ha})".replace("  ", " ")
    quoted = ov.db_rate(term) if ov is not None else None
    price = None
    if db.instance is not None:
        try:
            price = catalog.managed_db(site.provider, site.region, db.instance, db.ha)
        except PriceNotFoundError as e:
            if quoted is None:
                raise _unquoted(e, name, ov, term) from None
    elif quoted is None:
        raise PriceNotFoundError(
            f"site {site.name}: database.instance is not set, so the managed PostgreSQL on "
            f"{site.provider} {site.region} cannot be priced; name a tier or give "
            "price_override.db_usd_per_hour with a reason")
    hours = usage.hours_per_month
    if quoted is not None:
        assert ov is not None
        note = f"catalog {price.usd_per_hour}/h" if price else "not in catalog"
        months = 1
        if ov.db_terms and TERM_MONTHS[term] > 1:  # a quoted commitment bills every hour
            note, months, hours = (f"{note}; quoted for {term}", TERM_MONTHS[term],
                                   HOURS_PER_MONTH_COMMITTED)
        inst = _component(name, hours, "hours", quoted, f"price_override: {ov.reason}",
                          "override", "database", note, months)
    else:
        assert price is not None
        rate, source, note, conf, months = (price.usd_per_hour, price.source, price.note,
                                            price.confidence, 1)
        if TERM_MONTHS[term] > 1:  # a reserved / committed database bills every hour
            rate, source, note, conf = committed(catalog, site.provider, site.region, price,
                                                 term, usage.commitment_payment)
            months, hours = TERM_MONTHS[term], HOURS_PER_MONTH_COMMITTED
        inst = _component(name, hours, "hours", rate, source, "catalog", "database", note,
                          months, confidence=conf)
    gb, gb_note = _db_storage(site.provider, db.storage_gb)
    if ov is not None and ov.db_storage_usd_per_gb_month is not None:
        store = _component("managed PostgreSQL storage", gb, "GB-month",
                           ov.db_storage_usd_per_gb_month, f"price_override: {ov.reason}",
                           "override", "database_storage", gb_note)
    elif price is not None and price.storage_usd_per_gb_month is not None:
        store = _component("managed PostgreSQL storage", gb, "GB-month",
                           price.storage_usd_per_gb_month, price.source, "catalog",
                           "database_storage", gb_note, confidence=price.confidence)
    else:
        raise PriceNotFoundError(
            f"{site.provider} {site.region}: no storage price for managed PostgreSQL "
            f"{db.instance or '(unnamed)'} in the snapshot; give "
            "price_override.db_storage_usd_per_gb_month with a reason")
    return [inst, store]


def _unquoted(e: PriceNotFoundError, name: str, ov: object, term: str) -> PriceNotFoundError:
    """The catalog has no row and the override quotes none for this term: say which key."""
    key = term if term in ("1y", "3y") else "on-demand"
    if getattr(ov, "db_terms", None):
        return PriceNotFoundError(f"{e}; price_override.db_terms has no {key!r} quote for "
                                  f"{name}: give price_override.db_terms.{key} with a reason")
    if key != "on-demand":
        return PriceNotFoundError(f"{e} (or price_override.db_terms.{key} for a {key} "
                                  "reserved quote)")
    return e


def _db_storage(provider: str, requested: float) -> tuple[int, str]:
    """The storage the program provisions (core/provider_facts.py), which is what is billed."""
    gb = provisioned_db_storage_gb(provider, requested)
    if gb == requested:
        return gb, ""
    return gb, (f"{requested:g} GB asked, {gb} provisioned: "
                f"{DB_STORAGE[provider].describe()}")


