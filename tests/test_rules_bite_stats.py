"""Rules that a plausible one-line bug used to slip past (issue 24, Build 1): statistics.
Ping's nearest-rank percentiles, bootstrap intervals and medians, the total verdict.

How each test was checked against its planted mutation, and where its expected values
come from: tests/rules_bite_support.py.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from bench.workloads.ping import Ping
from scoring.stats import MedianOf, bootstrap_median_ci, point
from tests.rules_bite_support import numpy_bootstrap_medians

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


# -- ping plan and nearest rank ----------------------------------------------------------

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


# -- bootstrap intervals and medians --------------------------------------------------------

TWELVE = [101.0, 97.5, 110.2, 95.1, 104.4, 99.9, 120.3, 92.8, 103.3, 98.7, 107.6, 100.4]


def test_bootstrap_interval_is_95_percent_at_twelve_repetitions():
    seed, resamples = 20240601, 2000
    medians = numpy_bootstrap_medians(TWELVE, resamples, seed)
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


# -- stats: the bootstrap draws themselves, few repetitions, the total verdict --------------

def test_bootstrap_draws_equal_textbook_resampling_draw_by_draw():
    from scoring.stats import bootstrap, median_draws, multiplicity_draws

    values = [3.0, 9.0, 1.0, 7.0, 5.0]
    expected = numpy_bootstrap_medians(values, 500, 5)
    got = bootstrap(MedianOf(tuple(values)), 500, np.random.default_rng(5))
    assert got.shape == (500,) and np.array_equal(got, expected)
    assert np.array_equal(median_draws(values, 500, np.random.default_rng(5)), expected)
    mult = multiplicity_draws(5, 500, np.random.default_rng(5))
    assert mult.shape == (500, 5) and set(mult.sum(axis=1)) == {5}  # each draws n values
    idx = np.random.default_rng(5).integers(0, 5, size=(500, 5))
    assert np.array_equal(mult, np.stack([np.bincount(r, minlength=5) for r in idx]))
    # the default generator is the documented fixed seed: reproducible reports
    assert np.array_equal(median_draws(values, 300), numpy_bootstrap_medians(
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
        medians = numpy_bootstrap_medians(values, 1000, seed)
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
