"""The executor contract: run, start (background), put, get."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from core.errors import BakeoffError


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    rc: int
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.timed_out


class BackgroundProcess(Protocol):
    """A server-side process (iperf3 -s, the PoC service) that lives for one unit of work."""

    def stop(self) -> CommandResult: ...

    def alive(self) -> bool: ...


class Executor(Protocol):
    """How workloads reach a host. Implementations: local subprocess, SSH (asyncssh)."""

    def run(self, argv: Sequence[str], timeout: float,
            env: Mapping[str, str] | None = None) -> CommandResult: ...

    def start(self, argv: Sequence[str], env: Mapping[str, str] | None = None,
              ) -> BackgroundProcess: ...

    def put(self, local: Path, remote: str) -> None: ...

    def get(self, remote: str, local: Path) -> None: ...


def stage_file(executor: Executor, local: Path, remote: str) -> str:
    """Copy one file (a locustfile, a SQL file) to `remote` on the host; returns `remote`.

    Beside `put` so a workload stages a file through the executor alone, never learning how
    a provider ships files (issue 19: workloads imported it from stacks/payload)."""
    try:
        executor.put(Path(local), remote)
    except OSError as e:
        raise BakeoffError(f"could not copy {local} to the host: {e}") from None
    return remote
