"""Each workload's plan() run for real on this machine (loopback), then parsed.

A tiny step runner stands in for the lead's: background steps first, wait for the
ready port, run the captured step, stop the background steps.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from bench.samples import ParsedOutput
from bench.workloads import REGISTRY
from core.environment import Environment, Host
from stacks.executors.local import LocalExecutor

pytestmark = pytest.mark.integration


def loopback_env(scratch: Path) -> Environment:
    facts = {"vcpus": 2, "scratch_dir": str(scratch)}
    hosts = {name: Host(name, f"zone-{name}", "127.0.0.1", LocalExecutor(), dict(facts))
             for name in ("client", "server")}
    return Environment(site="local", provider="local", region="local",
                       instance_type="cpus-2", hosts=hosts)


def wait_listening(executor: LocalExecutor, port: int, deadline_s: float = 10.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        res = executor.run(["ss", "-Hltn"], timeout=5)
        if any(f":{port} " in line for line in res.stdout.splitlines()):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listened on port {port} within {deadline_s}s")


def run_plan(name: str, env: Environment, **params) -> tuple[str, ParsedOutput]:
    wl = REGISTRY[name]
    p = wl.Params(**params)
    plan = wl.plan(p, env)
    started = []
    try:
        for step in plan.steps:
            if step.background:
                executor = env.hosts[step.host].executor
                started.append(executor.start(step.argv, env=step.env))
                if step.ready_port:
                    wait_listening(executor, step.ready_port)
        step = plan.captured
        res = env.hosts[step.host].executor.run(step.argv, timeout=step.timeout_s, env=step.env)
    finally:
        for proc in started:
            proc.stop()
    assert not res.timed_out, res
    return res.stdout, wl.parse(res.stdout, p)


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
    _, out = run_plan("stream", env, stressors=1, time_s=5, l3_size="1m")
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
