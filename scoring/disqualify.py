"""Hard requirements: which sites may not win, and why.

A site that fails a hard requirement (a compliance `requires:` entry, or a requirement
marked `hard: true`) stays in the matrix with its scores and total, but it is out of the
contest: the leader, the noise verdict and the weight sensitivity are judged among the sites
that qualify. "Not measured" does not disqualify (nothing failed), but the decision says the
requirement is unverified.
"""

from __future__ import annotations

from collections.abc import Sequence

from scoring.requirements import RequirementResult


def disqualified(results: Sequence[RequirementResult]) -> dict[str, list[str]]:
    """Site -> the hard requirements it fails, each with its value or level (scenario order)."""
    out: dict[str, list[str]] = {}
    for r in results:
        if r.hard and r.status == "fail":
            out.setdefault(r.site, []).append(reason(r))
    return out


def unverified(results: Sequence[RequirementResult]) -> dict[str, list[str]]:
    """Site -> hard requirements that could not be measured there."""
    out: dict[str, list[str]] = {}
    for r in results:
        if r.hard and r.status == "not measured":
            out.setdefault(r.site, []).append(r.requirement)
    return out


def reason(r: RequirementResult) -> str:
    """'fedramp-high (none (not in us-east-1))' or 'ping.rtt_avg < 2 ms (got 2.4 ms)'."""
    if r.metric.startswith("compliance."):
        return f"{r.metric.split('.', 1)[1]} ({r.note.split('; ', 1)[0]})"
    got = "" if r.value is None else f" (got {r.value:.4g}{' ' + r.unit if r.unit else ''})"
    return f"{r.requirement}{got}"
