"""One stack operation in its own process: `python -m stacks.cloud.worker OP PROJECT STACK
[SPEC_FILE]` (see workspace.py). Prints Pulumi's progress, then one result line.

The backend and the passphrase come from PULUMI_BACKEND_URL and
PULUMI_CONFIG_PASSPHRASE_FILE, set by the parent. Destroy, cancel, refresh and outputs
need no program and no scenario: the stack name, backend and passphrase are enough.

The worker lives and dies with its campaign (`ParentGuard`): it leads its own process
group (the Pulumi CLI and its plugins are in it), asks the kernel for SIGTERM when its
parent dies (prctl PR_SET_PDEATHSIG), and turns SIGTERM into SIGINT for the whole group,
which is a terminal's Ctrl-C: the engine finishes the steps in flight, releases the
stack's lock and exits. It asks once: the Pulumi CLI takes a second SIGINT or SIGTERM as
"terminate now" (pkg/backend/cancellation_scope.go), which leaves the lock and pending
operations behind. The worker itself never dies of SIGINT: it keeps reading the CLI's
output (so the CLI is never killed by a broken pipe half-way) and reports "interrupted".
Once its parent is gone, its own output goes to /dev/null.

The kernel sends the parent-death signal when the *thread* that started the worker exits
(a controller starts each worker from the thread that waits for it, so that thread outlives
it), and nothing reaches the Pulumi CLI but what the worker forwards. A CLI that does not
stop (a cancel that waits for a slow in-flight step, or a hung process) keeps its lock after
its controller died: the next `bakeoff down` or `--resume` finds it orphaned (its recorded
controller is dead) and stops it (stacks/cloud/provisioner.py `_wait_for_lock_holder`).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any, Protocol

from stacks.cloud.workspace import INCORRECT_PASSPHRASE, PARENT_ENV, RESULT_PREFIX

PR_SET_PDEATHSIG = 1


class Locked(Exception):
    """The stack is locked by another update."""


class Engine(Protocol):
    """What the worker drives: the Pulumi Automation API, or the tests' fake engine."""

    def up(self, stack: str, spec_file: Path, say: Any) -> dict[str, Any]: ...

    def outputs(self, stack: str) -> dict[str, Any] | None: ...

    def destroy(self, stack: str, say: Any) -> None: ...

    def cancel(self, stack: str) -> None: ...

    def refresh(self, stack: str, say: Any) -> None: ...


class ParentGuard:
    """Dies with the parent, forwards a stop to the whole group, never breaks on output."""

    def __init__(self) -> None:
        self.interrupted = False  # a stop was asked for (by the controller or its death)
        self.parent = int(os.environ.get(PARENT_ENV) or os.getppid())

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._on_sigint)
        signal.signal(signal.SIGTERM, self._on_sigterm)
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != self.parent:  # the parent died before prctl took effect
            self._on_sigterm(signal.SIGTERM, None)

    def _on_sigint(self, _sig: int, _frame: Any) -> None:
        self.interrupted = True  # the CLI in our group got it too and cancels its update

    def _on_sigterm(self, _sig: int, _frame: Any) -> None:
        if os.getppid() != self.parent:
            self.silence()
        if self.interrupted:  # the group was asked already: a second ask kills Pulumi
            return
        self.interrupted = True
        if os.getpgrp() == os.getpid():  # we lead our group (workspace.py starts us so)
            with contextlib.suppress(OSError):
                os.killpg(os.getpgrp(), signal.SIGINT)  # Ctrl-C for the CLI and plugins

    @staticmethod
    def silence() -> None:
        """Nobody reads our output any more: write it nowhere instead of failing."""
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)

    def say(self, line: str) -> None:
        try:
            print(line, flush=True)
        except (OSError, ValueError):
            self.silence()


def spec_from_json(text: str):
    from stacks.cloud.spec import CloudSiteSpec, ClusterSpec, DatabaseSpec, DiskSpec, HostKey

    d = json.loads(text)
    d["zones"] = tuple(d["zones"])
    d["disk"] = DiskSpec(**d["disk"])
    d["database"] = DatabaseSpec(**d["database"]) if d.get("database") else None
    d["host_keys"] = {k: HostKey(**v) for k, v in d["host_keys"].items()}
    d["kubernetes"] = ClusterSpec(**d["kubernetes"]) if d.get("kubernetes") else None
    return CloudSiteSpec(**d)


