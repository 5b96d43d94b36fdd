"""Statistics that never overclaim: too few repetitions, the same statistic for a value and its
interval, totals from unrounded scores. Each test failed on the code before the fix."""

from __future__ import annotations

import pandas as pd
import pytest
from decide_fixture import make_campaign

from bench import hdr
from bench.scenarios import parse_campaign
from scoring.criteria import CriterionSpec
from scoring.decide import build_matrix, score_campaign_dir
from scoring.hdr_stats import merged_percentile_stat
from scoring.quantities import CostInputs, Quantity, extract, median_quantity
from scoring.stats import bootstrap, bootstrap_median_ci, interval, multiplicity_draws, point
from scoring.summary import decision

CPU = CriterionSpec("cpu", "CPU", 3, "builtin", "events/s", (200.0, 50_000.0), "log")


def q(values: list[float]) -> Quantity:
    return median_quantity([float(v) for v in values], "events/s")


def test_one_repetition_is_noise_unknown_not_a_win_beyond_the_noise():
    """Before: one repetition bootstrapped to a zero-width interval and a clean win."""
    m = build_matrix([CPU], ["a", "b"], {"cpu": {"a": q([3000]), "b": q([6000, 6100, 5950])}})
    a = m.cell("cpu", "a")
    assert a.noise == "unknown" and a.value_ci is None and a.score_ci is None
    assert "noise unknown" in a.note
    assert m.leaders == ["b"] and m.verdict is not None
    assert m.verdict.unknown == ["a"] and not m.verdict.is_tie
    assert "a" not in m.verdict.lead_ci and "a" not in m.verdict.total_ci
    assert m.noise_unknown == {"a": [("cpu", 1)]}
    # two repetitions are not enough either
    m2 = build_matrix([CPU], ["a", "b"], {"cpu": {"a": q([3000, 3010]),
                                                  "b": q([6000, 6100, 5950])}})
    assert m2.cell("cpu", "a").noise == "unknown" and m2.verdict.unknown == ["a"]


def test_invalid_runs_bring_a_site_down_to_one_repetition(tmp_path):
    """Two of three sysbench runs of "small" are invalid: its one valid run says nothing about
    the noise, and the decision must not call the result a win beyond it."""
    d = make_campaign(tmp_path, ["small", "large"], criteria=[{"name": "cpu", "weight": 3}])
    frame = pd.read_parquet(d / "samples.parquet")
    bad = (frame["site"] == "small") & (frame["workload"] == "sysbench-cpu") & (
        frame["repetition"] > 0)
    frame.loc[bad, "valid"] = False
    frame.loc[bad, "invalid_reason"] = "sysbench reported errors"
    frame.to_parquet(d / "samples.parquet", index=False)
    result = score_campaign_dir(d, write=False)
    m = result.matrix
    assert m.cell("cpu", "small").quantity.n == 1
    assert m.noise_unknown == {"small": [("cpu", 1)]}
    d_ = decision(result)
    assert d_["verdict"] == "noise unknown"
    assert "noise is unknown" in d_["headline"] and "wins" not in d_["headline"]
    assert any("noise unknown for small" in n for n in m.notes)
    assert sum(e["site"] == "small" and e["workload"] == "sysbench-cpu"
               for e in result.excluded) == 2


def _hist_rows(site: str, reps: list[list[tuple[float, int]]]) -> tuple[list, list]:
    """(histogram rows, sample rows) for http-load: per repetition [(latency ms, count)]."""
    hists, samples = [], []
    for rep, buckets in enumerate(reps):
        h = hdr.new_histogram()
        for ms, count in buckets:
            h.record_value(round(ms * 1000), count)
        hists.append({"site": site, "workload": "http-load", "repetition": rep,
                      "name": "latency:all", "unit": "us", "encoded": hdr.encode(h),
                      "metadata": "{}", "valid": True})
        samples.append({"site": site, "workload": "http-load", "metric": "latency_p99",
                        "value": h.get_value_at_percentile(99) / 1000, "unit": "ms",
                        "repetition": rep, "valid": True, "metadata": '{"endpoint": "all"}'})
    return hists, samples


