"""Scenario loading bound to the discovered workloads (the model itself is core.scenario)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.workloads import REGISTRY
from core import scenario
from core.scenario import Campaign, WorkloadSpec


def parse_campaign(data: Any, source: str = "<scenario>") -> Campaign:
    """Validate loaded YAML data; ScenarioError lists every problem with its path."""
    return scenario.parse_campaign(data, source, REGISTRY)


def load_campaign_file(path: str | Path) -> Campaign:
    """Read and validate a scenario YAML file."""
    return scenario.load_campaign_file(path, REGISTRY)


def workload_params(spec: WorkloadSpec) -> Any:
    """The workload's own params model for a scenario entry (validated at load time)."""
    return REGISTRY[spec.name].Params.model_validate(spec.params)
