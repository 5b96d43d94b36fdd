"""Locust plugin loaded as a second locustfile next to the user's: exact latency capture.

- Every request's latency goes into a per-endpoint HDR histogram (microseconds) through
  Locust's `request` event, in whichever process ran the request.
- When the test stops, the master (or the single local process) asks every worker to
  freeze its histograms and send them in a custom message, waits for all of them
  (bounded), merges them exactly and writes one JSON document to $BAKEOFF_LOCUST_OUT.
  Nothing is lost to Locust's periodic stats timing, and merges are exact.
- Each process samples its own CPU % and CPU demand % (on CPU + runnable but waiting, from
  /proc/self/schedstat) every second; Locust's `cpu_warning` events are kept.
- Constant-rate mode ($BAKEOFF_MODE=constant-rate): every user's wait_time claims the next
  send slot of a fixed schedule (rate per process), sleeps until the slot's intended
  time, and latency is measured from that intended time (coordinated-omission corrected,
  as wrk2 does); sends that start more than the late threshold after their slot count
  as late.
- $BAKEOFF_SHAPE (JSON list of {users, spawn_rate, duration_s}) adds a step load shape;
  $BAKEOFF_RATE_STEPS (JSON [[rate per process, duration_s], ...]) makes the constant-rate
  schedule a sequence of rate steps (bench.workloads._rate_schedule).
- Every request also lands in a per-interval histogram ($BAKEOFF_INTERVAL_S, default 1 s;
  bench.workloads._locust_intervals) with requests, errors, active users and this
  process's CPU per interval; the master merges them by interval, exactly.

Configuration comes from environment variables so that forked workers inherit it.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import gevent
import locust
import psutil
from locust import LoadTestShape, events
from locust.runners import MasterRunner, WorkerRunner

from bench.hdr import decode, encode, new_histogram, record_us
from bench.workloads._locust_intervals import IntervalRecorder, merge_intervals
from bench.workloads._rate_schedule import RateSchedule

OUT = os.environ.get("BAKEOFF_LOCUST_OUT", "")
MODE = os.environ.get("BAKEOFF_MODE", "closed")
RATE_PER_PROCESS = float(os.environ.get("BAKEOFF_RATE_PER_PROCESS", "0") or 0)
LATE_S = float(os.environ.get("BAKEOFF_LATE_MS", "5")) / 1000.0
INTERVAL_S = int(os.environ.get("BAKEOFF_INTERVAL_S", "1") or 1)
_RATE_STEPS = json.loads(os.environ.get("BAKEOFF_RATE_STEPS") or "null")
FLUSH_TIMEOUT_S = 20.0
CPU_INTERVAL_S = 1.0
_LOCUST_VERSION = getattr(locust, "__version__", None)


class Recorder:
    """This process's histograms, counters and CPU samples; `payload()` is msgpack-safe."""

    def __init__(self) -> None:
        self.open = True
        self.latency: dict[str, Any] = {}
        self.service: dict[str, Any] = {}
        self.requests: dict[str, int] = {}
        self.failures: dict[str, int] = {}
        self.clamped = 0
        self.cpu: list[float] = []
        self.demand: list[float] = []
        self.rate = {"slots_due": 0, "sent": 0, "late": 0, "max_send_delay_ms": 0.0}
        self.first_ts: float | None = None  # first request sent by this process
        self.frozen_at: float | None = None
        self.t0: float | None = None  # first slot of the constant-rate schedule
        self.next_slot = 0
        self.intervals = IntervalRecorder(INTERVAL_S)
        self.schedule = (RateSchedule(RATE_PER_PROCESS, _RATE_STEPS)
                         if MODE == "constant-rate" and RATE_PER_PROCESS > 0 else None)

    def on_request(self, request_type: str, name: str, response_time: float,
                   exception: Any = None, start_time: float | None = None, **_kw: Any) -> None:
        if not self.open:
            return
        if self.first_ts is None:
            self.first_ts = start_time or (time.time() - response_time / 1000.0)
        key = f"{request_type} {name}"
        self.requests[key] = self.requests.get(key, 0) + 1
        intended = (getattr(gevent.getcurrent(), "bakeoff_intended", None)
                    if MODE == "constant-rate" else None)
        sent_at = intended or start_time or (time.time() - response_time / 1000.0)
        if exception is not None:
            self.failures[key] = self.failures.get(key, 0) + 1
            self.intervals.request(sent_at, key, None)
            return
        service_us = response_time * 1000.0
        total_us = service_us
        if intended is not None and start_time is not None:
            total_us = (start_time - intended) * 1e6 + service_us
            hist = self.service.get(key) or self.service.setdefault(key, new_histogram())
            record_us(hist, service_us)
        hist = self.latency.get(key) or self.latency.setdefault(key, new_histogram())
        if not record_us(hist, total_us):
            self.clamped += 1
        self.intervals.request(sent_at, key, total_us)

    def claim_slot(self) -> None:
        """Constant-rate wait_time: take the next slot, sleep until it, mark late sends."""
        now = time.time()
        if self.t0 is None:
            self.t0 = now
        offset = self.schedule.offset(self.next_slot) if self.schedule else None
        if offset is None:  # the rate steps are over: the run's time limit ends the test
            gevent.sleep(3600)
            return
        intended = self.t0 + offset
        self.next_slot += 1
        if intended > now:
            gevent.sleep(intended - now)
        delay = time.time() - intended
        gevent.getcurrent().bakeoff_intended = intended
        if self.open:
            self.rate["sent"] += 1
            self.rate["late"] += int(delay > LATE_S)
            self.rate["max_send_delay_ms"] = max(self.rate["max_send_delay_ms"], delay * 1000)
            self.intervals.send(intended, delay > LATE_S)

    def freeze(self) -> None:
        if not self.open:
            return
        self.open = False
        self.frozen_at = time.time()
        if self.t0 is not None and self.schedule is not None:
            self.rate["slots_due"] = self.schedule.due_before(self.frozen_at - self.t0)

    def due_per_interval(self) -> dict[int, int]:
        """Sends the schedule intended in each interval (constant-rate), up to the stop."""
        if self.t0 is None or self.schedule is None or self.frozen_at is None:
            return {}
        rec, sched, t0, end = self.intervals, self.schedule, self.t0, self.frozen_at
        out = {}
        for k in range(rec.key(t0), rec.key(end) + 1):
            a, b = max(k * rec.interval_s, t0), min((k + 1) * rec.interval_s, end)
            out[k] = sched.due_before(b - t0) - sched.due_before(a - t0)
        return out

    def payload(self) -> dict[str, Any]:
        return {"latency": {k: encode(h) for k, h in self.latency.items()},
                "service": {k: encode(h) for k, h in self.service.items()},
                "requests": dict(self.requests), "failures": dict(self.failures),
                "clamped": self.clamped, "cpu": list(self.cpu), "demand": list(self.demand),
                "rate": dict(self.rate),
                "first_ts": self.first_ts, "frozen_at": self.frozen_at, "pid": os.getpid(),
                "intervals": self.intervals.payload(self.due_per_interval())}


