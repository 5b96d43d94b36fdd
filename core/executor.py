"""The executor contract: run, start (background), put, get."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


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
