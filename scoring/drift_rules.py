"""`--fail-on` rules: which changes between two campaigns should fail a scheduled job.

Rules, comma-separated or repeated:
  winner-changed        the leading site is another one
  requirement-failed    a requirement that passed in the baseline no longer passes
  cost:+5%              a site's monthly cost rose by 5 % or more (cost:-5% for a drop)
  <metric>:+10%         a change beyond the noise of a metric, by +10 % or more; <metric> is
                        a metric name (events_per_second), workload.metric
                        (http-load.latency_p99) or an alias (p99 = the HTTP p99)
A metric rule only fires on changes outside the noise (see scoring.compare). Every metric
term must name a metric the campaigns contain (`resolve_rules`): a typo is an error with a
suggestion, never a gate that silently never fires.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from core.errors import BakeoffError
from scoring.compare import Comparison
from scoring.display import fmt_value

_THRESHOLD = re.compile(r"^(?P<target>[a-z0-9_.-]+):(?P<sign>[+-])(?P<pct>\d+(\.\d+)?)%$")
FLAGS = ("winner-changed", "requirement-failed")
# Short names for the metrics people gate on; each names exactly one (workload, metric).
ALIASES: dict[str, tuple[str, str, str]] = {
    **{p: ("http-load", f"latency_{p}", f"the HTTP {p} latency") for p in
       ("p50", "p95", "p99", "p999")},
    "http_p99": ("http-load", "latency_p99", "the HTTP p99 latency"),
    "cpu": ("sysbench-cpu", "events_per_second", "CPU throughput"),
    "rtt": ("ping", "rtt_avg", "the network round trip"),
}


class RuleError(BakeoffError):
    """A `--fail-on` value that is not a rule: invalid input, not a crossed threshold."""

    exit_code = 2


@dataclass(frozen=True)
class Rule:
    text: str
    target: str  # "winner-changed" | "requirement-failed" | "cost" | a metric substring
    threshold: float = 0.0  # signed fraction, e.g. +0.10
    metrics: tuple[tuple[str, str], ...] = ()  # (workload, metric) a metric rule checks


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


def _is_metric_rule(rule: Rule) -> bool:
    return rule.target not in (*FLAGS, "cost")


def resolve_rules(rules: list[Rule], available: Iterable[tuple[str, str]],
                  where: str = "the campaigns") -> tuple[list[Rule], list[str]]:
    """Bind each metric rule to the (workload, metric) pairs it checks.

    Returns the bound rules and one line per metric rule saying what it resolved to. A term
    that names nothing measured is a RuleError (exit 2) with the closest names.
    """
    pairs = sorted(set(available))
    names = sorted({m for _, m in pairs})
    qualified = [f"{w}.{m}" for w, m in pairs]
    out, notes = [], []
    for rule in rules:
        if not _is_metric_rule(rule):
            out.append(rule)
            continue
        t = rule.target
        found: list[tuple[str, str]] = []
        how = ""
        if t in ALIASES:
            w, m, label = ALIASES[t]
            if (w, m) not in pairs:
                raise RuleError(f"--fail-on {rule.text!r}: {t} stands for {w}.{m} ({label}), "
                                f"which {where} did not measure; measured: "
                                f"{_listing(qualified)}")
            found, how = [(w, m)], f" ({label})"
        elif "." in t:
            found = [p for p in pairs if f"{p[0]}.{p[1]}" == t]
        else:
            found = [p for p in pairs if p[1] == t]
        if not found:
            close = difflib.get_close_matches(t, [*ALIASES, *names, *qualified], n=3,
                                              cutoff=0.6)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise RuleError(f"--fail-on {rule.text!r}: no metric {t!r} in {where}{hint} "
                            f"Measured: {_listing(qualified)}; aliases: {', '.join(ALIASES)}")
        bound = replace(rule, metrics=tuple(found))
        out.append(bound)
        notes.append(f"--fail-on {rule.text} checks "
                     f"{', '.join(f'{w}.{m}' for w, m in found)}{how}")
    return out, notes


def _listing(items: list[str], limit: int = 12) -> str:
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f" and {more} more" if more > 0 else "") if items \
        else "nothing"


def _crossed(relative: float | None, threshold: float) -> bool:
    if relative is None:
        return False
    return relative >= threshold if threshold >= 0 else relative <= threshold


def violations(comparison: Comparison, rules: list[Rule]) -> list[str]:
    """One line per crossed rule, naming the site and the numbers behind it.

    Metric rules not yet bound to metrics are resolved here against the comparison."""
    if any(_is_metric_rule(r) and not r.metrics for r in rules):
        rules, _ = resolve_rules(rules, comparison.available)
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
                if (m.workload, m.metric) in rule.metrics and _crossed(m.relative,
                                                                       rule.threshold):
                    where = f" [{m.detail}]" if m.detail else ""
                    out.append(f"{rule.text}: {m.site} {m.workload}.{m.metric}{where} "
                               f"{fmt_value(m.base)} -> {fmt_value(m.new)} {m.unit} "
                               f"({m.relative:+.1%})")
    return out
