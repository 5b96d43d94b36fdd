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
    mdev = float(np.std(times_ms))  # iputils: sqrt(mean(t^2) - mean(t)^2)
    lines += ["", "--- 127.0.0.1 ping statistics ---",
              f"{n} packets transmitted, {n} received, 0% packet loss, time {n * 5}ms",
              f"rtt min/avg/max/mdev = {min(times_ms):.3f}/{sum(times_ms) / n:.3f}/"
              f"{max(times_ms):.3f}/{mdev:.3f} ms", ""]
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
    # shipped azure eastus tiers (scoring/data/pricing/egress.csv, starts as the Retail
    # Prices API lists them): 0-100 free, 100-10,335 at $0.087, 10,335-51,295 at $0.083.
    # 20,000 GB by hand: 10,235 x 0.087 = 890.445 + 9,665 x 0.083 = 802.195 -> $1,692.64
    comps = egress_components("azure", "eastus", 20000, _catalog(tiers))
    assert sum(c.monthly_usd for c in comps) == pytest.approx(1692.64)
    # the 100-10,335 tier missing: 10,235 GB would silently go unpriced
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

@pytest.mark.parametrize(("workload", "metric"), [
    ("http-load", "server_db_query_p99"), ("ping", "packet_loss"), ("fio", "read_clat_p99"),
    ("http-load", "latency_p99")])
def test_compare_direction_of_lower_is_better_metrics(workload, metric):
    # each of these rose from ~10 to ~20: a slower query, more loss, higher latency is worse
    # (the lower-is-better word sits in the middle or the end of the first three names)
    change = metric_change(("s", workload, metric, "", "ms"), [10.0, 10.2, 9.9],
                           [20.0, 20.4, 19.8], min_change=0.05)
    assert change.verdict == "worse", metric
    better = metric_change(("s", workload, metric, "", "ms"), [20.0, 20.4, 19.8],
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


EPS = ("s", "sysbench-cpu", "events_per_second", "", "r")  # higher is better


def test_metric_change_fields_against_a_second_computation():
    """Every field of one comparison, recomputed here: medians and relative change by hand,
    the interval by resampling with np.median (the code works from multiplicities),
    drawing `new` first and then `base` from one generator, as documented."""
    base = [100.0, 104.0, 98.0, 101.0]  # median (100 + 101) / 2 = 100.5
    new = [120.0, 118.0, 125.0]  # median 120
    m = metric_change(("s1", "sysbench-cpu", "events_per_second", "x=1", "ev/s"), base, new,
                      min_change=0.05, seed=11)
    assert (m.site, m.workload, m.metric, m.detail, m.unit) == (
        "s1", "sysbench-cpu", "events_per_second", "x=1", "ev/s")
    assert (m.base, m.new, m.change) == (100.5, 120.0, 19.5)
    assert m.relative == pytest.approx(19.5 / 100.5)
    assert (m.n_base, m.n_new) == (4, 3)
    rng = np.random.default_rng(11)
    draws_new = _resampled_medians(new, 4000, rng)
    draws_base = _resampled_medians(base, 4000, rng)
    lo, hi = np.percentile(draws_new - draws_base, [2.5, 97.5])
    assert m.ci == pytest.approx((lo, hi))
    assert m.ci[0] > 0 and m.verdict == "better"  # higher is better
    # a change inside the interval is no change; one under min_change too
    same = metric_change(EPS, base, [99.0, 103.0, 100.0], 0.05)
    assert same.verdict == "no change" and same.ci[0] <= 0 <= same.ci[1]
    small = metric_change(EPS, [100.0, 100.1, 100.2],
                          [103.0, 103.1, 103.2], 0.05)  # +3 %: real but under 5 %
    assert small.ci[0] > 0 and small.verdict == "no change"
    bigger = metric_change(EPS, [100.0, 100.1, 100.2],
                           [103.0, 103.1, 103.2], 0.02)  # the same +3 % over a 2 % bar
    assert bigger.verdict == "better"
    # a base of 0: no relative change to state
    zero = metric_change(EPS, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], 0.05)
    assert zero.relative is None and zero.change == 0 and zero.verdict == "no change"
    # fewer than 3 repetitions on either side: no interval, no verdict
    few = metric_change(EPS, base, new[:2], 0.05)
    assert few.ci is None and few.verdict == "noise unknown" and few.n_new == 2


