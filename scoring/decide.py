"""The scoring pipeline: stored results (or a scenario alone) → scores/ and report/.

Stages, each reading only what the previous one produced:

1. quantities (scoring.quantities): per criterion and site, a value, its repetitions and the
   statistic behind it; requirements (scoring.requirements) are judged beside it;
2. utilities (scoring.utilities): 1–10 scores per cell and their bootstrap draws;
3. matrix and verdict (scoring.matrix): weighted totals, their bootstrap, win / too close to
   call / noise unknown;
4. sensitivity (scoring.sensitivity): how the winner depends on the weights;
5. report (scoring.summary, scoring.report): words, scores.json, CSV, HTML, Markdown.

It only reads the campaign folder plus the price catalog, so it can be re-run with other
weights or prices without re-running a benchmark.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from bench.samples import SAMPLE_COLUMNS
from core.errors import BakeoffError
from core.scenario import Campaign
from scoring import requirements as req_mod
from scoring.cost_inputs import CostFn, gather_cost_inputs
from scoring.criteria import CriterionSpec, active, default_criteria, resolve_criteria
from scoring.disqualify import disqualified
from scoring.matrix import Matrix, assemble
from scoring.quantities import CostInputs, Quantity, available_builtins, extract
from scoring.result import ScoreResult
from scoring.sensitivity import Sensitivity, analyse
from scoring.stats import DEFAULT_RESAMPLES, DEFAULT_SEED
from scoring.utilities import score_rows
from scoring.weights import apply_weights, load_weights


def _resolve_specs(campaign: Campaign, samples: pd.DataFrame, source: str,
                   weights_file: str | Path | None) -> tuple[list[CriterionSpec], str, str]:
    if campaign.criteria:
        specs, criteria_source = resolve_criteria(campaign, source), "scenario"
    else:
        specs = default_criteria(available_builtins(samples, campaign))
        criteria_source = "defaults (the scenario lists no criteria)"
    weights_source = "scenario" if campaign.criteria else "defaults"
    if weights_file is not None:
        specs = apply_weights(specs, load_weights(weights_file), str(weights_file))
        weights_source = str(weights_file)
    return specs, criteria_source, weights_source


def _compliance_bounds(specs: list[CriterionSpec], campaign: Campaign,
                       inputs: CostInputs) -> list[CriterionSpec]:
    """Default compliance bounds: 0 → 1, every framework the catalog tracks → 10."""
    tracked = max((v[1] for v in inputs.compliance.values()), default=0)
    explicit = {c.name for c in campaign.criteria if c.bounds is not None}
    return [dataclasses.replace(s, bounds=(0.0, float(tracked)))
            if s.name == "compliance" and s.kind == "builtin" and tracked > 0
            and s.name not in explicit else s for s in specs]


def build_matrix(specs: Sequence[CriterionSpec], sites: Sequence[str],
                 quantities: Mapping[str, Mapping[str, Quantity]],
                 resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                 disqualified: Mapping[str, list[str]] | None = None) -> Matrix:
    """Stages 2 and 3: quantities (criterion → site → Quantity) → the scored matrix;
    `disqualified` sites (failed hard requirements) keep their totals but cannot lead."""
    return assemble(score_rows(specs, sites, quantities, resamples, seed), sites,
                    disqualified)


def sensitivity(matrix: Matrix, names: Sequence[str]) -> Sensitivity:
    """Stage 4 among the sites that may win; a disqualified site wins no weight draw."""
    ok = matrix.qualifying
    if not ok:  # nobody may win: nothing for the weights to change
        return Sensitivity([], [], dict.fromkeys(matrix.sites, 0.0), 0, 0, None, None, None)
    idx = [matrix.sites.index(s) for s in ok]
    sens = analyse(matrix.scores[:, idx], matrix.weights, names, ok)
    sens.mc_shares = {s: sens.mc_shares.get(s, 0.0) for s in matrix.sites}
    return sens


def measure(specs: Sequence[CriterionSpec], campaign: Campaign, samples: pd.DataFrame,
            inputs: CostInputs, has_results: bool = True) -> dict[str, dict[str, Quantity]]:
    """Stage 1: every built-in criterion's quantity at every site, from valid samples only."""
    valid = samples[samples["valid"].astype(bool)] if not samples.empty else samples
    sites = [s.name for s in campaign.sites]
    quantities = {s.name: {site: extract(s.name, valid, campaign, inputs, site)
                           for site in sites} for s in specs if s.kind == "builtin"}
    if not has_results:
        for per_site in quantities.values():
            for q in per_site.values():
                if q.status == "missing" and q.noisy:
                    q.status, q.note = "na", "not measured: a scenario scored without results"
    return quantities


