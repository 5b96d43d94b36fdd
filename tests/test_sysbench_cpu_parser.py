"""sysbench-cpu parser against real captured output, and `bakeoff parse` for every workload."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bakeoff.cli import app
from bench.workloads import REGISTRY
from core.errors import ParseError
from tests.conftest import REPO

GOLDEN = REPO / "tests" / "golden"
CPU = REGISTRY["sysbench-cpu"]


def values(name: str) -> dict[str, float]:
    parsed = CPU.parse((GOLDEN / "sysbench-cpu" / name).read_text())
    return {s.metric: s.value for s in parsed.samples}


def test_one_thread():
    assert values("t1.txt") == {"events_per_second": 3196.08, "latency_avg": 0.31,
                                "latency_p95": 0.35, "total_time": 1.0003}


def test_two_threads_bigger_primes():
    parsed = CPU.parse((GOLDEN / "sysbench-cpu" / "t2_prime20000.txt").read_text())
    assert {s.metric: s.value for s in parsed.samples}["events_per_second"] == 1434.52
    assert {s.metadata["threads"] for s in parsed.samples} == {2}
    assert {s.metric: s.unit for s in parsed.samples} == {
        "events_per_second": "events/s", "latency_avg": "ms", "latency_p95": "ms",
        "total_time": "s"}


@pytest.mark.parametrize("name", ["fatal_threads0.txt", "bad_option.txt"])
def test_tool_errors_are_parse_errors(name):
    with pytest.raises(ParseError, match=r"^sysbench: cannot parse output"):
        CPU.parse((GOLDEN / "sysbench-cpu" / name).read_text())


def test_truncated_output_is_a_parse_error():
    text = (GOLDEN / "sysbench-cpu" / "t1.txt").read_text()
    with pytest.raises(ParseError, match="no latency 95th percentile found"):
        CPU.parse(text[: text.index("95th")])


def first_good_golden(workload: str):
    for path in sorted((GOLDEN / workload).glob("*")):
        try:
            REGISTRY[workload].parse(path.read_text(), REGISTRY[workload].Params())
        except ParseError:
            continue
        return path
    return None


@pytest.mark.parametrize("workload", sorted(REGISTRY))
def test_bakeoff_parse_every_workload(workload):
    path = first_good_golden(workload)
    assert path is not None, f"no golden output for {workload}"
    result = CliRunner().invoke(app, ["parse", workload, str(path)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert lines and all({"metric", "value", "unit"} <= set(line) for line in lines)
