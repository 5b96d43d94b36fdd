"""Stack operations behind one small interface, run by the Pulumi Automation API.

`StackWorkspace` is what the cloud provisioner needs: up (idempotent: the stack name is
the key), outputs, destroy, cancel, refresh. `AutomationWorkspace` runs every operation
in its own OS process (`python -m stacks.cloud.worker`): an inline Python program uses
the Pulumi runtime's global state, so two stacks must never share a process. The child's
lines are handed to `on_output` (progress); its last line carries the result.

A stack left locked by an interrupted update raises `StackLocked`; the provisioner then
cancels and refreshes it before destroying. Tests substitute a fake workspace with the
same methods (no Pulumi CLI is needed for them).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from core.errors import BakeoffError, PrerequisiteError

RESULT_PREFIX = "BAKEOFF-RESULT "
MIN_PULUMI_CLI = (3, 100, 0)
OnOutput = Callable[[str], None]


class StackLocked(BakeoffError):
    """Another update holds the stack (usually an interrupted one)."""


class StackWorkspace(Protocol):
    backend_url: str

    def up(self, stack: str, spec_file: Path, passphrase_file: Path,
           on_output: OnOutput, cancel: threading.Event | None = None) -> dict[str, Any]: ...

    def outputs(self, stack: str, passphrase_file: Path) -> dict[str, Any] | None:
        """None when the stack does not exist."""

    def destroy(self, stack: str, passphrase_file: Path, on_output: OnOutput) -> None: ...

    def cancel(self, stack: str, passphrase_file: Path) -> None: ...

    def refresh(self, stack: str, passphrase_file: Path, on_output: OnOutput) -> None: ...


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
                 python: str = sys.executable):
        self.backend_url = backend_url
        self.project = project
        self.python = python

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
        env = {**os.environ, "PULUMI_BACKEND_URL": self.backend_url,
               "PULUMI_CONFIG_PASSPHRASE_FILE": str(passphrase_file),
               "PULUMI_SKIP_UPDATE_CHECK": "true", "PYTHONUNBUFFERED": "1"}
        env.pop("PULUMI_CONFIG_PASSPHRASE", None)
        argv = [self.python, "-m", "stacks.cloud.worker", op, self.project, stack]
        if spec_file is not None:
            argv.append(str(spec_file))
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, text=True, env=env,
                                start_new_session=True)
        watcher = None
        if cancel is not None:
            def watch() -> None:
                # Ctrl-C: the Pulumi engine finishes in-flight steps and stops cleanly on SIGINT.
                if cancel.wait() and proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
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
                proc.send_signal(signal.SIGINT)  # let the engine stop cleanly
                try:
                    proc.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    proc.kill()
            raise
        if result is None or not result.get("ok"):
            err = (result or {}).get("error") or "\n".join(tail[-10:])
            if (result or {}).get("kind") == "locked":
                raise StackLocked(f"stack {stack} is locked by another update: {err}")
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


def require_pulumi_sdk() -> None:
    try:
        import pulumi  # noqa: F401
    except ImportError:
        raise PrerequisiteError("the Pulumi SDK is not installed: pip install "
                                "'cloud-bakeoff[aws]' (or [azure], [gcp])") from None
