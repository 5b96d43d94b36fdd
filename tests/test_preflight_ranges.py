"""Issue 19, Build 1: every wrong accept of the last audit is refused by `bakeoff validate`
(exit 2) with the file, the field and the expectation, before anything is provisioned.

Each case is a scenario the previous version validated and then failed on after measuring
(or ran with a wrong number); the expected field and wording come from the issue's list."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bakeoff.cli import app
from core.errors import BakeoffError

runner = CliRunner()


class _Run:
    """What `bakeoff validate` shows: exit code and text (as main() prints errors)."""

    def __init__(self, args: list[str]) -> None:
        res = runner.invoke(app, args, env={"COLUMNS": "200"})
        if isinstance(res.exception, BakeoffError):
            self.exit_code, self.output = res.exception.exit_code, str(res.exception)
        else:
            self.exit_code, self.output = res.exit_code, res.output

SITES = """
name: demo
sites:
  - {name: a, provider: local, cpus: 1, hourly_usd: 0.05}
  - {name: b, provider: local, cpus: 1, hourly_usd: 0.06}
"""


def _workload(name: str, params: str) -> str:
    return SITES + f"workloads:\n  - {{name: {name}, params: {params}}}\n"


CASES = [
    # (id, scenario text, field path in the message, words of the expectation)
    ("fio-size-0", _workload("fio", "{size: '0'}"), "workloads[0].params.size",
     "greater than 0"),
    ("fio-bs-0", _workload("fio", "{bs: '0'}"), "workloads[0].params.bs", "greater than 0"),
    ("fio-bs-over-size", _workload("fio", "{bs: 1M, size: 4k}"), "workloads[0].params",
     "no larger than the file"),
    ("fio-size-huge", _workload("fio", "{size: 99999999T}"), "workloads[0].params.size",
     "at most 64T"),
    ("sysbench-cpu-prime",
     _workload("sysbench-cpu", "{max_prime: 1000000000000000000000000000000}"),
     "workloads[0].params.max_prime", "less than or equal to 10000000"),
    ("sysbench-memory-total",
     _workload("sysbench-memory", "{total_size: '99999999999999999999'}"),
     "workloads[0].params.total_size", "at most 4096T"),
    ("sysbench-memory-block", _workload("sysbench-memory", "{block_size: '3'}"),
     "workloads[0].params.block_size", "power of two"),
    ("stream-l3-0", _workload("stream", "{l3_size: '0'}"), "workloads[0].params.l3_size",
     "expected 4k to 4g"),
    ("http-spawn-rate", _workload("http-load", "{spawn_rate: 1e308}"),
     "workloads[0].params.spawn_rate", "less than or equal to 100000"),
    ("repetitions-true", SITES + "repetitions: true\n", "repetitions",
     "true/false are not numbers"),
    ("workload-repetitions-true",
     SITES + "workloads:\n  - {name: ping, repetitions: true}\n",
     "workloads[0].repetitions", "true/false are not numbers"),
    ("fio-iodepth-true", _workload("fio", "{iodepth: true}"), "workloads[0].params.iodepth",
     "true/false are not numbers"),
    ("weight-true", SITES + "criteria:\n  - {name: cpu, weight: true}\n", "criteria[0].weight",
     "true/false are not numbers"),
    ("zones-repeated", SITES.replace("cpus: 1, hourly_usd: 0.06",
                                     "cpus: 1, hourly_usd: 0.06, zones: [z, z]"),
     "sites[1].zones", "distinct zones"),
    ("hourly-usd-huge", SITES.replace("hourly_usd: 0.06", "hourly_usd: 1e308"),
     "sites[1].hourly_usd", "less than or equal to 10000"),
    ("override-terms-huge", SITES.replace(
        "hourly_usd: 0.06}", "hourly_usd: 0.06, price_override: {reason: quote, "
        "terms: {on-demand: 1e308}}}"), "sites[1].price_override.terms", "from 0 to 10000"),
    ("criteria-duplicate", SITES + "criteria:\n  - {name: cpu, weight: 3}\n"
     "  - {name: cpu, weight: 2}\n", "criteria", "names must be unique; repeated: cpu"),
    ("criteria-equal-bounds", SITES + "criteria:\n  - {name: cpu, weight: 3, bounds: [5, 5]}\n",
     "criteria[0].bounds", "the two values must differ"),
    ("criteria-all-zero", SITES + "criteria:\n  - {name: cpu, weight: 0}\n"
     "  - {name: tco, weight: 0}\n", "criteria", "every criterion has weight 0"),
]


@pytest.mark.parametrize("text,field,expected", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_validate_refuses(write_scenario, text, field, expected):
    path = write_scenario(text)
    res = _Run(["validate", str(path)])
    assert res.exit_code == 2, res.output
    assert str(path) in res.output
    line = next((ln for ln in res.output.splitlines() if ln.strip().startswith(f"- {field}")),
                None)
    assert line is not None, res.output
    assert expected in line, res.output
    assert "Traceback" not in res.output


def test_the_physical_limits_still_accept_real_values(write_scenario):
    """The bounds are limits, not defaults: values at their edges validate."""
    path = write_scenario(SITES + """workloads:
  - {name: fio, params: {size: 64T, bs: 4k}}
  - {name: sysbench-cpu, params: {max_prime: 10000000}}
  - {name: sysbench-memory, params: {block_size: 1G, total_size: 4096T}}
  - {name: stream, params: {l3_size: 4k}}
