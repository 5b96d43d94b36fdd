"""plan() turns params + an Environment into the argv the runner executes."""

from __future__ import annotations

import pydantic
import pytest

from bench.workloads import REGISTRY
from core.environment import Environment, Host
from core.errors import PrerequisiteError
from stacks.executors.local import LocalExecutor

MINE = ("sysbench-memory", "stream", "fio", "iperf3", "ping")


def make_env(vcpus: int = 3, scratch: str | None = "/scratch/client") -> Environment:
    facts = {"vcpus": vcpus, "cpu_model": "test", "kernel": "6.1"}
    if scratch:
        facts["scratch_dir"] = scratch
    client = Host("client", "zone-a", "198.18.0.1", LocalExecutor(), facts)
    server = Host("server", "zone-b", "198.18.0.2", LocalExecutor(), dict(facts))
    return Environment(site="s", provider="local", region="local", instance_type="cpus-3",
                       hosts={"client": client, "server": server}, network="netns-veth")


def plan_for(name: str, env: Environment | None = None, **params):
    wl = REGISTRY[name]
    return wl.plan(wl.Params(**params), env or make_env())


@pytest.mark.parametrize("name", MINE)
def test_registered_with_default_params_and_one_captured_step(name):
    wl = REGISTRY[name]
    assert wl.name == name
    # iperf3's default port is probed free on the server host, which is fictional here
    plan = wl.plan(wl.Params(port=5300) if name == "iperf3" else wl.Params(), make_env())
    assert plan.captured.host == "client"
    assert plan.captured.argv[0] == wl.tool_version_argv()[0]
    assert plan.captured.timeout_s > 0


@pytest.mark.parametrize("name", MINE)
def test_unknown_param_is_rejected(name):
    with pytest.raises(pydantic.ValidationError, match="no_such_knob"):
        REGISTRY[name].Params(no_such_knob=1)


def test_sysbench_memory_threads_default_to_vcpus():
    argv = plan_for("sysbench-memory").captured.argv
    assert argv[:2] == ("sysbench", "memory") and argv[-1] == "run"
    assert "--threads=3" in argv and "--memory-total-size=0" in argv
    argv = plan_for("sysbench-memory", threads=1, block_size="4K", operation="read",
                    time_s=2).captured.argv
    assert {"--threads=1", "--memory-block-size=4K", "--memory-oper=read",
            "--time=2"} <= set(argv)


def test_sysbench_memory_rejects_bad_sizes():
    with pytest.raises(pydantic.ValidationError, match="block_size"):
        REGISTRY["sysbench-memory"].Params(block_size="lots")
    with pytest.raises(pydantic.ValidationError, match="operation"):
        REGISTRY["sysbench-memory"].Params(operation="copy")


def test_stream_argv():
    argv = plan_for("stream").captured.argv
    # time_s 10 of loop + 4 s (stream.SETUP_ALLOWANCE_S) for filling the arrays first
    assert argv == ("stress-ng", "--stream", "3", "--metrics", "--timeout", "14s", "--stdout")
    argv = plan_for("stream", stressors=1, time_s=6, l3_size="4m").captured.argv
    assert argv[2] == "1" and argv[-2:] == ("--stream-l3-size", "4m")


def test_stream_refuses_runs_too_short_for_a_rate():
    with pytest.raises(pydantic.ValidationError, match="time_s"):
        REGISTRY["stream"].Params(time_s=2)
    with pytest.raises(pydantic.ValidationError, match="too short"):
        REGISTRY["stream"].Params(time_s=5)  # stress-ng 0.15 printed "too short" at 5 s
    assert REGISTRY["stream"].Params(time_s=6).time_s == 6


def test_fio_argv_uses_scratch_dir_and_group_reporting():
    plan = plan_for("fio")
    argv = plan.captured.argv
    assert plan.raw_suffix == "json"
    assert {"--directory=/scratch/client", "--rw=randread", "--ioengine=libaio", "--direct=1",
            "--group_reporting", "--output-format=json", "--time_based"} <= set(argv)
    assert not any(a.startswith("--rwmixread") for a in argv)


def test_fio_mixed_and_explicit_directory():
    plan = plan_for("fio", rw="randrw", rwmixread=70, numjobs=4, iodepth=32,
                    ioengine="io_uring", direct=False, directory="data/disk1", size="64M")
    assert {"--rwmixread=70", "--numjobs=4", "--iodepth=32", "--ioengine=io_uring",
            "--direct=0", "--directory=/scratch/client/data/disk1",
            "--unlink=1"} <= set(plan.captured.argv)
    (need,) = plan.disk  # the runner checks free space there before fio lays out files
    assert need.directory == "/scratch/client/data/disk1" and need.bytes == 4 * 64 * 2**20


@pytest.mark.parametrize("directory", ["/data", "../../etc", "a/../../b", "", "sub:/etc"])
def test_fio_directory_is_confined_to_the_scratch_area(directory):
    with pytest.raises(pydantic.ValidationError, match="scratch area"):
        REGISTRY["fio"].Params(directory=directory)


def test_fio_without_directory_is_a_clear_error():
    with pytest.raises(PrerequisiteError, match="scratch_dir"):
        plan_for("fio", env=make_env(scratch=None))


def test_iperf3_server_in_background_on_server_host():
    plan = plan_for("iperf3", port=5300, time_s=3, streams=4, reverse=True)
    server, client = plan.steps
    assert server.host == "server" and server.background and server.ready_port == 5300
    assert server.argv == ("iperf3", "-s", "-1", "-p", "5300", "-B", "198.18.0.2")
    assert client.host == "client" and not client.background
    assert client.argv[:7] == ("iperf3", "-c", "198.18.0.2", "-p", "5300", "-J", "-t")
    assert {"-R", "4", "3"} <= set(client.argv)
    assert server.timeout_s > client.timeout_s


def test_ping_targets_server_address():
    argv = plan_for("ping", count=20, interval_s=0.01).captured.argv
    assert argv[0] == "ping" and argv[-1] == "198.18.0.2"
    assert argv[argv.index("-c") + 1] == "20" and argv[argv.index("-i") + 1] == "0.01"
    assert "-q" not in argv  # per-reply lines feed rtt_p99


def test_ping_timeout_covers_the_whole_run():
    plan = plan_for("ping", count=1000, interval_s=0.2)
    assert plan.captured.timeout_s > 1000 * 0.2


def test_ping_declares_exit_code_1_as_a_measurement():
    # iputils ping exits 1 when nothing came back (golden loss100.txt was captured so)
    assert REGISTRY["ping"].ok_exit_codes == {0, 1}


def test_iperf3_default_port_is_probed_free_not_fixed():
    """Two campaigns on one address must not both ask for 5201 (issue: "server is busy")."""
    import dataclasses

    env = make_env()
    env.hosts = {n: dataclasses.replace(h, address="127.0.0.1") for n, h in env.hosts.items()}
    ports = set()
    for _ in range(2):
        server = plan_for("iperf3", env).steps[0]
        ports.add(server.ready_port)
        assert server.argv[4] == str(server.ready_port)
    assert None not in ports and 5201 not in ports
