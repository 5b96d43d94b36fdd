"""The fault suite: a reduced quickstart killed at seeded points, then checked and resumed.

After every kill: nothing of the campaign is left on the machine (after `bakeoff gc
--delete` when the kill was SIGKILL), the manifest is final and the journals are valid,
and `--resume` measures every unit exactly once, giving the unit set of an uninterrupted
run. The first cases run in every `make test`; the rest are marked slow
(`pytest -m slow tests/faults`).
"""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import have, is_root
from tests.faults.support import (
    KillPoint,
    Run,
    assert_clean,
    assert_valid_folder,
    units_in_tables,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (is_root and have("ip", "sysbench", "iperf3", "pgbench")),
                       reason="needs root, iproute2, sysbench, iperf3 and PostgreSQL"),
]

INT, TERM, KILL = signal.SIGINT, signal.SIGTERM, signal.SIGKILL

DEFAULT = [
    KillPoint("int-provisioning", "provisioning", (INT,), 1),
    KillPoint("term-postgres", "postgres", (TERM,), 2),
    KillPoint("kill-postgres", "postgres", (KILL,), 3),
    KillPoint("term-sysbench", "sysbench", (TERM,), 4),
    KillPoint("kill-iperf3", "iperf3", (KILL,), 5),
    KillPoint("int-locust", "locust", (INT,), 6),
    KillPoint("int-term-pgbench", "pgbench", (INT, TERM), 7),
    KillPoint("term-scoring", "scoring", (TERM,), 8),
]
SLOW = [
    KillPoint("kill-provisioning", "provisioning", (KILL,), 11),
    KillPoint("term-term-postgres", "postgres", (TERM, TERM), 12),
    KillPoint("kill-locust", "locust", (KILL,), 13),
    KillPoint("term-int-locust", "locust", (TERM, INT), 14),
    KillPoint("kill-pgbench", "pgbench", (KILL,), 15),
    KillPoint("int-iperf3", "iperf3", (INT,), 16),
    KillPoint("kill-scoring", "scoring", (KILL,), 17),
    KillPoint("triple-sysbench", "sysbench", (INT, INT, INT), 18),
    KillPoint("triple-postgres", "postgres", (TERM, TERM, TERM), 19),
]
CASES = DEFAULT + [pytest.param(p, marks=pytest.mark.slow) for p in SLOW]


@pytest.mark.parametrize("point", CASES, ids=lambda p: p.id)
def test_kill_then_resume(point: KillPoint, uninterrupted, tmp_path: Path):
    run = Run(tmp_path)
    try:
        run.kill_at(point)
        rc, err = run.wait()
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait()
    assert run.find_id()
    err = " ".join(err.split())  # rich wraps long lines
    if KILL in point.signals:
        assert rc == -KILL
        gc = run.bakeoff("gc", "--delete", "--campaign", run.campaign_id)
        assert gc.returncode == 0, gc.stdout + gc.stderr
    elif len(point.signals) >= 3:
        assert rc == 130, err
        if "forcing exit" in err:  # else teardown had ended before the third signal
            assert "gc --delete" in err  # says what is left and how to remove it
        gc = run.bakeoff("gc", "--delete", "--campaign", run.campaign_id)
        assert gc.returncode == 0, gc.stdout + gc.stderr
    else:
        assert rc == 130, err
        if point.phase == "scoring":
            assert "bakeoff score" in err and "intact" in err, err
        else:
            assert "Resume with" in err, err
    assert_clean(run)
    manifest = assert_valid_folder(run)
    if point.phase == "scoring":
        assert manifest["status"] == "complete"
    else:
        assert manifest["status"] == "interrupted", manifest["status"]
    if KILL not in point.signals and len(point.signals) < 3:
        assert all("torn_down_at" in s for s in manifest["sites"].values()), manifest["sites"]

    before = {p: p.stat().st_mtime_ns for p in (run.folder / "units").glob("*/*/*.json")}
    res = run.bakeoff("run", str(run.scenario), "--results", str(run.results), "--resume",
                      run.campaign_id, "--quiet", "--no-score")
    assert res.returncode == 0, res.stdout + res.stderr
    assert_clean(run)
    manifest = run.manifest()
    assert manifest["status"] == "complete"
    assert all(u["status"] == "ok" for u in manifest["units"].values())
    for path, mtime in before.items():  # measured units were not measured again
        assert path.stat().st_mtime_ns == mtime, path
    assert uninterrupted.rc == 0, uninterrupted.err
    assert units_in_tables(run) == uninterrupted.units
    journals = Counter(str(p.relative_to(run.folder / "units")) for p in
                       (run.folder / "units").glob("*/*/*.json"))
    assert len(journals) == len(uninterrupted.units) and set(journals.values()) == {1}
    raws = Counter(str(p.parent.relative_to(run.folder / "raw")) + "/" + p.name.split(".")[0]
                   for p in (run.folder / "raw").glob("*/*/*") if "failed" not in p.name)
    assert set(raws.values()) == {1} and len(raws) == len(uninterrupted.units)
    verify = run.bakeoff("verify", str(run.folder))
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_gc_finds_nothing_of_other_campaigns(tmp_path: Path):
    """gc with an empty state root lists no campaign leftovers (untracked are only listed)."""
    env = dict(os.environ, BAKEOFF_STATE_DIR=str(tmp_path / "empty"))
    run = Run.__new__(Run)
    run.env = env
    res = run.bakeoff("gc", "-p", "local")
    assert res.returncode == 0
    assert "removing" not in res.stdout and "leftover:" not in res.stdout


def _journal_keys(folder: Path) -> set[str]:
    return {str(p.relative_to(folder / "units"))[:-5] for p in
            (folder / "units").glob("*/*/*.json")}


def test_manifest_lists_checksums(uninterrupted):
    """Every ok unit carries checksums of its journal and raw output (used by verify)."""
    folder = uninterrupted.run.folder
    manifest = json.loads((folder / "manifest.json").read_text())
    for key, unit in manifest["units"].items():
        assert len(unit["journal_sha256"]) == 64 and len(unit["raw_sha256"]) == 64, key
    assert _journal_keys(folder) == set(manifest["units"])
