"""GKE Autopilot priced from the Pods' resource requests, not from nodes.

Autopilot bills each scheduled Pod's requested vCPU, memory and ephemeral storage per
second (https://cloud.google.com/kubernetes-engine/pricing, "Autopilot mode"), plus the
cluster fee. This module turns requests into billed quantities; the assumptions (Autopilot's
defaults for what a container does not state, the memory-per-vCPU range, which Pods a k8s
unit creates, the production Pods of the TCO) live in scoring/data/autopilot_pods.yaml.

Formulas (docs/kubernetes.md, "GKE Autopilot"):
- one Pod requests (cpu, memory, ephemeral): stated values, else the defaults; memory
  below min_gib_per_vcpu x cpu is raised to it, above max_gib_per_vcpu x cpu raises cpu
  to memory / max_gib_per_vcpu;
- campaign: for each k8s unit, pods (the workload's replica parameter named in the file)
  x per-Pod request x the unit's hours (bakeoff's unit_seconds x repetitions / 3600);
- production month: vCPU-hours = instances x node vCPUs x hours_per_month, GiB-hours =
  instances x node memory x hours, ephemeral GiB-hours = (instances x node vCPUs /
  pod_cpu) Pods x default ephemeral x hours.
Each quantity is priced by a platforms.csv row (gke/autopilot: vcpu_hour, gib_hour,
ephemeral_gib_hour); a missing row is a missing price, never $0.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import BakeoffError

ASSUMPTIONS = Path(__file__).parent / "data" / "autopilot_pods.yaml"
ITEMS = (("vcpu_hour", "vCPU-hours", "vCPU"), ("gib_hour", "GiB-hours", "memory"),
         ("ephemeral_gib_hour", "GiB-hours", "ephemeral storage"))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Defaults(_Strict):
    cpu: float = Field(gt=0)
    memory_gib: float = Field(gt=0)
    ephemeral_gib: float = Field(gt=0)
    source: str = Field(min_length=10)


class Ratio(_Strict):
    min_gib_per_vcpu: float = Field(gt=0)
    max_gib_per_vcpu: float = Field(gt=0)
    source: str = Field(min_length=10)


class CampaignPods(_Strict):
    pods: dict[str, str]


class Production(_Strict):
    pod_cpu: float = Field(gt=0)


class Nat(_Strict):
    node_vms: str = Field(pattern="^max_nodes$")


class Assumptions(_Strict):
    defaults: Defaults
    ratio: Ratio
    campaign: CampaignPods
    production: Production
    nat: Nat


@functools.cache
def assumptions(path: Path = ASSUMPTIONS) -> Assumptions:
    """The file, validated; a clear error naming the file and field, never a traceback."""
    import yaml

    try:
        return Assumptions.model_validate(yaml.safe_load(path.read_text()))
    except (OSError, yaml.YAMLError) as e:
        raise BakeoffError(f"{path}: cannot be read ({e})") from None
    except ValidationError as e:
        where = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
        raise BakeoffError(f"{path}: {where}") from None


@dataclass(frozen=True)
class Pod:
    cpu: float  # vCPU
    memory_gib: float
    ephemeral_gib: float


@dataclass(frozen=True)
class Billed:
    """Billed quantities of one source of Pods: vCPU-hours, GiB-hours, ephemeral GiB-hours."""

    what: str
    vcpu_hours: float
    gib_hours: float
    ephemeral_gib_hours: float

    def quantities(self) -> tuple[float, float, float]:
        return self.vcpu_hours, self.gib_hours, self.ephemeral_gib_hours


def cores(text: str) -> float:
    """A Kubernetes CPU quantity as the workloads take it: '500m' -> 0.5, '1' -> 1.0."""
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


def pod(cpu: float | None = None, memory_gib: float | None = None,
        ephemeral_gib: float | None = None, a: Assumptions | None = None) -> Pod:
    """What Autopilot provisions (and bills) for a Pod stating these requests."""
    a = a or assumptions()
    c = a.defaults.cpu if cpu is None else cpu
    m = a.defaults.memory_gib if memory_gib is None else memory_gib
    e = a.defaults.ephemeral_gib if ephemeral_gib is None else ephemeral_gib
    m = max(m, a.ratio.min_gib_per_vcpu * c)
    c = max(c, m / a.ratio.max_gib_per_vcpu)
    return Pod(c, m, e)


def campaign_pods(campaign: Any, unit_seconds: Callable[[Any], float],
                  a: Assumptions | None = None) -> list[Billed]:
    """The Pods of every k8s unit of the campaign, billed for the units' hours
    (`unit_seconds`: bakeoff/campaign_cost.py's, passed in: scoring does not import it)."""
    from bench.workloads import REGISTRY

    a = a or assumptions()
    out = []
    for w in campaign.workloads:
        if not w.name.startswith("k8s-"):
            continue
        field = a.campaign.pods.get(w.name)
        if field is None:
            raise BakeoffError(f"{ASSUMPTIONS}: campaign.pods has no entry for workload "
                               f"{w.name}; say which parameter counts its Pods")
        params = REGISTRY[w.name].Params.model_validate(w.params)
        if not isinstance(getattr(params, field, None), int):
            raise BakeoffError(f"{ASSUMPTIONS}: campaign.pods.{w.name}: {field!r} is not a "
                               f"replica-count parameter of {w.name} (its parameters: "
                               f"{', '.join(type(params).model_fields)})")
        n = getattr(params, field)
        p = pod(cores(str(params.cpu_request)), a=a)
        hours = unit_seconds(w) * (w.repetitions or campaign.repetitions) / 3600.0
        out.append(Billed(f"{w.name}: {n} Pods x {p.cpu:g} vCPU / {p.memory_gib:g} GiB / "
                          f"{p.ephemeral_gib:g} GiB ephemeral x {hours:.4f} h",
                          n * p.cpu * hours, n * p.memory_gib * hours,
                          n * p.ephemeral_gib * hours))
    return out


def production_pods(instances: int, node_vcpus: float, node_gib: float, hours: float,
                    a: Assumptions | None = None) -> Billed:
    """The TCO month: Pods requesting what `instances` nodes of the site's shape hold."""
    a = a or assumptions()
    vcpu = instances * node_vcpus
    pods = vcpu / a.production.pod_cpu
    return Billed(f"Pods requesting {instances} x {node_vcpus:g} vCPU / {node_gib:g} GiB "
                  f"({pods:g} Pods of {a.production.pod_cpu:g} vCPU, "
                  f"{a.defaults.ephemeral_gib:g} GiB ephemeral each) x {hours:g} h",
                  vcpu * hours, instances * node_gib * hours,
                  pods * a.defaults.ephemeral_gib * hours)


def priced(catalog: Any, region: str, billed: Billed) -> tuple[list[tuple], list[str]]:
    """([(label, quantity, unit, row)], [missing price messages]) for the three items."""
    from core.errors import PriceNotFoundError

    out, missing = [], []
    for (item, unit, what), qty in zip(ITEMS, billed.quantities(), strict=True):
        try:
            row = catalog.platform("gcp", region, "gke", "autopilot", item)
        except PriceNotFoundError as e:
            missing.append(f"GKE Autopilot Pods' {what} ({qty:.4f} {unit}): {e}")
            continue
        out.append((f"GKE Autopilot Pods' {what}", qty, unit, row))
    return out, missing
