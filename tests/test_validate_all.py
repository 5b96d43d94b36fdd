"""`bakeoff validate` finds every mistake before anything runs, all at once, each with the file,
the path inside it and what was expected; `init`, `--version`, `-h` and `plan` as a new user
meets them."""

from __future__ import annotations

import os
import re

import pytest
from typer.testing import CliRunner

from bakeoff.checks import CheckError, preflight
from bakeoff.cli import app
from core.errors import ScenarioError
from tests.conftest import REPO

runner = CliRunner()
ALLOWED = len(os.sched_getaffinity(0))

BASE = """
name: demo
sites:
  - {name: a, provider: local, cpus: 1, hourly_usd: 0.05}
  - {name: b, provider: local, cpus: 1, hourly_usd: 0.06}
workloads:
  - {name: sysbench-cpu, params: {time_s: 2}}
  - {name: ping, params: {count: 10}}
"""


def problems_of(path, weights=None) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        preflight(path, weights)
    assert str(weights or path) in str(info.value)
    return info.value.problems


def test_criterion_typo_is_caught_before_running(write_scenario):
    path = write_scenario(BASE + "criteria:\n  - {name: cpuu, weight: 3}\n")
    (problem,) = problems_of(path)
    assert problem.startswith("criteria[0].name: unknown criterion 'cpuu' (did you mean 'cpu'")
    assert "manual criterion with 'scores'" in problem


def test_manual_criterion_must_score_every_site(write_scenario):
    path = write_scenario(BASE + "criteria:\n  - {name: ux, weight: 3, scores: {a: 5}}\n")
    assert problems_of(path) == ["criteria[0].scores: a manual criterion needs a 1-10 score "
                                 "for every site; missing b"]


def test_requirement_metric_typo_gets_a_suggestion(write_scenario):
    path = write_scenario(BASE + "requirements:\n"
                                 "  - {metric: ping.rtt_avgg, operator: '<', threshold: 2}\n")
    (problem,) = problems_of(path)
    assert problem.startswith("requirements[0].metric: 'ping.rtt_avgg': no workload of this "
                              "scenario produces it (did you mean 'ping.rtt_avg'")


def test_requirement_on_a_workload_not_in_the_scenario(write_scenario):
    path = write_scenario(BASE + "requirements:\n"
                                 "  - {metric: fio.read_iops, operator: '>', threshold: 2}\n")
    (problem,) = problems_of(path)
    assert "workload 'fio' is not in this scenario's workloads (sysbench-cpu, ping)" in problem


def test_requirement_unit_must_be_the_metric_unit(write_scenario):
    path = write_scenario(BASE + "requirements:\n  - {metric: ping.rtt_avg, operator: '<', "
                                 "threshold: 2000, unit: us}\n")
    assert problems_of(path) == ["requirements[0].unit: 'us', but ping.rtt_avg is measured in "
                                 "'ms' (give that unit; no conversion is guessed)"]


def test_local_site_larger_than_the_allowed_cpus(write_scenario):
    path = write_scenario(BASE.replace("cpus: 1, hourly_usd: 0.06",
                                       f"cpus: {ALLOWED + 1}, hourly_usd: 0.06"))
    (problem,) = problems_of(path)
    assert problem.startswith(f"sites[1].cpus: {ALLOWED + 1} CPUs asked, but this process may "
                              f"use {ALLOWED}")
    assert f"expected at most {ALLOWED}" in problem


def test_unknown_workload_parameter_lists_the_valid_keys(write_scenario):
    path = write_scenario(BASE.replace("{time_s: 2}", "{time: 2}"))
    (problem,) = problems_of(path)
    assert problem == ("workloads[0].params.time: unknown key (check the spelling; unknown keys "
                       "are not ignored); valid keys of sysbench-cpu: threads, time_s, max_prime")


def test_every_problem_of_every_layer_at_once(write_scenario, tmp_path):
    """Model errors, workload params, criteria, requirements, CPUs and the weights file: one
    invocation reports them all."""
    text = BASE.replace("cpus: 1, hourly_usd: 0.05", f"cpus: {ALLOWED + 1}, hourly_usd: cheap")
    text = text.replace("{count: 10}", "{count: 10, colour: red}")
    text += ("colour: blue\n"
             "requirements:\n  - {metric: sysbench-cpu.event_per_second, operator: '>', "
             "threshold: 1}\n"
             "criteria:\n  - {name: cpu, weight: 9}\n  - {name: netwrk_latency, weight: 2}\n")
    path = write_scenario(text)
    weights = tmp_path / "w.yaml"
    weights.write_text("cpu: 7\nnetwrk_latency: 2\nnetwork: 3\n")
    res = runner.invoke(app, ["validate", str(path), "--weights", str(weights)])
    assert res.exit_code != 0
    err = res.exception
    assert isinstance(err, CheckError)
    got = err.files[str(path)]
    expected = [
        "sites[0].hourly_usd: Input should be a valid number",
        "colour: unknown key",
        "criteria[0].weight: Input should be less than or equal to 5",
        "workloads[1].params.colour: unknown key",
        "criteria[1].name: unknown criterion 'netwrk_latency' (did you mean 'network_latency'",
        "requirements[0].metric: 'sysbench-cpu.event_per_second'",
        "did you mean 'sysbench-cpu.events_per_second'",
        f"sites[0].cpus: {ALLOWED + 1} CPUs asked",
    ]
    text_all = "\n".join(got)
    for part in expected:
        assert part in text_all, (part, got)
    wproblems = err.files[str(weights)]
    assert "cpu: expected an integer weight 0-5 (0 drops the criterion), got 7" in wproblems
    assert any(p.startswith("network: not a criterion of this campaign") for p in wproblems)
    assert not any(p.startswith("netwrk_latency") for p in wproblems)  # the scenario's name
    assert f"{path}: {len(got)} problem(s)" in str(err)


