"""A real OpenSSH server on 127.0.0.1 for the SSH executor and static provider tests.

Everything it needs (host key, client key, authorized_keys, known_hosts, config, pid
file) lives in a temporary directory; nothing in /etc/ssh or ~/.ssh is read or changed.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import MISSING_TOOL

SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True)
class Sshd:
    """A running sshd and the files a client needs to reach it."""

    port: int
    user: str
    client_key: Path  # private key whose public half is authorized
    other_key: Path  # a key the server does NOT accept
    known_hosts: Path  # trusts this server's host key at [127.0.0.1]:port
    wrong_known_hosts: Path  # names the same host with a different key
    log: Path
    proc: subprocess.Popen

    @property
    def target(self) -> str:
        return f"{self.user}@127.0.0.1:{self.port}"


def sshd_available() -> tuple[bool, str]:
    if not os.path.exists(SSHD):
        return False, f"{MISSING_TOOL}: {SSHD} (apt-get install openssh-server)"
    if shutil.which("ssh-keygen") is None:
        return False, f"{MISSING_TOOL}: ssh-keygen (apt-get install openssh-client)"
    if os.geteuid() != 0:
        return False, "a loopback sshd for another user's login needs root here"
    return True, ""


_OK, _WHY = sshd_available()
needs_sshd = pytest.mark.skipif(not _OK, reason=_WHY)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path, comment: str) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment,
                    "-f", str(path)], check=True, timeout=30)


def _wait_listening(port: int, proc: subprocess.Popen, log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited with {proc.returncode}: {log.read_text()[-2000:]}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen on 127.0.0.1:{port}: {log.read_text()[-2000:]}")


@contextmanager
def running_sshd(tmp: Path) -> Iterator[Sshd]:
    """Start `sshd -D -e` with a throwaway config; stop it and check it is gone."""
    tmp.mkdir(parents=True, exist_ok=True)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
    host_key, client_key, other_key = tmp / "host_key", tmp / "client_key", tmp / "other_key"
    _keygen(host_key, "bakeoff-test-host")
    _keygen(client_key, "bakeoff-test-client")
    _keygen(other_key, "bakeoff-test-other")
    authorized = tmp / "authorized_keys"
    authorized.write_text(client_key.with_suffix(".pub").read_text())
    port = _free_port()
    host_pub = host_key.with_suffix(".pub").read_text().split()
    known = tmp / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    other_pub = other_key.with_suffix(".pub").read_text().split()
    wrong_known = tmp / "wrong_known_hosts"
    wrong_known.write_text(f"[127.0.0.1]:{port} {other_pub[0]} {other_pub[1]}\n")
    config = tmp / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {host_key}",
        f"PidFile {tmp / 'sshd.pid'}", f"AuthorizedKeysFile {authorized}",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
        "StrictModes no", "PermitRootLogin prohibit-password", "PubkeyAuthentication yes",
        "Subsystem sftp internal-sftp", "MaxSessions 50", "MaxStartups 50",
        "LogLevel VERBOSE", ""]))
    log = tmp / "sshd.log"
    with open(log, "w") as log_f:
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log_f,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    try:
        _wait_listening(port, proc, log, timeout_s=10)
        yield Sshd(port, getpass.getuser(), client_key, other_key, known, wrong_known, log,
                   proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        assert proc.poll() is not None, "sshd is still running after the test session"
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still accepts"
