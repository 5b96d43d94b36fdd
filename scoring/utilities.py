"""Stage 2 of scoring: quantities → 1–10 scores per cell, with the bootstrap draws of each score.

Built-in criteria turn a quantity into a score through a fixed-bounds utility by default, so
each site's score depends only on its own numbers: adding or removing a site never reorders the
others. `relative` normalisation (formerly `minmax`) instead spans the scale with the sites
compared. Manual criteria carry the scores the scenario states. Scores are never rounded here:
rounding is for display only, so differences of a few percent survive into the totals.

A cell is one of: "manual" (the scenario's score), "ok" (a quantity through its utility),
"na" (does not apply to this site: left out of its total, see scoring.matrix.weighted_totals),
or "missing" (should have been measured but no valid sample exists: scored 1, the worst, so
that a failed run can never help a site).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from scoring.criteria import CriterionSpec, Scale
from scoring.quantities import Quantity
from scoring.stats import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    MedianOf,
    bootstrap,
    interval,
    noise_known,
    overlaps,
)

CellStatus = Literal["manual", "ok", "na", "missing"]
Noise = Literal["known", "unknown", "none"]  # none: stated or modelled, no run-to-run noise
MISSING_SCORE = 1.0


@dataclass
class Cell:
    """One criterion at one site, with everything needed to trace the score back."""

    criterion: str
    site: str
    status: CellStatus
    score: float | None  # None: not applicable; never rounded
    quantity: Quantity | None = None
    value_ci: tuple[float, float] | None = None  # None when the noise is unknown
    score_ci: tuple[float, float] | None = None
    tied_with: list[str] = field(default_factory=list)
    note: str = ""
    noise: Noise = "none"

    @property
    def value(self) -> float | None:
        return self.quantity.value if self.quantity else None


@dataclass
class ScoredRow:
    """One criterion across the sites: what the matrix stage needs and nothing else."""

    spec: CriterionSpec
    cells: list[Cell]
    scores: np.ndarray  # (sites,), NaN where not applicable
    draws: np.ndarray  # (resamples, sites) bootstrap scores, NaN where not applicable
    unknown: list[str] = field(default_factory=list)  # sites whose noise is unknown here


def _transform(values: np.ndarray, scale: Scale) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if scale == "log":
            return np.log10(np.where(values <= 0, 0.0, values))
        if scale == "nines":
            return -np.log10(np.clip(1.0 - values / 100.0, 0.0, None))
    return values


def utility(values: np.ndarray | float, bounds: tuple[float, float],
            scale: Scale = "linear") -> np.ndarray:
    """Fixed-bounds utility: bounds[0] → 1, bounds[1] → 10, clipped to [1, 10], unrounded."""
    v = _transform(np.asarray(values, dtype=float), scale)
    lo, hi = _transform(np.asarray(bounds, dtype=float), scale)
    with np.errstate(invalid="ignore"):
        u = 1.0 + 9.0 * (v - lo) / (hi - lo)
    return np.where(np.isnan(v), np.nan, np.clip(np.nan_to_num(u, nan=1.0, posinf=10.0,
                                                               neginf=1.0), 1.0, 10.0))


def relative_utility(values: np.ndarray, bounds: tuple[float, float],
                     scale: Scale = "linear") -> np.ndarray:
    """Relative to the sites of one draw (last axis): best → 10, worst → 1; all equal → 10.

    Direction comes from the bounds' order (their values are otherwise unused). Unlike the fixed
    utility this depends on which sites are compared, so adding a site can reorder the others.
    """
    v = _transform(np.asarray(values, dtype=float), scale)
    if not bounds[1] > bounds[0]:
        v = -v
    with np.errstate(invalid="ignore"):
        lo = np.nanmin(v, axis=-1, keepdims=True)
        hi = np.nanmax(v, axis=-1, keepdims=True)
        span = hi - lo
        u = np.where(span > 0, 1.0 + 9.0 * (v - lo) / np.where(span > 0, span, 1.0), 10.0)
    return np.where(np.isnan(v), np.nan, u)


def score_values(spec: CriterionSpec, values: np.ndarray) -> np.ndarray:
    """Scores of a built-in criterion for values whose last axis is the sites."""
    assert spec.bounds is not None
    if spec.normalise == "relative":
        return relative_utility(values, spec.bounds, spec.scale)
    return utility(values, spec.bounds, spec.scale)


def _rng(site: str, criterion: str, seed: int) -> np.random.Generator:
    """A stream per site and criterion, so one site's draws never depend on the others."""
    return np.random.default_rng([seed, zlib.crc32(site.encode()), zlib.crc32(criterion.encode())])


