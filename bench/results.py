"""The results store: one folder per campaign, atomic writes, and a loader for notebooks.

Layout of results/<campaign-id>/:
  scenario.yaml        the scenario as resolved
  manifest.json        tool versions, host facts, timings, order, status of every unit
  units/<site>/<workload>/<rep>.json   samples of one unit (the resume journal)
  raw/<site>/<workload>/<rep>.<ext>    untouched tool output
  samples.parquet, histograms.parquet  tidy tables assembled from the units
  scores/, report/     written by the scoring stage
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from bench.samples import SAMPLE_COLUMNS
from bench.scenarios import parse_campaign
from core.errors import BakeoffError
from core.scenario import Campaign

HISTOGRAM_COLUMNS = ("campaign_id", "site", "workload", "repetition", "name", "unit", "encoded",
                     "metadata", "valid")


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write to a temp file in the same folder, fsync, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_parquet(path: Path, frame: pd.DataFrame) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def unit_key(site: str, workload: str, repetition: int) -> str:
    return f"{site}/{workload}/{repetition}"


class ResultStore:
    """Writes one campaign's folder. Every write is atomic; units are the resume journal."""

    def __init__(self, root: Path, campaign_id: str):
        self.campaign_id = campaign_id
        self.dir = Path(root) / campaign_id

    def create(self, scenario: Campaign, manifest: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        atomic_write(self.dir / "scenario.yaml",
                     yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False))
        self.write_manifest(manifest)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        atomic_write(self.dir / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True,
                                                            default=str))

    def read_manifest(self) -> dict[str, Any]:
        return json.loads((self.dir / "manifest.json").read_text())

    def raw_path(self, site: str, workload: str, repetition: int, suffix: str) -> Path:
        return self.dir / "raw" / site / workload / f"{repetition}.{suffix}"

    def write_raw(self, site: str, workload: str, repetition: int, suffix: str,
                  text: str) -> Path:
        path = self.raw_path(site, workload, repetition, suffix)
        atomic_write(path, text)
        return path

    def _unit_path(self, site: str, workload: str, repetition: int) -> Path:
        return self.dir / "units" / site / workload / f"{repetition}.json"

    def write_unit(self, site: str, workload: str, repetition: int,
                   rows: list[dict[str, Any]], histograms: list[dict[str, Any]]) -> None:
        payload = {"samples": rows, "histograms": histograms}
        atomic_write(self._unit_path(site, workload, repetition),
                     json.dumps(payload, default=str))

    def unit_done(self, site: str, workload: str, repetition: int) -> bool:
        return self._unit_path(site, workload, repetition).is_file()

    def assemble(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Build samples.parquet and histograms.parquet from every finished unit."""
        rows: list[dict[str, Any]] = []
        hists: list[dict[str, Any]] = []
        for unit in sorted((self.dir / "units").glob("*/*/*.json")):
            payload = json.loads(unit.read_text())
            rows.extend(payload["samples"])
            hists.extend(payload["histograms"])
        samples = pd.DataFrame(rows, columns=list(SAMPLE_COLUMNS))
        histograms = pd.DataFrame(hists, columns=list(HISTOGRAM_COLUMNS))
        samples = samples.astype({"value": "float64", "repetition": "int64", "valid": "bool"})
        _atomic_parquet(self.dir / "samples.parquet", samples)
        _atomic_parquet(self.dir / "histograms.parquet", histograms)
        return samples, histograms


@dataclass
class CampaignResults:
    """A stored campaign, ready for pandas: what notebooks and the scoring stage read."""

    campaign_id: str
    dir: Path
    campaign: Campaign
    manifest: dict[str, Any]
    samples: pd.DataFrame
    histograms: pd.DataFrame

    @property
    def valid_samples(self) -> pd.DataFrame:
        return self.samples[self.samples["valid"]]

    def __repr__(self) -> str:
        sites = ", ".join(s.name for s in self.campaign.sites)
        workloads = ", ".join(w.name for w in self.campaign.workloads)
        return (f"<campaign {self.campaign_id}: {self.manifest.get('status', '?')}; "
                f"sites {sites}; workloads {workloads or 'none'}; "
                f"{len(self.samples)} samples>")

    @property
    def df(self) -> pd.DataFrame:
        """Samples for analysis: params/metadata parsed into columns, timestamps."""
        from bench.frames import tidy_samples

        return tidy_samples(self.samples)

    def latency(self, percentiles: Sequence[float] = (50.0, 90.0, 99.0, 99.9)) -> pd.DataFrame:
        """Latency percentiles (ms) per site and endpoint from the merged HDR histograms."""
        from bench.frames import latency_table

        return latency_table(self.histograms, percentiles)

    def scores(self) -> pd.DataFrame:
        """Scores per site and criterion, with totals and ranks (after `bakeoff score`)."""
        from bench.frames import read_scores, scores_table

        return scores_table(read_scores(self.dir))

    def costs(self) -> pd.DataFrame:
        """Cost components per site with their price source (after `bakeoff score`)."""
        from bench.frames import costs_table, read_scores

        return costs_table(read_scores(self.dir))


def resolve_campaign_dir(ref: str | Path, root: str | Path = "results") -> Path:
    """Accept a folder path or a campaign id under `root`; 'latest' picks the newest."""
    p = Path(ref)
    if (p / "manifest.json").is_file():
        return p
    root = Path(root)
    if str(ref) == "latest":
        found = sorted(root.glob("*/manifest.json"), key=lambda m: m.stat().st_mtime)
        if found:
            return found[-1].parent
    elif (root / str(ref) / "manifest.json").is_file():
        return root / str(ref)
    raise BakeoffError(f"{ref}: no campaign results there (expected a folder with "
                       f"manifest.json, a campaign id under {root}/, or 'latest')")


def load_results(ref: str | Path, root: str | Path = "results") -> CampaignResults:
    """Load a campaign folder (or id) into pandas frames plus the resolved scenario.

    `ref` or `root` may be an fsspec URL (s3://bucket/results/ID, memory://...): the
    campaign's files are read through a local cache (bench.storage).
    """
    from bench.storage import is_url, materialize

    if is_url(ref):
        base, _, name = str(ref).rstrip("/").rpartition("/")
        ref, root = name, materialize(base, name)
    elif is_url(root):
        root = materialize(root, None if str(ref) == "latest" else str(ref))
    d = resolve_campaign_dir(ref, root)
    manifest = json.loads((d / "manifest.json").read_text())
    campaign = parse_campaign(yaml.safe_load((d / "scenario.yaml").read_text()),
                              str(d / "scenario.yaml"))
    samples_path, hist_path = d / "samples.parquet", d / "histograms.parquet"
    if not samples_path.is_file():
        store = ResultStore(d.parent, d.name)
        samples, histograms = store.assemble()
    else:
        samples = pd.read_parquet(samples_path)
        histograms = (pd.read_parquet(hist_path) if hist_path.is_file()
                      else pd.DataFrame(columns=list(HISTOGRAM_COLUMNS)))
    return CampaignResults(d.name, d, campaign, manifest, samples, histograms)
