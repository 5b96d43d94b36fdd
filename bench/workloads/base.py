"""The workload contract: a params model, the steps to run, and a pure parser.

A workload never touches an executor itself. It describes steps (which host, which argv,
background or captured), the runner executes them through whatever executor the host
has, and hands the captured output to `parse`. That keeps parsers testable against
golden files and workloads identical on local, SSH and cloud hosts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from pydantic import ConfigDict

from bench.samples import ParsedOutput
from core.strict_numbers import NoBoolNumbers

if TYPE_CHECKING:
    from core.environment import Environment


class WorkloadParams(NoBoolNumbers):
    """Base for every workload's params: unknown keys are errors, booleans are not numbers."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Step:
    """One command on one host of the environment.

    `background` steps are started before the captured step and stopped after it (a
    server such as `iperf3 -s`); `ready_port` makes the runner wait until that TCP port
    accepts connections on the host's address before going on.
    """

    host: Literal["client", "server"]
    argv: tuple[str, ...]
    timeout_s: float = 120.0
    background: bool = False
    ready_port: int | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DiskNeed:
    """Free space a plan needs in a directory of a host, checked before it runs."""

    host: Literal["client", "server"]
    directory: str
    bytes: int
    what: str  # for the message, e.g. "fio: size 256M x numjobs 2"


@dataclass(frozen=True)
class Plan:
    """The steps of one unit of work; exactly one non-background step is captured."""

    steps: tuple[Step, ...]
    raw_suffix: str = "txt"  # file extension for the raw output (json for fio/iperf3)
    disk: tuple[DiskNeed, ...] = ()  # free space the runner checks first

    @property
    def captured(self) -> Step:
        fg = [s for s in self.steps if not s.background]
        if len(fg) != 1:
            raise ValueError("a plan needs exactly one captured (foreground) step")
        return fg[0]


@dataclass
class RunContext:
    """Handed to workloads that drive their own run (`run` instead of `plan`)."""

    raw_dir: Path  # where extra raw files (logs, per-request CSVs) may be written
    deadline_s: float  # the unit must finish within this many seconds
    campaign_id: str
    repetition: int
    extra: dict[str, Any] = field(default_factory=dict)


class Workload(Protocol):
    """A benchmark: params model, the tool it needs, steps to run, and a parser.

    Simple workloads give `plan()` (steps the runner executes). Workloads that must
    orchestrate several processes (Locust with workers, pgbench with a service scrape)
    may instead give `run(params, env, ctx) -> str`, returning the raw output that
    `parse` understands; the runner prefers `run` when a workload has it.
    """

    name: ClassVar[str]
    tool: ClassVar[str]
    Params: ClassVar[type[WorkloadParams]]
    # Every metric the parser can produce -> its unit; `validate` checks requirements
    # against it (and suggests the nearest name), a test checks the parsers keep to it.
    metrics: ClassVar[dict[str, str]]

    def plan(self, params: Any, env: Environment) -> Plan: ...

    def parse(self, output: str, params: Any) -> ParsedOutput: ...

    def tool_version_argv(self) -> tuple[str, ...]: ...
