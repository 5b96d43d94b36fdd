"""Campaigns side by side: a live one is never touched, two started at once both finish."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.exit_codes import ExitCode
from tests.conftest import have, is_root
from tests.faults.support import KillPoint, Run, assert_clean, assert_valid_folder

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (is_root and have("ip", "sysbench", "iperf3", "pgbench")),
                       reason="needs root, iproute2, sysbench, iperf3 and PostgreSQL"),
]


def test_live_campaign_is_not_touched_by_resume_gc_or_a_second_run(uninterrupted):
    """While the shared baseline ran (tests/faults/conftest.py): a resume of it, `gc
    --delete` of it and a second local campaign with --no-wait all refused or left it
    alone, and it finished complete and clean."""
    live, tried = uninterrupted.run, uninterrupted.attempts
    resume = tried["resume"]
    assert resume.returncode == ExitCode.BUSY and "is running" in resume.stderr, resume.stderr
    gc = tried["gc_delete"]
    assert gc.returncode == 0 and "not touched" in gc.stdout, gc.stdout + gc.stderr
    assert "removing" not in gc.stdout
    listing = tried["gc_list"].stdout.replace(f"live: campaign {live.campaign_id}", "")
    assert live.campaign_id not in listing
    second = tried["second"]
    assert second.returncode == ExitCode.BUSY, second.stderr
    assert live.campaign_id in second.stderr.replace("\n", "")
    assert tried["alive_after"] and uninterrupted.namespaces_after == \
        uninterrupted.namespaces_before
    assert uninterrupted.rc == 0, uninterrupted.err
    manifest = assert_valid_folder(live)
    assert manifest["status"] == "complete"
    assert all(u["status"] == "ok" for u in manifest["units"].values())
    assert live.bakeoff("verify", str(live.folder)).returncode == 0
    assert_clean(live)


def test_two_runs_started_in_the_same_second_both_finish(tmp_path: Path):
    scenario = tmp_path / "small.yaml"
    scenario.write_text(yaml.safe_dump({
        "name": "same-second", "repetitions": 1,
        "sites": [{"name": "a", "provider": "local", "cpus": 1, "hourly_usd": 0}],
        "workloads": [{"name": "sysbench-cpu", "params": {"time_s": 1}},
                      {"name": "iperf3", "params": {"time_s": 1}}]}))
    runs = [Run(tmp_path, scenario, extra=("--no-score",)) for _ in range(2)]
    results = [r.wait(timeout=300) for r in runs]
    for rc, err in results:
        assert rc == 0, err
    folders = sorted(p.parent for p in (tmp_path / "results").glob("*/manifest.json"))
    assert len(folders) == 2  # two folders: ids differ even within one second
    for folder in folders:
        run = runs[0]
        run.campaign_id = folder.name
        manifest = assert_valid_folder(run)
        assert manifest["status"] == "complete", manifest
        assert_clean(run)


def test_kill_point_ids_are_stable():
    """The suite's case ids name the phase and the signals (used with -k)."""
    import signal

    assert KillPoint("x", "locust", (signal.SIGINT, signal.SIGTERM), 1).id == \
        "locust-SIGINT+SIGTERM"
