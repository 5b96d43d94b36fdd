"""cold-start: the parser against captured output, the probe against a scripted platform,
and the whole path (local function site, orchestrator, scoring, report) for real."""

from __future__ import annotations

import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.orchestrator import Orchestrator
from bench.scenarios import parse_campaign
from bench.serverless import probe
from bench.workloads import REGISTRY
from core.errors import ParseError

GOLDEN = Path(__file__).parent / "golden" / "cold-start"
WL = REGISTRY["cold-start"]


def hdr_rank(values: list[float], pct: float) -> float:
    """The value hdrhistogram returns for `pct`: rank max(1, floor(pct * n / 100 + 0.5))
    (the rule scoring/hdr_stats.py documents), read from the sorted raw values."""
    ordered = sorted(values)
    return ordered[max(1, math.floor(pct * len(ordered) / 100 + 0.5)) - 1]


def got(out) -> dict[str, float]:
    return {s.metric: s.value for s in out.samples}


def test_golden_capture_folds_to_the_percentiles_of_its_requests():
    doc = json.loads((GOLDEN / "local_netns_idle.json").read_text())
    values = got(WL.parse((GOLDEN / "local_netns_idle.json").read_text(), None))
    for prefix, run in (("", doc["functions"][0]), ("baseline_", doc["functions"][1])):
        cold = [r["latency_ms"] for r in run["cold"]]
        warm = [r["latency_ms"] for r in run["warm"]]
        init = [r["init_ms"] for r in run["cold"]]
        for p in (50, 90, 99):  # HDR keeps 3 significant figures: within 0.1 %
            assert values[f"{prefix}cold_start_p{p}"] == pytest.approx(hdr_rank(cold, p), 1e-3)
            assert values[f"{prefix}warm_p{p}"] == pytest.approx(hdr_rank(warm, p), 1e-3)
            assert values[f"{prefix}init_p{p}"] == pytest.approx(hdr_rank(init, p), 1e-3)
        assert values[f"{prefix}cold_samples"] == len(cold) == 4
        assert values[f"{prefix}burst_cold_starts"] == 4  # four concurrent, none warm
    # the realistic function's init really opened its database pool; hello's did nothing
    checkout, hello = doc["functions"]
    assert all(r["init_parts"]["db_connect_ms"] > 0 for r in checkout["cold"])
    assert all(set(r["init_parts"]) == {"total_ms"} for r in hello["cold"])


