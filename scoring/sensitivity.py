"""Stage 4 of scoring: how much does the decision depend on the weights?

Reads the matrix stage's scores and weights. Three views (scores fixed, weights varied):
- one-at-a-time: each weight −1 and +1 (kept within 1–5), who wins then;
- Monte-Carlo: weights drawn uniformly within ±1 of the given ones (clipped to 1–5), the share
  of draws each site wins (a draw with a tie splits its win equally);
- flip distance: the smallest change of a single weight, anywhere in 1–5 on a 0.01 grid,
  that changes the winner; plus the smallest whole-number change that does. When the totals
  tie exactly there is no single winner to flip, so there is no flip distance either.
A TOPSIS ranking over the same scores is given as a cross-check of the additive model.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scoring.matrix import weighted_totals, winners

DEFAULT_DRAWS = 5000
DEFAULT_SEED = 7


@dataclass
class OatRow:
    criterion: str
    weight: int
    minus: tuple[int, list[str]] | None  # (new weight, winners) or None when already at 1
    plus: tuple[int, list[str]] | None  # None when already at 5


@dataclass
class Flip:
    """The smallest single-weight change that changes who wins (None: none within 1–5)."""

    criterion: str | None
    from_weight: float
    to_weight: float
    new_winners: list[str]

    @property
    def delta(self) -> float:
        return self.to_weight - self.from_weight


@dataclass
class Sensitivity:
    baseline: list[str]
    oat: list[OatRow]
    mc_shares: dict[str, float]
    mc_draws: int
    mc_seed: int
    flip: Flip | None
    flip_integer: Flip | None
    topsis: dict[str, float] | None
    exact_tie: bool = False  # the baseline totals tie exactly: no flip distance


def _winners(scores: np.ndarray, weights: np.ndarray, sites: Sequence[str]) -> list[str]:
    return winners(weighted_totals(scores, weights), sites)


def one_at_a_time(scores: np.ndarray, weights: Sequence[float], names: Sequence[str],
                  sites: Sequence[str]) -> list[OatRow]:
    """Each weight moved by −1 and +1 alone (skipped where that would leave 1–5)."""
    w = np.asarray(weights, dtype=float)
    rows = []
    for i, name in enumerate(names):
        out: list[tuple[int, list[str]] | None] = []
        for step in (-1, 1):
            nw = w[i] + step
            if not 1 <= nw <= 5:
                out.append(None)
                continue
            trial = w.copy()
            trial[i] = nw
            out.append((int(nw), _winners(scores, trial, sites)))
        rows.append(OatRow(name, int(w[i]), out[0], out[1]))
    return rows


def monte_carlo(scores: np.ndarray, weights: Sequence[float], sites: Sequence[str],
                draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED) -> dict[str, float]:
    """Share of weight draws each site wins; shares sum to 1 (ties split)."""
    w = np.asarray(weights, dtype=float)
    rng = np.random.default_rng(seed)
    lo, hi = np.clip(w - 1, 1, 5), np.clip(w + 1, 1, 5)
    sampled = rng.uniform(lo, hi, size=(draws, w.size))  # (draws, criteria)
    totals = weighted_totals(np.broadcast_to(scores, (draws, *scores.shape)), sampled)
    best = np.nanmax(totals, axis=1, keepdims=True)
    is_best = np.isclose(totals, best, rtol=0, atol=1e-9) & ~np.isnan(totals)
    share = (is_best / is_best.sum(axis=1, keepdims=True)).sum(axis=0) / draws
    return {s: float(v) for s, v in zip(sites, share, strict=True)}


def flip_distance(scores: np.ndarray, weights: Sequence[float], names: Sequence[str],
                  sites: Sequence[str], step: float = 0.01,
                  integer: bool = False) -> Flip | None:
    """Smallest |change| of one weight (within 1–5) after which the winners differ; None when
    none does, and None for an exact tie (any change that favours one side "flips" it, which
    says nothing about how firm a decision is)."""
    w = np.asarray(weights, dtype=float)
    base = _winners(scores, w, sites)
    if len(base) != 1:
        return None  # an exact tie (or nothing scored): there is no winner to flip
    grid = np.arange(1, 6) if integer else np.round(np.arange(1.0, 5.0 + step / 2, step), 6)
    grid = np.asarray(grid, dtype=float)
    base_mask = np.array([s in base for s in sites])
    best: Flip | None = None
    for i, name in enumerate(names):
        trials = np.repeat(w[None, :], grid.size, axis=0)
        trials[:, i] = grid
        totals = weighted_totals(np.broadcast_to(scores, (grid.size, *scores.shape)), trials)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: nobody wins
            top = np.nanmax(totals, axis=1, keepdims=True)
        is_best = np.isclose(totals, top, rtol=0, atol=1e-9) & ~np.isnan(totals)
        changed = np.any(is_best != base_mask, axis=1) & (grid != w[i])
        if not changed.any():
            continue
        dist = np.where(changed, np.abs(grid - w[i]), np.inf)
        k = int(np.argmin(dist))  # the nearest; on equal distance the lower weight, as before
        if best is None or dist[k] < abs(best.delta):
            best = Flip(name, float(w[i]), float(grid[k]),
                        [s for s, b in zip(sites, is_best[k], strict=True) if b])
    return best


def topsis(scores: np.ndarray, weights: Sequence[float], sites: Sequence[str]) -> dict[str, float]:
    """TOPSIS closeness (0–1, higher is better) over the 1–10 scores, all criteria benefits.

    Criteria with a not-applicable cell are left out here (TOPSIS has no rescaling rule).
    Unlike the additive total, TOPSIS depends on which sites are compared.
    """
    keep = ~np.isnan(scores).any(axis=1)
    x = scores[keep]
    w = np.asarray(weights, dtype=float)[keep]
    if x.size == 0:
        return {}
    norm = np.sqrt((x ** 2).sum(axis=1, keepdims=True))
    v = x / np.where(norm > 0, norm, 1.0) * (w / w.sum())[:, None]
    ideal, anti = v.max(axis=1, keepdims=True), v.min(axis=1, keepdims=True)
    d_pos = np.sqrt(((v - ideal) ** 2).sum(axis=0))
    d_neg = np.sqrt(((v - anti) ** 2).sum(axis=0))
    denom = d_pos + d_neg
    close = np.where(denom > 0, d_neg / np.where(denom > 0, denom, 1.0), 1.0)
    return {s: float(c) for s, c in zip(sites, close, strict=True)}


def analyse(scores: np.ndarray, weights: Sequence[float], names: Sequence[str],
            sites: Sequence[str], draws: int = DEFAULT_DRAWS,
            seed: int = DEFAULT_SEED) -> Sensitivity:
    """All three views plus the TOPSIS cross-check."""
    w = np.asarray(weights, dtype=float)
    baseline = _winners(scores, w, sites)
    return Sensitivity(
        baseline=baseline,
        oat=one_at_a_time(scores, w, names, sites),
        mc_shares=monte_carlo(scores, w, sites, draws, seed),
        mc_draws=draws, mc_seed=seed,
        flip=flip_distance(scores, w, names, sites),
        flip_integer=flip_distance(scores, w, names, sites, integer=True),
        topsis=topsis(scores, w, sites) if len(sites) > 1 else None,
        exact_tie=len(baseline) > 1,
    )
