"""SSH readiness: a late-starting host is waited for; a host with another key is refused."""

from __future__ import annotations

import getpass
import threading
import time

import pytest

from core.errors import PrerequisiteError
from stacks.cloud.cloudinit import new_host_key
from stacks.cloud.ready import wait_for_cloud_init, wait_for_ssh
from stacks.executors.ssh import HostKeyRejected, SshExecutor, SshTarget
from tests.cloud_fake import start_sshd, stop_pid
from tests.sshd_support import _free_port, needs_sshd

pytestmark = needs_sshd


@pytest.fixture
def login(tmp_path):
    key = new_host_key("operator")
    path = tmp_path / "id_ed25519"
    path.write_text(key.private_openssh)
    path.chmod(0o600)
    return path, key.public_openssh


def _executor(tmp_path, port, host_pub, key_path):
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {host_pub}\n")
    return SshExecutor(SshTarget(getpass.getuser(), "127.0.0.1", port), key=key_path,
                       known_hosts=known, connect_timeout_s=5)


def test_waits_for_a_late_sshd_with_the_key_handed_over(tmp_path, login):
    key_path, login_pub = login
    host = new_host_key("late-host")  # generated here, before the "VM" exists
    port = _free_port()
    ex = _executor(tmp_path, port, host.public_openssh, key_path)
    started: list[int] = []
    timer = threading.Timer(1.5, lambda: started.append(
        start_sshd(tmp_path / "sshd", host.private_openssh, login_pub, port)[0]))
    timer.start()
    retries: list[str] = []
    try:
        took = wait_for_ssh(ex, deadline_s=60, first_delay_s=0.2, on_retry=retries.append)
        assert took >= 1.0 and retries  # it really had to wait and retry
        assert "refused" in retries[0]
        seconds, status = wait_for_cloud_init(ex)  # no cloud-init here: nothing to wait for
        assert status == "no cloud-init" and seconds >= 0
    finally:
        timer.join()
        ex.close_quietly()
        for pid in started:
            stop_pid(pid)


def test_a_different_host_key_is_refused_at_once(tmp_path, login):
    key_path, login_pub = login
    real, other = new_host_key("real"), new_host_key("impostor")
    pid, port = start_sshd(tmp_path / "sshd", other.private_openssh, login_pub)
    ex = _executor(tmp_path, port, real.public_openssh, key_path)
    try:
        start = time.monotonic()
        with pytest.raises(HostKeyRejected, match="not trusted"):
            wait_for_ssh(ex, deadline_s=60, first_delay_s=0.2)
        assert time.monotonic() - start < 30  # not retried until the deadline
    finally:
        ex.close_quietly()
        stop_pid(pid)


def test_deadline_names_the_last_problem(tmp_path, login):
    key_path, _ = login
    ex = _executor(tmp_path, _free_port(), new_host_key("x").public_openssh, key_path)
    with pytest.raises(PrerequisiteError, match=r"SSH not ready after 1s; last problem: .*refused"):
        wait_for_ssh(ex, deadline_s=1, first_delay_s=0.2)
