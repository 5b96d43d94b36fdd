"""Run commands on a remote host over SSH (asyncssh), with the local executor's contract.

The rest of bakeoff is synchronous, so one asyncio loop runs in a daemon thread shared by
every SSH executor and the public methods submit coroutines to it. Each executor keeps a
single connection, opened on first use and closed by `close()`.

Every remote command runs in its own session and process group (`setsid`), so a timeout,
a `stop()` or Ctrl-C can end the whole tree with `kill -- -PGID` (TERM, then KILL). The
remote host's PID 1 may not reap orphans, so liveness checks skip zombies by reading
/proc instead of trusting `kill -0`. The shell side of this lives in ssh_scripts.py.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import shlex
import signal
import threading
import time
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

from core.errors import BakeoffError, PrerequisiteError
from core.executor import CommandResult
from stacks.executors.ssh_scripts import (
    ALIVE_FN,
    BG_WRAPPER,
    KILL,
    MISSING,
    PGID_LINE,
    RUN_WRAPPER,
    SETSID_SIGNALLED,
    WAIT_PGID,
    env_words,
    sh,
)
from stacks.executors.ssh_target import SshTarget

__all__ = ["HostKeyRejected", "SshBackgroundProcess", "SshExecutor", "SshTarget",
           "require_asyncssh"]

INSTALL_HINT = "pip install 'cloud-bakeoff[ssh]'"
class HostKeyRejected(PrerequisiteError):
    """The host offered a key that known_hosts does not hold: never retried."""


_loop_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _event_loop() -> asyncio.AbstractEventLoop:
    """The shared loop, started on first use in a daemon thread."""
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="bakeoff-ssh", daemon=True).start()
        return _loop


def require_asyncssh() -> Any:
    """The asyncssh module, or a PrerequisiteError saying how to install it."""
    try:
        import asyncssh
    except ImportError:
        raise PrerequisiteError(f"SSH support is not installed; {INSTALL_HINT}") from None
    return asyncssh


class SshBackgroundProcess:
    """A remote process started by `SshExecutor.start`; its output waits in `remote_dir`."""

    def __init__(self, executor: SshExecutor, argv: tuple[str, ...], remote_dir: str):
        self.executor = executor
        self.argv = argv
        self.remote_dir = remote_dir
        self.started = time.monotonic()
        self._result: CommandResult | None = None

    def alive(self) -> bool:
        if self._result is not None:
            return False
        script = ('[ -e "$D/rc" ] && exit 1; ' + WAIT_PGID + '[ -n "$PG" ] || exit 1; '
                  + ALIVE_FN + 'alive')
        return self.executor.run_script(sh(script, D=self.remote_dir), timeout=30).rc == 0

    def stop(self) -> CommandResult:
        """End the group (TERM, then KILL), return what it printed, remove the temp files."""
        if self._result is not None:
            return self._result
        script = (WAIT_PGID + 'how=gone; if [ -n "$PG" ]; then how=$(' + KILL + '); fi; '
                  'echo "bakeoff-stop:$(cat "$D/rc" 2>/dev/null):$how"; '
                  'cat "$D/stdout" 2>/dev/null; cat "$D/stderr" >&2 2>/dev/null; rm -rf "$D"')
        res = self.executor.run_script(sh(script, D=self.remote_dir, GRACE=30), timeout=60)
        status, _, out = res.stdout.partition("\n")
        match = re.fullmatch(r"bakeoff-stop:(-?\d*):(\w+)", status.strip())
        if match is None:
            raise BakeoffError(f"{self.executor.target}: could not stop background "
                               f"{shlex.join(self.argv)}: {res.stderr.strip()[:300]}")
        rc_text, how = match.groups()
        killed = {"TERM": -signal.SIGTERM, "KILL": -signal.SIGKILL}
        rc = int(rc_text) if rc_text else killed.get(how, -1)
        self._result = CommandResult(self.argv, rc, out, res.stderr,
                                     time.monotonic() - self.started)
        return self._result


class SshExecutor:
    """Executor for one `user@host[:port]`, authenticating with keys only.

    Host keys are checked against `known_hosts` (default: ~/.ssh/known_hosts). Only
    `insecure_accept_host_key=True` turns checking off; it accepts any key and records
    nothing, so use it only on networks you control.
    """

    def __init__(self, target: str | SshTarget, *, key: str | Path | None = None,
                 known_hosts: str | Path | None = None, insecure_accept_host_key: bool = False,
                 connect_timeout_s: float = 15.0):
        require_asyncssh()
        self.target = target if isinstance(target, SshTarget) else SshTarget.parse(target)
        self.key = Path(key).expanduser() if key else None
        self.known_hosts = Path(known_hosts).expanduser() if known_hosts else None
        self.insecure_accept_host_key = insecure_accept_host_key
        self.connect_timeout_s = connect_timeout_s
        self._conn: Any = None
        self._sftp: Any = None
        self._lock: asyncio.Lock | None = None

    # -- plumbing -------------------------------------------------------------------
    def _call(self, coro: Coroutine[Any, Any, Any], timeout: float) -> Any:
        fut = asyncio.run_coroutine_threadsafe(coro, _event_loop())
        try:
            return fut.result(timeout)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise PrerequisiteError(f"{self.target}: no answer over SSH within "
                                    f"{timeout:.0f}s") from None

    def _known_hosts_file(self) -> Path:
        return self.known_hosts or Path("~/.ssh/known_hosts").expanduser()

    async def _connection(self) -> Any:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._conn is None:
                self._conn = await self._connect()
            return self._conn

    async def _connect(self) -> Any:
        asyncssh = require_asyncssh()
        t = self.target
        if self.key is not None and not self.key.is_file():
            raise PrerequisiteError(f"{t}: SSH key {self.key} does not exist (ssh_key in the "
                                    "scenario)")
        if self.insecure_accept_host_key:
            known: Any = None
        elif self.known_hosts is not None and not self.known_hosts.is_file():
            raise PrerequisiteError(f"{t}: known_hosts file {self.known_hosts} does not exist")
        else:
            known = str(self.known_hosts) if self.known_hosts else ()
        opts: dict[str, Any] = {"known_hosts": known, "username": t.user, "port": t.port,
                                "connect_timeout": self.connect_timeout_s,
                                "keepalive_interval": 30, "password_auth": False,
                                "kbdint_auth": False}
        if self.key is not None:
            opts["client_keys"] = [str(self.key)]
        try:
            return await asyncssh.connect(t.host, **opts)
        except asyncssh.HostKeyNotVerifiable as e:
            raise HostKeyRejected(
                f"{t}: the host key is not trusted ({e.reason}); checked known_hosts file "
                f"{self._known_hosts_file()}. Verify the host's fingerprint, then add it, e.g. "
                f"`ssh-keyscan -p {t.port} {t.host} >> ~/.ssh/known_hosts`") from None
        except asyncssh.PermissionDenied:
            which = f"key {self.key}" if self.key else "your default keys / ssh-agent"
            raise PrerequisiteError(
                f"{t}: SSH authentication failed with {which}; check that its public key is in "
                f"~{t.user}/.ssh/authorized_keys on {t.host} (password login is not used)"
            ) from None
        except ConnectionRefusedError:
            raise PrerequisiteError(f"{t}: connection refused; check that sshd runs on "
                                    f"{t.host} and listens on port {t.port}") from None
        except TimeoutError:
            raise PrerequisiteError(f"{t}: no SSH answer within {self.connect_timeout_s:.0f}s; "
                                    "check the address, port and firewall") from None
        except (OSError, asyncssh.Error) as e:
            raise PrerequisiteError(f"{t}: cannot connect over SSH: {e}; check the address, "
                                    "port, key and known_hosts") from None

    async def _guard(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Turn a dropped connection into a clear error and reconnect next time."""
        asyncssh = require_asyncssh()
        try:
            return await coro
        except (asyncssh.ConnectionLost, asyncssh.ChannelOpenError, BrokenPipeError) as e:
            self._conn, self._sftp = None, None
            raise PrerequisiteError(f"{self.target}: SSH connection lost: {e}") from None

    # -- the contract ---------------------------------------------------------------
    def run(self, argv: Sequence[str], timeout: float,
            env: Mapping[str, str] | None = None) -> CommandResult:
        if not argv:
            raise ValueError("empty command")
        argv = tuple(argv)
        cmd = "exec " + shlex.join(["setsid", "-w", *env_words(env), "sh", "-c",
                                    RUN_WRAPPER, "bakeoff", *argv])
        state: dict[str, Any] = {}
        fut = asyncio.run_coroutine_threadsafe(
            self._guard(self._run(cmd, timeout, state)), _event_loop())
        try:
            rc, out, err, duration, timed_out = fut.result(timeout + self.connect_timeout_s
                                                           + 90)
        except BaseException as e:  # Ctrl-C or a stuck connection: leave nothing running
            fut.cancel()
            if state.get("pgid"):
                self._call(self._guard(self._kill(state["pgid"], 10)), 30)
            if isinstance(e, concurrent.futures.TimeoutError):
                raise PrerequisiteError(f"{self.target}: SSH stopped answering") from None
            raise
        if rc == 127 and f"{MISSING}: {argv[0]}" in err:
            raise PrerequisiteError(f"'{argv[0]}' is not installed on {self.target}; install "
                                    "it there (see docs/static.md)")
        return CommandResult(argv, rc, out, err, duration, timed_out)

    async def _run(self, cmd: str, timeout: float, state: dict[str, Any],
                   ) -> tuple[int, str, str, float, bool]:
        conn = await self._connection()
        start = time.monotonic()
        proc = await conn.create_process(cmd, encoding=None)
        proc.stdin.write_eof()
        out, err = bytearray(), bytearray()

        async def pump(stream: Any, buf: bytearray) -> None:
            while chunk := await stream.read(65536):
                buf.extend(chunk)
                if buf is err and "pgid" not in state and (m := PGID_LINE.search(err)):
                    state["pgid"] = int(m.group(1))

        pumps = asyncio.gather(pump(proc.stdout, out), pump(proc.stderr, err))
        pumps.add_done_callback(lambda f: f.cancelled() or f.exception())  # no stray warning
        timed_out = False
        try:
            await asyncio.wait_for(asyncio.shield(pumps), timeout)
        except TimeoutError:
            timed_out = True
            if state.get("pgid"):
                await self._kill(state["pgid"], 10)
            else:
                proc.close()
            try:
                await asyncio.wait_for(asyncio.shield(pumps), 10)
            except TimeoutError:
                proc.close()
        except BaseException:
            proc.close()
            raise
        finally:
            if not pumps.done():
                pumps.cancel()
        try:
            await asyncio.wait_for(proc.wait_closed(), 10)
        except TimeoutError:
            proc.close()
        duration = time.monotonic() - start
        signalled = SETSID_SIGNALLED.search(err)
        if signalled and proc.exit_status:
            del err[signalled.start():]
            rc = -(proc.exit_status & 0x7F)  # like subprocess: minus the signal number
        elif proc.exit_status is not None and proc.exit_status >= 0:
            rc = proc.exit_status
        elif proc.exit_signal:
            rc = -getattr(signal, "SIG" + proc.exit_signal[0], signal.SIGKILL)
        else:
            rc = -signal.SIGKILL if timed_out else -1
        err_text = PGID_LINE.sub(b"", bytes(err), count=1).decode(errors="replace")
        return rc, out.decode(errors="replace"), err_text, duration, timed_out

    async def _kill(self, pgid: int, grace_tenths: int) -> str:
        conn = await self._connection()
        res = await conn.run(sh(KILL, PG=pgid, GRACE=grace_tenths), check=False,
                             timeout=grace_tenths / 10 + 30)
        return str(res.stdout).strip()

    def run_script(self, command: str, timeout: float) -> CommandResult:
        """Run a shell command line as is (no process group wrapper); for housekeeping."""
        return self._call(self._guard(self._script(command, timeout)),
                          timeout + self.connect_timeout_s + 30)

    async def _script(self, command: str, timeout: float) -> CommandResult:
        conn = await self._connection()
        start = time.monotonic()
        try:
            res = await conn.run(command, check=False, timeout=timeout, encoding="utf-8",
                                 errors="replace")
        except require_asyncssh().ProcessError as e:  # asyncssh's TimeoutError subclasses it
            return CommandResult((command,), -1, str(e.stdout or ""), str(e.stderr or ""),
                                 time.monotonic() - start, timed_out=True)
        rc = res.exit_status if res.exit_status is not None else -1
        return CommandResult((command,), rc, str(res.stdout or ""), str(res.stderr or ""),
                             time.monotonic() - start)

    def start(self, argv: Sequence[str],
              env: Mapping[str, str] | None = None) -> SshBackgroundProcess:
        if not argv:
            raise ValueError("empty command")
        argv = tuple(argv)
        inner = shlex.join([*env_words(env), "sh", "-c", BG_WRAPPER])
        script = ('d=$(mktemp -d /tmp/bakeoff-bg-XXXXXX) || exit 1; '
                  f'setsid {inner} "$d" {shlex.join(argv)} '
                  '</dev/null >"$d/stdout" 2>"$d/stderr" & echo "$d"')
        res = self.run_script(sh(script), timeout=30)
        remote_dir = res.stdout.strip()
        if res.rc != 0 or not remote_dir.startswith("/tmp/bakeoff-bg-"):
            raise BakeoffError(f"{self.target}: could not start {shlex.join(argv)}: "
                               f"{res.stderr.strip()[:300]}")
        return SshBackgroundProcess(self, argv, remote_dir)

    def put(self, local: Path, remote: str) -> None:
        self._call(self._guard(self._put(Path(local), remote)), 600)

    def get(self, remote: str, local: Path) -> None:
        local = Path(local)
        local.parent.mkdir(parents=True, exist_ok=True)
        self._call(self._guard(self._get(remote, local)), 600)

    async def _sftp_client(self) -> Any:
        conn = await self._connection()
        if self._sftp is None:
            self._sftp = await conn.start_sftp_client()
        return self._sftp

    async def _put(self, local: Path, remote: str) -> None:
        sftp = await self._sftp_client()
        parent = remote.rsplit("/", 1)[0] if "/" in remote.lstrip("/") else ""
        try:
            if parent:
                await sftp.makedirs(parent, exist_ok=True)
            await sftp.put(str(local), remote)
        except require_asyncssh().SFTPError as e:
            raise OSError(f"{self.target}: cannot write {remote}: {e.reason}") from None

    async def _get(self, remote: str, local: Path) -> None:
        asyncssh = require_asyncssh()
        sftp = await self._sftp_client()
        try:
            await sftp.get(remote, str(local))
        except asyncssh.SFTPNoSuchFile:
            raise FileNotFoundError(f"{self.target}:{remote} does not exist") from None
        except asyncssh.SFTPError as e:
            raise OSError(f"{self.target}: cannot read {remote}: {e.reason}") from None

    def close(self) -> None:
        """Close the connection; safe to call twice or when it never opened."""
        if self._conn is not None:
            self._call(self._close(), 30)

    async def _close(self) -> None:
        conn, sftp = self._conn, self._sftp
        self._conn, self._sftp = None, None
        if sftp is not None:
            sftp.exit()
        conn.close()
        await conn.wait_closed()

    def close_quietly(self) -> None:
        """Drop the connection (if any) without raising: before a retry."""
        try:
            self.close()
        except Exception:
            self._conn, self._sftp = None, None

    def __enter__(self) -> SshExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
