"""The users schedule of `bakeoff calibrate`: raise the load until the generator saturates.

One Locust process, levels of users each held `hold_s` seconds: while the process's CPU
demand stays under the guard's limit in the level's settled seconds, the users grow toward
the limit in proportion (at most double, at least +10 %); at or over it (or when the time
is up), the test stops. A level's first second starts its users and is not judged.
Kept free of Locust so the schedule can be tested on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

HOLD_S = 3
START_USERS = 10
MAX_USERS = 100_000


class AdaptiveLevels:
    def __init__(self, limit: float, duration_s: float, hold_s: int = HOLD_S,
                 start_users: int = START_USERS) -> None:
        self.limit, self.duration_s, self.hold_s = limit, duration_s, hold_s
        self.users, self.previous = start_users, 0
        self.level_start = 0.0
        self.done = False

    def next_users(self, settled: Sequence[float]) -> int | None:
        """The next level from the settled demand samples of this one; None = stop."""
        peak = max(settled, default=0.0)
        if peak >= self.limit or self.users >= MAX_USERS:
            return None
        # demand grows about in proportion to users: aim just under the limit, at most
        # doubling, at least +10 %
        grow = min(2.0, max(1.1, 0.9 * self.limit / peak)) if peak > 0 else 2.0
        return min(MAX_USERS, max(self.users + 1, math.ceil(self.users * grow)))

    def tick(self, t: float, demand: Sequence[float]) -> tuple[int, float] | None:
        """Locust's shape tick: (users, spawn rate) or None to stop. `demand` = this
        process's one-second CPU demand samples so far (newest last)."""
        if self.done or t >= self.duration_s:
            self.done = True
            return None
        if t - self.level_start >= self.hold_s:
            nxt = self.next_users(list(demand)[-(self.hold_s - 1):])
            if nxt is None or t + self.hold_s > self.duration_s:
                self.done = True
                return None
            self.previous, self.users, self.level_start = self.users, nxt, t
        return self.users, float(max(1, self.users - self.previous))
