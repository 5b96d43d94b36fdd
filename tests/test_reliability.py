"""Exit codes, honest resume, damaged folders, teardown that attempts every site, gc that
never touches a live campaign, and the machine-wide lock. Real campaigns, kept tiny."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from bench.lock import CampaignClaim
from bench.orchestrator import Orchestrator
from bench.scenarios import parse_campaign
from bench.units import new_campaign_id
from core.exit_codes import ExitCode
from stacks import tracking
from tests.conftest import REPO

pytestmark = pytest.mark.integration


def cli(capsys, *args: str) -> tuple[int, str]:
    """Run the real CLI entry point in-process; any traceback fails the test."""
    from bakeoff.cli import main

    saved = sys.argv
    sys.argv = ["bakeoff", *args]
    try:
        main()
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    finally:
        sys.argv = saved
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).replace("\n", "")  # rich wraps long paths


@pytest.fixture(autouse=True)
def own_lock_and_state(tmp_path, monkeypatch):
    """This module's campaigns wait for nobody else's (their own lock and state root)."""
    monkeypatch.setenv("BAKEOFF_MACHINE_LOCK", str(tmp_path / "machine.lock"))
    monkeypatch.setenv("BAKEOFF_STATE_DIR", str(tmp_path / "state"))


def tiny(path: Path, **changes) -> Path:
    data = {"name": "tiny", "repetitions": 1,
            "sites": [{"name": "a", "provider": "local", "cpus": 1, "hourly_usd": 0.04,
                       "network": "loopback"}],
            "workloads": [{"name": "sysbench-cpu", "params": {"time_s": 1}}],
            "criteria": [{"name": "cpu", "weight": 4}, {"name": "tco", "weight": 3}]}
    data.update(changes)
    path.write_text(yaml.safe_dump(data))
    return path


def test_campaign_ids_are_unique_within_one_second():
    c = parse_campaign(yaml.safe_load(tiny(Path("/tmp") / f"ids-{os.getpid()}.yaml")
                                      .read_text()))
    ids = {new_campaign_id(c) for _ in range(50)}
    assert len(ids) == 50


def test_exit_codes_partial_and_nothing_measured(tmp_path, capsys):
    results = str(tmp_path / "r")
    nothing = tiny(tmp_path / "n.yaml", workloads=[{"name": "http-load",
                                                    "params": {"duration_s": 1}}])
    code, text = cli(capsys, "run", str(nothing), "--results", results, "--quiet")
    assert code == ExitCode.NOTHING_MEASURED, text
    assert "nothing measured" in text and "not scored" in text
    folder = next(Path(results).iterdir())
    assert json.loads((folder / "manifest.json").read_text())["status"] == "nothing-measured"
    assert not (folder / "scores").exists()
    partial = tiny(tmp_path / "p.yaml", workloads=[
        {"name": "http-load", "params": {"duration_s": 1}},
        {"name": "sysbench-cpu", "params": {"time_s": 1}}])
    code, text = cli(capsys, "run", str(partial), "--results", results, "--quiet")
    assert code == ExitCode.PARTIAL, text


def test_resume_refuses_a_changed_scenario_and_lists_the_changes(tmp_path, capsys):
    results = str(tmp_path / "r")
    scenario = tiny(tmp_path / "s.yaml")
    assert cli(capsys, "run", str(scenario), "--results", results, "--quiet",
               "--no-score")[0] == 0
    folder = next(Path(results).iterdir())
    journal = folder / "units" / "a" / "sysbench-cpu" / "0.json"
    measured = journal.read_bytes()
    tiny(scenario, sites=[{"name": "a", "provider": "local", "cpus": 2, "hourly_usd": 0.04,
                           "network": "loopback"}],
         workloads=[{"name": "sysbench-cpu", "params": {"time_s": 2}}])
    code, text = cli(capsys, "run", str(scenario), "--results", results, "--resume",
                     folder.name, "--allow-changes")
    assert code == ExitCode.INVALID_INPUT
    assert "site 'a' changed (cpus: 1 -> 2)" in text
    assert "workload 'sysbench-cpu' params changed (time_s: 1 -> 2)" in text
    tiny(scenario, repetitions=2)  # more repetitions: touches nothing measured
    code, text = cli(capsys, "run", str(scenario), "--results", results, "--resume",
                     folder.name, "--quiet", "--no-score")
    assert code == ExitCode.INVALID_INPUT and "--allow-changes" in text
    code, text = cli(capsys, "run", str(scenario), "--results", results, "--resume",
                     folder.name, "--quiet", "--no-score", "--allow-changes")
    assert code == 0, text
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete" and set(manifest["units"]) == {
        "a/sysbench-cpu/0", "a/sysbench-cpu/1"}
    assert "repetitions 1 -> 2" in manifest["scenario_changes"][0]["changes"][0]
    assert journal.read_bytes() == measured  # measured once, never again
    assert yaml.safe_load((folder / "scenario.yaml").read_text())["repetitions"] == 2


def test_clear_errors_for_unknown_id_and_unusable_roots(tmp_path, capsys):
    scenario = tiny(tmp_path / "s.yaml")
    code, text = cli(capsys, "run", str(scenario), "--results", str(tmp_path),
                     "--resume", "nope-1")
    assert code == ExitCode.ERROR and "no campaign of that id" in text
    a_file = tmp_path / "file"
    a_file.write_text("x")
    code, text = cli(capsys, "run", str(scenario), "--results", str(a_file))
    assert code == ExitCode.ERROR and "is a file" in text
    code, text = cli(capsys, "run", str(scenario), "--results", "/proc/bakeoff-results")
    assert code == ExitCode.ERROR and "not writable" in text
    code, text = cli(capsys, "show", "nope-2", "--results", str(tmp_path))
    assert code == ExitCode.ERROR and "no campaign results there" in text


def test_teardown_attempts_every_site_whatever_one_raises(tmp_path, monkeypatch):
    from stacks.local import LocalProvisioner

    real_down = LocalProvisioner.down
    torn: list[str] = []

    def down(self, env):
        torn.append(env.site)
        if env.site == "a":
            raise RuntimeError("a teardown bug")
        real_down(self, env)

    monkeypatch.setattr(LocalProvisioner, "down", down)
    site = {"provider": "local", "cpus": 1, "hourly_usd": 0, "network": "loopback"}
    campaign = parse_campaign({"name": "td", "repetitions": 1,
                               "sites": [dict(site, name="a"), dict(site, name="b")],
                               "workloads": [{"name": "sysbench-cpu",
                                              "params": {"time_s": 1}}]})
    folder = Orchestrator(campaign, tmp_path, quiet=True).run()
    assert torn == ["a", "b"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "RuntimeError: a teardown bug" in manifest["sites"]["a"]["teardown_error"]
    assert "torn_down_at" in manifest["sites"]["b"]
    # the sweep removed what a's failed down left, so nothing is left behind: the run is
    # complete (exit 0); had something stayed, 'left_behind' would make it exit 13
    assert manifest["status"] == "complete" and "left_behind" not in manifest
    assert len(pd.read_parquet(folder / "samples.parquet")) >= 2
    # site a's temp dirs were still swept (they live under the campaign's temp root)
    assert not tracking.temp_root_for(folder.name).exists()


# -- damaged results folders -------------------------------------------------------------

def _damage(folder: Path, kind: str) -> str:
    """Damage a copy of a campaign folder; returns the file the diagnosis must name."""
    samples = folder / "samples.parquet"
    if kind == "garbage-parquet":
        samples.write_bytes(b"not parquet at all" * 10)
    elif kind == "truncated-parquet":
        samples.write_bytes(samples.read_bytes()[:200])
    elif kind == "empty-parquet":
        samples.write_bytes(b"")
    elif kind == "wrong-schema-parquet":
        pd.DataFrame({"x": [1, 2]}).to_parquet(samples)
    elif kind == "invalid-manifest":
        (folder / "manifest.json").write_text("{not json")
        return "manifest.json"
    elif kind == "corrupt-journal":
        next((folder / "units").glob("*/*/*.json")).write_text('{"samples": [')
        return "units/"
    elif kind == "missing-scenario":
        (folder / "scenario.yaml").unlink()
        return "scenario.yaml"
    elif kind == "missing-raw":
        next((folder / "raw").glob("*/*/*")).unlink()
        return "raw/"
    return "samples.parquet"


DAMAGES = ["garbage-parquet", "truncated-parquet", "empty-parquet", "wrong-schema-parquet",
           "invalid-manifest", "corrupt-journal", "missing-scenario", "missing-raw"]


def _snapshot(folder: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_verify_passes_an_intact_folder(tiny_campaign, capsys):
    code, text = cli(capsys, "verify", str(tiny_campaign))
    assert code == 0, text


@pytest.mark.parametrize("kind", DAMAGES)
def test_damaged_folder_is_diagnosed_never_repaired(kind, tiny_campaign, tmp_path, capsys):
    folder = tmp_path / tiny_campaign.name
    shutil.copytree(tiny_campaign, folder)
    named = _damage(folder, kind)
    before = _snapshot(folder)
    code, text = cli(capsys, "verify", str(folder))
    assert code == ExitCode.DAMAGED and named in text, text
    assert _snapshot(folder) == before
    if kind in ("corrupt-journal", "missing-raw"):
        return  # the tables still read; verify is the one that must notice
    for command in ("show", "score", "report"):
        code, text = cli(capsys, command, str(folder))
        assert code == ExitCode.DAMAGED, (command, text)
        assert named.rstrip("/") in text and any(
            how in text for how in ("assemble", "restore", "verify", "copy")), (command, text)
    assert _snapshot(folder) == before  # read-only: nothing rewritten


def test_assemble_rebuilds_tables_from_journals(tiny_campaign, tmp_path, capsys):
    folder = tmp_path / tiny_campaign.name
    shutil.copytree(tiny_campaign, folder)
    (folder / "samples.parquet").write_bytes(b"")
    assert cli(capsys, "assemble", str(folder))[0] == 0
    assert cli(capsys, "verify", str(folder))[0] == 0


def test_resume_remeasures_a_unit_whose_raw_output_was_lost(tmp_path):
    campaign = parse_campaign(yaml.safe_load(tiny(tmp_path / "s.yaml",
                                                  repetitions=2).read_text()))
    folder = Orchestrator(campaign, tmp_path / "r", quiet=True).run()
    lost = folder / "raw" / "a" / "sysbench-cpu" / "1.txt"
    kept = folder / "units" / "a" / "sysbench-cpu" / "0.json"
    kept_bytes = kept.read_bytes()
    lost.unlink()
    Orchestrator(campaign, tmp_path / "r", quiet=True).run(folder.name, resume=True)
    assert lost.is_file() and kept.read_bytes() == kept_bytes
    from bench.verify import verify_campaign

    assert verify_campaign(folder) == []


# -- gc and locks ------------------------------------------------------------------------

OWNER = """
import os, subprocess, sys, time
from bench.lock import CampaignClaim
claim = CampaignClaim(sys.argv[1]).acquire()
tracker = claim.tracker()
tmp = sys.argv[2]
tracker.record("tempdir", path=tmp)
os.makedirs(tmp)
env = dict(os.environ, BAKEOFF_CAMPAIGN=sys.argv[1])
child = subprocess.Popen(["sleep", "300"], env=env, start_new_session=True)
print(child.pid, flush=True)
time.sleep(300)
"""


def test_gc_never_touches_a_live_campaign_and_collects_a_dead_one(tmp_path, capsys):
    cid = f"gc-test-{os.getpid()}-{time.time_ns()}"
    temp = tmp_path / "campaign-temp"
    owner = subprocess.Popen([sys.executable, "-c", OWNER, cid, str(temp)], cwd=REPO,
                             stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    child = int(owner.stdout.readline())
    try:
        code, text = cli(capsys, "gc", "--delete", "--campaign", cid)
        assert code == 0 and "live" in text and "not touched" in text, text
        assert temp.is_dir() and Path(f"/proc/{child}").exists()
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        code, text = cli(capsys, "gc", "--campaign", cid)  # list only
        assert code == 0 and f"{child}" in text and str(temp) in text, text
        assert temp.is_dir()
        code, text = cli(capsys, "gc", "--delete", "--campaign", cid)
        assert code == 0, text
        assert not temp.exists()
        deadline = time.monotonic() + 5
        while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
            os.waitpid(child, os.WNOHANG) if False else time.sleep(0.05)
        state = Path(os.environ["BAKEOFF_STATE_DIR"]) / "campaigns" / cid
        assert not state.exists()
        assert not _alive(child)
    finally:
        owner.kill()
        with __import__("contextlib").suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        return ") Z " not in Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False


def test_a_claimed_campaign_cannot_be_claimed_twice(tmp_path):
    first = CampaignClaim("twice-1", tmp_path).acquire()
    from bench.lock import Busy

    with pytest.raises(Busy, match="is running"):
        CampaignClaim("twice-1", tmp_path).acquire()
    first.release(remove=True)
    assert not (tmp_path / "twice-1").exists()


HOLDER = """
import sys, time
from bench.lock import MachineLock
MachineLock().acquire("holder-campaign", wait=False)
print("held", flush=True)
sys.stdin.readline()
"""


def test_second_local_campaign_waits_or_refuses(tmp_path, capsys):
    scenario = tiny(tmp_path / "s.yaml")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], cwd=REPO, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              env=os.environ.copy())
    try:
        assert holder.stdout.readline().strip() == "held"
        code, text = cli(capsys, "run", str(scenario), "--results", str(tmp_path / "r"),
                         "--no-wait")
        assert code == ExitCode.BUSY and "holder-campaign" in text, text
        waiting = subprocess.Popen(
            [sys.executable, "-c", "from bakeoff.cli import main; main()", "run",
             str(scenario), "--results", str(tmp_path / "r"), "--quiet", "--no-score"],
            cwd=REPO, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
        line = waiting.stderr.readline() + waiting.stderr.readline()  # rich wraps it
        assert "waiting" in line and "holder-campaign" in line, line
        holder.stdin.write("\n")
        holder.stdin.flush()
        _, rest = waiting.communicate(timeout=120)
        assert waiting.returncode == 0, rest
    finally:
        holder.kill()


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 KiB tmpfs, nearly full: writing results runs out of space mid-campaign."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        (mnt / "filler").write_bytes(b"\0" * (256 - 16) * 1024)
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_full_disk_is_a_message_not_a_traceback(tiny_disk, tmp_path, capsys):
    scenario = tiny(tmp_path / "s.yaml", repetitions=3)
    code, text = cli(capsys, "run", str(scenario), "--results", str(tiny_disk / "r"),
                     "--quiet", "--no-score")
    # 16 KiB free: the scenario and the first manifest fit, the first unit's journal does
    # not. That is one exact outcome, not "1, 5 or 6": an error (1) that says what ran out
    # and how to resume; no unit is claimed measured.
    assert code == ExitCode.ERROR, text
    assert "Traceback" not in text and "internal error" not in text
    assert "No space left on device; teardown ran" in text, text
    (folder,) = list((tiny_disk / "r").iterdir())
    assert f"--resume {folder.name}" in text, text
    manifest = json.loads((folder / "manifest.json").read_text())
    assert not [k for k, u in manifest["units"].items() if u.get("status") == "ok"]
    assert not tracking.temp_root_for(folder.name).exists()  # teardown ran
    # nothing lost: with the space back, the resume it printed completes the campaign
    (tiny_disk / "filler").unlink()
    code, text = cli(capsys, "run", str(scenario), "--resume", folder.name, "--results",
                     str(tiny_disk / "r"), "--quiet", "--no-score")
    assert code == ExitCode.OK, text
    from bench.verify import verify_campaign

    manifest = json.loads((folder / "manifest.json").read_text())
    assert {u["status"] for u in manifest["units"].values()} == {"ok"}
    assert len(manifest["units"]) == 3
    # the unit cut by the full disk had its journal written but never recorded; the resume
    # adopts it with its raw output's path and checksums, so the folder verifies clean
    assert verify_campaign(folder) == []
