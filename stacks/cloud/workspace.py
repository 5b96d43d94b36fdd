"""Stack operations behind one small interface, run by the Pulumi Automation API.

`StackWorkspace` is what the cloud provisioner needs: up (idempotent: the stack name is
the key), outputs, destroy, cancel, refresh. `AutomationWorkspace` runs every operation
in its own OS process (`python -m stacks.cloud.worker`): an inline Python program uses
the Pulumi runtime's global state, so two stacks must never share a process. The child's
lines are handed to `on_output` (progress); its last line carries the result.

A stack left locked by an interrupted update raises `StackLocked`; the provisioner then
cancels and refreshes it before destroying, but only once the update's holder is dead:
every worker is recorded (its pid and start time, and those of the controller that started
it: `workers/<stack>.<pid>.json` beside the campaign's passphrase) while it runs, and
`holder` says whether one still lives and whether its controller is dead (an orphan,
which the provisioner may stop; a holder whose controller lives is never signalled).

Workers belong to the campaign's cloud lifecycle, not to its machine: they do not inherit
the campaign's marker (`BAKEOFF_CAMPAIGN`) nor its temp root, so a leftover sweep of this
machine never kills a live update; they lead their own process group, which a stop
reaches whole (SIGINT, as a terminal's Ctrl-C), and die with their parent (worker.py).
Tests substitute a fake workspace with the same methods, or run this class with the fake
engine's worker module (no Pulumi CLI is needed for them).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from core.errors import BakeoffError, PrerequisiteError

RESULT_PREFIX = "BAKEOFF-RESULT "
# Pulumi's error for secrets another passphrase encrypted (pkg/secrets/passphrase/manager.go)
INCORRECT_PASSPHRASE = "incorrect passphrase"
PARENT_ENV = "BAKEOFF_WORKER_PARENT"  # the pid the worker dies with
CAMPAIGN_ENV = "BAKEOFF_CAMPAIGN"  # stacks.tracking's marker, never passed to a worker
MIN_PULUMI_CLI = (3, 100, 0)
OnOutput = Callable[[str], None]


class StackLocked(BakeoffError):
    """Another update holds the stack (usually an interrupted one)."""


@dataclass(frozen=True)
class Holder:
    """A live process of a recorded worker's group: the worker or the Pulumi CLI under it."""

    pid: int
    group: int  # the worker's process group (its pid): what a stop signals
    orphaned: bool  # the controller that started the worker is dead


class StackWorkspace(Protocol):
    backend_url: str

    def up(self, stack: str, spec_file: Path, passphrase_file: Path,
           on_output: OnOutput, cancel: threading.Event | None = None) -> dict[str, Any]: ...

    def outputs(self, stack: str, passphrase_file: Path) -> dict[str, Any] | None:
        """None when the stack does not exist."""

    def destroy(self, stack: str, passphrase_file: Path, on_output: OnOutput) -> None: ...

    def cancel(self, stack: str, passphrase_file: Path) -> None: ...

    def refresh(self, stack: str, passphrase_file: Path, on_output: OnOutput) -> None: ...

    def holder(self, stack: str, passphrase_file: Path) -> Holder | None:
        """A live process of ours that may hold the stack's lock (its group, and whether
        its controller is dead), else None."""


def pulumi_cli_version() -> tuple[int, ...] | None:
    """The installed Pulumi CLI's version, or None when it is not on PATH."""
    exe = shutil.which("pulumi")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    text = out.stdout.strip().lstrip("v").split("-")[0]
    try:
        return tuple(int(p) for p in text.split("."))
    except ValueError:
        return None


