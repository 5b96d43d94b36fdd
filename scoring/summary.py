"""Report stage: the decision in words, and the machine-readable scores (scores.json, CSV).

Reads the ScoreResult the earlier stages produced; numbers are rounded here for display only.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from bench.hostload import banner, count_busy
from core.errors import BakeoffError
from scoring.busy import affected_criteria
from scoring.display import distinct_digits, fmt, fmt_diff
from scoring.requirements import meets_all
from scoring.result import ScoreResult

UNCERTAINTY = ("Two different doubts: “too close to call” asks whether re-running the "
               "benchmarks (measurement noise) could change the leader with these weights, "
               "while the Monte-Carlo shares{shares} ask who wins when every weight moves by up "
               "to ±1 (weight uncertainty) with these measurements held fixed, so a decision is "
               "firm only when both point the same way.")


def _unknown_text(m: Any, sites: list[str]) -> str:
    """Which cells have too few repetitions, short enough for a headline (the matrix notes
    list every cell)."""
    label = {c.name: c.label for c in m.criteria}
    parts = []
    for s in sites:
        items = m.noise_unknown.get(s, [])
        if not items:
            continue
        if len(items) <= 2:
            parts.append(f"{s}: " + ", ".join(f"{label[c]} n={n}" for c, n in items))
        else:
            parts.append(f"{s}: {len(items)} criteria, n≤{max(n for _, n in items)}")
    return "; ".join(parts)


def _headline(result: ScoreResult) -> tuple[str, str]:
    """(headline, verdict) where verdict is one of: exact tie, only site, too close to call,
    noise unknown, busy host (the lead rests on units measured beside other work), beyond
    the noise, no noise (nothing measured: stated and modelled values)."""
    m = result.matrix
    leaders, ranked = m.leaders, m.qualifying_ranking
    lead = leaders[0]
    if len(leaders) > 1:
        d = distinct_digits(m.totals.values())
        return (f"Tie: {' and '.join(leaders)} share the highest total "
                f"({fmt(m.totals[lead], d)})."), "exact tie"
    if len(ranked) == 1:
        if m.disqualified:
            return (f"{lead} is the only site that qualifies (total {fmt(m.totals[lead])})."
                    ), "only site"
        return f"{lead} is the only site scored (total {fmt(m.totals[lead])}).", "only site"
    second = ranked[1]
    d = distinct_digits([m.totals[lead], m.totals[second]])
    a, b = fmt(m.totals[lead], d), fmt(m.totals[second], d)
    margin = fmt_diff(m.totals[lead] - m.totals[second])
    tied = m.tied_leaders
    v = m.verdict
    if len(tied) > 1 and v is not None:
        ci = v.lead_ci[tied[1]]
        return (f"Too close to call: {lead} ({a}) leads {', '.join(tied[1:])}, but the lead is "
                f"inside the run-to-run noise (95% interval of the lead over {tied[1]}: "
                f"{ci[0]:+.2f} to {ci[1]:+.2f})."), "too close to call"
    if v is not None and v.noise_unknown:
        who = [lead, *v.unknown] if lead in m.noise_unknown else v.unknown
        return (f"{lead} leads with {a} against {b} for {second} (lead {margin}), but the noise "
                f"is unknown: fewer than 3 valid repetitions ({_unknown_text(m, who)}), so "
                f"whether this lead is beyond the run-to-run noise cannot be said."
                ), "noise unknown"
    measured = any(c.noise == "known" for c in m.cells.values())
    if not measured:  # stated and modelled values only: there is no run-to-run noise to beat
        return f"{lead} wins with {a} against {b} for {second} (lead {margin}).", "no noise"
    affected = affected_criteria(result, lead, second)
    if affected:  # the interval says nothing about work that slowed one site's units
        busy = count_busy(result.manifest)
        return (f"{lead} leads with {a} against {b} for {second} (lead {margin}), but the host "
                f"was busy during {busy.count} of {busy.total} units, and the lead rests on "
                f"criteria measured then ({', '.join(affected)}): the lead is not "
                "trustworthy; re-run on a quiet host."), "busy host"
    return (f"{lead} wins with {a} against {b} for {second} (lead {margin}), beyond the "
            f"run-to-run noise."), "beyond the noise"


def decision(result: ScoreResult) -> dict[str, Any]:
    """Leader, tie within the noise, margin, and what the requirements say about it."""
    m = result.matrix
    ranked = m.ranking
    leaders = m.leaders
    if not leaders:
        if m.disqualified:
            return {"headline": "No site qualifies: every site fails a hard requirement.",
                    "leader": None, "tie": False, "tied": [],
                    "reasons": _disqualified_reasons(m), "verdict": "none qualifies",
                    "uncertainty": "", "disqualified": m.disqualified,
                    "failing_requirements": list(m.sites), "lead_breakdown": {}}
        return {"headline": "No site could be scored.", "leader": None, "tie": False,
                "tied": [], "reasons": [], "verdict": "nothing scored", "uncertainty": ""}
    headline, verdict = _headline(result)
    tied = m.tied_leaders
    lead = leaders[0]
    reasons: list[str] = _disqualified_reasons(m)
    above = [s for s in m.disqualified if m.totals[s] > m.totals[lead]]
    if above:
        headline += (" " + "; ".join(f"{s} scored higher ({fmt(m.totals[s])}) but is "
                                     f"DISQUALIFIED: it fails {', '.join(m.disqualified[s])}"
                                     for s in above) + ".")
    ranked = m.qualifying_ranking
    if len(leaders) == 1 and len(ranked) > 1:
        second = ranked[1]
        best = max(m.criteria, key=lambda c: c.weight * (
            (m.cell(c.name, lead).score or 0) - (m.cell(c.name, second).score or 0)))
        reasons.append(f"largest weighted advantage of {lead} over {second}: {best.label} "
                       f"(weight {best.weight})")
    v = m.verdict
    if verdict == "too close to call" and v is not None and v.noise_unknown:
        reasons.append(f"noise unknown for {', '.join(v.unknown)} (fewer than 3 valid "
                       f"repetitions: {_unknown_text(m, v.unknown)})")
    failing = [s for s in m.sites if not meets_all(result.requirements, s)]
    if lead in failing:
        ok = [s for s in ranked if s not in failing]
        reasons.append(f"{lead} does not meet every requirement; "
                       + (f"the best site meeting all of them is {ok[0]}" if ok
                          else "no site meets all of them"))
    sens = result.sensitivity
    flip = sens.flip
    if sens.exact_tie:
        reasons.append("the totals tie exactly, so there is no winner for a weight change to "
                       "flip; the Monte-Carlo shares show which way the weights lean")
    elif flip is not None and flip.criterion:
        label = next(c.label for c in m.criteria if c.name == flip.criterion)
        reasons.append(f"smallest weight change that changes the winner: {label} "
                       f"{fmt(flip.from_weight, 2)} → {fmt(flip.to_weight, 2)}")
    elif len(m.sites) > 1:
        reasons.append("no single weight change within 1–5 changes the winner")
    if result.dropped:
        reasons.append("weight 0, left out of the matrix: "
                       + ", ".join(c.label for c in result.dropped))
    uncertainty = ""
    if len(m.sites) > 1:
        shares = ", ".join(f"{s} {100 * sens.mc_shares[s]:.0f}%" for s in m.sites)
        uncertainty = UNCERTAINTY.format(shares=f" ({shares})")
    return {"headline": headline, "leader": lead, "tie": len(tied) > 1 or len(leaders) > 1,
            "tied": tied, "verdict": verdict, "reasons": reasons,
            "failing_requirements": failing, "noise_unknown": m.noise_unknown,
            "uncertainty": uncertainty, "disqualified": m.disqualified,
            "lead_breakdown": lead_breakdown(m, lead), "busy": banner(result.manifest)}


def _disqualified_reasons(m: Any) -> list[str]:
    return [f"{s} is DISQUALIFIED (total {fmt(m.totals[s])} kept in the matrix): it fails the "
            f"hard requirement(s) {'; '.join(why)}" for s, why in m.disqualified.items()]


def contributions(m: Any, site: str) -> dict[str, float]:
    """Criterion -> its part of `site`'s total: weight x score, rescaled like the total when
    a cell is n/a (so the parts add up to the total exactly)."""
    j = m.sites.index(site)
    col = m.scores[:, j]
    applicable = ~np.isnan(col)
    w_app = float(np.sum(m.weights[applicable]))
    scale = float(np.sum(m.weights)) / w_app if w_app > 0 else 0.0
    return {c.name: (float(m.weights[i] * col[i] * scale) if applicable[i] else 0.0)
            for i, c in enumerate(m.criteria)}


def lead_breakdown(m: Any, lead: str) -> dict[str, dict[str, float]]:
    """Other site -> criterion -> how much of the leader's lead over it that criterion gives
    (negative: the other site is ahead there). The parts add up to the lead."""
    mine = contributions(m, lead)
    out = {}
    for s in m.sites:
        if s == lead or math.isnan(m.totals[s]):
            continue
        theirs = contributions(m, s)
        out[s] = {c: mine[c] - theirs[c] for c in mine}
    return out


def lead_lines(m: Any, lead: str) -> list[str]:
    """'azure leads aws by 14.3: SLA +20.0 (140%), tco -5.7 (-40%)', biggest part first."""
    label = {c.name: c.label for c in m.criteria}
    lines = []
    for s, parts in lead_breakdown(m, lead).items():
        lead_by = m.totals[lead] - m.totals[s]
        ranked = sorted(parts.items(), key=lambda kv: -abs(kv[1]))
        parts_text = [f"{label[c]} {v:+.1f}"
                      + (f" ({100 * v / lead_by:.0f}%)" if abs(lead_by) > 1e-9 else "")
                      for c, v in ranked if abs(v) >= 0.05]
        lines.append(f"{lead} leads {s} by {fmt_diff(lead_by)}: " + ", ".join(parts_text))
    return lines


def summary_lines(result: ScoreResult) -> list[str]:
    """Short plain-text summary for the end of `bakeoff run`."""
    d = decision(result)
    lines = [d["headline"], *(f"  - {r}" for r in d["reasons"])]
    if d.get("leader"):
        lines += [f"  lead by criterion: {line}" for line in lead_lines(result.matrix,
                                                                        d["leader"])]
    if d.get("busy"):
        lines.append(f"  {d['busy']}")
    if d["uncertainty"]:
        lines.append(f"  {d['uncertainty']}")
    d_digits = distinct_digits(result.matrix.totals.values())
    lines.append("totals: " + ", ".join(f"{s} {fmt(result.matrix.totals[s], d_digits)}"
                                       for s in result.matrix.ranking))
    if result.dir is not None and "report_html" in result.written:
        lines.append(f"report: {result.written['report_html']}")
    return lines


def _plain(obj: Any) -> Any:
    """JSON-safe copy of dataclasses, pydantic models, tuples and NaN."""
    if hasattr(obj, "model_dump"):
        return _plain(obj.model_dump(mode="json"))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if hasattr(obj, "item"):  # numpy scalars
        return _plain(obj.item())
    return obj


def result_json(result: ScoreResult) -> dict[str, Any]:
    """Every cell with its raw value, unit, bounds, sample count and sources."""
    m = result.matrix
    cells = []
    for spec in m.criteria:
        for site in m.sites:
            c = m.cell(spec.name, site)
            q = c.quantity
            cells.append({
                "criterion": spec.name, "site": site, "status": c.status, "score": c.score,
                "score_ci": c.score_ci, "value": c.value, "value_ci": c.value_ci,
                "unit": spec.unit, "utility_bounds": spec.bounds, "scale": spec.scale,
                "normalise": spec.normalise, "repetitions": q.n if q else 0,
                "repetition_values": q.reps if q and q.noisy else [],
                "sources": q.sources if q else ["stated in the scenario"],
                "noise": c.noise, "tied_with": c.tied_with, "note": c.note})
    return _plain({
        "campaign_id": result.campaign_id, "scenario": result.campaign.name,
        "criteria_source": result.criteria_source, "weights_source": result.weights_source,
        "criteria": [dataclasses.asdict(s) for s in m.criteria], "sites": m.sites,
        "dropped": [dataclasses.asdict(s) for s in result.dropped],
        "cells": cells, "totals": m.totals, "ranking": m.ranking,
        "totals_ci": m.verdict.total_ci if m.verdict else {},
        "lead_ci": m.verdict.lead_ci if m.verdict else {},
        "noise_unknown": m.noise_unknown,
        "decision": decision(result), "notes": m.notes,
        "requirements": result.requirements, "sensitivity": result.sensitivity,
        "costs": result.inputs.costs, "cost_error": result.inputs.cost_error,
        "price_snapshot": _price_snapshot(),
        "excluded": result.excluded,
    })


def _price_snapshot() -> dict[str, Any]:
    """Which price snapshot priced this scoring, and how old it was (for drift over time).

    `date` is the snapshot's own date, or the date of its oldest price row when the
    snapshot does not state one (the conservative age).
    """
    from scoring.catalog_load import load_catalog

    try:
        catalog = load_catalog()
    except BakeoffError as e:
        return {"error": str(e)}
    return {"id": catalog.snapshot_id,
            "date": catalog.snapshot_date or catalog.oldest_price_date(),
            "path": str(catalog.path) if catalog.path else "shipped"}


def matrix_csv(result: ScoreResult) -> str:
    """criteria × sites: weight, then value and score per site, a TOTAL row at the end.
    Scores and totals are written unrounded (6 and 9 significant digits)."""
    m = result.matrix
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["criterion", "label", "weight", "kind", "unit", "bound_score_1",
                "bound_score_10", "scale", *[f"{s} value" for s in m.sites],
                *[f"{s} score" for s in m.sites]])
    for spec in m.criteria:
        b = spec.bounds or ("", "")
        cells = [m.cell(spec.name, s) for s in m.sites]
        w.writerow([spec.name, spec.label, spec.weight, spec.kind, spec.unit, b[0], b[1],
                    spec.scale if spec.kind == "builtin" else "",
                    *["" if c.value is None else f"{c.value:.6g}" for c in cells],
                    *["n/a" if c.score is None else f"{c.score:.6g}" for c in cells]])
    w.writerow(["TOTAL", "weighted total", "", "", "", "", "", "", *["" for _ in m.sites],
                *[f"{m.totals[s]:.9g}" for s in m.sites]])
    return buf.getvalue()


def write_scores(result: ScoreResult, out: Path) -> dict[str, Path]:
    """scores/matrix.csv and scores/scores.json (atomic writes)."""
    from bench.results import atomic_write

    paths = {"scores_csv": out / "matrix.csv", "scores_json": out / "scores.json"}
    atomic_write(paths["scores_csv"], matrix_csv(result))
    atomic_write(paths["scores_json"], json.dumps(result_json(result), indent=2, default=str))
    return paths
