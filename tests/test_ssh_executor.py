"""The SSH executor against a real OpenSSH server on 127.0.0.1 (same contract as local)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.errors import PrerequisiteError
from stacks.executors.ssh import SshExecutor
from stacks.executors.ssh_target import SshTarget
from tests.sshd_support import Sshd, needs_sshd


@pytest.fixture
def ex(sshd: Sshd):
    executor = SshExecutor(sshd.target, key=sshd.client_key, known_hosts=sshd.known_hosts)
    yield executor
    executor.close()


def _pgrep(pattern: str) -> str:
    """Live processes whose command line matches (zombies have none, so never match)."""
    return subprocess.run(["pgrep", "-fa", pattern], capture_output=True, text=True).stdout


# -- addresses (no server needed) ---------------------------------------------------
@pytest.mark.parametrize("text,expected", [
    ("alice@db1.example:2222", SshTarget("alice", "db1.example", 2222)),
    ("bob@10.0.0.7", SshTarget("bob", "10.0.0.7", 22)),
    ("carol@[::1]:2200", SshTarget("carol", "::1", 2200)),
])
def test_target_parsing(text, expected):
    assert SshTarget.parse(text) == expected


@pytest.mark.parametrize("text", ["alice@", "alice@host:0", "alice@host:ssh", "a b@host"])
def test_bad_target_is_a_clear_error(text):
    with pytest.raises(ValueError, match=r"user@host|port"):
        SshTarget.parse(text)


def test_missing_asyncssh_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "asyncssh", None)  # makes `import asyncssh` fail
    with pytest.raises(PrerequisiteError, match=r"pip install 'cloud-bakeoff\[ssh\]'"):
        SshExecutor("root@127.0.0.1:1")


# -- against the real sshd ----------------------------------------------------------
@needs_sshd
@pytest.mark.integration
def test_run_captures_output_and_exit_code(ex):
    res = ex.run(["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=20)
    assert (res.rc, res.stdout, res.stderr) == (3, "out\n", "err\n")
    assert not res.ok and not res.timed_out and res.duration_s > 0
    assert ex.run(["uname", "-r"], timeout=20).stdout.strip() == os.uname().release


@needs_sshd
@pytest.mark.integration
def test_argv_is_quoted_and_env_is_passed(ex):
    tricky = "it's a $HOME; `x` \"q\""
    res = ex.run(["printf", "%s|%s|%s", tricky, "$A"], timeout=20)
    assert res.stdout == f"{tricky}|$A|"
    res = ex.run(["sh", "-c", 'echo "$A/$B"'], timeout=20, env={"A": "1 2", "B": "x'y"})
    assert res.stdout == "1 2/x'y\n"
    with pytest.raises(ValueError, match="not a valid identifier"):
        ex.run(["true"], timeout=20, env={"BAD NAME": "1"})


@needs_sshd
@pytest.mark.integration
def test_timeout_kills_the_remote_process_tree(ex):
    started = time.monotonic()
    res = ex.run(["sh", "-c", "sleep 3171 & sleep 3172 & echo begun; wait"], timeout=1)
    assert res.timed_out and not res.ok
    assert time.monotonic() - started < 10
    assert res.stdout == "begun\n"  # output before the timeout is kept
    assert res.rc < 0
    time.sleep(0.2)
    assert _pgrep("sleep 317[12]") == ""


@needs_sshd
@pytest.mark.integration
def test_background_process_stop_returns_output(ex):
    bg = ex.start(["sh", "-c", "echo ready; echo warn >&2; sleep 3173"])
    time.sleep(0.3)
    assert bg.alive()
    assert "sleep 3173" in _pgrep("sleep 3173")
    res = bg.stop()
    assert (res.stdout, res.stderr, res.rc) == ("ready\n", "warn\n", -15)
    assert not bg.alive() and _pgrep("sleep 3173") == ""
    assert not os.path.exists(bg.remote_dir)  # sshd is on this machine: same /tmp
    assert bg.stop() is res  # stopping twice is harmless


@needs_sshd
@pytest.mark.integration
def test_background_process_that_exits_keeps_its_exit_code(ex):
    bg = ex.start(["sh", "-c", 'echo "$GREETING"; exit 4'], env={"GREETING": "hi there"})
    deadline = time.monotonic() + 10
    while bg.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not bg.alive()
    res = bg.stop()
    assert (res.rc, res.stdout) == (4, "hi there\n")


@needs_sshd
@pytest.mark.integration
def test_missing_tool_is_a_clear_error(ex, sshd):
    with pytest.raises(PrerequisiteError, match=f"'no-such-tool-xyz' is not installed on "
                       f"{sshd.target}"):
        ex.run(["no-such-tool-xyz", "--help"], timeout=20)


@needs_sshd
@pytest.mark.integration
def test_put_get_round_trip(ex, tmp_path):
    data = os.urandom(300_000) + b"\x00\n\xff"
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    remote = str(tmp_path / "remote" / "nested" / "copy.bin")
    ex.put(src, remote)
    assert ex.run(["sha256sum", remote], timeout=20).stdout.split()[0] == \
        subprocess.run(["sha256sum", str(src)], capture_output=True, text=True
                       ).stdout.split()[0]
    back = tmp_path / "back" / "copy.bin"
    ex.get(remote, back)
    assert back.read_bytes() == data
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ex.get(str(tmp_path / "absent"), tmp_path / "x")


@needs_sshd
@pytest.mark.integration
def test_close_then_reuse_reconnects(ex):
    assert ex.run(["true"], timeout=20).ok
    ex.close()
    ex.close()
    assert ex.run(["echo", "again"], timeout=20).stdout == "again\n"


@needs_sshd
@pytest.mark.integration
def test_wrong_key_names_the_target(sshd):
    ex = SshExecutor(sshd.target, key=sshd.other_key, known_hosts=sshd.known_hosts)
    with pytest.raises(PrerequisiteError) as err:
        ex.run(["true"], timeout=20)
    msg = str(err.value)
    assert sshd.target in msg and "authorized_keys" in msg and "Traceback" not in msg


@needs_sshd
@pytest.mark.integration
def test_unknown_host_key_mentions_known_hosts(sshd, tmp_path):
    for known in (sshd.wrong_known_hosts, tmp_path / "empty_known_hosts"):
        Path(known).touch()
        ex = SshExecutor(sshd.target, key=sshd.client_key, known_hosts=known)
        with pytest.raises(PrerequisiteError, match="known_hosts") as err:
            ex.run(["true"], timeout=20)
        assert sshd.target in str(err.value) and str(known) in str(err.value)


@needs_sshd
@pytest.mark.integration
def test_insecure_option_skips_host_key_checking(sshd):
    ex = SshExecutor(sshd.target, key=sshd.client_key, known_hosts=sshd.wrong_known_hosts,
                     insecure_accept_host_key=True)
    try:
        assert ex.run(["echo", "ok"], timeout=20).stdout == "ok\n"
    finally:
        ex.close()


@needs_sshd
@pytest.mark.integration
def test_refused_port_is_a_clear_error(sshd):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ex = SshExecutor(f"{sshd.user}@127.0.0.1:{port}", key=sshd.client_key,
                     known_hosts=sshd.known_hosts)
    with pytest.raises(PrerequisiteError, match=f"{sshd.user}@127.0.0.1:{port}: connection "
                       "refused"):
        ex.run(["true"], timeout=20)