class AutomationWorkspace:
    """Real stacks: the Pulumi CLI drives the provider plugins; one child process per op."""

    def __init__(self, backend_url: str, project: str = "bakeoff",
                 python: str = sys.executable, worker_module: str = "stacks.cloud.worker"):
        self.backend_url = backend_url
        self.project = project
        self.python = python
        self.worker_module = worker_module  # tests run the fake engine's worker

    def check(self) -> list[str]:
        """Everything missing, as user-facing lines (empty when ready)."""
        problems = []
        version = pulumi_cli_version()
        if version is None:
            problems.append("the Pulumi CLI is not on PATH: install it with "
                            "`curl -fsSL https://get.pulumi.com | sh` (see docs/clouds.md)")
        elif version < MIN_PULUMI_CLI:
            problems.append(f"the Pulumi CLI is {'.'.join(map(str, version))}; bakeoff needs "
                            f">= {'.'.join(map(str, MIN_PULUMI_CLI))} (`pulumi self-update`)")
        try:
            import pulumi.automation  # noqa: F401
        except ImportError:
            problems.append("the Pulumi SDK is not installed: pip install "
                            "'cloud-bakeoff[aws]' (or [azure], [gcp])")
        return problems

    def _run(self, op: str, stack: str, passphrase_file: Path, on_output: OnOutput,
             spec_file: Path | None = None, cancel: threading.Event | None = None) -> Any:
        work = passphrase_file.parent / "workers"
        work.mkdir(mode=0o700, exist_ok=True)
        env = {**os.environ, "PULUMI_BACKEND_URL": self.backend_url,
               "PULUMI_CONFIG_PASSPHRASE_FILE": str(passphrase_file),
               "PULUMI_SKIP_UPDATE_CHECK": "true", "PYTHONUNBUFFERED": "1",
               PARENT_ENV: str(os.getpid()), "TMPDIR": str(work)}
        env.pop("PULUMI_CONFIG_PASSPHRASE", None)
        env.pop(CAMPAIGN_ENV, None)  # a sweep of this machine must never find a live worker
        argv = [self.python, "-m", self.worker_module, op, self.project, stack]
        if spec_file is not None:
            argv.append(str(spec_file))
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, text=True, env=env,
                                start_new_session=True)
        record = _record_worker(work, stack, op, proc.pid)
        watcher = None
        if cancel is not None:
            def watch() -> None:
                # Ctrl-C: the Pulumi engine finishes in-flight steps and stops cleanly on SIGINT.
                if cancel.wait() and proc.poll() is None:
                    stop_group(proc.pid)
            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
        result: Any = None
        tail: list[str] = []
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                line = line.rstrip("\n")
                if line.startswith(RESULT_PREFIX):
                    result = json.loads(line[len(RESULT_PREFIX):])
                    continue
                tail = [*tail[-30:], line]
                on_output(line)
            proc.wait()
        except BaseException:
            if proc.poll() is None:
                stop_group(proc.pid)  # let the engine stop cleanly
                try:
                    proc.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(OSError):
                        os.killpg(proc.pid, signal.SIGKILL)
            raise
        finally:
            if proc.poll() is not None:
                record.unlink(missing_ok=True)
        if result is None or not result.get("ok"):
            err = (result or {}).get("error") or "\n".join(tail[-10:])
            if (result or {}).get("kind") == "locked":
                raise StackLocked(f"stack {stack} is locked by another update: {err}")
            if (result or {}).get("kind") == "passphrase" or INCORRECT_PASSPHRASE in err:
                raise BakeoffError(wrong_passphrase(op, stack, passphrase_file))
            raise BakeoffError(f"pulumi {op} of stack {stack} failed: {err}")
        return result.get("value")

    def up(self, stack: str, spec_file: Path, passphrase_file: Path, on_output: OnOutput,
           cancel: threading.Event | None = None) -> dict[str, Any]:
        return self._run("up", stack, passphrase_file, on_output, spec_file, cancel)

    def outputs(self, stack: str, passphrase_file: Path) -> dict[str, Any] | None:
        return self._run("outputs", stack, passphrase_file, lambda _line: None)

    def destroy(self, stack: str, passphrase_file: Path, on_output: OnOutput) -> None:
        self._run("destroy", stack, passphrase_file, on_output)

    def cancel(self, stack: str, passphrase_file: Path) -> None:
        self._run("cancel", stack, passphrase_file, lambda _line: None)

    def refresh(self, stack: str, passphrase_file: Path, on_output: OnOutput) -> None:
        self._run("refresh", stack, passphrase_file, on_output)

    def holder(self, stack: str, passphrase_file: Path) -> Holder | None:
        return live_holder(passphrase_file.parent / "workers", stack)


