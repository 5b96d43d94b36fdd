"""Drift without false alarms: metric directions, the winner rule, `--fail-on` resolution.

Pure rules over hand-built inputs; the CLI paths over real campaigns are in
tests/test_compare_history.py.
"""

from __future__ import annotations

import pytest

from bench.scenarios import parse_campaign
from bench.workloads import REGISTRY
from core.errors import ScenarioError
from scoring.compare import Comparison, metric_change
from scoring.criteria import BUILTINS, resolve_criteria
from scoring.directions import DIRECTIONS, direction
from scoring.drift_rules import RuleError, parse_rules, resolve_rules, violations

# Independent of scoring.directions: the direction a metric's UNIT implies, written out by
# hand. Times are better short, rates better high. Percentages and counts say nothing by
# unit, so each is listed by name below.
_RATE_UNITS = {"events/s", "MB/s", "MiB/s", "IOPS", "Gbit/s", "tx/s", "ops/s", "req/s"}
_BY_NAME = {
    # percentages and counts, decided one by one
    ("http-load", "error_rate"): "lower", ("http-load", "late_send_pct"): "lower",
    ("http-load", "late_sends"): "lower", ("ping", "packet_loss"): "lower",
    ("iperf3", "retransmits"): "lower", ("db-query", "failed_transactions"): "lower",
    # describe the load or the load generator, not the site: no better side
    ("http-load", "requests"): "neither", ("http-load", "loadgen_cpu_peak"): "neither",
    ("http-load", "loadgen_cpu_demand_peak"): "neither",
    ("http-load", "server_db_query_count"): "neither", ("db-query", "transactions"): "neither",
    # cold-start counts (the function and its hello baseline): fewer cold starts in a burst,
    # failures and throttles are better; sample counts describe the run
    **{("cold-start", f"{b}{m}"): v for b in ("", "baseline_") for m, v in (
        ("cold_samples", "neither"), ("not_cold", "neither"), ("warm_samples", "neither"),
        ("burst_requests", "neither"), ("burst_cold_starts", "lower"),
        ("failures", "lower"), ("throttles", "lower"))},
    # a rate the scenario sets, and sysbench's fixed run time
    ("http-load", "target_rps"): "neither", ("sysbench-cpu", "total_time"): "neither",
    # Kubernetes: nodes added and replicas reached describe the scale-up, the clock offset
    # the controller; errors during the spike are worse
    ("k8s-pod-scale", "new_nodes"): "neither", ("k8s-pod-scale", "clock_offset"): "neither",
    **{("k8s-time-to-scale", m): "neither" for m in (
        "new_nodes", "max_replicas", "replicas_before", "spike_requests", "timeline_points")},
    ("k8s-time-to-scale", "spike_errors"): "lower",
}


def _expected(workload: str, metric: str, unit: str) -> str:
    if (workload, metric) in _BY_NAME:
        return _BY_NAME[(workload, metric)]
    if unit in ("ms", "s"):
        return "lower"
    if unit in _RATE_UNITS:
        return "higher"
    raise AssertionError(f"{workload}.{metric} ({unit}): add its expected direction here")


@pytest.mark.parametrize("workload,metric,unit", [
    (name, metric, unit) for name, w in REGISTRY.items() for metric, unit in w.metrics.items()])
def test_every_declared_metric_has_the_right_direction(workload, metric, unit):
    assert direction(workload, metric) == _expected(workload, metric, unit)


def test_provisioning_times_are_better_short():
    # bench.orchestrator stores the provisioner's timings as `provisioning` samples in s.
    for metric in ("up_s", "ssh_ready_s", "cloud_init_s"):
        assert direction("provisioning", metric) == "lower"
    assert set(DIRECTIONS) >= set(REGISTRY)


@pytest.mark.parametrize("workload,metric,base,new,verdict", [
    ("http-load", "error_rate", [1.0, 1.1, 0.9], [20.0, 21.0, 19.0], "worse"),  # issue 24
    ("http-load", "late_send_pct", [0.5, 0.6, 0.4], [9.0, 9.5, 8.5], "worse"),
    ("provisioning", "ssh_ready_s", [30.0, 31.0, 29.0], [60.0, 61.0, 59.0], "worse"),
    # issue 23: 1.71 -> 0.894 ms is an improvement, like its p99 falling
    ("http-load", "server_db_query_mean", [1.71, 1.70, 1.72], [0.894, 0.9, 0.89], "better"),
    ("http-load", "server_db_query_p99", [4.0, 4.1, 3.9], [2.0, 2.1, 1.9], "better"),
    ("sysbench-cpu", "events_per_second", [100.0, 101.0, 99.0], [200.0, 201.0, 199.0],
     "better"),
    ("http-load", "target_rps", [100.0, 100.0, 100.0], [200.0, 200.0, 200.0], "changed"),
    ("unknown-tool", "widgets", [1.0, 1.1, 0.9], [5.0, 5.1, 4.9], "changed"),
])
def test_compare_verdict_follows_the_declaration(workload, metric, base, new, verdict):
    m = metric_change(("s", workload, metric, "", "u"), base, new, min_change=0.05)
    assert m.verdict == verdict


