"""Seed-scale proof: thousands of closed-model users through bakeoff's load stage, checked
against a constant-rate reference tool at the same rate. Needs root (network namespaces).

    python -m bench.perf.seed_scale [--users 5000] [--wait 1-2] [--duration 60]
                                    [--warmup 15] [--loadgens 2] [--json out.json]

1. Creates a target namespace (nginx, static 200, behind a bridge) and `--loadgens`
   load-generator namespaces, each joined to the bridge by a veth pair (198.19.254.0/24,
   RFC 2544's benchmarking range).
2. Runs http-load exactly as `bakeoff run` does (HttpLoad.run: Locust distributed, the
   master in the first load-generator namespace, one worker process in each) with
   `--users` users waiting `--wait` seconds between requests, `--warmup` seconds left out.
3. Runs `hey` (constant-rate: -c workers x -q each) from the first load-generator
   namespace against the same target at the rate Locust achieved, for the same measured
   time.
4. Prints (and writes with --json) the achieved rate, load-generator CPU, validity and
   left-out intervals, and p50/p99 of both tools, with the machine's facts and load.
Everything it created is removed at the end, also after a failure or Ctrl-C. Not a test:
its figures go into docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.hdr import decode
from bench.perf.loadgen import loadavg, machine
from bench.workloads import REGISTRY
from bench.workloads.http_load import Params
from core.environment import Environment, Host
from core.errors import BakeoffError
from stacks.executors.local import LocalExecutor

NET = "198.19.254"
LOCUSTFILE = """\
from locust import FastHttpUser, between, task


class Visitor(FastHttpUser):
    wait_time = between({lo}, {hi})

    @task
    def page(self):
        self.client.get("/")
