"""The scoring result: what the pipeline's stages produced, handed to the report stage.

Plain data only. The words (scoring.summary) and the pages (scoring.report) read it; nothing
here calls back into them, so the stages import in one direction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from core.scenario import Campaign
from scoring.criteria import CriterionSpec
from scoring.matrix import Matrix
from scoring.quantities import CostInputs
from scoring.requirements import RequirementResult
from scoring.sensitivity import Sensitivity


@dataclass
class ScoreResult:
    """Everything the report shows, in memory; scoring.summary.result_json is scores.json."""

    campaign: Campaign
    campaign_id: str
    matrix: Matrix
    requirements: list[RequirementResult]
    sensitivity: Sensitivity
    inputs: CostInputs
    excluded: list[dict[str, Any]] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    samples: pd.DataFrame | None = None
    weights_source: str = "scenario"
    criteria_source: str = "scenario"
    dropped: list[CriterionSpec] = field(default_factory=list)  # weight 0: not in the matrix
    dir: Path | None = None
    written: dict[str, Path] = field(default_factory=dict)

    @property
    def sites(self) -> list[str]:
        return self.matrix.sites
