"""Each workload's plan() run for real on this machine (loopback) through the real
runner (bench.runner.run_unit: background steps, ready-port wait, captured step, stop,
parse), so a defect in the runner fails here too."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bench.runner import run_unit
from bench.samples import ParsedOutput
from bench.workloads import REGISTRY
from bench.workloads.base import RunContext
from core.environment import Environment, Host
from stacks.executors.local import LocalExecutor

pytestmark = pytest.mark.integration


def loopback_env(scratch: Path) -> Environment:
    facts = {"vcpus": 2, "scratch_dir": str(scratch)}
    hosts = {name: Host(name, f"zone-{name}", "127.0.0.1", LocalExecutor(), dict(facts))
             for name in ("client", "server")}
    return Environment(site="local", provider="local", region="local",
                       instance_type="cpus-2", hosts=hosts)


def run_plan(name: str, env: Environment, **params) -> tuple[str, ParsedOutput]:
    wl = REGISTRY[name]
    p = wl.Params(**params)
    ctx = RunContext(raw_dir=Path(env.client.facts["scratch_dir"]), deadline_s=300,
                     campaign_id="integration", repetition=0)
    out = run_unit(wl, p, env, ctx)
    return out.raw, out.parsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def env(tmp_path: Path) -> Environment:
    return loopback_env(tmp_path)


def metrics(out: ParsedOutput) -> dict[str, float]:
    return {s.metric: s.value for s in out.samples}


def test_sysbench_memory_runs(env):
    _, out = run_plan("sysbench-memory", env, threads=1, time_s=1, block_size="4K")
    got = metrics(out)
    assert got["throughput"] > 0 and got["operations_per_second"] > got["throughput"]


def test_stream_runs(env):
    _, out = run_plan("stream", env, stressors=1, time_s=6, l3_size="1m")
    got = metrics(out)
    assert got["read_bandwidth"] > got["write_bandwidth"] > 0  # 6 reads per 4 writes


@pytest.mark.parametrize("ioengine", ["psync", "libaio", "io_uring"])
def test_fio_runs(env, ioengine):
    _, out = run_plan("fio", env, rw="randrw", bs="4k", size="8M", iodepth=4, numjobs=2,
                      runtime_s=1, ioengine=ioengine)
    got = metrics(out)
    assert got["read_iops"] > 0 and got["write_iops"] > 0
    assert 0 < got["read_clat_p50"] <= got["read_clat_p99"]


def test_iperf3_runs(env):
    raw, out = run_plan("iperf3", env, port=free_port(), time_s=1, streams=2)
    got = metrics(out)
    assert raw.lstrip().startswith("{")
    assert got["throughput"] > 0.01  # Gbit/s over loopback
    assert got["retransmits"] >= 0


def test_ping_runs(env):
    _, out = run_plan("ping", env, count=5, interval_s=0.01)
    got = metrics(out)
    assert got["packet_loss"] == 0.0
    assert 0 < got["rtt_min"] <= got["rtt_avg"] <= got["rtt_max"]
    assert got["rtt_min"] <= got["rtt_p99"] <= got["rtt_max"]


@pytest.mark.parametrize("name", ["sysbench-memory", "stream", "fio", "iperf3", "ping"])
def test_tool_version_command_works(name):
    res = LocalExecutor().run(REGISTRY[name].tool_version_argv(), timeout=10)
    assert res.ok and (res.stdout + res.stderr).strip()
