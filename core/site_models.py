"""Site models of a scenario: local, static (bring your own machines) and cloud sites.

Split from core/scenario.py so each kind of site (and the managed-platform blocks that
extend them) has room to grow; core.scenario re-exports every name here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from core.k8s_local_spec import LocalClusterSpec
from core.k8s_spec import ClusterField
from core.scenario_messages import NAME_PATTERN
from core.serverless_spec import CloudServerless
from core.strict_numbers import NoBoolNumbers

WEIGHT_MIN, WEIGHT_MAX = 0, 5  # a criterion's weight (0 leaves it out); also weights files
# A stated price per hour: the dearest cloud machines list at a few hundred $/h (e.g. AWS
# u7in-32tb.224xlarge ~$400/h), so more is a typo; it keeps every TCO product finite.
MAX_USD_PER_HOUR = 10_000.0
MAX_USD_PER_UNIT = 1_000.0  # per GB-month, per IOPS-month, per GB of egress


class Model(NoBoolNumbers):
    """Unknown keys are errors; so are .inf and .nan and booleans where a number is expected."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class DatabaseSpec(Model):
    """The site's PostgreSQL. Locally a temporary server; on clouds the managed service."""

    engine: Literal["postgresql"] = "postgresql"
    instance: str | None = Field(None, description="managed tier, e.g. db.m6i.large")
    ha: bool = False
    burstable: bool = Field(False, description="allow a burstable class (db.t*, B-series)")
    storage_gb: float = Field(20, gt=0)


class SizeSpec(Model):
    """Ask for a shape instead of naming an instance type; the catalog resolves it."""

    family: Literal["compute", "general", "memory"]
    vcpus: int = Field(gt=0, le=192)
    memory_gib: float | None = Field(None, gt=0)
    arch: Literal["x86_64", "arm64"] = "x86_64"
    cpu_vendor: Literal["intel", "amd", "arm", "any"] = Field(
        "any", description="CPU maker every site must use (arm implies arch arm64); any: "
        "each cloud's cheapest in the common CPU era (docs/pricing.md, like for like)")
    burstable: bool = Field(False, description="burstable (CPU-credit) shapes instead of "
                            "dedicated ones; equivalents never mix the two")

    @model_validator(mode="after")
    def _arm_vendor(self) -> SizeSpec:
        if (self.cpu_vendor == "arm") != (self.arch == "arm64") and self.cpu_vendor != "any":
            raise ValueError(f"cpu_vendor {self.cpu_vendor} does not run arch {self.arch}: "
                             "arm needs arch arm64, intel and amd need x86_64")
        return self


