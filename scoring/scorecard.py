"""Assemble the matrix: one cell per criterion × site, totals, and their noise.

A cell is one of: "manual" (the scenario's score), "ok" (a quantity through its utility),
"na" (does not apply to this site: left out of its total, which is rescaled to the full
weight, see scoring.matrix.weighted_totals), or "missing" (should have been measured but no
valid sample exists: scored 1, the worst, so that a failed run can never help a site).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from scoring.matrix import CriterionSpec, ranking, score_values, weighted_totals, winners
from scoring.quantities import Quantity
from scoring.stats import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    TotalVerdict,
    interval,
    median_draws,
    overlaps,
    total_verdict,
)

CellStatus = Literal["manual", "ok", "na", "missing"]
MISSING_SCORE = 1.0


@dataclass
class Cell:
    """One criterion at one site, with everything needed to trace the score back."""

    criterion: str
    site: str
    status: CellStatus
    score: float | None  # None: not applicable
    quantity: Quantity | None = None
    value_ci: tuple[float, float] | None = None
    score_ci: tuple[float, float] | None = None
    tied_with: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def value(self) -> float | None:
        return self.quantity.value if self.quantity else None


@dataclass
class Matrix:
    """The scored matrix. `scores` is (criteria, sites) with NaN for not-applicable cells."""

    criteria: list[CriterionSpec]
    sites: list[str]
    cells: dict[tuple[str, str], Cell]
    scores: np.ndarray
    weights: np.ndarray
    totals: dict[str, float]
    verdict: TotalVerdict | None
    total_draws: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    def cell(self, criterion: str, site: str) -> Cell:
        return self.cells[(criterion, site)]

    @property
    def ranking(self) -> list[str]:
        return ranking(self.totals)

    @property
    def leaders(self) -> list[str]:
        """Sites sharing the highest total exactly."""
        return winners(np.array([self.totals[s] for s in self.sites]), self.sites)

    @property
    def tied_leaders(self) -> list[str]:
        """The leader plus every site it cannot be told apart from within the noise."""
        lead = self.leaders
        if self.verdict is None:
            return lead
        return lead + [s for s in self.verdict.tied_with if s not in lead]


def _rng(site: str, criterion: str, seed: int) -> np.random.Generator:
    """A stream per site and criterion, so one site's draws never depend on the others."""
    return np.random.default_rng([seed, zlib.crc32(site.encode()), zlib.crc32(criterion.encode())])


def _value_draws(spec: CriterionSpec, sites: Sequence[str],
                 quantities: Mapping[str, Quantity], resamples: int, seed: int) -> np.ndarray:
    """(resamples, sites) bootstrap medians; constants repeat, absent values are NaN."""
    out = np.full((resamples, len(sites)), np.nan)
    for j, site in enumerate(sites):
        q = quantities[site]
        if q.status != "ok":
            continue
        if q.noisy:
            out[:, j] = median_draws(q.reps, resamples, _rng(site, spec.name, seed))
        else:
            out[:, j] = q.value
    return out


def _builtin_row(spec: CriterionSpec, sites: Sequence[str], quantities: Mapping[str, Quantity],
                 resamples: int, seed: int) -> tuple[list[Cell], np.ndarray]:
    values = np.array([quantities[s].value if quantities[s].status == "ok" else np.nan
                       for s in sites], dtype=float)
    point = score_values(spec, values)
    draws = _value_draws(spec, sites, quantities, resamples, seed)
    score_draws = score_values(spec, draws)
    cells: list[Cell] = []
    for j, site in enumerate(sites):
        q = quantities[site]
        if q.status == "na":
            cells.append(Cell(spec.name, site, "na", None, q,
                              note=f"not applicable: {q.note}" if q.note else "not applicable"))
            score_draws[:, j] = np.nan
        elif q.status == "missing":
            cells.append(Cell(spec.name, site, "missing", MISSING_SCORE, q,
                              note=f"{q.note}; scored {MISSING_SCORE:g} (the worst)"))
            score_draws[:, j] = MISSING_SCORE
        else:
            vci = interval(draws[:, j]) if q.noisy and q.n > 1 else (q.value, q.value)
            vci = (min(vci[0], q.value), max(vci[1], q.value))
            sci = interval(score_draws[:, j])
            cells.append(Cell(spec.name, site, "ok", float(point[j]), q, value_ci=vci,
                              score_ci=sci, note=q.note))
    ok = {c.site: c.value_ci for c in cells if c.status == "ok" and c.value_ci is not None}
    for c in cells:
        if c.site in ok:
            c.tied_with = [s for s in ok if s != c.site and overlaps(ok[c.site], ok[s])]
    return cells, score_draws