def _noise(q: Quantity) -> Noise:
    if q.status != "ok" or not q.noisy:
        return "none"
    return "known" if noise_known(q.n) else "unknown"


def _value_draws(spec: CriterionSpec, sites: Sequence[str],
                 quantities: Mapping[str, Quantity], resamples: int, seed: int) -> np.ndarray:
    """(resamples, sites): each site's statistic recomputed on resampled repetitions.
    Constants (modelled values, and values whose noise is unknown) repeat; absent are NaN."""
    out = np.full((resamples, len(sites)), np.nan)
    for j, site in enumerate(sites):
        q = quantities[site]
        if q.status != "ok":
            continue
        if _noise(q) == "known":
            stat = q.statistic or MedianOf(tuple(q.reps))
            out[:, j] = bootstrap(stat, resamples, _rng(site, spec.name, seed))
        else:
            out[:, j] = q.value
    return out


def manual_row(spec: CriterionSpec, sites: Sequence[str],
               resamples: int = DEFAULT_RESAMPLES) -> ScoredRow:
    """A manual criterion: the stated scores, the same in every draw."""
    row = np.array([spec.manual_scores[s] for s in sites], dtype=float)
    cells = [Cell(spec.name, s, "manual", float(row[j]),
                  tied_with=[o for k, o in enumerate(sites) if k != j and row[k] == row[j]],
                  note="stated in the scenario") for j, s in enumerate(sites)]
    return ScoredRow(spec, cells, row, np.broadcast_to(row, (resamples, len(sites))).copy())


def builtin_row(spec: CriterionSpec, sites: Sequence[str], quantities: Mapping[str, Quantity],
                resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> ScoredRow:
    """A built-in criterion: each quantity through the utility, point value and draws."""
    values = np.array([quantities[s].value if quantities[s].status == "ok" else np.nan
                       for s in sites], dtype=float)
    point = score_values(spec, values)
    draws = _value_draws(spec, sites, quantities, resamples, seed)
    score_draws = score_values(spec, draws)
    cells: list[Cell] = []
    unknown: list[str] = []
    for j, site in enumerate(sites):
        q = quantities[site]
        if q.status == "na":
            cells.append(Cell(spec.name, site, "na", None, q,
                              note=f"not applicable: {q.note}" if q.note else "not applicable"))
            score_draws[:, j] = np.nan
            continue
        if q.status == "missing":
            cells.append(Cell(spec.name, site, "missing", MISSING_SCORE, q,
                              note=f"{q.note}; scored {MISSING_SCORE:g} (the worst)"))
            score_draws[:, j] = MISSING_SCORE
            continue
        assert q.value is not None
        noise = _noise(q)
        vci: tuple[float, float] | None = (q.value, q.value)
        sci: tuple[float, float] | None = interval(score_draws[:, j])
        note = q.note
        if noise == "known":
            lo, hi = interval(draws[:, j])
            vci = (min(lo, q.value), max(hi, q.value))
        elif noise == "unknown":
            vci = sci = None
            unknown.append(site)
            extra = (f"noise unknown: {q.n} valid repetition(s), fewer than 3, so no interval "
                     f"and no tie or win beyond the noise")
            note = f"{note}; {extra}" if note else extra
        cells.append(Cell(spec.name, site, "ok", float(point[j]), q, value_ci=vci,
                          score_ci=sci, note=note, noise=noise))
    comparable = {c.site: c.value_ci for c in cells if c.status == "ok" and c.value_ci}
    for c in cells:
        if c.site in comparable:
            c.tied_with = [s for s in comparable
                           if s != c.site and overlaps(comparable[c.site], comparable[s])]
    scores = np.array([np.nan if c.score is None else c.score for c in cells], dtype=float)
    return ScoredRow(spec, cells, scores, score_draws, unknown)


def score_rows(specs: Sequence[CriterionSpec], sites: Sequence[str],
               quantities: Mapping[str, Mapping[str, Quantity]],
               resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> list[ScoredRow]:
    """Every criterion's row. quantities: criterion name → site → Quantity (built-ins only)."""
    return [manual_row(s, sites, resamples) if s.kind == "manual"
            else builtin_row(s, sites, quantities[s.name], resamples, seed) for s in specs]
