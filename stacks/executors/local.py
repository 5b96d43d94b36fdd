"""Run commands on this machine, optionally inside a network namespace and a CPU envelope.

Every process is started in its own process group, so a timeout or a stop kills the
whole tree (tools like `ip netns exec` or Locust fork children).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import PrerequisiteError
from core.executor import CommandResult


def kill_group(proc: subprocess.Popen, grace_s: float = 3.0) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left after a grace period."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass
class LocalBackgroundProcess:
    """A started process; `stop()` ends its whole process group and returns its output."""

    proc: subprocess.Popen
    argv: tuple[str, ...]
    started: float
    _log_dir: Path

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> CommandResult:
        kill_group(self.proc)
        out = (self._log_dir / "stdout").read_text(errors="replace")
        err = (self._log_dir / "stderr").read_text(errors="replace")
        shutil.rmtree(self._log_dir, ignore_errors=True)
        return CommandResult(self.argv, self.proc.returncode if self.proc.returncode is not None
                             else -1, out, err, time.monotonic() - self.started)


@dataclass
class LocalExecutor:
    """Subprocess executor. `prefix` wraps commands (e.g. `ip netns exec NS`);
    `cpus` pins them to a CPU set with sched_setaffinity, inherited by all children."""

    prefix: tuple[str, ...] = ()
    cpus: frozenset[int] | None = None
    base_env: dict[str, str] = field(default_factory=dict)
    workdir: Path | None = None

    def _argv(self, argv: Sequence[str]) -> list[str]:
        if not argv:
            raise ValueError("empty command")
        if shutil.which(argv[0]) is None and not os.path.exists(argv[0]):
            raise PrerequisiteError(
                f"'{argv[0]}' is not installed on this machine; `make setup` installs the "
                "benchmark tools (needs apt and root or sudo)")
        return [*self.prefix, *argv]

    def _env(self, env: Mapping[str, str] | None) -> dict[str, str]:
        merged = dict(os.environ)
        merged.update(self.base_env)
        if env:
            merged.update(env)
        return merged

    def _preexec(self):
        cpus = self.cpus
        if not cpus:
            return None

        def pin() -> None:
            os.sched_setaffinity(0, cpus)

        return pin

    def run(self, argv: Sequence[str], timeout: float,
            env: Mapping[str, str] | None = None) -> CommandResult:
        full = self._argv(argv)
        start = time.monotonic()
        proc = subprocess.Popen(
            full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            env=self._env(env), cwd=self.workdir, start_new_session=True,
            preexec_fn=self._preexec(), text=True, errors="replace")
        try:
            out, err = proc.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            kill_group(proc, grace_s=1.0)
            out, err = proc.communicate()
            timed_out = True
        except BaseException:  # Ctrl-C: leave nothing running
            kill_group(proc, grace_s=1.0)
            raise
        return CommandResult(tuple(full), proc.returncode, out, err,
                             time.monotonic() - start, timed_out)

    def start(self, argv: Sequence[str],
              env: Mapping[str, str] | None = None) -> LocalBackgroundProcess:
        import tempfile

        full = self._argv(argv)
        log_dir = Path(tempfile.mkdtemp(prefix="bakeoff-bg-"))
        with open(log_dir / "stdout", "w") as out, open(log_dir / "stderr", "w") as err:
            proc = subprocess.Popen(
                full, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=self._env(env),
                cwd=self.workdir, start_new_session=True, preexec_fn=self._preexec())
        return LocalBackgroundProcess(proc, tuple(full), time.monotonic(), log_dir)

    def put(self, local: Path, remote: str) -> None:
        Path(remote).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, remote)

    def get(self, remote: str, local: Path) -> None:
        local.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(remote, local)
