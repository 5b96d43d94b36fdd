"""k8s-pod-scale keeps the API server's stamps in its raw output (format 2), and parsing
derives the samples from them again (bench/k8s/pod_stamps.py), so `bakeoff verify`
recomputes pod-scale samples from first principles: a campaign whose recorded samples,
journal and table were all rewritten alike (checksums too) still fails, because the
stamps disagree. Against the local simulated cluster (the fake API server)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml

from bench.k8s.pod_stamps import samples_from_stamps
from bench.results import file_sha256
from bench.workloads import REGISTRY
from core.errors import ParseError
from core.exit_codes import ExitCode
from tests.conftest import REPO
from tests.test_reliability import cli

POD_SCALE = REGISTRY["k8s-pod-scale"]
T0 = datetime(2026, 12, 6, 10, 0, 0, tzinfo=UTC)


def _at(s: float) -> str:
    return (T0 + timedelta(seconds=s)).isoformat()


def _stamps() -> dict:
    """By hand: Deployment at 0 s; pod a created 1 s, scheduled 2, initialized 3, containers
    ready and ready 5; pod b created 1 s, scheduled 40 (after a new node), initialized 41,
    ready 45; node n1 created 10 s, Ready 35 s."""
    def pod(name, created, sched, init, ready):
        return {"name": name, "created": _at(created), "conditions": {
            "PodScheduled": _at(sched), "Initialized": _at(init),
            "ContainersReady": _at(ready), "Ready": _at(ready)}}
    return {"deployment_created": _at(0), "pods": [pod("a", 1, 2, 3, 5), pod("b", 1, 40, 41, 45)],
            "nodes": [{"name": "n1", "created": _at(10), "ready": _at(35)}]}


def test_samples_from_stamps_by_hand():
    got = {(s.metric, s.metadata.get("percentile")): s.value
           for s in samples_from_stamps(_stamps(), {})}
    # latencies from each pod's creation: scheduled 1 and 39, initialized 2 and 40, ready 4
    # and 44; nearest rank over 2 values: p50 = the 1st, p90/p99/p100 = the 2nd
    assert got[("pod_scheduled_s", 50.0)] == 1 and got[("pod_scheduled_s", 90.0)] == 39
    assert got[("pod_initialized_s", 100.0)] == 40
    assert got[("pod_ready_s", 50.0)] == 4 and got[("pod_ready_s", 99.0)] == 44
    assert got[("time_to_all_pods_ready_s", None)] == 45      # Deployment 0 -> b Ready 45
    assert got[("node_ready_s", None)] == 25                  # 10 -> 35
    assert got[("time_to_last_node_ready_s", None)] == 35
    assert got[("new_nodes", None)] == 1


def _doc(stamps: dict) -> dict:
    samples = samples_from_stamps(stamps, {"replicas": 2})
    samples.append(type(samples[0])("clock_offset", 0.25, "s", {"replicas": 2}))
    return {"workload": "k8s-pod-scale", "format": 2, "label": "simulated", "valid": True,
            "invalid_reason": "", "samples": [s.to_json() for s in samples], "stamps": stamps}


def test_parse_derives_from_the_stamps_and_refuses_a_disagreement():
    doc = _doc(_stamps())
    out = POD_SCALE.parse(json.dumps(doc), None)
    assert [s.metric for s in out.samples][-1] == "clock_offset"  # carried as recorded
    assert len(out.samples) == len(doc["samples"])
    doc["samples"][1]["value"] = 30.0  # pod_scheduled_s p90 claimed better than 39
    with pytest.raises(ParseError, match=r"recorded pod_scheduled_s = 30 .* the stamps give "
                                         r"pod_scheduled_s = 39"):
        POD_SCALE.parse(json.dumps(doc), None)
    bad = _doc(_stamps())
    bad["stamps"]["pods"][0]["created"] = "yesterday"
    with pytest.raises(ParseError, match=r"pods\[0\]\.created"):
        POD_SCALE.parse(json.dumps(bad), None)
    old = _doc(_stamps())
    old["stamps"]["nodes"][0]["created"] = _at(-5)  # a node older than the Deployment
    with pytest.raises(ParseError, match="not a new node"):
        POD_SCALE.parse(json.dumps(old), None)


def test_format_1_without_stamps_still_parses():
    text = (REPO / "tests" / "golden" / "k8s-pod-scale" / "simulated_fast.json").read_text()
    assert json.loads(text)["format"] == 1 and POD_SCALE.parse(text, None).samples


# -- a real campaign on the simulated cluster ------------------------------------------------
@pytest.fixture
def measured(tmp_path, monkeypatch, capsys) -> Path:
    monkeypatch.setenv("BAKEOFF_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("BAKEOFF_MACHINE_LOCK", str(tmp_path / "machine.lock"))
    data = yaml.safe_load((REPO / "scenarios" / "examples" / "kubernetes-local.yaml").read_text())
    data.update(name="k8s-verify", repetitions=1, requirements=[],
                criteria=[{"name": "pod_ready_p90", "weight": 2}, {"name": "tco", "weight": 1}])
    data["sites"] = data["sites"][:1]
    data["sites"][0]["kubernetes"]["time_scale"] = 20  # stamps stay in script seconds
    data["workloads"] = data["workloads"][:1]
    path = tmp_path / "verify.yaml"
    path.write_text(yaml.safe_dump(data))
    code, out = cli(capsys, "run", str(path), "--results", str(tmp_path / "results"))
    assert code == 0, out
    return next((tmp_path / "results").glob("k8s-verify-*"))


@pytest.mark.integration
def test_verify_recomputes_pod_scale_samples_from_the_stamps(measured, capsys):
    raw_path = next((measured / "raw" / "sim-fast" / "k8s-pod-scale").glob("0.*"))
    raw = json.loads(raw_path.read_text())
    assert raw["format"] == 2 and raw["stamps"]["pods"], raw.keys()
    code, text = cli(capsys, "verify", str(measured))
    assert code == 0, text

    # rewrite one figure everywhere it is recorded (raw samples, journal, table) and every
    # checksum, as a bug or a hand would: only the stamps still say what happened
    i = next(i for i, s in enumerate(raw["samples"]) if s["metric"] == "pod_ready_s"
             and s["metadata"].get("percentile") == 90.0)
    true_value = raw["samples"][i]["value"]
    raw["samples"][i]["value"] = true_value / 2
    raw_path.write_text(json.dumps(raw, indent=1))
    journal_path = measured / "units" / "sim-fast" / "k8s-pod-scale" / "0.json"
    journal = json.loads(journal_path.read_text())
    for s in journal["samples"]:
        if s["metric"] == "pod_ready_s" and '"percentile": 90.0' in json.dumps(s):
            s["value"] = true_value / 2
    journal_path.write_text(json.dumps(journal))
    frame = pd.read_parquet(measured / "samples.parquet")
    hit = (frame["metric"] == "pod_ready_s") & frame["metadata"].str.contains(
        '"percentile": 90.0')
    frame.loc[hit, "value"] = true_value / 2
    frame.to_parquet(measured / "samples.parquet", index=False)
    manifest = json.loads((measured / "manifest.json").read_text())
    unit = next(u for k, u in manifest["units"].items() if "k8s-pod-scale" in k)
    unit["raw_sha256"], unit["journal_sha256"] = file_sha256(raw_path), file_sha256(journal_path)
    (measured / "manifest.json").write_text(json.dumps(manifest))

    code, text = cli(capsys, "verify", str(measured))
    assert code == ExitCode.DAMAGED, text
    assert "the stamps give pod_ready_s" in text and f"{true_value:g}" in text, text