REC = Recorder()
STATE: dict[str, Any] = {"workers": [], "expected": [], "t_start": None, "t_stop": None,
                         "cpu_warnings": [], "flush_timeout": False}


def _merge_into(total: dict[str, Any], part: dict[str, Any]) -> None:
    for kind in ("latency", "service"):
        for key, enc in part[kind].items():
            hist = total[kind].setdefault(key, new_histogram())
            hist.add(decode(enc))
    for kind in ("requests", "failures"):
        for key, n in part[kind].items():
            total[kind][key] = total[kind].get(key, 0) + n
    total["clamped"] += part["clamped"]
    for key in ("slots_due", "sent", "late"):
        total["rate"][key] += part["rate"][key]
    total["rate"]["max_send_delay_ms"] = max(total["rate"]["max_send_delay_ms"],
                                             part["rate"]["max_send_delay_ms"])
    total["cpu"][str(part["pid"])] = part["cpu"]
    total["intervals"].append((str(part["pid"]), part["intervals"]))
    total["demand"][str(part["pid"])] = part["demand"]
    if part["first_ts"] is not None:
        total["first_ts"] = min(total["first_ts"] or part["first_ts"], part["first_ts"])
    if part["frozen_at"] is not None:
        total["frozen_at"] = max(total["frozen_at"] or 0.0, part["frozen_at"])


