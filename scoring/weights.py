"""A weights file re-weighs stored results without touching the scenario.

Format: a YAML mapping of criterion name → integer weight 0–5, e.g. `{tco: 5, cpu: 2}`.
Criteria it does not name keep the scenario's weight; weight 0 drops a criterion.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence
from pathlib import Path

from core.errors import ScenarioError
from core.scenario import WEIGHT_MAX, WEIGHT_MIN
from core.strict_yaml import StrictYamlError, read_yaml
from scoring.criteria import CriterionSpec


class WeightsError(ScenarioError):
    """A bad weights file: names the file and each offending key."""

    def __init__(self, path: str, problems: list[str]):
        super().__init__(path, problems)
        lines = "\n".join(f"  - {p}" for p in problems)
        self.args = (f"{path}: {len(problems)} problem(s) in the weights file\n{lines}",)

    def __str__(self) -> str:
        return str(self.args[0])


def weights_problems(path: str | Path,
                     criteria: Sequence[str] | None = None) -> tuple[dict[str, int], list[str]]:
    """The weights a file gives and every problem in it (shape, each value, and, when the
    criteria are known, each name that is not one of them, with the nearest name)."""
    p = Path(path)
    if not p.is_file():
        return {}, ["file not found (give a YAML mapping criterion → weight)"]
    try:
        data = read_yaml(p)
    except StrictYamlError as e:
        return {}, [str(e)]
    if not isinstance(data, dict) or not data:
        return {}, ["(top level): expected a mapping of criterion name to weight "
                    f"{WEIGHT_MIN}-{WEIGHT_MAX}, e.g. 'tco: 5'"]
    problems: list[str] = []
    out: dict[str, int] = {}
    for name, w in data.items():
        key = str(name)
        if isinstance(w, bool) or not isinstance(w, int) or not WEIGHT_MIN <= w <= WEIGHT_MAX:
            shown = repr(w) if len(repr(w)) <= 40 else repr(w)[:37] + "..."
            problems.append(f"{key}: expected an integer weight {WEIGHT_MIN}-{WEIGHT_MAX} "
                            f"(0 drops the criterion), got {shown}")
        else:
            out[key] = w
        if criteria is not None and key not in criteria:
            problems.append(_not_a_criterion(key, criteria))
    return out, problems


def _not_a_criterion(name: str, criteria: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(criteria), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return (f"{name}: not a criterion of this campaign{hint}; criteria are "
            f"{', '.join(criteria)}")


def load_weights(path: str | Path) -> dict[str, int]:
    """Read and validate a weights file (names are checked against criteria in `apply`)."""
    weights, problems = weights_problems(path)
    if problems:
        raise WeightsError(str(path), problems)
    return weights


def apply_weights(specs: list[CriterionSpec], weights: dict[str, int],
                  source: str = "<weights>") -> list[CriterionSpec]:
    """Specs with the file's weights; a name that is not a criterion is an error."""
    names = [s.name for s in specs]
    unknown = [n for n in weights if n not in names]
    if unknown:
        raise WeightsError(source, [_not_a_criterion(n, names) for n in unknown])
    return [dataclasses.replace(s, weight=weights.get(s.name, s.weight)) for s in specs]
