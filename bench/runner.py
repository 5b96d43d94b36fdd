"""Run one unit of work (one workload, one site, one repetition) and parse its output.

Whatever goes wrong inside a unit stays inside it: an expected failure (BakeoffError) or
any other exception from the workload's run or parse becomes UnitFailed, carrying the raw
output gathered so far and, for unexpected exceptions, the traceback. The orchestrator
records it and goes on with the next unit.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import Any

from bench.hostload import HostLoadWatch
from bench.preemption import PREEMPTED, PREEMPTED_NOTE, preempted_hosts, preempted_message
from bench.samples import ParsedOutput
from bench.workloads.base import DiskNeed, Plan, RunContext, Workload
from core.environment import Environment, Host
from core.errors import BakeoffError
from core.executor import CommandResult


class UnitFailed(BakeoffError):
    """A unit of work ran but failed; `raw` keeps whatever the tool printed."""

    def __init__(self, message: str, raw: str = "", traceback_text: str | None = None):
        super().__init__(message)
        self.raw = raw
        self.traceback = traceback_text  # set for unexpected (non-BakeoffError) exceptions
        self.host_load: dict[str, Any] = {}
        self.reason: str | None = None  # "preempted" when a spot host was reclaimed


@dataclass
class UnitOutput:
    raw: str
    raw_suffix: str
    parsed: ParsedOutput
    duration_s: float
    host_load: dict[str, Any]


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


# A plan may use at most this share of its directory's free space.
DISK_SHARE = 0.9


def check_disk(need: DiskNeed, env: Environment) -> None:
    """Create the directory on its host and refuse a plan that would fill its disk."""
    host = env.hosts[need.host]
    res = host.executor.run(("sh", "-c", 'mkdir -p "$1" && df -Pk "$1" | tail -n 1', "sh",
                             need.directory), timeout=30)
    fields = res.stdout.split()
    if not res.ok or len(fields) < 4 or not fields[3].isdigit():
        raise UnitFailed(f"cannot check the free space of {need.directory} on {host.name}: "
                         f"{(res.stderr or res.stdout).strip()[-300:]}")
    free = int(fields[3]) * 1024
    if need.bytes > DISK_SHARE * free:
        raise UnitFailed(f"{need.what} needs {need.bytes / 2**30:.2f} GiB in {need.directory} "
                         f"on {host.name}, but only {free / 2**30:.2f} GiB are free (at most "
                         f"{DISK_SHARE:.0%} of it may be used); lower the size")


def execute_plan(plan: Plan, env: Environment) -> CommandResult:
    """Check disk space, start background steps, run the captured step, stop the rest."""
    for need in plan.disk:
        check_disk(need, env)
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


def _execute(workload: Workload, params: Any, env: Environment,
             ctx: RunContext) -> tuple[str, str]:
    """Run the workload; (raw output, file suffix). Tool failures raise UnitFailed."""
    if hasattr(workload, "run"):
        try:
            raw = workload.run(params, env, ctx)
        except BakeoffError as e:  # e.g. the service would not start: this unit fails
            raise UnitFailed(str(e)) from None
        return raw, getattr(workload, "raw_suffix", "json")
    plan = workload.plan(params, env)
    result = execute_plan(plan, env)
    if result.timed_out:
        raise UnitFailed(f"{workload.tool} timed out after {plan.captured.timeout_s:.0f}s",
                         result.stdout + result.stderr)
    if result.rc not in getattr(workload, "ok_exit_codes", frozenset({0})):
        err = (result.stderr.strip() or result.stdout.strip())[-400:]
        raise UnitFailed(f"{workload.tool} exited with {result.rc}: {err}",
                         result.stdout + "\n--- stderr ---\n" + result.stderr)
    return result.stdout, plan.raw_suffix


def run_unit(workload: Workload, params: Any, env: Environment, ctx: RunContext) -> UnitOutput:
    """Execute and parse; any failure raises UnitFailed carrying the raw output.

    The host's load is watched for the whole unit (see bench.hostload) and handed back
    with the output or the failure.
    """
    start = time.monotonic()
    if env.notes.get(PREEMPTED_NOTE):  # the site lost a spot host earlier: nothing to run on
        failed = UnitFailed(preempted_message(env.notes[PREEMPTED_NOTE], "earlier unit"))
        failed.reason = PREEMPTED
        raise failed
    watch = HostLoadWatch(env).start()
    raw, stage = "", "running"
    try:
        raw, suffix = _execute(workload, params, env, ctx)
        stage = "parsing the output of"
        parsed = workload.parse(raw, params)
    except UnitFailed as e:
        e.host_load = watch.stop()
        raise _preempted(e, env) from None
    except BakeoffError as e:
        failed = UnitFailed(str(e), raw)
        failed.host_load = watch.stop()
        raise _preempted(failed, env) from None
    except Exception as e:  # a bug or an unforeseen output: this unit fails, not the campaign
        failed = UnitFailed(f"internal error while {stage} {workload.name}: "
                            f"{type(e).__name__}: {e}", raw, traceback.format_exc())
        failed.host_load = watch.stop()
        raise _preempted(failed, env) from None
    except BaseException:  # Ctrl-C: stop watching and let it through
        watch.stop()
        raise
    return UnitOutput(raw, suffix, parsed, time.monotonic() - start, watch.stop())


def _preempted(failed: UnitFailed, env: Environment) -> UnitFailed:
    """On a spot site, a failure because the provider reclaimed a host is a preemption."""
    hosts = preempted_hosts(env)
    if not hosts:
        return failed
    env.notes[PREEMPTED_NOTE] = hosts
    marked = UnitFailed(preempted_message(hosts, str(failed)), failed.raw, failed.traceback)
    marked.host_load, marked.reason = failed.host_load, PREEMPTED
    return marked


def tool_version(workload: Workload, where: Host | Environment) -> str:
    """The tool's own version line on the host that runs it, or 'unknown' if it won't say.

    Given an Environment, the host is the one the workload runs its tool on (`tool_host`,
    e.g. the load generator for Locust and pgbench). Python tools (Locust) are asked
    through that host's own interpreter, not this one.
    """
    if isinstance(where, Environment):
        role = getattr(workload, "tool_host", "client")
        host = where.hosts.get(role, where.client)
    else:
        host = where
    if hasattr(workload, "controller_version"):  # runs in this process (the k8s client)
        return workload.controller_version()
    argv = workload.tool_version_argv()
    env = None
    if getattr(workload, "python_tool", False):
        from bench.poc.launcher import host_python

        python, env = host_python(host)
        argv = (python, "-m", workload.tool, "--version")
    try:
        res = host.executor.run(argv, timeout=30, env=env)
    except BakeoffError:
        return "not installed"
    text = (res.stdout or res.stderr).strip().splitlines()
    return text[0].strip() if text else "unknown"



def unit_failure(exc: BaseException, workload: str) -> UnitFailed:
    """An exception raised after the run (writing samples, say) as this unit's failure."""
    if isinstance(exc, BakeoffError):
        return UnitFailed(str(exc))
    return UnitFailed(f"internal error while recording {workload}: {type(exc).__name__}: "
                      f"{exc}", "", "".join(traceback.format_exception(exc)))


def load_fields(host_load: dict[str, Any]) -> dict[str, Any]:
    """The manifest fields of a unit's host-load record: the record, and the busy flag."""
    if not host_load:
        return {}
    fields: dict[str, Any] = {"host_load": host_load.get("hosts", [])}
    if host_load.get("busy"):
        fields["busy"] = True
        fields["busy_reason"] = host_load.get("busy_reason", "")
    return fields
