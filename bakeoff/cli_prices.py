"""`bakeoff prices show|equivalents|regions|refresh|diff`: browse, refresh and compare snapshots.

Everything but `refresh` works offline. The shipped snapshot is the default; a refreshed one is
used with `--snapshot DIR` or $BAKEOFF_PRICE_SNAPSHOT.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from core.errors import BakeoffError
from scoring.catalog import STALE_DAYS, Catalog, row_date
from scoring.catalog_csv import CONFIDENCE_LABEL
from scoring.catalog_load import load_catalog

_console = Console()  # the terminal's width: tables fold to fit
SNAPSHOT_OPTION = typer.Option(None, "--snapshot", help="a refreshed snapshot directory "
                               "(default: $BAKEOFF_PRICE_SNAPSHOT, else the shipped one)")


def short_source(source: str) -> str:
    """'owner/repo@<40 hex>:path/file.csv (date)' -> 'owner/repo@abcdef12:file.csv (date)'."""
    if source.startswith("price_override:"):
        return "price_override (reason below)"
    return re.sub(r"@([0-9a-f]{8})[0-9a-f]{32}:(?:[^ ;]*/)?([^/ ;]+)", r"@\1:\2", source)


def default_refresh_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "bakeoff" / "prices"


def catalog_for(snapshot: Path | None) -> Catalog:
    if snapshot is not None and not (snapshot / "pricing").is_dir():
        raise BakeoffError(f"--snapshot {snapshot}: not a price snapshot (no pricing/ folder); "
                           "create one with `bakeoff prices refresh --out DIR`")
    return load_catalog(snapshot)


def age_text(catalog: Catalog, when: str | None) -> str:
    days = catalog.age_days(when) if when else None
    if days is None:
        return "date unknown"
    return f"{when} ({days} d{', OLD' if days > STALE_DAYS else ''})"


def snapshot_banner(catalog: Catalog) -> str:
    """One line on which snapshot this is and how old its prices are; OLD past 90 days."""
    oldest = catalog.oldest_price_date()
    where = str(catalog.path or "shipped")
    line = f"price snapshot {catalog.snapshot_id} ({where})"
    if catalog.snapshot_date:
        line += f", assembled {age_text(catalog, catalog.snapshot_date)}"
    if oldest:
        days = catalog.age_days(oldest) or 0
        line += f"; oldest price dated {oldest} ({days} days)"
        if days > STALE_DAYS:
            line += (f" [bold yellow]older than {STALE_DAYS} days: refresh with "
                     "`bakeoff prices refresh`[/bold yellow]")
    undated = catalog.undated_rows()
    if undated:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(undated.items()))
        line += (f"; [bold yellow]{sum(undated.values())} price rows undated ({kinds}): age "
                 "unknown, treat as old[/bold yellow]")
    return line


def _confidence(row: object) -> str:
    level = getattr(row, "level", None)
    return CONFIDENCE_LABEL.get(level, "unstated") if level else "unstated"


def prices_show(
    provider: str | None = typer.Option(None, help="aws, azure or gcp"),
    region: str | None = typer.Option(None, help="e.g. us-east-1, eastus, us-central1"),
    family: str | None = typer.Option(None, help="compute, general or memory"),
    vcpus: int | None = typer.Option(None, help="exact vCPU count"),
    arch: str | None = typer.Option(None, help="x86_64 or arm64"),
    snapshot: Path | None = SNAPSHOT_OPTION,
    fmt: str = typer.Option("table", "--format", help="table | json | csv"),
) -> None:
    """Compute prices in the snapshot with every term, each row's source, date and confidence."""
    from core.tables import check_format

    check_format(fmt, command="prices show")
    catalog = catalog_for(snapshot)
    rows = catalog.compute_rows(provider, region, family, vcpus, arch)
    if not rows:
        valid = catalog.valid_values()
        given = {"provider": provider, "region": region, "family": family,
                 "vcpus": None if vcpus is None else str(vcpus), "arch": arch}
        bad = [f"--{k} {v!r} (valid: {', '.join(valid[k])})" for k, v in given.items()
               if v is not None and v not in valid[k]]
        hint = "; ".join(bad) or ("each filter is valid alone but no row has them all; "
                                  "see `bakeoff prices regions`")
        raise BakeoffError(f"no compute price matches: {hint}")
    from core.tables import print_fitted

    cols = ("provider", "region", "instance type", "family", "arch", "vCPU", "GiB",
            "on-demand", "spot", "1y", "3y", "confidence", "date (age)", "source")
    table_rows = []
    for r in rows:
        c1 = catalog.commitment(r.provider, r.region, r.instance_type, 1)
        c3 = catalog.commitment(r.provider, r.region, r.instance_type, 3)
        table_rows.append((
            r.provider, r.region, r.instance_type, r.family, r.arch, str(r.vcpus),
            f"{r.memory_gib:g}", f"{r.ondemand_usd_per_hour:g}",
            f"{r.spot_usd_per_hour:g}" if r.spot_usd_per_hour else "n/a",
            f"{c1.effective_usd_per_hour:g}" if c1 else "n/a",
            f"{c3.effective_usd_per_hour:g}" if c3 else "n/a",
            _confidence(r), age_text(catalog, row_date(r)), short_source(r.source)))
    if fmt != "table":
        from core.tables import emit_records

        emit_records([dict(zip(cols, r, strict=True)) for r in table_rows], fmt)
        return
    # least important first when the terminal is narrow (80 columns keep the price)
    print_fitted(_console, cols, table_rows,
                 drop=("source", "date (age)", "family", "arch", "confidence", "3y", "1y",
                       "spot", "GiB"),
                 whole=("region", "instance type"), right=("vCPU", "GiB"),
                 title=f"compute prices, USD per hour. {snapshot_banner(catalog)}")
    _console.print(f"{len(rows)} row(s). 'n/a' = not in the snapshot (never guessed); sources: "
                   "scoring/data/pricing/PROVENANCE.md", soft_wrap=True)