# Six short repetitions at 10-15 ms and one long one with a heavy tail: the merged p99 is the
# long one's tail, far above the median of the per-repetition p99s and its whole interval.
REPS = [[(10.0 + i, 200)] for i in range(6)] + [[(20.0, 4800), (300.0, 200)]]


def test_http_p99_interval_is_the_bootstrap_of_the_merged_statistic():
    """Before: scored on the merged-HDR p99 but bootstrapped on per-repetition p99s, so the
    score's interval did not even contain the score."""
    hists, samples = _hist_rows("a", REPS)
    histograms, frame = pd.DataFrame(hists), pd.DataFrame(samples)
    campaign = parse_campaign({"name": "x", "workloads": [{"name": "http-load"}],
                               "sites": [{"name": "a", "provider": "local", "cpus": 1,
                                          "hourly_usd": 0.1}]})
    quantity = extract("http_p99", frame, campaign, CostInputs(histograms=histograms), "a")
    stat = merged_percentile_stat(histograms, "a", "http-load.latency_p99")
    assert stat is not None and stat.n == 7
    # the point value is the exact merge, computed the same way hdrhistogram does
    assert quantity.value == point(stat) == hdr.requirement_value(histograms, "latency_p99")
    assert quantity.value == pytest.approx(300, rel=0.01)
    # each resample's value equals an independent hdrhistogram merge of the repetitions drawn
    mult = multiplicity_draws(7, 40)
    encoded = [h["encoded"] for h in hists]
    for row, value in zip(mult, stat(mult), strict=True):
        drawn = [e for e, k in zip(encoded, row, strict=True) for _ in range(k)]
        assert value == hdr.merge(drawn).get_value_at_percentile(99) / 1000
    # the old interval, from the per-repetition p99s, lies entirely below the scored value
    _, _, old_hi = bootstrap_median_ci(frame["value"].tolist())
    assert old_hi < quantity.value
    lo, hi = interval(bootstrap(stat))
    assert lo < quantity.value <= hi
    spec = CriterionSpec("http_p99", "HTTP p99", 4, "builtin", "ms", (1000.0, 5.0), "log")
    m = build_matrix([spec], ["a"], {"http_p99": {"a": quantity}})
    cell = m.cell("http_p99", "a")
    assert cell.noise == "known"
    assert cell.score_ci[0] <= cell.score <= cell.score_ci[1]  # raw draws, never widened


def test_totals_use_unrounded_scores_so_rounding_cannot_manufacture_a_tie():
    """3000 vs 3050 events/s both scored 5.4 after rounding to 0.1: a 'tie' from rounding."""
    m = build_matrix([CPU], ["a", "b"], {"cpu": {"a": q([3000, 3001, 3002]),
                                                  "b": q([3050, 3051, 3052])}})
    a, b = m.cell("cpu", "a").score, m.cell("cpu", "b").score
    assert round(a, 1) == round(b, 1) == 5.4
    assert b > a
    assert m.leaders == ["b"] and m.totals["b"] > m.totals["a"]
    assert m.verdict is not None and not m.verdict.is_tie and not m.verdict.noise_unknown


def test_requirements_use_the_same_merged_statistic_and_say_when_noise_is_unknown():
    from core.scenario import Requirement
    from scoring.requirements import evaluate_one

    hists, samples = _hist_rows("a", REPS)
    histograms, frame = pd.DataFrame(hists), pd.DataFrame(samples)
    req = Requirement(metric="http-load.latency_p99", operator="<", threshold=100)
    r = evaluate_one(req, frame, "a", histograms=histograms)
    assert r.statistic == "exact HDR merge" and r.status == "fail"
    assert r.ci is not None and r.ci[0] <= r.value <= r.ci[1]
    assert r.marginal  # without the long repetition the merged p99 is ~10 ms
    one_h, one_s = _hist_rows("a", REPS[-1:])
    r1 = evaluate_one(req, pd.DataFrame(one_s), "a", histograms=pd.DataFrame(one_h))
    assert r1.ci is None and not r1.marginal and "noise unknown" in r1.note
