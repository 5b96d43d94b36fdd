"""SIGINT/SIGTERM during a campaign: stop measuring once, never stop a teardown half-way.

The first signal while measuring raises KeyboardInterrupt where the campaign is, so the
orchestrator's teardown runs. From then on (and during any teardown) signals are only
noted and announced; three signals within FORCE_WINDOW_S seconds force an exit, after
the orchestrator's `on_force` callback has written a final manifest and said what is
left for `bakeoff gc`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator

from core.exit_codes import ExitCode

FORCE_WINDOW_S = 5.0
HANDLED = (signal.SIGINT, signal.SIGTERM)


class CampaignSignals:
    """Install with `with CampaignSignals(...) as sig:`; call `sig.tearing_down()` first
    thing in the teardown."""

    def __init__(self, say: Callable[[str], None], on_force: Callable[[], None]):
        self.say = say
        self.on_force = on_force
        self.stopping = False
        self.received: list[tuple[float, int]] = []
        self._previous: dict[int, object] = {}

    def _handler(self, signum: int, frame: object) -> None:
        now = time.monotonic()
        self.received.append((now, signum))
        name = signal.Signals(signum).name
        if not self.stopping:
            self.stopping = True
            raise KeyboardInterrupt(name)
        recent = [t for t, _ in self.received if now - t <= FORCE_WINDOW_S]
        if len(recent) >= 3:
            self.say(f"[red]{name} again: forcing exit before teardown finished[/red]")
            try:
                self.on_force()
            finally:
                os._exit(int(ExitCode.INTERRUPTED))
        self.say(f"[yellow]{name} noted: tearing down, please wait[/yellow] (a third signal "
                 f"within {FORCE_WINDOW_S:.0f} s forces exit and leaves the rest to "
                 "`bakeoff gc --delete`)")

    def tearing_down(self) -> None:
        self.stopping = True

    def __enter__(self) -> CampaignSignals:
        for sig in HANDLED:
            self._previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)  # type: ignore[arg-type]


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Outside a campaign (scoring): SIGTERM behaves like Ctrl-C."""
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
