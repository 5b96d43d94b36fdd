"""What a cloud VM does for itself, run here for real where it can be: the setup script
stops at the first failing step and writes the ready marker only on success; pip is
pinned to this controller's versions; the VM schedules its power-off at the TTL;
`cloud-init status` exit 2 counts as done; the setup log is kept; the data disk check."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from core.errors import PrerequisiteError
from stacks.cloud.cloudinit import (
    CONSTRAINTS_PATH,
    SETUP_PATH,
    base_config,
    pip_requirements,
    setup_script,
    tools_cloud_init,
)
from stacks.cloud.datadisk import data_scratch
from stacks.cloud.pins import constraints_text
from stacks.cloud.ready import wait_for_cloud_init
from stacks.cloud.userdata import poweroff_at_ttl
from stacks.cloud.vmlog import copy_setup_log
from stacks.executors.local import LocalExecutor


def _sh(script: str, tmp_path: Path, *args: str, path_dir: Path | None = None):
    env = {**os.environ, "PATH": f"{path_dir}:{os.environ['PATH']}" if path_dir
           else os.environ["PATH"]}
    f = tmp_path / "script.sh"
    f.write_text(script)
    return subprocess.run(["sh", str(f), *args], capture_output=True, text=True, env=env,
                          timeout=30)


def test_setup_stops_at_the_first_failing_step_and_is_ready_only_on_success(tmp_path):
    ready, after = tmp_path / "ready", tmp_path / "after"
    steps = [["sh", "-c", f"echo one > {tmp_path}/one"], ["false"], ["touch", str(after)]]
    res = _sh(setup_script(steps, ready=str(ready)), tmp_path)
    assert res.returncode != 0 and (tmp_path / "one").exists()
    assert not after.exists() and not ready.exists()
    res = _sh(setup_script([steps[0], steps[2]], ready=str(ready)), tmp_path)
    assert res.returncode == 0 and after.exists() and ready.exists()


def test_every_base_step_is_in_the_script_and_pip_is_pinned():
    cfg = yaml.safe_load(tools_cloud_init("h"))
    files = {f["path"]: f["content"] for f in cfg["write_files"]}
    script = files[SETUP_PATH]
    assert script.splitlines()[2] == "set -eux" and cfg["runcmd"] == [[SETUP_PATH]]
    for step in base_config()["runcmd"]:
        assert step[0] in script
    assert f"/opt/bakeoff/bin/pip install -c {CONSTRAINTS_PATH} -q" in script
    # the constraints pin what is installed here (read independently of pins.py)
    pins = dict(line.split("==") for line in files[CONSTRAINTS_PATH].splitlines()
                if "==" in line)
    for dist in ("locust", "psycopg", "uvicorn", "starlette", "gevent"):
        assert pins[dist] == metadata.version(dist), dist
    assert set(pip_requirements()) >= {"locust>=2.24", "psycopg[binary]>=3.1"}
    assert "psycopg-binary" in pins  # the extra was followed
    sh = subprocess.run(["sh", "-n", "-c", files["/var/lib/bakeoff/mount-data.sh"]],
                        capture_output=True, text=True, timeout=10)
    assert sh.returncode == 0, sh.stderr


def test_constraints_leave_out_what_is_not_installed_here():
    text = constraints_text(["no-such-dist-bakeoff>=1", "pyyaml>=6"])
    assert f"pyyaml=={metadata.version('pyyaml')}" in text
    assert "not pinned: no-such-dist-bakeoff" in text


@pytest.mark.parametrize(("minutes_ahead", "expected"), [(30, {"+29", "+30"}), (-5, {"+1"})])
def test_vm_powers_itself_off_at_the_ttl(tmp_path, minutes_ahead, expected):
    """The step as cloud-init runs it, with `shutdown` replaced by a recorder on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "shutdown").write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\n')
    (bin_dir / "shutdown").chmod(0o755)
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes_ahead)).isoformat(
        timespec="seconds")
    argv = poweroff_at_ttl(expires)
    assert argv[:2] == ["sh", "-c"]
    res = _sh(argv[2], tmp_path, *argv[4:], path_dir=bin_dir)
    assert res.returncode == 0, res.stderr
    args = (tmp_path / "args").read_text().split()
    assert args[0] == "-P" and args[1] in expected


