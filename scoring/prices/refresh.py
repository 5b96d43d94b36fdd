"""`bakeoff prices refresh`: ask each provider's API, then write one new snapshot or nothing.

Rules that keep a refresh honest:
- every provider asked must answer in full, else nothing is written and the reason is given;
- what was not asked (another provider, another region, a kind a fetcher does not cover) is
  carried from the base snapshot and listed as carried in the provenance, never mixed silently.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from scoring.catalog import Catalog
from scoring.catalog_load import load_catalog
from scoring.catalog_rows import Row
from scoring.prices.common import DEFAULT_REGIONS, ProviderResult, now_iso, provider_of_region
from scoring.prices.snapshot import KINDS, RefreshError, row_region, rows_by_kind, write_snapshot

Fetcher = Callable[[list[str]], ProviderResult]


def default_fetchers() -> dict[str, Fetcher]:
    from scoring.prices import refresh_aws, refresh_azure, refresh_gcp

    return {"aws": refresh_aws.fetch, "azure": refresh_azure.fetch, "gcp": refresh_gcp.fetch}


def plan_regions(providers: list[str], regions: list[str] | None) -> dict[str, list[str]]:
    """Which regions each provider is asked for; a region no provider owns is an error."""
    if not regions:
        return {p: list(DEFAULT_REGIONS[p]) for p in providers}
    out: dict[str, list[str]] = {p: [] for p in providers}
    for r in regions:
        owner = provider_of_region(r)
        if owner is None or (owner not in providers):
            raise RefreshError(f"--region {r}: not a region of {', '.join(providers)} (aws like "
                               "us-east-1, azure like eastus, gcp like us-central1)")
        out[owner].append(r)
    return {p: rs for p, rs in out.items() if rs}


def _carry(base: Catalog, fresh: dict[str, ProviderResult]) -> tuple[dict[str, list[Row]],
                                                                       list[dict]]:
    """Rows of the base for every (provider, region, kind) the refresh did not produce; for
    network services the item counts too (a refreshed cross-AZ price keeps the old LB rows)."""
    produced = {(p, row_region(r), _kind(kind, r)) for p, res in fresh.items()
                for kind, rows in res.rows.items() for r in rows}
    carried: dict[tuple[str, str, str], int] = {}
    out: dict[str, list[Row]] = {k: [] for k in KINDS}
    for kind, rows in rows_by_kind(base).items():
        for r in rows:
            key = (r.provider, row_region(r), _kind(kind, r))
            if key in produced:
                continue
            out[kind].append(r)
            carried[key] = carried.get(key, 0) + 1
    notes = [{"provider": p, "region": reg, "kind": k, "rows": n,
              "why": _why(fresh, p, reg, k)} for (p, reg, k), n in sorted(carried.items())]
    return out, notes


def _why(fresh: dict[str, ProviderResult], provider: str, region: str, kind: str) -> str:
    """Why a (provider, region, kind) was carried: every carried row says it."""
    res = fresh.get(provider)
    if res is None:
        return "provider not asked"
    if region not in res.regions:
        return "region not asked"
    if kind.split("/")[0] in res.expected:
        return "asked, but the API returned no rows of this kind for this region"
    return "not fetched by this refresh (the fetcher does not price this kind)"


def _kind(kind: str, row: Row) -> str:
    """Services count per item and egress per destination: a refresh that priced egress to
    the default destinations but not to China carries (and names) the China rows."""
    if kind == "services":
        return f"services/{row.item}"  # type: ignore[attr-defined]
    if kind == "egress":
        return f"egress/{row.destination}"  # type: ignore[attr-defined]
    return kind


def refresh(dest: Path, providers: list[str], regions: list[str] | None = None, *,
            fetchers: dict[str, Fetcher] | None = None, base: Catalog | None = None,
            dry_run: bool = False) -> tuple[Catalog, dict]:
    """Fetch, merge with explicit carry-over, write atomically. Raises RefreshError on failure.
    With dry_run the new snapshot is built and validated in a scratch folder, diffed against
    the base (provenance["diff"]) and removed: `dest` is never touched."""
    fetchers = fetchers or default_fetchers()
    plan = plan_regions(providers, regions)
    fresh: dict[str, ProviderResult] = {}
    kept = (f"the previous snapshot at {dest} is kept" if (dest / "pricing").is_dir()
            else f"no snapshot was written to {dest}")
    for provider, regs in plan.items():
        try:
            res = fetchers[provider](regs)
        except RefreshError as e:
            raise RefreshError(f"{provider}: {e}; nothing was written, {kept}") from None
        missing = [r for r in regs
                   if not any(row_region(x) == r for x in res.rows.get("compute", []))]
        if missing:
            raise RefreshError(f"{provider}: the API returned no compute prices for "
                               f"{', '.join(missing)}; refusing to write a partial snapshot "
                               f"({kept})")
        fresh[provider] = res
    if base is None:
        base = load_catalog(dest) if (dest / "pricing").is_dir() else load_catalog()
    rows, carried = _carry(base, fresh)
    for res in fresh.values():
        for kind, rs in res.rows.items():
            rows[kind].extend(rs)
    provenance = {
        "tool": "bakeoff prices refresh",
        "retrieved_at": now_iso(),
        "providers": {p: {"api": r.api, "regions": r.regions, "retrieved_at": r.retrieved_at,
                          "rows": r.counts(), "notes": r.notes} for p, r in fresh.items()},
        "carried_from": str(base.path or "custom") + f" (snapshot {base.snapshot_id})",
        "carried": carried,
    }
    if not dry_run:
        return write_snapshot(dest, rows, provenance), provenance
    from scoring.prices.diff import diff

    scratch = Path(tempfile.mkdtemp(prefix="bakeoff-prices-dry-run-"))
    try:
        catalog = write_snapshot(scratch / "snapshot", rows, provenance)
        provenance["diff"] = diff(base, catalog)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    catalog.path = None
    return catalog, provenance
