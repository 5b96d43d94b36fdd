"""The cold-start client: forces cold starts and times requests, from the load host.

`python -m bench.serverless.probe --url URL --function NAME ...` prints one JSON document
(the workload's raw output): every request with its client-side latency, status and what
the platform said (cold or not, reported init). A cold sample is forced either by waiting
beyond the site's idle timeout (`idle`, what a user meets) or by asking the site to stop
its idle instances (`recycle`, faster); which one is recorded. A burst sends N concurrent
requests to a cold function. 429 is a throttle, any other non-2xx or a transport error a
failure; neither enters a latency distribution.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any

FORMAT = 1
# loopback and namespace addresses: never through an http_proxy from the environment
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def invoke(url: str, timeout_s: float) -> dict[str, Any]:
    """One request; latency from before connect to the last byte of the body."""
    req = urllib.request.Request(url, data=b"{}", method="POST",
                                 headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    headers: Any = {}
    try:
        with _OPENER.open(req, timeout=timeout_s) as resp:
            resp.read()
            status, headers = resp.status, resp.headers
    except urllib.error.HTTPError as exc:
        exc.read()
        status, headers = exc.code, exc.headers
    except (OSError, ValueError) as exc:
        return {"latency_ms": round((time.perf_counter() - start) * 1000, 3), "status": 0,
                "error": f"{type(exc).__name__}: {exc}"[:200]}
    out: dict[str, Any] = {"latency_ms": round((time.perf_counter() - start) * 1000, 3),
                           "status": status}
    if headers.get("X-Bakeoff-Cold") is not None:
        out["cold"] = headers.get("X-Bakeoff-Cold") == "1"
    if headers.get("X-Bakeoff-Init-Ms") not in (None, "0"):
        out["init_ms"] = float(headers["X-Bakeoff-Init-Ms"])
        out["init_parts"] = json.loads(headers.get("X-Bakeoff-Init-Parts") or "{}")
    return out


def force_cold(base: str, mode: str, idle_s: float, timeout_s: float,
               forcer: Any = None, target: Any = None, log: list | None = None) -> None:
    if mode == "version":  # a cloud function: a new configuration version (cold_force.py)
        done = forcer.force(target, f"{time.time_ns():x}")
        if log is not None:
            log.append(done)
    elif mode == "recycle":
        req = urllib.request.Request(f"{base}/_admin/recycle", data=b"", method="POST")
        with _OPENER.open(req, timeout=timeout_s) as resp:
            resp.read()
    else:  # idle: the reaper checks every <= 50 ms; wait a margin beyond the timeout
        time.sleep(idle_s * 1.2 + 0.3)


def burst(url: str, n: int, timeout_s: float) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = [{} for _ in range(n)]
    gate = threading.Barrier(n)

    def one(i: int) -> None:
        gate.wait()
        results[i] = invoke(url, timeout_s)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def measure(base: str, function: str, samples: int, warm: int, burst_n: int, mode: str,
            idle_s: float, timeout_s: float, forcer: Any = None,
            target: Any = None) -> dict[str, Any]:
    url = f"{base}/fn/{function}"
    cold: list[dict[str, Any]] = []
    warm_rows: list[dict[str, Any]] = []
    forced: list[dict[str, Any]] = []
    for _ in range(samples):
        force_cold(base, mode, idle_s, timeout_s, forcer, target, forced)
        cold.append(invoke(url, timeout_s))
        warm_rows += [invoke(url, timeout_s) for _ in range(warm)]
    burst_rows: list[dict[str, Any]] = []
    if burst_n:
        force_cold(base, mode, idle_s, timeout_s, forcer, target, forced)
        burst_rows = burst(url, burst_n, timeout_s)
    out = {"function": function, "cold": cold, "warm": warm_rows, "burst": burst_rows}
    if forced:  # what each forced cold start did on the platform (method, version, revision)
        out["forced"] = forced
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--version", action="version",
                   version=f"bakeoff cold-start probe, format {FORMAT}, Python "
                           f"{sys.version.split()[0]}")
    p.add_argument("--url", required=True, help="the function site's base URL")
    p.add_argument("--function", action="append", required=True)
    p.add_argument("--samples", type=int, required=True)
    p.add_argument("--warm", type=int, required=True, help="warm requests after each cold one")
    p.add_argument("--burst", type=int, required=True)
    p.add_argument("--force", choices=("idle", "recycle", "version"), required=True)
    p.add_argument("--cold-force", help="version: the site's cold_force JSON (provider "
                   "method and target; bench/serverless/cold_force.py)")
    p.add_argument("--idle-s", type=float, required=True)
    p.add_argument("--timeout-s", type=float, default=60.0)
    a = p.parse_args(argv)
    forcer = target = None
    if a.force == "version":
        from bench.serverless.cold_force import forcer_for

        target = json.loads(a.cold_force or "{}")
        forcer = forcer_for(target)
    runs = [measure(a.url, f, a.samples, a.warm, a.burst, a.force, a.idle_s, a.timeout_s,
                    forcer, target) for f in a.function]
    print(json.dumps({"workload": "cold-start", "format": FORMAT, "force": a.force,
                      "idle_s": a.idle_s, "functions": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
