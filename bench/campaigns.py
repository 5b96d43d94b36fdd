"""Where campaigns live: one results root that every command resolves the same way.

The root is `--results` when given, else the BAKEOFF_RESULTS environment variable, else
`./results`. `run`, `show`, `list`, `score`, `report`, `gc` and the notebooks' loader all go
through `results_root`, so a user who points one command somewhere finds everything there.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import typer

RESULTS_ENV = "BAKEOFF_RESULTS"
DEFAULT_RESULTS = Path("results")


def results_root(root: str | Path | None = None) -> Path:
    """The results root: the argument, else $BAKEOFF_RESULTS, else ./results."""
    if root is not None and str(root) != "":
        return Path(root)
    return Path(os.environ.get(RESULTS_ENV) or DEFAULT_RESULTS)


def reading_root(root: str | Path | None = None) -> Path:
    """The results root for the loaders a notebook calls (`load_results`, `load_history`).

    A Jupyter kernel runs in the notebook's folder, so a relative root (`results`, or
    BAKEOFF_RESULTS=results) that is not found from the current folder is taken from the
    folder the user started in ($PWD, inherited from the shell that launched Jupyter).
    """
    base = results_root(root)
    if base.is_absolute():
        return base
    started = os.environ.get("PWD")
    for folder in [Path.cwd()] + ([Path(started)] if started else []):
        if (folder / base).is_dir():
            return (folder / base).resolve()
    return base


def results_option() -> Any:
    """The `--results` option shared by every command (falls back to $BAKEOFF_RESULTS)."""
    return typer.Option(DEFAULT_RESULTS, "--results", envvar=RESULTS_ENV,
                        help="results root folder (default ./results, or $BAKEOFF_RESULTS)")


def is_default_root(root: str | Path) -> bool:
    """True when `root` is what a command would use with no option and no env variable."""
    return Path(root).resolve() == DEFAULT_RESULTS.resolve()


def _manifest(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def list_campaigns(root: str | Path | None = None) -> list[dict[str, Any]]:
    """One row per campaign folder under the root, oldest first (by start time)."""
    base = results_root(root)
    rows = []
    for manifest_path in sorted(base.glob("*/manifest.json")):
        folder = manifest_path.parent
        m = _manifest(folder)
        if m is None:
            rows.append({"id": folder.name, "scenario": "?", "started": "?",
                         "status": "unreadable manifest", "sites": [], "units_ok": 0,
                         "units_total": 0})
            continue
        units = m.get("units") or {}
        status = str(m.get("status", "?"))
        if not isinstance(units, dict):
            units, status = {}, f"damaged manifest (units is a {type(m['units']).__name__})"
        rows.append({
            "id": str(m.get("campaign_id") or folder.name), "scenario": str(m.get("scenario")),
            "started": str(m.get("started_at", "?")), "status": status,
            "sites": sorted(m.get("sites") or {}) or _sites_from_order(m),
            "units_ok": sum(1 for u in units.values()
                            if isinstance(u, dict) and u.get("status") == "ok"),
            "units_total": len(units),
        })
    rows += _without_manifest(base)
    return sorted(rows, key=lambda r: (r["started"], r["id"]))


def _without_manifest(base: Path) -> list[dict[str, Any]]:
    """Folders holding journals or raw output but no manifest.json: a campaign whose manifest
    was lost is still listed (as such), never hidden behind "no campaigns"."""
    rows = []
    for folder in sorted(p for p in base.glob("*/") if p.is_dir()):
        if (folder / "manifest.json").exists():
            continue
        journals = len(list((folder / "units").glob("*/*/*.json")))
        if journals or (folder / "raw").is_dir() or (folder / "samples.parquet").exists():
            rows.append({"id": folder.name, "scenario": "?", "started": "?",
                         "status": f"no manifest.json ({journals} unit journal(s); "
                                   "`bakeoff verify` it)",
                         "sites": sorted(p.name for p in (folder / "units").glob("*")
                                         if p.is_dir()),
                         "units_ok": 0, "units_total": 0})
    return rows


def _sites_from_order(manifest: dict[str, Any]) -> list[str]:
    return sorted({str(k).split("/", 1)[0] for k in manifest.get("order") or []})


def discard_if_nothing_measured(folder: Path) -> bool:
    """Remove a campaign folder that a failed start left without any measured unit (no
    journal entry, no raw output), so `list` and `show latest` never pick an empty shell.
    Returns True when it was removed."""
    if not (folder / "manifest.json").is_file():
        return False
    if any((folder / "units").glob("*/*/*.json")) or any((folder / "raw").rglob("*")):
        return False
    m = _manifest(folder) or {}
    if m.get("status") not in ("failed", "running"):
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return not folder.exists()
