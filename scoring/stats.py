"""Run-to-run noise: bootstrap confidence intervals of medians over repetitions.

A site's measured value is the median over its repetitions. Resampling the repetitions with
replacement (a fixed seed, so a report is reproducible) gives the spread of that median; two
sites whose intervals overlap are tied on that criterion. The same draws, pushed through the
utilities and weights, give a distribution of each site's total: the leader only "wins" if
its lead over every other site stays above zero in the central 95% of draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 20240601
CONFIDENCE = 0.95


def median_draws(values: Sequence[float], resamples: int = DEFAULT_RESAMPLES,
                 rng: np.random.Generator | None = None) -> np.ndarray:
    """`resamples` bootstrap medians of `values` (one value → that value every time)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return np.full(resamples, np.nan)
    if v.size == 1:
        return np.full(resamples, v[0])
    rng = rng or np.random.default_rng(DEFAULT_SEED)
    idx = rng.integers(0, v.size, size=(resamples, v.size))
    return np.median(v[idx], axis=1)


def interval(draws: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Central percentile interval of bootstrap draws."""
    tail = (1.0 - confidence) / 2.0 * 100.0
    lo, hi = np.nanpercentile(draws, [tail, 100.0 - tail])
    return float(lo), float(hi)


def bootstrap_median_ci(values: Sequence[float], resamples: int = DEFAULT_RESAMPLES,
                        seed: int = DEFAULT_SEED,
                        confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(median, low, high): the median over repetitions and its percentile bootstrap CI.

    With few repetitions the interval is wide by construction (3 repetitions → roughly their
    range): that is the honest answer, and the reason ties are called ties.
    """
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return (float("nan"),) * 3
    lo, hi = interval(median_draws(v, resamples, np.random.default_rng(seed)), confidence)
    med = float(np.median(v))
    return med, min(lo, med), max(hi, med)


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Do two closed intervals share any point?"""
    return max(a[0], b[0]) <= min(a[1], b[1])


def tied_groups(cis: dict[str, tuple[float, float]]) -> dict[str, list[str]]:
    """For each site, the other sites whose interval overlaps its own."""
    return {s: [o for o in cis if o != s and overlaps(cis[s], cis[o])] for s in cis}


@dataclass
class TotalVerdict:
    """Whether the leader's lead survives the noise."""

    leader: str
    tied_with: list[str]  # sites the leader cannot be told apart from
    total_ci: dict[str, tuple[float, float]]
    lead_ci: dict[str, tuple[float, float]]  # leader minus each other site, 95% interval

    @property
    def is_tie(self) -> bool:
        return bool(self.tied_with)


def total_verdict(leader: str, sites: Sequence[str], total_draws: np.ndarray,
                  confidence: float = CONFIDENCE) -> TotalVerdict:
    """total_draws: (resamples, sites). A site ties the leader when the lower end of the
    leader's lead over it is ≤ 0 (the draws are independent across sites)."""
    i = list(sites).index(leader)
    total_ci = {s: interval(total_draws[:, j], confidence) for j, s in enumerate(sites)}
    lead_ci: dict[str, tuple[float, float]] = {}
    tied: list[str] = []
    for j, s in enumerate(sites):
        if j == i:
            continue
        diff = total_draws[:, i] - total_draws[:, j]
        if np.all(np.isnan(diff)):
            continue
        lead_ci[s] = interval(diff, confidence)
        if lead_ci[s][0] <= 0:
            tied.append(s)
    return TotalVerdict(leader, tied, total_ci, lead_ci)
