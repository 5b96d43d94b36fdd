"""The send schedule of constant-rate mode: a fixed rate, or rate steps one after another.

Slot n of a process has an intended send time (seconds after the process's first slot);
the plugin sleeps until it and measures latency from it (coordinated-omission corrected).
`due_before(t)` counts the slots whose intended time is before t, which gives both the
sends that were due when the test stopped and the intended sends of every interval.

Kept free of Locust so it can be tested (and reasoned about) on its own.
"""

from __future__ import annotations

import math

EPS = 1e-9


class RateSchedule:
    """`steps` = [(rate per second, duration_s), ...]; without steps: `rate` forever."""

    def __init__(self, rate: float, steps: list[tuple[float, float]] | None = None) -> None:
        if steps:
            if any(r <= 0 or d <= 0 for r, d in steps):
                raise ValueError("every rate step needs a positive rate and duration")
        elif rate <= 0:
            raise ValueError("a constant rate must be positive")
        self.rate = rate
        self.steps = [(float(r), float(d)) for r, d in steps or []]
        # per step: (start offset, first slot number, slots in the step)
        self._bounds: list[tuple[float, int, int]] = []
        start, first = 0.0, 0
        for r, d in self.steps:
            count = math.ceil(r * d - EPS)  # slots i/r < d, i = 0, 1, ...
            self._bounds.append((start, first, count))
            start, first = start + d, first + count

    @property
    def length_s(self) -> float | None:
        return sum(d for _, d in self.steps) if self.steps else None

    def offset(self, n: int) -> float | None:
        """Intended time of slot n after the first slot; None when the steps are over."""
        if not self.steps:
            return n / self.rate
        for (start, first, count), (r, _) in zip(self._bounds, self.steps, strict=True):
            if n < first + count:
                return start + (n - first) / r
        return None

    def due_before(self, t: float) -> int:
        """Slots with intended time < t (t in seconds after the first slot)."""
        if t <= 0:
            return 0
        if not self.steps:
            return math.ceil(t * self.rate - EPS)
        due = 0
        for (start, _, count), (r, d) in zip(self._bounds, self.steps, strict=True):
            if t >= start + d:
                due += count
            else:
                due += min(count, math.ceil((t - start) * r - EPS))
                break
        return due

    def rate_at(self, t: float) -> float:
        """The intended rate at t seconds after the first slot (0 after the last step)."""
        if not self.steps:
            return self.rate
        for start, (r, d) in zip((b[0] for b in self._bounds), self.steps, strict=True):
            if start <= t < start + d:
                return r
        return 0.0
