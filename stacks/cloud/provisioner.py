"""The cloud provisioner: one Pulumi stack per (campaign, site), destroyable from its journal.

`up` is idempotent: the stack name is `<campaign id>--<site>`, and a site whose journal
says it is up and whose stack still has outputs is attached to, not re-created (resume).
A failed or interrupted `up` destroys what it created before re-raising. `down_site`
needs only the campaign id and the site name (journal, passphrase, backend), so a crashed
campaign can be destroyed from a new process. Timings of up, SSH-ready and
cloud-init-done go to `env.notes["provisioning"]` (the orchestrator stores them as
samples of the `provisioning` workload).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import signal
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from core.environment import DatabaseEndpoint, Environment, Host
from core.errors import BakeoffError, PrerequisiteError
from core.scenario import Campaign, CloudSite
from stacks.cloud import resolve
from stacks.cloud.cloudinit import HOST_PYTHON, tools_cloud_init
from stacks.cloud.k8s_site import (
    cluster_notes,
    cluster_problems,
    kubeconfig_path,
    release_cloud_objects,
)
from stacks.cloud.ready import wait_for_cloud_init, wait_for_ssh
from stacks.cloud.scratch import make_scratch
from stacks.cloud.spec import (
    SSH_USER,
    CloudSiteSpec,
    HostKey,
    environment_database,
    environment_hosts,
    provenance,
)
from stacks.cloud.state import CampaignState, default_backend_url
from stacks.cloud.vmlog import copy_setup_log
from stacks.cloud.workspace import (
    AutomationWorkspace,
    StackLocked,
    StackWorkspace,
    signal_group,
)
from stacks.contract import Capabilities, PlannedResource
from stacks.payload import install_payload

SDK_MODULE = {"aws": "pulumi_aws", "azure": "pulumi_azure_native", "gcp": "pulumi_gcp"}
EXTRA = {"aws": "aws", "azure": "azure", "gcp": "gcp"}
CHECKIP_URL = "https://checkip.amazonaws.com"
SCRATCH_RM_TIMEOUT_S = 15
# an orphaned update that outlives its grace: (signal to its group, wait before the next)
ORPHAN_LADDER = ((signal.SIGTERM, 30.0), (signal.SIGKILL, 30.0))


def detect_public_ip(timeout_s: float = 5.0) -> str | None:
    """This machine's public IPv4 as the internet sees it (for the SSH allow rule)."""
    try:
        with urllib.request.urlopen(CHECKIP_URL, timeout=timeout_s) as r:
            text = r.read(64).decode().strip()
    except OSError:
        return None
    import ipaddress

    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def spec_to_json(spec: CloudSiteSpec) -> str:
    return json.dumps(dataclasses.asdict(spec), indent=2)


