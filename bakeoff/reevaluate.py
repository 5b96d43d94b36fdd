"""Scheduled re-evaluation: refresh prices if possible, re-run (or re-score), compare.

The steps are the ones a person would take, in order, each saying what it used:
prices (refreshed from the providers' APIs when that works, else the shipped snapshot,
said so), measurements (a new campaign, or the baseline's measurements re-scored with
today's prices and weights), then a comparison with the baseline written as a drift
report beside the new campaign. The exit code is the comparison's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bench.results import atomic_write, measured_dir, read_manifest, resolve_campaign_dir
from core.errors import BakeoffError
from core.scenario import Campaign
from scoring.compare import DEFAULT_MIN_CHANGE, Comparison, compare
from scoring.compare_report import write_drift_report
from scoring.drift_rules import Rule, resolve_rules, violations


@dataclass
class Reevaluation:
    folder: Path
    comparison: Comparison
    violations: list[str]
    prices: str  # what the prices came from, one sentence
    report: dict[str, Path] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if self.violations else 0


def refresh_prices(enabled: bool = True) -> str:
    """Refresh the price snapshot when the providers' APIs answer; say what is used.

    A refreshed snapshot is used for the rest of this process (BAKEOFF_PRICE_SNAPSHOT); a
    failed refresh changes nothing and its reason goes into the drift report.
    """
    from bakeoff.cli_prices import default_refresh_dir
    from scoring.catalog_load import SNAPSHOT_ENV, load_catalog
    from scoring.prices.refresh import refresh

    current = load_catalog()
    in_use = f"the snapshot {current.snapshot_id} ({current.path or 'shipped'})"
    if not enabled:
        return f"prices: {in_use} (refresh skipped: --no-refresh)"
    dest = default_refresh_dir()
    try:
        catalog, _ = refresh(dest, ["aws", "azure", "gcp"])
    except BakeoffError as e:
        return f"prices: {in_use}; the refresh failed and changed nothing: {e}"
    os.environ[SNAPSHOT_ENV] = str(dest)
    return (f"prices: refreshed from the providers' APIs into {dest} "
            f"(snapshot {catalog.snapshot_id})")


def rescore_copy(baseline: Path, campaign: Campaign, root: Path) -> Path:
    """A new campaign entry re-scoring the baseline's measurements with today's scenario.

    It holds the manifest (new id, `rescore_of` = the measured campaign) and the scenario,
    never a copy of the samples: readers follow `rescore_of` (bench.results.measured_dir),
    so SQL and history count every measurement once, under the campaign that measured it.
    """
    measured = measured_dir(baseline, read_manifest(baseline))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    new_id = f"{campaign.name}-rescore-{stamp}-{secrets.token_hex(2)}"
    folder = root / new_id
    folder.mkdir(parents=True)
    manifest = read_manifest(measured)
    manifest.update(campaign_id=new_id, rescore_of=measured.name,
                    rescore_of_path=str(measured.resolve()),
                    rescored_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    atomic_write(folder / "scenario.yaml",
                 yaml.safe_dump(campaign.model_dump(mode="json"), sort_keys=False))
    atomic_write(folder / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
    return folder


def reevaluate(campaign: Campaign, baseline_ref: str, root: Path, rules: list[Rule],
               rescore_only: bool = False, quiet: bool = True,
               min_change: float = DEFAULT_MIN_CHANGE,
               refresh: bool = True) -> Reevaluation:
    """Run the whole re-evaluation; the new campaign folder holds `drift/`."""
    from bench.orchestrator import Orchestrator
    from scoring.decide import score_campaign_dir

    baseline = resolve_campaign_dir(baseline_ref, root)
    # A gate that names nothing is refused before anything is measured (exit 2).
    rules, notes = resolve_rules(rules, _measurable(baseline, campaign),
                                 where="the baseline and this scenario's workloads")
    prices = refresh_prices(refresh)
    if rescore_only:
        folder = rescore_copy(baseline, campaign, root)
    else:
        from bakeoff.endpoint_check import first_repetition_check

        folder = Orchestrator(campaign, root, quiet=quiet,
                              unit_check=first_repetition_check).run()
    score_campaign_dir(folder, results_root=root)
    comparison = compare(baseline, folder, root, min_change=min_change)
    comparison.warnings[:0] = [prices, *notes]
    found = violations(comparison, rules)
    report = write_drift_report(comparison, found, folder / "drift")
    return Reevaluation(folder, comparison, found, prices, report)


def _measurable(baseline: Path, campaign: Campaign) -> set[tuple[str, str]]:
    """(workload, metric) pairs a rule may name: what the baseline measured, plus what the
    scenario's workloads declare (the new campaign will measure those)."""
    from bench.results import load_results
    from bench.workloads import REGISTRY

    samples = load_results(baseline).samples
    pairs = set(zip(samples["workload"], samples["metric"], strict=True))
    for spec in campaign.workloads:
        workload = REGISTRY.get(spec.name)
        pairs |= {(spec.name, m) for m in (workload.metrics if workload else {})}
    return pairs
