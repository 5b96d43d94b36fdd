"""Everything that can be checked before measuring, reported all at once.

`bakeoff validate`, `plan` and the start of `run` call `preflight`. The scenario model
(core.scenario) checks shapes, types and workload params; this module adds what needs the
rest of the application: criterion names (scoring's built-ins), requirement metrics and
units (the workloads' declared metrics), a local site's CPUs against the CPUs this process
may use, and a weights file. Problems of every layer are collected before anything is raised,
so one `validate` shows a new user every mistake.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bakeoff.endpoint_check import where_problems
from bakeoff.file_roots import file_problems
from bench.workloads import REGISTRY
from core.errors import ScenarioError
from core.scenario import Campaign, raw_entries, read_scenario_data, scenario_problems
from scoring.criteria import criteria_problems
from scoring.matrix import BUILTINS
from scoring.weights import weights_problems

METRIC_RE = re.compile(r"^[a-z0-9-]+\.[a-z0-9_.]+$")


class CheckError(ScenarioError):
    """Problems in the scenario and (optionally) a weights file, grouped by file."""

    def __init__(self, files: dict[str, list[str]]):
        self.files = {f: p for f, p in files.items() if p}
        first = next(iter(self.files))
        super().__init__(first, [p for ps in self.files.values() for p in ps])
        blocks = []
        for path, problems in self.files.items():
            lines = "\n".join(f"  - {p}" for p in problems)
            blocks.append(f"{path}: {len(problems)} problem(s)\n{lines}")
        self.args = ("\n".join(blocks),)

    def __str__(self) -> str:
        return str(self.args[0])


def _suggest(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def _scenario_workloads(data: dict[str, Any]) -> list[str]:
    return [w["name"] for _, w in raw_entries(data, "workloads")
            if isinstance(w.get("name"), str) and w["name"] in REGISTRY]


def criterion_problems(data: dict[str, Any]) -> list[str]:
    """A criterion without `scores` must be a built-in (with the nearest name suggested)."""
    problems = []
    for i, c in raw_entries(data, "criteria"):
        name = c.get("name")
        if not isinstance(name, str) or "scores" in c or name in BUILTINS:
            continue
        problems.append(f"criteria[{i}].name: unknown criterion {name!r}{_suggest(name, BUILTINS)};"
                        f" expected a built-in ({', '.join(BUILTINS)}) or a manual criterion "
                        "with 'scores' for every site")
    return problems


def requirement_problems(data: dict[str, Any]) -> list[str]:
    """A requirement's metric must be one a workload of this scenario produces, in the unit
    that workload declares; otherwise it could only ever be 'not measured'."""
    problems = []
    present = _scenario_workloads(data)
    produced = {f"{w}.{m}": u for w in present for m, u in REGISTRY[w].metrics.items()}
    everywhere = {f"{w}.{m}": u for w, wl in REGISTRY.items() for m, u in wl.metrics.items()}
    for i, r in raw_entries(data, "requirements"):
        metric = r.get("metric")
        if not isinstance(metric, str) or not METRIC_RE.match(metric):
            continue  # the model reports the shape
        if metric not in produced:
            workload = metric.split(".", 1)[0]
            if metric in everywhere:
                why = (f"workload {workload!r} is not in this scenario's workloads "
                       f"({', '.join(present) or 'none'})")
            else:
                why = "no workload of this scenario produces it"
            hint = _suggest(metric, produced) or _suggest(metric, everywhere)
            problems.append(f"requirements[{i}].metric: {metric!r}: {why}{hint}; metrics of "
                            f"this scenario are listed by 'bakeoff validate --metrics'")
            continue
        unit = r.get("unit")
        if isinstance(unit, str) and unit != produced[metric]:
            problems.append(f"requirements[{i}].unit: {unit!r}, but {metric} is measured in "
                            f"{produced[metric]!r} (give that unit; no conversion is guessed)")
    return problems


def allowed_cpus() -> list[int]:
    """The CPUs this process may run on (a cpuset or `taskset` can leave out CPU 0)."""
    return sorted(os.sched_getaffinity(0))


def cpu_problems(data: dict[str, Any]) -> list[str]:
    """A local site's `cpus` cannot exceed the CPUs this process may use."""
    allowed = allowed_cpus()
    problems = []
    for i, s in raw_entries(data, "sites"):
        cpus = s.get("cpus")
        if s.get("provider") != "local" or isinstance(cpus, bool) or not isinstance(cpus, int):
            continue
        if len(allowed) < cpus <= 1024:  # above 1024 the model already refuses it
            problems.append(f"sites[{i}].cpus: {cpus} CPUs asked, but this process may use "
                            f"{len(allowed)} (CPUs {_ranges(allowed)}, from sched_getaffinity); "
                            f"expected at most {len(allowed)}")
    return problems


def _ranges(cpus: list[int]) -> str:
    out: list[str] = []
    for c in cpus:
        if out and "-" not in out[-1] and int(out[-1]) == c - 1:
            out[-1] = f"{out[-1]}-{c}"
        elif out and "-" in out[-1] and int(out[-1].split("-")[1]) == c - 1:
            out[-1] = f"{out[-1].split('-')[0]}-{c}"
        else:
            out.append(str(c))
    return ",".join(out)


def criterion_names(data: dict[str, Any], campaign: Campaign | None) -> list[str]:
    """The criteria a weights file may name: the scenario's, or the built-ins it would get."""
    listed = [c["name"] for _, c in raw_entries(data, "criteria") if isinstance(c.get("name"), str)]
    if listed or data.get("criteria"):
        return listed
    if campaign is not None:
        import pandas as pd

        from bench.samples import SAMPLE_COLUMNS
        from scoring.quantities import available_builtins

        return available_builtins(pd.DataFrame(columns=list(SAMPLE_COLUMNS)), campaign)
    return list(BUILTINS)


def preflight(scenario: str | Path, weights: str | Path | None = None) -> Campaign:
    """The validated campaign, or a CheckError listing every problem of both files."""
    try:
        data = read_scenario_data(scenario)
    except ScenarioError as e:  # not YAML: nothing more to read in it, but weights still are
        data, campaign, problems = None, None, list(e.problems)
    else:
        campaign, problems = scenario_problems(data, REGISTRY)
    given: dict[str, int] | None = None
    weight_problems: list[str] = []
    if weights is not None:
        names = criterion_names(data, campaign) if isinstance(data, dict) else None
        given, weight_problems = weights_problems(weights, names)
    if isinstance(data, dict):
        problems += criterion_problems(data) + requirement_problems(data) + cpu_problems(data)
        sites = [s["name"] for _, s in raw_entries(data, "sites") if isinstance(s.get("name"), str)]
        problems += criteria_problems(raw_entries(data, "criteria"), sites, given)
        problems += file_problems(data, Path(scenario))
        problems += where_problems(data)
    files = {str(scenario): list(dict.fromkeys(problems))}
    if weights is not None:
        files[str(weights)] = weight_problems
    if any(files.values()):
        raise CheckError(files)
    assert campaign is not None
    return campaign


def produced_metrics(campaign: Campaign) -> dict[str, str]:
    """`workload.metric` -> unit for every metric the scenario's workloads can produce."""
    return {f"{w.name}.{m}": u for w in campaign.workloads
            for m, u in REGISTRY[w.name].metrics.items()}
