"""List-then-watch that survives what real API servers do: dropped streams and 410 Gone.

The official client's Watch re-lists nothing by itself. Here each kind runs in a
thread: list (which gives a resourceVersion), then watch from it; a broken stream or
a server timeout re-watches from the last resourceVersion seen (BOOKMARKs included);
a 410 Expired re-lists, which replaces the picture with the current objects. Because
pod and node conditions carry their own lastTransitionTime, a re-list loses no
measurement even when events in between were never seen.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import urllib3
from kubernetes import watch
from kubernetes.client.exceptions import ApiException


@dataclass
class WatchStats:
    events: int = 0
    bookmarks: int = 0
    reconnects: int = 0
    relists: int = 0
    errors: list[str] = field(default_factory=list)
    bad_objects: list[str] = field(default_factory=list)


class KindWatcher:
    """Keeps `objects` (name -> client model) current for one list function."""

    def __init__(self, list_fn: Callable[..., Any], *, on_change: Callable[[], None],
                 read_timeout_s: float = 30.0, server_timeout_s: int = 60, **list_kwargs: Any):
        self.list_fn = list_fn
        self.kwargs = list_kwargs
        self.on_change = on_change
        self.read_timeout_s = read_timeout_s
        self.server_timeout_s = server_timeout_s
        self.objects: dict[str, Any] = {}
        self.lock = threading.Lock()
        self.stats = WatchStats()
        self._stop = threading.Event()
        self._watch: watch.Watch | None = None
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"watch-{getattr(list_fn, '__name__', 'kind')}")

    def start(self) -> None:
        """List now (so the caller starts from a known picture), then watch from that list."""
        self._first_rv: str | None = self._relist()
        self._thread.start()

    def stop(self) -> None:
        """Stop now, not at the next event: an idle watch on a real cluster may say nothing
        for a minute, so the stream is cut under the reading thread (recent clients' Watch.stop
        shuts the socket down; closing the response covers older ones)."""
        self._stop.set()
        w = self._watch
        resp = getattr(w, "_resp", None) if w else None
        if w is not None:
            w.stop()
        if resp is not None:
            with contextlib.suppress(Exception):   # closing a stream another thread reads
                resp.close()
        if self._thread.is_alive():  # a watcher whose first list failed never started
            self._thread.join(timeout=self.read_timeout_s + 5)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return dict(self.objects)

    def _relist(self) -> str:
        result = self.list_fn(**self.kwargs, _request_timeout=self.read_timeout_s)
        with self.lock:
            self.objects = {o.metadata.name: o for o in result.items}
        self.on_change()
        return result.metadata.resource_version

    def _run(self) -> None:
        rv = self._first_rv
        while not self._stop.is_set():
            try:
                if rv is None:
                    rv = self._relist()
                w = self._watch = watch.Watch()
                for ev in w.stream(self.list_fn, resource_version=rv, allow_watch_bookmarks=True,
                                   timeout_seconds=self.server_timeout_s,
                                   _request_timeout=self.read_timeout_s, **self.kwargs):
                    rv = w.resource_version or rv
                    self._apply(ev)
                    if self._stop.is_set():
                        w.stop()
                        break
                else:
                    self.stats.reconnects += 1        # server ended the watch (timeoutSeconds)
            except ApiException as exc:
                if exc.status == 410:
                    self.stats.relists += 1
                    rv = None
                else:
                    self.stats.errors.append(f"{exc.status} {exc.reason}")
                    self._stop.wait(1.0)
                    rv = None
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                self.stats.reconnects += 1           # dropped stream or read timeout
                if len(self.stats.errors) < 20:
                    self.stats.errors.append(type(exc).__name__)
                self._stop.wait(0.05)
            except ValueError as exc:                # an object the client cannot read
                self.stats.bad_objects.append(str(exc).splitlines()[0][:200])
                self._stop.wait(1.0)
                rv = None

    def _apply(self, ev: dict[str, Any]) -> None:
        if ev["type"] == "BOOKMARK":
            self.stats.bookmarks += 1
            return
        obj = ev["object"]
        self.stats.events += 1
        with self.lock:
            if ev["type"] == "DELETED":
                self.objects.pop(obj.metadata.name, None)
            else:
                self.objects[obj.metadata.name] = obj
        self.on_change()
