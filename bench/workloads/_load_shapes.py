"""Load shapes of http-load: steps, a ramp and a spike (closed model), rate steps
(constant-rate model), validated for physical sense, and what each intends over time.

Closed-model shapes compile to Locust steps `{users, spawn_rate, duration_s}` (one
LoadTestShape in the plugin plays them): a ramp is one step whose spawn rate makes Locust
add users linearly; a spike is base, spike, recovery. Rate steps drive the constant-rate
schedule instead (bench.workloads._rate_schedule). `intended_users` / `intended_rps` say
what the scenario asked for at a moment, for the per-interval intended-vs-achieved view.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_USERS = 100_000
MAX_STEP_S = 3600
MAX_SPAWN_RATE = 10_000.0  # users started per second; Locust starts far fewer per core
MAX_RATE_RPS = 1_000_000.0


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShapeStep(_Shape):
    """One step of a step/ramp load shape: hold `users` for `duration_s` seconds."""

    users: int = Field(gt=0, le=MAX_USERS, description="users held during this step")
    spawn_rate: float = Field(10.0, gt=0, le=MAX_SPAWN_RATE,
                              description="users started per second")
    duration_s: int = Field(gt=0, le=MAX_STEP_S, description="length of this step, seconds")


class RampShape(_Shape):
    """Users rise linearly from start_users to end_users over ramp_s, then hold."""

    kind: Literal["ramp"] = Field(description="users rise linearly, then hold")
    start_users: int = Field(0, ge=0, le=MAX_USERS, description="users at the start")
    end_users: int = Field(gt=0, le=MAX_USERS, description="users at the end of the ramp")
    ramp_s: int = Field(gt=0, le=MAX_STEP_S, description="length of the ramp, seconds")
    hold_s: int = Field(0, ge=0, le=MAX_STEP_S, description="time held at end_users")
    spawn_rate: float = Field(100.0, gt=0, le=MAX_SPAWN_RATE,
                              description="users/s to reach start_users first")

    @model_validator(mode="after")
    def _rises(self) -> RampShape:
        if self.end_users == self.start_users:
            raise ValueError(f"ramp: end_users equals start_users ({self.end_users}); use "
                             "users/duration_s for a constant load")
        if abs(self.end_users - self.start_users) / self.ramp_s > MAX_SPAWN_RATE:
            raise ValueError(f"ramp: {self.start_users} to {self.end_users} users in "
                             f"{self.ramp_s} s needs more than {MAX_SPAWN_RATE:g} users/s")
        return self


class SpikeShape(_Shape):
    """base_users for base_s, a sudden rise to spike_users held hold_s, then back to base
    for recovery_s (does the service recover, and how fast?)."""

    kind: Literal["spike"] = Field(description="base, a sudden spike, recovery at base")
    base_users: int = Field(gt=0, le=MAX_USERS, description="users before and after")
    spike_users: int = Field(gt=0, le=MAX_USERS, description="users at the spike's height")
    base_s: int = Field(gt=0, le=MAX_STEP_S, description="time at base before the spike")
    hold_s: int = Field(gt=0, le=MAX_STEP_S, description="time at the spike's height")
    recovery_s: int = Field(gt=0, le=MAX_STEP_S, description="time at base afterwards")
    spawn_rate: float = Field(100.0, gt=0, le=MAX_SPAWN_RATE,
                              description="users/s to reach base_users at the start")
    spike_rate: float | None = Field(None, gt=0, le=MAX_SPAWN_RATE,
                                     description="users/s of the rise; default: within 1 s")

    @model_validator(mode="after")
    def _physical(self) -> SpikeShape:
        if self.spike_users <= self.base_users:
            raise ValueError(f"spike: spike_users ({self.spike_users}) must exceed "
                             f"base_users ({self.base_users})")
        rise = self.spike_users - self.base_users
        if rise > MAX_SPAWN_RATE and self.spike_rate is None:
            raise ValueError(f"spike: a rise of {rise} users in 1 s exceeds "
                             f"{MAX_SPAWN_RATE:g} users/s; give spike_rate")
        if rise / self.rise_rate > self.hold_s:
            raise ValueError(f"spike: rising {rise} users at {self.rise_rate:g} users/s "
                             f"takes {rise / self.rise_rate:.1f} s, longer than hold_s "
                             f"({self.hold_s} s): the spike would never reach its height")
        if self.base_users / self.spawn_rate > self.base_s:
            raise ValueError(f"spike: starting {self.base_users} users at "
                             f"{self.spawn_rate:g} users/s takes longer than base_s "
                             f"({self.base_s} s)")
        return self

    @property
    def rise_rate(self) -> float:
        return self.spike_rate or float(self.spike_users - self.base_users)


class RateStep(_Shape):
    rate_rps: float = Field(gt=0, le=MAX_RATE_RPS, description="intended sends per second")
    duration_s: int = Field(gt=0, le=MAX_STEP_S, description="length of this step, seconds")


class RateStepsShape(_Shape):
    """Constant-rate model: the intended send rate changes step by step."""

    kind: Literal["rate-steps"] = Field(description="constant-rate: the rate step by step")
    steps: list[RateStep] = Field(min_length=1, max_length=100,
                                  description="[{rate_rps, duration_s}, ...] in order")


ClosedShape = RampShape | SpikeShape
Shape = list[ShapeStep] | RampShape | SpikeShape | RateStepsShape


def locust_steps(shape: Shape | None) -> list[dict] | None:
    """The closed-model shape as Locust steps; None for no shape or rate steps."""
    if shape is None or isinstance(shape, RateStepsShape):
        return None
    if isinstance(shape, list):
        return [s.model_dump() for s in shape]
    if isinstance(shape, RampShape):
        steps = []
        if shape.start_users:
            steps.append({"users": shape.start_users, "spawn_rate": shape.spawn_rate,
                          "duration_s": math.ceil(shape.start_users / shape.spawn_rate)})
        steps.append({"users": shape.end_users, "duration_s": shape.ramp_s,
                      "spawn_rate": abs(shape.end_users - shape.start_users) / shape.ramp_s})
        if shape.hold_s:
            steps.append({"users": shape.end_users, "spawn_rate": 1.0,
                          "duration_s": shape.hold_s})
        return steps
    down = float(shape.spike_users - shape.base_users)  # Locust stops users at this rate
    return [{"users": shape.base_users, "spawn_rate": shape.spawn_rate,
             "duration_s": shape.base_s},
            {"users": shape.spike_users, "spawn_rate": shape.rise_rate,
             "duration_s": shape.hold_s},
            {"users": shape.base_users, "spawn_rate": down, "duration_s": shape.recovery_s}]


def shape_seconds(shape: Shape | None) -> float | None:
    if isinstance(shape, RateStepsShape):
        return float(sum(s.duration_s for s in shape.steps))
    steps = locust_steps(shape)
    return float(sum(s["duration_s"] for s in steps)) if steps else None


def peak_users(shape: Shape | None, users: int) -> int:
    steps = locust_steps(shape)
    return max(s["users"] for s in steps) if steps else users


def intended_users(steps: list[dict], t: float) -> float:
    """Users the steps ask for t seconds after the start (Locust moves toward each step's
    target at its spawn rate)."""
    cur, start = 0.0, 0.0
    for step in steps:
        end = start + step["duration_s"]
        span = min(t, end) - start
        target, rate = float(step["users"]), float(step["spawn_rate"])
        move = rate * max(span, 0.0)
        cur = min(target, cur + move) if target >= cur else max(target, cur - move)
        if t < end:
            return cur
        start = end
    return 0.0