def _schedstat() -> tuple[float, float] | None:
    """(seconds on CPU, seconds runnable but waiting for a CPU) of this process's main thread."""
    try:
        with open("/proc/self/schedstat") as fh:
            on_cpu, waiting = fh.read().split()[:2]
        return int(on_cpu) / 1e9, int(waiting) / 1e9
    except (OSError, ValueError):
        return None


def _cpu_sampler(runner: Any) -> None:
    """Every second (on the clock's second boundaries, so that every process's samples
    fall in the same intervals): this process's CPU %, its CPU demand % (on CPU + waiting
    for one) and its active users.

    Demand shows a starved load generator even when other processes take the CPU: its
    own CPU % then stays low although it is runnable all the time and cannot keep up."""
    proc = psutil.Process()
    proc.cpu_percent(None)
    last, last_t = _schedstat(), time.perf_counter()
    while REC.open:
        gevent.sleep(CPU_INTERVAL_S - time.time() % CPU_INTERVAL_S + 0.001)
        if not REC.open:
            break
        cpu = proc.cpu_percent(None)
        REC.cpu.append(cpu)
        now, now_t = _schedstat(), time.perf_counter()
        demand = None
        if now is not None and last is not None and now_t > last_t:
            demand = 100.0 * ((now[0] - last[0]) + (now[1] - last[1])) / (now_t - last_t)
            REC.demand.append(demand)
        last, last_t = now, now_t
        REC.intervals.sample(time.time(), getattr(runner, "user_count", 0), cpu, demand)


@events.request.add_listener
def _on_request(**kw: Any) -> None:
    REC.on_request(**kw)


@events.cpu_warning.add_listener
def _on_cpu_warning(environment: Any, cpu_usage: float, **_kw: Any) -> None:
    STATE["cpu_warnings"].append({"cpu_usage": cpu_usage, "at": time.time()})


@events.init.add_listener
def _on_init(environment: Any, **_kw: Any) -> None:
    runner = environment.runner
    if MODE == "constant-rate":
        if RATE_PER_PROCESS <= 0:
            raise RuntimeError("constant-rate mode needs BAKEOFF_RATE_PER_PROCESS > 0")
        for user_class in environment.user_classes:
            _make_rate_limited(user_class)
    if isinstance(runner, WorkerRunner):
        def flush(environment: Any, msg: Any, **_kw: Any) -> None:
            REC.freeze()
            runner.send_message("bakeoff_hdr", REC.payload())
        runner.register_message("bakeoff_flush", flush)
    elif isinstance(runner, MasterRunner):
        def collect(environment: Any, msg: Any, **_kw: Any) -> None:
            STATE["workers"].append(msg.data | {"client_id": msg.node_id})
        runner.register_message("bakeoff_hdr", collect)


def _make_rate_limited(user_class: type) -> None:
    """Slot-claiming wait_time, and a first claim in on_start (Locust runs a task first)."""
    original_on_start = user_class.on_start

    def on_start(self: Any) -> None:
        original_on_start(self)
        REC.claim_slot()

    def wait_time(self: Any) -> float:
        REC.claim_slot()
        return 0.0

    user_class.on_start = on_start
    user_class.wait_time = wait_time


@events.test_start.add_listener
def _on_test_start(environment: Any, **_kw: Any) -> None:
    if STATE["t_start"] is None:
        STATE["t_start"] = time.time()
        if not isinstance(environment.runner, MasterRunner):
            gevent.spawn(_cpu_sampler, environment.runner)


