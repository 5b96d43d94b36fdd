"""Row models for the shipped price, SLA and compliance data: the fields and rules of each CSV
file's rows. The reader and the cell parsers are in scoring/catalog_csv.py.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scoring.catalog_csv import Confidence, compiles, confidence_level, parse_pairs

Provider = Literal["aws", "azure", "gcp"]
Family = Literal["compute", "general", "memory"]
Arch = Literal["x86_64", "arm64"]
CpuVendor = Literal["intel", "amd", "arm", "mixed", "unknown"]


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    derived: ClassVar[tuple[str, ...]] = ()  # fields computed on load: never a CSV column

    @property
    def level(self) -> Confidence | None:
        return confidence_level(getattr(self, "confidence", None))

    @classmethod
    def csv_columns(cls) -> list[str]:
        """The fields in the order of the data file's columns."""
        return [n for n in cls.model_fields if n not in cls.derived]

    @field_validator("source_date", "recorded", mode="before", check_fields=False)
    @classmethod
    def _iso_date(cls, v: object) -> object:
        if v is not None:
            date.fromisoformat(str(v))
        return v

    @field_validator("source", "source_url", check_fields=False)
    @classmethod
    def _nonblank(cls, v: str) -> str:
        if not v or not v.strip():
            raise ValueError("provenance is required (where the number came from)")
        return v


PROVENANCE_COLUMNS = ("source", "source_url", "source_date", "sku", "retrieved_at",
                      "confidence", "notes")


class PriceRow(Row):
    """Where a price came from. The shipped CSV files put these columns after the row's own
    (see csv_columns), although pydantic lists a base class's fields first."""

    source: str
    source_date: str | None = None
    sku: str | None = None
    retrieved_at: str | None = None
    confidence: str | None = None

    @classmethod
    def csv_columns(cls) -> list[str]:
        """The row's own columns, then its provenance columns: the shipped files' order."""
        own = [n for n in super().csv_columns() if n not in PROVENANCE_COLUMNS]
        return own + [n for n in PROVENANCE_COLUMNS if n in cls.model_fields]

    @property
    def provenance(self) -> str:
        return f"{self.source} ({self.source_date or 'date unknown'})"


class ConfidentPriceRow(PriceRow):
    """A price row whose file must state a confidence; its provenance line shows it."""

    confidence: str

    @property
    def provenance(self) -> str:
        return f"{self.source} ({self.source_date or 'date unknown'}; {self.confidence})"


class ComputeRow(PriceRow):
    provider: Provider
    region: str = Field(min_length=2)
    instance_type: str = Field(min_length=2)
    family: Family
    vcpus: int = Field(gt=0)
    memory_gib: float = Field(gt=0)
    ondemand_usd_per_hour: float = Field(gt=0)
    spot_usd_per_hour: float | None = Field(None, gt=0)
    notes: str | None = None
    arch: Arch = "x86_64"  # derived from architectures.csv
    # Derived from cpu_platforms.csv: who makes the CPU, which one, its era (1 = 2017-20,
    # 2 = 2021-22, 3 = 2023-24, 4 = 2025-), the year the family went GA, burstable or not.
    cpu_vendor: CpuVendor = "unknown"
    cpu: str = ""
    era: int = 0
    generation_year: int = 0
    burstable: bool = False
    derived: ClassVar[tuple[str, ...]] = ("arch", "cpu_vendor", "cpu", "era",
                                          "generation_year", "burstable")

    @property
    def generation(self) -> str:
        """'Intel Xeon 4th gen (Sapphire Rapids), era 3 (2023)' for reports and equivalents."""
        if not self.era:
            return "CPU platform unknown"
        return f"{self.cpu}, era {self.era} ({self.generation_year})"


class CommitmentRow(PriceRow):
    provider: Provider
    region: str = Field(min_length=2)
    instance_type: str = Field(min_length=2)
    term_years: int = Field(ge=1, le=3)
    payment: Literal["no_upfront", "partial_upfront", "all_upfront"]
    effective_usd_per_hour: float = Field(gt=0)
    ondemand_usd_per_hour: float = Field(gt=0)
    upfront_usd: float | None = Field(None, ge=0, description="paid at purchase per instance, "
                                      "included in effective_usd_per_hour spread over the term")
    instrument: Literal["reservation", "savings_plan"] = "reservation"
    notes: str | None = None

    @field_validator("instrument", mode="before")
    @classmethod
    def _default_instrument(cls, v: object) -> object:
        return "reservation" if v is None else v

    @model_validator(mode="after")
    def _upfront_fits(self) -> CommitmentRow:
        if self.upfront_usd and self.upfront_usd / (self.term_years * 8760) > (
                self.effective_usd_per_hour * 1.0001):
            raise ValueError("upfront_usd spread over the term exceeds effective_usd_per_hour")
        return self

    @field_validator("term_years")
    @classmethod
    def _one_or_three(cls, v: int) -> int:
        if v not in (1, 3):
            raise ValueError("term_years must be 1 or 3")
        return v


# A destination group the provider prices apart (core/egress_mix.py), or "all": the price does
# not depend on the destination (AWS, Azure: one ladder for every GB, docs/pricing.md).
EgressRowDestination = Literal["default", "china", "australia", "all"]


