"""Rules that a plausible one-line bug used to slip past (issue 24, Build 1): HDR
histograms: multiplicities, duplicates, the mean, every summary value, the statistic.

How each test was checked against its planted mutation, and where its expected values
come from: tests/rules_bite_support.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench import hdr
from scoring.hdr_stats import MergedPercentile
from scoring.stats import point

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


# -- the HDR statistic built from histogram rows ------------------------------------------

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