@events.test_stopping.add_listener
def _on_test_stopping(environment: Any, **_kw: Any) -> None:
    runner = environment.runner
    if STATE["t_stop"] is not None or isinstance(runner, WorkerRunner):
        return
    STATE["t_stop"] = time.time()
    REC.freeze()
    if isinstance(runner, MasterRunner):
        STATE["expected"] = [c.id for c in runner.clients.all]
        runner.send_message("bakeoff_flush", None)
        deadline = time.monotonic() + FLUSH_TIMEOUT_S
        while len(STATE["workers"]) < len(STATE["expected"]):
            if time.monotonic() > deadline:
                STATE["flush_timeout"] = True
                break
            gevent.sleep(0.05)


@events.quitting.add_listener
def _on_quitting(environment: Any, **_kw: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner) or not OUT:
        return
    REC.freeze()
    total: dict[str, Any] = {"latency": {}, "service": {}, "requests": {}, "failures": {},
                             "clamped": 0, "cpu": {}, "demand": {}, "first_ts": None,
                             "frozen_at": None, "intervals": [],
                             "rate": {"slots_due": 0, "sent": 0, "late": 0,
                                      "max_send_delay_ms": 0.0}}
    parts = STATE["workers"] if isinstance(runner, MasterRunner) else [REC.payload()]
    for part in parts:
        _merge_into(total, part)
    doc = {
        "locust_version": _LOCUST_VERSION,  # of the load host, not the orchestrator's
        "runner": type(runner).__name__,
        "worker_processes": len(STATE["expected"]) if isinstance(runner, MasterRunner) else 1,
        "workers_reported": len(parts),
        "flush_timeout": STATE["flush_timeout"],
        "t_start": STATE["t_start"], "t_stop": STATE["t_stop"],
        # requests/s are counted from the first request sent to the stop (as Locust does)
        "window_s": ((total["frozen_at"] or time.time()) - total["first_ts"]
                     if total["first_ts"] else 0.0),
        "first_request_at": total["first_ts"],
        "endpoints": {key: {"hdr": encode(total["latency"][key]) if key in total["latency"]
                            else None,
                            "service_hdr": encode(total["service"][key])
                            if key in total["service"] else None,
                            "requests": n, "failures": total["failures"].get(key, 0)}
                      for key, n in sorted(total["requests"].items())},
        "clamped": total["clamped"],
        "cpu_samples": total["cpu"],
        "cpu_demand": total["demand"],
        "cpu_interval_s": CPU_INTERVAL_S,
        "locust_cpu_warning": bool(getattr(runner, "cpu_warning_emitted", False)
                                   or getattr(runner, "worker_cpu_warning_emitted", False)
                                   or STATE["cpu_warnings"]),
        "cpu_warnings": STATE["cpu_warnings"],
        "mode": MODE,
        "intervals": merge_intervals(total["intervals"]),
        "rate": total["rate"] | {"rate_per_process": RATE_PER_PROCESS,
                                 "late_threshold_ms": LATE_S * 1000},
    }
    tmp = OUT + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(doc, fh)
    os.replace(tmp, OUT)


_SHAPE = json.loads(os.environ["BAKEOFF_SHAPE"]) if os.environ.get("BAKEOFF_SHAPE") else None

if _SHAPE:
    class BakeoffSteps(LoadTestShape):
        """Steps of (users, spawn_rate, duration_s), one after another; then stop."""

        steps = _SHAPE

        def tick(self) -> tuple[int, float] | None:
            elapsed = self.get_run_time()
            for step in self.steps:
                if elapsed < step["duration_s"]:
                    return int(step["users"]), float(step["spawn_rate"])
                elapsed -= step["duration_s"]
            return None


_CALIBRATE = json.loads(os.environ.get("BAKEOFF_CALIBRATE") or "null")  # [limit, seconds]

if _CALIBRATE:
    from bench.workloads._calibrate_shape import AdaptiveLevels

    class BakeoffCalibrate(LoadTestShape):
        """`bakeoff calibrate`: more users until this process's CPU demand nears the limit."""

        levels = AdaptiveLevels(float(_CALIBRATE[0]), float(_CALIBRATE[1]))

        def tick(self) -> tuple[int, float] | None:
            return self.levels.tick(self.get_run_time(), REC.demand or REC.cpu)