criteria:
  - {name: cpu, weight: 0}
  - {name: tco, weight: 1}
""")
    res = _Run(["validate", str(path)])
    assert res.exit_code == 0, res.output


def test_all_zero_weights_are_fine_when_the_weights_file_sets_one(write_scenario, tmp_path):
    path = write_scenario(SITES + "criteria:\n  - {name: cpu, weight: 0}\n")
    weights = tmp_path / "w.yaml"
    weights.write_text("cpu: 2\n")
    assert _Run(["validate", str(path), "--weights", str(weights)]).exit_code == 0
    weights.write_text("cpu: 0\n")
    res = _Run(["validate", str(path), "--weights", str(weights)])
    assert res.exit_code == 2 and "every criterion has weight 0" in res.output


def test_sql_file_outside_the_scenario_directory_is_refused(write_scenario, tmp_path,
                                                            monkeypatch):
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    outside.mkdir()
    secret = outside / "secret.sql"
    secret.write_text("SELECT 'the content of a file outside the scenario';\n")
    scen_dir = tmp_path / "scen"
    scen_dir.mkdir()
    path = scen_dir / "s.yaml"
    path.write_text(_workload("db-query", f"{{sql_file: {secret}}}"))
    res = _Run(["validate", str(path)])
    assert res.exit_code == 2, res.output
    assert f"workloads[0].params.sql_file: '{secret}' resolves to" in res.output
    assert "outside the scenario's directory" in res.output
    # a symlink inside the directory pointing outside is the same file: refused
    (scen_dir / "link.sql").symlink_to(secret)
    path.write_text(_workload("db-query", f"{{sql_file: {scen_dir / 'link.sql'}}}"))
    assert _Run(["validate", str(path)]).exit_code == 2
    # an allowed root makes it acceptable
    monkeypatch.setenv("BAKEOFF_FILE_ROOTS", str(outside))
    assert _Run(["validate", str(path)]).exit_code == 0
    # /etc/shadow (the case) is outside any of them
    monkeypatch.delenv("BAKEOFF_FILE_ROOTS")
    path.write_text(_workload("http-load", "{locustfile: /etc/passwd}"))
    res = _Run(["validate", str(path)])
    assert res.exit_code == 2 and "params.locustfile: '/etc/passwd'" in res.output
