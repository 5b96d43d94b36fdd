"""Run one unit of work (one workload, one site, one repetition) and parse its output."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bench.samples import ParsedOutput
from bench.workloads.base import Plan, RunContext, Workload
from core.environment import Environment, Host
from core.errors import BakeoffError
from core.executor import CommandResult


class UnitFailed(BakeoffError):
    """A unit of work ran but failed; `raw` keeps whatever the tool printed."""

    def __init__(self, message: str, raw: str = ""):
        super().__init__(message)
        self.raw = raw


@dataclass
class UnitOutput:
    raw: str
    raw_suffix: str
    parsed: ParsedOutput
    duration_s: float


def wait_for_port(host: Host, port: int, timeout_s: float = 15.0, proc: Any = None) -> None:
    """Poll the host's listening sockets (through its executor, so namespaces don't matter)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        res = host.executor.run(("ss", "-Hltn", f"sport = :{port}"), timeout=5)
        if res.ok and res.stdout.strip():
            return
        if proc is not None and not proc.alive():
            out = proc.stop()
            raise UnitFailed(f"server on {host.name} exited before listening on port {port}: "
                             f"{out.stderr.strip()[:300]}", out.stdout + out.stderr)
        time.sleep(0.1)
    raise UnitFailed(f"nothing listened on {host.name}:{port} within {timeout_s:.0f}s")


def execute_plan(plan: Plan, env: Environment) -> CommandResult:
    """Start background steps, run the captured step, always stop the background ones."""
    started = []
    try:
        for step in plan.steps:
            if not step.background:
                continue
            host = env.hosts[step.host]
            proc = host.executor.start(step.argv, step.env or None)
            started.append(proc)
            if step.ready_port:
                wait_for_port(host, step.ready_port, proc=proc)
        fg = plan.captured
        return env.hosts[fg.host].executor.run(fg.argv, fg.timeout_s, fg.env or None)
    finally:
        for proc in started:
            proc.stop()


def run_unit(workload: Workload, params: Any, env: Environment, ctx: RunContext) -> UnitOutput:
    """Execute and parse; a failure raises UnitFailed carrying the raw output."""
    start = time.monotonic()
    if hasattr(workload, "run"):
        try:
            raw = workload.run(params, env, ctx)
        except BakeoffError as e:  # e.g. the service would not start: this unit fails
            raise UnitFailed(str(e)) from None
        suffix = getattr(workload, "raw_suffix", "json")
    else:
        plan = workload.plan(params, env)
        result = execute_plan(plan, env)
        raw, suffix = result.stdout, plan.raw_suffix
        if result.timed_out:
            raise UnitFailed(f"{workload.tool} timed out after {plan.captured.timeout_s:.0f}s",
                             result.stdout + result.stderr)
        if result.rc not in getattr(workload, "ok_exit_codes", frozenset({0})):
            err = (result.stderr.strip() or result.stdout.strip())[-400:]
            raise UnitFailed(f"{workload.tool} exited with {result.rc}: {err}",
                             result.stdout + "\n--- stderr ---\n" + result.stderr)
    try:
        parsed = workload.parse(raw, params)
    except BakeoffError as e:
        raise UnitFailed(str(e), raw) from None
    return UnitOutput(raw, suffix, parsed, time.monotonic() - start)


def tool_version(workload: Workload, host: Host) -> str:
    """The tool's own version line, or 'unknown' if it won't say."""
    try:
        res = host.executor.run(workload.tool_version_argv(), timeout=15)
    except BakeoffError:
        return "not installed"
    text = (res.stdout or res.stderr).strip().splitlines()
    return text[0].strip() if text else "unknown"

