"""Requirements: exact boundaries, operators, 'not measured', endpoint filter, units."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from bench.samples import SAMPLE_COLUMNS
from bench.scenarios import parse_campaign
from core.errors import ScenarioError
from core.scenario import Requirement
from scoring.requirements import evaluate, evaluate_one


def frame(rows: list[tuple[str, str, str, float, int, bool, dict]]) -> pd.DataFrame:
    """rows: (site, workload, metric, value, repetition, valid, metadata)."""
    out = []
    for site, workload, metric, value, rep, valid, meta in rows:
        row = dict.fromkeys(SAMPLE_COLUMNS)
        row.update(site=site, workload=workload, metric=metric, value=value, repetition=rep,
                   valid=valid, unit="ms", metadata=json.dumps(meta))
        out.append(row)
    return pd.DataFrame(out, columns=list(SAMPLE_COLUMNS))


def rtt(site: str, values: list[float], valid: bool = True) -> list:
    return [(site, "ping", "rtt_avg", v, i, valid, {}) for i, v in enumerate(values)]


SAMPLES = frame(rtt("a", [1.99, 1.99, 1.99]) + rtt("b", [2.00, 2.00, 2.00])
                + rtt("c", [1.0, 1.0], valid=False))


def req(op: str, threshold: float = 2.0, **kw) -> Requirement:
    return Requirement(metric="ping.rtt_avg", operator=op, threshold=threshold, **kw)


@pytest.mark.parametrize(("op", "a", "b"), [
    ("<", "pass", "fail"), ("<=", "pass", "pass"), (">", "fail", "fail"),
    (">=", "fail", "pass"), ("==", "fail", "pass"),
])
def test_boundaries(op, a, b):
    assert evaluate_one(req(op), SAMPLES, "a").status == a
    assert evaluate_one(req(op), SAMPLES, "b").status == b


def test_strict_less_than_two_ms():
    assert evaluate_one(req("<"), SAMPLES, "a").value == 1.99
    r = evaluate_one(req("<"), SAMPLES, "b")
    assert r.value == 2.0 and r.status == "fail"


def test_no_valid_samples_is_not_measured_never_pass():
    for site in ("c", "nowhere"):
        r = evaluate_one(req("<", 100), SAMPLES, site)
        assert r.status == "not measured" and r.value is None


def test_statistics():
    s = frame(rtt("a", [1.0, 2.0, 9.0]))
    assert evaluate_one(req("<", 3, statistic="median"), s, "a").value == 2.0
    assert evaluate_one(req("<", 3, statistic="mean"), s, "a").value == 4.0
    assert evaluate_one(req("<", 3, statistic="max"), s, "a").status == "fail"
    assert evaluate_one(req("<", 3, statistic="min"), s, "a").status == "pass"


def test_marginal_when_the_interval_straddles_the_threshold():
    s = frame(rtt("a", [1.5, 1.9, 2.5]))
    r = evaluate_one(req("<"), s, "a")
    assert r.status == "pass" and r.marginal and "straddles" in r.note
    assert not evaluate_one(req("<", 10), s, "a").marginal


def test_endpoint_defaults_to_all_and_where_selects():
    s = frame([("a", "http-load", "latency_p99", 100.0, 0, True, {"endpoint": "all"}),
               ("a", "http-load", "latency_p99", 300.0, 0, True, {"endpoint": "checkout"})])
    base = {"metric": "http-load.latency_p99", "operator": "<", "threshold": 150}
    assert evaluate_one(Requirement(**base), s, "a").status == "pass"
    r = evaluate_one(Requirement(**base, where={"endpoint": "checkout"}), s, "a")
    assert r.status == "fail" and r.value == 300.0


def test_unit_mismatch_is_a_scenario_error():
    data = {"name": "x", "sites": [{"name": "a", "provider": "local", "cpus": 1,
                                    "hourly_usd": 0.1}],
            "requirements": [{"metric": "ping.rtt_avg", "operator": "<", "threshold": 2000,
                              "unit": "us"}]}
    with pytest.raises(ScenarioError, match=r"requirements\[0\]\.unit: 'us'.*in ms"):
        evaluate(parse_campaign(data), SAMPLES, "s.yaml")


def test_latency_percentiles_use_the_exact_hdr_merge():
    from bench import hdr
    from scoring.quantities import CostInputs, extract

    hists, rows = [], []
    for rep, ms in enumerate([10.0, 10.0, 200.0]):
        h = hdr.new_histogram()
        for _ in range(100):
            hdr.record_us(h, ms * 1000)
        hists.append({"site": "a", "workload": "http-load", "repetition": rep,
                      "name": "latency:all", "unit": "us", "encoded": hdr.encode(h),
                      "metadata": "{}", "valid": True})
        rows.append(("a", "http-load", "latency_p99", ms, rep, True, {"endpoint": "all"}))
    samples, histograms = frame(rows), pd.DataFrame(hists)
    r = Requirement(metric="http-load.latency_p99", operator="<", threshold=150)
    assert evaluate_one(r, samples, "a").status == "pass"  # median of per-rep p99s: 10 ms
    merged = evaluate_one(r, samples, "a", histograms=histograms)
    assert merged.status == "fail" and merged.value == pytest.approx(200, rel=0.01)
    assert merged.statistic == "exact HDR merge"
    data = {"name": "x", "sites": [{"name": "a", "provider": "local", "cpus": 1,
                                    "hourly_usd": 0.1}], "workloads": [{"name": "http-load"}]}
    q = extract("http_p99", samples, parse_campaign(data), CostInputs(histograms=histograms), "a")
    assert q.value == pytest.approx(200, rel=0.01) and q.reps == [10.0, 10.0, 200.0]
