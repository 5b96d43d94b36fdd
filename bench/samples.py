"""The one tidy measurement shape, in the spirit of PerfKit Benchmarker's Sample.

A workload parser only knows metric, value, unit and tool-level metadata. The
orchestrator attaches the context (campaign, site, host facts, repetition...) when it
turns a Sample into a row, so parsers stay pure functions of tool output.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

# Columns of samples.parquet, in order. Context columns come from the orchestrator.
SAMPLE_COLUMNS: tuple[str, ...] = (
    "campaign_id",
    "site",
    "provider",
    "region",
    "zone",
    "instance_type",
    "workload",
    "metric",
    "value",
    "unit",
    "repetition",
    "started_at",
    "duration_s",
    "valid",
    "invalid_reason",
    "params",
    "metadata",
    "cpu_model",
    "vcpus",
    "kernel",
    "tool_version",
)


@dataclass(frozen=True)
class Sample:
    """One measured value. `metadata` holds tool-level detail (e.g. fio job name, endpoint)."""

    metric: str
    value: float
    unit: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.value, (int, float)) or math.isnan(float(self.value)):
            raise ValueError(f"sample {self.metric!r} has a non-numeric value {self.value!r}")

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "value": self.value, "unit": self.unit,
                "metadata": self.metadata}


@dataclass(frozen=True)
class Histogram:
    """An encoded HDR histogram (latencies in microseconds) so percentiles merge exactly."""

    name: str
    encoded: str
    unit: str = "us"
    metadata: dict[str, Any] = field(default_factory=dict)
    interval: int | None = None  # index of the interval (latency over time); None = the unit


@dataclass
class ParsedOutput:
    """What a workload's parse step returns: samples plus optional histograms and validity."""

    samples: list[Sample]
    histograms: list[Histogram] = field(default_factory=list)
    valid: bool = True
    invalid_reason: str = ""
    notes: list[str] = field(default_factory=list)  # what was left out of the statistics


def sample_row(sample: Sample, context: dict[str, Any]) -> dict[str, Any]:
    """A flat row for samples.parquet: context columns plus the sample itself."""
    row = {col: context.get(col) for col in SAMPLE_COLUMNS}
    row.update(
        metric=sample.metric,
        value=float(sample.value),
        unit=sample.unit,
        metadata=json.dumps(sample.metadata, sort_keys=True),
        params=json.dumps(context.get("params", {}), sort_keys=True),
    )
    return row