def score(campaign: Campaign, samples: pd.DataFrame, *, source: str = "<scenario>",
          campaign_id: str = "", weights_file: str | Path | None = None,
          manifest: dict[str, Any] | None = None, cost_fn: CostFn | None = None,
          sla_fn: Callable[..., Any] | None = None, has_results: bool = True,
          histograms: pd.DataFrame | None = None) -> ScoreResult:
    """Score a campaign from a samples frame (may be empty for manual-only scenarios)."""
    samples = _ensure_columns(samples)
    specs, criteria_source, weights_source = _resolve_specs(campaign, samples, source,
                                                            weights_file)
    specs, dropped = active(specs)
    if not specs:
        why = "every criterion has weight 0" if dropped else "no criteria and no results"
        raise BakeoffError(f"{source}: nothing to score ({why})")
    builtin = {s.name for s in specs if s.kind == "builtin"}
    inputs = gather_cost_inputs(campaign, needed=builtin, cost_fn=cost_fn, sla_fn=sla_fn,
                                want_costs=not samples.empty or bool(builtin))
    inputs.histograms = histograms
    specs = _compliance_bounds(specs, campaign, inputs)
    sites = [s.name for s in campaign.sites]
    quantities = measure(specs, campaign, samples, inputs, has_results)  # stage 1
    reqs = req_mod.evaluate(campaign, samples, source, histograms)
    matrix = build_matrix(specs, sites, quantities,  # stages 2 and 3
                          disqualified=disqualified(reqs))
    sens = sensitivity(matrix, [s.name for s in specs])  # stage 4
    return ScoreResult(campaign, campaign_id or campaign.name, matrix, reqs, sens, inputs,
                       excluded_runs(samples, manifest or {}), manifest or {}, samples,
                       weights_source, criteria_source, dropped)


def score_scenario(campaign: Campaign, weights_file: str | Path | None = None,
                   source: str = "<scenario>", cost_fn: CostFn | None = None) -> ScoreResult:
    """Score a scenario with no stored results: manual criteria, prices, SLA, compliance."""
    return score(campaign, pd.DataFrame(columns=list(SAMPLE_COLUMNS)), source=source,
                 weights_file=weights_file, cost_fn=cost_fn, has_results=False)


def _ensure_columns(samples: pd.DataFrame) -> pd.DataFrame:
    if samples.empty and "valid" not in samples.columns:
        return pd.DataFrame(columns=list(SAMPLE_COLUMNS))
    return samples


def excluded_runs(samples: pd.DataFrame, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Units that do not count: invalid samples (with reason) and failed units (no samples)."""
    out: list[dict[str, Any]] = []
    if not samples.empty:
        bad = samples[~samples["valid"].astype(bool)]
        for (site, workload, rep), rows in bad.groupby(["site", "workload", "repetition"]):
            reason = str(rows["invalid_reason"].iloc[0] or "marked invalid by the parser")
            out.append({"site": site, "workload": workload, "repetition": int(rep),
                        "status": "invalid", "reason": reason, "samples": len(rows)})
    for key, unit in sorted((manifest.get("units") or {}).items()):
        if isinstance(unit, dict) and unit.get("status") not in (None, "ok"):
            site, workload, rep = ([*key.split("/"), "", "", ""])[:3]
            # A spot host reclaimed mid-run: its own status, counted per site in the report.
            status = "preempted" if unit.get("reason") == "preempted" else unit.get("status")
            out.append({"site": site, "workload": workload,
                        "repetition": int(rep) if rep.isdigit() else rep,
                        "status": status,
                        "reason": unit.get("error") or unit.get("status"), "samples": 0})
    return out


def score_campaign_dir(campaign_dir: str | Path, weights_file: str | Path | None = None, *,
                       results_root: str | Path | None = None, cost_fn: CostFn | None = None,
                       sla_fn: Callable[..., Any] | None = None,
                       write: bool = True, out: str | Path | None = None) -> ScoreResult:
    """Load stored results, score them, and write scores/ and report/ into the campaign
    folder, or into `out` (so several weightings can be kept side by side)."""
    from bench.results import load_results

    r = load_results(campaign_dir, results_root)
    result = score(r.campaign, r.samples, source=str(r.dir / "scenario.yaml"),
                   campaign_id=r.campaign_id, weights_file=weights_file, manifest=r.manifest,
                   cost_fn=cost_fn, sla_fn=sla_fn, histograms=r.histograms)
    result.dir = r.dir
    if write:
        write_outputs(result, out)
    return result


def write_outputs(result: ScoreResult, out: str | Path | None = None) -> dict[str, Path]:
    """Stage 5: <out>/scores/{matrix.csv,scores.json} and
    <out>/report/{index.html,report.md,matrix.csv,charts/*.png}; `out` defaults to the
    campaign folder."""
    from scoring.report import render_report
    from scoring.summary import write_scores

    base = Path(out) if out is not None else result.dir
    if base is None:
        raise BakeoffError("nowhere to write the scores: give an output folder (--out)")
    result.written.update(write_scores(result, base / "scores"))
    result.written.update(render_report(result, base / "report"))
    return result.written


def rerender(campaign_dir: str | Path, results_root: str | Path | None = None) -> ScoreResult:
    """`bakeoff report`: re-score with the stored weights (a weights file given to `score`
    is remembered in scores.json) and re-render."""
    import json

    from bench.results import resolve_campaign_dir

    d = resolve_campaign_dir(campaign_dir, results_root)
    weights = None
    stored = d / "scores" / "scores.json"
    if stored.is_file():
        src = json.loads(stored.read_text()).get("weights_source", "scenario")
        if src not in ("scenario", "defaults") and Path(src).is_file():
            weights = src
    return score_campaign_dir(d, weights, results_root=results_root)


__all__ = ["ScoreResult", "build_matrix", "measure", "rerender", "score", "score_campaign_dir",
           "score_scenario", "write_outputs"]
