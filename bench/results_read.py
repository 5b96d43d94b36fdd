"""Reading a stored campaign folder, read-only: which folder a reference names (a path,
an id, a unique prefix, 'latest'; a re-score's measured campaign), and its manifest,
scenario and tables, each refused with a `ResultsDamaged` that says what is damaged and
how to recover. bench/results.py (the store and the notebooks' loader) is built on it and
re-exports every name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from bench.campaigns import RESULTS_ENV, results_root
from bench.scenarios import parse_campaign
from core.errors import BakeoffError, ScenarioError
from core.exit_codes import ExitCode
from core.scenario import Campaign


class ResultsDamaged(BakeoffError):
    """A results folder is damaged; the message says what and how to recover."""

    exit_code = int(ExitCode.DAMAGED)


class NothingMeasured(BakeoffError):
    """A campaign stopped before its first unit: nothing to read, nothing damaged."""

    exit_code = int(ExitCode.NOTHING_MEASURED)


def not_started(manifest: dict[str, Any]) -> bool:
    """No unit ever ran (each still pending, or none listed)."""
    units = manifest.get("units")
    return isinstance(units, dict) and all(
        isinstance(u, dict) and u.get("status") == "pending" for u in units.values())


def resolve_campaign_dir(ref: str | Path, root: str | Path | None = None) -> Path:
    """Accept a folder path, a campaign id or a unique prefix of one under the results root
    (bench.campaigns: `root`, else $BAKEOFF_RESULTS, else ./results). 'latest' is the
    campaign that measured most recently: a re-score (manifest `rescore_of`) measures
    nothing, so it is never 'latest'; name it by its id."""
    p = Path(ref)
    if str(ref) != "latest" and (p / "manifest.json").is_file():
        return p
    base = results_root(root)
    if str(ref) == "latest":
        found = sorted((m for m in base.glob("*/manifest.json") if not _is_rescore(m.parent)),
                       key=lambda m: m.stat().st_mtime)
        if found:
            return found[-1].parent
        raise BakeoffError(f"latest: no campaign in the results root {base}/ (set by --results, "
                           f"else ${RESULTS_ENV}, else ./results); `bakeoff list` shows what "
                           "is there")
    if (base / str(ref) / "manifest.json").is_file():
        return base / str(ref)
    if (p.is_dir() and (p / "units").is_dir()) or (base / str(ref) / "units").is_dir():
        d = p if (p / "units").is_dir() else base / str(ref)
        raise ResultsDamaged(f"{d}: manifest.json is missing; the unit journals under units/ "
                             "are there: `bakeoff verify` lists them, and a new campaign "
                             "re-measures what cannot be trusted")
    ids = sorted(m.parent.name for m in base.glob("*/manifest.json")) if base.is_dir() else []
    prefixed = [i for i in ids if i.startswith(str(ref))] if "/" not in str(ref) else []
    if len(prefixed) == 1:
        return base / prefixed[0]
    if len(prefixed) > 1:
        raise BakeoffError(f"{ref}: the prefix matches {len(prefixed)} campaigns under {base}/ "
                           f"({', '.join(prefixed[:5])}{' ...' if len(prefixed) > 5 else ''}); "
                           "give more of the id")
    hint = f"; campaigns there: {', '.join(ids[-5:])}" if ids else ""
    raise BakeoffError(f"{ref}: no campaign results there (expected a folder with "
                       f"manifest.json, a campaign id or unique prefix under {base}/, or "
                       f"'latest'){hint}")


def _is_rescore(d: Path) -> bool:
    try:
        return bool(json.loads((d / "manifest.json").read_text()).get("rescore_of"))
    except (OSError, ValueError, AttributeError):
        return False


def measured_dir(d: Path, manifest: dict[str, Any]) -> Path:
    """Where a campaign's measurements are: its own folder, or for a re-score the measured
    campaign it points to (a sibling under the same root), so no row is ever stored twice."""
    of = manifest.get("rescore_of")
    if not of:
        return d
    target = d.parent / str(of)
    if not (target / "samples.parquet").is_file() and manifest.get("rescore_of_path"):
        target = Path(str(manifest["rescore_of_path"]))
    if not (target / "samples.parquet").is_file():
        raise ResultsDamaged(f"{d}: a re-score of {of}, whose measurements are not at "
                             f"{target}/samples.parquet (keep the measured campaign beside "
                             "its re-scores)")
    return target


def read_manifest(d: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((d / "manifest.json").read_text())
    except (OSError, ValueError) as e:
        raise ResultsDamaged(
            f"{d / 'manifest.json'}: not readable JSON ({e}). The measurements are in "
            "units/ (journals) and raw/; `bakeoff verify` says which are intact") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("units", {}), dict):
        raise ResultsDamaged(f"{d / 'manifest.json'}: not a bakeoff manifest (no units map)")
    bad = [k for k, u in manifest.get("units", {}).items()
           if not isinstance(u, dict) or not isinstance(u.get("status"), str)]
    if bad:
        raise ResultsDamaged(f"{d / 'manifest.json'}: unit entr{'y' if len(bad) == 1 else 'ies'} "
                             f"{', '.join(map(repr, bad[:5]))} {'is' if len(bad) == 1 else 'are'}"
                             " not a mapping with a status; restore the manifest from a backup "
                             "(`bakeoff verify` lists what else is damaged)")
    return manifest


def read_scenario(d: Path) -> Campaign:
    path = d / "scenario.yaml"
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ResultsDamaged(
            f"{path}: the stored scenario is missing or unreadable ({e.__class__.__name__}); "
            "copy the scenario file the campaign was run with to that path (its hash is in "
            "manifest.json as scenario_hash)") from None
    try:
        return parse_campaign(data, str(path))
    except ScenarioError as e:
        raise ResultsDamaged(f"{e}\nthe stored scenario is damaged: restore it from the "
                             "scenario file the campaign was run with") from None


def read_table(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """Read a parquet table, or say what is wrong with it and how to rebuild it."""
    rebuild = (f"rebuild it from the unit journals with `bakeoff assemble {path.parent}` "
               "(then `bakeoff verify` it)")
    if not path.is_file():
        raise ResultsDamaged(f"{path}: missing (the campaign may have been killed before "
                             f"assembling it); {rebuild}")
    try:
        frame = pd.read_parquet(path)
    except Exception as e:  # pyarrow raises several unrelated types for a bad file
        raise ResultsDamaged(f"{path}: not a readable parquet file ({e.__class__.__name__}: "
                             f"{str(e)[:200]}); {rebuild}") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ResultsDamaged(f"{path}: wrong schema, missing column(s) {', '.join(missing)}; "
                             f"{rebuild}")
    if "value" in required and not pd.api.types.is_numeric_dtype(frame["value"]):
        raise ResultsDamaged(f"{path}: column 'value' holds {frame['value'].dtype} values, "
                             f"expected numbers; {rebuild}")
    if "value" in required and not frame.empty and not frame["value"].notna().all():
        raise ResultsDamaged(f"{path}: {int(frame['value'].isna().sum())} value(s) are NaN, "
                             f"which no measurement stores; {rebuild}")
    return frame