def test_weights_file_every_problem(write_scenario, tmp_path):
    path = write_scenario(BASE + "criteria:\n  - {name: cpu, weight: 3}\n"
                                 "  - {name: tco, weight: 3}\n")
    weights = tmp_path / "w.yaml"
    weights.write_text("cpu: -1\ntco: true\nprice: 2\ncpu_: 2.5\n")
    problems = problems_of(path, weights)
    assert problems == [
        "cpu: expected an integer weight 0-5 (0 drops the criterion), got -1",
        "tco: expected an integer weight 0-5 (0 drops the criterion), got True",
        "price: not a criterion of this campaign; criteria are cpu, tco",
        "cpu_: expected an integer weight 0-5 (0 drops the criterion), got 2.5",
        "cpu_: not a criterion of this campaign (did you mean 'cpu'?); criteria are cpu, tco",
    ]


def test_shipped_scenarios_pass_preflight():
    for path in sorted((REPO / "scenarios").rglob("*.yaml")):
        data = path.read_text()
        cpus = [int(c) for c in re.findall(r"cpus: (\d+)", data)]
        if cpus and max(cpus) > ALLOWED:
            continue  # a bigger machine's scenario; the cpus check is what refuses it here
        preflight(path)


def test_validate_ok_lists_metrics(write_scenario):
    res = runner.invoke(app, ["validate", str(write_scenario(BASE)), "--metrics"])
    assert res.exit_code == 0, res.output
    assert "ok" in res.output and "ping.rtt_avg [ms]" in res.output


def test_init_writes_a_starter_that_validates(tmp_path):
    path = tmp_path / "mine.yaml"
    res = runner.invoke(app, ["init", str(path)])
    assert res.exit_code == 0, res.output
    text = path.read_text()
    assert text.count("\n#") + text.count("  # ") > 10  # commented for a new reader
    campaign = preflight(path)
    assert [s.name for s in campaign.sites] == ["small", "large"]
    again = runner.invoke(app, ["init", str(path)])
    assert again.exit_code != 0 and "already exists" in str(again.exception)


def test_version_help_flags_and_examples():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and re.match(r"bakeoff \d+\.\d+", res.output)
    top = runner.invoke(app, ["-h"], env={"COLUMNS": "200"})
    assert top.exit_code == 0 and "validate" in top.output
    commands = re.findall(r"│ (\w+)\s{2,}", top.output.split("Commands")[1])
    assert {"run", "validate", "init", "list", "show", "plan", "score"} <= set(commands)
    for name in commands:
        sub = runner.invoke(app, [name, "-h"], env={"COLUMNS": "200"})
        assert sub.exit_code == 0, (name, sub.output)
        if name in {"run", "validate", "init", "list", "show", "plan", "score", "report",
                    "parse", "gc", "tco"}:
            # the help reflow prints each example command on a line of its own
            assert re.search(r"Example:\s+[^\n]*bakeoff " + name, sub.output), name
        assert "<bool>" not in sub.output, name


def test_plan_validates_first_and_estimates_the_duration(write_scenario):
    res = runner.invoke(app, ["plan", str(write_scenario(BASE))], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    # 2 sites x 3 reps x (sysbench 2 + 1.5 s, ping 10 x 0.05 + 2 + 1.5 s) + 2 sites x 5 s = 55 s
    assert "estimated duration: about 0 min 55 s" in res.output
    bad = runner.invoke(app, ["plan", str(write_scenario(BASE + "criteria:\n"
                                                         "  - {name: cpuu, weight: 3}\n"))])
    assert bad.exit_code != 0 and "unknown criterion 'cpuu'" in str(bad.exception)


def test_parsers_keep_to_their_declared_metrics():
    """Every sample a golden file parses to is a declared metric, in its declared unit; so
    `validate`'s requirement check never refuses a metric the parser really produces."""
    from bench.workloads import REGISTRY
    from core.errors import ParseError

    parsed_any = set()
    for name, workload in REGISTRY.items():
        for path in sorted((REPO / "tests" / "golden" / name).glob("*")):
            try:
                out = workload.parse(path.read_text(errors="replace"), workload.Params())
            except ParseError:
                continue
            for sample in out.samples:
                assert workload.metrics.get(sample.metric) == sample.unit, (path, sample)
            parsed_any.add(name)
    assert parsed_any == set(REGISTRY)