"""
NGINX = """\
worker_processes 1;
worker_rlimit_nofile 65536;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 32768; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    server {{
        listen {address}:80 backlog=8192;
        location / {{ default_type text/plain; return 200 "ok\\n"; }}
    }}
}}
"""


def _ip(*args: str) -> None:
    res = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if res.returncode:
        raise BakeoffError(f"`ip {' '.join(args)}` failed: {res.stderr.strip()}")


class Namespaces:
    """tgt (bridge + nginx address .1) and lg1..lgN (addresses .11, .12, ...)."""

    def __init__(self, loadgens: int) -> None:
        tag = f"bkperf{os.getpid()}"
        self.target = f"{tag}-tgt"
        self.loadgens = [f"{tag}-lg{i + 1}" for i in range(loadgens)]
        self.made: list[str] = []

    def address(self, i: int) -> str:
        return f"{NET}.{11 + i}"

    def create(self) -> None:
        for ns in (self.target, *self.loadgens):
            _ip("netns", "add", ns)
            self.made.append(ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        t = self.target
        _ip("-n", t, "link", "add", "br0", "type", "bridge")
        _ip("-n", t, "addr", "add", f"{NET}.1/24", "dev", "br0")
        _ip("-n", t, "link", "set", "br0", "up")
        for i, ns in enumerate(self.loadgens):
            _ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", f"p{i}",
                "netns", t)
            _ip("-n", ns, "addr", "add", f"{self.address(i)}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", t, "link", "set", f"p{i}", "master", "br0")
            _ip("-n", t, "link", "set", f"p{i}", "up")

    def delete(self) -> None:
        for ns in reversed(self.made):  # deleting a namespace removes its veth ends
            for pid in subprocess.run(["ip", "netns", "pids", ns], capture_output=True,
                                      text=True, timeout=30).stdout.split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True, timeout=30)
        self.made.clear()


def start_nginx(ns: str, prefix: Path) -> subprocess.Popen:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    (prefix / "nginx.conf").write_text(NGINX.format(prefix=prefix, address=f"{NET}.1"))
    proc = subprocess.Popen(["ip", "netns", "exec", ns, binary, "-p", str(prefix), "-c",
                             str(prefix / "nginx.conf"), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BakeoffError(f"nginx exited: {proc.stderr.read().decode()[-500:]}")
        ok = subprocess.run(["ip", "netns", "exec", ns, "bash", "-c",
                             f"exec 3<>/dev/tcp/{NET}.1/80"], capture_output=True, timeout=10)
        if ok.returncode == 0:
            return proc
        time.sleep(0.1)
    raise BakeoffError("nginx did not start listening within 15 s")


def run_locust(ns: Namespaces, users: int, wait: tuple[float, float], duration: int,
               warmup: int, spawn_rate: float, tmp: Path) -> tuple[dict[str, Any], Any]:
    lf = tmp / "visitor_locustfile.py"
    lf.write_text(LOCUSTFILE.format(lo=wait[0], hi=wait[1]))
    hosts = {}
    for i, name in enumerate(ns.loadgens):
        role = "loadgen" if i == 0 else f"loadgen-{i}"
        hosts[role] = Host(role, "zone-a", ns.address(i),
                           LocalExecutor(prefix=("ip", "netns", "exec", name)), {})
    hosts["client"] = hosts["loadgen"]
    hosts["server"] = Host("server", "zone-b", f"{NET}.1",
                           LocalExecutor(prefix=("ip", "netns", "exec", ns.target)), {})
    env = Environment("seed-scale", "local", "local", "netns", hosts, None)
    params = Params(locustfile=str(lf), target_url=f"http://{NET}.1", users=users,
                    spawn_rate=spawn_rate, duration_s=duration, processes=1,
                    warmup_s=warmup)
    wl = REGISTRY["http-load"]
    raw = wl.run(params, env, None)
    (tmp / "http-load.json").write_text(raw)
    return json.loads(raw), wl.parse(raw, params)


def run_hey(ns: str, rate: float, seconds: int, workers: int) -> dict[str, float]:
    """hey at `rate` req/s in all (-c workers, -q rate/workers each) for `seconds`."""
    argv = ["ip", "netns", "exec", ns, "hey", "-z", f"{seconds}s", "-c", str(workers),
            "-q", f"{rate / workers:.3f}", f"http://{NET}.1/"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = re.search(r"Requests/sec:\s*([\d.]+)", out)
    dist = dict(re.findall(r"^\s+(\d+)%+ in ([\d.]+) secs", out, re.MULTILINE))
    if not rps or "50" not in dist or "99" not in dist:
        raise BakeoffError("hey printed no p50/p99 (it prints no 99th percentile below 100 "
                           f"responses): {out[-800:]}")
    return {"rps": float(rps.group(1)), "p50": float(dist["50"]) * 1000,
            "p99": float(dist["99"]) * 1000, "workers": workers}


def summarise(doc: dict[str, Any], parsed: Any) -> dict[str, Any]:
    def value(metric: str) -> float | None:
        return next((s.value for s in parsed.samples if s.metric == metric
                     and s.metadata.get("endpoint") == "all"), None)

    rows = [h.metadata for h in parsed.histograms
            if h.interval is not None and h.metadata["endpoint"] == "all"]
    measured = [r for r in rows if r["excluded"] != "warm-up"]
    loc = doc["locust"]
    cpu = {pid: s for pid, s in loc["cpu_samples"].items() if s}
    return {"valid": parsed.valid, "invalid_reason": parsed.invalid_reason,
            "notes": parsed.notes, "rps": value("rps"), "requests": value("requests"),
            "error_rate": value("error_rate"), "p50": value("latency_p50"),
            "p99": value("latency_p99"), "intervals": len(rows),
            "intervals_warmup": len(rows) - len(measured),
            "intervals_saturated": sum(r["excluded"] == "load generator saturated"
                                       for r in measured),
            "users_peak": max((r["users"] for r in rows), default=0),
            "loadgen_processes": len(cpu), "loadgen_hosts": doc["loadgen_hosts"],
            "cpu_mean_per_process": {p: round(sum(s) / len(s), 1) for p, s in cpu.items()},
            "cpu_demand_peak": value("loadgen_cpu_demand_peak"),
            "interval_p99_max_ms": max((decode(h.encoded).get_value_at_percentile(99) / 1000
                                        for h in parsed.histograms if h.interval is not None
                                        and h.metadata["endpoint"] == "all"
                                        and not h.metadata["excluded"]), default=0.0)}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    if os.geteuid() != 0:
        raise BakeoffError("seed_scale needs root (it creates network namespaces)")
    for tool in ("ip", "nginx", "hey"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            raise BakeoffError(f"{tool} is not installed (scripts/install-system-tools.sh test)")
    lo, hi = (float(x) for x in args.wait.split("-"))
    res: dict[str, Any] = {"machine": machine(), "loadavg_before": loadavg(),
                           "users": args.users, "wait_s": [lo, hi], "duration_s": args.duration,
                           "warmup_s": args.warmup, "loadgens": args.loadgens,
                           "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    ns = Namespaces(args.loadgens)
    nginx = None
    with tempfile.TemporaryDirectory(prefix="bakeoff-seed-") as d:
        tmp = Path(d)
        try:
            ns.create()
            (tmp / "nginx").mkdir()
            nginx = start_nginx(ns.target, tmp / "nginx")
            doc, parsed = run_locust(ns, args.users, (lo, hi), args.duration, args.warmup,
                                     args.spawn_rate, tmp)
            res["bakeoff"] = summarise(doc, parsed)
            rate = res["bakeoff"]["rps"] or 1.0
            res["hey"] = run_hey(ns.loadgens[0], rate, args.duration - args.warmup,
                                 args.hey_workers)
        finally:
            if nginx is not None:
                os.killpg(nginx.pid, signal.SIGKILL)
                nginx.wait(timeout=10)
            ns.delete()
    res["loadavg_after"] = loadavg()
    return res


def table(res: dict[str, Any]) -> str:
    b, h = res["bakeoff"], res["hey"]
    lines = [f"machine: {res['machine']}",
             f"load average (1 min) before/after: {res['loadavg_before']:.2f} / "
             f"{res['loadavg_after']:.2f}",
             f"{res['users']} users, wait {res['wait_s'][0]:g}-{res['wait_s'][1]:g} s, "
             f"{res['duration_s']} s ({res['warmup_s']} s warm-up left out), "
             f"{res['loadgens']} load-generator namespaces: {', '.join(b['loadgen_hosts'])}",
             f"valid: {b['valid']} {b['invalid_reason']}".rstrip(),
             *(f"  note: {n}" for n in b["notes"]),
             f"intervals: {b['intervals']} ({b['intervals_warmup']} warm-up, "
             f"{b['intervals_saturated']} saturated), peak users {b['users_peak']}",
             f"load-generator CPU: mean per process {b['cpu_mean_per_process']} %, "
             f"peak demand {b['cpu_demand_peak']:.0f} %",
             f"{'tool':<22}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}",
             f"{'bakeoff (Locust)':<22}{b['rps']:>10.0f}{b['p50']:>10.2f}{b['p99']:>10.2f}",
             f"{'hey (constant rate)':<22}{h['rps']:>10.0f}{h['p50']:>10.2f}{h['p99']:>10.2f}",
             f"highest p99 of a kept interval: {b['interval_p99_max_ms']:.2f} ms",
             f"p50 difference {b['p50'] - h['p50']:+.2f} ms, p99 difference "
             f"{b['p99'] - h['p99']:+.2f} ms; errors {b['error_rate']:.2f} %"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--wait", default="1-2", help="think time range, seconds (lo-hi)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--warmup", type=int, default=15, help="first seconds left out")
    parser.add_argument("--spawn-rate", type=float, default=500.0)
    parser.add_argument("--loadgens", type=int, default=2, help="load-generator namespaces")
    parser.add_argument("--hey-workers", type=int, default=50)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.loadgens < 1 or args.warmup >= args.duration:
        parser.error("need --loadgens >= 1 and --warmup < --duration")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up
    res = measure(args)
    print(table(res))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
