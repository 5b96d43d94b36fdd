"""The static provider against a real sshd on 127.0.0.1: facts, a real benchmark, teardown."""

from __future__ import annotations

import os
import platform
import re
import shutil
import socket

import pytest

from bench.runner import run_unit
from bench.scenarios import parse_campaign
from bench.workloads import REGISTRY
from bench.workloads.base import RunContext
from core.errors import PrerequisiteError
from stacks.executors.ssh import SshExecutor
from stacks.host_facts import cpu_model
from stacks.static import DATABASE_REASON, StaticProvisioner
from tests.conftest import skip_missing_tool
from tests.sshd_support import needs_sshd, running_sshd


def _campaign(client: str, server: str, key: str, **site_extra):
    site = {"name": "byo", "provider": "static", "client": client, "server": server,
            "ssh_key": key, "hourly_usd": 0.1, "zones": ["rack-1", "rack-2"], **site_extra}
    return parse_campaign({"name": "static-test", "sites": [site],
                           "workloads": [{"name": "sysbench-cpu", "params": {"time_s": 1}}]})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_capabilities_plan_and_leftovers():
    prov = StaticProvisioner()
    assert prov.name == "static"
    assert not prov.capabilities.managed_database and not prov.capabilities.spot
    assert prov.capabilities.unsupported["managed_database"] == DATABASE_REASON
    campaign = _campaign("me@10.1.2.3", "me@10.1.2.4:2222", "/nonexistent")
    plan = prov.plan(campaign.sites[0], campaign)  # offline: nothing is contacted
    assert [r.detail.split()[0] for r in plan[:2]] == ["me@10.1.2.3:22", "me@10.1.2.4:2222"]
    assert prov.leftovers("any-campaign") == []


def test_database_is_refused_with_the_reason(tmp_path):
    key = tmp_path / "key"
    key.touch()
    campaign = _campaign("me@127.0.0.1", "me@127.0.0.1", str(key), database={})
    with pytest.raises(PrerequisiteError, match=re.escape(DATABASE_REASON)) as err:
        StaticProvisioner().up(campaign.sites[0], campaign)
    assert "site 'byo'" in str(err.value)


def test_bad_address_and_missing_key_are_clear():
    bad = _campaign("me@host:notaport", "me@127.0.0.1", "/nonexistent")
    with pytest.raises(PrerequisiteError, match=r"site 'byo': client: .*port"):
        StaticProvisioner().check(bad.sites[0])
    missing = _campaign("me@127.0.0.1", "me@127.0.0.1", "/nonexistent/key")
    with pytest.raises(PrerequisiteError, match="ssh_key /nonexistent/key does not exist"):
        StaticProvisioner().check(missing.sites[0])


@needs_sshd
@pytest.mark.integration
def test_unreachable_host_is_a_clear_error(sshd):
    port = _free_port()
    campaign = _campaign(sshd.target, f"{sshd.user}@127.0.0.1:{port}", str(sshd.client_key))
    prov = StaticProvisioner(known_hosts=sshd.known_hosts)
    with pytest.raises(PrerequisiteError, match=f"server host: {sshd.user}@127.0.0.1:{port}: "
                       "connection refused"):
        prov.up(campaign.sites[0], campaign)
    assert prov._teardown == {}  # the half-made site was undone


@needs_sshd
@pytest.mark.integration
def test_up_run_down_over_ssh(sshd, tmp_path):
    campaign = _campaign(sshd.target, sshd.target, str(sshd.client_key))
    site = campaign.sites[0]
    prov = StaticProvisioner(known_hosts=sshd.known_hosts)
    env = prov.up(site, campaign, "static-test-1", 0)
    try:
        assert (env.provider, env.network, env.site) == ("static", "ssh", "byo")
        assert set(env.hosts) == {"client", "server", "loadgen"}
        assert [env.hosts[r].zone for r in ("client", "server", "loadgen")] == \
            ["rack-1", "rack-2", "rack-1"]
        for host in env.hosts.values():
            assert isinstance(host.executor, SshExecutor)
            assert host.address == "127.0.0.1"
            assert host.facts["vcpus"] in {os.cpu_count(), len(os.sched_getaffinity(0))}
            assert host.facts["kernel"] == platform.release()
            assert host.facts["cpu_model"] == cpu_model()
            assert os.path.isdir(host.facts["scratch_dir"])  # same machine, same /tmp
        assert len({h.facts["scratch_dir"] for h in env.hosts.values()}) == 3
        assert env.hosts["loadgen"].executor is env.client.executor
        python = env.server.facts["python"]  # what http-load / db-query would run remotely
        assert env.server.executor.run([python, "-c", "print(6 * 7)"], 30).stdout == "42\n"
        for host in env.hosts.values():  # this controller's code, shipped to every host
            root = host.facts["bakeoff_root"]
            assert root.startswith(host.facts["scratch_dir"])
            assert os.path.isfile(os.path.join(root, "bench", "poc", "launcher.py"))

        wl = REGISTRY["sysbench-cpu"]
        params = wl.Params(time_s=1)
        ctx = RunContext(raw_dir=tmp_path, deadline_s=60, campaign_id="static-test-1",
                         repetition=0)
        out = run_unit(wl, params, env, ctx)
        values = {s.metric: s.value for s in out.parsed.samples}
        assert values["events_per_second"] > 0 and 0.9 < values["total_time"] < 5
        assert "sysbench" in out.raw and "events per second" in out.raw
        threads = out.parsed.samples[0].metadata["threads"]
        assert threads == env.client.facts["vcpus"]  # the plan used the remote fact
    finally:
        scratch = [h.facts["scratch_dir"] for h in env.hosts.values()]
        prov.down(env)
    assert not any(os.path.exists(p) for p in scratch)
    assert "teardown_errors" not in env.notes
    prov.down(env)  # a second down is a no-op


