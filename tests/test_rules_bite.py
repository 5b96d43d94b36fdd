"""Rules that a plausible one-line bug used to slip past (issue 24, Build 1).

Each test here was written against a planted mutation (listed in docs/testing.md): the
mutation was made by hand, this file was run and failed, the mutation was reverted. The
expected values come from somewhere other than the code under test: worked by hand in the
comment, or computed by a second method (numpy on the raw values, hdrh on a rebuilt
histogram). The data is chosen so the wrong rule gives a different answer: more than 100
ping replies (nearest-rank p99 is no longer the maximum), 12 repetitions (90 % and 95 %
intervals differ), an even count (the two middle values differ), and so on.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from bench import hdr
from bench.scenarios import parse_campaign
from bench.workloads.ping import Ping
from scoring.catalog import Catalog
from scoring.catalog_load import load_catalog
from scoring.catalog_rows import CatalogError
from scoring.compare import metric_change
from scoring.hdr_stats import MergedPercentile
from scoring.sla import compute_tier, sla_risk
from scoring.stats import MedianOf, bootstrap_median_ci, point
from scoring.tco import egress_components

# -- ping: nearest-rank p99 over more than 100 replies -----------------------------------

def _ping_output(times_ms: list[float]) -> str:
    """iputils ping output (the format of tests/golden/ping/c20_i005_verbose.txt)."""
    lines = ["PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data."]
    lines += [f"64 bytes from 127.0.0.1: icmp_seq={i} ttl=64 time={t:.3f} ms"
              for i, t in enumerate(times_ms, 1)]
    n = len(times_ms)
    lines += ["", "--- 127.0.0.1 ping statistics ---",
              f"{n} packets transmitted, {n} received, 0% packet loss, time {n * 5}ms",
              f"rtt min/avg/max/mdev = {min(times_ms):.3f}/{sum(times_ms) / n:.3f}/"
              f"{max(times_ms):.3f}/0.010 ms", ""]
    return "\n".join(lines)


def test_ping_p99_is_nearest_rank_not_the_maximum():
    # 200 replies of 0.001 .. 0.200 ms in shuffled order. Nearest rank of p99:
    # ceil(0.99 x 200) = 198 -> the 198th smallest, 0.198 ms; the maximum is 0.200 ms.
    times = [i / 1000 for i in range(1, 201)]
    random.Random(7).shuffle(times)
    samples = {s.metric: s for s in Ping().parse(_ping_output(times)).samples}
    assert samples["rtt_p99"].value == pytest.approx(0.198)
    assert samples["rtt_max"].value == pytest.approx(0.200)
    # numpy's "inverted_cdf" is the nearest-rank definition
    assert samples["rtt_p99"].value == pytest.approx(
        float(np.percentile(times, 99, method="inverted_cdf")))
    assert samples["rtt_p99"].metadata["replies"] == 200


# -- bootstrap intervals and medians --------------------------------------------------------

TWELVE = [101.0, 97.5, 110.2, 95.1, 104.4, 99.9, 120.3, 92.8, 103.3, 98.7, 107.6, 100.4]


def _numpy_bootstrap_medians(values: list[float], resamples: int, seed: int) -> np.ndarray:
    """The textbook bootstrap, by a second method: draw indices, take np.median of each
    resampled array (the code under test works from multiplicities instead). The index
    draws use the same generator call, so both methods see the same resamples."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(values), size=(resamples, len(values)))
    return np.median(np.asarray(values)[idx], axis=1)


def test_bootstrap_interval_is_95_percent_at_twelve_repetitions():
    seed, resamples = 20240601, 2000
    medians = _numpy_bootstrap_medians(TWELVE, resamples, seed)
    lo95, hi95 = np.percentile(medians, [2.5, 97.5])
    lo90, hi90 = np.percentile(medians, [5.0, 95.0])
    assert (lo90, hi90) != pytest.approx((lo95, hi95))  # the data can tell 90 % from 95 %
    value, lo, hi = bootstrap_median_ci(TWELVE, resamples=resamples, seed=seed)
    # median of 12: mean of the 6th and 7th smallest, (100.4 + 101.0) / 2 = 100.7
    assert value == pytest.approx(100.7)
    assert (lo, hi) == pytest.approx((lo95, hi95))


