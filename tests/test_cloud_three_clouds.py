"""One site per cloud (AWS, Azure, GCP) through the whole campaign, and a spot site that
loses a host half-way.

Each site is provisioned by the real `CloudProvisioner` of its provider; only Pulumi is
faked (tests/cloud_fake.py): its "VMs" are real sshd processes on 127.0.0.1 with the host
keys the spec hands over. Workloads run over SSH in parallel lanes, scoring prices the
three sites from the shipped catalog, and teardown must leave no stack and no sshd.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

import bench.orchestrator as orchestrator_mod
from bench.orchestrator import Orchestrator
from bench.preemption import PREEMPTED, preempted_message, preemptions_by_site
from bench.scenarios import parse_campaign
from bench.show import _render_problems
from scoring.decide import score_campaign_dir
from stacks.cloud.provisioner import CloudProvisioner
from stacks.cloud.state import CampaignState
from stacks.executors.ssh import SshExecutor
from stacks.static import SCRATCH_PREFIX
from tests.cloud_fake import FakeWorkspace
from tests.sshd_support import needs_sshd

pytestmark = needs_sshd

# Regions and types the shipped price catalog holds (4 vCPU compute shapes each).
CLOUDS = {
    "aws": {"region": "us-east-1", "zones": ["us-east-1a", "us-east-1b"],
            "instance_type": "c6i.xlarge"},
    "azure": {"region": "eastus", "zones": ["1", "2"], "instance_type": "Standard_F4s_v2"},
    "gcp": {"region": "us-central1", "zones": ["us-central1-a", "us-central1-b"],
            "instance_type": "c2d-highcpu-4"},
}
# Neutral site names: nothing a host is sent may name its provider, region or type.
SITE_OF = {"aws": "alpha", "azure": "bravo", "gcp": "charlie"}
WORKLOADS = [{"name": "sysbench-cpu", "params": {"time_s": 1}},
             {"name": "ping", "params": {"count": 3, "interval_s": 0.2}}]


def _campaign(repetitions: int = 1, spot: str | None = None):
    sites = [{"name": SITE_OF[p], "provider": p, **CLOUDS[p], "loadgen": 0,
              "ssh_cidr": "192.0.2.10/32", "spot": p == spot} for p in CLOUDS]
    return parse_campaign({"name": "three-clouds", "repetitions": repetitions,
                           "sites": sites, "workloads": WORKLOADS,
                           "criteria": [{"name": "cpu", "weight": 4},
                                        {"name": "tco", "weight": 3}]}, "test")


def _provisioners(tmp_path: Path, ws: FakeWorkspace) -> dict[str, CloudProvisioner]:
    return {p: CloudProvisioner(p, workspace=ws, state_root=tmp_path / "state",
                                detect_ip=lambda: None, ssh_deadline_s=30,
                                on_output=lambda site, line: None)
            for p in CLOUDS}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


class Spy:
    """Watches the campaign without changing it: every command sent over SSH (with its
    port, so its site), how long each unit took, and the sshd pids of every stack. With
    `reclaim`, the fake provider takes back that (site, role) right after the site's
    first unit."""

    def __init__(self, ws: FakeWorkspace, monkeypatch: pytest.MonkeyPatch,
                 reclaim: tuple[str, str] | None = None):
        self.ws = ws
        self.reclaim = reclaim
        self.commands: list[tuple[int, tuple[str, ...], dict[str, str]]] = []
        self.scratch: list[str] = []
        self.spans: dict[str, tuple[float, float]] = {}  # unit -> (start, end), monotonic
        self.pids: set[int] = set()
        self.ports: dict[str, set[int]] = {}
        self.reclaimed_pid: int | None = None
        self._lock = threading.Lock()
        real_run, real_measure = SshExecutor.run, orchestrator_mod.measure

        def run(ex, argv, timeout, env=None):
            with self._lock:
                self.commands.append((ex.target.port, tuple(argv), dict(env or {})))
            res = real_run(ex, argv, timeout, env)
            if argv and argv[0] == "mktemp" and res.stdout.startswith(SCRATCH_PREFIX):
                self.scratch.append(res.stdout.strip())
            return res

        def measure(store, env, unit, version, say):
            self._note_stacks()
            t0 = time.monotonic()
            status = real_measure(store, env, unit, version, say)
            self.spans[unit.key] = (t0, time.monotonic())
            if self.reclaim and unit.site == self.reclaim[0] and self.reclaimed_pid is None:
                stack = env.notes["stack"]
                self.reclaimed_pid = self.ws.preempt(stack, self.reclaim[1])
            return status

        monkeypatch.setattr(SshExecutor, "run", run)
        monkeypatch.setattr(orchestrator_mod, "measure", measure)

    def _note_stacks(self) -> None:
        """While units run every stack is up: note its sshd pids and ports by site."""
        for stack in self.ws.stacks():
            doc = json.loads((self.ws.root / f"{stack}.json").read_text())
            self.pids.update(doc.get("pids", []))
            self.ports[stack.split("--", 1)[1]] = {h["ssh_port"] for h in doc["hosts"].values()}

    def scrub(self, text: str) -> str:
        """The text with scratch paths (random mktemp names) replaced by a placeholder."""
        for d in self.scratch:
            text = text.replace(d, "<scratch>")
        return text

    def cleanup(self) -> None:
        for d in self.scratch:  # the loopback "VMs" share this machine's /tmp
            shutil.rmtree(d, ignore_errors=True)


def _assert_scored(result, sites: set[str]) -> None:
    assert result.inputs.cost_error is None, result.inputs.cost_error
    assert set(result.sites) == sites
    for provider, site in SITE_OF.items():
        if site not in sites:
            continue
        cost = result.inputs.costs[site]
        compute = [c for c in cost.components if c.name.startswith("compute ")]
        assert compute and CLOUDS[provider]["instance_type"] in compute[0].name
        assert cost.monthly_usd > 0
        for criterion in ("cpu", "tco"):
            assert 1 <= result.matrix.cell(criterion, site).score <= 10
    assert set(result.matrix.totals) == sites
    assert (Path(result.dir) / "report" / "report.md").is_file()


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _took(spy: Spy, key: str) -> float:
    start, end = spy.spans[key]
    return end - start


def test_one_site_per_cloud_through_the_whole_campaign(tmp_path, monkeypatch):
    """aws, azure and gcp side by side: provisioned at once, measured in the same window,
    priced and scored, torn down; the workloads never learn which cloud they run on."""
    campaign = _campaign()
    ws = FakeWorkspace(tmp_path / "stacks", up_delay_s=1.0)
    spy = Spy(ws, monkeypatch)
    orch = Orchestrator(campaign, tmp_path / "results", quiet=True,
                        provisioners=_provisioners(tmp_path, ws))
    try:
        folder = orch.run(campaign_id="tc1")
    finally:
        spy.cleanup()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete", manifest
    assert ws.max_active == 3  # the three `pulumi up`s were in flight together

    # the Environment each provisioner built names its own cloud
    for provider, site in SITE_OF.items():
        entry = manifest["sites"][site]
        assert (entry["provider"], entry["region"], entry["instance_type"]) == (
            provider, CLOUDS[provider]["region"], CLOUDS[provider]["instance_type"])
        assert entry["hosts"]["server"]["zone"] == CLOUDS[provider]["zones"][0]
        assert entry["hosts"]["client"]["zone"] == CLOUDS[provider]["zones"][1]
        assert entry["notes"]["spot"] is False and "torn_down_at" in entry
    # ... and every unit of one site overlapped the same unit of the two others
    for wl in ("sysbench-cpu", "ping"):
        a, b, c = (spy.spans[f"{s}/{wl}/0"] for s in SITE_OF.values())
        assert _overlap(a, b) and _overlap(b, c) and _overlap(a, c), (wl, a, b, c)

    samples = pd.read_parquet(folder / "samples.parquet")
    by_site = samples.groupby("site")
    assert {s: set(g["provider"]) for s, g in by_site} == {s: {p} for p, s in SITE_OF.items()}
    assert {s: set(g["region"]) for s, g in by_site} == {
        s: {CLOUDS[p]["region"]} for p, s in SITE_OF.items()}
    # the workloads did not learn the provider: same params, same sample shape per site
    measured = samples[samples["workload"] != "provisioning"]
    for wl, rows in measured.groupby("workload"):
        params = {s: set(g["params"]) for s, g in rows.groupby("site")}
        assert len(params) == 3 and len({frozenset(v) for v in params.values()}) == 1, params
        shape = {s: sorted({(m, u, tuple(sorted(json.loads(md))))
                            for m, u, md in zip(g["metric"], g["unit"], g["metadata"],
                                                strict=True)})
                 for s, g in rows.groupby("site")}
        assert len({tuple(v) for v in shape.values()}) == 1, (wl, shape)
    # ... nor did anything sent to a host name the cloud, its region or its instance type
    ports = spy.ports
    assert set(ports) == set(SITE_OF.values())
    words = {w for c in CLOUDS.values() for w in (c["region"], c["instance_type"])} | set(CLOUDS)
    sent = [(port, spy.scrub(" ".join((*argv, *env.values()))))
            for port, argv, env in spy.commands]
    assert sent and all(port in set().union(*ports.values()) for port, _ in sent)
    leaks = [(port, text) for port, text in sent if any(w in text for w in words)]
    assert leaks == []
    # the same workload commands reached every site
    def workload_argv(site: str) -> list[str]:
        return sorted(text for port, text in sent
                      if port in ports[site] and ("sysbench" in text or "ping" in text))
    assert workload_argv("alpha") == workload_argv("bravo") == workload_argv("charlie")
    assert any(a.startswith("sysbench cpu") for a in workload_argv("alpha"))

    # scored: each site priced from its own cloud's catalog rows, every cell filled
    result = score_campaign_dir(folder)
    _assert_scored(result, set(SITE_OF.values()))

    # teardown: no stack, no sshd, every journal entry destroyed
    assert ws.stacks() == []
    assert spy.pids and not any(_alive(p) for p in spy.pids)
    journal = CampaignState("tc1", tmp_path / "state").journal()["sites"]
    assert {s: e["status"] for s, e in journal.items()} == {
        s: "destroyed" for s in SITE_OF.values()}


def test_spot_site_loses_a_host_and_the_campaign_goes_on(tmp_path, monkeypatch):
    """gcp is a spot site; right after its first unit the provider reclaims its client
    (the sshd and its sessions die). That unit's successor fails as preempted, the site's
    later units fail at once, the other clouds finish and are scored, the report counts
    the interruptions per site, and teardown still removes every stack."""
    campaign = _campaign(repetitions=2, spot="gcp")
    spot = SITE_OF["gcp"]
    ws = FakeWorkspace(tmp_path / "stacks")
    spy = Spy(ws, monkeypatch, reclaim=(spot, "client"))
    orch = Orchestrator(campaign, tmp_path / "results", quiet=True,
                        provisioners=_provisioners(tmp_path, ws))
    try:
        folder = orch.run(campaign_id="tc2")
    finally:
        spy.cleanup()
    manifest = json.loads((folder / "manifest.json").read_text())
    units = manifest["units"]
    assert manifest["status"] == "partial", manifest.get("error")
    assert [op for op, stack, _ in ws.calls if op == "preempt"] == ["preempt"]

    first, hit, *later = [k for k in manifest["order"] if k.startswith(f"{spot}/")]
    assert units[first]["status"] == "ok"
    assert units[hit]["status"] == "failed" and units[hit]["reason"] == PREEMPTED
    assert units[hit]["error"].startswith(preempted_message(["client"]) + " ("), \
        units[hit]["error"]
    assert len(later) == 2
    for key in later:  # nothing left to run on: failed at once, same reason
        assert units[key]["status"] == "failed" and units[key]["reason"] == PREEMPTED
        assert "earlier unit" in units[key]["error"]
        assert _took(spy, key) < 2.0, spy.spans
    assert _took(spy, hit) < 10.0, spy.spans  # the probe asks a gone host: refused at once
    # one VM lost (the client doubles as load generator here): named once
    assert manifest["sites"][spot]["notes"]["preempted_hosts"] == ["client"]
    assert manifest["sites"][spot]["notes"]["spot"] is True
    others = [s for s in SITE_OF.values() if s != spot]
    for key, unit in units.items():
        if key.split("/", 1)[0] in others:
            assert unit["status"] == "ok" and "reason" not in unit, (key, unit)

    # a finding, counted per site, in the manifest, `bakeoff show` and the report
    assert preemptions_by_site(manifest) == {spot: 3}
    console = Console(record=True, width=200)
    _render_problems(manifest, console)
    assert f"PREEMPTED {spot}: 3 unit(s)" in console.export_text()
    result = score_campaign_dir(folder)
    excluded = {(e["site"], e["workload"], e["repetition"]): e["status"]
                for e in result.excluded}
    lost = [k.split("/") for k in (hit, *later)]
    assert excluded == {(site, wl, int(rep)): PREEMPTED for site, wl, rep in lost}
    _assert_scored(result, set(SITE_OF.values()))  # the spot site's one good unit counts
    md = (folder / "report" / "report.md").read_text()
    line = md.split("Spot interruptions", 1)[1].split("\n", 1)[0]
    assert f"{spot}: 3 unit(s) lost to preemption" in line
    assert not any(f"{s}: " in line for s in others)
    assert 'id="preemptions"' in (folder / "report" / "index.html").read_text()

    # teardown: every stack, the reclaimed host's too
    assert ws.stacks() == []
    assert spy.reclaimed_pid in spy.pids
    assert not any(_alive(p) for p in spy.pids)
    for site in SITE_OF.values():
        assert "torn_down_at" in manifest["sites"][site]
        assert "teardown_error" not in manifest["sites"][site]
    journal = CampaignState("tc2", tmp_path / "state").journal()["sites"]
    assert {s: e["status"] for s, e in journal.items()} == {
        s: "destroyed" for s in SITE_OF.values()}