def prices_regions(snapshot: Path | None = SNAPSHOT_OPTION,
                   fmt: str = typer.Option("table", "--format", help="table | json | csv")
                   ) -> None:
    """Which provider/region/term combinations the snapshot prices, and for what."""
    from core.tables import check_format, emit_records

    check_format(fmt, command="prices regions")
    catalog = catalog_for(snapshot)
    if fmt != "table":
        emit_records([{k: c[k] for k in ("provider", "region", "kinds", "terms")}
                      for c in catalog.coverage()], fmt)
        return
    t = Table(title=f"coverage. {snapshot_banner(catalog)}")
    for col in ("provider", "region", "priced", "compute terms"):
        t.add_column(col)
    for c in catalog.coverage():
        t.add_row(c["provider"], c["region"], c["kinds"], c["terms"] or "-")
    _console.print(t)


def prices_equivalents(
    family: str = typer.Option(None, help="compute (highcpu), general (standard) or memory "
                                          "(highmem); from --scenario when given"),
    vcpus: int = typer.Option(None, help="vCPU count; from --scenario when given"),
    memory: float | None = typer.Option(None, help="memory in GiB (default: the family's "
                                                   "GiB per vCPU x vCPUs)"),
    arch: str = typer.Option("x86_64", help="x86_64 or arm64"),
    cpu_vendor: str = typer.Option("any", "--cpu-vendor", help="intel, amd, arm or any"),
    region: list[str] = typer.Option([], "--region", help="a region per provider, e.g. "
                                     "--region eu-west-1 --region westeurope"),
    database: bool = typer.Option(False, "--database", help="also match managed PostgreSQL "
                                  "classes (shape: --db-vcpus/--db-memory, else the "
                                  "scenario's database class)"),
    db_vcpus: int | None = typer.Option(None, "--db-vcpus", help="database vCPUs"),
    db_memory: float | None = typer.Option(None, "--db-memory", help="database GiB"),
    ha: bool = typer.Option(True, "--ha/--no-ha", help="database with high availability"),
    burstable: bool = typer.Option(False, "--burstable", help="burstable compute shapes and "
                                   "DB classes instead of dedicated ones"),
    scenario: Path | None = typer.Option(None, "--scenario", help="take size, regions and "
                                         "database class from this scenario's sites"),
    snapshot: Path | None = SNAPSHOT_OPTION,
) -> None:
    """The matching instance type (and database class) per provider, the CPU generations
    compared, and what still differs."""
    from bakeoff.equivalents_cli import equivalents_tables

    for table in equivalents_tables(catalog_for(snapshot), family, vcpus, memory, arch,
                                    cpu_vendor, region, database, db_vcpus, db_memory, ha,
                                    burstable, scenario):
        _console.print(table)