def test_even_count_median_is_the_mean_of_the_two_middle_values():
    # sorted 1, 2, 10, 20: the middle pair is 2 and 10 -> 6 (not 2, not 10)
    assert point(MedianOf((20.0, 1.0, 10.0, 2.0))) == pytest.approx(6.0)
    # weighted by multiplicities [2, 1, 0, 1] of (1, 2, 10, 20): 1, 1, 2, 20 -> (1 + 2) / 2
    stat = MedianOf((1.0, 2.0, 10.0, 20.0))
    weights = np.array([[2, 1, 0, 1], [0, 1, 1, 2], [1, 1, 1, 1]])
    expected = [np.median(np.repeat(stat.values, w)) for w in weights]
    assert expected == [1.5, 15.0, 6.0]
    assert list(stat(weights)) == pytest.approx(expected)


# -- HDR: multiplicities, duplicates, mean --------------------------------------------------

def _hist(values_us: list[int]) -> str:
    h = hdr.new_histogram()
    for v in values_us:
        hdr.record_us(h, v)
    return hdr.encode(h)


def test_hdr_bootstrap_statistic_honours_multiplicities():
    # three repetitions of 100 requests: fast, medium, slow
    reps = [[1000 + i for i in range(100)], [5000 + 10 * i for i in range(100)],
            [20000 + 100 * i for i in range(100)]]
    rows = [{"name": "latency:all", "encoded": _hist(r), "repetition": k}
            for k, r in enumerate(reps)]
    hists = [hdr.decode(r["encoded"]) for r in rows]
    counts = np.vstack([np.ctypeslib.as_array(h.counts)[: h.counts_len].astype(float)
                        for h in hists])
    used = np.flatnonzero(counts.sum(axis=0))
    values = np.array([hists[0].get_highest_equivalent_value(hists[0].get_value_from_index(
        int(i))) for i in used], dtype=float) / 1000.0
    stat = MergedPercentile(counts[:, used], values, 50.0)
    for mult in ([3, 0, 1], [1, 0, 1], [0, 2, 2], [1, 1, 1]):
        # second method: the raw values repeated as drawn, into a fresh histogram
        drawn = [v for r, m in zip(reps, mult, strict=True) for _ in range(m) for v in r]
        direct = hdr.decode(_hist(drawn)).get_value_at_percentile(50.0) / 1000.0
        assert stat(np.array([mult]))[0] == pytest.approx(direct), mult
        # and numpy's nearest rank on the raw values, within HDR's 3 significant figures
        assert direct == pytest.approx(np.percentile(drawn, 50, method="inverted_cdf") / 1000,
                                       rel=1e-3)
    # by hand: [3, 0, 1] is 300 fast + 100 slow; target int(0.5 x 400 + 0.5) = 200; each
    # fast value (1,000 + i us) appears 3 times, so the 200th is i = 66: 1.066 ms;
    # [1, 0, 1] is 100 + 100 -> p50 is the 100th value, the slowest fast one (~1.099 ms);
    # [0, 2, 2] -> 200 medium + 200 slow: the slowest medium one (~5.99 ms)
    got = stat(np.array([[3, 0, 1], [1, 0, 1], [0, 2, 2]]))
    assert got[0] == pytest.approx(1.066, rel=2e-3)
    assert got[1] == pytest.approx(1.099, rel=2e-3)
    assert got[2] == pytest.approx(5.990, rel=2e-3)


