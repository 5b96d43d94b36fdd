"""The decision in words, and the machine-readable scores (scores.json, matrix.csv)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scoring.requirements import meets_all

if TYPE_CHECKING:
    from scoring.decide import ScoreResult


def fmt(x: float | None, digits: int = 1) -> str:
    """Whole numbers without decimals (the seed's 172), others with `digits` decimals."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.{digits}f}"


def fmt_value(x: float | None) -> str:
    """Raw quantities: 4 significant digits."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def decision(result: ScoreResult) -> dict[str, Any]:
    """Leader, tie within the noise, margin, and what the requirements say about it."""
    m = result.matrix
    ranked = m.ranking
    leaders = m.leaders
    if not leaders:
        return {"headline": "No site could be scored.", "leader": None, "tie": False,
                "tied": [], "reasons": []}
    tied = m.tied_leaders
    lead = leaders[0]
    reasons: list[str] = []
    if len(leaders) > 1:
        headline = (f"Tie: {' and '.join(leaders)} share the highest total "
                    f"({fmt(m.totals[lead])}).")
    elif len(ranked) == 1:
        headline = f"{lead} is the only site scored (total {fmt(m.totals[lead])})."
    else:
        second = ranked[1]
        margin = m.totals[lead] - m.totals[second]
        if len(tied) > 1:
            ci = m.verdict.lead_ci[tied[1]] if m.verdict else (math.nan, math.nan)
            headline = (f"Too close to call: {lead} ({fmt(m.totals[lead])}) leads "
                        f"{', '.join(tied[1:])}, but the lead is inside the run-to-run noise "
                        f"(95% interval of the lead over {tied[1]}: {ci[0]:+.1f} to "
                        f"{ci[1]:+.1f}).")
        else:
            headline = (f"{lead} wins with {fmt(m.totals[lead])} against "
                        f"{fmt(m.totals[second])} for {second} (lead {fmt(margin)}).")
        best = max(m.criteria, key=lambda c: c.weight * (
            (m.cell(c.name, lead).score or 0) - (m.cell(c.name, second).score or 0)))
        reasons.append(f"largest weighted advantage of {lead} over {second}: {best.label} "
                       f"(weight {best.weight})")
    failing = [s for s in m.sites if not meets_all(result.requirements, s)]
    if lead in failing:
        ok = [s for s in ranked if s not in failing]
        reasons.append(f"{lead} does not meet every requirement; "
                       + (f"the best site meeting all of them is {ok[0]}" if ok
                          else "no site meets all of them"))
    flip = result.sensitivity.flip
    if flip is not None and flip.criterion:
        label = next(c.label for c in m.criteria if c.name == flip.criterion)
        reasons.append(f"smallest weight change that changes the winner: {label} "
                       f"{fmt(flip.from_weight, 2)} → {fmt(flip.to_weight, 2)}")
    elif len(m.sites) > 1:
        reasons.append("no single weight change within 1–5 changes the winner")
    return {"headline": headline, "leader": lead, "tie": len(tied) > 1, "tied": tied,
            "reasons": reasons, "failing_requirements": failing}


def summary_lines(result: ScoreResult) -> list[str]:
    """Short plain-text summary for the end of `bakeoff run`."""
    d = decision(result)
    lines = [d["headline"], *(f"  - {r}" for r in d["reasons"])]
    lines.append("totals: " + ", ".join(f"{s} {fmt(result.matrix.totals[s])}"
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
                "tied_with": c.tied_with, "note": c.note})
    return _plain({
        "campaign_id": result.campaign_id, "scenario": result.campaign.name,
        "criteria_source": result.criteria_source, "weights_source": result.weights_source,
        "criteria": [dataclasses.asdict(s) for s in m.criteria], "sites": m.sites,
        "cells": cells, "totals": m.totals, "ranking": m.ranking,
        "totals_ci": m.verdict.total_ci if m.verdict else {},
        "lead_ci": m.verdict.lead_ci if m.verdict else {},
        "decision": decision(result), "notes": m.notes,
        "requirements": result.requirements, "sensitivity": result.sensitivity,
        "costs": result.inputs.costs, "cost_error": result.inputs.cost_error,
        "excluded": result.excluded,
    })


def matrix_csv(result: ScoreResult) -> str:
    """criteria × sites: weight, then value and score per site, a TOTAL row at the end."""
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
                    *["n/a" if c.score is None else fmt(c.score) for c in cells]])
    w.writerow(["TOTAL", "weighted total", "", "", "", "", "", "", *["" for _ in m.sites],
                *[fmt(m.totals[s]) for s in m.sites]])
    return buf.getvalue()


def write_scores(result: ScoreResult, out: Path) -> dict[str, Path]:
    """scores/matrix.csv and scores/scores.json (atomic writes)."""
    from bench.results import atomic_write

    paths = {"scores_csv": out / "matrix.csv", "scores_json": out / "scores.json"}
    atomic_write(paths["scores_csv"], matrix_csv(result))
    atomic_write(paths["scores_json"], json.dumps(result_json(result), indent=2, default=str))
    return paths
