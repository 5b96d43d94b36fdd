"""The fake workspace out of process: the real AutomationWorkspace and worker, a fake CLI.

`FakeAutomation(root, **knobs)` is `stacks.cloud.workspace.AutomationWorkspace` with one
change: its worker module is this file. The worker is the real one
(`stacks.cloud.worker.main`: process group, parent-death signal, SIGINT to the group,
output that survives its parent) driving `FakeEngine` instead of the Pulumi Automation
API. As Pulumi does, the engine runs a CLI process under the worker for `up` and
`destroy`: `python -m tests.cloud_fake_engine cli OP ROOT STACK [SPEC]`, which does the
work of `tests.cloud_fake.FakeWorkspace` (loopback sshds as VMs, stacks as JSON files),
holds the stack's lock with its own pid while it runs, and stops as Pulumi's CLI does
(pkg/backend/cancellation_scope.go): the first SIGINT or SIGTERM cancels (steps in flight
finish, `cancel_delay_s`, then the lock is released and it exits 255), a second one
terminates it at once (exit 2, the lock stays). It does not watch its parent: like the real
CLI, it runs on when its worker dies unless a signal stops it. A SIGKILLed CLI leaves its
lock, as a killed `pulumi` leaves the file backend's. `cancel` of a lock whose holder still
runs is recorded in `violations.log` and fails: bakeoff must never do it.

Knobs (`FakeWorkspace`'s: up_delay_s, fail_up, fail_destroy, destroy_delay_s,
cancel_delay_s, ...) are kept in ROOT/knobs.json, so every process of a test sees the same.
One is the CLI's own: `deaf_cli` makes a destroy ignore SIGINT and SIGTERM (a hung CLI, as in
pulumi/pulumi#12627 where one Ctrl-C hung an Automation API program): only SIGKILL stops it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from core.errors import BakeoffError
from stacks.cloud.workspace import AutomationWorkspace, StackLocked
from tests.cloud_fake import FakeWorkspace, _running

CLI_PREFIX = "FAKE-OUTPUTS "
EXIT_LOCKED, EXIT_CANCELLED, EXIT_TERMINATED = 3, 255, 2
CLI_KNOBS = ("deaf_cli",)  # read by the CLI, not by FakeWorkspace


def _root_of(url: str) -> Path:
    assert url.startswith("file://"), url
    return Path(url[len("file://"):])


def _knobs(root: Path) -> dict[str, Any]:
    p = root / "knobs.json"
    return json.loads(p.read_text()) if p.exists() else {}


def fake_workspace(root: Path) -> FakeWorkspace:
    k = {n: v for n, v in _knobs(root).items() if n not in CLI_KNOBS}
    for name in ("fail_up", "fail_destroy"):
        if name in k:
            k[name] = set(k[name])
    return FakeWorkspace(root, honour_env=True, **k)  # this process stands for the CLI


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
        return self.ws.outputs(stack, _passphrase_file())

    def destroy(self, stack: str, say: Any) -> None:
        self._cli(say, "destroy", str(self.root), stack)

    def cancel(self, stack: str) -> None:
        holder = (self.ws._read(stack) or {}).get("locked")
        if isinstance(holder, int) and not isinstance(holder, bool) and _running(holder):
            with open(self.root / "violations.log", "a") as f:
                f.write(f"cancel of {stack} while its holder pid {holder} runs\n")
            raise RuntimeError(f"cancelled the lock of a live update (pid {holder})")
        self.ws.cancel(stack, _passphrase_file())

    def refresh(self, stack: str, say: Any) -> None:
        self.ws.refresh(stack, _passphrase_file(), say)


def _passphrase_file() -> Path:
    """The file the worker was given (bakeoff sets it for every operation)."""
    return Path(os.environ["PULUMI_CONFIG_PASSPHRASE_FILE"])


def _note(root: Path, line: str) -> None:
    """One line to ROOT/cli.log (signals seen, how each fake CLI ended): a failing test's
    evidence."""
    with open(root / "cli.log", "a") as f:
        f.write(f"{time.time():.3f} pid {os.getpid()}: {line}\n")


def watch_stop_signals(stop: threading.Event, root: Path) -> None:
    """First SIGINT/SIGTERM: `stop` (cancel); second: exit at once, the lock left behind.

    The Python handler does nothing; the C-level handler writes the signal's number to a
    pipe (`signal.set_wakeup_fd`) that a thread reads, as Go's signal.Notify feeds a
    channel. Setting the Event in the handler itself can deadlock: the handler runs in the
    main thread at any bytecode, also while that thread holds the Event's lock entering or
    leaving `stop.wait()`, and `stop.set()` then waits for that lock forever (the
    fake CLI did this until 2026-12: an orphan that never stopped)."""
    r, w = os.pipe()
    os.set_blocking(w, False)
    signal.set_wakeup_fd(w)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)

    def watch() -> None:
        asked = 0
        while True:
            for sig in os.read(r, 64):
                if sig in (signal.SIGINT, signal.SIGTERM):
                    asked += 1
                    _note(root, f"signal {signal.Signals(sig).name} #{asked}")
                    if asked > 1:
                        os._exit(EXIT_TERMINATED)  # Pulumi's second ^C: no cleanup
                    stop.set()

    threading.Thread(target=watch, name="signals", daemon=True).start()


def cli(op: str, root: str, stack: str, spec: str | None = None) -> int:
    """The fake `pulumi up` / `pulumi destroy`: SIGINT cancels, as Pulumi's engine does."""
    stop = threading.Event()
    deaf = op == "destroy" and bool(_knobs(Path(root)).get("deaf_cli"))
    if deaf:  # hung: no signal but SIGKILL ends it, no cancel is ever seen
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
    else:
        watch_stop_signals(stop, Path(root))
    ws = fake_workspace(Path(root))
    passphrase = Path(os.environ["PULUMI_CONFIG_PASSPHRASE_FILE"])
    say = lambda line: print(line, flush=True)  # noqa: E731
    try:
        if op == "up":
            out = ws.up(stack, Path(spec or ""), passphrase, say, cancel=None if deaf else stop)
            print(CLI_PREFIX + json.dumps(out), flush=True)
        else:
            ws.destroy(stack, passphrase, say, cancel=None if deaf else stop)
    except StackLocked as e:
        print(e, flush=True)
        return EXIT_LOCKED
    except Exception as e:
        _note(Path(root), f"{op} {stack} ended: {type(e).__name__}: {str(e)[:300]}")
        with contextlib.suppress(OSError):
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
