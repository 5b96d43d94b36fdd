"""Every campaign under a results root as tidy frames: the input of trends and drift.

`load_history(root)` reads each campaign folder (local, or an fsspec URL through a local
cache) and stacks its tables with the campaign's start time, so a notebook can plot a
metric, a price or a rank over quarters without knowing the folder layout.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bench import frames
from bench.results import HISTOGRAM_COLUMNS
from bench.samples import SAMPLE_COLUMNS
from bench.storage import materialize

CAMPAIGN_COLUMNS = ["campaign_id", "scenario", "started_at", "finished_at", "status", "sites",
                    "workloads", "bakeoff_version", "git_commit", "path"]


@dataclass
class History:
    """Campaigns over time. Every frame carries `campaign_id` and `campaign_started_at`."""

    campaigns: pd.DataFrame
    samples: pd.DataFrame
    latency: pd.DataFrame
    scores: pd.DataFrame
    costs: pd.DataFrame
    skipped: dict[str, str] = field(default_factory=dict)  # folder -> why it was not read
    intervals: pd.DataFrame = field(default_factory=pd.DataFrame)  # latency over time
    root: str = ""  # the root that was read (a relative one resolved), to say so

    def __repr__(self) -> str:
        ids = list(self.campaigns["campaign_id"])
        span = ""
        if ids:
            span = (f", {self.campaigns['started_at'].min():%Y-%m-%d} .. "
                    f"{self.campaigns['started_at'].max():%Y-%m-%d}")
        skipped = f", {len(self.skipped)} skipped" if self.skipped else ""
        return f"History({len(ids)} campaign(s){span}{skipped})"


def _manifest(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and data.get("campaign_id") else None


def _read_parquet(path: Path, columns: list[str]) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame(columns=columns)
    return pd.read_parquet(path)


def campaign_folders(root: Path, scenario: str | None = None) -> tuple[list[Path], dict]:
    """Campaign folders under `root` (optionally of one scenario), oldest first."""
    found, skipped = [], {}
    for manifest_path in sorted(Path(root).glob("*/manifest.json")):
        folder = manifest_path.parent
        manifest = _manifest(folder)
        if manifest is None:
            skipped[folder.name] = "manifest.json is not a valid campaign manifest"
            continue
        if scenario is None or manifest.get("scenario") == scenario:
            found.append((str(manifest.get("started_at", "")), folder))
    return [folder for _, folder in sorted(found)], skipped


def load_history(root: str | Path = "results", scenario: str | None = None) -> History:
    """Tidy frames across every campaign under `root` (a folder or fsspec URL; a relative
    folder is also looked up from where the user started, bench.campaigns.reading_root)."""
    from bench.campaigns import reading_root
    from bench.storage import is_url

    where = str(root) if is_url(root) else str(reading_root(root))
    local = materialize(where)
    folders, skipped = campaign_folders(local, scenario)
    campaigns, samples, latency, scores, costs, intervals = [], [], [], [], [], []
    for folder in folders:
        manifest = _manifest(folder) or {}
        try:
            s = _read_parquet(folder / "samples.parquet", list(SAMPLE_COLUMNS))
            h = _read_parquet(folder / "histograms.parquet", list(HISTOGRAM_COLUMNS))
        except (OSError, ValueError) as e:
            skipped[folder.name] = f"unreadable Parquet: {e}"
            continue
        started = pd.Timestamp(manifest.get("started_at")) if manifest.get(
            "started_at") else pd.NaT
        stamp = {"campaign_id": folder.name, "campaign_started_at": started}
        campaigns.append({
            "campaign_id": folder.name, "scenario": manifest.get("scenario"),
            "started_at": started, "finished_at": manifest.get("finished_at"),
            "status": manifest.get("status"), "sites": sorted(manifest.get("sites", {})),
            "workloads": sorted({k.split("/")[1] for k in manifest.get("units", {})
                                 if k.count("/") == 2}),
            "bakeoff_version": manifest.get("bakeoff_version"),
            "git_commit": manifest.get("git_commit"), "path": str(folder)})
        if not s.empty:
            samples.append(frames.tidy_samples(s).assign(**stamp))
        lat = frames.latency_table(h)
        if not lat.empty:
            latency.append(lat.assign(**stamp))
        over_time = frames.interval_table(h)
        if not over_time.empty:
            intervals.append(over_time.assign(**stamp))
        data = frames.read_scores(folder)
        for target, table in ((scores, frames.scores_table(data)),
                              (costs, frames.costs_table(data))):
            if not table.empty:
                target.append(table.assign(**stamp))
    if skipped:
        warnings.warn(f"{len(skipped)} folder(s) under {root} were not read: "
                      + "; ".join(f"{k}: {v}" for k, v in skipped.items()), stacklevel=2)
    return History(
        campaigns=pd.DataFrame(campaigns, columns=CAMPAIGN_COLUMNS),
        samples=_concat(samples), latency=_concat(latency), scores=_concat(scores),
        costs=_concat(costs), skipped=skipped, intervals=_concat(intervals), root=where)


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