def _fake_cloud_init(tmp_path: Path, rc: int, text: str) -> LocalExecutor:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "cloud-init").write_text(f"#!/bin/sh\necho '{text}'\nexit {rc}\n")
    (bin_dir / "cloud-init").chmod(0o755)
    return LocalExecutor(base_env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})


def test_cloud_init_done_with_warnings_is_done_and_an_error_is_not(tmp_path):
    ex = _fake_cloud_init(tmp_path, 2, "status: done")
    _, status = wait_for_cloud_init(ex, timeout_s=30)
    assert status.startswith("done with warnings")
    ex = _fake_cloud_init(tmp_path, 1, "status: error")
    with pytest.raises(PrerequisiteError, match="cloud-init failed"):
        wait_for_cloud_init(ex, timeout_s=30)


def test_setup_log_is_copied_even_from_a_host_without_it(tmp_path):
    path = copy_setup_log(_fake_cloud_init(tmp_path, 1, "status: error"), tmp_path / "raw",
                          "server")
    text = path.read_text()
    assert path.name == "server-cloud-init.log" and "status: error" in text


def test_scratch_lives_on_a_separate_mount_and_a_missing_disk_fails(tmp_path):
    ex = LocalExecutor()
    shm = Path("/dev/shm")
    if not os.path.ismount(shm):
        pytest.skip("no /dev/shm mount on this machine")
    scratch, disk = data_scratch("web", "client", ex, str(shm))
    try:
        assert scratch.startswith("/dev/shm/bakeoff-web-client-")
        found = subprocess.run(["findmnt", "-n", "-o", "SOURCE,FSTYPE,TARGET", "--target",
                                scratch], capture_output=True, text=True).stdout.split()
        assert [disk["device"], disk["fstype"], disk["mount"]] == found[-3:]  # top mount
    finally:
        os.rmdir(scratch)
    with pytest.raises(PrerequisiteError, match=r"site 'web', client host.*data disk is "
                                                r"missing: .* is not a mount point"):
        data_scratch("web", "client", ex, str(tmp_path))


def test_fio_unit_records_the_disk_its_files_were_on(tmp_path):
    """Scratch made by the data-disk probe (on /dev/shm here, a real separate mount), fio
    run for real through `measure`: the unit's manifest entry names that disk; a unit
    that does not measure a disk (ping) does not."""
    from bench.measure import measure
    from bench.results import ResultStore
    from bench.units import Unit
    from core.environment import Environment, Host
    from core.scenario import WorkloadSpec

    if not os.path.ismount("/dev/shm"):
        pytest.skip("no /dev/shm mount on this machine")
    ex = LocalExecutor()
    scratch, disk = data_scratch("web", "client", ex, "/dev/shm")
    try:
        facts = {"vcpus": 1, "scratch_dir": scratch, "scratch_disk": disk}
        hosts = {n: Host(n, f"zone-{n}", "127.0.0.1", ex, dict(facts))
                 for n in ("client", "server")}
        env = Environment(site="web", provider="aws", region="r", instance_type="t",
                          hosts=hosts)
        store = ResultStore(tmp_path, "c1")
        store.dir.mkdir(parents=True)
        fio = Unit("web", WorkloadSpec(name="fio", params={
            "rw": "randread", "bs": "4k", "size": "4M", "runtime_s": 1, "iodepth": 1,
            "ioengine": "psync", "direct": False}), 0)  # tmpfs takes no O_DIRECT
        status = measure(store, env, fio, "test", lambda line: None)
        assert status["status"] == "ok", status
        assert status["scratch_disk"] == disk and disk["mount"] == "/dev/shm"
        ping = Unit("web", WorkloadSpec(name="ping", params={"count": 2,
                                                              "interval_s": 0.2}), 0)
        assert "scratch_disk" not in measure(store, env, ping, "test", lambda line: None)
    finally:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
