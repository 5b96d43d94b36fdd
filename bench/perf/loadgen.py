"""Benchmark of bakeoff's load stage against plain Locust and wrk, on this machine.

    python -m bench.perf.loadgen [--duration 10] [--json out.json]

(a) Ceiling: requests/s against nginx serving a static response, for wrk, single-process
    plain Locust (FastHttpUser, no plugin), bakeoff's load stage with one process (the
    HDR plugin's cost) and bakeoff's load stage on every core; ratios to plain Locust.
(b) Accuracy: p50/p99 against a fixed 20 ms-delay target below saturation, bakeoff's
    HDR numbers vs wrk's latency distribution.
Every measurement is bounded (`--duration` seconds, default 10; (a) runs `--rounds`
interleaved rounds, default 2, and keeps each tool's best). Not a test: it prints a
table; the numbers go into docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.hdr import decode, summary_ms
from bench.perf.targets import delay_target, nginx_static
from bench.workloads._locust_run import LocustRun
from core.environment import Host
from stacks.executors.local import LocalExecutor
from stacks.host_facts import machine_facts

PLAIN_LOCUSTFILE = """\
from locust import FastHttpUser, task


class Plain(FastHttpUser):
    @task
    def get(self):
        self.client.get("/")
"""
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not m:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def run_wrk(url: str, connections: int, threads: int, duration: int) -> dict[str, float]:
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s",
                          "--latency", url + "/"], capture_output=True, text=True,
                         timeout=duration + 30, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))
    dist = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.MULTILINE))
    return {"rps": rps, "p50": _ms(dist["50"]), "p99": _ms(dist["99"])}


def run_plain_locust(url: str, locustfile: Path, users: int, duration: int,
                     host: Host) -> dict[str, float]:
    """Single-process Locust without the plugin; rps from its own --json stats."""
    run = LocustRun(locustfile, url, users, users * 10, duration, with_plugin=False)
    argv, env = run.argv(sys.executable, "")
    argv = [a for a in argv if a != "--only-summary"] + ["--json"]
    res = host.executor.run(argv, timeout=duration + 60, env=env)
    stats = json.loads(res.stdout)
    total = sum(s["num_requests"] for s in stats)
    start = min(s["start_time"] for s in stats)
    last = max(s["last_request_timestamp"] for s in stats)
    return {"rps": total / (last - start)}


def run_bakeoff(url: str, locustfile: Path, users: int, duration: int, processes: int,
                host: Host) -> dict[str, float]:
    doc, _ = LocustRun(locustfile, url, users, users * 10, duration,
                       processes=processes).run(host)
    assert doc is not None
    ep = next(iter(doc["endpoints"].values()))
    lat = summary_ms(decode(ep["hdr"]))
    peak = max((max(s) for s in doc["cpu_samples"].values() if s), default=0.0)
    return {"rps": ep["requests"] / doc["window_s"], "p50": lat["latency_p50"],
            "p99": lat["latency_p99"], "cpu_peak": peak}


def machine() -> dict[str, Any]:
    facts = machine_facts()
    return {"nproc": facts["vcpus"], "cpu_model": facts["cpu_model"],
            "kernel": facts["kernel"], "python": facts["python"]}


def loadavg() -> float:
    """1-minute load average: other work on the machine skews every number here."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def measure(duration: int, users: int, delay_users: int, rounds: int) -> dict[str, Any]:
    """Rounds interleave the tools, and each tool's ceiling is its best round: work by other
    processes on the machine can only lower a ceiling, never raise it."""
    host = Host("loadgen", "local", "127.0.0.1", LocalExecutor(), {})
    cores = os.cpu_count() or 1
    results: dict[str, Any] = {"machine": machine(), "duration_s": duration, "users": users,
                               "delay_users": delay_users, "rounds": rounds,
                               "loadavg_before": loadavg()}
    runs: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        lf = Path(tmp) / "plain_locustfile.py"
        lf.write_text(PLAIN_LOCUSTFILE)
        with nginx_static(workers=1) as url:
            for _ in range(rounds):
                for name, fn in (
                        ("wrk", lambda: run_wrk(url, users, cores, duration)),
                        ("locust_1proc", lambda: run_plain_locust(url, lf, users, duration,
                                                                  host)),
                        ("bakeoff_1proc", lambda: run_bakeoff(url, lf, users, duration, 1,
                                                              host)),
                        (f"bakeoff_{cores}proc", lambda: run_bakeoff(url, lf, users, duration,
                                                                     cores, host))):
                    runs.setdefault(name, []).append(fn())
        results["static_runs"] = runs
        results["static"] = {name: max(rs, key=lambda r: r["rps"]) for name, rs in runs.items()}
        with delay_target(20.0) as url:
            results["delay_20ms"] = {
                "wrk": run_wrk(url, delay_users, min(cores, delay_users), duration),
                f"bakeoff_{cores}proc": run_bakeoff(url, lf, delay_users, duration, cores,
                                                     host),
            }
    results["loadavg_after"] = loadavg()
    return results


def table(res: dict[str, Any]) -> str:
    base = res["static"]["locust_1proc"]["rps"]
    lines = [f"machine: {res['machine']}",
             f"load average (1 min) before/after: {res['loadavg_before']:.2f} / "
             f"{res['loadavg_after']:.2f}", "",
             "(a) ceiling against nginx (static 200), "
             f"{res['users']} connections/users, {res['duration_s']} s each, best of "
             f"{res['rounds']} interleaved rounds",
             f"{'tool':<16}{'req/s':>12}{'vs Locust 1 proc':>18}   all rounds (req/s)"]
    for name, r in res["static"].items():
        every = ", ".join(f"{x['rps']:.0f}" for x in res["static_runs"][name])
        lines.append(f"{name:<16}{r['rps']:>12.0f}{r['rps'] / base:>17.2f}x   {every}")
    lines += ["", f"(b) latency against a fixed 20 ms delay, {res['delay_users']} "
              "connections/users (below saturation)",
              f"{'tool':<16}{'req/s':>12}{'p50 ms':>10}{'p99 ms':>10}"]
    for name, r in res["delay_20ms"].items():
        lines.append(f"{name:<16}{r['rps']:>12.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}")
    wrk, ours = res["delay_20ms"]["wrk"], next(v for k, v in res["delay_20ms"].items()
                                              if k != "wrk")
    lines.append(f"p50 difference: {ours['p50'] - wrk['p50']:+.2f} ms "
                 f"({100 * (ours['p50'] - wrk['p50']) / wrk['p50']:+.1f}%)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--delay-users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds for (a)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)
    res = measure(args.duration, args.users, args.delay_users, args.rounds)
    print(table(res))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
