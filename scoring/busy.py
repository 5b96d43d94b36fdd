"""Which criteria a decision rests on that were measured on a busy host.

A unit measured while the host did other work (bench.hostload) is kept and flagged; its
numbers may understate the site. The headline (scoring.summary) never calls a lead
"beyond the run-to-run noise" when part of it comes from such units: the interval only
knows the spread of the repetitions, not the work that slowed them.
"""

from __future__ import annotations

import re
from typing import Any

from bench.hostload import count_busy
from scoring.criteria import BUILTINS

_WORKLOAD_REF = re.compile(r"\b([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\.[a-z_]+")


def criterion_workloads(name: str) -> set[str]:
    """The workloads a built-in criterion reads, from its declared source."""
    from bench.workloads import REGISTRY

    b = BUILTINS.get(name)
    if b is None:
        return set()
    named = set(_WORKLOAD_REF.findall(b.source)) | ({b.metric[0]} if b.metric else set())
    return {w for w in named if w in REGISTRY}


def affected_criteria(result: Any, lead: str, other: str) -> list[str]:
    """Labels of the criteria where `lead` scores above `other` (weighted) and a unit behind
    either site's value ran on a busy host: the part of the lead that cannot be trusted."""
    b = count_busy(result.manifest)
    if not b.count:
        return []
    m = result.matrix
    out = []
    for c in m.criteria:
        flagged = {w for s in (lead, other) for w in b.busy.get(s, {})}
        if not (criterion_workloads(c.name) & flagged):
            continue
        ahead = (m.cell(c.name, lead).score or 0) - (m.cell(c.name, other).score or 0)
        if ahead > 0:
            out.append(c.label)
    return out