class EgressTier(ConfidentPriceRow):
    provider: Provider
    region_scope: str = Field(min_length=2)
    destination: EgressRowDestination = "default"
    tier_start_gb: float = Field(ge=0)
    tier_end_gb: float | None = Field(None, gt=0)
    usd_per_gb: float = Field(ge=0, description="0 only for a free allowance")
    tier_as_published: str
    source_url: str

    @model_validator(mode="after")
    def _ordered(self) -> EgressTier:
        if self.tier_end_gb is not None and self.tier_end_gb <= self.tier_start_gb:
            raise ValueError("tier_end_gb must be greater than tier_start_gb")
        if self.usd_per_gb == 0 and "free" not in self.tier_as_published.lower():
            raise ValueError("usd_per_gb is 0 but tier_as_published does not say 'free'")
        return self


class ManagedDbRow(PriceRow):
    provider: Provider
    region: str = Field(min_length=2)
    engine: Literal["postgresql"]
    tier_or_instance: str = Field(min_length=2)
    vcpus: int | None = Field(None, gt=0)
    memory_gib: float | None = Field(None, gt=0)
    ha: bool
    burstable: bool = False
    usd_per_hour: float = Field(gt=0)
    storage_usd_per_gb_month: float | None = Field(None, gt=0)
    notes: str | None = None


class StorageRow(ConfidentPriceRow):
    provider: Provider
    region: str = Field(min_length=2)
    volume_type: str = Field(min_length=2)
    usd_per_gb_month: float = Field(gt=0)
    iops_model: Literal["per_iops", "included_with_size"]
    iops_usd_per_month: float | None = Field(None, gt=0)
    iops_included: int | None = Field(None, ge=0)
    # Provisioned throughput (Azure Premium SSD v2): MB/s above the free baseline, per month.
    throughput_usd_per_mbps_month: float | None = Field(None, gt=0)
    throughput_included_mbps: int | None = Field(None, ge=0)
    notes: str | None = None

    @model_validator(mode="after")
    def _iops_price(self) -> StorageRow:
        if self.iops_model == "per_iops" and self.iops_usd_per_month is None:
            raise ValueError("iops_model per_iops needs iops_usd_per_month")
        if (self.throughput_usd_per_mbps_month is None) != (self.throughput_included_mbps
                                                            is None):
            raise ValueError("give throughput_usd_per_mbps_month and throughput_included_mbps "
                             "together (the MB/s price applies above the included MB/s)")
        return self


class DiskTierRow(ConfidentPriceRow):
    """A disk billed per provisioned tier (Azure Premium SSD P10 = up to 128 GiB, per disk)."""

    provider: Provider
    region: str = Field(min_length=2)
    volume_type: str = Field(min_length=2)
    tier: str = Field(min_length=1)
    max_gb: float = Field(gt=0)
    usd_per_month: float = Field(gt=0)
    iops: int | None = Field(None, gt=0)
    notes: str | None = None


ServiceItem = Literal["lb_hour", "lb_lcu_hour", "lb_rule_hour", "lb_data_gb",
                      "public_ipv4_hour", "nat_hour", "nat_data_gb", "cross_az_gb",
                      "db_backup_gb_month",
                      # issue 18: the first-rules price, the LB's own address, NAT per VM
                      "lb_first_rules_hour", "lb_ipv4_hour", "nat_vm_hour"]


class ServiceRow(ConfidentPriceRow):
    """A network or data-protection price a web + database PoC pays besides VMs and disks."""

    provider: Provider
    region: str = Field(min_length=2)
    item: ServiceItem
    unit: str = Field(min_length=1)
    usd_per_unit: float = Field(ge=0)
    as_published: str
    notes: str | None = None


class ArchRule(Row):
    provider: Provider
    pattern: str
    arch: Arch
    source: str

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        return compiles(v)


class CpuPlatformRule(Row):
    """Which CPU an instance family runs on (first matching pattern wins); the like-for-like
    rule (scoring/equivalents.py) matches vendor and era from these."""

    provider: Provider
    pattern: str
    cpu_vendor: Literal["intel", "amd", "arm", "mixed"]
    cpu: str = Field(min_length=3)
    era: int = Field(ge=1, le=4)
    generation_year: int = Field(ge=2010, le=2100)
    burstable: bool
    source: str

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        return compiles(v)


class SlaRow(Row):
    provider: Provider
    service: Literal["compute", "managed_postgresql", "load_balancer"]
    tier: str = Field(min_length=2)
    covered: bool
    availability_pct: float | None = Field(None, gt=0, le=100)
    credit_tiers: tuple[tuple[float, float], ...] = ()
    applies_when: str
    source_url: str = Field(pattern=r"^https?://")
    recorded: str
    confidence: str
    notes: str | None = None

    @field_validator("credit_tiers", mode="before")
    @classmethod
    def _parse_tiers(cls, v: object) -> object:
        """'99.0:10;95.0:30;0:100' -> ((99.0, 10.0), (95.0, 30.0), (0.0, 100.0))."""
        return parse_pairs(v, "floor:percent")

    @model_validator(mode="after")
    def _complete(self) -> SlaRow:
        if self.covered:
            if self.availability_pct is None or not self.credit_tiers:
                raise ValueError("a covered SLA needs availability_pct and credit_tiers")
            floors = [f for f, _ in self.credit_tiers]
            if floors != sorted(floors, reverse=True) or floors[0] >= self.availability_pct:
                raise ValueError("credit tier floors must descend and start below the SLA")
            if any(not 0 < pct <= 100 for _, pct in self.credit_tiers):
                raise ValueError("credit percentages must be in (0, 100]")
        return self


class ComplianceRow(Row):
    provider: Provider
    program: Literal["SOC 2", "HIPAA", "PCI DSS", "FedRAMP"]
    attested: bool
    scope: str
    source_url: str = Field(pattern=r"^https?://")
    recorded: str
    confidence: str


