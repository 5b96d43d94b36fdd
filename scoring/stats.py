"""Run-to-run noise: bootstrap intervals over repetitions, and when there is too little to say.

A site's measured value is a statistic of its valid repetitions (the median of per-repetition
values, or the percentile of the merged HDR histograms). Resampling the repetitions with
replacement and recomputing *that same statistic* gives its spread; a fixed seed keeps a report
reproducible. A resample is described by multiplicities (how often each repetition was drawn),
so any statistic of a weighted set of repetitions can be bootstrapped the same way.

Fewer than MIN_REPETITIONS valid repetitions give no usable interval (one repetition resamples
to itself: a zero-width interval that would claim no noise at all). Such a value has "noise
unknown": no tie and no win beyond the noise is drawn from it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 20240601
CONFIDENCE = 0.95
MIN_REPETITIONS = 3


def noise_known(n: int) -> bool:
    """Enough valid repetitions to say anything about run-to-run noise?"""
    return n >= MIN_REPETITIONS


class Statistic(Protocol):
    """A value computed from a site's repetitions, each repetition weighted by how often a
    resample drew it. `stat(np.ones((1, n)))` is the point value."""

    @property
    def n(self) -> int: ...

    def __call__(self, multiplicities: np.ndarray) -> np.ndarray:
        """(draws, n) non-negative integer weights → (draws,) values."""
        ...


@dataclass(frozen=True)
class MedianOf:
    """The median of per-repetition values (a resample's median, from its multiplicities)."""

    values: tuple[float, ...]
    label: str = field(default="median over repetitions", compare=False)

    @property
    def n(self) -> int:
        return len(self.values)

    def __call__(self, multiplicities: np.ndarray) -> np.ndarray:
        m = np.atleast_2d(np.asarray(multiplicities, dtype=float))
        if not self.values:
            return np.full(m.shape[0], np.nan)
        order = np.argsort(self.values, kind="stable")
        v = np.asarray(self.values, dtype=float)[order]
        cum = np.cumsum(m[:, order], axis=1)
        size = cum[:, -1]
        lo_k = np.floor((size - 1) / 2)[:, None]
        hi_k = np.floor(size / 2)[:, None]
        lo = v[np.argmax(cum > lo_k, axis=1)]
        hi = v[np.argmax(cum > hi_k, axis=1)]
        return (lo + hi) / 2.0


def point(stat: Statistic) -> float:
    """The statistic over every repetition once: the value the matrix scores."""
    return float(stat(np.ones((1, stat.n)))[0])


def multiplicity_draws(n: int, resamples: int = DEFAULT_RESAMPLES,
                       rng: np.random.Generator | None = None) -> np.ndarray:
    """(resamples, n): how often each of n repetitions is drawn in each bootstrap resample."""
    rng = rng or np.random.default_rng(DEFAULT_SEED)
    idx = rng.integers(0, n, size=(resamples, n))
    out = np.zeros((resamples, n), dtype=np.int64)
    np.add.at(out, (np.arange(resamples)[:, None], idx), 1)
    return out


def bootstrap(stat: Statistic, resamples: int = DEFAULT_RESAMPLES,
              rng: np.random.Generator | None = None) -> np.ndarray:
    """`resamples` bootstrap values of `stat`. Distinct resamples are evaluated once each (with
    3 repetitions there are only 10), which keeps costly statistics such as an HDR merge cheap."""
    if stat.n == 0:
        return np.full(resamples, np.nan)
    mult = multiplicity_draws(stat.n, resamples, rng)
    unique, inverse = np.unique(mult, axis=0, return_inverse=True)
    return np.asarray(stat(unique), dtype=float)[np.asarray(inverse).reshape(-1)]


def median_draws(values: Sequence[float], resamples: int = DEFAULT_RESAMPLES,
                 rng: np.random.Generator | None = None) -> np.ndarray:
    """`resamples` bootstrap medians of `values` (check `noise_known` before reading them)."""
    return bootstrap(MedianOf(tuple(float(v) for v in values)), resamples, rng)


def interval(draws: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Central percentile interval of bootstrap draws."""
    tail = (1.0 - confidence) / 2.0 * 100.0
    lo, hi = np.nanpercentile(draws, [tail, 100.0 - tail])
    return float(lo), float(hi)


def bootstrap_ci(stat: Statistic, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                 confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(point, low, high) of any statistic; low and high are NaN when the noise is unknown
    (fewer than MIN_REPETITIONS repetitions)."""
    if stat.n == 0:
        return (float("nan"),) * 3
    value = point(stat)
    if not noise_known(stat.n):
        return value, float("nan"), float("nan")
    lo, hi = interval(bootstrap(stat, resamples, np.random.default_rng(seed)), confidence)
    return value, min(lo, value), max(hi, value)


def bootstrap_median_ci(values: Sequence[float], resamples: int = DEFAULT_RESAMPLES,
                        seed: int = DEFAULT_SEED,
                        confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(median, low, high): the median over repetitions and its percentile bootstrap CI.

    With 3 repetitions the interval is roughly their range: wide by construction, and the reason
    ties are called ties. With fewer, low and high are NaN: the noise is unknown.
    """
    return bootstrap_ci(MedianOf(tuple(float(v) for v in values)), resamples, seed, confidence)


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Do two closed intervals share any point?"""
    return max(a[0], b[0]) <= min(a[1], b[1])


def tied_groups(cis: dict[str, tuple[float, float]]) -> dict[str, list[str]]:
    """For each site, the other sites whose interval overlaps its own."""
    return {s: [o for o in cis if o != s and overlaps(cis[s], cis[o])] for s in cis}


@dataclass
class TotalVerdict:
    """Whether the leader's lead survives the noise.

    `unknown` lists the sites the leader cannot be compared with because the leader or that site
    has a noisy criterion with fewer than MIN_REPETITIONS valid repetitions.
    """

    leader: str
    tied_with: list[str]  # sites the leader cannot be told apart from
    total_ci: dict[str, tuple[float, float]]
    lead_ci: dict[str, tuple[float, float]]  # leader minus each other site, 95% interval
    unknown: list[str] = field(default_factory=list)

    @property
    def is_tie(self) -> bool:
        return bool(self.tied_with)

    @property
    def noise_unknown(self) -> bool:
        return bool(self.unknown)


def total_verdict(leader: str, sites: Sequence[str], total_draws: np.ndarray,
                  confidence: float = CONFIDENCE,
                  unknown: Collection[str] = ()) -> TotalVerdict:
    """total_draws: (resamples, sites). A site ties the leader when the lower end of the
    leader's lead over it is ≤ 0 (the draws are independent across sites). `unknown`: sites
    whose noise is unknown; if the leader is one of them, every comparison is unknown."""
    i = list(sites).index(leader)
    total_ci = {s: interval(total_draws[:, j], confidence) for j, s in enumerate(sites)
                if s not in unknown and not np.all(np.isnan(total_draws[:, j]))}
    lead_ci: dict[str, tuple[float, float]] = {}
    tied: list[str] = []
    out_unknown: list[str] = []
    for j, s in enumerate(sites):
        if j == i:
            continue
        if leader in unknown or s in unknown:
            out_unknown.append(s)
            continue
        diff = total_draws[:, i] - total_draws[:, j]
        if np.all(np.isnan(diff)):
            continue  # nothing applies to that site: it has no total to compare
        lead_ci[s] = interval(diff, confidence)
        if lead_ci[s][0] <= 0:
            tied.append(s)
    return TotalVerdict(leader, tied, total_ci, lead_ci, out_unknown)