def wrong_passphrase(op: str, stack: str, passphrase_file: Path) -> str:
    """Pulumi's "incorrect passphrase" (pkg/secrets/passphrase/manager.go): the stack's
    secrets were encrypted, at its first `up`, with another passphrase than this file's."""
    return (f"pulumi {op} of stack {stack} failed: Pulumi cannot decrypt the stack's "
            f"secrets with the passphrase in {passphrase_file} (\"incorrect passphrase\"); "
            "the stack was created with another one. That file is the campaign's own and "
            "must not change while its stacks exist: put back the copy the stack was created "
            "with (e.g. from a backup of that directory), then run the same command again. "
            "Nothing was destroyed: the stack stays in the campaign's journal.")


def stop_group(pgid: int) -> None:
    """SIGINT to a worker's whole group: the Pulumi CLI and its plugins, as Ctrl-C does."""
    with contextlib.suppress(OSError):
        os.killpg(pgid, signal.SIGINT)


def signal_group(pgid: int, sig: int) -> None:
    """`sig` to a worker's whole group (escalating the stop of an orphaned update)."""
    with contextlib.suppress(OSError):
        os.killpg(pgid, sig)


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state is [0], pgrp [2])."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _start_ticks(pid: int) -> int | None:
    fields = _stat(pid)
    try:
        return int(fields[19]) if fields else None
    except (IndexError, ValueError):
        return None


def _alive(pid: int, start_ticks: Any) -> bool:
    """This very process (same start time, so not a reused pid) runs and is no zombie."""
    fields = _stat(pid)
    return bool(fields) and fields[0] not in ("Z", "X") and _start_ticks(pid) == start_ticks


def _record_worker(work: Path, stack: str, op: str, pid: int) -> Path:
    """One record per worker (`<stack>.<pid>.json`): a destroy started while an older
    update still runs must not hide that update's holder. The controller (this process)
    is recorded too: a holder whose controller died is an orphan nobody will stop."""
    path = work / f"{stack}.{pid}.json"
    tmp = path.with_name(f".{path.name}.tmp")
    me = os.getpid()
    tmp.write_text(json.dumps({"pid": pid, "start_ticks": _start_ticks(pid), "op": op,
                               "controller": me, "controller_ticks": _start_ticks(me)}))
    os.replace(tmp, path)
    return path


def live_holder(work: Path, stack: str) -> Holder | None:
    """A live recorded worker of `stack` (or a live process of its group); None when all
    are gone, so the stack's lock can be cancelled. A record without its controller (an
    older bakeoff's) never counts as orphaned."""
    for path in sorted(work.glob(f"{glob.escape(stack)}.*.json")):
        try:
            rec = json.loads(path.read_text())
            pid = int(rec["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        ctl = rec.get("controller")
        orphaned = isinstance(ctl, int) and not _alive(ctl, rec.get("controller_ticks"))
        if _alive(pid, rec.get("start_ticks")):
            return Holder(pid, pid, orphaned)
        member = _group_member(pid)
        if member is not None:
            return Holder(member, pid, orphaned)
        path.unlink(missing_ok=True)  # that worker and its group are gone for good
    return None


def _group_member(pgid: int) -> int | None:
    """A live process of the worker's group (a Pulumi CLI that outlived its worker). The
    kernel never hands out a pid still used as a group id, so a live process with the
    worker's pid (the record's start time differs: checked before) leads a new group and
    the worker's old group is empty."""
    leader = _stat(pgid)
    if leader is not None and leader[0] not in ("Z", "X"):
        return None
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return int(stat.parent.name)
    return None


def require_pulumi_sdk() -> None:
    try:
        import pulumi  # noqa: F401
    except ImportError:
        raise PrerequisiteError("the Pulumi SDK is not installed: pip install "
                                "'cloud-bakeoff[aws]' (or [azure], [gcp])") from None
