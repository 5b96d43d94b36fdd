"""provision → run → collect → teardown, with a manifest that records every unit.

Local sites share one machine, so they never run at the same time: units are
interleaved across sites (for each repetition, for each workload: A, B, ...) so that
drift of the machine during the campaign does not favour one site. Cloud and static
sites are machines of their own and run side by side, each in its own lane, provisioned
and torn down at the same time (bench/sites.py). Teardown always runs
(finally, also on Ctrl-C and SIGTERM) and cannot be interrupted half-way (bench.signals);
everything a campaign creates is recorded first (stacks.tracking) and swept at the end
(bench.leftovers). A failed or interrupted campaign can be resumed: units with an intact
journal entry are skipped, and the scenario must be the one measured (bench.resume;
the starting manifest, new or resumed: bench.campaign_manifest).
See docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench import leftovers
from bench.campaign_manifest import initial_manifest, resume_manifest
from bench.left_behind import journaled_sites, left_behind
from bench.lifecycle import campaign_process_env, check_results_root
from bench.lock import Busy, CampaignClaim, MachineLock, is_live
from bench.measure import measure
from bench.preflight import check_prerequisites, check_remote_tools
from bench.results import ResultStore
from bench.runner import tool_version
from bench.samples import Sample, sample_row
from bench.signals import CampaignSignals
from bench.sites import ManifestWriter, lanes, run_side_by_side, teardown_all
from bench.units import Unit, final_status, interleaved_units, new_campaign_id, now
from bench.workloads import REGISTRY
from core.environment import Environment
from core.errors import BakeoffError
from core.scenario import Campaign
from stacks.registry import SHARED_MACHINE, provisioner_for


class Orchestrator:
    """Runs one campaign into one results folder."""

    def __init__(self, campaign: Campaign, results_root: Path, console: Console | None = None,
                 quiet: bool = False, provisioners: dict[str, Any] | None = None,
                 spend_usd_per_hour: float = 0.0,
                 unit_check: Callable[[Campaign, Unit, Path], None] | None = None):
        """`provisioners` overrides the registry per provider (tests hand fakes);
        `spend_usd_per_hour` is the campaign's own burn rate, checked against budget_usd."""
        self.campaign = campaign
        self.root = Path(results_root)
        self.console = console or Console(stderr=True)
        self.quiet = quiet
        self.provisioners: dict[str, Any] = dict(provisioners or {})
        self.campaign_id = ""
        self._deferred: Exception | None = None
        self.cancel = threading.Event()
        self.spend_usd_per_hour = spend_usd_per_hour
        self._started = time.monotonic()
        self._writer: ManifestWriter | None = None
        self.unit_check = unit_check  # (campaign, unit, folder) after an ok unit; may raise

    def run(self, campaign_id: str | None = None, resume: bool = False, wait: bool = True,
            allow_changes: bool = False) -> Path:
        """Measure into results/<id>/; returns the folder. The manifest's status is final."""
        check_prerequisites(self.campaign, self._provisioner)
        check_results_root(self.root)
        if resume:
            if not campaign_id:
                raise BakeoffError("--resume needs a campaign id")
            store = ResultStore(self.root, campaign_id)
            if not (store.dir / "manifest.json").is_file():
                known = sorted(p.parent.name for p in self.root.glob("*/manifest.json"))[-5:]
                raise BakeoffError(f"--resume {campaign_id}: no campaign of that id under "
                                   f"{self.root}/" + (f" (there: {', '.join(known)})"
                                                      if known else ""))
            if is_live(CampaignClaim(campaign_id).dir):
                CampaignClaim(campaign_id).acquire()  # raises Busy naming the owner
        else:
            campaign_id = campaign_id or new_campaign_id(self.campaign)
            store = ResultStore(self.root, campaign_id)
            if store.dir.exists():
                raise Busy(f"results folder {store.dir} already exists; pick another id")
        self.campaign_id = campaign_id
        machine = None
        if any(site.provider == "local" for site in self.campaign.sites):
            machine = MachineLock()
            machine.acquire(campaign_id, wait, say=lambda m: self.console.print(m))
        claim = CampaignClaim(campaign_id)
        try:
            claim.acquire(store.dir)
            if resume:
                manifest = resume_manifest(self.campaign, store, allow_changes)
                stale = leftovers.campaign_leftovers(campaign_id, claim.dir)
                if stale:  # the interrupted run left things behind: they go first
                    self._say(f"removing {len(stale)} leftover(s) of the interrupted run")
                    leftovers.remove(stale)
            else:
                manifest = initial_manifest(self.campaign, campaign_id)
                store.create(self.campaign, manifest)
            return self._measure(store, manifest, claim)
        except KeyboardInterrupt:  # before measuring began: the manifest must not say running
            leftovers.finalize_manifest(str(store.dir), "interrupted before measuring began")
            raise
        finally:  # a state that recorded nothing holds nothing for `bakeoff gc`
            claim.release(remove=not (claim.dir / "resources.jsonl").exists())
            if machine is not None:
                machine.release()

    def _measure(self, store: ResultStore, manifest: dict, claim: CampaignClaim) -> Path:
        envs: dict[str, Environment] = {}
        self._writer = ManifestWriter(store, manifest)
        self._started = time.monotonic()
        signals = CampaignSignals(lambda m: self.console.print(m),  # also when quiet
                                  lambda: self._forced_exit(store, manifest, claim))
        in_main = threading.current_thread() is threading.main_thread()
        with campaign_process_env(claim.tracker()), \
                (signals if in_main else contextlib.nullcontext(signals)):
            try:
                if self._anything_to_run(store, manifest):  # a finished resume provisions nothing
                    self._provision(envs, manifest, store.campaign_id)
                    self._provisioning_samples(store, envs)
                    self._record_tool_versions(envs, manifest)
                    store.write_manifest(manifest)
                self._run_units(store, envs, manifest)
                manifest["status"] = final_status(manifest)
            except KeyboardInterrupt as e:
                manifest["status"] = "interrupted"
                manifest["interrupted_by"] = str(e) or "SIGINT"
                raise
            except BaseException as e:
                manifest["status"] = "failed"
                manifest["error"] = f"{e.__class__.__name__}: {e}"
                raise
            finally:
                signals.tearing_down()
                self._finish(envs, manifest, store, claim)
        if self._deferred is not None:  # e.g. the tables could not be assembled
            raise self._deferred
        if signals.received:  # asked to stop during the final teardown: do not go on
            raise KeyboardInterrupt(signal.Signals(signals.received[0][1]).name)
        return store.dir

    def _finish(self, envs: dict[str, Environment], manifest: dict, store: ResultStore,
                claim: CampaignClaim) -> None:
        """Teardown, sweep, final manifest, Parquet: each step runs whatever the others do."""
        self._teardown(envs, manifest)
        try:
            remaining = leftovers.sweep_own(claim)
        except Exception as e:
            remaining = [f"sweep failed: {e}"]
        if remaining:
            manifest["leftovers"] = remaining
            self.console.print(f"[red]left on this machine:[/red] {'; '.join(remaining)}; "
                               f"`bakeoff gc --delete --campaign {store.campaign_id}` "
                               "removes them")
        behind = left_behind(store.campaign_id, self._site_provisioners(), remaining)
        if behind:
            manifest["left_behind"] = behind
            self._say(f"[red]teardown incomplete, left:[/red] {'; '.join(behind['items'])}. "
                      f"`{behind['command']}` removes it.")
        manifest["finished_at"] = now()
        try:
            store.write_manifest(manifest)
        except OSError as e:
            self._say(f"[red]cannot write the manifest:[/red] {e}")
        if (store.dir / "units").is_dir():
            try:
                store.assemble()
            except Exception as e:  # recorded now, raised once teardown is complete
                manifest["assemble_error"] = f"{e.__class__.__name__}: {e}"
                self._say(f"[red]cannot assemble samples.parquet:[/red] {e}")
                with contextlib.suppress(OSError):
                    store.write_manifest(manifest)
                self._deferred = e
        if not remaining:
            claim.release(remove=True)

    def _forced_exit(self, store: ResultStore, manifest: dict, claim: CampaignClaim) -> None:
        """Third signal during teardown: final manifest, then say what is left."""
        manifest["status"] = "interrupted"
        manifest["teardown"] = "forced exit before teardown finished"
        manifest["finished_at"] = now()
        with contextlib.suppress(Exception):
            store.write_manifest(manifest)
        try:
            left = [str(x) for x in leftovers.campaign_leftovers(store.campaign_id, claim.dir)]
        except Exception:
            left = ["(could not be listed)"]
        self.console.print(f"[red]left on this machine:[/red] {'; '.join(left) or 'nothing'}. "
                           f"`bakeoff gc --delete --campaign {store.campaign_id}` removes it.")
        with contextlib.suppress(Exception):  # the stacks a cut teardown may leave running
            behind = left_behind(store.campaign_id, self._site_provisioners(), [])
            if behind:
                self.console.print(f"[red]stacks that may still run:[/red] "
                                   f"{'; '.join(behind['items'])}. `{behind['command']}` "
                                   "destroys them.", soft_wrap=True)

    def _provision(self, envs: dict[str, Environment], manifest: dict, campaign_id: str) -> None:
        """Local sites one after another here; cloud and static sites side by side. A site
        that fails stops the campaign once every `up` in flight has returned (each failed
        `up` undoes itself; the finished ones are torn down by `_finish`)."""
        def up(index: int, site: Any) -> None:
            self._say(f"provisioning {site.name} ({site.provider})")
            started = now()
            provisioner = self._provisioner(site.provider)
            if hasattr(provisioner, "raw_dir"):  # cloud VMs leave their setup log there
                provisioner.raw_dir = self.root / campaign_id / "raw"
            env = provisioner.up(site, self.campaign, campaign_id, index)
            envs[site.name] = env
            if site.provider not in SHARED_MACHINE:
                check_remote_tools(self.campaign, env)
            entry = {"provider": env.provider, "region": env.region,
                     "instance_type": env.instance_type, "network": env.network,
                     "hosts": {n: {"zone": h.zone, "address": h.address}
                               for n, h in env.hosts.items()},
                     "database": env.database.kind if env.database else None,
                     "notes": env.notes, "provisioned_at": started}
            self._update(lambda m: m["sites"].__setitem__(site.name, entry), write=False)

        jobs, main = {}, {}
        for index, site in enumerate(self.campaign.sites):
            target = main if site.provider in SHARED_MACHINE else jobs
            target[site.name] = (lambda i=index, s=site: up(i, s))
        errors = run_side_by_side(jobs, main, self.cancel, self._cancel_provisioners)
        if errors:
            for name, e in errors.items():
                self._say(f"[red]provisioning {name} failed:[/red] {e}")
            raise next(iter(errors.values()))

    def _cancel_provisioners(self) -> None:
        for p in self.provisioners.values():
            if hasattr(p, "cancel"):
                p.cancel.set()

    def _provisioner(self, provider: str) -> Any:
        if provider not in self.provisioners:
            self.provisioners[provider] = provisioner_for(provider)
        return self.provisioners[provider]

    def _update(self, fn: Any, write: bool = True) -> None:
        assert self._writer is not None
        self._writer.update(fn, write)

    def _provisioning_samples(self, store: ResultStore, envs: dict[str, Environment]) -> None:
        """Time to ready (up, SSH, cloud-init) per cloud site as `provisioning` samples."""
        for name, env in envs.items():
            timings = env.notes.get("provisioning") or {}
            if not timings or store.unit_done(name, "provisioning", 0):
                continue  # nothing measured (attached on resume) or already stored
            context = {"campaign_id": self.campaign_id, "site": name, "provider": env.provider,
                       "region": env.region, "zone": env.client.zone,
                       "instance_type": env.instance_type, "workload": "provisioning",
                       "repetition": 0, "started_at": now(), "valid": True,
                       "invalid_reason": "", "params": {}, "tool_version": "pulumi"}
            rows = [sample_row(Sample(metric, float(v), "s", {}), context)
                    for metric, v in sorted(timings.items())]
            store.write_unit(name, "provisioning", 0, rows, [])

    def _record_tool_versions(self, envs: dict[str, Environment], manifest: dict) -> None:
        """Per site: static hosts may carry other versions than this machine."""
        for name, env in envs.items():
            manifest["tool_versions"][name] = {
                spec.name: tool_version(REGISTRY[spec.name], env)
                for spec in self.campaign.workloads}

    def _anything_to_run(self, store: ResultStore, manifest: dict) -> bool:
        return any(not store.unit_intact(u.site, u.workload.name, u.repetition,
                                         manifest["units"].get(u.key, {}))
                   for u in interleaved_units(self.campaign))

    def _run_units(self, store: ResultStore, envs: dict[str, Environment],
                   manifest: dict) -> None:
        """Local units interleaved in this thread; each other site in its own lane."""
        units = interleaved_units(self.campaign)
        provider_of = {s.name: s.provider for s in self.campaign.sites}
        with self._progress() as progress:
            def run_lane(lane: Any) -> None:
                task = progress.add_task(lane.name, total=len(lane.units))
                for unit in lane.units:
                    if self.cancel.is_set():
                        return
                    self._check_budget()
                    # the unit key, numbered as in the data, raw files and report (from 0)
                    progress.update(task, description=unit.key)
                    self._unit(store, envs, unit, manifest)
                    progress.advance(task)

            jobs, main = {}, {}
            for lane in lanes(units, provider_of):
                (main if lane.shared else jobs)[lane.name] = (lambda ln=lane: run_lane(ln))
            errors = run_side_by_side(jobs, main, self.cancel)
        if errors:
            raise next(iter(errors.values()))

    def _unit(self, store: ResultStore, envs: dict[str, Environment], unit: Unit,
              manifest: dict) -> None:
        """Skip a unit with an intact journal entry; otherwise measure it and record it."""
        with self._writer.lock if self._writer else contextlib.nullcontext():
            recorded = dict(manifest["units"].get(unit.key, {}))
        done = store.unit_done(unit.site, unit.workload.name, unit.repetition)
        adopted = done and store.adopted(unit.site, unit.workload.name, unit.repetition,
                                         recorded)
        if adopted:
            self._update(lambda m: m["units"].__setitem__(unit.key, adopted),
                         write="raw" not in recorded)
            return
        if done:
            self._say(f"[yellow]re-measuring[/yellow] {unit.key}: its journal or "
                      "raw output changed since it was measured")
        version = manifest["tool_versions"].get(unit.site, {}).get(unit.workload.name,
                                                                  "unknown")
        status = measure(store, envs[unit.site], unit, version, self._say)
        self._update(lambda m: m["units"].__setitem__(unit.key, status))
        if self.unit_check and status["status"] == "ok":
            try:
                self.unit_check(self.campaign, unit, store.dir)
            except BaseException:
                self.cancel.set()  # other lanes stop too; teardown follows
                raise

    def _check_budget(self) -> None:
        """Stop the campaign (teardown follows) once its spend so far passes budget_usd."""
        budget = self.campaign.budget_usd
        if budget is None or not self.spend_usd_per_hour:
            return
        spent = self.spend_usd_per_hour * (time.monotonic() - self._started) / 3600
        if spent > budget:
            self.cancel.set()
            raise BakeoffError(f"budget_usd ${budget:,.2f} reached: about ${spent:,.2f} spent "
                               f"at ${self.spend_usd_per_hour:,.2f}/h; stopping and tearing "
                               "down")

    def _teardown(self, envs: dict[str, Environment], manifest: dict) -> None:
        """Every site is attempted whatever another one raises (cloud and static sites at
        the same time); each outcome is recorded."""
        def down(name: str, env: Environment) -> None:
            self._provisioner(env.provider).down(env)
            self._update(lambda m: m["sites"].setdefault(name, {}).__setitem__(
                "torn_down_at", now()), write=False)
            for problem in env.notes.get("teardown_errors", []):
                self._say(f"[yellow]teardown of {name}:[/yellow] {problem}")

        def down_journaled(name: str, _env: Any) -> None:
            self._provisioner(provider_of[name]).down_site(self.campaign_id, name)
            self._update(lambda m: m["sites"].setdefault(name, {}).__setitem__(
                "torn_down_at", now()), write=False)

        # sites this run did not provision may still have a journaled stack (a resume after
        # a kill during teardown, a failed up whose own destroy failed): destroy those too
        provider_of = {s.name: s.provider for s in self.campaign.sites}
        errors = teardown_all(envs, down)
        errors.update(teardown_all(journaled_sites(self._site_provisioners(), provider_of,
                                                   self.campaign_id, envs), down_journaled))
        for name, error in errors.items():
            self._update(lambda m, n=name, e=error: m["sites"].setdefault(n, {}).__setitem__(
                "teardown_error", e), write=False)
            self._say(f"[red]teardown of {name} incomplete:[/red] {error}")

    def _site_provisioners(self) -> dict[str, Any]:
        """Site name -> its provisioner, for every site not on this machine."""
        return {s.name: self._provisioner(s.provider) for s in self.campaign.sites
                if s.provider not in SHARED_MACHINE}

    @contextlib.contextmanager
    def _progress(self) -> Iterator[Progress]:
        progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=self.console, disable=self.quiet,
                            transient=False)
        with progress:
            yield progress

    def _say(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message)
