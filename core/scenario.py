"""Scenario models (pydantic v2) and loading with errors that name file, path and expectation.

One scenario file holds everything a campaign needs. Unknown keys are errors. Sites are
a union discriminated by `provider`; workload params are validated by each workload's
own params model, so `workloads[2].params.threads` errors point at the right place.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from core.errors import ScenarioError


class WorkloadEntry(Protocol):
    """What the scenario model needs of a workload: its params model."""

    Params: type[BaseModel]


Workloads = Mapping[str, WorkloadEntry]

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class PriceOverride(Model):
    """A price the user states where the catalog has none; reports label it 'override'."""

    usd_per_hour: float | None = Field(None, ge=0)
    db_usd_per_hour: float | None = Field(None, ge=0)
    db_storage_usd_per_gb_month: float | None = Field(None, ge=0)
    storage_usd_per_gb_month: float | None = Field(None, ge=0)
    iops_usd_per_month: float | None = Field(None, ge=0)
    egress_usd_per_gb: float | None = Field(None, ge=0)
    terms: dict[Literal["on-demand", "1y", "3y", "spot"], float] | None = Field(
        None, description="compute $/h per term, e.g. an on-demand and a 3-year quote")
    services: dict[str, float] | None = Field(
        None, description="network/backup unit prices by item (see docs/pricing.md)")
    reason: str = Field(min_length=3)


class SiteBase(Model):
    name: str = Field(pattern=NAME_PATTERN)
    database: DatabaseSpec | None = None
    price_override: PriceOverride | None = None


class LocalSite(SiteBase):
    """A CPU envelope on this machine. Its hourly price is whatever the user states."""

    provider: Literal["local"]
    cpus: int = Field(gt=0, le=1024)
    hourly_usd: float = Field(ge=0, description="stated price; shown as 'stated'")
    network: Literal["auto", "netns", "loopback"] = "auto"
    region: str = "local"
    zones: list[str] = Field(default_factory=lambda: ["local-a", "local-b"], min_length=2,
                             max_length=2)


class StaticSite(SiteBase):
    """Bring your own machines, reached over SSH."""

    provider: Literal["static"]
    client: str = Field(description="user@host[:port] of the load/client host")
    server: str = Field(description="user@host[:port] of the server host")
    ssh_key: str | None = None
    known_hosts: str | None = Field(None, description="known_hosts file; default ~/.ssh/")
    hourly_usd: float = Field(ge=0)
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
    loadgen: int = Field(1, ge=0, le=16, description="load-generator VMs beside the client")
    loadgen_instance_type: str | None = Field(None, description="default: the site's type")
    ssh_cidr: str | None = Field(
        None, description="who may SSH in; default: this machine's public address/32. "
        "0.0.0.0/0 only when written here (a warning is printed)")
    spot: bool = False

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
        return self


Site = Annotated[LocalSite | StaticSite | CloudSite, Field(discriminator="provider")]


class WorkloadSpec(Model):
    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    repetitions: int | None = Field(None, gt=0, le=100)


class Requirement(Model):
    """A pass/fail condition, e.g. `ping.rtt_avg < 2 ms`, evaluated per site."""

    metric: str = Field(pattern=r"^[a-z0-9-]+\.[a-z0-9_.]+$",
                        description="<workload>.<metric>, e.g. ping.rtt_avg")
    operator: Literal["<", "<=", ">", ">=", "=="]
    threshold: float
    unit: str | None = None
    statistic: Literal["median", "mean", "min", "max", "p95", "p99"] = "median"
    where: dict[str, str] = Field(default_factory=dict,
                                  description="metadata filter, e.g. {endpoint: checkout}")
    name: str | None = None


class Usage(Model):
    """The TCO profile: how the chosen option would be used in production."""

    hours_per_month: float = Field(730, gt=0, le=744)
    instances: int = Field(1, gt=0)
    egress_gb_per_month: float = Field(0, ge=0)
    storage_gb: float = Field(0, ge=0)
    provisioned_iops: int = Field(0, ge=0)
    term: Literal["on-demand", "1y", "3y", "spot"] = "on-demand"
    horizon_months: int = Field(36, gt=0, le=120)
    # What a web + database PoC also pays for (defaults and formulas: docs/pricing.md).
    load_balancer: bool = False
    lb_capacity_units: float = Field(1, ge=0, description="AWS LCUs (hourly average)")
    lb_rules: int = Field(1, ge=0, description="Azure load-balancing rules")
    lb_data_gb_per_month: float | None = Field(None, ge=0, description="default: egress")
    public_ipv4: int = Field(0, ge=0, description="public IPv4 addresses per site")
    nat_gateway: bool = False
    nat_data_gb_per_month: float = Field(0, ge=0)
    cross_az_gb_per_month: float = Field(0, ge=0, description="app <-> DB primary, both ways")
    db_backup_gb: float = Field(0, ge=0, description="backup storage kept, total GB")
    support_pct: float = Field(0, ge=0, le=100, description="support plan, % of the bill")
    sustained_use_discount: bool = True


class Criterion(Model):
    """A decision criterion with a weight 1–5 (0 drops it). `scores` makes it manual (1–10 per
    site)."""

    name: str
    weight: int = Field(ge=0, le=5, description="1-5; 0 leaves the criterion out")
    label: str | None = None
    scores: dict[str, float] | None = None
    bounds: tuple[float, float] | None = Field(
        None, description="values mapped to score 1 and 10 (fixed-bounds utility)")
    normalise: Literal["fixed", "relative", "minmax"] = Field(
        "fixed", description="fixed bounds (default) or relative to the sites compared; "
                             "'minmax' is the old name of 'relative'")

    @field_validator("scores")
    @classmethod
    def _scores_in_range(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        for site, score in (v or {}).items():
            if not 1 <= score <= 10:
                raise ValueError(f"score for '{site}' must be between 1 and 10, got {score}")
        return v


class SlaProfile(Model):
    revenue_per_minute_usd: float = Field(0, ge=0)
    expected_availability_pct: float | None = Field(
        None, gt=0, le=100, description="what you expect to get; credits are computed for "
        "it (none when unset: the SLA is assumed met)")


ComplianceNeed = Literal["soc2", "pci-dss", "hipaa-baa", "fedramp-moderate", "fedramp-high"]


class Campaign(Model):
    """A whole scenario file, validated."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    sites: list[Site] = Field(min_length=1)
    workloads: list[WorkloadSpec] = Field(default_factory=list)
    repetitions: int = Field(3, gt=0, le=100)
    requirements: list[Requirement] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    criteria: list[Criterion] = Field(default_factory=list)
    sla: SlaProfile = Field(default_factory=SlaProfile)
    budget_usd: float | None = Field(None, ge=0)
    ttl_minutes: int = Field(120, gt=0, le=24 * 60)
    requires: list[ComplianceNeed] = Field(
        default_factory=list, description="compliance a site must have, e.g. [fedramp-high]")

    @model_validator(mode="after")
    def _cross_checks(self) -> Campaign:
        names = [s.name for s in self.sites]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"site names must be unique; repeated: {', '.join(dupes)}")
        for c in self.criteria:
            unknown = sorted(set(c.scores or {}) - set(names))
            if unknown:
                raise ValueError(f"criterion '{c.name}' scores unknown site(s) "
                                 f"{', '.join(unknown)}; sites are {', '.join(names)}")
        return self

    def site(self, name: str) -> LocalSite | StaticSite | CloudSite:
        for s in self.sites:
            if s.name == name:
                return s
        raise KeyError(name)


