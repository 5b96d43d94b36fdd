"""Sites side by side: which units may run at the same time, and in which threads.

Local sites share this machine, so their units stay in one lane, interleaved (A B A B),
run by the main thread (Ctrl-C interrupts it directly). Every cloud or static site is a
machine of its own: it gets its own lane and thread, so all clouds are measured in the
same time window (a noisy hour hurts them alike). Provisioning and teardown follow the
same split. Manifest updates go through one `ManifestWriter` (a lock around the dict and
the file): one writer at a time, whatever the thread.

Cancellation: Ctrl-C / SIGTERM reach the main thread as KeyboardInterrupt; it sets the
shared `cancel` event (lanes stop between units, cloud provisioners stop their `pulumi
up`), waits for work in flight, and lets the orchestrator tear everything down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bench.results import ResultStore
from stacks.registry import SHARED_MACHINE

IN_FLIGHT_GRACE_S = 120.0  # how long a cancelled lane may take to finish its unit


class ManifestWriter:
    """The only path by which the manifest dict and file change once sites run."""

    def __init__(self, store: ResultStore, manifest: dict[str, Any]):
        self.store = store
        self.manifest = manifest
        self.lock = threading.RLock()

    def update(self, fn: Callable[[dict[str, Any]], None], write: bool = True) -> None:
        with self.lock:
            fn(self.manifest)
            if write:
                self.store.write_manifest(self.manifest)


@dataclass
class Lane:
    """Units that run one after another; `shared` lanes run in the main thread."""

    name: str
    units: list[Any]
    shared: bool


def lanes(units: Iterable[Any], provider_of: dict[str, str]) -> list[Lane]:
    """Split the interleaved unit list: one shared lane for local sites (order kept), one
    lane per other site (its units in the same repetition-major order)."""
    shared = Lane("local sites", [], True)
    own: dict[str, Lane] = {}
    for u in units:
        if provider_of[u.site] in SHARED_MACHINE:
            shared.units.append(u)
        else:
            own.setdefault(u.site, Lane(u.site, [], False)).units.append(u)
    return ([shared] if shared.units else []) + list(own.values())


def run_side_by_side(jobs: dict[str, Callable[[], Any]], main_jobs: dict[str, Callable[[], Any]],
                     cancel: threading.Event,
                     on_cancel: Callable[[], None] = lambda: None) -> dict[str, BaseException]:
    """Run `jobs` each in a thread while `main_jobs` run here, in order; return the errors
    by job name. A KeyboardInterrupt here sets `cancel`, calls `on_cancel`, waits for the
    threads (up to IN_FLIGHT_GRACE_S after they were told) and re-raises."""
    errors: dict[str, BaseException] = {}
    threads = []
    for name, fn in jobs.items():
        def target(name: str = name, fn: Callable[[], Any] = fn) -> None:
            try:
                fn()
            except BaseException as e:
                errors[name] = e
        t = threading.Thread(target=target, name=f"site-{name}", daemon=True)
        t.start()
        threads.append(t)
    try:
        for name, fn in main_jobs.items():
            if cancel.is_set():
                break
            try:
                fn()
            except KeyboardInterrupt:
                raise
            except Exception as e:
                errors[name] = e
                cancel.set()  # a failed local lane stops nothing else (units catch errors)
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(timeout=0.2)  # short joins keep Ctrl-C deliverable
    except KeyboardInterrupt:
        cancel.set()
        on_cancel()
        deadline = time.monotonic() + IN_FLIGHT_GRACE_S
        for t in threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        raise
    return errors


def teardown_all(envs: dict[str, Any], down: Callable[[str, Any], None]) -> dict[str, str]:
    """Tear every site down at the same time; one site's failure (anything it raises) does
    not stop another's. Returns the errors by site."""
    errors: dict[str, str] = {}

    def one(name: str, env: Any) -> None:
        try:
            down(name, env)
        except BaseException as e:  # record and go on: every site gets its attempt
            errors[name] = f"{type(e).__name__}: {e}"

    local = {n: e for n, e in envs.items() if e.provider in SHARED_MACHINE}
    threads = [threading.Thread(target=one, args=(n, e), name=f"down-{n}", daemon=True)
               for n, e in envs.items() if n not in local]
    for t in threads:
        t.start()
    for name, env in local.items():
        one(name, env)
    for t in threads:
        while t.is_alive():
            try:
                t.join(timeout=0.5)
            except KeyboardInterrupt:  # a second Ctrl-C must not abandon a destroy
                continue
    return errors
