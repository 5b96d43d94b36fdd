"""Scenario models (pydantic v2) and loading with errors that name file, path and expectation.

One scenario file holds everything a campaign needs. Unknown keys are errors. Sites are
a union discriminated by `provider`; workload params are validated by each workload's
own params model, so `workloads[2].params.threads` errors point at the right place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from core.egress_mix import EgressMix, default_mix
from core.errors import BakeoffError, ScenarioError
from core.scenario_messages import NAME_PATTERN, describe, short
from core.serverless_spec import FunctionUsage
from core.site_models import (  # noqa: F401  (re-exported: the scenario's public names)
    MAX_USD_PER_HOUR,
    MAX_USD_PER_UNIT,
    WEIGHT_MAX,
    WEIGHT_MIN,
    CloudSite,
    DatabaseSpec,
    LocalFunctionSpec,
    LocalSite,
    Model,
    PriceOverride,
    Site,
    SiteBase,
    SizeSpec,
    StaticSite,
)
from core.strict_yaml import StrictYamlError, read_yaml


class WorkloadEntry(Protocol):
    """What the scenario model needs of a workload: its params model."""

    Params: type[BaseModel]


Workloads = Mapping[str, WorkloadEntry]



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
    hard: bool = Field(False, description="a site failing it cannot win (it stays in the "
                       "matrix, marked disqualified)")


class Usage(Model):
    """The TCO profile: how the chosen option would be used in production."""

    hours_per_month: float = Field(730, gt=0, le=744)
    instances: int = Field(1, gt=0, le=100_000)
    egress_gb_per_month: float = Field(0, ge=0, le=1e9)
    egress_destinations: EgressMix = Field(default_factory=default_mix, description="share of "
                                           "egress GB per destination, adding up to 1")
    storage_gb: float = Field(0, ge=0, le=1e9)
    provisioned_iops: int = Field(0, ge=0, le=10**9)
    term: Literal["on-demand", "1y", "3y", "spot"] = "on-demand"
    commitment: Literal["reservation", "savings_plan"] = Field(
        "reservation", description="1y/3y instrument: RI / reservation / resource CUD, or a "
        "savings plan")
    commitment_payment: Literal["no_upfront", "partial_upfront", "all_upfront"] = Field(
        "no_upfront", description="1y/3y payment; an upfront part is spread over the term")
    horizon_months: int = Field(36, gt=0, le=120)
    # What a web + database PoC also pays for (defaults and formulas: docs/pricing.md).
    load_balancer: bool = False
    lb_capacity_units: float | None = Field(
        None, ge=0, description="AWS LCUs (hourly average); default: from data processed "
        "and connections (docs/pricing.md)")
    lb_new_connections_per_s: float = Field(0, ge=0, description="AWS LCU: 25 per LCU")
    lb_active_connections: float = Field(0, ge=0, description="AWS LCU: 3,000 per LCU")
    lb_rules: int = Field(1, ge=0, description="load-balancing / forwarding rules")
    lb_data_gb_per_month: float | None = Field(None, ge=0, description="default: egress")
    public_ipv4: int = Field(0, ge=0, description="public IPv4 addresses per site")
    nat_gateway: bool = False
    nat_data_gb_per_month: float = Field(0, ge=0)
    cross_az_gb_per_month: float = Field(0, ge=0, description="app <-> DB primary, both ways")
    db_backup_gb: float = Field(0, ge=0, description="backup storage kept, total GB")
    support_pct: float = Field(0, ge=0, le=100, description="support plan, % of the bill")
    support: dict[Literal["aws", "azure", "gcp"], str] = Field(
        default_factory=dict, description="support plan per provider, priced with its "
        "monthly minimum, e.g. {aws: business, azure: standard, gcp: standard}")
    sustained_use_discount: bool = True
    functions: FunctionUsage = Field(default_factory=FunctionUsage)  # serverless sites


class Criterion(Model):
    """A decision criterion with a weight 1–5 (0 drops it). `scores` makes it manual (1–10 per
    site)."""

    name: str
    weight: int = Field(ge=WEIGHT_MIN, le=WEIGHT_MAX,
                        description="1-5; 0 leaves the criterion out")
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
    budget_usd: float | None = Field(
        None, ge=0, description="campaign spend cap for cloud sites: `run` refuses a campaign "
        "whose estimated cost exceeds it")
    ttl_minutes: int = Field(120, gt=0, le=24 * 60)
    requires: list[ComplianceNeed] = Field(
        default_factory=list, description="compliance a site must have, e.g. [fedramp-high]")

    @model_validator(mode="after")
    def _cross_checks(self) -> Campaign:
        problems = cross_problems(self.model_dump(mode="python"))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def site(self, name: str) -> LocalSite | StaticSite | CloudSite:
        for s in self.sites:
            if s.name == name:
                return s
        raise KeyError(name)


def raw_entries(data: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    """(index, entry) for the mapping entries of a list field in raw scenario data; other
    shapes are left to the model to report."""
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [(i, e) for i, e in enumerate(value) if isinstance(e, dict)]


def cross_problems(data: dict[str, Any]) -> list[str]:
    """Checks across fields (unique site names, manual scores for exactly the sites), read
    from the raw data so they are reported even when other fields are wrong."""
    problems: list[str] = []
    names = [s["name"] for _, s in raw_entries(data, "sites") if isinstance(s.get("name"), str)]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(f"sites: site names must be unique; repeated: {', '.join(dupes)}")
    for i, s in raw_entries(data, "sites"):
        zones = s.get("zones")
        if isinstance(zones, list):
            hashable = [z for z in zones if isinstance(z, str)]
            repeated = sorted({z for z in hashable if hashable.count(z) > 1})
            if repeated:
                problems.append(f"sites[{i}].zones: expected distinct zones (a cross-zone "
                                f"measurement needs two); repeated: {', '.join(repeated)}")
    for i, c in raw_entries(data, "criteria"):
        scores = c.get("scores")
        if not isinstance(scores, dict):
            continue
        label = c.get("name") if isinstance(c.get("name"), str) else f"#{i}"
        unknown = sorted(str(k) for k in scores if k not in names)
        missing = [n for n in dict.fromkeys(names) if n not in scores]
        if unknown:
            problems.append(f"criteria[{i}].scores: criterion '{label}' scores unknown site(s) "
                            f"{', '.join(unknown)}; sites are {', '.join(names)}")
        if missing:
            problems.append(f"criteria[{i}].scores: a manual criterion needs a 1-10 score for "
                            f"every site; missing {', '.join(missing)}")
    return problems


def _workload_problems(data: dict[str, Any], workloads: Workloads) -> list[str]:
    """Each workload entry names a known workload once, with params its own model accepts.

    Read from the raw data so these problems are reported together with the model's own,
    not only once everything else is right.
    """
    entries = data.get("workloads")
    if not isinstance(entries, list):
        return []
    problems: list[str] = []
    first: dict[str, int] = {}
    for i, w in enumerate(entries):
        if not isinstance(w, dict) or not isinstance(w.get("name"), str):
            continue  # the model reports the shape
        name = w["name"]
        if name not in workloads:
            problems.append(f"workloads[{i}].name: unknown workload {short(name)}; expected "
                            f"one of {', '.join(sorted(workloads))}")
            continue
        if name in first:
            problems.append(f"workloads[{i}].name: {name!r} is already listed at "
                            f"workloads[{first[name]}]; each workload runs once per repetition "
                            "(merge the two entries)")
        first.setdefault(name, i)
        params = w.get("params", {})
        if not isinstance(params, dict):
            continue
        model = workloads[name].Params
        try:
            model.model_validate(params)
        except ValidationError as e:
            for err in e.errors():
                err = dict(err, loc=("workloads", i, "params", *err["loc"]))
                text = describe(err)
                if err["type"] == "extra_forbidden":
                    text += f"; valid keys of {name}: {', '.join(model.model_fields) or 'none'}"
                problems.append(text)
        except RecursionError:
            problems.append(f"workloads[{i}].params: nested too deeply")
    return problems


def scenario_problems(data: Any, workloads: Workloads) -> tuple[Campaign | None, list[str]]:
    """The validated campaign (None when invalid) and every problem found, model and workload
    checks together, each as 'path: what was expected'."""
    if not isinstance(data, dict):
        return None, ["(top level): expected a mapping of keys (name, sites, workloads, ...), "
                      f"got {'an empty file' if data is None else type(data).__name__}"]
    problems: list[str] = []
    campaign: Campaign | None = None
    data, auto = _auto_sites(data)
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as e:
        # the top-level validator is cross_problems, reported below from the raw data
        problems += [describe(dict(err)) for err in e.errors()
                     if err["loc"] or err["type"] != "value_error"]
    except RecursionError:
        problems.append("(top level): nested too deeply")
    problems += _workload_problems(data, workloads)
    if campaign is None:  # else the model's own validator already ran them
        problems += cross_problems(data)
    if campaign is not None and auto and not problems:
        campaign, more = _resolve_auto(campaign, auto)
        problems += more
    unique = list(dict.fromkeys(problems))
    return (campaign if not unique else None), unique


# `loadgen: auto` on a cloud site: the VMs are sized from this machine's measured
# load-generator ceiling (bakeoff.sizing, bound by bakeoff/__init__.py); this module stays a leaf.
LOADGEN_AUTO: Callable[[CloudSite, Campaign], int] | None = None


def _auto_sites(data: dict[str, Any]) -> tuple[dict[str, Any], list[int]]:
    """Data with every `loadgen: auto` replaced by 1 for validation, and those sites."""
    sites = data.get("sites")
    if not isinstance(sites, list):
        return data, []
    auto = [i for i, s in enumerate(sites) if isinstance(s, dict) and s.get("loadgen") == "auto"]
    if not auto:
        return data, []
    return {**data, "sites": [({**s, "loadgen": 1} if i in auto else s)
                              for i, s in enumerate(sites)]}, auto


def _resolve_auto(campaign: Campaign, auto: list[int]) -> tuple[Campaign, list[str]]:
    sites, problems = list(campaign.sites), []
    for i in auto:
        if not isinstance(sites[i], CloudSite):
            problems.append(f"sites[{i}].loadgen: 'auto' is for cloud sites (VMs sized from "
                            "`bakeoff calibrate`)")
            continue
        if LOADGEN_AUTO is None:  # only a process that never imported the bakeoff package
            problems.append(f"sites[{i}].loadgen: 'auto' is resolved by the bakeoff "
                            "application (bakeoff/sizing.py); load the scenario through it")
            continue
        try:
            sites[i] = sites[i].model_copy(update={"loadgen": LOADGEN_AUTO(sites[i], campaign)})
        except BakeoffError as e:
            problems.append(f"sites[{i}].loadgen: {e}")
    return campaign.model_copy(update={"sites": sites}), problems


def parse_campaign(data: Any, source: str, workloads: Workloads) -> Campaign:
    """Validate already-loaded YAML data against the given workload catalog.

    The catalog is passed in (bench.scenarios binds the discovered workloads) so this
    module stays a leaf that knows no benchmark.
    """
    campaign, problems = scenario_problems(data, workloads)
    if campaign is None:
        raise ScenarioError(source, problems)
    return campaign


def read_scenario_data(path: str | Path) -> Any:
    """The file's YAML data, read strictly (see core.strict_yaml); ScenarioError otherwise."""
    p = Path(path)
    if not p.is_file():
        raise ScenarioError(str(p), ["file not found (give the path to a scenario YAML)"])
    try:
        return read_yaml(p)
    except StrictYamlError as e:
        raise ScenarioError(str(p), [str(e)]) from None


def load_campaign_file(path: str | Path, workloads: Workloads) -> Campaign:
    """Read and validate a scenario YAML file."""
    return parse_campaign(read_scenario_data(path), str(path), workloads)