def test_hdr_merge_keeps_duplicate_histograms():
    # two repetitions recorded the same 100 fast requests (identical blobs), one 100 slow:
    # 300 values, 200 of them 1 ms. p60: target int(0.6 x 300 + 0.5) = 180 <= 200 -> 1 ms.
    # Dropping the duplicate leaves 200 values: target 120 > 100 -> 10 ms.
    fast, slow = _hist([1000] * 100), _hist([10000] * 100)
    rows = [{"name": "latency:all", "encoded": e} for e in (fast, fast, slow)]
    merged = hdr.merged_histogram(rows, "latency:all")
    assert merged.get_total_count() == 300
    raw = [1000] * 200 + [10000] * 100
    assert hdr.merged_percentile(rows, "latency:all", 60.0) == pytest.approx(
        np.percentile(raw, 60, method="inverted_cdf") / 1000, rel=1e-3)
    assert hdr.merged_percentile(rows, "latency:all", 60.0) == pytest.approx(1.0, rel=1e-3)


def test_latency_mean_is_the_mean_not_the_median():
    # 90 requests at 1 ms and 10 at 100 ms: mean (90 x 1 + 10 x 100) / 100 = 10.9 ms,
    # median 1 ms. HDR keeps 3 significant figures: agree within 0.1 %.
    values = [1000] * 90 + [100000] * 10
    rows = [{"name": "latency:all", "encoded": _hist(values)}]
    summary = hdr.summary_ms(hdr.merged_histogram(rows, "latency:all"))
    assert summary["latency_mean"] == pytest.approx(10.9, rel=1e-3)
    assert summary["latency_mean"] == pytest.approx(np.mean(values) / 1000, rel=1e-3)
    assert summary["latency_p50"] == pytest.approx(1.0, rel=1e-3)
    assert hdr.requirement_value(rows, "latency_mean") == pytest.approx(10.9, rel=1e-3)


# -- TCO: egress tiers must be contiguous ---------------------------------------------------

def _azure_egress() -> list:
    return load_catalog().egress_tiers("azure", "eastus")


def _catalog(egress: list) -> Catalog:
    return Catalog(compute=[], commitments=[], egress=egress, managed_db=[], storage=[],
                   sla=[], compliance=[])


def test_egress_tiers_priced_cumulatively_and_a_gap_is_refused():
    tiers = _azure_egress()
    # shipped azure eastus tiers (scoring/data/pricing/egress.csv): 0-100 free,
    # 100-10,000 at $0.087, 10,000-50,000 at $0.083. 20,000 GB by hand:
    # 9,900 x 0.087 = 861.30 + 10,000 x 0.083 = 830.00 -> $1,691.30
    comps = egress_components("azure", "eastus", 20000, _catalog(tiers))
    assert sum(c.monthly_usd for c in comps) == pytest.approx(1691.30)
    # the 100-10,000 tier missing: 9,900 GB would silently go unpriced
    gap = [t for t in tiers if t.tier_start_gb != 100]
    with pytest.raises(CatalogError, match="not contiguous at 100 GB"):
        egress_components("azure", "eastus", 20000, _catalog(gap))


# -- SLA: the multi-zone tier needs two zones AND two instances ------------------------------

def _site_campaign(zones: list[str], instances: int):
    return parse_campaign({"name": "t", "sites": [{
        "name": "s", "provider": "aws", "region": "us-east-1", "zones": zones,
        "instance_type": "c6i.xlarge"}], "usage": {"hours_per_month": 730,
                                                  "instances": instances},
        "sla": {"revenue_per_minute_usd": 1}})


@pytest.mark.parametrize(("zones", "instances", "tier", "availability"), [
    # the AWS Region-Level SLA (99.99 %) needs instances running in two or more AZs at
    # once; otherwise the Instance-Level SLA (99.5 %) applies (scoring/data/sla.csv)
    (["us-east-1a", "us-east-1b"], 2, "multi_zone", 99.99),
    (["us-east-1a", "us-east-1b"], 1, "single_instance", 99.5),  # one VM: in one AZ
    (["us-east-1a"], 2, "single_instance", 99.5),  # two VMs, both in one AZ
    (["us-east-1a"], 1, "single_instance", 99.5),
])
def test_sla_tier_varies_zones_and_instances_apart(zones, instances, tier, availability):
    campaign = _site_campaign(zones, instances)
    assert compute_tier(campaign.sites[0], instances) == tier
    assert sla_risk(campaign, "s").availability_pct == pytest.approx(availability)


