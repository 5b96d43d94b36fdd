"""Load-generator sizing from a measured ceiling: how many cores and VMs a site's
http-load needs, `loadgen: auto`, and a refusal when a fleet is too small.

Need = the scenario's peak users ÷ the calibrated users per core (closed model), or its
peak rate ÷ the calibrated requests/s per core (constant-rate), with HEADROOM kept free:
cores = ceil(need ÷ (1 − HEADROOM)), VMs = ceil(cores ÷ vCPUs of the load-generator type).
A fleet below the need at the ceiling itself would saturate (refused); one below the need
with headroom is warned about. The calibration was measured on this machine's cores
(`bakeoff calibrate`); a cloud VM's cores are assumed comparable, and the run's
per-interval saturation guard checks that assumption.

It lives in the application layer because a load-generator VM's vCPUs come from the price
catalog (scoring); bench may not import scoring. `bakeoff/__init__.py` binds
`auto_loadgen` to core.scenario's `loadgen: auto` hook.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.calibrate import Calibration, load_calibration
from core.errors import BakeoffError
from core.scenario import Campaign, CloudSite

HEADROOM = 0.30
LOADGEN_MAX = 16  # core.scenario.CloudSite.loadgen's upper bound


@dataclass
class Need:
    workload: int  # index in the scenario's workloads
    locustfile: str | None
    users: int
    rate_rps: float | None  # constant-rate peak, else None


@dataclass
class Sizing:
    site: str
    need: Need
    calibration: Calibration | None
    cores_at_ceiling: float = 0.0
    cores: int = 0
    vcpus_per_vm: int = 0
    vms: int = 0
    fleet: str = ""
    fleet_cores: int = 0
    verdict: str = "ok"  # ok | no headroom | too small | no calibration
    message: str = ""


def load_needs(campaign: Campaign) -> list[Need]:
    """The peak users (or rate) of every http-load workload in the scenario."""
    from bench.scenarios import workload_params
    from bench.workloads._load_shapes import RateStepsShape, peak_users

    needs = []
    for i, spec in enumerate(campaign.workloads):
        if spec.name != "http-load":
            continue
        p = workload_params(spec)
        rate = None
        if p.mode == "constant-rate":
            rate = (max(s.rate_rps for s in p.shape.steps) if isinstance(p.shape, RateStepsShape)
                    else p.rate_rps)
        needs.append(Need(i, p.locustfile, peak_users(p.shape, p.users), rate))
    return needs


def _vcpus(site: Any, instance_type: str | None) -> int:
    from scoring.catalog_load import load_catalog
    from scoring.equivalents import site_compute_row

    if instance_type:
        return load_catalog().compute(site.provider, site.region, instance_type).vcpus
    return site_compute_row(site).vcpus


def size(site: Any, need: Need, cal: Calibration | None, loadgen: int | None = None) -> Sizing:
    """Sizing of one site for one need; `loadgen` overrides the site's VM count."""
    out = Sizing(site.name, need, cal)
    if cal is None:
        out.verdict = "no calibration"
        out.message = ("no calibration for this locustfile: run `bakeoff calibrate "
                       "SCENARIO` first")
        return out
    per_core = (need.rate_rps / cal.rps_per_core if need.rate_rps is not None
                else need.users / cal.users_per_core)
    out.cores_at_ceiling = per_core
    out.cores = math.ceil(per_core / (1 - HEADROOM) - 1e-9)
    if isinstance(site, CloudSite):
        vms = site.loadgen if loadgen is None else loadgen
        lg_vcpus = _vcpus(site, site.loadgen_instance_type or None)
        out.vcpus_per_vm = lg_vcpus
        out.vms = math.ceil(out.cores / lg_vcpus)
        out.fleet_cores = vms * lg_vcpus if vms else _vcpus(site, None)
        out.fleet = f"{vms} VM(s) x {lg_vcpus} vCPU" if vms else "the client VM"
    else:
        out.fleet_cores = os.cpu_count() or 1
        out.fleet = f"this machine ({out.fleet_cores} cores)"
    if out.fleet_cores < math.ceil(per_core - 1e-9):
        out.verdict = "too small"
    elif out.fleet_cores < out.cores:
        out.verdict = "no headroom"
    return out


def size_campaign(campaign: Campaign, root: Path | None = None) -> list[Sizing]:
    needs = load_needs(campaign)
    cals = {n.workload: load_calibration(n.locustfile, root) for n in needs}
    return [size(site, n, cals[n.workload]) for site in campaign.sites for n in needs]


def auto_loadgen(site: CloudSite, campaign: Campaign, root: Path | None = None) -> int:
    """The VMs `loadgen: auto` stands for: enough for every http-load need with headroom."""
    needs = load_needs(campaign)
    if not needs:
        return 1
    vms = 1
    for need in needs:
        sized = size(site, need, load_calibration(need.locustfile, root))
        if sized.calibration is None:
            raise BakeoffError(f"loadgen: 'auto' needs a calibration of this machine's load "
                               f"generator for {need.locustfile or 'the built-in locustfile'}"
                               ": run `bakeoff calibrate SCENARIO` first")
        vms = max(vms, sized.vms)
    if vms > LOADGEN_MAX:
        raise BakeoffError(f"loadgen: 'auto' needs {vms} load-generator VMs, more than "
                           f"{LOADGEN_MAX}; set a larger loadgen_instance_type")
    return vms


def too_small(sizings: list[Sizing]) -> list[Sizing]:
    return [s for s in sizings if s.verdict == "too small"]


def describe(s: Sizing) -> str:
    if s.calibration is None:
        return s.message
    cal, need = s.calibration, s.need
    what = (f"{need.rate_rps:g} req/s at {cal.rps_per_core:g} req/s per core"
            if need.rate_rps is not None else
            f"{need.users} users at {cal.users_per_core} users per core")
    bound = "" if cal.reached_limit else " (a lower bound: calibration ended before the limit)"
    vms = f", {s.vms} VM(s) of {s.vcpus_per_vm} vCPU" if s.vcpus_per_vm else ""
    return (f"{what}{bound}: {s.cores_at_ceiling:.2f} cores at the ceiling, {s.cores} with "
            f"{HEADROOM:.0%} headroom{vms}; fleet {s.fleet}: {s.verdict}")
