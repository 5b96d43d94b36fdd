"""Failures stay inside their unit, and a user never sees a traceback.

A workload whose parser raises a plain Python exception (as fio 2.x JSON once made the
fio parser raise KeyError) must fail only its own unit, with the raw output and the
traceback kept, while the rest of the campaign runs. The CLI turns any unexpected
exception into one line and a file; `--debug` / BAKEOFF_DEBUG=1 show it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.orchestrator import Orchestrator
from bench.results import load_results
from bench.scenarios import parse_campaign
from bench.workloads import REGISTRY
from bench.workloads.base import Plan, Step, WorkloadParams


class _Crashing:
    """A real command (`echo`) whose parser has a bug: it raises KeyError."""

    name = "crashes-in-parse"
    tool = "echo"

    class Params(WorkloadParams):
        pass

    def plan(self, params, env):
        return Plan((Step("client", ("echo", '{"jobs": [{"read": {}}]}')),), raw_suffix="json")

    def parse(self, output, params=None):
        return {"bw_bytes": 1}["bw"]  # KeyError, like the fio 2.x defect

    def tool_version_argv(self):
        return ("echo", "echo 1")


class _CrashingRun(_Crashing):
    """A workload whose run() itself has a bug (TypeError)."""

    name = "crashes-in-run"

    def run(self, params, env, ctx=None):
        return None + 1


@pytest.fixture
def crashing(monkeypatch):
    monkeypatch.setitem(REGISTRY, "crashes-in-parse", _Crashing())
    monkeypatch.setitem(REGISTRY, "crashes-in-run", _CrashingRun())


def _campaign(workloads: list[dict], repetitions: int = 1):
    return parse_campaign({
        "name": "iso", "repetitions": repetitions,
        "sites": [{"name": "a", "provider": "local", "cpus": 1, "hourly_usd": 0.01,
                   "network": "loopback"}],
        "workloads": workloads,
        "criteria": [{"name": "cpu", "weight": 4}, {"name": "tco", "weight": 3}]})


def test_any_exception_fails_only_its_unit(tmp_path, crashing):
    """Single repetition through the orchestrator; the two broken units fail, one runs."""
    campaign = _campaign([{"name": "crashes-in-parse"}, {"name": "crashes-in-run"},
                          {"name": "sysbench-cpu", "params": {"time_s": 1}}])
    folder = Orchestrator(campaign, tmp_path, quiet=True).run()
    r = load_results(folder)
    units = r.manifest["units"]
    assert r.manifest["status"] == "partial"
    parse_unit = units["a/crashes-in-parse/0"]
    assert parse_unit["status"] == "failed"
    assert "KeyError" in parse_unit["error"] and "parsing" in parse_unit["error"]
    # the raw output is kept, and the traceback sits beside it in the unit's raw folder
    assert '"jobs"' in (folder / parse_unit["raw"]).read_text()
    tb = (folder / parse_unit["traceback"]).read_text()
    assert "Traceback" in tb and "KeyError" in tb and "def parse" not in parse_unit["error"]
    assert Path(parse_unit["traceback"]).parent == Path("raw/a/crashes-in-parse")
    run_unit = units["a/crashes-in-run/0"]
    assert run_unit["status"] == "failed" and "TypeError" in run_unit["error"]
    assert "running" in run_unit["error"] and "Traceback" in (folder / run_unit["traceback"]
                                                              ).read_text()
    # the campaign went on: the real unit ran, was recorded and assembled (one repetition)
    assert units["a/sysbench-cpu/0"]["status"] == "ok"
    assert set(r.samples["workload"]) == {"sysbench-cpu"}
    assert set(r.samples["repetition"]) == {0}
    assert all("torn_down_at" in s for s in r.manifest["sites"].values())


def test_single_repetition_campaign_scores(tmp_path):
    """repetitions: 1 end to end: the campaign completes and the scoring stage accepts it."""
    from scoring.decide import score_campaign_dir
    from scoring.summary import decision, summary_lines

    campaign = parse_campaign({
        "name": "one", "repetitions": 1,
        "sites": [{"name": "a", "provider": "local", "cpus": 1, "hourly_usd": 0.01,
                   "network": "loopback"},
                  {"name": "b", "provider": "local", "cpus": 1, "hourly_usd": 0.02,
                   "network": "loopback"}],
        "workloads": [{"name": "sysbench-cpu", "params": {"time_s": 1}}],
        "criteria": [{"name": "cpu", "weight": 4}, {"name": "tco", "weight": 3}]})
    folder = Orchestrator(campaign, tmp_path, quiet=True).run()
    r = load_results(folder)
    assert r.manifest["status"] == "complete"
    assert len(r.samples.query("metric == 'events_per_second'")) == 2
    result = score_campaign_dir(folder)
    assert (folder / "scores").is_dir() and summary_lines(result)
    # one repetition says nothing about run-to-run noise: no interval, no win beyond it
    assert set(result.matrix.noise_unknown) == {"a", "b"}
    assert "beyond the run-to-run noise." not in summary_lines(result)[0]
    assert decision(result)["verdict"] != "beyond the noise"


def _main(monkeypatch, *args: str) -> None:
    from bakeoff.cli import main

    monkeypatch.setattr(sys, "argv", ["bakeoff", *args])
    main()


def test_cli_saves_the_traceback_and_prints_one_line(tmp_path, monkeypatch, capsys, crashing):
    raw = tmp_path / "out.json"
    raw.write_text("{}")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("BAKEOFF_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        _main(monkeypatch, "parse", "crashes-in-parse", str(raw))
    err = capsys.readouterr().err
    assert exit_info.value.code == 70
    assert "Traceback" not in err and "internal error" in err and "KeyError" in err
    crash_files = list((tmp_path / "state" / "bakeoff").glob("crash-*.txt"))
    assert len(crash_files) == 1 and str(crash_files[0]) in err.replace("\n", "")
    assert "Traceback" in crash_files[0].read_text()


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_shows_the_traceback(tmp_path, monkeypatch, crashing, how):
    raw = tmp_path / "out.json"
    raw.write_text("{}")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    args = ["parse", "crashes-in-parse", str(raw)]
    if how == "flag":
        monkeypatch.delenv("BAKEOFF_DEBUG", raising=False)
        args.insert(0, "--debug")
    else:
        monkeypatch.setenv("BAKEOFF_DEBUG", "1")
    with pytest.raises(KeyError):
        _main(monkeypatch, *args)
    assert not (tmp_path / "state" / "bakeoff").exists()
    from bakeoff import crash

    crash.set_debug(False)


def test_cli_crash_during_run_is_saved_beside_the_results(tmp_path, monkeypatch, capsys,
                                                          write_scenario):
    """A bug outside any unit (here: assembling the tables) during `bakeoff run`."""
    from bench.results import ResultStore

    def broken(self):
        raise RuntimeError("assembly bug")

    monkeypatch.setattr(ResultStore, "assemble", broken)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("BAKEOFF_DEBUG", raising=False)
    scenario = write_scenario("""
        name: crashy
        repetitions: 1
        sites: [{name: a, provider: local, cpus: 1, hourly_usd: 0, network: loopback}]
        workloads: [{name: sysbench-cpu, params: {time_s: 1}}]
    """)
    with pytest.raises(SystemExit) as exit_info:
        _main(monkeypatch, "run", str(scenario), "--results", str(tmp_path / "results"),
              "--quiet", "--no-score")
    err = capsys.readouterr().err
    assert exit_info.value.code == 70 and "Traceback" not in err and "assembly bug" in err
    (campaign_dir,) = (tmp_path / "results").iterdir()
    (crash_file,) = campaign_dir.glob("crash-*.txt")
    assert "RuntimeError: assembly bug" in crash_file.read_text()
    assert not (tmp_path / "state").exists()
