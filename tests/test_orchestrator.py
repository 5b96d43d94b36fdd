"""End-to-end on this machine: a reduced quickstart run for real, resume, and interruption."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from bench.orchestrator import Orchestrator
from bench.results import load_results
from bench.scenarios import load_campaign_file, parse_campaign
from bench.units import interleaved_units
from bench.workloads import REGISTRY
from stacks import netns
from tests.conftest import REPO, have, is_root
from tests.faults.support import campaign_processes

pytestmark = pytest.mark.integration


def reduced_quickstart(tmp_path: Path, workloads: list[str] | None = None) -> Path:
    """The shipped quickstart with one repetition and the shortest settings."""
    data = yaml.safe_load((REPO / "scenarios" / "quickstart.yaml").read_text())
    data["repetitions"] = 2
    for w in data["workloads"]:
        p = w.setdefault("params", {})
        for key in ("time_s", "duration_s", "runtime_s"):
            if key in p and w["name"] != "stream":  # stress-ng needs >= 5 s for a rate
                p[key] = min(p[key], 2)
        w.pop("repetitions", None)
    if workloads is not None:
        data["workloads"] = [w for w in data["workloads"] if w["name"] in workloads]
        data["requirements"] = [r for r in data.get("requirements", [])
                                if r["metric"].split(".")[0] in workloads]
    path = tmp_path / "quick.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_units_interleave_sites():
    c = parse_campaign({"name": "t", "repetitions": 2, "sites": [
        {"name": "a", "provider": "local", "cpus": 1, "hourly_usd": 0},
        {"name": "b", "provider": "local", "cpus": 1, "hourly_usd": 0}],
        "workloads": [{"name": "sysbench-cpu"}]})
    assert [u.key for u in interleaved_units(c)] == [
        "a/sysbench-cpu/0", "b/sysbench-cpu/0", "a/sysbench-cpu/1", "b/sysbench-cpu/1"]


def test_quickstart_results_contract(quickstart_run):
    """The shipped quickstart, run for real: tidy samples, raw outputs, manifest, summary."""
    folder, stdout = quickstart_run
    campaign = load_campaign_file(REPO / "scenarios" / "quickstart.yaml")
    r = load_results(folder)
    manifest = r.manifest
    assert manifest["status"] == "complete", manifest
    assert manifest["order"] == [u.key for u in interleaved_units(campaign)]
    assert all(u["status"] == "ok" for u in manifest["units"].values())
    assert manifest["machine"]["cpu_model"] and manifest["machine"]["kernel"]
    assert set(manifest["tool_versions"]) == {"small", "large"}
    assert set(manifest["tool_versions"]["small"]) == {w.name for w in campaign.workloads}
    assert manifest["tool_versions"]["small"]["sysbench-cpu"].startswith("sysbench 1.")
    for site in manifest["sites"].values():
        # as root with iproute2 the namespace path is required, never a silent loopback
        assert site["network"] == ("netns-veth" if is_root and have("ip") else "loopback"), site
        assert "torn_down_at" in site

    samples = pd.read_parquet(folder / "samples.parquet")
    assert set(samples["site"]) == {"small", "large"}
    assert set(samples["workload"]) == {w.name for w in campaign.workloads}
    assert (samples["value"] >= 0).all()
    assert set(samples["repetition"]) == set(range(campaign.repetitions))
    assert set(samples["vcpus"]) == {1, 2}
    expected_units = {"sysbench-cpu": {"events/s"}, "stream": {"MB/s"}, "iperf3": {"Gbit/s"},
                      "ping": {"ms", "%"}, "fio": {"IOPS", "MiB/s", "ms"}}
    for workload, units in expected_units.items():
        got = samples[samples["workload"] == workload]
        assert units <= set(got["unit"]), (workload, set(got["unit"]))
    cpu = samples.query("workload == 'sysbench-cpu' and metric == 'events_per_second'")
    assert (cpu["value"] > 0).all() and len(cpu) == 2 * campaign.repetitions
    # raw outputs are kept untouched and re-parse to the same values
    for _, row in cpu.iterrows():
        raw = folder / "raw" / row["site"] / "sysbench-cpu" / f"{row['repetition']}.txt"
        assert REGISTRY["sysbench-cpu"].parse(raw.read_text()).samples[0].value == row["value"]
    assert yaml.safe_load((folder / "scenario.yaml").read_text())["name"] == "quickstart"
    # the summary table was printed, with both sites
    assert "events_per_second" in stdout and "small" in stdout and "large" in stdout
    assert [n for n in netns.leftover_namespaces() if folder.name in n] == []


def test_resume_runs_only_missing_units(tmp_path):
    campaign = load_campaign_file(reduced_quickstart(tmp_path, ["sysbench-cpu"]))
    folder = Orchestrator(campaign, tmp_path / "results", quiet=True).run()
    victim = folder / "units" / "large" / "sysbench-cpu" / "1.json"
    kept = folder / "units" / "small" / "sysbench-cpu" / "0.json"
    kept_before = kept.read_text()
    victim.unlink()
    Orchestrator(campaign, tmp_path / "results", quiet=True).run(
        campaign_id=folder.name, resume=True)
    assert victim.is_file() and kept.read_text() == kept_before
    assert len(pd.read_parquet(folder / "samples.parquet")
               .query("metric == 'events_per_second'")) == 4


def test_sigterm_tears_everything_down(tmp_path):
    scenario = reduced_quickstart(tmp_path, ["sysbench-cpu"])
    data = yaml.safe_load(scenario.read_text())
    data["workloads"][0]["params"]["time_s"] = 30
    scenario.write_text(yaml.safe_dump(data))
    proc = subprocess.Popen(
        [sys.executable, "-c", "from bakeoff.cli import main; main()", "run", str(scenario),
         "--results", str(tmp_path / "results"), "--quiet", "--no-score"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not list((tmp_path / "results").glob("*/manifest.json")):
        time.sleep(0.2)
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Resume with" in err
    manifest = json.loads(next((tmp_path / "results").glob("*/manifest.json")).read_text())
    assert manifest["status"] == "interrupted"
    assert all("torn_down_at" in s for s in manifest["sites"].values())
    campaign_id = manifest["campaign_id"]  # ours only: other campaigns may be running
    assert [n for n in netns.leftover_namespaces() if campaign_id in n] == []
    assert campaign_processes(campaign_id) == {}


def test_missing_tool_fails_before_provisioning(tmp_path, monkeypatch):
    from core.errors import PrerequisiteError

    campaign = load_campaign_file(reduced_quickstart(tmp_path, ["sysbench-cpu"]))
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PrerequisiteError, match="missing benchmark tool"):
        Orchestrator(campaign, tmp_path / "results", quiet=True).run()
    assert not (tmp_path / "results").exists()


class _Failing:
    """A workload whose tool exits non-zero: the unit fails, the campaign goes on."""

    name = "always-fails"
    tool = "sh"

    class Params(__import__("bench.workloads.base", fromlist=["WorkloadParams"]).WorkloadParams):
        pass

    def plan(self, params, env):
        from bench.workloads.base import Plan, Step

        return Plan((Step("client", ("sh", "-c", "echo partial; echo boom >&2; exit 3")),))

    def parse(self, output, params=None):  # pragma: no cover - never reached
        raise AssertionError("a failed unit is not parsed")

    def tool_version_argv(self):
        return ("sh", "-c", "echo sh")


def test_failed_unit_is_recorded_and_others_run(tmp_path, monkeypatch):
    monkeypatch.setitem(REGISTRY, "always-fails", _Failing())
    campaign = parse_campaign({
        "name": "t", "repetitions": 1,
        "sites": [{"name": "a", "provider": "local", "cpus": 1, "hourly_usd": 0,
                   "network": "loopback"}],
        "workloads": [{"name": "always-fails"}, {"name": "sysbench-cpu",
                                                 "params": {"time_s": 1}}]})
    folder = Orchestrator(campaign, tmp_path, quiet=True).run()
    manifest = load_results(folder).manifest
    assert manifest["status"] == "partial"
    failed = manifest["units"]["a/always-fails/0"]
    assert failed["status"] == "failed" and "exited with 3: boom" in failed["error"]
    raw = (folder / "raw" / "a" / "always-fails" / "0.failed.txt").read_text()
    assert "partial" in raw and "boom" in raw
    assert manifest["units"]["a/sysbench-cpu/0"]["status"] == "ok"


def test_workload_error_fails_the_unit_not_the_campaign(tmp_path):
    campaign = parse_campaign({
        "name": "t", "repetitions": 1,
        "sites": [{"name": "a", "provider": "local", "cpus": 1, "hourly_usd": 0,
                   "network": "loopback"}],
        "workloads": [{"name": "http-load", "params": {"duration_s": 1}},
                      {"name": "sysbench-cpu", "params": {"time_s": 1}}]})
    folder = Orchestrator(campaign, tmp_path, quiet=True).run()
    units = load_results(folder).manifest["units"]
    assert units["a/http-load/0"]["status"] == "failed"
    assert "needs a database" in units["a/http-load/0"]["error"]
    assert units["a/sysbench-cpu/0"]["status"] == "ok"
