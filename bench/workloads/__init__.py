"""Workload registry: one module per benchmark, each exposing `WORKLOAD`.

Modules are discovered, so adding a benchmark is adding a file.
"""

from __future__ import annotations

import importlib
import pkgutil

from bench.workloads.base import Plan, RunContext, Step, Workload, WorkloadParams


def _discover() -> dict[str, Workload]:
    found: dict[str, Workload] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        workload = getattr(module, "WORKLOAD", None)
        if workload is not None:
            found[workload.name] = workload
    return dict(sorted(found.items()))


REGISTRY: dict[str, Workload] = _discover()

__all__ = ["REGISTRY", "Plan", "RunContext", "Step", "Workload", "WorkloadParams"]