class CloudProvisioner:
    """Provisioner for aws / azure / gcp sites, through the Pulumi Automation API."""

    def __init__(self, provider: str, workspace: StackWorkspace | None = None,
                 state_root: Any = None, detect_ip: Callable[[], str | None] = detect_public_ip,
                 ssh_deadline_s: float = 900.0, on_output: Callable[[str, str], None] | None = None,
                 connect_timeout_s: float = 15.0, host_python: str = HOST_PYTHON,
                 holder_wait_s: float = 600.0, orphan_grace_s: float = 300.0):
        self.name = provider
        self.provider = provider
        self.capabilities = Capabilities(zones=True, managed_database=True, spot=True)
        self._workspace = workspace
        self.state_root = state_root
        self.detect_ip = detect_ip
        self.ssh_deadline_s = ssh_deadline_s
        self.connect_timeout_s = connect_timeout_s
        self.host_python = host_python  # cloud-init's venv; tests' "VMs" use their own
        self.holder_wait_s = holder_wait_s  # a holder whose controller lives
        self.orphan_grace_s = orphan_grace_s  # an orphan's own cancel, before SIGTERM
        self.on_output = on_output or _print_progress
        self.cancel = threading.Event()
        self.raw_dir: Any = None  # the campaign's raw output (set by the orchestrator)
        self._executors: dict[tuple[str, str], list[Any]] = {}

    @property
    def workspace(self) -> StackWorkspace:
        if self._workspace is None:
            self._workspace = AutomationWorkspace(default_backend_url())
        return self._workspace

    def state(self, campaign_id: str) -> CampaignState:
        return CampaignState(campaign_id, self.state_root)

    # -- contract -----------------------------------------------------------------------
    def problems(self, site: CloudSite) -> list[str]:
        """Everything missing for this site, as lines naming the fix."""
        import importlib.util

        out = []
        if importlib.util.find_spec("pulumi") is None or \
                importlib.util.find_spec(SDK_MODULE[self.provider]) is None:
            out.append(f"the {self.provider} Pulumi SDK is not installed: pip install "
                       f"'cloud-bakeoff[{EXTRA[self.provider]},ssh]'")
        if importlib.util.find_spec("asyncssh") is None:
            out.append("SSH support is not installed: pip install 'cloud-bakeoff[ssh]'")
        check = getattr(self.workspace, "check", None)
        if check is not None:
            out.extend(p for p in check() if p not in out and "SDK" not in p)
        try:
            resolve.site_zones(site)
            resolve.instance_type_of(site)
        except PrerequisiteError as e:
            out.append(str(e))
        return out + cluster_problems(site)  # kubernetes client, credential plugin

    def check(self, site: CloudSite) -> None:
        problems = self.problems(site)
        if problems:
            raise PrerequisiteError(f"site '{site.name}' ({self.provider}): "
                                    + "; ".join(problems))

    def rule_problems(self, site: CloudSite, campaign: Campaign) -> list[str]:
        """The provider rules (stacks/cloud/rules.py) over the site as a run declares it;
        preflight asks before any site is provisioned."""
        from stacks.cloud.fn_common import run_problems  # function sites: Lambda wheels
        from stacks.cloud.rules import check_site
        from stacks.cloud.spec import SiteSpecError

        try:
            check_site(resolve.sample_spec(site, campaign))
        except SiteSpecError as e:
            return [str(e), *run_problems(site, campaign)]
        return run_problems(site, campaign)

    def plan(self, site: CloudSite, campaign: Campaign) -> list[PlannedResource]:
        return [PlannedResource("pulumi-stack", resolve.stack_name("<campaign>", site.name),
                                f"{site.provider} {site.region}, zones {', '.join(site.zones)}")]

    def up(self, site: CloudSite, campaign: Campaign, campaign_id: str = "adhoc",
           index: int = 0) -> Environment:
        state = self.state(campaign_id)
        stack = resolve.stack_name(campaign_id, site.name)
        entry = state.site_entry(site.name) or {}
        say = lambda line: self.on_output(site.name, line)  # noqa: E731
        timings: dict[str, float] = {}
        created = False
        try:
            outputs = None
            if entry.get("status") == "up":
                outputs = self.workspace.outputs(stack, state.passphrase_file)
                if outputs:
                    say(f"attaching to existing stack {stack}")
            if not outputs:
                spec = self._spec(site, campaign, campaign_id, state)
                spec_file = state.write_spec(site.name, spec_to_json(spec))
                state.record(site.name, provider=self.provider, stack=stack,
                             backend_url=self.workspace.backend_url, status="creating",
                             region=site.region)
                created = True
                t0 = time.monotonic()
                outputs = self.workspace.up(stack, spec_file, state.passphrase_file, say,
                                            self.cancel)
                timings["up_s"] = time.monotonic() - t0
                state.record(site.name, status="up", up_s=round(timings["up_s"], 1))
            env = self._environment(site, campaign_id, index, state, outputs, timings)
            return env
        except BaseException as e:
            if created or entry.get("status") not in (None, "destroyed", "up"):
                say(f"up failed ({type(e).__name__}: {e}); destroying what was created")
                state.record(site.name, status="failed", error=f"{type(e).__name__}: {e}")
                try:
                    self.down_site(campaign_id, site.name)
                except BaseException as down_error:  # keep the first error; journal has both
                    state.record(site.name, teardown_error=str(down_error))
            raise

    def down(self, env: Environment) -> None:
        """Remove the hosts' scratch directories (bakeoff's source, staged files), then
        destroy the stack. A VM goes with its stack anyway; a host that outlives it (a
        test's loopback "VM") keeps nothing. A gone host costs at most one short timeout."""
        for scratch, host in {str(h.facts["scratch_dir"]): h for h in env.hosts.values()
                              if h.facts.get("scratch_dir")}.items():
            with contextlib.suppress(Exception):  # never stands between a site and destroy
                host.executor.run(["rm", "-rf", "--", scratch], timeout=SCRATCH_RM_TIMEOUT_S)
        self.down_site(env.notes["campaign_id"], env.site)

    def down_site(self, campaign_id: str, site: str) -> None:
        """Destroy the site's stack from the journal alone; a locked stack (interrupted
        update) is cancelled and refreshed first. Raises BakeoffError when it fails."""
        for ex in self._executors.pop((campaign_id, site), []):
            ex.close_quietly()
        state = self.state(campaign_id)
        entry = state.site_entry(site)
        if entry is None or entry.get("status") == "destroyed":
            return
        stack = entry["stack"]
        say = lambda line: self.on_output(site, line)  # noqa: E731
        state.record(site, status="destroying")
        try:
            release_cloud_objects(state, site, say)  # a cluster's LBs and volumes first
            try:
                self.workspace.destroy(stack, state.passphrase_file, say)
            except StackLocked:
                self._destroy_locked(stack, state, say)
        except BaseException as e:
            state.record(site, status="destroy-failed", error=f"{type(e).__name__}: {e}")
            if isinstance(e, BakeoffError):
                raise
            raise BakeoffError(f"destroy of stack {stack} failed: {e}") from e
        state.record(site, status="destroyed")
        kubeconfig_path(state, site).unlink(missing_ok=True)  # its cluster is gone
        state.forget_secrets_if_done()

    def _destroy_locked(self, stack: str, state: CampaignState, say: Any) -> None:
        """Wait for a live holder; if it released the lock, destroy; else (a dead holder's
        lock) cancel, refresh, destroy."""
        if self._wait_for_lock_holder(stack, state, say):
            try:  # it stopped cleanly and released its lock: nothing to cancel
                self.workspace.destroy(stack, state.passphrase_file, say)
                return
            except StackLocked:
                pass
        say(f"stack {stack} is locked by an interrupted update: cancel, refresh")
        self.workspace.cancel(stack, state.passphrase_file)
        self.workspace.refresh(stack, state.passphrase_file, say)
        self.workspace.destroy(stack, state.passphrase_file, say)

    def _wait_for_lock_holder(self, stack: str, state: CampaignState, say: Any) -> bool:
        """A lock is cancelled only once its holder is dead. A holder whose controller
        lives is waited for (`holder_wait_s`), never signalled. An orphan (its controller
        died, so nobody else will stop it) is given `orphan_grace_s` to stop on the SIGINT
        its worker forwarded, then SIGTERM (Pulumi: cancel, or terminate if it was asked
        already), then SIGKILL; its lock is then cancelled like any dead holder's.
        True when there was a holder (and it has exited)."""
        find = getattr(self.workspace, "holder", None)
        if find is None:
            return False
        start = time.monotonic()
        found = find(stack, state.passphrase_file)
        if found is None:
            return False
        say(f"stack {stack} is held by a live update (pid {found.pid}); waiting for it to stop")
        ladder = list(ORPHAN_LADDER)
        step_at = start + self.orphan_grace_s
        while found is not None:
            now = time.monotonic()
            if found.orphaned and now >= step_at:
                if not ladder:
                    raise BakeoffError(f"stack {stack}: the orphaned update (pid {found.pid}) "
                                       "survived SIGKILL; its lock is not cancelled")
                sig, next_wait_s = ladder.pop(0)
                say(f"stack {stack}: the update's controller is dead and it did not stop "
                    f"in {now - start:.0f} s: {signal.Signals(sig).name} to its process "
                    f"group {found.group}")
                signal_group(found.group, sig)
                step_at = now + next_wait_s
            elif not found.orphaned and now - start >= self.holder_wait_s:
                raise BakeoffError(f"stack {stack} is still held by a live update (pid "
                                   f"{found.pid}, started by a live controller) after "
                                   f"{self.holder_wait_s:.0f} s; its lock is not cancelled "
                                   "under it. Run the same command again once that "
                                   "process has exited")
            time.sleep(0.5)
            found = find(stack, state.passphrase_file)
        return True

    def leftovers(self, campaign_id: str | None = None) -> list[str]:
        if campaign_id is None:
            return []
        st = self.state(campaign_id)
        return [f"pulumi stack {st.site_entry(s)['stack']} ({s})" for s in st.live_sites()]

    # -- pieces ---------------------------------------------------------------------
    def _spec(self, site: CloudSite, campaign: Campaign, campaign_id: str,
              state: CampaignState) -> CloudSiteSpec:
        cidr, warning = resolve.operator_cidr(site, None if site.ssh_cidr else self.detect_ip())
        if warning:
            self.on_output(site.name, f"WARNING: {warning}")
        roles = ["server", "client", *(f"loadgen-{i}" for i in range(site.loadgen))]
        secrets = state.site_secrets(site.name, roles)
        keys = {r: HostKey(**secrets["host_keys"][r]) for r in roles}
        spec = resolve.build_spec(site, campaign, campaign_id, cidr=cidr,
                                  ssh_public_key=state.ssh_public_key, host_keys=keys,
                                  db_password=secrets["db_password"])
        init = {r: tools_cloud_init(spec.resource_name(r)) for r in spec.roles}
        return dataclasses.replace(spec, cloud_init=init)

    def _environment(self, site: CloudSite, campaign_id: str, index: int,
                     state: CampaignState, outputs: dict[str, Any],
                     timings: dict[str, float]) -> Environment:
        from stacks.executors.ssh import SshExecutor, SshTarget
        from stacks.static import _host_facts

        try:
            hosts_out = environment_hosts(outputs)
            db_out = environment_database(outputs)
        except ValueError as e:
            raise BakeoffError(f"site '{site.name}': {e}") from None
        secrets = state.site_secrets(site.name, list(hosts_out))
        known = state.write_known_hosts(site.name, {
            _known_name(h["public_ip"], h.get("ssh_port", 22)):
                secrets["host_keys"][role]["public_openssh"] for role, h in hosts_out.items()})
        execs: dict[str, SshExecutor] = {}
        opened = self._executors.setdefault((campaign_id, site.name), [])
        for role, h in hosts_out.items():
            target = SshTarget(user=h.get("ssh_user", SSH_USER), host=h["public_ip"],
                               port=int(h.get("ssh_port", 22)))
            execs[role] = SshExecutor(target, key=state.ssh_key, known_hosts=known,
                                      connect_timeout_s=self.connect_timeout_s)
            opened.append(execs[role])
        t0 = time.monotonic()
        for ex in execs.values():
            wait_for_ssh(ex, self.ssh_deadline_s, cancel=self.cancel)
        timings["ssh_ready_s"] = time.monotonic() - t0
        t0 = time.monotonic()
        try:
            for ex in execs.values():
                wait_for_cloud_init(ex)
        finally:  # each VM's setup log, kept with the campaign before anything is destroyed
            logs = (self.raw_dir or state.site_dir(site.name).parent) / site.name / "cloud-init"
            for role, ex in execs.items():
                copy_setup_log(ex, logs, role)
        timings["cloud_init_s"] = time.monotonic() - t0
        hosts: dict[str, Host] = {}
        for role, h in hosts_out.items():
            facts = _host_facts(site, role, execs[role])
            # an attaching (resumed) run first removes the killed run's scratch directory
            facts["scratch_dir"], disk = make_scratch(
                site, role, execs[role], h.get("data_mount"), state,
                functools.partial(self.on_output, site.name))
            if disk is not None:
                facts["scratch_disk"] = disk
            facts["public_ip"] = h["public_ip"]
            # the host runs the controller's own bakeoff code (http-load, db-query)
            facts["bakeoff_root"] = install_payload(
                execs[role], str(facts["scratch_dir"]), f"site '{site.name}', {role} host")
            facts.update(python=self.host_python, bakeoff_installed=True)
            name = "loadgen" if role == "loadgen-0" else role
            hosts[name] = Host(name, h["zone"], h["private_ip"], execs[role], facts)
        if "loadgen" not in hosts:  # no load generator VM: the client drives the load
            hosts["loadgen"] = dataclasses.replace(hosts["client"], name="loadgen")
        database = None
        if db_out is not None:
            database = DatabaseEndpoint(host=db_out["host"], port=int(db_out["port"]),
                                        user=db_out["user"], password=db_out["password"],
                                        dbname=db_out["dbname"], kind=db_out["kind"])
        state.record(site.name, ssh_ready_s=round(timings["ssh_ready_s"], 1),
                     cloud_init_s=round(timings["cloud_init_s"], 1))
        return Environment(
            site=site.name, provider=self.provider, region=outputs.get("region", site.region),
            instance_type=hosts_out["client"]["instance_type"], hosts=hosts, database=database,
            network="vpc",
            notes={"campaign_id": campaign_id, "index": index,
                   "stack": resolve.stack_name(campaign_id, site.name),
                   "network": outputs.get("network"), "provisioning": dict(timings),
                   "provenance": provenance(outputs),  # ids, images, zones, market
                   "loadgens": [r for r in hosts_out if r.startswith("loadgen")],
                   **cluster_notes(state, site.name, outputs),  # kubeconfig, cluster
                   # spot VMs: a failed unit asks whether a host was reclaimed (bench.preemption)
                   "spot": bool(site.spot),
                   # a function site (stacks/cloud/fn_*.py): what cold-start needs
                   **({"function": outputs["function"]} if outputs.get("function") else {})})


def _print_progress(site: str, line: str) -> None:
    """`pulumi up`/`destroy` progress, one line per event, prefixed with the site."""
    if line.strip():
        print(f"[{site}] {line}", file=sys.stderr, flush=True)


def _known_name(host: str, port: int | str) -> str:
    return host if int(port) == 22 else f"[{host}]:{port}"
