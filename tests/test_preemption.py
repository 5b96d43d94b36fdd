"""Spot sites: a reclaimed host fails its unit as "preempted", excluded from scoring and
counted per site in the report.

The hosts' executors here are stand-ins for VMs that answer, hang or are gone; nothing is
sent anywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd
import pytest
from decide_fixture import make_campaign
from rich.console import Console

from bench.preemption import (
    PREEMPTED,
    preempted_hosts,
    preempted_message,
    preemptions_by_site,
    site_preempted,
)
from bench.runner import RunContext, UnitFailed, run_unit
from bench.show import _render_problems
from bench.workloads import REGISTRY
from core.environment import Environment, Host
from core.executor import CommandResult
from scoring.decide import score_campaign_dir
from stacks.executors.local import LocalExecutor


@dataclass
class Answering:
    """A host's executor that answers, hangs, or is gone (a reclaimed spot VM)."""

    stdout: str = ""
    rc: int = 0
    gone: bool = False
    timed_out: bool = False
    asked: list[tuple[str, ...]] = field(default_factory=list)

    def run(self, argv, timeout, env=None):
        self.asked.append(tuple(argv))
        if self.gone:
            raise ConnectionRefusedError("connect to 203.0.113.9 port 22: refused")
        return CommandResult(tuple(argv), self.rc, self.stdout, "", 0.1, self.timed_out)


def env(provider: str, spot: bool, **answers: Answering) -> Environment:
    hosts = {name: Host(name, "z", "10.42.0.10", ex) for name, ex in answers.items()}
    return Environment(site="s", provider=provider, region="r", instance_type="t",
                       hosts=hosts, notes={"spot": spot})


def test_unreachable_or_hung_spot_host_counts_as_preempted():
    e = env("gcp", True, server=Answering(), client=Answering(gone=True),
            **{"loadgen-0": Answering(timed_out=True)})
    assert preempted_hosts(e) == ["client", "loadgen-0"]
    assert e.hosts["server"].executor.asked == [("true",)]


def test_an_alias_of_a_host_is_one_machine():
    """Without load-generator VMs the client doubles as `loadgen`: one VM, asked once,
    named once."""
    client = Answering(gone=True)
    e = env("aws", True, server=Answering(), client=client, loadgen=client)
    assert preempted_hosts(e) == ["client"]
    assert client.asked == [("true",)]  # asked once, not once per name
    e.hosts["loadgen"] = Host("loadgen", "z", "10.42.0.11", Answering(gone=True))
    assert preempted_hosts(e) == ["client", "loadgen"]  # a VM of its own is its own loss


def test_on_demand_sites_are_never_probed():
    server = Answering(gone=True)
    e = env("gcp", False, server=server, client=Answering("TRUE"))
    assert preempted_hosts(e) == [] and server.asked == []


def test_provisioner_probe_wins():
    e = env("gcp", True, server=Answering(gone=True), client=Answering())
    e.notes["preemption_probe"] = lambda: {"client"}
    assert preempted_hosts(e) == ["client"]


class Reclaimable(LocalExecutor):
    """This machine, until the provider takes it back: then every call fails."""

    reclaimed = False

    def run(self, argv, timeout, env=None):
        if self.reclaimed:
            raise ConnectionResetError("ssh: connection reset by peer")
        return super().run(argv, timeout, env)

    def start(self, argv, env=None):
        if self.reclaimed:
            raise ConnectionResetError("ssh: connection reset by peer")
        return super().start(argv, env)


@pytest.mark.parametrize("spot", [True, False])
def test_runner_marks_the_unit_and_fails_the_rest_at_once(tmp_path, spot):
    """A real sysbench unit; then the client is reclaimed: on a spot site the failure is a
    preemption and the next unit fails without touching a host; on-demand it is a failure."""
    hosts = {n: Host(n, "z", "127.0.0.1", Reclaimable(), {"vcpus": 1})
             for n in ("client", "server")}
    e = Environment("s", "gcp", "r", "t", hosts, notes={"spot": spot})
    wl = REGISTRY["sysbench-cpu"]
    ctx = RunContext(raw_dir=tmp_path, deadline_s=60, campaign_id="spot-1", repetition=0)
    assert run_unit(wl, wl.Params(time_s=1), e, ctx).parsed.samples
    hosts["client"].executor.reclaimed = True
    with pytest.raises(UnitFailed) as first:
        run_unit(wl, wl.Params(time_s=1), e, ctx)
    if not spot:
        assert first.value.reason is None and "preempted" not in str(first.value)
        return
    assert first.value.reason == PREEMPTED
    assert str(first.value).startswith(preempted_message(["client"]))
    assert "connection reset" in str(first.value)
    hosts["server"].executor.reclaimed = True  # nothing may be asked of any host now
    with pytest.raises(UnitFailed) as later:
        run_unit(wl, wl.Params(time_s=1), e, ctx)
    assert later.value.reason == PREEMPTED and "earlier unit" in str(later.value)


def test_preempted_units_excluded_and_counted_in_report(tmp_path):
    d = make_campaign(tmp_path, ["small", "large"])
    manifest = json.loads((d / "manifest.json").read_text())
    gone = ["small/fio/1", "small/iperf3/2"]
    manifest["units"][gone[0]] = {"status": "failed", "reason": "preempted",
                                  "preempted_hosts": ["client"],
                                  "error": "preempted: the provider reclaimed spot host(s) "
                                           "client (ssh: connection lost)"}
    manifest["units"][gone[1]] = {"status": "failed", "reason": "preempted",
                                  "error": preempted_message(["client"], "earlier unit")}
    (d / "manifest.json").write_text(json.dumps(manifest))
    samples = pd.read_parquet(d / "samples.parquet")
    lost = ((samples["site"] == "small") & (
        ((samples["workload"] == "fio") & (samples["repetition"] == 1))
        | ((samples["workload"] == "iperf3") & (samples["repetition"] == 2))))
    samples[~lost].to_parquet(d / "samples.parquet", index=False)

    assert preemptions_by_site(manifest) == {"small": 2}
    assert site_preempted(manifest, "small") and not site_preempted(manifest, "large")
    result = score_campaign_dir(d)
    statuses = {(e["site"], e["workload"], e["repetition"]): e["status"]
                for e in result.excluded}
    assert statuses[("small", "fio", 1)] == statuses[("small", "iperf3", 2)] == "preempted"
    assert statuses[("large", "ping", 3)] == "failed"
    md = (d / "report" / "report.md").read_text()
    assert "Spot interruptions" in md and "small: 2 unit(s) lost to preemption" in md
    assert "large: " not in md.split("Spot interruptions", 1)[1].split("\n", 1)[0]
    html = (d / "report" / "index.html").read_text()
    assert 'id="preemptions"' in html

    console = Console(record=True, width=200)
    _render_problems(manifest, console)
    assert "PREEMPTED small: 2 unit(s)" in console.export_text()