def _resampled_medians(values: list[float], n: int, rng: np.random.Generator) -> np.ndarray:
    idx = rng.integers(0, len(values), size=(n, len(values)))
    return np.median(np.asarray(values)[idx], axis=1)


# -- gc: one verdict rule for every cloud, at its boundaries --------------------------------

def test_gc_judge_at_every_boundary():
    from datetime import UTC, datetime, timedelta

    from stacks.cloud.gc_common import UNKNOWN_MIN_AGE, Leftover, judge

    now = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    hour = timedelta(hours=1)

    def item(expires: str | None = "2026-11-27T16:00:00+00:00", campaign: str | None = "c1",
             age: timedelta | None = 2 * hour) -> Leftover:
        tags = {k: v for k, v in (("bakeoff-campaign", campaign),
                                  ("bakeoff-expires-at", expires)) if v is not None}
        return Leftover("aws", "instance", "i-1", "i-1", tags,
                        created_at=None if age is None else now - age)

    def verdict(it, known=None, older=timedelta(0)):
        v = judge(it, now, known, older)
        assert v.item is it
        return v.action, v.reason

    # bakeoff tags missing: never touched, however old or expired
    assert verdict(item(campaign=None)) == (
        "keep", "not a bakeoff resource (bakeoff tags missing)")
    assert verdict(item(expires=None), known=set()) == (
        "keep", "not a bakeoff resource (bakeoff tags missing)")
    # expiry: reached at the very minute (<=), not a minute before
    assert verdict(item("2026-11-27T15:00:00+00:00")) == ("delete",
                                                          "expired at 2026-11-27 15:00 UTC")
    assert verdict(item("2026-11-27t15-01-00-00-00")) == ("keep",
                                                          "live until 2026-11-27 15:01 UTC")
    # younger than --older-than: kept even when expired; exactly that old: judged
    assert verdict(item("2026-11-27T14:00:00+00:00", age=hour), older=2 * hour) == (
        "keep", "younger than 2:00:00")
    assert verdict(item("2026-11-27T14:00:00+00:00", age=2 * hour), older=2 * hour)[0] == \
        "delete"
    # no journal entry: deleted once at least UNKNOWN_MIN_AGE (1 h) old, exactly included
    assert verdict(item(age=UNKNOWN_MIN_AGE), known={"other"}) == (
        "delete", "campaign c1 has no journal entry")
    young = verdict(item(age=UNKNOWN_MIN_AGE - timedelta(seconds=1)), known={"other"})
    assert young == ("keep", "campaign c1 has no journal entry, but it is recent or of "
                             "unknown age: kept until its expiry")
    assert verdict(item(age=None), known={"other"}) == young  # unknown age waits
    # ... and older_than raises that bar
    assert verdict(item(age=2 * hour), known={"other"}, older=3 * hour)[0] == "keep"
    # journalled campaign, expiry unreadable: kept, saying so
    assert verdict(item("someday"), known={"c1"}) == ("keep", "expiry 'someday' unreadable")
    assert verdict(item(), known={"c1"}) == ("keep", "live until 2026-11-27 16:00 UTC")
    # unknown age and no --older-than: judged on its expiry alone
    assert verdict(item("2026-11-27T14:00:00+00:00", age=None))[0] == "delete"


# -- stats: the bootstrap draws themselves, few repetitions, the total verdict --------------

