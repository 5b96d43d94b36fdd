"""Latency over time: per-interval HDR histograms from real Locust, merged exactly across
worker processes, stored with an interval column, read back through history and SQL;
warm-up and saturated intervals left out of the unit's statistics."""

from __future__ import annotations

import json
import math
import time
import urllib.request
from pathlib import Path

import pytest

from bench.hdr import decode, merged_percentile
from bench.measure import measure
from bench.perf.targets import delay_target
from bench.results import ResultStore, load_results
from bench.scenarios import parse_campaign
from bench.units import Unit
from bench.workloads import REGISTRY
from bench.workloads.http_load import Params
from core.scenario import WorkloadSpec
from tests.load_support import PLAIN_LOCUSTFILE, assert_nothing_left, local_env

WL = REGISTRY["http-load"]
SLOW_MS = 400.0


@pytest.fixture
def plain_locustfile(tmp_path) -> str:
    path = tmp_path / "plain_locustfile.py"
    path.write_text(PLAIN_LOCUSTFILE)
    return str(path)


def _served(url: str) -> int:
    with urllib.request.urlopen(url + "/__count", timeout=5) as resp:
        return int(resp.read())


def test_golden_capture_with_intervals_parses_and_adds_up():
    raw = (Path(__file__).parent / "golden" / "http-load" / "intervals.json").read_text()
    doc = json.loads(raw)["locust"]
    out = WL.parse(raw, Params())
    per_all = [h for h in out.histograms
               if h.interval is not None and h.metadata["endpoint"] == "all"]
    assert [h.interval for h in per_all] == list(range(len(doc["intervals"]["rows"])))
    # counted by hand from the capture: the plugin's whole-run counters
    assert sum(h.metadata["requests"] for h in per_all) == sum(
        e["requests"] for e in doc["endpoints"].values()) == 895
    merged = decode(per_all[0].encoded)
    for h in per_all[1:]:
        merged.add(decode(h.encoded))
    whole = decode(next(e["hdr"] for e in doc["endpoints"].values()))
    assert merged.get_total_count() == whole.get_total_count()
    assert merged.get_value_at_percentile(99) == whole.get_value_at_percentile(99)


@pytest.mark.integration
def test_intervals_sum_to_the_unit_and_a_planted_delay_shows_in_its_interval(
        plain_locustfile, tmp_path):
    # The target answers in 20 ms, except requests it receives during one whole clock
    # second, 3-4 s from now, which wait 400 ms. Intervals are clock seconds (keys =
    # floor(epoch)), so that second is exactly one interval.
    slow_from = math.floor(time.time()) + 4.0
    with delay_target(20.0, slow=(slow_from, slow_from + 1.0, SLOW_MS)) as url:
        params = Params(locustfile=plain_locustfile, target_url=url, users=6, spawn_rate=60,
                        duration_s=7, processes=2)
        raw = WL.run(params, local_env(None), None)
        served = _served(url)
    assert_nothing_left()
    out = WL.parse(raw, params)
    doc = json.loads(raw)["locust"]
    whole = {h.metadata["endpoint"]: decode(h.encoded) for h in out.histograms
             if h.interval is None and h.name.startswith("latency:")}
    rows = [h for h in out.histograms if h.interval is not None]
    per_all = [h for h in rows if h.metadata["endpoint"] == "all"]
    # 1. exact merge: every request is in exactly one interval
    total = sum(h.metadata["requests"] for h in per_all)
    assert total == sum(e["requests"] for e in doc["endpoints"].values())
    assert sum(decode(h.encoded).get_total_count() for h in per_all) == \
        whole["all"].get_total_count()
    # the target's own tally (independent): it can only be higher, by what the users sent
    # between the plugin freezing its counts at the stop and Locust stopping them (tens of
    # ms of 6 users at 20 ms each, a few dozen requests of ~1,500)
    assert total <= served <= total * 1.05
    assert doc["intervals"]["rows"]
    # 2. the planted slow second: its interval's p99 holds the 400 ms, no other's does
    by_start = {round(doc["t_start"] + h.metadata["offset_s"]): h for h in per_all}
    slow = by_start[slow_from]
    assert decode(slow.encoded).get_value_at_percentile(99) / 1000 >= SLOW_MS
    for start, h in by_start.items():
        if start not in (slow_from, slow_from - 1) and decode(h.encoded).get_total_count():
            # the second before may hold a request or two sent just before the window; a
            # busy machine may stall a few requests, never 1 % of a second's by 400 ms
            assert decode(h.encoded).get_value_at_percentile(99) / 1000 < SLOW_MS, start
    # users and CPU were sampled per interval, over both worker processes
    assert max(h.metadata["users"] for h in per_all) == params.users
    assert any(h.metadata["loadgen_cpu_peak"] > 0 for h in per_all)

    # 3. a load generator saturated in one interval: that interval is left out of the unit's
    # statistics; one in ~8 intervals passes at max_saturated_pct 20, not at the default 10
    hot_doc = json.loads(raw)
    rows_raw = hot_doc["locust"]["intervals"]["rows"]
    for row in rows_raw:  # this machine's own business (a busy host) out of the way first
        row["demand"] = {pid: 10.0 for pid in row["demand"]}
        row["cpu"] = {pid: 10.0 for pid in row["cpu"]}
    hot = rows_raw[3]
    pid = next(iter(hot["demand"]))
    hot["demand"][pid] = 99.0
    hot_raw = json.dumps(hot_doc)
    lenient = WL.parse(hot_raw, params.model_copy(update={"max_saturated_pct": 20.0}))
    assert lenient.valid and any("left out" in n for n in lenient.notes)
    unit_requests = next(s.value for s in lenient.samples
                         if s.metric == "requests" and s.metadata["endpoint"] == "all")
    assert unit_requests == total - sum(hot["requests"].values())
    strict = WL.parse(hot_raw, params)
    measured = len(rows_raw)
    assert not strict.valid and (f"load generator saturated in 1 of {measured} intervals"
                                 in strict.invalid_reason)