# -- compare: lower-is-better found anywhere in the name ------------------------------------

@pytest.mark.parametrize("metric", ["server_db_query_p99", "packet_loss", "read_lat_mean",
                                    "latency_p99"])
def test_compare_direction_by_token_anywhere_in_the_metric(metric):
    # each of these rose from ~10 to ~20: a slower query, more loss, higher latency is worse
    # (the lower-is-better token sits in the middle or the end of the first three names)
    change = metric_change(("s", "w", metric, "", "ms"), [10.0, 10.2, 9.9],
                           [20.0, 20.4, 19.8], min_change=0.05)
    assert change.verdict == "worse", metric
    better = metric_change(("s", "w", metric, "", "ms"), [20.0, 20.4, 19.8],
                           [10.0, 10.2, 9.9], min_change=0.05)
    assert better.verdict == "better", metric


# -- resume: which scenario changes touch measured units ------------------------------------

def _scenario(**changes):
    data = {"name": "r", "repetitions": 3,
            "sites": [{"name": "a", "provider": "local", "cpus": 1, "hourly_usd": 0.04},
                      {"name": "b", "provider": "local", "cpus": 2, "hourly_usd": 0.08}],
            "workloads": [{"name": "sysbench-cpu", "params": {"time_s": 1}}],
            "criteria": [{"name": "cpu", "weight": 4}]}
    data.update(changes)
    return parse_campaign(data)


MEASURED = {"a/sysbench-cpu/0", "a/sysbench-cpu/1"}  # site a, two repetitions done


def _changes(new):
    from bench.resume import scenario_changes

    return [(c.what.split(" (")[0], c.touches_measured)
            for c in scenario_changes(_scenario(), new, MEASURED)]


def test_resume_changes_that_touch_measured_units():
    from bench.resume import ScenarioChanged, check_resume

    base = _scenario()
    assert _changes(base) == []
    sites = base.model_dump(mode="json")["sites"]
    # site a was measured: changing it would mix two experiments; site b was not
    changed_a = [dict(sites[0], cpus=2), sites[1]]
    assert _changes(_scenario(sites=changed_a)) == [("site 'a' changed", True)]
    changed_b = [sites[0], dict(sites[1], cpus=1)]
    assert _changes(_scenario(sites=changed_b)) == [("site 'b' changed", False)]
    assert _changes(_scenario(sites=sites[:1])) == [("site 'b' removed", False)]
    assert _changes(_scenario(sites=sites[1:])) == [("site 'a' removed", True)]
    # params of the measured workload
    wl = [{"name": "sysbench-cpu", "params": {"time_s": 2}}]
    assert _changes(_scenario(workloads=wl)) == [
        ("workload 'sysbench-cpu' params changed", True)]
    # repetitions: 2 were measured; 5 adds, 2 keeps them, 1 would drop one measured
    assert _changes(_scenario(repetitions=5)) == [
        ("workload 'sysbench-cpu' repetitions 3 -> 5", False)]
    assert _changes(_scenario(repetitions=2)) == [
        ("workload 'sysbench-cpu' repetitions 3 -> 2", False)]
    assert _changes(_scenario(repetitions=1)) == [
        ("workload 'sysbench-cpu' repetitions 3 -> 1", True)]
    assert _changes(_scenario(criteria=[{"name": "cpu", "weight": 5}])) == [
        ("'criteria' changed", False)]
    # check_resume: untouched changes need --allow-changes; touching ones are refused
    with pytest.raises(ScenarioChanged, match="pass --allow-changes"):
        check_resume(base, _scenario(repetitions=5), MEASURED, False, "s.yaml")
    assert len(check_resume(base, _scenario(repetitions=5), MEASURED, True, "s.yaml")) == 1
    with pytest.raises(ScenarioChanged, match="touch units already measured"):
        check_resume(base, _scenario(repetitions=1), MEASURED, True, "s.yaml")
    assert check_resume(base, _scenario(), MEASURED, False, "s.yaml") == []