def prices_refresh(
    provider: list[str] = typer.Option([], "--provider", help="aws, azure, gcp (repeatable; "
                                       "default all three)"),
    region: list[str] = typer.Option([], "--region", help="regions to fetch (default: the "
                                     "US/EU/APAC regions listed in docs/pricing.md)"),
    out: Path = typer.Option(None, "--out", help="snapshot directory (default "
                             "~/.local/share/bakeoff/prices)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="fetch and validate, show what "
                                 "would change against the current snapshot, write nothing"),
) -> None:
    """Build a new snapshot from the providers' price APIs; on failure keep the old one."""
    from scoring.prices.common import PROVIDERS
    from scoring.prices.refresh import refresh

    bad = [p for p in provider if p not in PROVIDERS]
    if bad:
        raise typer.BadParameter(f"expected aws, azure or gcp; got {', '.join(bad)}",
                                 param_hint="--provider")
    dest = out or default_refresh_dir()
    catalog, prov = refresh(dest, list(provider) or list(PROVIDERS), list(region) or None,
                            dry_run=dry_run)
    for p, info in prov["providers"].items():
        counts = ", ".join(f"{k} {n}" for k, n in info["rows"].items())
        _console.print(f"{p}: {info['api']}; regions {', '.join(info['regions'])}; {counts}",
                       soft_wrap=True)
        for n in info["notes"]:
            _console.print(f"  note: {n}", soft_wrap=True)
    if prov["carried"]:
        _console.print(f"carried unchanged from {prov['carried_from']}:")
        for c in prov["carried"]:
            _console.print(f"  {c['provider']} {c['region']} {c['kind']}: {c['rows']} row(s) "
                           f"({c.get('why', '')})", soft_wrap=True)
    if dry_run:
        _print_changes(prov["diff"], f"would change {prov['carried_from']} -> refreshed")
        _console.print(f"dry run: nothing was written to {dest}", soft_wrap=True)
        return
    _console.print(f"wrote snapshot {catalog.snapshot_id} to {dest}; use it with --snapshot "
                   f"{dest} or BAKEOFF_PRICE_SNAPSHOT={dest}", soft_wrap=True)


def prices_diff(
    old: str = typer.Argument(..., help="snapshot directory, or 'shipped'"),
    new: str = typer.Argument(..., help="snapshot directory, or 'shipped'"),
    fmt: str = typer.Option("table", "--format", help="table | json | csv"),
) -> None:
    """Prices changed, added and removed between two snapshots."""
    from core.tables import check_format, emit_records
    from scoring.prices.diff import diff

    check_format(fmt, command="prices diff")

    def load(s: str) -> Catalog:
        return load_catalog() if s == "shipped" else catalog_for(Path(s))

    changes = diff(load(old), load(new))
    if fmt != "table":
        emit_records([{"kind": c.kind, "key": c.key, "change": c.change, "field": c.field,
                       "old": c.old, "new": c.new, "pct": c.pct} for c in changes], fmt,
                     ("kind", "key", "change", "field", "old", "new", "pct"))
        return
    _print_changes(changes, f"price changes {old} -> {new}")


def _print_changes(changes: list, title: str) -> None:
    t = Table(title=title)
    for col in ("kind", "key", "change", "field", "old", "new", "%"):
        t.add_column(col, overflow="fold")
    for c in changes:
        t.add_row(c.kind, c.key, c.change, c.field, "" if c.old is None else f"{c.old:g}",
                  "" if c.new is None else f"{c.new:g}",
                  "" if c.pct is None else f"{c.pct:+.1f}")
    _console.print(t)
    counts = {k: sum(1 for c in changes if c.change == k) for k in ("changed", "added",
                                                                     "removed")}
    _console.print(", ".join(f"{n} {k}" for k, n in counts.items()))


def register(prices: typer.Typer) -> None:
    prices.command("show")(prices_show)
    prices.command("equivalents")(prices_equivalents)
    prices.command("regions")(prices_regions)
    prices.command("refresh")(prices_refresh)
    prices.command("diff")(prices_diff)
