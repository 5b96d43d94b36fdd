"""Rules that a plausible one-line bug used to slip past (issue 24, Build 1): compare.
Directions, every field of one comparison, the verdict's boundaries.

How each test was checked against its planted mutation, and where its expected values
come from: tests/rules_bite_support.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from scoring.compare import metric_change
from tests.rules_bite_support import resampled_medians

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


# -- compare: every field of one comparison -------------------------------------------------

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
    draws_new = resampled_medians(new, 4000, rng)
    draws_base = resampled_medians(base, 4000, rng)
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