class PulumiEngine:
    """The Pulumi Automation API (the Pulumi CLI runs as this process's child)."""

    def __init__(self, project: str):
        from pulumi import automation as auto

        self.auto = auto
        self.project = project
        self.opts = auto.LocalWorkspaceOptions(project_settings=auto.ProjectSettings(
            name=project, runtime="python", backend=None))

    @staticmethod
    def _plain(outputs: Any) -> dict[str, Any]:
        return {k: v.value for k, v in outputs.items()}

    def _select(self, stack: str) -> Any:
        try:
            return self.auto.select_stack(stack_name=stack, project_name=self.project,
                                          program=lambda: None, opts=self.opts)
        except self.auto.StackNotFoundError:
            return None

    def _locked(self, fn: Any) -> Any:
        try:
            return fn()
        except self.auto.ConcurrentUpdateError as e:
            raise Locked(str(e)[-2000:]) from None

    def up(self, stack: str, spec_file: Path, say: Any) -> dict[str, Any]:
        from stacks.cloud.spec import program_of

        spec = spec_from_json(spec_file.read_text())
        program = program_of(spec)
        st = self.auto.create_or_select_stack(stack_name=stack, project_name=self.project,
                                              program=lambda: program(spec), opts=self.opts)
        res = self._locked(lambda: st.up(on_output=say, color="never"))
        return self._plain(res.outputs)

    def outputs(self, stack: str) -> dict[str, Any] | None:
        st = self._select(stack)
        return None if st is None else self._plain(st.outputs())

    def destroy(self, stack: str, say: Any) -> None:
        st = self._select(stack)
        if st is None:
            return
        self._locked(lambda: st.destroy(on_output=say, color="never"))
        st.workspace.remove_stack(stack)

    def cancel(self, stack: str) -> None:
        st = self._select(stack)
        if st is not None:
            st.cancel()

    def refresh(self, stack: str, say: Any) -> None:
        st = self._select(stack)
        if st is not None:
            self._locked(lambda: st.refresh(on_output=say, color="never"))


def main(argv: list[str], engine: Engine | None = None) -> int:
    guard = ParentGuard()
    guard.install()
    op, project, stack_name = argv[:3]

    def emit(ok: bool, value: Any = None, error: str = "", kind: str = "") -> None:
        guard.say(RESULT_PREFIX + json.dumps({"ok": ok, "value": value, "error": error,
                                              "kind": kind}))

    try:
        if guard.interrupted:  # the controller died before we started: start nothing
            raise KeyboardInterrupt
        engine = engine or PulumiEngine(project)
        if op == "up":
            emit(True, engine.up(stack_name, Path(argv[3]), guard.say))
        elif op == "outputs":
            emit(True, engine.outputs(stack_name))
        elif op == "destroy":
            engine.destroy(stack_name, guard.say)
            emit(True)
        elif op == "cancel":
            engine.cancel(stack_name)
            emit(True)
        elif op == "refresh":
            engine.refresh(stack_name, guard.say)
            emit(True)
        else:
            emit(False, error=f"unknown operation {op}")
            return 2
    except Locked as e:
        emit(False, error=str(e), kind="locked")
        return 1
    except KeyboardInterrupt:
        emit(False, error="interrupted", kind="interrupted")
        return 130
    except Exception as e:
        if guard.interrupted:
            emit(False, error=f"interrupted: {type(e).__name__}: {str(e)[-1000:]}",
                 kind="interrupted")
            return 130
        if INCORRECT_PASSPHRASE in str(e):  # a known cause the controller explains
            emit(False, error=str(e)[-2000:], kind="passphrase")
            return 1
        with contextlib.suppress(OSError, ValueError):
            traceback.print_exc(file=sys.stdout)
        emit(False, error=f"{type(e).__name__}: {str(e)[-2000:]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