@needs_sshd
@pytest.mark.integration
def test_background_server_plan_over_ssh(sshd, tmp_path):
    """iperf3: a background server, the runner's ready-port wait (`ss` over SSH), stop."""
    if shutil.which("iperf3") is None:
        skip_missing_tool("iperf3")
    campaign = _campaign(sshd.target, sshd.target, str(sshd.client_key))
    prov = StaticProvisioner(known_hosts=sshd.known_hosts)
    env = prov.up(campaign.sites[0], campaign)
    try:
        wl = REGISTRY["iperf3"]
        out = run_unit(wl, wl.Params(time_s=1, port=_free_port()), env,
                       RunContext(tmp_path, 60, "adhoc", 0))
        gbps = {s.metric: s.value for s in out.parsed.samples}["throughput"]
        assert gbps > 0
    finally:
        prov.down(env)


@needs_sshd
@pytest.mark.integration
def test_down_on_a_dead_host_records_instead_of_raising(tmp_path):
    psutil = pytest.importorskip("psutil")
    with running_sshd(tmp_path / "sshd") as server:
        campaign = _campaign(server.target, server.target, str(server.client_key))
        prov = StaticProvisioner(known_hosts=server.known_hosts)
        env = prov.up(campaign.sites[0], campaign)
        scratch = [h.facts["scratch_dir"] for h in env.hosts.values()]
        for child in psutil.Process(server.proc.pid).children(recursive=True):
            child.kill()  # the per-connection sshd processes this test's server forked
        server.proc.kill()
        server.proc.wait(timeout=10)
        prov.down(env)  # must not raise
    errors = env.notes["teardown_errors"]
    assert errors and all(server.target in e for e in errors)
    for path in scratch:
        assert os.path.isdir(path)  # really left behind (host was "dead"), so clean up here
        shutil.rmtree(path)


@needs_sshd
@pytest.mark.integration
def test_whole_campaign_over_ssh(sshd, tmp_path, monkeypatch):
    """`bakeoff run` path: the orchestrator picks this provider and stores real samples."""
    import json

    import pandas as pd

    from bench.orchestrator import Orchestrator

    monkeypatch.setenv("BAKEOFF_SSH_KNOWN_HOSTS", str(sshd.known_hosts))
    campaign = parse_campaign({
        "name": "byo", "repetitions": 1,
        "sites": [{"name": "mine", "provider": "static", "client": sshd.target,
                   "server": sshd.target, "ssh_key": str(sshd.client_key),
                   "hourly_usd": 0.05}],
        "workloads": [{"name": "sysbench-cpu", "params": {"time_s": 1}}],
        "criteria": [{"name": "cpu", "weight": 4}, {"name": "tco", "weight": 3}]})
    folder = Orchestrator(campaign, tmp_path / "results", quiet=True).run()
    samples = pd.read_parquet(folder / "samples.parquet")
    eps = samples[samples.metric == "events_per_second"]
    assert len(eps) == 1 and eps.iloc[0].value > 0 and bool(eps.iloc[0].valid)
    assert set(samples.provider) == {"static"}
    site = json.loads((folder / "manifest.json").read_text())["sites"]["mine"]
    assert site["network"] == "ssh" and site["torn_down_at"]


def test_facts_script_finds_the_bakeoff_install():
    """The facts probe finds the interpreter behind `bakeoff` on PATH (here: this venv)."""
    import sys
    from pathlib import Path

    from stacks.executors.local import LocalExecutor
    from stacks.static import _FACTS

    venv_bin = Path(sys.executable).parent
    if not (venv_bin / "bakeoff").exists():
        pytest.skip("bakeoff console script not installed in this venv")
    res = LocalExecutor().run(["sh", "-c", _FACTS], timeout=30,
                              env={"PATH": f"{venv_bin}:{os.environ['PATH']}"})
    facts = dict(line.split("=", 1) for line in res.stdout.splitlines())
    assert Path(facts["python"]).resolve() == Path(sys.executable).resolve()
    assert (Path(facts["bakeoff_root"]) / "bench" / "poc" / "launcher.py").is_file()
    assert int(facts["vcpus"]) == len(os.sched_getaffinity(0))
