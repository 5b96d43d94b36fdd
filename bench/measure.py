"""One unit, measured and recorded: raw output, journal, and its status for the manifest."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bench.results import ResultStore, file_sha256
from bench.runner import RunContext, UnitFailed, load_fields, run_unit, unit_failure
from bench.samples import sample_row
from bench.scenarios import workload_params
from bench.units import Unit, now
from bench.workloads import REGISTRY
from core.environment import Environment


def measure(store: ResultStore, env: Environment, unit: Unit, version: str,
            say: Callable[[str], None]) -> dict[str, Any]:
    """Run and parse one unit, write its raw output and journal; return its manifest
    status. Whatever goes wrong stays inside the unit."""
    wl = REGISTRY[unit.workload.name]
    params = workload_params(unit.workload)
    started = now()
    ctx = RunContext(raw_dir=store.dir / "raw" / unit.site / unit.workload.name,
                     deadline_s=600, campaign_id=store.campaign_id,
                     repetition=unit.repetition)
    ctx.raw_dir.mkdir(parents=True, exist_ok=True)
    try:
        out = run_unit(wl, params, env, ctx)
        raw_path = store.write_raw(unit.site, wl.name, unit.repetition, out.raw_suffix,
                                   out.raw)
        context = _context(store.campaign_id, env, unit, params, started, out.duration_s,
                           version, out.parsed.valid, out.parsed.invalid_reason)
        rows = [sample_row(s, context) for s in out.parsed.samples]
        hists = [{"campaign_id": store.campaign_id, "site": unit.site, "workload": wl.name,
                  "repetition": unit.repetition, "name": h.name, "unit": h.unit,
                  "encoded": h.encoded, "metadata": json.dumps(h.metadata, sort_keys=True),
                  "valid": out.parsed.valid, "interval": h.interval}
                 for h in out.parsed.histograms]
        journal_sha = store.write_unit(unit.site, wl.name, unit.repetition, rows, hists)
    except Exception as e:  # whatever goes wrong stays inside this unit
        failed = e if isinstance(e, UnitFailed) else unit_failure(e, wl.name)
        return _failed(store, unit, wl.name, started, failed, say)
    status: dict[str, Any] = {"status": "ok", "started_at": started, "finished_at": now(),
                              "duration_s": round(out.duration_s, 3), "samples": len(rows),
                              "histograms": len(hists),
                              "raw": str(raw_path.relative_to(store.dir)),
                              "raw_sha256": file_sha256(raw_path),
                              "journal_sha256": journal_sha,
                              **load_fields(out.host_load)}
    disk = env.client.facts.get("scratch_disk")
    if disk and getattr(wl, "measures_disk", False):  # the disk fio's files were on
        status["scratch_disk"] = disk
    if out.parsed.notes:  # e.g. warm-up or saturated intervals left out (http-load)
        status["notes"] = list(out.parsed.notes)
    if not out.parsed.valid:
        status["invalid_reason"] = out.parsed.invalid_reason
        say(f"[yellow]invalid[/yellow] {unit.key}: {out.parsed.invalid_reason}")
    return status

def _failed(store: ResultStore, unit: Unit, workload: str, started: str, e: UnitFailed,
            say: Callable[[str], None]) -> dict[str, Any]:
    """Keep the raw output (and the traceback of an unexpected error) beside the unit."""
    raw = store.write_raw(unit.site, workload, unit.repetition, "failed.txt", e.raw or "")
    status = {"status": "failed", "error": str(e), "started_at": started,
              "finished_at": now(), "raw": str(raw.relative_to(store.dir)),
              **load_fields(e.host_load)}
    if e.reason:  # "preempted": a spot host was reclaimed (bench/preemption.py)
        status["reason"] = e.reason
    if e.traceback:
        tb = store.write_raw(unit.site, workload, unit.repetition, "traceback.txt",
                             e.traceback)
        status["traceback"] = str(tb.relative_to(store.dir))
    say(f"[red]failed[/red] {unit.key}: {e}")
    return status

def _context(campaign_id: str, env: Environment, unit: Unit, params: Any, started: str,
             duration: float, version: str, valid: bool, reason: str) -> dict[str, Any]:
    client = env.client
    return {"campaign_id": campaign_id, "site": env.site, "provider": env.provider,
            "region": env.region, "zone": client.zone, "instance_type": env.instance_type,
            "workload": unit.workload.name, "repetition": unit.repetition,
            "started_at": started, "duration_s": round(duration, 3), "valid": valid,
            "invalid_reason": reason, "params": params.model_dump(mode="json"),
            "cpu_model": client.facts.get("cpu_model"), "vcpus": client.facts.get("vcpus"),
            "kernel": client.facts.get("kernel"), "tool_version": version}