def test_every_truncation_is_a_parse_error():
    text = (GOLDEN / "local_netns_idle.json").read_text()
    for cut in range(0, len(text) - 1, max(1, len(text) // 97)):
        with pytest.raises(ParseError):
            WL.parse(text[:cut], None)


@pytest.mark.parametrize("bad", [
    {"workload": "cold-start", "format": 1, "force": "sometimes", "idle_s": 1, "functions": []},
    {"workload": "cold-start", "format": 1, "force": "idle", "idle_s": 1, "functions": []},
    {"workload": "cold-start", "format": 1, "force": "idle", "idle_s": 1, "functions": [
        {"function": "checkout", "cold": [{"latency_ms": "fast", "status": 200}],
         "warm": [], "burst": []}]},
    {"workload": "cold-start", "format": 1, "force": "idle", "idle_s": 1, "functions": [
        {"function": "rm -rf", "cold": [], "warm": [], "burst": []}]},
])
def test_damaged_documents_are_refused_by_name(bad):
    with pytest.raises(ParseError):
        WL.parse(json.dumps(bad), None)


class Scripted:
    """A platform that answers from a script: (status, cold, init_ms, sleep_s) per request,
    in arrival order; what a slow init, throttling or a failing function looks like."""

    def __init__(self, script: list[tuple[int, bool, float, float]]) -> None:
        self.script = list(script)
        self.lock = threading.Lock()
        self.recycles = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/_admin/recycle":
                    with outer.lock:
                        outer.recycles += 1
                    return self._send(200, {})
                with outer.lock:
                    status, cold, init_ms, sleep_s = outer.script.pop(0)
                time.sleep(sleep_s)
                self._send(status, {}, {"X-Bakeoff-Cold": "1" if cold else "0",
                                        "X-Bakeoff-Init-Ms": f"{init_ms:g}",
                                        "X-Bakeoff-Init-Parts": "{}"})

            def _send(self, status, doc, headers=None):
                body = json.dumps(doc).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Scripted:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


SLOW, OK, COLD = 0.25, 0.0, True


def test_scripted_slow_init_throttles_and_errors_are_counted():
    script = [
        (201, COLD, 250, SLOW), (201, False, 0, OK), (429, False, 0, OK),   # sample 1
        (201, COLD, 250, SLOW), (500, False, 0, OK), (201, False, 0, OK),   # sample 2
        (503, COLD, 0, OK), (201, False, 0, OK), (201, False, 0, OK),       # 3: init failed
        (201, False, 0, OK), (201, False, 0, OK), (201, False, 0, OK),      # 4: not cold
        # burst of 4 (arrival order does not matter: the counts do not depend on it)
        (201, COLD, 250, SLOW), (201, COLD, 250, SLOW), (429, False, 0, OK),
        (201, False, 0, OK)]
    with Scripted(script) as site:
        run = probe.measure(site.url, "checkout", samples=4, warm=2, burst_n=4,
                            mode="recycle", idle_s=0.1, timeout_s=30)
        assert site.recycles == 5 and not site.script  # 4 samples + the burst
    raw = json.dumps({"workload": "cold-start", "format": 1, "force": "recycle",
                      "idle_s": 0.1, "functions": [run]})
    values = got(WL.parse(raw, None))
    assert values["cold_samples"] == 2            # 1 and 2; 3 failed, 4 came back warm
    assert values["not_cold"] == 1
    assert values["throttles"] == 2               # one warm, one in the burst
    assert values["failures"] == 2                # the 500 and the failed init's 503
    assert values["warm_samples"] == 6
    assert values["burst_requests"] == 4 and values["burst_cold_starts"] == 2
    assert values["cold_start_p50"] >= 250        # the scripted init is inside the latency
    assert values["init_p50"] == pytest.approx(250, 1e-3)
    assert values["init_p99"] == pytest.approx(250, 1e-3)


def test_cold_start_end_to_end_on_the_local_function_site(tmp_path):
    from scoring.decide import score_campaign_dir

    campaign = parse_campaign({
        "name": "fn-e2e", "repetitions": 1,
        "sites": [{"name": "fn", "provider": "local", "cpus": 1, "hourly_usd": 0.01,
                   "database": {}, "serverless": {"idle_s": 0.3, "max_instances": 2}}],
        "workloads": [{"name": "cold-start", "params": {
            "samples": 3, "warm": 2, "burst": 4, "force": "idle"}}],
        "requirements": [
            {"name": "cold start p99 under a minute", "metric": "cold-start.cold_start_p99",
             "operator": "<", "threshold": 60_000, "unit": "ms"},
            {"name": "cold start p99 under 1 us", "metric": "cold-start.cold_start_p99",
             "operator": "<", "threshold": 0.001, "unit": "ms"}],
        "criteria": [{"name": "cold_start_p99", "weight": 3}, {"name": "warm_p99", "weight": 2},
                     {"name": "tco", "weight": 1}]})
    folder = Orchestrator(campaign, tmp_path, quiet=True).run()
    leftover = [p.info["cmdline"] for p in psutil.process_iter(["cmdline"])
                if any("bench.serverless" in a for a in (p.info["cmdline"] or []))]
    assert not leftover, leftover  # the front and every instance stopped with the site

    raw = json.loads((folder / "raw" / "fn" / "cold-start" / "0.json").read_text())
    checkout, hello = raw["functions"]
    assert raw["force"] == "idle" and raw["idle_s"] == 0.3
    # every forced cold start was one, and each one's init connected to PostgreSQL
    assert [r["cold"] for r in checkout["cold"]] == [True] * 3
    assert all(r["status"] == 201 for r in checkout["cold"] + checkout["warm"])
    assert all(r["init_parts"]["db_connect_ms"] > 0 for r in checkout["cold"])
    assert all("db_connect_ms" not in r["init_parts"] for r in hello["cold"])
    # the realistic init does structurally more: its own parts include what hello lacks
    assert all(r["init_parts"]["total_ms"] >= r["init_parts"]["db_connect_ms"]
               + r["init_parts"]["import_ms"] for r in checkout["cold"])
    # max_instances 2: a burst of 4 makes at most 2 instances; the rest are throttled or
    # served warm by an instance that finished first
    burst = checkout["burst"]
    cold = sum(r.get("cold") is True and r["status"] == 201 for r in burst)
    throttled = sum(r["status"] == 429 for r in burst)
    warm = sum(r.get("cold") is False and r["status"] == 201 for r in burst)
    assert 1 <= cold <= 2 and cold + throttled + warm == 4, burst

    result = score_campaign_dir(folder)
    report = (folder / "report" / "report.md").read_text()
    assert "cold start p99 under a minute" in report
    assert "cold start p99 under 1 us" in report
    verdicts = {r.requirement: r.status for r in result.requirements}
    assert verdicts == {"cold start p99 under a minute": "pass",
                        "cold start p99 under 1 us": "fail"}
    assert (folder / "report" / "charts" / "cold-vs-warm.png").stat().st_size > 1000
    assert "Cold start vs warm latency" in (folder / "report" / "index.html").read_text()
    assert "## Cold start vs warm" in report and "opens a connection pool" in report


def test_a_function_site_without_its_database_is_refused_by_name():
    from core.errors import ScenarioError

    with pytest.raises(ScenarioError) as info:
        parse_campaign({"name": "x", "sites": [{"name": "fn", "provider": "local", "cpus": 1,
                                                "hourly_usd": 0, "serverless": {}}]})
    assert "sites[0]: serverless:" in str(info.value) and "database: {}" in str(info.value)


def test_plan_of_a_function_site_lists_the_front():
    from stacks.local import LocalProvisioner

    campaign = parse_campaign({"name": "x", "sites": [{
        "name": "fn", "provider": "local", "cpus": 1, "hourly_usd": 0, "network": "loopback",
        "database": {}, "serverless": {"idle_s": 5}}]})
    planned = LocalProvisioner().plan(campaign.sites[0], campaign)
    assert ("function-site", "fn", "checkout + hello on demand, idle 5 s") in [
        (r.kind, r.name, r.detail) for r in planned]


def test_cold_start_on_a_site_without_functions_says_what_to_add():
    from core.environment import Environment, Host
    from core.errors import BakeoffError
    from stacks.executors.local import LocalExecutor

    host = Host("client", "a", "127.0.0.1", LocalExecutor())
    env = Environment("vm", "local", "local", "local-1cpu", {"client": host, "server": host})
    with pytest.raises(BakeoffError, match=r"needs a function site: add `serverless: \{\}`"):
        WL.run(WL.Params(samples=1), env)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers(-5, 700) | st.floats(allow_nan=False)
    | st.text(max_size=8) | st.sampled_from(["cold-start", "idle", "checkout", "hello"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["workload", "format", "force", "idle_s", "functions", "function",
                         "cold", "warm", "burst", "latency_ms", "status", "init_ms"]),
        inner, max_size=6), max_leaves=30))
def test_hostile_documents_give_a_parse_error_or_plausible_samples(doc):
    try:
        out = WL.parse(json.dumps(doc), None)
    except ParseError:
        return
    for s in out.samples:
        assert WL.metrics[s.metric] == s.unit and math.isfinite(s.value) and s.value >= 0
