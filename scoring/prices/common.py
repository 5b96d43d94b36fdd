"""What every provider fetcher returns, and the region lists a refresh covers by default."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from scoring.catalog_rows import Row

DEFAULT_REGIONS: dict[str, list[str]] = {
    "aws": ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-1"],
    "azure": ["eastus", "westeurope", "northeurope", "southeastasia"],
    "gcp": ["us-central1", "europe-west1", "europe-west4", "asia-southeast1"],
}
PROVIDERS = tuple(DEFAULT_REGIONS)
HOURS_PER_MONTH = 730
HOURS_PER_YEAR = 8760


@dataclass
class ProviderResult:
    """Rows one provider's API gave, by kind, with what was asked and what was left out."""

    provider: str
    api: str
    regions: list[str]
    retrieved_at: str
    rows: dict[str, list[Row]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # The kinds this fetcher prices for every region asked: one it returns no row for is
    # carried from the old snapshot WITH that reason in the provenance, never silently.
    expected: tuple[str, ...] = ("compute",)

    def add(self, kind: str, row: Row) -> None:
        self.rows.setdefault(kind, []).append(row)

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in sorted(self.rows.items())}


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def provider_of_region(region: str) -> str | None:
    """aws: us-east-1; gcp: us-central1; azure: eastus (no dash)."""
    if re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", region):
        return "aws"
    if re.fullmatch(r"[a-z]+-[a-z]+\d+", region):
        return "gcp"
    if re.fullmatch(r"[a-z0-9]+", region):
        return "azure"
    return None


def family_of(letter_or_ratio: str) -> str:
    """Memory class -> catalog family: highcpu ~ compute, standard ~ general, highmem ~ memory."""
    return {"highcpu": "compute", "standard": "general", "highmem": "memory"}[letter_or_ratio]