def test_builtin_criteria_bounds_follow_the_declaration():
    # bounds are (value scoring 1, value scoring 10): lower-is-better has the larger first
    for b in BUILTINS.values():
        if b.metric is None:
            continue
        d = direction(*b.metric)
        assert d in ("lower", "higher"), b.name
        assert (b.bounds[0] > b.bounds[1]) == (d == "lower"), b.name


def test_reversed_bounds_are_refused():
    camp = parse_campaign({
        "name": "x", "sites": [{"name": "a", "provider": "local", "cpus": 1,
                                "hourly_usd": 0.1}],
        "criteria": [{"name": "http_p99", "weight": 2, "bounds": [5, 1000]}]})
    with pytest.raises(ScenarioError, match=r"criteria\[0\]\.bounds: http_p99 is better when "
                                            r"lower"):
        resolve_criteria(camp)


def _comparison(winner, verdicts, metrics=(), available=()) -> Comparison:
    return Comparison("b", "n", list(metrics), [], {}, {}, {}, winner, [],
                      winner_verdicts=verdicts, available=list(available))


@pytest.mark.parametrize("winner,verdicts,changed,text", [
    # the false alarm of issue 23: each campaign too close to call, leaders swapped
    (("one-cpu", "two-cpu"), ("too close to call", "too close to call"), False, "tie"),
    (("one-cpu", "two-cpu"), ("too close to call", "beyond the noise"), False, "→ two-cpu"),
    (("one-cpu", "two-cpu"), ("beyond the noise", "noise unknown"), False, "one-cpu → tie"),
    (("one-cpu", "two-cpu"), ("beyond the noise", "beyond the noise"), True,
     "one-cpu → two-cpu"),
    (("one-cpu", "one-cpu"), ("beyond the noise", "beyond the noise"), False,
     "one-cpu → one-cpu"),
])
def test_winner_changes_only_between_firm_leaders(winner, verdicts, changed, text):
    c = _comparison(winner, verdicts)
    assert c.winner_changed is changed
    assert text in c.winner_text
    found = violations(c, parse_rules(["winner-changed"]))
    assert bool(found) is changed


AVAILABLE = [("fio", "read_clat_p99"), ("http-load", "latency_p99"),
             ("db-query", "latency_p99"), ("sysbench-cpu", "events_per_second")]


def test_typo_is_an_error_with_a_suggestion():
    with pytest.raises(RuleError, match="did you mean latency_p99") as e:
        resolve_rules(parse_rules(["latncy_p99:+10%"]), AVAILABLE)
    assert e.value.exit_code == 2


def test_p99_is_the_http_p99_and_says_so():
    (rule,), (note,) = resolve_rules(parse_rules(["p99:+10%"]), AVAILABLE)
    assert rule.metrics == (("http-load", "latency_p99"),)  # not fio.read_clat_p99
    assert "http-load.latency_p99" in note and "HTTP p99" in note
    with pytest.raises(RuleError, match=r"stands for http-load\.latency_p99"):
        resolve_rules(parse_rules(["p99:+10%"]), [("fio", "read_clat_p99")])


def test_exact_and_qualified_names():
    (rule,), _ = resolve_rules(parse_rules(["latency_p99:+10%"]), AVAILABLE)
    assert set(rule.metrics) == {("http-load", "latency_p99"), ("db-query", "latency_p99")}
    (rule,), _ = resolve_rules(parse_rules(["db-query.latency_p99:+10%"]), AVAILABLE)
    assert rule.metrics == (("db-query", "latency_p99"),)
    # a substring is not a name: `p9` names nothing
    with pytest.raises(RuleError):
        resolve_rules(parse_rules(["p9:+10%"]), AVAILABLE)


def test_alias_fires_on_its_metric_only():
    fio = metric_change(("s", "fio", "read_clat_p99", "", "ms"), [1.0, 1.1, 0.9],
                        [3.0, 3.1, 2.9], min_change=0.05)
    http = metric_change(("s", "http-load", "latency_p99", "endpoint=all", "ms"),
                         [10.0, 10.1, 9.9], [30.0, 30.1, 29.9], min_change=0.05)
    c = _comparison(("s", "s"), ("only site", "only site"), [fio, http], AVAILABLE)
    (found,) = violations(c, parse_rules(["p99:+10%"]))
    assert "http-load.latency_p99 [endpoint=all]" in found and "10 -> 30" in found
