"""Drive a real `bakeoff run` in a subprocess, kill it at an observed point, and check that
nothing of *that* campaign is left (by its id, never by machine-wide patterns)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tests.conftest import REPO

SCENARIO = Path(__file__).with_name("fault-quickstart.yaml")
BAKEOFF = [sys.executable, "-c", "from bakeoff.cli import main; main()"]


@dataclass(frozen=True)
class KillPoint:
    name: str
    phase: str  # provisioning | postgres | sysbench | iperf3 | locust | pgbench | scoring
    signals: tuple[int, ...]
    seed: int

    @property
    def id(self) -> str:
        sig = "+".join(signal.Signals(s).name for s in self.signals)
        return f"{self.phase}-{sig}"


class Run:
    """One `bakeoff run` subprocess with its own results root and state root."""

    def __init__(self, tmp: Path, scenario: Path = SCENARIO, extra: tuple[str, ...] = ()):
        self.tmp = tmp
        self.results = tmp / "results"
        # own state root and machine lock: other campaigns on this machine (developers,
        # CI neighbours) neither block these runs nor see their state
        self.env = dict(os.environ, BAKEOFF_STATE_DIR=str(tmp / "state"),
                        BAKEOFF_MACHINE_LOCK=str(tmp / "machine.lock"))
        self.env.pop("BAKEOFF_CAMPAIGN", None)
        self.scenario = scenario
        self.proc = subprocess.Popen(
            [*BAKEOFF, "run", str(scenario), "--results", str(self.results), "--quiet",
             *extra], cwd=REPO, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        self.campaign_id = ""
        self.seen_pids: set[int] = set()

    def bakeoff(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([*BAKEOFF, *args], cwd=REPO, env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def find_id(self) -> str:
        if not self.campaign_id:
            found = list(self.results.glob("*/manifest.json"))
            if found:
                self.campaign_id = found[0].parent.name
        return self.campaign_id

    @property
    def folder(self) -> Path:
        return self.results / self.campaign_id

    @property
    def state(self) -> Path:
        return self.tmp / "state" / "campaigns" / self.campaign_id

    def resources(self) -> list[dict]:
        try:
            return [json.loads(x) for x in (self.state / "resources.jsonl").read_text()
                    .splitlines() if x.strip()]
        except (OSError, ValueError):
            return []

    def manifest(self) -> dict:
        return json.loads((self.folder / "manifest.json").read_text())

    def reached(self, phase: str) -> bool:
        """Whether the campaign is now in `phase` (observed from outside)."""
        if not self.find_id():
            return False
        procs = campaign_processes(self.campaign_id)
        self.seen_pids.update(procs)
        kinds = [r["kind"] for r in self.resources()]
        cmds = " ".join(procs.values())
        if phase == "provisioning":
            return "namespace" in kinds or "veth" in kinds
        if phase == "postgres":
            return "postgres" in kinds
        if phase in ("sysbench", "iperf3", "locust", "pgbench"):
            return phase in cmds
        if phase == "scoring":  # the measuring part has ended cleanly, the CLI goes on
            try:
                return self.manifest().get("status") == "complete" and not self.state.exists()
            except (OSError, ValueError):
                return False
        raise ValueError(phase)

    def kill_at(self, point: KillPoint, timeout_s: float = 600) -> None:
        rng = random.Random(point.seed)
        deadline = time.monotonic() + timeout_s
        while not self.reached(point.phase):
            if self.proc.poll() is not None:
                raise AssertionError(f"run ended before {point.phase}: "
                                     f"{self.proc.stderr.read()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{point.phase} not reached in {timeout_s} s")
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.3))
        for i, sig in enumerate(point.signals):
            if i:
                time.sleep(rng.uniform(0.05, 0.4))
            if self.proc.poll() is None:
                self.proc.send_signal(sig)

    def wait(self, timeout: float = 600) -> tuple[int, str]:
        _, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, err


def campaign_processes(campaign_id: str) -> dict[int, str]:
    """Live processes tagged with the campaign or naming it in their command line."""
    tag = f"BAKEOFF_CAMPAIGN={campaign_id}".encode()
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            if ") Z " in stat:
                continue
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
            env = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if tag in env or campaign_id in cmd:
            out[int(entry)] = cmd
    return out


def namespaces() -> list[str]:
    res = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return [line.split()[0] for line in res.stdout.splitlines() if line.strip()]


def links() -> list[str]:
    res = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True)
    return [line.split(":")[1].strip().split("@")[0] for line in res.stdout.splitlines()]


def shm_creators() -> dict[int, int]:
    out = {}
    for line in Path("/proc/sysvipc/shm").read_text().splitlines()[1:]:
        cols = line.split()
        out[int(cols[1])] = int(cols[4])
    return out


def leftovers_of(run: Run) -> list[str]:
    """Everything of the run's campaign still on the machine, found independently of gc."""
    cid = run.campaign_id
    left = [f"process {p}: {c[:100]}" for p, c in campaign_processes(cid).items()]
    left += [f"namespace {n}" for n in namespaces() if cid in n]
    veths = {f"bk{hashlib.sha1(f'{cid}-{i}'.encode()).hexdigest()[:6]}{s}"
             for i in range(4) for s in "ab"}
    left += [f"veth {n}" for n in links() if n in veths]
    left += [f"temp {p}" for p in Path(tempfile.gettempdir()).glob(f"*{cid}*")]
    left += [f"shm {i} (creator {c})" for i, c in shm_creators().items()
             if c in run.seen_pids]
    if run.state.exists():
        left.append(f"state {run.state}")
    return left


def assert_clean(run: Run, wait_s: float = 10.0) -> None:
    deadline = time.monotonic() + wait_s
    while True:
        left = leftovers_of(run)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not left, f"left of {run.campaign_id}: {left}"


def assert_valid_folder(run: Run) -> dict:
    """Manifest in a final state, every journal readable JSON with samples."""
    manifest = run.manifest()
    assert manifest["status"] in ("complete", "partial", "interrupted", "failed",
                                  "nothing-measured"), manifest["status"]
    for journal in (run.folder / "units").glob("*/*/*.json"):
        payload = json.loads(journal.read_text())
        assert isinstance(payload["samples"], list)
    return manifest


def units_in_tables(run: Run) -> set[tuple[str, str, int]]:
    samples = pd.read_parquet(run.folder / "samples.parquet")
    return {(s, w, int(r)) for s, w, r in zip(samples["site"], samples["workload"],
                                              samples["repetition"], strict=True)}
