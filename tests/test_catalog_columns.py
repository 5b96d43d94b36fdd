"""Column order of the catalog files: refreshed snapshots keep the shipped files' header.

The price rows share their provenance fields through a base class, which pydantic lists
first; the CSV files keep them last. These tests pin the written and the declared order to
the headers of the files shipped in scoring/data.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from scoring.catalog_csv import CatalogError, read_rows
from scoring.catalog_load import DATA_DIR, load_catalog
from scoring.catalog_rows import ArchRule, ComplianceRow, ComputeRow, SlaRow
from scoring.compliance import ComplianceLevelRow
from scoring.prices.snapshot import KINDS, rows_by_kind, write_csv


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as f:
        return next(csv.reader(f))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_written_header_equals_the_shipped_file_and_rows_read_back(kind, tmp_path):
    shipped = DATA_DIR / "pricing" / f"{kind}.csv"
    rows = rows_by_kind(load_catalog())[kind]
    out = tmp_path / f"{kind}.csv"
    write_csv(out, KINDS[kind], rows)
    assert _header(out) == _header(shipped)
    back = read_rows(out, KINDS[kind])
    derived = set(KINDS[kind].derived)
    assert [r.model_dump(exclude=derived) for r in back] == [
        r.model_dump(exclude=derived) for r in rows]


@pytest.mark.parametrize(("model", "name"), [
    (ArchRule, "architectures.csv"), (SlaRow, "sla.csv"), (ComplianceRow, "compliance.csv"),
    (ComplianceLevelRow, "compliance_levels.csv")])
def test_fact_rows_declare_the_shipped_header(model, name):
    assert model.csv_columns() == _header(DATA_DIR / name)


def test_problems_of_one_row_are_listed_in_column_order(tmp_path):
    """provider (first column) before source (a provenance column, a base-class field)."""
    path = tmp_path / "compute.csv"
    header = ComputeRow.csv_columns()
    values = dict.fromkeys(header, "")
    values.update(provider="ibm", region="r1", instance_type="t1", family="compute", vcpus="2",
                  memory_gib="4", ondemand_usd_per_hour="0.1", source=" ")
    path.write_text(",".join(header) + "\n" + ",".join(values[h] for h in header) + "\n")
    with pytest.raises(CatalogError) as e:
        read_rows(path, ComputeRow)
    msg = str(e.value)
    assert "field 'provider'" in msg and "field 'source'" in msg
    assert msg.index("field 'provider'") < msg.index("field 'source'")
