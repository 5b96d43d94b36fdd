"""Results folders follow the user; requirements gate CI; `show` agrees with the report.

Real campaigns only: the session's tiny campaign (copied, never modified in place), one
short run interrupted with SIGINT and resumed by the printed command, the quickstart.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bakeoff.cli import app
from scoring.requirements_gate import REQUIREMENT_FAILED, REQUIREMENT_NOT_MEASURED

runner = CliRunner()
BAKEOFF = Path(sys.executable).parent / "bakeoff"


@pytest.fixture
def root_with_tiny(tiny_campaign, tmp_path) -> Path:
    """A results root holding a copy of the tiny campaign."""
    root = tmp_path / "elsewhere"
    shutil.copytree(tiny_campaign, root / tiny_campaign.name)
    return root


def _with_requirements(folder: Path, requirements: list[dict]) -> None:
    path = folder / "scenario.yaml"
    data = yaml.safe_load(path.read_text())
    data["requirements"] = requirements
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_every_command_honours_bakeoff_results(root_with_tiny, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # ./results does not exist here
    env = {"BAKEOFF_RESULTS": str(root_with_tiny), "COLUMNS": "200"}
    cid = next(root_with_tiny.iterdir()).name
    for argv in (["list"], ["show"], ["show", "latest"], ["show", cid], ["score"],
                 ["score", cid], ["report", "latest"]):
        res = runner.invoke(app, argv, env=env)
        assert res.exit_code == 0, (argv, res.output, res.exception)
        assert cid in res.output or str(root_with_tiny) in res.output, argv
    listed = runner.invoke(app, ["list", "--format", "json"], env=env)
    (row,) = json.loads(listed.output)
    assert row["id"] == cid and row["status"] == "complete"
    assert row["sites"] == ["large", "small"] and row["units_ok"] == row["units_total"] == 4
    # --results wins over the variable
    other = runner.invoke(app, ["list", "--results", str(tmp_path / "none")], env=env)
    assert "no campaigns in" in other.output and str(tmp_path / "none") in other.output


def test_show_latest_never_picks_another_root(root_with_tiny, tmp_path, monkeypatch):
    monkeypatch.chdir(root_with_tiny.parent)
    (root_with_tiny.parent / "results").symlink_to(root_with_tiny)  # ./results has one
    empty = tmp_path / "empty"
    empty.mkdir()
    res = runner.invoke(app, ["show", "latest"], env={"BAKEOFF_RESULTS": str(empty)})
    assert res.exit_code != 0
    assert f"no campaign in the results root {empty}/" in str(res.exception)


def test_requirement_exit_codes(root_with_tiny):
    folder = next(root_with_tiny.iterdir())
    env = {"COLUMNS": "200"}
    cases = [
        ([{"metric": "sysbench-cpu.events_per_second", "operator": ">", "threshold": 1}], 0,
         "requirements: 2 passed, 0 failed, 0 not measured"),
        ([{"metric": "sysbench-cpu.events_per_second", "operator": ">", "threshold": 1e12},
          {"metric": "sysbench-cpu.latency_p99", "operator": "<", "threshold": 5}],
         REQUIREMENT_FAILED, "requirements: 0 passed, 2 failed, 2 not measured"),
        ([{"metric": "sysbench-cpu.latency_p99", "operator": "<", "threshold": 5}],
         REQUIREMENT_NOT_MEASURED, "requirements: 0 passed, 0 failed, 2 not measured"),
    ]
    for reqs, code, summary in cases:
        _with_requirements(folder, reqs)
        res = runner.invoke(app, ["score", str(folder)], env=env)
        assert res.exit_code == code, res.output
        assert summary in res.output
        if code:
            assert f"exit code {code}" in res.output
            assert "FAIL small" in res.output or "NOT MEASURED small" in res.output
            relaxed = runner.invoke(app, ["score", str(folder), "--no-fail-on-requirements"],
                                    env=env)
            assert relaxed.exit_code == 0 and summary in relaxed.output


def _wait_for(path_glob: Path, pattern: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if list(path_glob.glob(pattern)):
            return
        time.sleep(0.1)
    raise AssertionError(f"nothing matched {pattern} under {path_glob} in {timeout} s")


def test_interrupt_then_follow_the_resume_hint_literally(tmp_path):
    """Results root from BAKEOFF_RESULTS; Ctrl-C after the first unit; the printed command,
    run as printed without the variable, finishes the campaign; a failed requirement makes
    the finished run exit 9."""
    scenario = tmp_path / "my scenario.yaml"  # a space: the hint must quote it
    scenario.write_text(yaml.safe_dump({
        "name": "resumable", "repetitions": 3,
        "sites": [{"name": "one", "provider": "local", "cpus": 1, "hourly_usd": 0.01,
                   "network": "loopback"}],
        "workloads": [{"name": "sysbench-cpu", "params": {"time_s": 3}}],
        "requirements": [{"metric": "sysbench-cpu.events_per_second", "operator": ">",
                          "threshold": 1e12}],
        "criteria": [{"name": "cpu", "weight": 3}]}))
    root = tmp_path / "my results"
    env = {**os.environ, "BAKEOFF_RESULTS": str(root), "COLUMNS": "80"}
    proc = subprocess.Popen([str(BAKEOFF), "run", str(scenario), "--quiet"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(root, "*/units/one/sysbench-cpu/0.json", 120)
        first = next(root.glob("*/units/one/sysbench-cpu/0.json")).read_text()
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends; 2 units of 3 s are still to run
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, out + err
    # at 80 columns the command is one line of its own, pasted as printed (issue 23: it
    # broke after "bakeoff run ", so a paste ran the bare command)
    lines = err.splitlines()
    at = next((i for i, line in enumerate(lines) if line.rstrip().endswith("Resume with:")),
              None)
    assert at is not None and at + 1 < len(lines), err
    argv = shlex.split(lines[at + 1])
    assert argv[:2] == ["bakeoff", "run"] and "--results" in argv
    env.pop("BAKEOFF_RESULTS")
    done = subprocess.run([str(BAKEOFF), *argv[1:]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == REQUIREMENT_FAILED, done.stdout + done.stderr
    assert "requirements: 0 passed, 1 failed, 0 not measured" in done.stdout
    (folder,) = root.iterdir()
    assert (folder / "units" / "one" / "sysbench-cpu" / "0.json").read_text() == first  # kept
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert all(u["status"] == "ok" for u in manifest["units"].values())
    assert not (tmp_path / "results").exists()  # nothing went to the default root


def test_failing_before_measuring_leaves_no_folder(tmp_path):
    scenario = tmp_path / "far.yaml"
    scenario.write_text(yaml.safe_dump({
        "name": "unreachable", "repetitions": 1,
        "sites": [{"name": "far", "provider": "static", "client": "nobody@127.0.0.1:1",
                   "server": "nobody@127.0.0.1:1", "hourly_usd": 0.1}],
        "workloads": [{"name": "sysbench-cpu", "params": {"time_s": 1}}]}))
    root = tmp_path / "res"
    res = subprocess.run([str(BAKEOFF), "run", str(scenario), "--results", str(root)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode != 0 and "connection refused" in res.stderr
    assert "nothing was measured" in res.stderr
    assert not root.exists() or not any(root.iterdir())


def test_show_agrees_with_the_report_on_the_quickstart(quickstart_run):
    folder, _ = quickstart_run
    res = subprocess.run([str(BAKEOFF), "show", str(folder), "--format", "json"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    p99 = {(r["site"], r["series"]): r for r in rows
           if r["workload"] == "http-load" and r["metric"] == "latency_p99"}
    scores = json.loads((folder / "scores" / "scores.json").read_text())
    checkout = [r for r in scores["requirements"] if r["metric"] == "http-load.latency_p99"]
    assert checkout
    for r in checkout:
        shown = p99[(r["site"], "POST /api/v1/checkout")]
        assert shown["statistic"] == "HDR merge"
        assert shown["value"] == pytest.approx(r["value"], rel=1e-12)
    cells = [c for c in scores["cells"] if c["criterion"] == "http_p99"]
    assert cells
    for c in cells:
        assert p99[(c["site"], "all")]["value"] == pytest.approx(c["value"], rel=1e-12)
    endpoints = {series for (_, series) in p99}
    assert len(endpoints) >= 3  # every endpoint is a row of its own, plus "all"
    for columns in ("80", "200"):
        table = subprocess.run([str(BAKEOFF), "show", str(folder)], capture_output=True,
                               text=True, timeout=120, env={**os.environ, "COLUMNS": columns})
        assert table.returncode == 0, table.stderr
        assert "…" not in table.stdout  # long names fold onto the next line, never cut
    assert "POST /api/v1/checkout" in table.stdout  # one row per endpoint