def build_matrix(specs: Sequence[CriterionSpec], sites: Sequence[str],
                 quantities: Mapping[str, Mapping[str, Quantity]],
                 resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> Matrix:
    """Score every cell, total the sites and bootstrap the totals.

    quantities: criterion name → site → Quantity, for the built-in criteria.
    """
    sites = list(sites)
    cells: dict[tuple[str, str], Cell] = {}
    rows: list[np.ndarray] = []
    draw_rows: list[np.ndarray] = []
    for spec in specs:
        if spec.kind == "manual":
            row = np.array([spec.manual_scores[s] for s in sites], dtype=float)
            for j, s in enumerate(sites):
                same = [o for k, o in enumerate(sites) if k != j and row[k] == row[j]]
                cells[(spec.name, s)] = Cell(spec.name, s, "manual", float(row[j]),
                                             tied_with=same, note="stated in the scenario")
            rows.append(row)
            draw_rows.append(np.broadcast_to(row, (resamples, len(sites))))
            continue
        row_cells, score_draws = _builtin_row(spec, sites, quantities[spec.name], resamples,
                                              seed)
        for c in row_cells:
            cells[(spec.name, c.site)] = c
        rows.append(np.array([np.nan if c.score is None else c.score for c in row_cells]))
        draw_rows.append(score_draws)
    weights = np.array([s.weight for s in specs], dtype=float)
    scores = np.vstack(rows) if rows else np.zeros((0, len(sites)))
    totals_arr = weighted_totals(scores, weights)
    totals = {s: round(float(t), 6) for s, t in zip(sites, totals_arr, strict=True)}
    total_draws = None
    verdict = None
    if rows:
        stacked = np.stack(draw_rows, axis=1)  # (resamples, criteria, sites)
        total_draws = weighted_totals(stacked, np.broadcast_to(weights, (resamples, len(specs))))
        lead = winners(totals_arr, sites)
        if lead:
            verdict = total_verdict(lead[0], sites, total_draws)
    matrix = Matrix(list(specs), sites, cells, scores, weights, totals, verdict, total_draws)
    matrix.notes = _notes(matrix)
    return matrix


def _notes(m: Matrix) -> list[str]:
    """Visible explanations for every cell that is not a plain score."""
    notes = []
    for spec in m.criteria:
        na = [s for s in m.sites if m.cells[(spec.name, s)].status == "na"]
        missing = [s for s in m.sites if m.cells[(spec.name, s)].status == "missing"]
        if na:
            why = m.cells[(spec.name, na[0])].note
            notes.append(f"{spec.label}: n/a for {', '.join(na)} ({why}); left out of "
                         f"{'that site' if len(na) == 1 else 'those sites'}' total, which is "
                         f"rescaled to the full weight")
        if missing:
            notes.append(f"{spec.label}: no valid samples for {', '.join(missing)}; scored "
                         f"{MISSING_SCORE:g} (the worst)")
        if spec.normalise == "minmax":
            notes.append(f"{spec.label}: min-max normalised across the sites compared (adding "
                         f"or removing a site can change these scores)")
    return notes
