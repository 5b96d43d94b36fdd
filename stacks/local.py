"""The built-in provider: sites are CPU envelopes on this machine.

Each site gets two hosts in two "zones": by default two network namespaces joined by a
veth pair (when root and iproute2 allow it), else both on loopback. The manifest records
which. A third host, `loadgen`, shares the client's namespace but is not pinned, because
a load generator is not part of the system under test. Everything started here is
stopped in `down`, which the orchestrator calls in a `finally`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.environment import Environment, Host
from core.errors import PrerequisiteError
from core.scenario import Campaign, LocalSite
from stacks import netns
from stacks.contract import Capabilities, PlannedResource
from stacks.executors.local import LocalExecutor
from stacks.host_facts import cpu_model, machine_facts
from stacks.local_function import LocalFunctionSite
from stacks.local_k8s import LocalClusterSite
from stacks.local_postgres import LocalPostgres


@dataclass
class _Teardown:
    """What `down` must undo for one environment, in reverse order."""

    pair: netns.VethPair | None = None
    scratch: list[Path] = field(default_factory=list)
    postgres: Any = None
    function: Any = None
    cluster: Any = None


def _cpu_list(cpus: list[int]) -> str:
    return ",".join(str(c) for c in cpus)


class LocalProvisioner:
    name = "local"
    capabilities = Capabilities(
        zones=True, managed_database=True, spot=False,
        unsupported={"spot": "a local site has no spot market",
                     "commitments": "a local site is priced by its stated hourly_usd"})

    def __init__(self) -> None:
        self._teardown: dict[str, _Teardown] = {}

    @staticmethod
    def check(site: LocalSite) -> None:
        """A site may not ask for more CPUs than this process is allowed to run on."""
        allowed = sorted(os.sched_getaffinity(0))
        if site.cpus > len(allowed):
            raise PrerequisiteError(
                f"site '{site.name}' asks for cpus: {site.cpus}, more than the {len(allowed)} "
                f"CPU(s) this process may use here (allowed CPU set: {_cpu_list(allowed)}, from "
                "taskset or the cgroup cpuset); lower `cpus` in the scenario")

    @staticmethod
    def envelope(site: LocalSite) -> frozenset[int]:
        """The first `cpus` CPUs of the allowed set (not 0..N-1: CPU 0 may be off-limits)."""
        LocalProvisioner.check(site)
        return frozenset(sorted(os.sched_getaffinity(0))[:site.cpus])

    def plan(self, site: LocalSite, campaign: Campaign) -> list[PlannedResource]:
        mode = self._network_mode(site)[0]
        allowed = sorted(os.sched_getaffinity(0))
        cpus = (f"CPUs {_cpu_list(allowed[:site.cpus])}" if site.cpus <= len(allowed) else
                f"needs {site.cpus} CPUs, only {len(allowed)} allowed here")
        res = [PlannedResource("cpu-envelope", site.name, cpus),
               PlannedResource("network", site.name, mode)]
        if site.database:
            res.append(PlannedResource("postgresql", site.name, "temporary local server"))
        if site.serverless:
            res.append(PlannedResource("function-site", site.name, "checkout + hello on demand,"
                                       f" idle {site.serverless.idle_s:g} s"))
        if site.kubernetes:
            res.append(PlannedResource("simulated-cluster", site.name,
                                       f"fake API server, script {site.kubernetes.script}"))
        return res

    @staticmethod
    def _network_mode(site: LocalSite) -> tuple[str, str]:
        if site.network == "loopback":
            return "loopback", "requested by the scenario"
        if site.kubernetes is not None:  # its Service answers on this machine's 127.0.0.1
            if site.network == "netns":
                raise PrerequisiteError(f"site '{site.name}': a simulated cluster serves on "
                                        "127.0.0.1; use network: loopback (or auto)")
            return "loopback", "the simulated cluster's Service answers on 127.0.0.1"
        ok, why = netns.netns_available()
        if ok:
            return "netns-veth", ""
        if site.network == "netns":
            raise PrerequisiteError(f"site '{site.name}' asks for network: netns, but {why}")
        return "loopback", why

    def up(self, site: LocalSite, campaign: Campaign, campaign_id: str = "adhoc",
           index: int = 0) -> Environment:
        cpus = self.envelope(site)
        mode, why = self._network_mode(site)
        td = _Teardown()
        self._teardown[site.name] = td
        try:
            if mode == "netns-veth":
                tag = f"{campaign_id}-{index}"  # names carry the campaign id (bakeoff gc)
                td.pair = netns.create_pair(tag, index)
                prefixes = (td.pair.exec_a, td.pair.exec_b)
                addresses = (td.pair.addr_a, td.pair.addr_b)
            else:
                prefixes, addresses = ((), ()), ("127.0.0.1", "127.0.0.1")

            def host(role: str, zone: str, prefix: tuple[str, ...], addr: str,
                     pin: frozenset[int] | None) -> Host:
                scratch = Path(tempfile.mkdtemp(prefix=f"bakeoff-{site.name}-{role}-"))
                td.scratch.append(scratch)
                facts = {"vcpus": len(pin) if pin else len(os.sched_getaffinity(0)),
                         "cpu_model": cpu_model(), "kernel": machine_facts()["kernel"],
                         "scratch_dir": str(scratch)}
                return Host(role, zone, addr, LocalExecutor(prefix=prefix, cpus=pin), facts)

            hosts = {
                "client": host("client", site.zones[0], prefixes[0], addresses[0], cpus),
                "server": host("server", site.zones[1], prefixes[1], addresses[1], cpus),
                "loadgen": host("loadgen", site.zones[0], prefixes[0], addresses[0], None),
            }
            env = Environment(
                site=site.name, provider="local", region=site.region,
                instance_type=f"local-{site.cpus}cpu", hosts=hosts, network=mode,
                notes={"network_fallback_reason": why, "cpus": sorted(cpus),
                       "namespaces": [td.pair.ns_a, td.pair.ns_b] if td.pair else [],
                       "price": {"hourly_usd": site.hourly_usd, "label": "stated"}})
            if site.database:
                env.database = self._start_postgres(td, hosts["server"])
                # its processes are the campaign's, not "other work" (bench.hostload)
                env.notes["own_process_markers"] = [str(td.postgres.root)]
            if site.serverless is not None:
                td.function = LocalFunctionSite(
                    hosts["server"], env.database, site.serverless.idle_s,
                    site.serverless.max_instances, site.serverless.pool_size,
                    site.serverless.runtime)
                env.notes["function"] = td.function.start()
            if site.kubernetes is not None:
                td.cluster = LocalClusterSite(site.name, site.kubernetes, campaign_id)
                env.notes["kubernetes"] = td.cluster.start()
            return env
        except BaseException:
            self._undo(td)
            self._teardown.pop(site.name, None)
            raise

    @staticmethod
    def _start_postgres(td: _Teardown, server: Host):
        workdir = Path(server.facts["scratch_dir"]) / "postgres"
        td.postgres = LocalPostgres(server.executor, server.address, workdir)
        return td.postgres.start()

    @staticmethod
    def _undo(td: _Teardown) -> None:
        errors = []
        for what, part in (("simulated cluster", td.cluster), ("function site", td.function),
                           ("postgres", td.postgres)):
            if part is not None:
                try:
                    part.stop()
                except Exception as e:  # keep tearing down the rest
                    errors.append(f"{what}: {e}")
        if td.pair is not None:
            td.pair.delete()
        for path in td.scratch:
            shutil.rmtree(path, ignore_errors=True)
        if errors:
            raise PrerequisiteError("teardown incomplete: " + "; ".join(errors))

    def down(self, env: Environment) -> None:
        td = self._teardown.pop(env.site, None)
        if td is not None:
            self._undo(td)

    def leftovers(self, campaign_id: str | None = None) -> list[str]:
        names = netns.leftover_namespaces()
        if campaign_id:
            names = [n for n in names if n.startswith(f"{netns.PREFIX}{campaign_id}-")]
        return names
