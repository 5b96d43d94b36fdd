"""`--fail-on` rules: which changes between two campaigns should fail a scheduled job.

Rules, comma-separated or repeated:
  winner-changed        the leading site is another one
  requirement-failed    a requirement that passed in the baseline no longer passes
  cost:+5%              a site's monthly cost rose by 5 % or more (cost:-5% for a drop)
  <metric>:+10%         a change beyond the noise of a metric whose name contains <metric>,
                        by +10 % or more (e.g. p99:+10%, events_per_second:-5%)
A metric rule only fires on changes outside the noise (see scoring.compare).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import BakeoffError
from scoring.compare import Comparison

_THRESHOLD = re.compile(r"^(?P<target>[a-z0-9_.-]+):(?P<sign>[+-])(?P<pct>\d+(\.\d+)?)%$")
FLAGS = ("winner-changed", "requirement-failed")


class RuleError(BakeoffError):
    """A `--fail-on` value that is not a rule: invalid input, not a crossed threshold."""

    exit_code = 2


@dataclass(frozen=True)
class Rule:
    text: str
    target: str  # "winner-changed" | "requirement-failed" | "cost" | a metric substring
    threshold: float = 0.0  # signed fraction, e.g. +0.10


def parse_rules(specs: list[str]) -> list[Rule]:
    """Parse `--fail-on` values; an unknown form is an error that shows the valid ones."""
    rules = []
    for spec in (part.strip() for s in specs for part in s.split(",")):
        if not spec:
            continue
        if spec in FLAGS:
            rules.append(Rule(spec, spec))
            continue
        m = _THRESHOLD.match(spec)
        if not m:
            raise RuleError(
                f"--fail-on {spec!r}: expected winner-changed, requirement-failed, "
                "cost:+N% or <metric>:+N% / <metric>:-N% (e.g. p99:+10%)")
        pct = float(m["pct"]) / 100.0
        rules.append(Rule(spec, m["target"], pct if m["sign"] == "+" else -pct))
    return rules


def _crossed(relative: float | None, threshold: float) -> bool:
    if relative is None:
        return False
    return relative >= threshold if threshold >= 0 else relative <= threshold


def violations(comparison: Comparison, rules: list[Rule]) -> list[str]:
    """One line per crossed rule, naming the site and the numbers behind it."""
    out = []
    for rule in rules:
        if rule.target == "winner-changed":
            if comparison.winner_changed:
                out.append(f"{rule.text}: {comparison.winner[0]} -> {comparison.winner[1]}")
        elif rule.target == "requirement-failed":
            out.extend(f"{rule.text}: {f['requirement']} on {f['site']}: {f['base']} -> "
                       f"{f['new']}" for f in comparison.requirement_flips
                       if f["base"] == "pass" and f["new"] != "pass")
        elif rule.target == "cost":
            for site, (base, new) in comparison.site_costs.items():
                if base and new is not None and _crossed((new - base) / base, rule.threshold):
                    out.append(f"{rule.text}: {site} ${base:,.2f} -> ${new:,.2f} per month "
                               f"({(new - base) / base:+.1%})")
        else:
            for m in comparison.significant:
                if rule.target in m.metric and _crossed(m.relative, rule.threshold):
                    where = f" [{m.detail}]" if m.detail else ""
                    out.append(f"{rule.text}: {m.site} {m.workload}.{m.metric}{where} "
                               f"{m.base:.4g} -> {m.new:.4g} {m.unit} ({m.relative:+.1%})")
    return out