PROVIDER_TAGS = ("local", "static", "aws", "azure", "gcp")


def _format_loc(loc: tuple[Any, ...]) -> str:
    """('sites', 1, 'local', 'cpus') -> 'sites[1].cpus' (the union tag is dropped)."""
    out = ""
    prev: Any = None
    for part in loc:
        union_tag = isinstance(prev, int) and part in PROVIDER_TAGS
        internal = isinstance(part, str) and part.startswith("function-")
        if isinstance(part, int):
            out += f"[{part}]"
        elif not (union_tag or internal):
            out += f".{part}" if out else str(part)
        prev = part
    return out or "(top level)"


def _describe(err: dict[str, Any]) -> str:
    loc = _format_loc(tuple(err["loc"]))
    kind = err["type"]
    msg = err["msg"]
    if kind == "extra_forbidden":
        return f"{loc}: unknown key (check the spelling; unknown keys are not ignored)"
    if kind == "missing":
        return f"{loc}: required field is missing"
    if kind == "union_tag_invalid":
        return (f"{loc}.provider: expected one of local, static, aws, azure, gcp; "
                f"got {err.get('input', {}).get('provider')!r}"
                if isinstance(err.get("input"), dict) else f"{loc}: {msg}")
    if kind == "union_tag_not_found":
        return f"{loc}.provider: required field is missing (local, static, aws, azure, gcp)"
    got = err.get("input")
    got_s = "" if isinstance(got, (dict, list)) or got is None else f"; got {got!r}"
    msg = msg.removeprefix("Value error, ")
    return f"{loc}: {msg}{got_s}"


def _check_workloads(campaign: Campaign, workloads: Workloads) -> list[str]:
    """Each workload name must exist and its params must satisfy its own model."""
    problems = []
    for i, w in enumerate(campaign.workloads):
        if w.name not in workloads:
            problems.append(f"workloads[{i}].name: unknown workload {w.name!r}; expected one "
                            f"of {', '.join(sorted(workloads))}")
            continue
        try:
            workloads[w.name].Params.model_validate(w.params)
        except ValidationError as e:
            for err in e.errors():
                err = dict(err, loc=("workloads", i, "params", *err["loc"]))
                problems.append(_describe(err))
    return problems


def parse_campaign(data: Any, source: str, workloads: Workloads) -> Campaign:
    """Validate already-loaded YAML data against the given workload catalog.

    The catalog is passed in (bench.scenarios binds the discovered workloads) so this
    module stays a leaf that knows no benchmark.
    """
    if not isinstance(data, dict):
        raise ScenarioError(source, ["(top level): expected a mapping of keys "
                                     f"(name, sites, workloads, ...), got {type(data).__name__}"])
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(source, [_describe(dict(err)) for err in e.errors()]) from None
    problems = _check_workloads(campaign, workloads)
    if problems:
        raise ScenarioError(source, problems)
    return campaign


def load_campaign_file(path: str | Path, workloads: Workloads) -> Campaign:
    """Read and validate a scenario YAML file."""
    p = Path(path)
    if not p.is_file():
        raise ScenarioError(str(p), ["file not found (give the path to a scenario YAML)"])
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        raise ScenarioError(str(p), [f"not valid YAML at {where}: "
                                     f"{getattr(e, 'problem', e)}"]) from None
    return parse_campaign(data, str(p), workloads)
