"""The fields of manifest.json that readers rely on, checked against a schema.

The orchestrator writes the manifest; `verify` and every reader check it here before trusting
it: the campaign's status is one the orchestrator writes, `units` maps `site/workload/rep` to
an entry with a known status, and an ok unit records its counts and raw output. Other keys
(machine facts, tool versions, timings) are informative and may grow, so they are allowed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.scenario_messages import describe

CAMPAIGN_STATUSES = ("running", "complete", "partial", "nothing-measured", "interrupted",
                     "failed")
UNIT_KEY = r"^[^/]+/[^/]+/\d+$"


class UnitEntry(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Literal["pending", "ok", "failed"]
    samples: int | None = Field(None, ge=0, strict=True)
    histograms: int | None = Field(None, ge=0, strict=True)
    raw: str | None = None
    raw_sha256: str | None = None
    journal_sha256: str | None = None


class Manifest(BaseModel):
    model_config = ConfigDict(extra="allow")

    campaign_id: str = Field(min_length=1)
    status: Literal[CAMPAIGN_STATUSES]  # type: ignore[valid-type]
    started_at: str | None = None
    scenario_hash: str | None = None
    order: list[str] = Field(default_factory=list)
    units: dict[str, UnitEntry] = Field(default_factory=dict)


def manifest_problems(manifest: Any) -> list[str]:
    """Each field that does not match the schema, as 'path: what was expected'."""
    if not isinstance(manifest, dict):
        return [f"(top level): expected a mapping, got {type(manifest).__name__}"]
    problems: list[str] = []
    try:
        Manifest.model_validate(manifest)
    except ValidationError as e:
        problems += [describe(dict(err)) for err in e.errors()]
    units = manifest.get("units")
    if isinstance(units, dict):
        import re

        problems += [f"units: key {k!r} is not site/workload/repetition"
                     for k in units if not re.match(UNIT_KEY, str(k))]
        for k, u in units.items():
            if isinstance(u, dict) and u.get("status") == "ok" and not isinstance(
                    u.get("raw"), str):
                problems.append(f"units.{k}.raw: an ok unit records its raw output's path")
    return problems
