"""A price snapshot on disk: pricing/*.csv plus provenance.json, written all at once or not at all.

A refresh is written into a sibling temporary directory, validated by loading it like any
snapshot, and only then swapped in; the snapshot it replaces is kept as `<dir>.previous`. A
failure anywhere leaves the existing snapshot exactly as it was.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from pathlib import Path

from core.errors import BakeoffError
from core.exit_codes import ExitCode
from scoring.catalog import Catalog
from scoring.catalog_load import load_catalog
from scoring.catalog_platforms import PlatformRow
from scoring.catalog_rows import (
    CommitmentRow,
    ComputeRow,
    DiskTierRow,
    EgressTier,
    ManagedDbRow,
    Row,
    ServiceRow,
    StorageRow,
)
from scoring.db_commitments import DbCommitmentRow, rows_of

KINDS: dict[str, type[Row]] = {
    "compute": ComputeRow, "commitments": CommitmentRow, "egress": EgressTier,
    "managed_db": ManagedDbRow, "storage": StorageRow, "disk_tiers": DiskTierRow,
    "services": ServiceRow, "platforms": PlatformRow, "db_commitments": DbCommitmentRow,
}



def rows_by_kind(catalog: Catalog) -> dict[str, list[Row]]:
    """Every kind's rows, db_commitments too (the catalog reads that file apart, lazily)."""
    return {**catalog.all_rows(), "db_commitments": rows_of(catalog)}


class RefreshError(BakeoffError):
    """A refresh could not complete; the previous snapshot is untouched."""

    exit_code = int(ExitCode.PRICE_REFRESH_FAILED)


def row_region(row: Row) -> str:
    return str(getattr(row, "region", None) or getattr(row, "region_scope", ""))


def write_csv(path: Path, model: type[Row], rows: list[Row]) -> None:
    cols = model.csv_columns()
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            vals = []
            for c in cols:
                v = getattr(r, c)
                if isinstance(v, bool):
                    v = str(v).lower()
                vals.append("" if v is None else v)
            w.writerow(vals)


def write_snapshot(dest: Path, rows: dict[str, list[Row]], provenance: dict) -> Catalog:
    """Write, validate, then swap in atomically; returns the loaded new snapshot."""
    dest = dest.resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.new-", dir=dest.parent))
    try:
        pricing = tmp / "pricing"
        pricing.mkdir()
        for kind, model in KINDS.items():
            write_csv(pricing / f"{kind}.csv", model, rows.get(kind, []))
        (pricing / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n",
                                                 encoding="utf-8")
        catalog = load_catalog(tmp)  # a snapshot that does not load is never swapped in
        rows_of(catalog)  # nor one whose db_commitments.csv does not (read apart, lazily)
        previous = dest.with_name(dest.name + ".previous")
        if dest.exists():
            if previous.exists():
                shutil.rmtree(previous)
            dest.rename(previous)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    catalog.path = dest
    return catalog