def test_bootstrap_draws_equal_textbook_resampling_draw_by_draw():
    from scoring.stats import bootstrap, median_draws, multiplicity_draws

    values = [3.0, 9.0, 1.0, 7.0, 5.0]
    expected = _numpy_bootstrap_medians(values, 500, 5)
    got = bootstrap(MedianOf(tuple(values)), 500, np.random.default_rng(5))
    assert got.shape == (500,) and np.array_equal(got, expected)
    assert np.array_equal(median_draws(values, 500, np.random.default_rng(5)), expected)
    mult = multiplicity_draws(5, 500, np.random.default_rng(5))
    assert mult.shape == (500, 5) and set(mult.sum(axis=1)) == {5}  # each draws n values
    idx = np.random.default_rng(5).integers(0, 5, size=(500, 5))
    assert np.array_equal(mult, np.stack([np.bincount(r, minlength=5) for r in idx]))
    # the default generator is the documented fixed seed: reproducible reports
    assert np.array_equal(median_draws(values, 300), _numpy_bootstrap_medians(
        values, 300, 20240601))
    assert np.isnan(bootstrap(MedianOf(()), 7)).all() and len(bootstrap(MedianOf(()), 7)) == 7
    assert np.isnan(MedianOf(())(np.ones((4, 0)))).all()


def test_bootstrap_ci_with_too_few_repetitions_and_a_seed():
    from scoring.stats import bootstrap_ci, interval

    nan3 = bootstrap_median_ci([])
    assert len(nan3) == 3 and all(np.isnan(x) for x in nan3)
    value, lo, hi = bootstrap_median_ci([4.0, 6.0])  # 2 < 3 repetitions: noise unknown
    assert value == 5.0 and np.isnan(lo) and np.isnan(hi)
    values = [10.0, 30.0, 20.0, 50.0, 40.0, 35.0, 12.0]
    for seed in (1, 2):
        medians = _numpy_bootstrap_medians(values, 1000, seed)
        lo90, hi90 = np.percentile(medians, [5, 95])
        got = bootstrap_ci(MedianOf(tuple(values)), 1000, seed, confidence=0.90)
        assert got == pytest.approx((30.0, min(lo90, 30.0), max(hi90, 30.0)))
    draws = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    assert interval(draws, 0.5) == pytest.approx(tuple(np.nanpercentile(draws, [25, 75])))


def test_total_verdict_ties_leads_and_unknowns():
    from scoring.stats import total_verdict

    rng = np.random.default_rng(3)
    n = 1000
    a = 10 + rng.normal(0, 0.1, n)  # the leader
    b = a - 0.05 + rng.normal(0, 0.1, n)  # within the noise of a: tied
    c = a - 5.0  # far behind: its lead interval is exactly [5, 5]
    d = a - 3.0  # noise unknown
    e = np.full(n, np.nan)  # nothing applies to e
    f = a.copy()  # identical to the leader: lead interval [0, 0], a tie (<= 0)
    draws = np.column_stack([a, b, c, d, e, f])
    sites = ["a", "b", "c", "d", "e", "f"]
    v = total_verdict("a", sites, draws, unknown={"d"})
    assert v.leader == "a" and v.tied_with == ["b", "f"] and v.is_tie
    assert v.unknown == ["d"] and v.noise_unknown
    assert set(v.lead_ci) == {"b", "c", "f"}
    assert v.lead_ci["c"] == pytest.approx((5.0, 5.0)) and v.lead_ci["f"] == (0.0, 0.0)
    assert v.lead_ci["b"] == pytest.approx(tuple(np.percentile(a - b, [2.5, 97.5])))
    assert set(v.total_ci) == {"a", "b", "c", "f"}  # not d (unknown), not e (all NaN)
    assert v.total_ci["c"] == pytest.approx(tuple(np.percentile(c, [2.5, 97.5])))
    narrow = total_verdict("a", sites, draws, confidence=0.5, unknown={"d"})
    assert narrow.lead_ci["b"] == pytest.approx(tuple(np.percentile(a - b, [25, 75])))
    # a leader whose own noise is unknown can be compared with nobody
    v = total_verdict("d", sites, draws, unknown={"d"})
    assert v.unknown == ["a", "b", "c", "e", "f"] and not v.lead_ci and not v.tied_with


