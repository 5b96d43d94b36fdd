"""The results store: one folder per campaign, atomic writes, and a loader for notebooks.

Layout of results/<campaign-id>/:
  scenario.yaml        the scenario as resolved
  manifest.json        tool versions, host facts, timings, order, status of every unit
  units/<site>/<workload>/<rep>.json   samples of one unit (the resume journal)
  raw/<site>/<workload>/<rep>.<ext>    untouched tool output
  samples.parquet, histograms.parquet  tidy tables assembled from the units
  scores/, report/     written by the scoring stage
A re-score (`bakeoff reevaluate --rescore-only`) is its own folder with a manifest whose
`rescore_of` names the measured campaign; it holds no samples: they are read from there.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from bench.results_read import (
    NothingMeasured,
    ResultsDamaged,
    measured_dir,
    not_started,
    read_manifest,
    read_scenario,
    read_table,
    resolve_campaign_dir,
)
from bench.samples import SAMPLE_COLUMNS
from core.scenario import Campaign

HISTOGRAM_COLUMNS = ("campaign_id", "site", "workload", "repetition", "name", "unit", "encoded",
                     "metadata", "valid")
# Written by assemble: plus `interval` (http-load's latency over time; null on whole-unit
# rows). Not required when reading: folders written before it have no such column.
HISTOGRAM_TABLE_COLUMNS = (*HISTOGRAM_COLUMNS, "interval")
# Columns a samples table cannot be read without (others may be added over time).
REQUIRED_SAMPLE_COLUMNS = ("campaign_id", "site", "workload", "metric", "value", "unit",
                           "repetition", "valid")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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
                   rows: list[dict[str, Any]], histograms: list[dict[str, Any]]) -> str:
        """Write the unit's journal entry; returns its sha256 (kept in the manifest)."""
        payload = json.dumps({"samples": rows, "histograms": histograms}, default=str).encode()
        atomic_write(self._unit_path(site, workload, repetition), payload)
        return hashlib.sha256(payload).hexdigest()

    def unit_done(self, site: str, workload: str, repetition: int) -> bool:
        return self._unit_path(site, workload, repetition).is_file()

    def unit_intact(self, site: str, workload: str, repetition: int,
                    recorded: dict[str, Any]) -> bool:
        """Journal (and raw output) present and, where checksums were recorded, unchanged."""
        journal = self._unit_path(site, workload, repetition)
        if not journal.is_file():
            return False
        if recorded.get("journal_sha256") and file_sha256(journal) != recorded["journal_sha256"]:
            return False
        raw = recorded.get("raw")
        if raw and not (self.dir / raw).is_file():
            return False
        return not (raw and recorded.get("raw_sha256")
                    and file_sha256(self.dir / raw) != recorded["raw_sha256"])

    def unrecorded_raw(self, site: str, workload: str, repetition: int) -> Path | None:
        """The raw output of a journal the manifest never recorded (a kill or a full disk
        between the journal and the manifest write), or None when there is none to adopt."""
        folder = self.raw_path(site, workload, repetition, "x").parent
        found = [p for p in sorted(folder.glob(f"{repetition}.*"))
                 if not p.name.endswith((".failed.txt", ".traceback.txt"))]
        return found[0] if len(found) == 1 else None

    def adopted(self, site: str, workload: str, repetition: int,
                recorded: dict[str, Any]) -> dict[str, Any] | None:
        """The manifest entry for a journal found on resume, or None to measure it again.

        A recorded entry is kept when its checksums still match; an entry the manifest never
        got is rebuilt from the files (raw path and both checksums), so a resumed campaign's
        manifest is as complete as one measured in one go. Without its raw output a journal
        cannot be verified, so the unit is measured again."""
        if not self.unit_intact(site, workload, repetition, recorded):
            return None
        entry = {**recorded, "status": "ok"}
        if not recorded.get("raw"):
            raw = self.unrecorded_raw(site, workload, repetition)
            if raw is None:
                return None
            entry.update(raw=str(raw.relative_to(self.dir)), raw_sha256=file_sha256(raw),
                         journal_sha256=file_sha256(
                             self._unit_path(site, workload, repetition)))
            entry.pop("error", None)
        return entry

    def read_journal(self, path: Path) -> dict[str, Any]:
        try:
            payload = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise ResultsDamaged(
                f"{path}: unit journal unreadable ({e}); delete it and resume the campaign "
                "to re-measure that unit") from None
        if not (isinstance(payload, dict) and isinstance(payload.get("samples"), list)
                and isinstance(payload.get("histograms"), list)):
            raise ResultsDamaged(f"{path}: unit journal has no samples/histograms lists; "
                                 "delete it and resume the campaign to re-measure that unit")
        return payload

    def assemble(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Build samples.parquet and histograms.parquet from every finished unit."""
        rows: list[dict[str, Any]] = []
        hists: list[dict[str, Any]] = []
        for unit in sorted((self.dir / "units").glob("*/*/*.json")):
            payload = self.read_journal(unit)
            rows.extend(payload["samples"])
            hists.extend(payload["histograms"])
        samples = pd.DataFrame(rows, columns=list(SAMPLE_COLUMNS))
        histograms = pd.DataFrame(hists, columns=list(HISTOGRAM_TABLE_COLUMNS))
        histograms = histograms.astype({"interval": "Int64"})
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

    def intervals(self) -> pd.DataFrame:
        """Latency over time (http-load): per interval p50/p99, rate, users, CPU, exclusions."""
        from bench.frames import interval_table

        return interval_table(self.histograms)

    def scores(self) -> pd.DataFrame:
        """Scores per site and criterion, with totals and ranks (after `bakeoff score`)."""
        from bench.frames import read_scores, scores_table

        return scores_table(read_scores(self.dir))

    def costs(self) -> pd.DataFrame:
        """Cost components per site with their price source (after `bakeoff score`)."""
        from bench.frames import costs_table, read_scores

        return costs_table(read_scores(self.dir))


def load_results(ref: str | Path, root: str | Path = "results") -> CampaignResults:
    """Load a campaign folder (or id) into pandas frames plus the resolved scenario. The root
    defaults to $BAKEOFF_RESULTS, else ./results (bench.campaigns.results_root).

    `ref` or `root` may be an fsspec URL (s3://bucket/results/ID, memory://...): the
    campaign's files are read through a local cache (bench.storage).

    Read-only: nothing in the folder is written. A damaged folder raises ResultsDamaged
    saying what is damaged and how to recover.
    """
    from bench.storage import is_url, materialize

    if is_url(ref):
        base, _, name = str(ref).rstrip("/").rpartition("/")
        ref, root = name, materialize(base, name)
    elif root is not None and is_url(root):
        root = materialize(root, None if str(ref) == "latest" else str(ref))
    else:
        from bench.campaigns import reading_root

        root = reading_root(root)
    d = resolve_campaign_dir(ref, root)
    manifest = read_manifest(d)
    campaign = read_scenario(d)
    measured = measured_dir(d, manifest)
    if not (measured / "samples.parquet").exists() and not_started(manifest):
        raise NothingMeasured(
            f"{d}: campaign {manifest.get('campaign_id', d.name)} was "
            f"{manifest.get('status', 'stopped')} before its first unit, so nothing was "
            "measured (the folder is not damaged); resume it with `bakeoff run SCENARIO "
            f"--resume {manifest.get('campaign_id', d.name)}`")
    samples = read_table(measured / "samples.parquet", REQUIRED_SAMPLE_COLUMNS)
    hist_path = measured / "histograms.parquet"
    histograms = (read_table(hist_path, HISTOGRAM_COLUMNS) if hist_path.exists()
                  else pd.DataFrame(columns=list(HISTOGRAM_COLUMNS)))
    return CampaignResults(d.name, d, campaign, manifest, samples, histograms)