class PriceOverride(Model):
    """A price the user states where the catalog has none; reports label it 'override'."""

    usd_per_hour: float | None = Field(None, ge=0, le=MAX_USD_PER_HOUR)
    db_usd_per_hour: float | None = Field(None, ge=0, le=MAX_USD_PER_HOUR)
    db_storage_usd_per_gb_month: float | None = Field(None, ge=0, le=MAX_USD_PER_UNIT)
    storage_usd_per_gb_month: float | None = Field(None, ge=0, le=MAX_USD_PER_UNIT)
    iops_usd_per_month: float | None = Field(None, ge=0, le=MAX_USD_PER_UNIT)
    egress_usd_per_gb: float | None = Field(None, ge=0, le=MAX_USD_PER_UNIT)
    terms: dict[Literal["on-demand", "1y", "3y", "spot"], float] | None = Field(
        None, description="compute $/h per term, e.g. an on-demand and a 3-year quote")
    services: dict[str, float] | None = Field(
        None, description="network/backup unit prices by item (see docs/pricing.md)")
    db_terms: dict[Literal["on-demand", "1y", "3y"], float] | None = Field(
        None, description="managed database $/h per term, e.g. an on-demand and a 1-year "
        "reserved quote; a term not listed falls back to the snapshot")
    reason: str = Field(min_length=3)

    @field_validator("terms", "services", "db_terms")
    @classmethod
    def _prices_in_range(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        for key, price in (v or {}).items():
            if not 0 <= price <= MAX_USD_PER_HOUR:
                raise ValueError(f"{key}: expected a price from 0 to {MAX_USD_PER_HOUR:g} USD, "
                                 f"got {price}")
        return v

    def compute_rate(self, term: str) -> float | None:
        """The quoted compute $/h for `term`: `terms` quotes per term, a bare
        `usd_per_hour` (no terms) every term; None when nothing is quoted for it."""
        return self.terms.get(term) if self.terms else self.usd_per_hour

    @model_validator(mode="after")
    def _one_quote_each(self) -> PriceOverride:
        """A rate for every term and rates per term together: one would be silently unused."""
        if self.terms and self.usd_per_hour is not None:
            raise ValueError("price_override: give usd_per_hour (one rate for every term) "
                             "or terms (a rate per term, e.g. {on-demand: 0.17, 1y: 0.11}), "
                             "not both")
        if self.db_terms and self.db_usd_per_hour is not None:
            raise ValueError("price_override: give db_usd_per_hour (one rate for every term) "
                             "or db_terms (a rate per term, e.g. {on-demand: 0.36, 1y: 0.25}),"
                             " not both")
        return self

    def db_rate(self, term: str) -> float | None:
        """The quoted database $/h for `term` (spot VMs keep an on-demand database):
        `db_terms` per term, a bare `db_usd_per_hour` (no db_terms) every term."""
        key = term if term in ("1y", "3y") else "on-demand"
        return self.db_terms.get(key) if self.db_terms else self.db_usd_per_hour


class SiteBase(Model):
    name: str = Field(pattern=NAME_PATTERN)
    database: DatabaseSpec | None = None
    price_override: PriceOverride | None = None


class LocalFunctionSpec(Model):
    """A local function site (docs/serverless.md): instances started on demand."""

    idle_s: float = Field(2.0, ge=0.1, le=600, description="an idle instance is stopped "
                          "after this many seconds; the next request is a cold start")
    max_instances: int = Field(8, ge=1, le=64, description="per function; beyond it: 429")
    pool_size: int = Field(2, ge=1, le=20, description="PostgreSQL connections per instance")
    runtime: Literal["python", "node"] = Field(
        "python", description="python, or node: the same handler in JavaScript (needs node)")


class LocalSite(SiteBase):
    """A CPU envelope on this machine. Its hourly price is whatever the user states."""

    provider: Literal["local"]
    cpus: int = Field(gt=0, le=1024)
    hourly_usd: float = Field(ge=0, le=MAX_USD_PER_HOUR,
                              description="stated price; shown as 'stated'")
    network: Literal["auto", "netns", "loopback"] = "auto"
    region: str = "local"
    zones: list[str] = Field(default_factory=lambda: ["local-a", "local-b"], min_length=2,
                             max_length=2)
    serverless: LocalFunctionSpec | None = Field(
        None, description="also run the functions on demand (needs `database`)")
    kubernetes: LocalClusterSpec | None = Field(None, description="a simulated cluster")

    @model_validator(mode="after")
    def _function_needs_db(self) -> LocalSite:
        if self.serverless is not None and self.database is None:
            raise ValueError("serverless: the checkout function needs the site's PostgreSQL; "
                             "add `database: {}`")
        return self


class StaticSite(SiteBase):
    """Bring your own machines, reached over SSH."""

    provider: Literal["static"]
    client: str = Field(description="user@host[:port] of the load/client host")
    server: str = Field(description="user@host[:port] of the server host")
    ssh_key: str | None = None
    known_hosts: str | None = Field(None, description="known_hosts file; default ~/.ssh/")
    hourly_usd: float = Field(ge=0, le=MAX_USD_PER_HOUR)
    region: str = "static"
    zones: list[str] = Field(default_factory=lambda: ["zone-a", "zone-b"], min_length=2,
                             max_length=2)


class CloudSite(SiteBase):
    """A site on AWS, Azure or GCP, provisioned with Pulumi."""

    provider: Literal["aws", "azure", "gcp"]
    region: str = Field(min_length=2)
    zones: list[str] = Field(min_length=1, max_length=3)
    instance_type: str | None = None
    size: SizeSpec | None = None
    disk_gb: float = Field(50, gt=0)
    disk_type: str | None = Field(None, description="gp3 | io2 | Premium_LRS | pd-ssd ...; "
                                  "default per provider")
    disk_iops: int | None = Field(None, gt=0)
    disk_throughput_mbps: int | None = Field(None, gt=0)
    image: str | None = None
    loadgen: int = Field(1, ge=0, le=16, description="load-generator VMs beside the client "
                         "('auto': sized from `bakeoff calibrate`)")
    loadgen_instance_type: str | None = Field(None, description="default: the site's type")
    ssh_cidr: str | None = Field(
        None, description="who may SSH in; default: this machine's public address/32. "
        "0.0.0.0/0 only when written here (a warning is printed)")
    spot: bool = False
    kubernetes: ClusterField = Field(None, description="a managed cluster (docs/kubernetes.md)")
    serverless: CloudServerless = Field(None, description="a function: docs/serverless.md")

    @field_validator("ssh_cidr")
    @classmethod
    def _cidr(cls, v: str | None) -> str | None:
        if v is not None:
            import ipaddress

            try:
                ipaddress.ip_network(v, strict=False)
            except ValueError:
                raise ValueError(f"expected a CIDR such as 203.0.113.7/32, got {v!r}") from None
        return v

    @model_validator(mode="after")
    def _one_shape(self) -> CloudSite:
        if (self.instance_type is None) == (self.size is None):
            raise ValueError("give exactly one of 'instance_type' or 'size'")
        if self.kubernetes is not None and self.serverless is not None:
            raise ValueError("a site is a cluster or a function, not both: give one of "
                             "'kubernetes' or 'serverless' (or two sites)")
        return self


Site = Annotated[LocalSite | StaticSite | CloudSite, Field(discriminator="provider")]
