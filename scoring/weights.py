"""A weights file re-weighs stored results without touching the scenario.

Format: a YAML mapping of criterion name → integer weight 0–5, e.g. `{tco: 5, cpu: 2}`.
Criteria it does not name keep the scenario's weight; weight 0 drops a criterion.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from core.errors import ScenarioError
from scoring.criteria import CriterionSpec


class WeightsError(ScenarioError):
    """A bad weights file: names the file and each offending key."""

    def __init__(self, path: str, problems: list[str]):
        super().__init__(path, problems)
        lines = "\n".join(f"  - {p}" for p in problems)
        self.args = (f"{path}: {len(problems)} problem(s) in the weights file\n{lines}",)

    def __str__(self) -> str:
        return str(self.args[0])


def load_weights(path: str | Path) -> dict[str, int]:
    """Read and validate a weights file (names are checked against criteria in `apply`)."""
    p = Path(path)
    if not p.is_file():
        raise WeightsError(str(p), ["file not found (give a YAML mapping criterion → weight)"])
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        raise WeightsError(str(p), [f"not valid YAML: {e}"]) from None
    if not isinstance(data, dict) or not data:
        raise WeightsError(str(p), ["(top level): expected a mapping of criterion name to "
                                     "weight 0-5, e.g. 'tco: 5'"])
    problems = []
    out: dict[str, int] = {}
    for name, w in data.items():
        if isinstance(w, bool) or not isinstance(w, int) or not 0 <= w <= 5:
            problems.append(f"{name}: expected an integer weight 0-5 (0 drops the criterion), "
                            f"got {w!r}")
        else:
            out[str(name)] = w
    if problems:
        raise WeightsError(str(p), problems)
    return out


def apply_weights(specs: list[CriterionSpec], weights: dict[str, int],
                  source: str = "<weights>") -> list[CriterionSpec]:
    """Specs with the file's weights; a name that is not a criterion is an error."""
    names = [s.name for s in specs]
    unknown = [n for n in weights if n not in names]
    if unknown:
        raise WeightsError(source, [f"{n}: not a criterion of this campaign; criteria are "
                                     f"{', '.join(names)}" for n in unknown])
    return [dataclasses.replace(s, weight=weights.get(s.name, s.weight)) for s in specs]
