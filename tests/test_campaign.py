"""Scenario validation: each mistake names the file, the path inside it and the expectation."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bakeoff.cli import app
from bench.scenarios import load_campaign_file
from core.errors import ScenarioError

VALID = """
name: demo
sites:
  - {name: a, provider: local, cpus: 1, hourly_usd: 0.05}
  - {name: b, provider: aws, region: us-east-1, zones: [us-east-1a, us-east-1b],
     instance_type: c6i.xlarge}
workloads:
  - {name: sysbench-cpu, params: {time_s: 2}}
"""


def problems(write_scenario, text: str) -> list[str]:
    path = write_scenario(text)
    with pytest.raises(ScenarioError) as info:
        load_campaign_file(path)
    assert str(path) in str(info.value)
    return info.value.problems


def test_valid_scenario_loads(write_scenario):
    campaign = load_campaign_file(write_scenario(VALID))
    assert [s.name for s in campaign.sites] == ["a", "b"]
    assert campaign.repetitions == 3
    assert campaign.usage.hours_per_month == 730


def test_shipped_scenarios_validate():
    from tests.conftest import REPO

    for path in sorted((REPO / "scenarios").rglob("*.yaml")):
        load_campaign_file(path)


@pytest.mark.parametrize(("text", "expected"), [
    # 1. unknown top-level key
    (VALID + "colour: blue\n", "colour: unknown key"),
    # 2. unknown key inside a site
    (VALID.replace("cpus: 1,", "cpus: 1, cpu: 2,"), "sites[0].cpu: unknown key"),
    # 3. wrong type
    (VALID.replace("cpus: 1", "cpus: many"), "sites[0].cpus: Input should be a valid integer"),
    # 4. out of range
    (VALID.replace("cpus: 1", "cpus: 0"), "sites[0].cpus: Input should be greater than 0"),
    # 5. unknown provider
    (VALID.replace("provider: aws", "provider: oracle"),
     "sites[1].provider: expected one of local, static, aws, azure, gcp; got 'oracle'"),
    # 6. missing required field
    (VALID.replace("cpus: 1, ", ""), "sites[0].cpus: required field is missing"),
    # 7. cloud site with neither instance_type nor size
    (VALID.replace("instance_type: c6i.xlarge", "disk_gb: 10"),
     "sites[1]: give exactly one of 'instance_type' or 'size'"),
    # 8. unknown workload
    (VALID.replace("sysbench-cpu", "sysbench-gpu"),
     "workloads[0].name: unknown workload 'sysbench-gpu'"),
    # 9. bad workload param
    (VALID.replace("time_s: 2", "time_s: -1"),
     "workloads[0].params.time_s: Input should be greater than 0"),
    # 10. unknown workload param
    (VALID.replace("time_s: 2", "time: 2"), "workloads[0].params.time: unknown key"),
    # 11. weight outside 1-5
    (VALID + "criteria:\n  - {name: cpu, weight: 7}\n",
     "criteria[0].weight: Input should be less than or equal to 5"),
    # 12. manual score outside 1-10
    (VALID + "criteria:\n  - {name: ux, weight: 2, scores: {a: 11, b: 3}}\n",
     "criteria[0].scores: score for 'a' must be between 1 and 10"),
    # 13. duplicate site names
    (VALID.replace("name: b,", "name: a,"), "site names must be unique; repeated: a"),
    # 14. bad requirement operator
    (VALID + "requirements:\n  - {metric: ping.rtt_avg, operator: '=<', threshold: 2}\n",
     "requirements[0].operator: Input should be '<', '<=', '>', '>=' or '=='"),
    # 15. bad term in usage
    (VALID + "usage: {term: 5y}\n", "usage.term: Input should be 'on-demand', '1y', '3y'"),
    # 16. bad site name
    (VALID.replace("name: a,", "name: A B,"), "sites[0].name: expected lowercase letters a-z"),
    # 17. manual scores for a site that doesn't exist
    (VALID + "criteria:\n  - {name: ux, weight: 2, scores: {a: 5, zz: 3}}\n",
     "criterion 'ux' scores unknown site(s) zz"),
])
def test_mistakes_are_named(write_scenario, text, expected):
    found = problems(write_scenario, text)
    assert any(expected in p for p in found), found


def test_not_yaml_names_line(write_scenario):
    found = problems(write_scenario, "name: x\nsites: [\n")
    assert "not valid YAML at line" in found[0]


def test_top_level_not_mapping(write_scenario):
    assert "expected a mapping" in problems(write_scenario, "- just\n- a list\n")[0]


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        load_campaign_file(tmp_path / "nope.yaml")


def test_all_problems_reported_at_once(write_scenario):
    text = VALID.replace("cpus: 1", "cpus: 0") + "colour: blue\n"
    assert len(problems(write_scenario, text)) == 2


def test_validate_cli_exit_code_and_no_traceback(write_scenario):
    from bakeoff import cli

    path = write_scenario(VALID.replace("cpus: 1", "cpus: 0"))
    runner = CliRunner()
    ok = runner.invoke(app, ["validate", str(write_scenario(VALID, "good.yaml"))])
    assert ok.exit_code == 0 and "ok" in ok.output
    # main() is the console script: it turns BakeoffError into a message and exit code 2
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "from bakeoff.cli import main; main()",
                           "validate", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "sites[0].cpus" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert cli  # imported for the console script path
