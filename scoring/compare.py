"""Compare two campaigns: what changed beyond the noise, in measurements, prices and the decision.

A metric's change is the difference of the medians over repetitions; its 95% interval
comes from resampling each campaign's repetitions independently (bootstrap). The change
is reported only when the interval excludes zero AND the relative change is at least
`min_change` (practical significance); with fewer than 3 valid repetitions on either
side the noise is unknown and nothing is claimed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench import frames
from bench.results import CampaignResults, load_results
from scoring.directions import improved
from scoring.stats import DEFAULT_SEED, MIN_REPETITIONS, interval, median_draws

DEFAULT_MIN_CHANGE = 0.05
RESAMPLES = 4000

# Decision verdicts (scoring.summary) under which the leader's lead is beyond the noise.
FIRM_VERDICTS = ("beyond the noise", "no noise", "only site")


@dataclass
class MetricChange:
    site: str
    workload: str
    metric: str
    detail: str  # endpoint, fio job, ... ('' when the metric has one value per repetition)
    unit: str
    base: float
    new: float
    change: float  # new - base
    relative: float | None  # change / |base|
    ci: tuple[float, float] | None
    n_base: int
    n_new: int
    verdict: str  # "better" | "worse" | "changed" (no better side) | "no change" | "noise unknown"
    busy: bool = False  # a repetition on either side ran while the host did other work


@dataclass
class PriceChange:
    site: str
    component: str
    base_usd: float | None
    new_usd: float | None

    @property
    def relative(self) -> float | None:
        if not self.base_usd or self.new_usd is None:
            return None
        return (self.new_usd - self.base_usd) / self.base_usd


@dataclass
class Comparison:
    base_id: str
    new_id: str
    metrics: list[MetricChange]
    prices: list[PriceChange]
    site_costs: dict[str, tuple[float | None, float | None]]
    totals: dict[str, tuple[float | None, float | None]]
    ranks: dict[str, tuple[int | None, int | None]]
    winner: tuple[str | None, str | None]
    requirement_flips: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    # Each side's decision verdict ("beyond the noise", "too close to call", ...).
    winner_verdicts: tuple[str | None, str | None] = (None, None)
    # (workload, metric) pairs measured in either campaign: what `--fail-on` may name.
    available: list[tuple[str, str]] = field(default_factory=list)

    def _firm(self, side: int) -> bool:
        return self.winner[side] is not None and self.winner_verdicts[side] in FIRM_VERDICTS

    @property
    def winner_changed(self) -> bool:
        """Another leader, each beyond the noise of its own campaign; a tie on either side
        is reported (winner_text) but is not a change."""
        return self._firm(0) and self._firm(1) and self.winner[0] != self.winner[1]

    @property
    def winner_text(self) -> str:
        """"a → b", with "tie" for a side whose lead is inside the noise (or unknown)."""
        def side(i: int) -> str:
            if self.winner[i] is None:
                return "none"
            return self.winner[i] if self._firm(i) else \
                f"tie ({self.winner[i]} ahead, {self.winner_verdicts[i] or 'noise unknown'})"
        return f"{side(0)} → {side(1)}"

    @property
    def significant(self) -> list[MetricChange]:
        return [m for m in self.metrics if m.verdict in ("better", "worse", "changed")]

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["winner_changed"] = self.winner_changed
        out["winner_text"] = self.winner_text
        return out


# Metadata keys that say WHICH value a sample is (an endpoint, a direction); the others
# (threads, counts, timings) describe how it was measured and may differ between campaigns.
IDENTITY_KEYS = ("endpoint", "query", "operation", "reverse", "direction", "job", "rw", "bs",
                 "block_size")


def _detail(metadata: Any) -> str:
    data = metadata if isinstance(metadata, dict) else json.loads(metadata or "{}")
    return ",".join(f"{k}={data[k]}" for k in IDENTITY_KEYS if k in data)


def _grouped(samples: pd.DataFrame) -> dict[tuple[str, str, str, str, str], list[float]]:
    """Valid values per (site, workload, metric, detail, unit), one per repetition."""
    valid = samples[samples["valid"].astype(bool)]
    out: dict[tuple[str, str, str, str, str], list[float]] = {}
    for row in valid.itertuples(index=False):
        key = (row.site, row.workload, row.metric, _detail(row.metadata), row.unit)
        out.setdefault(key, []).append(float(row.value))
    return out


def metric_change(key: tuple[str, str, str, str, str], base: list[float], new: list[float],
                  min_change: float, seed: int = DEFAULT_SEED) -> MetricChange:
    """The difference of medians with its bootstrap interval and a verdict."""
    site, workload, metric, detail, unit = key
    b, n = float(np.median(base)), float(np.median(new))
    change = n - b
    relative = change / abs(b) if b else None
    ci = None
    if min(len(base), len(new)) < MIN_REPETITIONS:
        verdict = "noise unknown"
    else:
        rng = np.random.default_rng(seed)
        diff = (median_draws(new, RESAMPLES, rng) - median_draws(base, RESAMPLES, rng))
        ci = interval(diff)
        inside_noise = ci[0] <= 0.0 <= ci[1]
        small = relative is not None and abs(relative) < min_change
        if inside_noise or small or change == 0:
            verdict = "no change"
        else:
            better = improved(workload, metric, change)
            verdict = "changed" if better is None else ("better" if better else "worse")
    return MetricChange(site, workload, metric, detail, unit, b, n, change, relative, ci,
                        len(base), len(new), verdict)


def _busy_units(manifest: dict[str, Any]) -> set[tuple[str, str]]:
    """(site, workload) pairs with a repetition measured while the host was busy."""
    out = set()
    for key, unit in (manifest.get("units") or {}).items():
        if isinstance(unit, dict) and unit.get("busy") and key.count("/") == 2:
            site, workload, _ = key.split("/")
            out.add((site, workload))
    return out


def _context_warnings(base: CampaignResults, new: CampaignResults) -> list[str]:
    """Differences that make a comparison less than like-for-like."""
    out = []
    for label, getter in (("tool versions", lambda r: r.manifest.get("tool_versions", {})),
                          ("machine", lambda r: {k: v for k, v in r.manifest.get(
                              "machine", {}).items() if k in ("cpu_model", "vcpus",
                                                              "memory_kib", "kernel")})):
        if getter(base) != getter(new):
            out.append(f"the campaigns ran with different {label}: a change may come from "
                       "there rather than from the sites")
    params_b = {w.name: w.params for w in base.campaign.workloads}
    params_n = {w.name: w.params for w in new.campaign.workloads}
    for name in sorted(set(params_b) & set(params_n)):
        if params_b[name] != params_n[name]:
            out.append(f"workload {name} ran with different params ({params_b[name]} vs "
                       f"{params_n[name]})")
    sites_b = {s.name: s.model_dump(mode="json") for s in base.campaign.sites}
    sites_n = {s.name: s.model_dump(mode="json") for s in new.campaign.sites}
    for name in sorted(set(sites_b) & set(sites_n)):
        if sites_b[name] != sites_n[name]:
            out.append(f"site {name} is defined differently in the two scenarios")
    return out


def _requirement_flips(base: dict | None, new: dict | None) -> list[dict[str, Any]]:
    def statuses(scores: dict | None) -> dict[tuple[str, str], str]:
        return {(r.get("requirement"), r.get("site")): r.get("status")
                for r in (scores or {}).get("requirements") or [] if isinstance(r, dict)}

    b, n = statuses(base), statuses(new)
    return [{"requirement": req, "site": site, "base": b.get((req, site)),
             "new": n.get((req, site))}
            for req, site in sorted(set(b) | set(n), key=str)
            if b.get((req, site)) != n.get((req, site))]


def _costs(scores: dict | None) -> tuple[dict[tuple[str, str], float], dict[str, float]]:
    table = frames.costs_table(scores)
    comps = {(r.site, r.component): float(r.monthly_usd) for r in table.itertuples()
             if r.monthly_usd is not None}
    totals = {site: float(c.get("monthly_usd")) for site, c in
              ((scores or {}).get("costs") or {}).items()
              if isinstance(c, dict) and c.get("monthly_usd") is not None}
    return comps, totals


def compare(base_ref: str | Path, new_ref: str | Path, root: str | Path = "results",
            min_change: float = DEFAULT_MIN_CHANGE) -> Comparison:
    """Compare two stored campaigns (ids, folders, or 'latest'); both are only read."""
    base, new = load_results(base_ref, root), load_results(new_ref, root)
    gb, gn = _grouped(base.samples), _grouped(new.samples)
    metrics = [metric_change(k, gb[k], gn[k], min_change) for k in sorted(set(gb) & set(gn))]
    busy = _busy_units(base.manifest) | _busy_units(new.manifest)
    for m in metrics:
        m.busy = (m.site, m.workload) in busy
    warn = _context_warnings(base, new)
    if busy:
        warn.append("some repetitions ran while the host was busy with other work ("
                    + ", ".join(sorted(f"{s}/{w}" for s, w in busy)) + "): a change there "
                    "may come from that work; marked 'busy host'")
    only = sorted({f"{k[0]}/{k[1]}" for k in set(gb) ^ set(gn)})
    if only:
        warn.append(f"measured in only one of the two campaigns: {', '.join(only)}")
    sb, sn = frames.read_scores(base.dir), frames.read_scores(new.dir)
    if sb is None or sn is None:
        warn.append("one campaign has no scores (run `bakeoff score` on it) so prices, "
                    "totals and the decision are not compared")
    snaps = [((data or {}).get("price_snapshot") or {}) for data in (sb, sn)]
    if sb and sn and snaps[0].get("id") != snaps[1].get("id"):
        warn.append(f"priced with different snapshots: {snaps[0].get('id')} "
                    f"({snaps[0].get('date')}) vs {snaps[1].get('id')} ({snaps[1].get('date')})")
    cb, tb = _costs(sb)
    cn, tn = _costs(sn)
    prices = [PriceChange(site, comp, cb.get((site, comp)), cn.get((site, comp)))
              for site, comp in sorted(set(cb) | set(cn))
              if cb.get((site, comp)) != cn.get((site, comp))]
    totals_b, totals_n = (sb or {}).get("totals") or {}, (sn or {}).get("totals") or {}
    rank_b, rank_n = (sb or {}).get("ranking") or [], (sn or {}).get("ranking") or []
    sites = sorted(set(totals_b) | set(totals_n))
    return Comparison(
        base_id=base.campaign_id, new_id=new.campaign_id, metrics=metrics, prices=prices,
        site_costs={s: (tb.get(s), tn.get(s)) for s in sorted(set(tb) | set(tn))},
        totals={s: (totals_b.get(s), totals_n.get(s)) for s in sites},
        ranks={s: (rank_b.index(s) + 1 if s in rank_b else None,
                   rank_n.index(s) + 1 if s in rank_n else None) for s in sites},
        winner=(_decision(sb).get("leader"), _decision(sn).get("leader")),
        winner_verdicts=(_verdict(_decision(sb)), _verdict(_decision(sn))),
        requirement_flips=_requirement_flips(sb, sn), warnings=warn,
        available=sorted({(k[1], k[2]) for k in (*gb, *gn)}))


def _decision(scores: dict | None) -> dict[str, Any]:
    return (scores or {}).get("decision") or {}


def _verdict(decision: dict[str, Any]) -> str | None:
    """The decision's verdict; scores written before verdicts existed say only `tie`."""
    if decision.get("verdict"):
        return str(decision["verdict"])
    if decision.get("leader") is None:
        return None
    return "too close to call" if decision.get("tie") else "beyond the noise"