# -- HDR: every summary value, requirement metrics, invalid rows ----------------------------

def test_hdr_summary_and_requirement_values_by_hand():
    # 1..1000 ms in 1 ms steps (1,000 values): p50 is the 500th value, p95 the 950th,
    # p99 the 990th, p99.9 the 999th; mean 500.5; min 1; max 1000 (HDR: 3 significant
    # figures, so within 0.1 %)
    values = [1000 * i for i in range(1, 1001)]
    good = {"name": "latency:all", "encoded": _hist(values), "metadata": {}}
    hist = hdr.merged_histogram([good], "latency:all")
    s = hdr.summary_ms(hist)
    expected = {"latency_p50": 500, "latency_p95": 950, "latency_p99": 990,
                "latency_p999": 999, "latency_mean": 500.5, "latency_min": 1,
                "latency_max": 1000}
    assert set(s) == set(expected)
    for k, v in expected.items():
        assert s[k] == pytest.approx(v, rel=1e-3), k
    assert hdr.summary_ms(hdr.new_histogram()) == {}
    # a saturated run (valid: false, in the column or in its metadata) is left out unless
    # asked for; it would pull every value to 50 s
    bad = {"name": "latency:all", "encoded": _hist([50_000_000] * 1000),
           "metadata": '{"valid": false}'}
    bad_col = {"name": "latency:all", "encoded": _hist([50_000_000] * 1000), "valid": False}
    rows = [good, bad, bad_col]
    for metric, pct in (("latency_p99", 990), ("latency_p90", 900), ("latency_p75", 750),
                        ("latency_p999", 999), ("latency_p9999", 1000)):
        # latency_pNN is NN %, latency_pNNN is NN.N % (p999 = 99.9), p9999 = 99.99 %
        assert hdr.requirement_value(rows, metric) == pytest.approx(pct, rel=1e-3), metric
    assert hdr.requirement_value(rows, "latency_mean") == pytest.approx(500.5, rel=1e-3)
    assert hdr.requirement_value(rows, "latency_mean", include_invalid=True) == \
        pytest.approx((500.5 * 1000 + 50_000 * 2000) / 3000, rel=1e-3)
    assert hdr.requirement_value(rows, "latency_p50", include_invalid=True) == \
        pytest.approx(50_000, rel=1e-3)  # 2,000 of 3,000 values are the saturated ones
    assert hdr.requirement_value(rows, "rps") is None
    assert hdr.requirement_value(rows, "latency_pxx") is None
    # an endpoint's own histogram
    ep = {"name": "latency:/api", "encoded": _hist([7000] * 10)}
    assert hdr.requirement_value([good, ep], "latency_p99", {"endpoint": "/api"}) == \
        pytest.approx(7.0, rel=1e-3)
    assert hdr.merged_percentile([good], "latency:all", 100) == pytest.approx(1000, rel=1e-3)
    for bad_pct in (0, -1, 100.5):
        with pytest.raises(ValueError, match="percentile must be in"):
            hdr.merged_percentile([good], "latency:all", bad_pct)
    with pytest.raises(ValueError, match="no valid histogram named 'latency:none'"):
        hdr.merged_histogram([good], "latency:none")


# -- SLA: which bill a credit applies to, and what the report must say ----------------------

def _sla_campaign(site: dict, revenue: float, expected: float | None = None,
                  instances: int = 2):
    sla = {"revenue_per_minute_usd": revenue}
    if expected is not None:
        sla["expected_availability_pct"] = expected
    return parse_campaign({"name": "t", "sites": [{"name": "s", **site}],
                           "usage": {"hours_per_month": 730, "instances": instances},
                           "sla": sla})


NOT_STATED = ("expected credit 0: credits are paid only below the SLA and "
              "sla.expected_availability_pct is not stated")
PRODUCT = "availability is the product of the services' SLAs (all must be up)"
NO_REVENUE = "sla.revenue_per_minute_usd is 0 in the scenario: money at risk is 0"


