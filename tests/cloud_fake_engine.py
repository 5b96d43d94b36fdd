"""The fake workspace out of process: the real AutomationWorkspace and worker, a fake CLI.

`FakeAutomation(root, **knobs)` is `stacks.cloud.workspace.AutomationWorkspace` with one
change: its worker module is this file. The worker is the real one
(`stacks.cloud.worker.main`: process group, parent-death signal, SIGINT to the group,
output that survives its parent) driving `FakeEngine` instead of the Pulumi Automation
API. As Pulumi does, the engine runs a CLI process under the worker for `up` and
`destroy`: `python -m tests.cloud_fake_engine cli OP ROOT STACK [SPEC]`, which does the
work of `tests.cloud_fake.FakeWorkspace` (loopback sshds as VMs, stacks as JSON files),
holds the stack's lock with its own pid while it runs, and on SIGINT releases the lock and
exits 255 (a cancelled update). A SIGKILLed CLI leaves its lock, as a killed `pulumi`
leaves the file backend's. `cancel` of a lock whose holder still runs is recorded in
`violations.log` and fails: bakeoff must never do it.

Knobs (`FakeWorkspace`'s: up_delay_s, fail_up, fail_destroy, destroy_delay_s, ...) are
kept in ROOT/knobs.json, so every process of a test sees the same.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from core.errors import BakeoffError
from stacks.cloud.workspace import AutomationWorkspace, StackLocked
from tests.cloud_fake import FakeWorkspace, _running

CLI_PREFIX = "FAKE-OUTPUTS "
EXIT_LOCKED, EXIT_CANCELLED = 3, 255


def _root_of(url: str) -> Path:
    assert url.startswith("file://"), url
    return Path(url[len("file://"):])


def _knobs(root: Path) -> dict[str, Any]:
    p = root / "knobs.json"
    return json.loads(p.read_text()) if p.exists() else {}


def fake_workspace(root: Path) -> FakeWorkspace:
    k = _knobs(root)
    for name in ("fail_up", "fail_destroy"):
        if name in k:
            k[name] = set(k[name])
    return FakeWorkspace(root, **k)


class FakeAutomation(AutomationWorkspace):
    """The real out-of-process workspace over the fake engine (no Pulumi CLI needed)."""

    def __init__(self, root: Path, **knobs: Any):
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        if knobs or not (root / "knobs.json").exists():
            (root / "knobs.json").write_text(json.dumps(
                {k: sorted(v) if isinstance(v, set | frozenset) else v
                 for k, v in knobs.items()}))
        super().__init__(f"file://{root}", worker_module="tests.cloud_fake_engine")
        self.root = root

    def check(self) -> list[str]:
        return []

    def stacks(self) -> list[str]:
        return sorted(p.stem for p in self.root.glob("*.json") if p.name != "knobs.json")

    def violations(self) -> list[str]:
        p = self.root / "violations.log"
        return p.read_text().splitlines() if p.exists() else []


class FakeEngine:
    """`stacks.cloud.worker.Engine` over the fake stacks; up and destroy run a CLI child."""

    def __init__(self, root: Path):
        self.root = root
        self.ws = fake_workspace(root)

    def _cli(self, say: Any, *args: str) -> Any:
        from stacks.cloud.worker import Locked

        proc = subprocess.Popen([sys.executable, "-m", "tests.cloud_fake_engine", "cli",
                                 *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, text=True)  # in our group
        value, tail = None, []
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line.startswith(CLI_PREFIX):
                value = json.loads(line[len(CLI_PREFIX):])
                continue
            tail.append(line)
            say(line)
        rc = proc.wait()
        if rc == EXIT_LOCKED:
            raise Locked("\n".join(tail[-3:]))
        if rc:
            raise BakeoffError(f"fake pulumi exited {rc}: {' | '.join(tail[-3:])}")
        return value

    def up(self, stack: str, spec_file: Path, say: Any) -> dict[str, Any]:
        return self._cli(say, "up", str(self.root), stack, str(spec_file))

    def outputs(self, stack: str) -> dict[str, Any] | None:
        return self.ws.outputs(stack, Path(os.devnull))

    def destroy(self, stack: str, say: Any) -> None:
        self._cli(say, "destroy", str(self.root), stack)

    def cancel(self, stack: str) -> None:
        holder = (self.ws._read(stack) or {}).get("locked")
        if isinstance(holder, int) and not isinstance(holder, bool) and _running(holder):
            with open(self.root / "violations.log", "a") as f:
                f.write(f"cancel of {stack} while its holder pid {holder} runs\n")
            raise RuntimeError(f"cancelled the lock of a live update (pid {holder})")
        self.ws.cancel(stack, Path(os.devnull))

    def refresh(self, stack: str, say: Any) -> None:
        self.ws.refresh(stack, Path(os.devnull), say)


def cli(op: str, root: str, stack: str, spec: str | None = None) -> int:
    """The fake `pulumi up` / `pulumi destroy`: SIGINT cancels, as Pulumi's engine does."""
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    ws = fake_workspace(Path(root))
    passphrase = Path(os.environ["PULUMI_CONFIG_PASSPHRASE_FILE"])
    say = lambda line: print(line, flush=True)  # noqa: E731
    try:
        if op == "up":
            out = ws.up(stack, Path(spec or ""), passphrase, say, cancel=stop)
            print(CLI_PREFIX + json.dumps(out), flush=True)
        else:
            ws.destroy(stack, passphrase, say, cancel=stop)
    except StackLocked as e:
        print(e, flush=True)
        return EXIT_LOCKED
    except Exception as e:
        print(f"error: {e}", flush=True)
        return EXIT_CANCELLED if stop.is_set() else 1
    return 0


def worker(argv: list[str]) -> int:
    from stacks.cloud.worker import main

    return main(argv, engine=FakeEngine(_root_of(os.environ["PULUMI_BACKEND_URL"])))


if __name__ == "__main__":
    if sys.argv[1] == "cli":
        sys.exit(cli(*sys.argv[2:]))
    sys.exit(worker(sys.argv[1:]))