@pytest.mark.integration
def test_warmup_is_left_out_and_stored_with_the_interval_column(plain_locustfile, tmp_path):
    campaign = parse_campaign({"name": "intervals", "repetitions": 1, "sites": [
        {"name": "lo", "provider": "local", "cpus": 2, "hourly_usd": 0}], "workloads": [
        {"name": "http-load", "params": {}}]}, "test")
    store = ResultStore(tmp_path / "results", "c1")
    store.create(campaign, {"campaign_id": "c1", "scenario": "intervals",
                            "started_at": "2026-12-06T00:00:00+00:00", "units": {}})
    with delay_target(20.0) as url:
        spec = WorkloadSpec(name="http-load", params={
            "locustfile": plain_locustfile, "target_url": url, "users": 4, "spawn_rate": 40,
            "duration_s": 6, "processes": 1, "warmup_s": 2,
            "max_saturated_pct": 100})  # a busy host may saturate a second: still valid
        status = measure(store, local_env(None), Unit("lo", spec, 0), "test", lambda _: None)
    assert_nothing_left()
    assert status["status"] == "ok", status
    assert any(n.startswith("warm-up: ") for n in status["notes"])  # stated in the manifest
    manifest = store.read_manifest()
    manifest["units"]["lo/http-load/0"] = status
    store.write_manifest(manifest)
    store.assemble()
    res = load_results("c1", tmp_path / "results")
    h = res.histograms
    assert "interval" in h.columns and h["interval"].notna().any() and h["interval"].isna().any()
    iv = res.intervals()
    all_rows = iv[iv["endpoint"] == "all"]
    warm = all_rows[all_rows["excluded"] == "warm-up"]
    # warm-up = intervals that begin before 2 s after the start (worked: offsets < 2)
    assert len(warm) >= 2 and (warm["offset_s"] < 2).all()
    assert (all_rows[all_rows["excluded"] == ""]["offset_s"] >= 2).all()
    # the unit's statistics are the kept intervals only: their count, exactly
    kept = int(all_rows[all_rows["excluded"] == ""]["requests"].sum())
    unit_count = res.samples.query("metric == 'requests'")
    unit_count = unit_count[unit_count["metadata"].str.contains('"all"')]["value"].iloc[0]
    assert unit_count == kept < int(all_rows["requests"].sum())
    # whole-unit readers ignore the interval rows (no request counted twice)
    lat = res.latency()
    assert int(lat[lat["name"] == "latency:all"]["count"].iloc[0]) == kept
    assert merged_percentile(h, "latency:all", 50) >= 20.0
    # history and SQL
    from bench.history import load_history
    from bench.sql import query

    hist = load_history(tmp_path / "results")
    assert len(hist.intervals) == len(iv)
    got = query("SELECT count(*) AS n, sum(requests) AS r FROM intervals "
                "WHERE endpoint = 'all' AND excluded = ''", tmp_path / "results")
    assert int(got["r"].iloc[0]) == kept
    # the query docs/load.md shows
    shown = query("SELECT site, interval, p99, rps, users, excluded FROM intervals "
                  "WHERE endpoint = 'all'", tmp_path / "results")
    assert len(shown) == len(all_rows) and (shown["users"] <= 4).all()
    raw_sql = query("SELECT count(*) AS n FROM histograms WHERE interval IS NOT NULL",
                    tmp_path / "results")
    assert int(raw_sql["n"].iloc[0]) == int(h["interval"].notna().sum())
    # the report: one over-time chart for the site, and the warm-up stated
    from scoring.decide import score_campaign_dir

    score_campaign_dir(store.dir)
    html = (store.dir / "report" / "index.html").read_text()
    assert 'id="chart-time-lo"' in html and "left out" in html
    assert "warm-up: " in (store.dir / "report" / "report.md").read_text()


def test_whole_unit_merges_never_take_an_interval_row():
    """Belt and braces: even a row named like a whole-unit histogram is skipped by the
    merge when it carries an interval (pandas' nullable NA and NaN count as none)."""
    import pandas as pd

    from bench.hdr import encode, new_histogram, record_us

    def enc(us: float, n: int) -> str:
        h = new_histogram()
        for _ in range(n):
            record_us(h, us)
        return encode(h)

    rows = pd.DataFrame([
        {"name": "latency:all", "encoded": enc(1000, 10), "metadata": "{}", "valid": True,
         "interval": pd.NA},
        {"name": "latency:all", "encoded": enc(900_000, 10), "metadata": "{}", "valid": True,
         "interval": 3},
    ]).astype({"interval": "Int64"})
    assert merged_percentile(rows, "latency:all", 99) == pytest.approx(1.0, rel=1e-3)
    rows.loc[0, "interval"] = 0  # both per-interval now: nothing whole-unit to merge
    with pytest.raises(ValueError, match="no valid histogram"):
        merged_percentile(rows, "latency:all", 99)