def test_sla_credit_covers_the_whole_compute_bill_and_caveats_are_exact():
    from scoring.tco import estimate_site

    site = {"provider": "gcp", "region": "us-central1", "zones": ["a", "b"],
            "instance_type": "c3-standard-4", "disk_gb": 200, "disk_type": "pd-ssd"}
    campaign = _sla_campaign(site, 10, expected=99.5)
    cost = estimate_site(campaign, campaign.sites[0])
    by_kind: dict[str, float] = {}
    for c in cost.components:
        by_kind[c.kind] = by_kind.get(c.kind, 0.0) + c.monthly_usd
    assert by_kind.get("storage", 0) > 0  # the disks are billed ...
    bill = sum(v for k, v in by_kind.items() if k in ("compute", "storage", "iops"))
    r = sla_risk(campaign, "s")
    (comp,) = r.components
    assert comp.monthly_bill_usd == pytest.approx(bill)  # ... and the credit covers them
    assert comp.expected_credit_usd == pytest.approx(0.10 * bill)  # 99.5 %: first tier
    assert (comp.service, comp.tier, comp.covered, comp.first_credit_pct) == (
        "compute", "multi_zone", True, 10.0)
    assert r.caveats == ["money at risk follows the expected availability 99.5%, below "
                         "the 99.99% SLA"] and r.uncovered == []
    # expected 99.5 % (below the SLA): 0.005 x 43,800 = 219 min x $10 = $2,190 at risk,
    # minus the credit
    assert r.money_at_risk_month_usd == pytest.approx(2190.0)
    assert r.net_risk_month_usd == pytest.approx(max(0.0, 2190.0 - 0.10 * bill))
    r = sla_risk(_sla_campaign(site, 10), "s")
    assert r.caveats == [NOT_STATED] and r.expected_credit_month_usd == 0
    # nothing expected: the SLA itself, 99.99 % -> 4.38 min x $10 = $43.80
    assert r.money_at_risk_month_usd == pytest.approx(43.8)


def test_sla_caveats_for_a_composite_site_without_revenue_and_without_sla():
    aws = {"provider": "aws", "region": "us-east-1", "zones": ["a", "b"],
           "instance_type": "c6i.xlarge",
           "database": {"instance": "db.t3.large", "ha": False, "storage_gb": 100}}
    r = sla_risk(_sla_campaign(aws, 0), "s")
    assert r.caveats == [PRODUCT, NO_REVENUE, NOT_STATED]
    assert r.money_at_risk_month_usd == 0 and r.net_risk_month_usd == 0
    assert r.availability_pct == pytest.approx(99.99 * 0.995)
    assert r.source == "; ".join(c.source for c in r.components) and ";" in r.source
    assert [c.service for c in r.components] == ["compute", "managed_postgresql"]
    gcp = {"provider": "gcp", "region": "us-central1", "zones": ["a", "b"],
           "instance_type": "c3-standard-4",
           "database": {"instance": "db-custom-2-7680", "ha": False}}
    r = sla_risk(_sla_campaign(gcp, 5, expected=99.0), "s")
    (db,) = [c for c in r.components if c.service == "managed_postgresql"]
    assert not db.covered and db.first_credit_pct == 0 and db.expected_credit_usd == 0
    assert r.caveats == [f"managed_postgresql ({db.applies_when}) has no SLA: the site as a "
                         "whole has no SLA (scored worst)"]
    assert (r.availability_pct, r.downtime_min_month, r.downtime_min_year) == (None,) * 3
    # no SLA is the worst case, never $0 at risk
    assert r.money_at_risk_month_usd is None and r.net_risk_month_usd is None
    assert r.expected_credit_month_usd > 0  # the compute SLA still pays below 99.99 %
    assert r.source == "; ".join(c.source for c in r.components)
    assert sla_risk(_sla_campaign(gcp, 5), parse_campaign({
        "name": "l", "sites": [{"name": "x", "provider": "local", "cpus": 1,
                                "hourly_usd": 0.01}]}).sites[0]) is None


