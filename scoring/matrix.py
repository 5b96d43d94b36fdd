"""Stage 3 of scoring: scored rows → weighted totals, their bootstrap, and the verdict.

Reads only what stage 2 (scoring.utilities) produced. The totals are computed from the
unrounded scores; a tie is either exact (equal totals) or statistical (the leader's lead is
inside the run-to-run noise), never an artefact of rounding. A site with a noisy criterion
measured fewer than three times has no interval: the verdict against it is "noise unknown".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from scoring.criteria import BUILTINS, CriterionSpec
from scoring.stats import TotalVerdict, interval, total_verdict
from scoring.utilities import MISSING_SCORE, Cell, ScoredRow

__all__ = ["BUILTINS", "Matrix", "assemble", "ranking", "weighted_totals", "winners"]
# BUILTINS lives in scoring.criteria; it is re-exported for callers of its former home.


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
    noise_unknown: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    # site -> [(criterion, valid repetitions)] for every noisy cell with too few repetitions
    disqualified: dict[str, list[str]] = field(default_factory=dict)
    # site -> hard requirements it fails: it keeps its total but cannot lead or win

    @property
    def qualifying(self) -> list[str]:
        """Sites that may win (every site that fails no hard requirement)."""
        return [s for s in self.sites if s not in self.disqualified]

    def cell(self, criterion: str, site: str) -> Cell:
        return self.cells[(criterion, site)]

    @property
    def ranking(self) -> list[str]:
        """Qualifying sites by total, then the disqualified ones by total."""
        ranked = ranking(self.totals)
        return ([s for s in ranked if s not in self.disqualified]
                + [s for s in ranked if s in self.disqualified])

    @property
    def qualifying_ranking(self) -> list[str]:
        return [s for s in self.ranking if s not in self.disqualified]

    @property
    def leaders(self) -> list[str]:
        """Qualifying sites sharing the highest total exactly."""
        ok = self.qualifying
        return winners(np.array([self.totals[s] for s in ok]), ok)

    @property
    def tied_leaders(self) -> list[str]:
        """The leader plus every site it cannot be told apart from within the noise."""
        lead = self.leaders
        if self.verdict is None:
            return lead
        return lead + [s for s in self.verdict.tied_with if s not in lead]


def weighted_totals(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ weight × score per site; NaN (not applicable) cells are left out and the sum is
    rescaled to the full weight so sites with and without such a cell stay comparable.

    scores: (..., criteria, sites); weights: (..., criteria). Equals the plain Σ w×s when
    every cell applies (the seed's 172 and 157).
    """
    w = np.asarray(weights, dtype=float)[..., :, None]
    applicable = ~np.isnan(scores)
    part = np.nansum(w * np.nan_to_num(scores), axis=-2)
    w_app = np.sum(np.where(applicable, w, 0.0), axis=-2)
    w_all = np.sum(w, axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w_app > 0, part * w_all / np.where(w_app > 0, w_app, 1.0), np.nan)


def winners(totals: np.ndarray, sites: Sequence[str]) -> list[str]:
    """Sites sharing the highest total (more than one means an exact tie)."""
    t = np.asarray(totals, dtype=float)
    if np.all(np.isnan(t)):
        return []
    best = np.nanmax(t)
    return [s for s, v in zip(sites, t, strict=True) if np.isclose(v, best, rtol=0, atol=1e-9)]


def ranking(totals: Mapping[str, float]) -> list[str]:
    """Sites by total, best first; ties keep scenario order."""
    order = list(totals)
    return sorted(order, key=lambda s: (-np.nan_to_num(totals[s], nan=-np.inf), order.index(s)))


def assemble(rows: Sequence[ScoredRow], sites: Sequence[str],
             disqualified: Mapping[str, list[str]] | None = None) -> Matrix:
    """Total the sites, bootstrap the totals, and judge the qualifying leader against the
    noise of the other qualifying sites (`disqualified`: site -> failed hard requirements)."""
    sites = list(sites)
    out = {s: list(v) for s, v in (disqualified or {}).items() if s in sites}
    ok = [s for s in sites if s not in out]
    specs = [r.spec for r in rows]
    cells = {(c.criterion, c.site): c for r in rows for c in r.cells}
    weights = np.array([s.weight for s in specs], dtype=float)
    scores = np.vstack([r.scores for r in rows]) if rows else np.zeros((0, len(sites)))
    totals_arr = weighted_totals(scores, weights)
    # 9 decimals only strips float dust (0.1 + 0.2); it cannot hide a real difference
    totals = {s: round(float(t), 9) for s, t in zip(sites, totals_arr, strict=True)}
    unknown: dict[str, list[tuple[str, int]]] = {}
    for r in rows:
        for site in r.unknown:
            q = cells[(r.spec.name, site)].quantity
            unknown.setdefault(site, []).append((r.spec.name, q.n if q else 0))
    total_draws = None
    verdict = None
    if rows:
        stacked = np.stack([r.draws for r in rows], axis=1)  # (resamples, criteria, sites)
        total_draws = weighted_totals(stacked, np.broadcast_to(weights, stacked.shape[:2]))
        for j, s in enumerate(sites):
            if s in unknown:
                total_draws[:, j] = np.nan
        idx = [sites.index(s) for s in ok]
        lead = winners(totals_arr[idx], ok)
        if lead:
            verdict = total_verdict(lead[0], ok, total_draws[:, idx], unknown=set(unknown))
            for s in out:  # a disqualified site's total keeps its interval in the tables
                j = sites.index(s)
                if s not in unknown and not np.all(np.isnan(total_draws[:, j])):
                    verdict.total_ci[s] = interval(total_draws[:, j])
    matrix = Matrix(specs, sites, cells, scores, weights, totals, verdict, total_draws,
                    noise_unknown={s: unknown[s] for s in sites if s in unknown},
                    disqualified=out)
    matrix.notes = _notes(matrix)
    return matrix


def _notes(m: Matrix) -> list[str]:
    """Visible explanations for every cell that is not a plain score."""
    notes = []
    label = {c.name: c.label for c in m.criteria}
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
        if spec.normalise == "relative":
            notes.append(f"{spec.label}: relative scoring (min-max across the sites compared: "
                         f"best 10, worst 1); adding or removing a site can change these scores")
    for site, why in m.disqualified.items():
        notes.append(f"{site} is DISQUALIFIED: it fails the hard requirement(s) "
                     f"{'; '.join(why)}; its total is shown but it cannot win")
    for site, items in m.noise_unknown.items():
        what = ", ".join(f"{label[c]} (n={n})" for c, n in items)
        verb = "has" if len(items) == 1 else "have"
        notes.append(f"noise unknown for {site}: {what} {verb} fewer than 3 valid repetitions, "
                     f"so no interval is given and no tie or win beyond the noise is claimed")
    return notes