def test_resume_change_texts_name_what_changed():
    from bench.resume import ScenarioChanged, check_resume, scenario_changes

    base = _scenario()
    sites = base.model_dump(mode="json")["sites"]
    new = _scenario(sites=[dict(sites[0], cpus=2, hourly_usd=0.05), sites[1]],
                    workloads=[{"name": "sysbench-cpu", "params": {"time_s": 2}}],
                    repetitions=1)
    texts = [str(c) for c in scenario_changes(base, new, MEASURED)]
    assert texts[0] == ("site 'a' changed (cpus: 1 -> 2, hourly_usd: 0.04 -> 0.05) "
                        "[touches measured units]")
    assert texts[1].startswith("workload 'sysbench-cpu' params changed (")
    assert "time_s: 1 -> 2" in texts[1] and texts[1].endswith("[touches measured units]")
    assert texts[2] == "workload 'sysbench-cpu' repetitions 3 -> 1 [touches measured units]"
    with pytest.raises(ScenarioChanged) as err:
        check_resume(base, new, MEASURED, True, "s.yaml")
    msg = str(err.value)
    assert msg.startswith("s.yaml: the scenario differs from the one this campaign was "
                          "measured with, in ways that touch units already measured:\n")
    assert "\n  - site 'a' changed (cpus: 1 -> 2" in msg
    assert "Undo these changes to resume, or start a new campaign." in msg
    assert err.value.exit_code == 2  # invalid input
    added = _scenario(sites=[*sites, dict(sites[1], name="c")])
    assert [str(c) for c in scenario_changes(base, added, MEASURED)] == ["site 'c' added"]
    with pytest.raises(ScenarioChanged) as err:
        check_resume(base, added, MEASURED, False, "s.yaml")
    assert str(err.value) == (
        "s.yaml: the scenario differs from the one this campaign was measured with:\n"
        "  - site 'c' added\nNone of these touches a measured unit; pass --allow-changes to "
        "resume with them (they are recorded in the manifest).")


# -- ping plan and nearest rank; the HDR statistic built from histogram rows ----------------

def test_ping_plan_argv_and_timeout_and_low_ranks():
    from types import SimpleNamespace

    from bench.workloads.ping import Params, nearest_rank

    env = SimpleNamespace(server=SimpleNamespace(address="10.0.0.5"))
    (step,) = Ping().plan(Params(count=40, interval_s=0.25, size_bytes=1000, wait_s=3),
                          env).steps
    assert step.argv == ("ping", "-n", "-c", "40", "-i", "0.25", "-s", "1000", "-W", "3",
                         "10.0.0.5")
    assert step.timeout_s == 40 * 0.25 + 3 + 30  # 43 s: the sends, the last wait, slack
    assert Ping().tool_version_argv() == ("ping", "-V")
    ten = [float(v) for v in range(10, 0, -1)]
    # nearest rank: ceil(p/100 x n), at least 1
    assert [nearest_rank(ten, p) for p in (1, 10, 11, 50, 100)] == [1.0, 1.0, 2.0, 5.0, 10.0]


def test_merged_percentile_stat_from_histogram_rows():
    import pandas as pd

    from scoring.hdr_stats import merged_percentile_stat, percentile_of

    def row(site, rep, values, name="latency:all", valid=True, workload="http-load"):
        return {"site": site, "workload": workload, "repetition": rep, "name": name,
                "encoded": _hist(values), "valid": valid, "metadata": "{}"}

    fast = [1000 + i for i in range(100)]  # 1.000 .. 1.099 ms
    slow = [5000 + 10 * i for i in range(100)]  # 5.00 .. 5.99 ms
    frame = pd.DataFrame([
        row("a", 2, slow), row("a", 0, fast), row("a", 1, fast, valid=None),  # NaN: valid
        row("a", 3, [90_000] * 100, valid=False),  # invalid: left out
        row("a", 4, [], ),  # an empty histogram: no repetition
        row("a", 0, [7000] * 100, name="latency:/cart"),
        row("b", 0, [50_000] * 100),  # another site
        row("a", 0, [60_000] * 100, workload="db-query"),  # another workload
    ])
    stat = merged_percentile_stat(frame, "a", "http-load.latency_p99")
    assert stat.n == 3 and stat.repetitions == (0, 1, 2)  # sorted, as ints
    assert stat.label == "p99 of the merged HDR histograms" and stat.percentile == 99.0
    # p99 over fast + fast + slow (300 values): target int(0.99 x 300 + 0.5) = 297 ->
    # the 97th slow value, 5.96 ms; over fast twice (weights 1, 1, 0): the 198th of 200
    # -> 1.098 ms (each fast value twice)
    assert point(stat) == pytest.approx(5.96, rel=2e-3)
    assert stat(np.array([[1, 1, 0]]))[0] == pytest.approx(1.098, rel=2e-3)
    assert np.isnan(stat(np.array([[0, 0, 0]]))[0])  # nothing drawn: no value
    assert stat(np.array([[0, 0, 1]]))[0] == pytest.approx(5.98, rel=2e-3)  # target 99
    cart = merged_percentile_stat(frame, "a", "http-load.latency_p50", {"endpoint": "/cart"})
    assert cart.n == 1 and point(cart) == pytest.approx(7.0, rel=1e-3)
    assert merged_percentile_stat(frame, "a", "http-load.rps") is None
    assert merged_percentile_stat(frame, "a", "latency_p99") is None  # no workload part
    assert merged_percentile_stat(frame, "c", "http-load.latency_p99") is None
    assert merged_percentile_stat(None, "a", "http-load.latency_p99") is None
    assert merged_percentile_stat(frame.iloc[0:0], "a", "http-load.latency_p99") is None
    assert [percentile_of(m) for m in ("latency_p50", "latency_p999", "latency_p90",
                                       "latency_p9999", "latency_mean", "rps")] == [
        50.0, 99.9, 90.0, 99.99, None, None]
    # one value in one bucket: even a low percentile has a target of at least 1
    one = merged_percentile_stat(pd.DataFrame([row("a", 0, [3000])]), "a",
                                 "http-load.latency_p1")
    assert point(one) == pytest.approx(3.0, rel=1e-3)


# -- compare: where a verdict's boundaries are ----------------------------------------------

def _change(workload: str, metric: str, base: list[float], new: list[float],
            min_change: float = 0.05):
    return metric_change(("s", workload, metric, "", "%"), base, new, min_change)


def test_metric_change_boundaries_of_noise_size_and_direction():
    # an interval whose lower end is exactly 0 is noise: the median of 5 draws from
    # {10, 10, 11, 11, 11} is 10 when 3+ draws are 10: C(5,3) .4^3 .6^2 + C(5,4) .4^4 .6 +
    # .4^5 = 0.317 of the resamples (by hand), far above the 2.5 % tail, so the interval
    # is (0, 1) and 0 sits on its edge
    edge = _change("http-load", "error_rate", [10.0] * 5, [10.0, 10.0, 11.0, 11.0, 11.0])
    assert edge.ci == (0.0, 1.0) and edge.verdict == "no change"
    # a change of exactly min_change is not "small": 10 -> 11 is +10 % against 0.10; a
    # rising error rate is worse
    exact = _change("http-load", "error_rate", [10.0] * 5, [11.0] * 5, min_change=0.1)
    assert (exact.change, exact.relative, exact.verdict) == (1.0, 0.1, "worse")
    assert _change("http-load", "error_rate", [10.0] * 5, [10.9] * 5,
                   min_change=0.1).verdict == "no change"  # +9 %: small
    # a metric with no better side (the rate the scenario sets) only "changed"
    assert _change("http-load", "target_rps", [100.0] * 5, [200.0] * 5).verdict == "changed"
